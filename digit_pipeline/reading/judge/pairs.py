"""Reading a box of two touching digits whole, where no cut reads surely.

A box the verifier still calls several digits once :func:`~.split.split_touching` has
tried its cuts holds digits that touch or overlap so that no cut reads surely (a ``12``
whose 2 runs into the 1). The pair reader (:mod:`digit_pipeline.training.pairs`) reads
such a box whole, as one of ``00`` to ``99`` or as one digit; when it is sure of a pair,
the box becomes two boxes side by side, each read as its digit of the pair (its
probabilities are the pair's, summed over the other digit), and both are marked as read
from a pair.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...stages import reading_order_indices, resize_pairs, resize_rois
from ...stages.refine import typical_height
from .params import DEFAULT_JUDGE, JudgeParams
from .verdicts import SEVERAL, _load_judge_model, margins

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from ...aliases import Box, GrayImage
    from ..pipeline import PipelineResult

ONE_DIGIT = 100
"""The pair reader's last class: the box holds one digit, no pair."""

PAIRS = "judge/pairs.keras"
"""The shipped pair reader, relative to the shipped models' folder."""


@functools.cache
def load_pair_reader() -> keras.Model | None:
    """Load the shipped pair reader, or None (then no box is read as a pair).

    A file that cannot be read raises :class:`~digit_pipeline.model.ModelLoadError`,
    naming it and how to rebuild it.
    """
    return _load_judge_model(PAIRS, "train-pairs")


def read_pairs(
    result: PipelineResult,
    proba: np.ndarray,
    verdict: np.ndarray,
    reader: keras.Model | None,
    params: JudgeParams = DEFAULT_JUDGE,
    model: keras.Model | None = None,
) -> tuple[PipelineResult, np.ndarray, np.ndarray, frozenset]:
    """Read the boxes the verifier calls several digits as pairs, where the reader is sure.

    A box is asked when the verifier's probability of several digits is over
    ``pair_several``, the classifier reads it under a margin of ``pair_unsure`` (a piece
    of a grid read surely as a digit stays one), it is at least ``pair_width`` times as
    wide as tall and ``pair_height`` typical digits tall (a grid's crossing boxed beside
    the digits is smaller), and it holds no more than ``pair_overlap`` of another box (a digit
    overlapping a 1 that has a box of its own holds a piece of the 1: read as a pair,
    the 1 would be read twice); its pair is kept when the reader gives it ``pair_sure``
    or more (and so more than to "one digit", its last answer) and, with the classifier
    ``model``, the classifier bears it out: read on the box's two halves, it gives at
    least one of them the pair's digit there with ``pair_agree`` or more. Two readers
    agree on a real pair; a piece of a drawn ring or a grid that the pair reader takes
    for ``12`` or ``17`` reads as something else half by half. Such a box is cut in two
    at its ink's thinnest column in its middle third (:func:`pair_halves`).

    Returns
    -------
    result, proba, verdict
        With each pair's box replaced by its two digits' boxes (the verdict of each: one
        digit), in reading order again.
    pairs : frozenset of (x, y, w, h)
        The boxes read from a pair.
    """
    if reader is None or not params.on("pairs") or not len(result.boxes):
        return result, proba, verdict, frozenset()
    boxes, sure = list(result.boxes), margins(proba)
    tall = params.pair_height * typical_height(boxes)
    asked = [
        i
        for i, (_, _, w, h) in enumerate(boxes)
        if verdict[i, SEVERAL] > params.pair_several
        and sure[i] < params.pair_unsure
        and w >= params.pair_width * h
        and h >= tall
        and _most_held(boxes, i) <= params.pair_overlap
    ]
    if not asked:
        return result, proba, verdict, frozenset()
    cut = resize_pairs([result.rois[i] for i in asked]).astype(np.float32) / 255
    pair_proba = np.asarray(reader(cut, training=False), np.float64)
    sure = {
        i: p[:ONE_DIGIT] / p[:ONE_DIGIT].sum()  # its top is a pair: the sum is > 0
        for i, p in zip(asked, pair_proba, strict=True)
        if p.argmax() < ONE_DIGIT and p.max() >= params.pair_sure
    }
    if sure and model is not None:
        sure = _borne_out(sure, result.rois, model, params.pair_agree)
    if not sure:
        return result, proba, verdict, frozenset()
    new_boxes, new_proba, new_verdict, pairs = [], [], [], set()
    for i, box in enumerate(boxes):
        if i not in sure:
            new_boxes.append(box)
            new_proba.append(proba[i])
            new_verdict.append(verdict[i])
            continue
        grid = sure[i].reshape(10, 10)  # first digit x second: each digit's own probabilities
        halves = pair_halves(result.rois[i], box)
        for half, p in zip(halves, (grid.sum(1), grid.sum(0)), strict=True):
            new_boxes.append(half)
            new_proba.append(p)
            new_verdict.append(np.array([1.0, 0.0, 0.0], np.float32))
            pairs.add(half)
    from ..pipeline import with_boxes

    order, lines = reading_order_indices(new_boxes)
    result = with_boxes(result, [new_boxes[k] for k in order], lines)
    return (
        result,
        np.array(new_proba)[order],
        np.array(new_verdict, np.float32)[order],
        frozenset(tuple(int(v) for v in b) for b in pairs),
    )


def may_ask(digits: Sequence, set_aside: Sequence, params: JudgeParams = DEFAULT_JUDGE) -> bool:
    """Say whether the pair step could ask about a box of a reading made without it.

    It asks only about a box read under a margin of ``pair_unsure``; a reading whose
    ``digits`` (:class:`~digit_pipeline.reading.results.DigitReading`) are all surer and
    that set nothing aside has no such box, so reading it again with the step changes
    nothing (what :func:`~digit_pipeline.reading.fit_sheet` skips).
    """
    unsure = any(d.top2[0][1] - d.top2[1][1] < params.pair_unsure for d in digits)
    return params.on("pairs") and (unsure or bool(set_aside))


def _borne_out(sure: dict, rois: list, model: keras.Model, least: float) -> dict:
    """Keep the pairs whose halves the classifier reads as the pair's digits (one of the two).

    ``sure`` maps a box's index to its pair's ``(100,)`` probabilities (first x second).
    """
    from ...model import predict_proba

    order = list(sure)
    halves = [half for i in order for half in _half_cuts(rois[i])]
    seen = predict_proba(model, resize_rois(halves)).reshape(len(order), 2, 10)
    kept = {}
    for i, read in zip(order, seen, strict=True):
        grid = sure[i].reshape(10, 10)
        first, second = int(grid.sum(1).argmax()), int(grid.sum(0).argmax())
        if max(read[0, first], read[1, second]) >= least:
            kept[i] = sure[i]
    return kept


def _split_column(ink: np.ndarray) -> int:
    """Return the column of fewest ink pixels in the middle third of a ``(H, W)`` mask."""
    width = ink.shape[1]
    lo, hi = width // 3, max(width // 3 + 1, 2 * width // 3)
    return lo + int(np.argmin(ink[:, lo:hi].sum(0)))


def _half_cuts(roi: GrayImage) -> tuple[GrayImage, GrayImage]:
    """Return a pair's cut in two at :func:`_split_column`: left and right, as ROIs."""
    column = _split_column(roi > 0)
    return roi[:, :column], roi[:, column:]


def _most_held(boxes: list, i: int) -> float:
    """Return the largest share of another box's area that box ``i`` holds (0: none).

    Examples
    --------
    >>> _most_held([(0, 0, 10, 10), (8, 0, 10, 10), (30, 0, 5, 5)], 0)
    0.2
    """
    x, y, w, h = boxes[i]
    most = 0.0
    for k, (ox, oy, ow, oh) in enumerate(boxes):
        if k != i:
            inter = max(0, min(x + w, ox + ow) - max(x, ox)) * max(
                0, min(y + h, oy + oh) - max(y, oy)
            )
            most = max(most, inter / max(1, ow * oh))
    return most


def pair_halves(roi: GrayImage, box: Box) -> tuple[Box, Box]:
    """Cut a pair's box in two at its ink's thinnest column in the middle third.

    ``roi`` is the box's white-on-black cut (any scale); each half is fitted to the rows
    its ink spans.

    Examples
    --------
    >>> import numpy as np
    >>> roi = np.zeros((40, 60), np.uint8); roi[0:40, 5:25] = 255; roi[10:30, 24:55] = 255
    >>> pair_halves(roi, (100, 200, 60, 40))
    ((100, 200, 25, 40), (125, 210, 35, 20))
    """
    x, y, w, h = (int(v) for v in box)
    height, width = roi.shape
    ink = roi > 0
    column = _split_column(ink)
    sx, sy = w / width, h / height
    halves = []
    for start, stop in ((0, column), (column, width)):
        rows = np.flatnonzero(ink[:, start:stop].any(1))
        top, bottom = (rows[0], rows[-1] + 1) if rows.size else (0, height)
        left, right = round(x + start * sx), round(x + stop * sx)
        tall = max(1, round((bottom - top) * sy))
        halves.append((left, round(y + top * sy), max(1, right - left), tall))
    return halves[0], halves[1]
