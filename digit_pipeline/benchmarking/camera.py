"""The camera's part of a synthetic photo: light, shadow, blur, sensor noise, JPEG, desk."""

from __future__ import annotations

import io
from statistics import NormalDist
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ..aliases import ColorImage
from ..io.images import encode_jpeg
from .styles import FloatImage, SheetStyle, _as_rng, _check_range

__all__ = ["jpeg_roundtrip", "place_on_desk"]

_SHADOW_TINT = np.array([1.0, 0.96, 0.86], np.float32)  # shadows are a little blue
_LOWRES_STEP = 4  # illumination fields are computed on a grid this much coarser


def _smooth_noise(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> FloatImage:
    """Zero-mean, unit-ish smooth noise of `shape` with about `cells` blobs per side."""
    h, w = shape
    gh = max(2, round(cells * h / max(h, w))) + 1
    gw = max(2, round(cells * w / max(h, w))) + 1
    coarse = rng.standard_normal((gh, gw), dtype=np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _shadow(
    xx: FloatImage, yy: FloatImage, strength: float, rng: np.random.Generator
) -> FloatImage:
    """Per-channel light factor (h, w, 3) of a soft shadow entering from one side.

    The shadow (a hand or the phone) has a slightly curved, blurred edge and covers
    roughly 20-45 % of the page; it is a little bluish, like shade under daylight.
    """
    side = rng.uniform(0, 2 * np.pi)
    nx, ny = np.cos(side), np.sin(side)
    along = (xx - 0.5) * -ny + (yy - 0.5) * nx
    depth = (xx - 0.5) * nx + (yy - 0.5) * ny  # grows towards the shadowed side
    edge = rng.uniform(0.08, 0.3) + rng.uniform(-0.4, 0.4) * along**2
    soft = rng.uniform(0.04, 0.09)
    inside = 1.0 / (1.0 + np.exp(-(depth - edge) / soft))
    return 1.0 - strength * inside[:, :, None] * _SHADOW_TINT


def _illumination(
    width: int, height: int, style: SheetStyle, rng: np.random.Generator
) -> FloatImage:
    """Per-pixel, per-channel light factor (H, W, 3) float32.

    Combines the lighting gradient, vignetting, paper mottle, the optional shadow and
    blotchy chroma noise; all are smooth, so they are computed on a coarse grid and
    upscaled once.
    """
    lw, lh = max(2, width // _LOWRES_STEP), max(2, height // _LOWRES_STEP)
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
    xx /= lw - 1
    yy /= lh - 1
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    vignette = (xx - 0.5) ** 2 + (yy - 0.5) ** 2
    light = 1.0 - style.lighting * (0.8 * ramp + 0.4 * vignette)
    if style.vignette:  # a close-up's dark corners: 0 at the centre, the full share there
        light *= 1.0 - style.vignette * (2.0 * vignette) ** 1.5
    mottle = _smooth_noise((lh, lw), 6, rng) * 0.7 + _smooth_noise((lh, lw), 24, rng) * 0.3
    light *= 1.0 + style.paper_mottle * mottle
    field = np.repeat(light[:, :, None], 3, axis=2)
    if style.shadow > 0:
        field *= _shadow(xx, yy, float(style.shadow), rng)
    if style.noise_sigma > 0:  # phone-like chroma blotches, a few pixels wide
        chroma = rng.standard_normal((lh, lw, 3), dtype=np.float32)
        field *= 1.0 + chroma * np.float32(0.4 * style.noise_sigma / 220.0)
    return cv2.resize(field.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def _sensor_noise(image: ColorImage, sigma: float, rng: np.random.Generator) -> ColorImage:
    """Add Gaussian noise of `sigma` grey levels to every channel (saturating uint8).

    Uniform random bytes are mapped through lookup tables of Gaussian quantiles,
    several times faster than drawing normal floats for a 12 MP image.
    """
    normal = NormalDist(0.0, sigma)
    values = np.rint([normal.inv_cdf((i + 0.5) / 256) for i in range(256)])
    up = np.clip(values, 0, 255).astype(np.uint8)
    down = np.clip(-values, 0, 255).astype(np.uint8)
    u = rng.integers(0, 256, size=image.shape, dtype=np.uint8)
    return cv2.subtract(cv2.add(image, cv2.LUT(u, up)), cv2.LUT(u, down))


def _defocus(image: ColorImage, radius: float) -> ColorImage:
    """Blur ``image`` as an out-of-focus lens does: the mean over a disk of ``radius`` px."""
    size = 2 * int(np.ceil(radius)) + 1
    yy, xx = np.mgrid[:size, :size] - size // 2
    disk = (np.hypot(xx, yy) <= radius).astype(np.float32)
    return cv2.filter2D(image, -1, disk / disk.sum(), borderType=cv2.BORDER_REFLECT)


def _camera(sheet: ColorImage, style: SheetStyle, rng: np.random.Generator) -> ColorImage:
    """Apply lighting, shadow, blur and sensor noise to the flat sheet; uint8 RGB out."""
    h, w = sheet.shape[:2]
    image = cv2.multiply(sheet, _illumination(w, h, style, rng), dtype=cv2.CV_8U)
    if style.defocus_px > 0:
        image = _defocus(image, style.defocus_px)
    if style.blur_sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), style.blur_sigma)
    if style.noise_sigma > 0:
        image = _sensor_noise(image, style.noise_sigma, rng)
    return image


def place_on_desk(
    image: ColorImage,
    truth: dict[str, Any],
    rng: np.random.Generator | int = 0,
    margin: float = 0.12,
) -> tuple[ColorImage, dict[str, Any]]:
    """Photograph a sheet lying on a desk: a darker, grainy border around the page.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
        The sheet, e.g. from :func:`make_sheet`.
    truth : dict
        Its truth (``width``, ``height``, ``digits`` with ``box``).
    rng : numpy Generator or int
        Seeds the desk's colour and grain.
    margin : float
        Desk visible on each side, as a share of the sheet's width / height.

    Returns
    -------
    photo : ndarray of shape (H + 2 my, W + 2 mx, 3), uint8
    truth : dict
        A copy with the boxes moved and the new ``width`` and ``height``.

    Examples
    --------
    >>> import numpy as np
    >>> sheet = np.full((100, 200, 3), 240, np.uint8)
    >>> truth = {"width": 200, "height": 100, "digits": [{"box": [10, 20, 30, 40]}]}
    >>> photo, moved = place_on_desk(sheet, truth, margin=0.1)
    >>> photo.shape, moved["digits"][0]["box"], (moved["width"], moved["height"])
    ((120, 240, 3), [30, 30, 30, 40], (240, 120))
    """
    rng = _as_rng(rng)
    _check_range("margin", margin, 0.0, 1.0)
    height, width = image.shape[:2]
    mx, my = round(width * margin), round(height * margin)
    shape = (height + 2 * my, width + 2 * mx)
    base = np.array([95, 70, 50]) + rng.integers(-20, 21, 3)  # wood, darker than paper
    grain = cv2.GaussianBlur(rng.normal(0, 18, shape).astype(np.float32), (0, 0), 3)
    photo = np.clip(base[None, None, :] + grain[..., None], 0, 255).astype(np.uint8)
    photo[my : my + height, mx : mx + width] = image
    moved = {
        **truth,
        "width": shape[1],
        "height": shape[0],
        "digits": [
            {**d, "box": [d["box"][0] + mx, d["box"][1] + my, *d["box"][2:]]}
            for d in truth["digits"]
        ],
    }
    return photo, moved


def jpeg_roundtrip(image: ColorImage, quality: int) -> ColorImage:
    """Return what `image` looks like after being saved as a JPEG and read back.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
        RGB image.
    quality : int
        JPEG quality, 1-95.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
        The decoded JPEG; `image` is not modified.

    Examples
    --------
    >>> import numpy as np
    >>> jpeg_roundtrip(np.full((8, 8, 3), 200, np.uint8), 90).shape
    (8, 8, 3)
    """
    with Image.open(io.BytesIO(encode_jpeg(image, quality))) as decoded:
        rgb = decoded if decoded.mode == "RGB" else decoded.convert("RGB")
        return np.array(rgb)
