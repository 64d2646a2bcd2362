"""The verifier's verdicts (one digit, several, none) and the classifier's margins.

The verifier (:mod:`digit_pipeline.training.verifier`) is a small model that says whether a
box holds one digit, several or none: the classifier has only ten answers and gives one,
often surely, to a rule's stub or to two digits in one box. A *margin* is a reading's top
probability minus its second: how sure the classifier is.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    import keras

ONE, SEVERAL, NONE = 0, 1, 2
"""The verifier's classes (:mod:`digit_pipeline.training.verifier`): one digit, several, none."""

VERIFIER = "judge/verifier.keras"
"""The shipped verifier, relative to the shipped models' folder."""


@functools.cache
def load_verifier() -> keras.Model | None:
    """Load the shipped verifier (:mod:`digit_pipeline.training.verifier`), or None.

    Without it (a models folder that lacks the file) the judge works as before it
    existed: the classifier's margins alone decide. A file that cannot be read raises
    :class:`~digit_pipeline.model.ModelLoadError`, naming it and how to rebuild it.
    """
    return _load_judge_model(VERIFIER, "train-verifier")


ORIENTATION = "judge/orientation.keras"
"""The shipped orientation model (:mod:`digit_pipeline.training.orientation`)."""


@functools.cache
def load_orientation() -> keras.Model | None:
    """Load the shipped orientation model, or None (then a sheet is never turned by it).

    A file that cannot be read raises :class:`~digit_pipeline.model.ModelLoadError`,
    naming it and how to rebuild it.
    """
    return _load_judge_model(ORIENTATION, "train-orientation")


def _load_judge_model(name: str, command: str) -> keras.Model | None:
    """Load a shipped judge model (``name`` in the models folder), or None without the file.

    In NumPy when it can (no TensorFlow), else with Keras; a file neither can read raises
    :class:`~digit_pipeline.model.ModelLoadError`, naming ``command`` to rebuild it.
    """
    from ...model import MODELS_DIR

    path = MODELS_DIR / name
    return read_judge_model(path, command) if path.is_file() else None


def read_judge_model(path: Path, command: str) -> keras.Model:
    """Read a judge model's file: in NumPy when it can (no TensorFlow), else with Keras.

    A file neither can read raises :class:`~digit_pipeline.model.ModelLoadError`, naming
    ``command`` (the ``python -m digit_pipeline`` sub-command) to rebuild it.
    """
    from ...model import read_arrays, read_keras

    fix = f"Rebuild it with: python -m digit_pipeline {command}"
    return read_arrays(path) or read_keras(path, fix)


def verdicts(verifier: keras.Model | None, digits: np.ndarray) -> np.ndarray:
    """Return the verifier's ``(N, 3)`` probabilities of one digit, several, no digit.

    Without a verifier every box is one digit (``[1, 0, 0]``).
    """
    if verifier is None or len(digits) == 0:
        out = np.zeros((len(digits), 3), np.float32)
        out[:, 0] = 1.0
        return out
    from ...model import to_model_input

    x = to_model_input(np.asarray(digits))
    return np.asarray(verifier(x, training=False), np.float32)


def margins(proba: np.ndarray) -> np.ndarray:
    """Top probability minus the second, per row (1 = sure, 0 = a coin toss).

    Examples
    --------
    >>> margins(np.array([[0.1, 0.7, 0.2], [0.5, 0.5, 0.0]])).round(2).tolist()
    [0.5, 0.0]
    """
    if len(proba) == 0:
        return np.zeros(0)
    top = np.sort(proba, axis=1)
    return top[:, -1] - top[:, -2]
