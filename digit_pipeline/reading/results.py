"""What a reading says: each digit read, a sheet's digits in reading order, as text."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..aliases import Box, DigitBatch
from ..model import predict_proba
from ..stages.boxes import number_indices

if TYPE_CHECKING:  # pragma: no cover
    import keras

LOW_CONFIDENCE = 0.9
"""Digits read with a lower confidence are flagged for the user to check (the app's default).

Measured with ``benchmarks/bench_flags.py`` (BENCHMARKS.md): on real_dev 0.9 flags 3 of the
4 digits read wrong against 2 at 0.8, for 13 of 212 right ones flagged (6 at 0.8); on USPS's
real digits 81 % of the errors against 73 %, for 2.7 % of the right ones (1.3 %)."""


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
    number : int
        Which number of the sheet the digit belongs to, 0 = the first
        (:func:`~digit_pipeline.stages.boxes.number_indices`): digits far apart on a line
        are told apart as numbers.
    pair : bool
        Read whole with its neighbour by the judge's pair reader: two touching digits no
        cut reads surely (:func:`~digit_pipeline.reading.judge.read_pairs`).
    """

    box: Box
    label: int
    confidence: float
    top2: tuple[tuple[int, float], tuple[int, float]]
    line: int
    number: int = 0
    pair: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the CLI's schema."""
        return {
            "box": list(self.box),
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "top2": [[d, round(p, 6)] for d, p in self.top2],
            "line": self.line,
            "number": self.number,
            "pair": self.pair,
        }


@dataclass(frozen=True)
class SheetReading:
    """Every digit of a sheet, in reading order."""

    digits: tuple[DigitReading, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        r"""The digits as text, one line per written line (``"462\n119\n753"``).

        A space parts the numbers of a line (``"1000 99 20"``).
        """
        d = self.digits
        return lines_text([x.label for x in d], [x.line for x in d], numbers=[x.number for x in d])


def without(reading: SheetReading, drop: Sequence[int]) -> SheetReading:
    """Return ``reading`` without the digits at the indices ``drop`` (marked "not a digit").

    The remaining digits keep their order and lines; the timings are kept.

    Examples
    --------
    >>> d = [DigitReading((0, 0, 1, 1), n, 1.0, ((n, 1.0), (0, 0.0)), 0) for n in (4, 1, 6)]
    >>> without(SheetReading(tuple(d)), [1]).text
    '46'
    """
    dropped = set(drop)
    kept = tuple(d for i, d in enumerate(reading.digits) if i not in dropped)
    return SheetReading(kept, dict(reading.timings_ms))


def lines_text(
    labels: list[int], lines: list[int], sep: str = "\n", numbers: list[int] | None = None
) -> str:
    """Join digit labels into text, ``sep`` between written lines, a space between numbers.

    Examples
    --------
    >>> lines_text([4, 6, 2, 1, 1], [0, 0, 0, 1, 1], " / ")
    '462 / 11'
    >>> lines_text([1, 0, 9, 9], [0, 0, 0, 0], numbers=[0, 0, 1, 1])
    '10 99'
    """
    numbers = list(lines) if numbers is None else numbers
    rows: dict[int, str] = {}
    last: dict[int, int] = {}
    for label, line, number in zip(labels, lines, numbers, strict=True):
        space = " " if line in last and last[line] != number else ""
        rows[line] = rows.get(line, "") + space + str(label)
        last[line] = number
    return sep.join(rows[k] for k in sorted(rows))


def sheet_from_proba(
    proba: np.ndarray,
    boxes: Sequence[Box],
    lines: Sequence[int],
    timings_ms: dict[str, float] | None = None,
    pairs: frozenset = frozenset(),
) -> SheetReading:
    """Turn class probabilities ``(N, 10)`` of boxes into a :class:`SheetReading`.

    The boxes are in reading order; each digit's number comes from the boxes' gaps
    (:func:`~digit_pipeline.stages.boxes.number_indices`); a box in ``pairs`` was read
    from a pair.
    """
    digits = []
    numbers = number_indices(boxes, lines)
    for box, line, number, p in zip(boxes, lines, numbers, proba, strict=True):
        first, second = np.argsort(p)[::-1][:2]
        digits.append(
            DigitReading(
                box=tuple(int(v) for v in box),
                label=int(first),
                confidence=float(p[first]),
                top2=((int(first), float(p[first])), (int(second), float(p[second]))),
                line=int(line),
                number=number,
                pair=tuple(int(v) for v in box) in pairs,
            )
        )
    return SheetReading(tuple(digits), dict(timings_ms or {}))


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
    return sheet_from_proba(proba, boxes, lines, timings)
