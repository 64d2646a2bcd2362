"""Training-time augmentation for MNIST-style digits, so that real strokes look familiar.

Each training batch gets, per image, independently:

- stroke thickening or thinning: grey dilation or erosion (a ``k x k`` max filter, or its
  dual) on a random share of the images;
- one geometric warp: a small rotation, a slant (horizontal shear, as in italic
  handwriting), a zoom and a shift about the image centre, plus a slight elastic
  distortion (a smooth random displacement field: a coarse grid of random offsets
  upsampled bicubically). All of it is composed into *one* sampling grid and
  resampled once, bilinearly, with :func:`keras.ops.image.map_coordinates`, so the digit
  is blurred once rather than once per transform.

Everything is a TensorFlow graph function of the images and a stateless seed (a shape
``(2,)`` integer tensor): the same seed gives the same batch, on any number of threads,
which :func:`augmented_batches` relies on to run inside a parallel ``tf.data`` map. The
Keras preprocessing layers (``RandomTranslation``, ``RandomRotation``, ``RandomZoom``)
draw from a stateful seed generator instead, which a parallel map does not keep in order,
and interpolate once per layer.

Augmentation lives only in the input pipeline: the models themselves never contain it.
Images are ``(N, 28, 28)`` float32 in [0, 1], white digit on black.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..model.contract import MNIST_SIZE

SIZE = MNIST_SIZE
"""Side of an MNIST digit, pixels."""


@dataclass(frozen=True)
class AugmentConfig:
    """How strongly :func:`augment_batch` distorts the digits (0 switches a part off).

    Attributes
    ----------
    shift : float
        Largest shift along each axis, pixels (uniform in ``[-shift, shift]``).
    rotation : float
        Largest rotation, degrees (uniform in ``[-rotation, rotation]``).
    shear : float
        Largest slant, as the horizontal shift per row (uniform in ``[-shear, shear]``;
        0.3 leans a digit about 17 degrees). MNIST's writers slant little; many people
        write in italics.
    zoom : float
        Largest relative change of size (scale uniform in ``[1 - zoom, 1 + zoom]``).
    elastic_sigma : float
        Standard deviation of the elastic displacement at the grid knots, pixels.
    elastic_grid : int
        Knots per side of the coarse displacement grid (fewer = smoother).
    stroke_prob : float
        Share of the images whose strokes are changed; half of those are thickened
        (dilation), half thinned (erosion).
    stroke_kernel : int
        Side of the square dilation/erosion kernel, pixels.
    """

    shift: float = 2.5
    rotation: float = 12.0
    shear: float = 0.3
    zoom: float = 0.12
    elastic_sigma: float = 1.0
    elastic_grid: int = 4
    stroke_prob: float = 0.5
    stroke_kernel: int = 2

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict (for the model card)."""
        return asdict(self)


def thicken(images: tf.Tensor, kernel: int = 2) -> tf.Tensor:
    """Thicken the strokes: grey dilation with a ``kernel x kernel`` square.

    Parameters
    ----------
    images : tf.Tensor
        ``(N, 28, 28)`` float32, white ink on black.
    kernel : int
        Side of the structuring element.

    Returns
    -------
    tf.Tensor
        Same shape and dtype; every pixel is at least as bright as before.
    """
    pooled = tf.nn.max_pool2d(images[..., None], kernel, strides=1, padding="SAME")
    return pooled[..., 0]


def thin(images: tf.Tensor, kernel: int = 2) -> tf.Tensor:
    """Thin the strokes: grey erosion with a ``kernel x kernel`` square.

    Parameters
    ----------
    images : tf.Tensor
        ``(N, 28, 28)`` float32, white ink on black.
    kernel : int
        Side of the structuring element.

    Returns
    -------
    tf.Tensor
        Same shape and dtype; every pixel is at most as bright as before.
    """
    return -thicken(-images, kernel)


def random_stroke_width(
    images: tf.Tensor, seed: tf.Tensor, prob: float = 0.5, kernel: int = 2
) -> tf.Tensor:
    """Thicken a random ``prob / 2`` of the images and thin another ``prob / 2``.

    Parameters
    ----------
    images : tf.Tensor
        ``(N, 28, 28)`` float32.
    seed : tf.Tensor
        Stateless seed, shape ``(2,)``, integer.
    prob, kernel : float, int
        See :class:`AugmentConfig` (``stroke_prob``, ``stroke_kernel``).

    Returns
    -------
    tf.Tensor
        Same shape and dtype.
    """
    u = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1], seed=seed)
    out = tf.where(u < prob / 2, thicken(images, kernel), images)
    return tf.where((u >= prob / 2) & (u < prob), thin(images, kernel), out)


def affine_source(
    angle: tf.Tensor,
    scale: tf.Tensor,
    shift: tf.Tensor,
    size: int = SIZE,
    shear: tf.Tensor | None = None,
) -> tf.Tensor:
    """Source coordinates of every output pixel for rotation, zoom, slant and shift.

    The output pixel ``p`` shows the input at ``c + R(-angle) S(-shear) (p - c - shift) /
    scale``, ``c`` the image centre: the digit leans by ``shear`` (columns shifted by
    ``shear`` per row above the centre), turns by ``angle``, grows by ``scale`` and moves by
    ``shift``.

    Parameters
    ----------
    angle : tf.Tensor
        ``(N,)`` radians.
    scale : tf.Tensor
        ``(N,)``, > 0; above 1 enlarges the digit.
    shift : tf.Tensor
        ``(N, 2)`` pixels, ``(rows, cols)``: positive moves the digit down and right.
    size : int
        Image side.
    shear : tf.Tensor, optional
        ``(N,)``; positive leans the digit to the right (italics). ``None`` = upright.

    Returns
    -------
    tf.Tensor
        ``(N, size, size, 2)`` float32 (row, col) coordinates in the input image.
    """
    centre = (size - 1) / 2
    axis = tf.range(size, dtype=tf.float32) - centre
    rows, cols = tf.meshgrid(axis, axis, indexing="ij")
    rows = rows[None] - shift[:, 0, None, None]
    cols = cols[None] - shift[:, 1, None, None]
    if shear is not None:  # undo the lean: a row above the centre (rows < 0) moved right
        cols = cols + shear[:, None, None] * rows
    cos = (tf.cos(angle) / scale)[:, None, None]
    sin = (tf.sin(angle) / scale)[:, None, None]
    src_rows = cos * rows - sin * cols + centre
    src_cols = sin * rows + cos * cols + centre
    return tf.stack([src_rows, src_cols], axis=-1)


def elastic_field(
    n: tf.Tensor, seed: tf.Tensor, sigma: float = 1.0, grid: int = 4, size: int = SIZE
) -> tf.Tensor:
    """Draw a smooth random displacement field: a coarse grid of offsets, upsampled.

    Parameters
    ----------
    n : int or tf.Tensor
        Number of fields (images).
    seed : tf.Tensor
        Stateless seed, shape ``(2,)``, integer.
    sigma : float
        Standard deviation of the offsets at the knots, pixels.
    grid : int
        Knots per side.
    size : int
        Image side.

    Returns
    -------
    tf.Tensor
        ``(n, size, size, 2)`` float32 (row, col) displacements, pixels.
    """
    knots = tf.random.stateless_normal([n, grid, grid, 2], seed=seed, stddev=sigma)
    return tf.image.resize(knots, (size, size), method="bicubic")


def warp(images: tf.Tensor, source: tf.Tensor) -> tf.Tensor:
    """Resample each image at the given source coordinates (bilinear, black outside).

    Parameters
    ----------
    images : tf.Tensor
        ``(N, H, W)`` float32.
    source : tf.Tensor
        ``(N, H, W, 2)`` (row, col) coordinates into the matching image.

    Returns
    -------
    tf.Tensor
        ``(N, H, W)`` float32.
    """
    shape = tf.shape(source)
    index = tf.range(shape[0], dtype=source.dtype)[:, None, None]
    batch = tf.broadcast_to(index, shape[:3])
    coordinates = tf.stack([batch, source[..., 0], source[..., 1]])
    return keras.ops.image.map_coordinates(images, coordinates, order=1, fill_mode="constant")


def augment_batch(
    images: tf.Tensor, seed: tf.Tensor, config: AugmentConfig | None = None
) -> tf.Tensor:
    """Augment a batch of digits: stroke width, then one warp (rotate, slant, zoom, shift, elastic).

    Parameters
    ----------
    images : array-like
        ``(N, 28, 28)`` float32 in [0, 1], white digit on black.
    seed : array-like
        Stateless seed, shape ``(2,)``, integer; the same seed gives the same output.
    config : AugmentConfig, optional
        Strengths; the defaults when ``None``.

    Returns
    -------
    tf.Tensor
        ``(N, 28, 28)`` float32 in [0, 1].
    """
    config = config or AugmentConfig()
    images = tf.convert_to_tensor(images, tf.float32)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=6)
    n = tf.shape(images)[0]
    if config.stroke_prob > 0:
        images = random_stroke_width(images, seeds[0], config.stroke_prob, config.stroke_kernel)
    max_angle = math.radians(config.rotation)
    angle = tf.random.stateless_uniform([n], seeds[1], -max_angle, max_angle)
    scale = tf.random.stateless_uniform([n], seeds[2], 1 - config.zoom, 1 + config.zoom)
    shift = tf.random.stateless_uniform([n, 2], seeds[3], -config.shift, config.shift)
    shear = None
    if config.shear > 0:
        shear = tf.random.stateless_uniform([n], seeds[5], -config.shear, config.shear)
    source = affine_source(angle, scale, shift, shear=shear)
    if config.elastic_sigma > 0:
        source += elastic_field(n, seeds[4], config.elastic_sigma, config.elastic_grid)
    return tf.clip_by_value(warp(images, source), 0.0, 1.0)


def augmented_batches(
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 128,
    seed: int = 0,
    config: AugmentConfig | None = None,
) -> tf.data.Dataset:
    """Endless, shuffled, augmented batches for ``model.fit`` (pass ``steps_per_epoch``).

    Parameters
    ----------
    x : np.ndarray
        ``(N, 28, 28)`` uint8 digits.
    y : np.ndarray
        ``(N,)`` labels; they pass through untouched.
    batch_size : int
        Images per batch (the last, partial batch of each pass is dropped).
    seed : int
        Seeds the shuffle and, with the batch's running number, its augmentation.
    config : AugmentConfig, optional
        ``None`` = no augmentation (only shuffled, scaled batches).

    Returns
    -------
    tf.data.Dataset
        Yields ``(images (B, 28, 28) float32 in [0, 1], labels (B,))``.
    """
    data = tf.data.Dataset.from_tensor_slices((x, y))
    data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).repeat()
    data = data.batch(batch_size, drop_remainder=True).enumerate()

    def prepare(step: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]) -> tuple:
        images, labels = batch
        images = tf.cast(images, tf.float32) / 255.0
        if config is not None:
            images = augment_batch(images, tf.stack([tf.constant(seed, tf.int64), step]), config)
        return images, labels

    data = data.map(prepare, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return data.prefetch(tf.data.AUTOTUNE)
