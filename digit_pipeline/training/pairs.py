"""The pair reader: a box of two touching digits read whole, as one of 100 pairs.

Two digits that touch or overlap — a ``12`` whose 2 runs into the 1, a ``97`` written
in one stroke — often cannot be cut: no column between them is free of ink, and each
half holds a piece of the other. The field's answer (ORAND-CAR cheque amounts, NIST SD19
fields) is to read such a pair whole. The pair reader has 100 answers, ``00`` to ``99``,
and a 101st, "one digit" (a wide 0 is no pair); it reads a box cut as
:func:`~digit_pipeline.stages.resize_pairs` cuts it (28 x 56, two MNIST digits wide).
It is trained on pairs made the way real pairs touch
(:func:`touching_pair`): two MNIST training digits, the second run into the first by
0-40 % of the narrower one's width (a fifth of them only touching or a hair apart), its
height 0.8-1.15 of the first's and staggered up or down by up to 0.15 of it, each with
the verifier's variety of widths, strokes and pen lifts; half of the 1s drawn with the
flag MNIST's 1s lack, up to the 1's own height long (:data:`STYLED_ONES`); and on single
digits, some cut with a piece of a ring or a box drawn round them
(:func:`digit_in_a_shape`), which it must not read as ``17``, and some such a styled 1,
which it must not read as ``11``. 16 epochs of 200 000 pairs each, made anew every
epoch (a reader shown one set 16 times learns its pairs by heart), Adam's rate falling
along a cosine.

:func:`~digit_pipeline.reading.judge.judge_reading` asks it only about a box the
verifier calls several digits that no cut reads surely. It is a small CNN, not a
Flatten-Dense: see :func:`build_pair_reader`. The shipped reader is
``models/judge/pairs.keras``; rebuild it with
``python -m digit_pipeline train-pairs --data ../shared/data/mnist.npz`` (the card's
``command`` is the exact line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..stages import PAIR_SHAPE, resize_pairs, resize_rois
from .evaluation import Evaluation, evaluate_proba
from .styles import styled_one
from .verifier import _ink, one_digit, train_crops

CLASSES = (*(f"{a}{b}" for a in range(10) for b in range(10)), "one digit")
"""The pair reader's answers: class ``10 * first + second`` is the pair ``"<first><second>"``;
the last, :data:`ONE_DIGIT`, a box of one digit (a wide 0, a 7 with a long bar) that it
must not read as two."""

ONE_DIGIT = 100
"""The class of a box holding one digit."""

SINGLES = 0.15
"""Share of the examples that are one digit (:data:`ONE_DIGIT`)."""

IN_SHAPES = 0.4
"""Share of those single digits cut with a piece of a shape drawn round them
(:func:`digit_in_a_shape`)."""

STYLED_ONES = 0.5
"""Share of the 1s drawn with a flag (and some with a foot) that MNIST's 1s lack
(:func:`~digit_pipeline.training.styles.styled_one`), the flag up to the 1's own height
long: much of the world starts a 1 with a long up-stroke, and such a 1, as wide as it is
tall, must be one digit, not ``11``."""

ONES_ALONE = 0.1
"""Share of the single-digit boxes that are such a styled 1 (a 1 is else a tenth of them)."""

COUNT, EPOCHS = 200_000, 16
"""``train-pairs``' defaults: training pairs and epochs."""


def touching_pair(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a box holding the inks ``a`` and ``b`` run into each other, as a binary ROI.

    ``b`` is scaled to 0.8-1.15 of ``a``'s height, staggered up or down by up to 0.15 of
    it, and starts inside ``a`` by up to 40 % of the narrower one's width (one pair in
    five only touches or sits a hair apart).

    Parameters
    ----------
    a, b : ndarray of shape (h, w), uint8
        White-on-black inks cropped tight (:func:`~.verifier._ink` makes them from MNIST).
    rng : numpy.random.Generator

    Examples
    --------
    >>> import numpy as np
    >>> bar = np.full((60, 20), 255, np.uint8)
    >>> pair = touching_pair(bar, bar, np.random.default_rng(0))
    >>> pair.dtype.name, pair.shape[1] <= 40 + 5, set(np.unique(pair)) <= {0, 255}
    ('uint8', True, True)
    """
    height = a.shape[0]
    scale = rng.uniform(0.8, 1.15) * height / b.shape[0]
    size = (max(1, round(b.shape[1] * scale)), max(1, round(b.shape[0] * scale)))
    b = cv2.resize(b, size, interpolation=cv2.INTER_NEAREST)
    if rng.random() < 0.2:  # touching, or a hair apart (boxed together by the dilation)
        shift = rng.uniform(-0.05, 0.08) * height
    else:
        shift = -rng.uniform(0.0, 0.4) * min(a.shape[1], b.shape[1])
    x = max(0, round(a.shape[1] + shift))
    y = round(rng.uniform(-0.15, 0.15) * height + (height - b.shape[0]) / 2)
    top = min(0, y)
    canvas = np.zeros(
        (max(height, y + b.shape[0]) - top, max(a.shape[1], x + b.shape[1])), np.uint8
    )
    canvas[-top : -top + height, : a.shape[1]] = a
    region = canvas[y - top : y - top + b.shape[0], x : x + b.shape[1]]
    np.maximum(region, b, out=region)
    return canvas


def digit_in_a_shape(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return a box of one digit and a piece of the ellipse or rectangle drawn round it.

    People ring or box a number; where the shape runs close to a digit (or through it),
    the digit's box takes in a piece of it, and a ``7`` beside an arc looks like ``17``.
    The shape is drawn as the shapes family draws it (0-35 % of the digit's height free
    round the ink, or cutting into it by up to 8 %, a pen 5-10 % of the height), and the
    box reaches into it on the left, the right or both, as far as the shape's stroke.

    Examples
    --------
    >>> import numpy as np
    >>> digit = np.zeros((28, 28), np.uint8); digit[4:24, 12:16] = 255
    >>> box = digit_in_a_shape(digit, np.random.default_rng(0))
    >>> box.dtype.name, set(np.unique(box)) <= {0, 255}
    ('uint8', True)
    """
    ink = _ink(digit, rng)
    h, w = ink.shape
    margin = float(rng.uniform(-0.08, 0.35)) * h
    pen = max(2, round(float(rng.uniform(0.05, 0.1)) * h))
    pad = round(0.6 * h + 0.2 * w + pen)
    canvas = np.zeros((h + 2 * pad, w + 2 * pad), np.uint8)
    canvas[pad : pad + h, pad : pad + w] = ink
    if rng.random() < 0.5:
        centre = (round(pad + w / 2), round(pad + h / 2))
        axes = (max(1, round(w / 2 * 1.15 + margin)), max(1, round(h / 2 * 1.15 + margin)))
        cv2.ellipse(canvas, centre, axes, 0.0, 0.0, 360.0, 255, pen, cv2.LINE_AA)
    else:
        m = round(margin)
        corners = (pad - m, pad - m), (pad + w + m, pad + h + m)
        cv2.rectangle(canvas, *corners, 255, pen, cv2.LINE_AA)
    reach = max(margin, 0.0) + 0.15 * w + pen  # as far as the shape's stroke on that side
    left, right = rng.uniform(0, reach, 2) * (rng.random(2) < [0.6, 0.6])
    if left + right == 0:
        right = reach
    top, bottom = rng.uniform(0, 0.12, 2) * h
    box = canvas[
        round(pad - top) : round(pad + h + bottom), round(pad - left) : round(pad + w + right)
    ]
    box = np.where(box > 127, 255, 0).astype(np.uint8)
    rows, cols = np.flatnonzero(box.any(1)), np.flatnonzero(box.any(0))
    return box[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def make_set(
    images: np.ndarray, labels: np.ndarray, count: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Make ``count`` pairs from MNIST ``images`` and their ``labels``.

    Parameters
    ----------
    images : ndarray of shape (N, 28, 28), uint8
        MNIST digits (training or validation, never the test set).
    labels : ndarray of shape (N,), int
    count : int
    seed : int

    Returns
    -------
    pairs : ndarray of shape (count, 28, 56), uint8
        Cut as :func:`~digit_pipeline.stages.resize_pairs` cuts a box.
    classes : ndarray of shape (count,), int
        ``10 * first + second``; :data:`ONE_DIGIT` for the :data:`SINGLES` share of boxes
        that hold one digit (cut as a pair is; :data:`IN_SHAPES` of them with a piece of a
        shape drawn round it, :data:`ONES_ALONE` of the rest a 1 with a flag). Of the 1s
        in pairs and alone, :data:`STYLED_ONES` are drawn with a flag.

    Examples
    --------
    >>> import numpy as np
    >>> digits = np.zeros((2, 28, 28), np.uint8); digits[:, 4:24, 12:16] = 255
    >>> x, y = make_set(digits, np.array([3, 7]), 6, seed=0)
    >>> x.shape, set(y.tolist()) <= {33, 37, 73, 77, ONE_DIGIT}
    ((6, 28, 56), True)
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    picks = rng.integers(len(images), size=(count, 2))
    single = rng.random(count) < SINGLES
    shaped = single & (rng.random(count) < IN_SHAPES)
    ones = np.flatnonzero(labels == 1)
    alone_one = single & ~shaped & (rng.random(count) < ONES_ALONE) & (len(ones) > 0)
    if alone_one.any():
        picks[alone_one, 0] = rng.choice(ones, int(alone_one.sum()))
    styled = (labels[picks] == 1) & (rng.random((count, 2)) < STYLED_ONES)
    styled[alone_one, 0] = True

    def digit(k: int, side: int) -> np.ndarray:
        image = images[picks[k, side]]
        drawn = styled_one(image, rng, flag=(0.3, 1.0)) if styled[k, side] else None
        return image if drawn is None else resize_rois([drawn])[0]

    rois = [
        (digit_in_a_shape if ring else one_digit)(digit(k, 0), rng)
        if alone
        else touching_pair(_ink(digit(k, 0), rng), _ink(digit(k, 1), rng), rng)
        for k, (alone, ring) in enumerate(zip(single, shaped, strict=True))
    ]
    classes = 10 * labels[picks[:, 0]] + labels[picks[:, 1]]
    return resize_pairs(rois), np.where(single, ONE_DIGIT, classes).astype(np.int64)


def build_pair_reader(classes: int = len(CLASSES), name: str = "pairs") -> Any:
    """Build the pair reader, a small CNN over a 28 x 56 cut.

    ``[Conv(32)-MaxPool] -> [Conv(64)-MaxPool] -> Conv(128) -> Dense(256) -> Dense(100)``
    (ReLU; valid padding, so that the judge reads it in NumPy).
    A CNN, not the Flatten-Dense of the digits' classifier: a pair's digits sit anywhere
    along the cut (a narrow 1 beside a wide 0 puts the boundary a third of the way in),
    and a Flatten-Dense must learn every shape at every place, where a convolution learns
    it once.
    """
    from ..model import _keras

    keras = _keras()
    height, width = PAIR_SHAPE
    return keras.Sequential(
        [
            keras.Input(shape=(height, width)),
            keras.layers.Reshape((height, width, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(128, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(classes, activation="softmax"),
        ],
        name=name,
    )


def train_pair_reader(
    out: str | Path,
    data: str | Path | None = None,
    count: int = COUNT,
    epochs: int = EPOCHS,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the pair reader on pairs made from MNIST's training digits and save it.

    The last 6 000 training digits (a tenth of a smaller file), which it never trains on,
    make the held-out pairs; MNIST's test set is not used. The card adds the held-out
    pairs' accuracy (whole, first digit, second digit) and how often a single digit is
    read as a pair.

    Parameters
    ----------
    out : path-like
        The ``.keras`` file; its card is written beside it (``.json``).
    data : path-like, optional
        A local ``mnist.npz``; default Keras's loader.
    count, epochs, seed : int

    Returns
    -------
    dict
        The card.
    """
    return train_crops(
        "train-pairs", make_set, CLASSES, out, data, count, epochs, seed, "pairs",
        build_pair_reader, labelled=True, defaults=(COUNT, EPOCHS), measure=_measure,
        decay=True, fresh=True,
    )  # fmt: skip


def _measure(model: Any, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Return the card's held-out figures (:attr:`PairEvaluation.figures`)."""
    return evaluate_pair_reader(model, x, y).figures


@dataclass(frozen=True)
class PairEvaluation:
    """The pair reader measured on labelled boxes (classes of :data:`CLASSES`).

    ``x``: the boxes ``(N, 28, 56)`` uint8; ``y``: their classes; ``proba``: the reader's
    ``(N, 101)`` probabilities.
    """

    x: np.ndarray
    y: np.ndarray
    proba: np.ndarray

    @property
    def guess(self) -> np.ndarray:
        """The class read for each box, ``(N,)``."""
        return self.proba.argmax(axis=1)

    @property
    def figures(self) -> dict[str, float]:
        """Pairs read whole, each pair's first and second digit, and single digits.

        ``one_digit_read_as_pair`` is the share of one-digit boxes read as a pair.
        """
        guess, y = self.guess, self.y
        pairs, single = y != ONE_DIGIT, y == ONE_DIGIT

        def share(hits: np.ndarray) -> float:
            return round(float(np.mean(hits)), 4) if len(hits) else 0.0

        return {
            "pair_accuracy": share(guess[pairs] == y[pairs]),
            "first_digit_accuracy": share(guess[pairs] // 10 == y[pairs] // 10),
            "second_digit_accuracy": share(guess[pairs] % 10 == y[pairs] % 10),
            "one_digit_accuracy": share(guess[single] == ONE_DIGIT),
            "one_digit_read_as_pair": share(guess[single] != ONE_DIGIT),
        }

    def digit(self, position: int) -> Evaluation:
        """Return the pairs' first (``position`` 0) or second (1) digit as a 10-class evaluation.

        Over the boxes that hold a pair; a digit's probability is the reader's summed over
        the pairs that have it there (its "one digit" answer counts for none).
        """
        if position not in (0, 1):
            raise ValueError(f"position must be 0 (first digit) or 1 (second), got {position}")
        pairs = self.y != ONE_DIGIT
        grid = self.proba[pairs, :ONE_DIGIT].reshape(-1, 10, 10)
        return evaluate_proba(
            self.y[pairs] // 10 if position == 0 else self.y[pairs] % 10,
            grid.sum(axis=2 - position),
        )

    def mistakes(self, limit: int = 30) -> list[tuple[int, str, str, float]]:
        """Return the surest wrong reads, ``(index, true, read, confidence)``, surest first."""
        guess = self.guess  # one argmax over every box, not one per mistake
        wrong = np.flatnonzero(guess != self.y)
        order = wrong[np.argsort(-self.proba[wrong, guess[wrong]], kind="stable")][:limit]
        return [
            (int(i), CLASSES[self.y[i]], CLASSES[guess[i]], float(self.proba[i, guess[i]]))
            for i in order
        ]


def held_out_pairs(
    data: str | Path | None = None, count: int = 2000, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Make ``count`` boxes (pairs and single digits) from the digits no reader trains on.

    The last 6 000 MNIST training digits (a tenth of a smaller file), which
    :func:`train_pair_reader` holds back; MNIST's test set is not used.

    Returns
    -------
    boxes : ndarray of shape (count, 28, 56), uint8
    classes : ndarray of shape (count,), int
    """
    from .data import load_mnist

    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    (x_train, y_train), _ = load_mnist(data)
    held = min(6000, len(x_train) // 10)
    return make_set(x_train[-held:], y_train[-held:], count, seed)


def evaluate_pair_reader(model: Any, x: np.ndarray, y: np.ndarray) -> PairEvaluation:
    """Run the pair reader on boxes ``x`` ``(N, 28, 56)`` uint8 and score it against ``y``.

    ``model`` is a Keras model or the judge's NumPy copy
    (:func:`~digit_pipeline.reading.judge.load_pair_reader`), called in batches of 1 024.
    """
    x, y = np.array(x), np.array(y, dtype=np.int64)  # copies: the caller's stay writable
    if x.ndim != 3 or x.shape[1:] != PAIR_SHAPE or len(x) != len(y):
        raise ValueError(
            f"x must be (N, {PAIR_SHAPE[0]}, {PAIR_SHAPE[1]}) with N classes, got {x.shape} "
            f"and {len(y)}"
        )
    inputs, step = x.astype(np.float32) / 255.0, 1024
    parts = [
        np.asarray(model(inputs[i : i + step], training=False)) for i in range(0, len(x), step)
    ]
    proba = np.concatenate(parts) if parts else np.zeros((0, len(CLASSES)), np.float32)
    if proba.shape != (len(x), len(CLASSES)):
        raise ValueError(
            f"a pair reader answers {len(CLASSES)} classes; this model gives {proba.shape[1:]}"
        )
    for array in (x, y, proba):
        array.setflags(write=False)
    return PairEvaluation(x, y, proba)
