"""Measure a model on labelled digits: accuracy, confusion matrix, per-class scores, mistakes.

Also a small in-memory cache of evaluations keyed by the sha256 of the model file's bytes
and of the data, so that asking again about the same file and digits costs nothing.
McNemar's test between two models scored on the same digits is in :mod:`.comparison`.

Conventions: the confusion matrix has rows = true label, columns = predicted label; a class
with no prediction (or no sample) gets precision (or recall) 0.0 rather than NaN, as
scikit-learn's ``zero_division=0`` does.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..caching import BoundedCache
from ..model import NUM_CLASSES, load_model, predict_proba

__all__ = [
    "ClassScore",
    "Evaluation",
    "Mistake",
    "confusion_matrix",
    "evaluate",
    "evaluate_file",
    "evaluate_proba",
    "file_digest",
    "per_class_scores",
    "worst_mistakes",
]


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall, F1 and support of one digit."""

    digit: int
    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form ``{"digit", "precision", "recall", "f1", "support"}``."""
        return {
            "digit": self.digit,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
        }


@dataclass(frozen=True)
class Mistake:
    """One wrongly read digit: its index in the data, the labels and the model's confidence.

    ``confidence`` is the probability the model gave to the (wrong) predicted class.
    """

    index: int
    true: int
    predicted: int
    confidence: float


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = NUM_CLASSES
) -> np.ndarray:
    """Count each (true, predicted) pair.

    Parameters
    ----------
    y_true, y_pred : ndarray of shape (N,), int
        Labels in ``0 .. num_classes - 1``.
    num_classes : int
        Side of the matrix.

    Returns
    -------
    ndarray of shape (num_classes, num_classes), int64
        Row = true label, column = predicted label.

    Raises
    ------
    ValueError
        If the lengths differ or a label is out of range.

    Examples
    --------
    >>> confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]), num_classes=2)
    array([[1, 1],
           [0, 1]])
    """
    y_true, y_pred = np.asarray(y_true).astype(np.int64), np.asarray(y_pred).astype(np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D of one length, got {y_true.shape} and {y_pred.shape}"
        )
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if len(y) and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(
                f"{name} must hold labels 0..{num_classes - 1}, got {y.min()}..{y.max()}"
            )
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def _ratio(top: float, bottom: float) -> float:
    return float(top / bottom) if bottom else 0.0


def per_class_scores(confusion: np.ndarray) -> list[ClassScore]:
    """Precision, recall, F1 and support per class from a confusion matrix.

    Examples
    --------
    >>> s = per_class_scores(np.array([[3, 1], [0, 2]]))
    >>> round(s[0].precision, 3), round(s[0].recall, 3), s[0].support
    (1.0, 0.75, 4)
    >>> round(s[1].precision, 3), s[1].recall, round(s[1].f1, 3)
    (0.667, 1.0, 0.8)
    """
    confusion = np.asarray(confusion)
    scores = []
    for k in range(confusion.shape[0]):
        hit = float(confusion[k, k])
        precision = _ratio(hit, confusion[:, k].sum())
        recall = _ratio(hit, confusion[k, :].sum())
        f1 = _ratio(2 * precision * recall, precision + recall)
        scores.append(ClassScore(k, precision, recall, f1, int(confusion[k, :].sum())))
    return scores


def worst_mistakes(
    y_true: np.ndarray,
    proba: np.ndarray,
    limit: int | None = 50,
    *,
    true: int | None = None,
    predicted: int | None = None,
) -> list[Mistake]:
    """Return the wrongly read digits, most confident first (like fastai's top losses).

    Parameters
    ----------
    y_true : ndarray of shape (N,), int
    proba : ndarray of shape (N, 10), float
        Class probabilities.
    limit : int, optional
        Most mistakes to return; ``None`` = all.
    true, predicted : int, optional
        Keep only mistakes with this true (and/or predicted) label — one cell of the matrix.

    Returns
    -------
    list of Mistake

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    >>> [(m.index, m.true, m.predicted) for m in worst_mistakes(np.array([0, 0, 1]), p)]
    [(1, 0, 1), (2, 1, 0)]
    """
    proba = np.asarray(proba)
    y_true = np.asarray(y_true).astype(np.int64)
    y_pred = proba.argmax(axis=1)
    wrong = y_pred != y_true
    if true is not None:
        wrong &= y_true == true
    if predicted is not None:
        wrong &= y_pred == predicted
    index = np.flatnonzero(wrong)
    confidence = proba[index, y_pred[index]]
    order = index[np.argsort(-confidence, kind="stable")][:limit]
    return [
        Mistake(int(i), int(y_true[i]), int(y_pred[i]), float(proba[i, y_pred[i]])) for i in order
    ]


@dataclass(frozen=True)
class Evaluation:
    """A model measured on ``n`` labelled digits (keeps the probabilities for later looks)."""

    y_true: np.ndarray
    proba: np.ndarray

    @property
    def n(self) -> int:
        """Number of digits measured."""
        return len(self.y_true)

    @property
    def predicted(self) -> np.ndarray:
        """Predicted label per digit, ``(N,)``."""
        return self.proba.argmax(axis=1)

    @property
    def correct(self) -> np.ndarray:
        """Whether each digit was read right, ``(N,)`` bool."""
        return self.predicted == self.y_true

    @property
    def accuracy(self) -> float:
        """Share of digits read right (0.0 for no digits)."""
        return float(self.correct.mean()) if self.n else 0.0

    @property
    def confusion(self) -> np.ndarray:
        """``(10, 10)`` counts, row = true, column = predicted."""
        return confusion_matrix(self.y_true, self.predicted, self.proba.shape[1])

    @property
    def per_class(self) -> list[ClassScore]:
        """Precision, recall, F1, support per digit."""
        return per_class_scores(self.confusion)

    def mistakes(
        self, limit: int | None = 50, *, true: int | None = None, predicted: int | None = None
    ) -> list[Mistake]:
        """See :func:`worst_mistakes`."""
        return worst_mistakes(self.y_true, self.proba, limit, true=true, predicted=predicted)

    def to_dict(self, model: str | None = None) -> dict[str, Any]:
        """Return the JSON form the CLI prints (``model``, ``n``, ``accuracy``, ...)."""
        return {
            "model": model,
            "n": self.n,
            "accuracy": self.accuracy,
            "confusion": self.confusion.tolist(),
            "per_class": [s.to_dict() for s in self.per_class],
        }


def evaluate_proba(y_true: np.ndarray, proba: np.ndarray) -> Evaluation:
    """Wrap labels and probabilities (checked, made read-only) as an :class:`Evaluation`."""
    y_true, proba = np.array(y_true, dtype=np.int64), np.array(proba, dtype=np.float32)
    if proba.ndim != 2 or len(proba) != len(y_true):
        raise ValueError(
            f"proba must be (N, classes) for N={len(y_true)} labels, got {proba.shape}"
        )
    y_true.setflags(write=False)
    proba.setflags(write=False)
    return Evaluation(y_true, proba)


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> Evaluation:
    """Run ``model`` on uint8 digits ``x`` ``(N, 28, 28)`` in batches and score it against ``y``.

    Calls the model directly on batches (see :func:`~digit_pipeline.model.predict_proba`).
    """
    if len(x) != len(y):
        raise ValueError(f"x and y must be of one length, got {len(x)} and {len(y)}")
    return evaluate_proba(y, predict_proba(model, x, batch_size=batch_size))


def file_digest(path: str | os.PathLike[str]) -> str:
    """Return the sha256 of a file's bytes, hex (the cache key of a model file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_digest(x: np.ndarray, y: np.ndarray) -> str:
    """Return the sha256 of digits and labels (shape, dtype and bytes)."""
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(x), np.ascontiguousarray(y)):
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


CACHE_SIZE = 16
"""Evaluations kept in memory (least recently used dropped first)."""

_CACHE: BoundedCache[Evaluation] = BoundedCache(CACHE_SIZE)


def evaluate_file(
    path: str | os.PathLike[str], x: np.ndarray, y: np.ndarray, *, model: Any = None
) -> Evaluation:
    """Evaluate the model file at ``path`` on ``(x, y)``, once per file content and data.

    Parameters
    ----------
    path : path-like
        A ``.keras`` model; its bytes' sha256 keys the cache, so a retrained file under the
        same name is measured afresh.
    x, y : ndarray
        uint8 digits ``(N, 28, 28)`` and labels ``(N,)``.
    model : keras.Model, optional
        The already loaded model of ``path`` (saves loading it again).

    Raises
    ------
    digit_pipeline.model.ModelLoadError
        If the file is missing or does not fit the contract.
    """
    path = Path(path)
    key = (file_digest(path) if path.is_file() else str(path), data_digest(x, y))
    return _CACHE.get_or_make(
        key, lambda: evaluate(model if model is not None else load_model(path), x, y)
    )
