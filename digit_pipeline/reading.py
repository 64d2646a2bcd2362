"""From an image to text: the pipeline plus the model, as the app and CLI both use it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .aliases import Box, DigitBatch, Image
from .model import predict_proba
from .params import PipelineParams
from .pipeline import PipelineResult, Prepared, run_pipeline, segment

if TYPE_CHECKING:  # pragma: no cover
    import keras

LOW_CONFIDENCE = 0.8
"""Digits read with a lower confidence are flagged for the user to check (the app's default)."""


@dataclass(frozen=True)
class DigitReading:
    """One digit read from a sheet.

    Attributes
    ----------
    box : (x, y, w, h)
        Original-image pixels.
    label : int
        The model's digit.
    confidence : float
        Its probability.
    top2 : tuple of (int, float)
        The two most likely digits with their probabilities, best first.
    line : int
        Line index, 0 = top.
    """

    box: Box
    label: int
    confidence: float
    top2: tuple[tuple[int, float], tuple[int, float]]
    line: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the CLI's schema."""
        return {
            "box": list(self.box),
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "top2": [[d, round(p, 6)] for d, p in self.top2],
            "line": self.line,
        }


@dataclass(frozen=True)
class SheetReading:
    """Every digit of a sheet, in reading order."""

    digits: tuple[DigitReading, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        r"""The digits as text, one line per written line (``"462\n119\n753"``)."""
        return lines_text([d.label for d in self.digits], [d.line for d in self.digits])


def lines_text(labels: list[int], lines: list[int], sep: str = "\n") -> str:
    """Join digit labels into text, ``sep`` between written lines.

    Examples
    --------
    >>> lines_text([4, 6, 2, 1, 1], [0, 0, 0, 1, 1], " / ")
    '462 / 11'
    """
    rows: dict[int, str] = {}
    for label, line in zip(labels, lines, strict=True):
        rows[line] = rows.get(line, "") + str(label)
    return sep.join(rows[k] for k in sorted(rows))


def classify(
    model: keras.Model,
    digits: DigitBatch,
    boxes: Sequence[Box],
    lines: Sequence[int],
    timings_ms: dict[str, float] | None = None,
) -> SheetReading:
    """Read MNIST-style digits with ``model``, in one batch.

    Parameters
    ----------
    model : keras.Model
        Fits the contract of :mod:`digit_pipeline.model`.
    digits : ndarray of shape (N, 28, 28), uint8
    boxes : sequence of (x, y, w, h)
        One per digit, original-image pixels.
    lines : sequence of int
        Line index of each digit.
    timings_ms : dict, optional
        Timings gathered so far; ``"predict"`` is added.

    Returns
    -------
    SheetReading
    """
    start = time.perf_counter()
    proba = predict_proba(model, digits)
    timings = dict(timings_ms or {})
    timings["predict"] = (time.perf_counter() - start) * 1000
    digits = []
    for box, line, p in zip(boxes, lines, proba, strict=True):
        first, second = np.argsort(p)[::-1][:2]
        digits.append(
            DigitReading(
                box=tuple(int(v) for v in box),
                label=int(first),
                confidence=float(p[first]),
                top2=((int(first), float(p[first])), (int(second), float(p[second]))),
                line=int(line),
            )
        )
    return SheetReading(tuple(digits), timings)


def read_sheet(
    model: keras.Model,
    image: Image,
    params: PipelineParams | None = None,
    prepared: Prepared | None = None,
) -> tuple[SheetReading, PipelineResult]:
    """Segment ``image`` and read its digits.

    Parameters
    ----------
    model : keras.Model
    image : ndarray
        RGB(A) or grey.
    params : PipelineParams, optional
        Defaults if omitted.
    prepared : Prepared, optional
        ``image`` already prepared with ``params``' working size, line removal and
        inversion (e.g. :attr:`~digit_pipeline.autofit.AutoFit.prepared`); skips that
        step, the slowest on a large working copy.

    Returns
    -------
    reading : SheetReading
        With ``"segment"`` and ``"predict"`` timings in milliseconds.
    result : PipelineResult
        Every intermediate of the pipeline.
    """
    start = time.perf_counter()
    result = run_pipeline(image, params) if prepared is None else segment(prepared, params)
    segment_ms = (time.perf_counter() - start) * 1000
    reading = classify(model, result.digits, result.boxes, result.lines, {"segment": segment_ms})
    return reading, result
