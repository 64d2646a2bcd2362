"""The judge's sense of up: is a cut-out digit upright, lying, or upside down.

A photo stored sideways (no EXIF tag to say so) or a sheet scanned upside down is cut into
boxes all the same, and each box holds a digit turned the same way. A small CNN with four
answers — the digit as shown is turned 0, 1, 2 or 3 quarter turns clockwise — tells it
from one digit; summed over a sheet's digits it tells the sheet's way up
(:func:`digit_pipeline.reading.orientation.orientation_evidence`). 0, 1 and 8 upside down
look the same, and a 6 upside down is a 9: such digits give little evidence, and the
model learns to say so with probabilities near a half, which a sum over a sheet weighs
rightly.

Examples are MNIST training digits cut as the pipeline cuts a box (binary ink,
:func:`~digit_pipeline.stages.resize_rois`), each turned a random number of quarter turns
*before* it is cut, as a turned sheet's box is. The shipped model is
``models/judge/orientation.keras``; rebuild it with ``python -m digit_pipeline
train-orientation --data ../shared/data/mnist.npz`` (the card's ``command`` is the exact
line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..reading.orientation import turn_image
from ..stages import resize_rois
from .verifier import one_digit, train_crops

CLASSES = ("upright", "a quarter turn clockwise", "upside down", "three quarter turns")
"""The digit as shown is turned this many quarter turns clockwise (0-3)."""


def make_set(images: np.ndarray, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Make ``count`` examples: MNIST digits cut as the pipeline cuts, a quarter of each turn.

    Parameters
    ----------
    images : ndarray of shape (N, 28, 28), uint8
        MNIST digits (training or validation, never the test set).
    count : int
    seed : int

    Returns
    -------
    digits : ndarray of shape (count, 28, 28), uint8
    labels : ndarray of shape (count,), int
        Quarter turns clockwise each digit is shown turned (0-3).

    Examples
    --------
    >>> import numpy as np
    >>> seven = np.zeros((28, 28), np.uint8); seven[6, 8:20] = 255; seven[6:22, 19] = 255
    >>> x, y = make_set(seven[None], 8, seed=0)
    >>> x.shape, sorted(y.tolist())
    ((8, 28, 28), [0, 0, 1, 1, 2, 2, 3, 3])
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 4)
    rois = [
        turn_image(one_digit(images[rng.integers(len(images))], rng), int(turns))
        for turns in labels
    ]
    return resize_rois(rois), labels.astype(np.int64)


def train_orientation(
    out: str | Path,
    data: str | Path | None = None,
    count: int = 120_000,
    epochs: int = 4,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the orientation model on turned MNIST training digits and save it, card beside.

    As :func:`~digit_pipeline.training.verifier.train_verifier` (the same small CNN, the
    same held-back validation digits), with four classes (:data:`CLASSES`).

    Returns
    -------
    dict
        The card.
    """
    return train_crops(
        "train-orientation", make_set, CLASSES, out, data, count, epochs, seed, "orientation"
    )
