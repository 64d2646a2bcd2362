"""Cutting boxes that hold several digits, where the classifier prefers the parts.

:func:`split_touching` proposes the cuts of :mod:`~digit_pipeline.reading.judge.cuts` (the
ink's pieces, a column) and keeps those whose parts the classifier reads better than the
whole (:func:`_prefers_parts`); every threshold is a field of
:class:`~digit_pipeline.reading.judge.params.JudgeParams`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...model import predict_proba
from ...stages import reading_order_indices
from ...stages.refine import typical_height
from .cuts import column_cut, ink_pieces
from .params import DEFAULT_JUDGE, JudgeParams
from .verdicts import ONE, SEVERAL, margins, verdicts

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from ..pipeline import PipelineResult


def split_touching(
    result: PipelineResult,
    proba: np.ndarray,
    model: keras.Model,
    verifier: keras.Model | None = None,
    params: JudgeParams = DEFAULT_JUDGE,
) -> tuple[PipelineResult, np.ndarray, np.ndarray]:
    """Split boxes of touching or merged digits where the classifier prefers the parts.

    Returns the result, its boxes' probabilities and the verifier's :func:`verdicts` on
    them (computed once per set of boxes, and handed back for :func:`plausible`). The
    thresholds named here are fields of ``params`` (:class:`JudgeParams`); its ``off``
    may switch either way of cutting off (``"pieces"``, ``"column"``).

    Two ways to cut a box are proposed (:mod:`~digit_pipeline.reading.judge.cuts`), and
    the classifier decides (:func:`_prefers_parts`). First its ink's pieces
    (:func:`~digit_pipeline.reading.judge.cuts.ink_pieces`: a digit written close to the
    next and joined to it by the dilation or as a "fragment"). Otherwise a box at least
    ``split_width`` times as wide as tall, read under a margin of 1 - ``split_gain`` or
    ``wide`` (that many times the median box's width), is cut at its ink's thinnest
    column (:func:`~digit_pipeline.reading.judge.cuts.column_cut`, each part holding ink
    over ``min_part`` of the height). A box the ``verifier`` calls several digits (over
    ``several``) is tried at a column whatever its width, with parts down to
    ``several_min_part`` of its height (a 0 beside a 7's long stem). Parts are tried
    again until ``split_passes`` passes are done (three touching digits).
    """
    from ..pipeline import with_boxes

    boxes, sure = list(result.boxes), margins(proba)
    typical = typical_height(boxes)
    verdict = verdicts(verifier, result.digits)
    for _ in range(params.split_passes):
        candidates, wide = {}, _wide(boxes, params)
        several = verdict[:, SEVERAL] > params.several
        rois = result.rois
        for i, box in enumerate(boxes):
            pieces = ink_pieces(rois[i], box, typical, params) if params.on("pieces") else None
            if pieces is not None:
                candidates[i] = (pieces, True)
            elif params.on("column") and (
                several[i]
                or (
                    box[2] >= params.split_width * box[3]
                    and (sure[i] < 1.0 - params.split_gain or wide[i])
                )
            ):
                low = params.several_min_part if several[i] else params.min_part
                parts = column_cut(result.prepared.gray, box, low, params)
                if parts is not None:
                    candidates[i] = (parts, False)
        if not candidates:
            break
        flat = [p for parts, _ in candidates.values() for p in parts]
        part_digits = with_boxes(result, flat).digits
        part_proba = predict_proba(model, part_digits)
        part_sure = margins(part_proba)
        part_one = verdicts(verifier, part_digits)[:, ONE] > params.one_digit
        new_boxes, new_proba, changed = [], [], False
        k = 0
        for i, box in enumerate(boxes):
            if i in candidates:
                parts, by_pieces = candidates[i]
                n = len(parts)
                one = float(verdict[i, ONE])  # a verdict per box (without a verifier: one)
                whole = _Whole(box, sure[i], bool(wide[i]), bool(several[i]), one)
                better = _prefers_parts(
                    whole, part_sure[k : k + n], part_one[k : k + n], by_pieces, params
                )
                if better:
                    new_boxes += parts
                    new_proba += list(part_proba[k : k + n])
                    changed = True
                    k += n
                    continue
                k += n
            new_boxes.append(box)
            new_proba.append(proba[i] if len(proba) > i else np.zeros(10))
        if not changed:
            break
        boxes, proba = new_boxes, np.array(new_proba)
        sure = margins(proba)
        result, proba = _recut(result, boxes, proba)
        boxes = list(result.boxes)
        verdict = verdicts(verifier, result.digits)
    return result, proba, verdict


@dataclass(frozen=True)
class _Whole:
    """A box tried as several digits: box, margin, wide, several, the verifier's P(one)."""

    box: tuple
    sure: float
    wide: bool
    several: bool
    one: float = 0.0


def _prefers_parts(
    whole: _Whole,
    part_sure: np.ndarray,
    part_one: np.ndarray,
    by_pieces: bool,
    params: JudgeParams = DEFAULT_JUDGE,
) -> bool:
    """Whether the classifier prefers a box's parts to the whole box (thresholds of ``params``).

    By its ink's pieces: every piece read with ``pieces_sure`` and the whole read
    ``unsure`` or wide; or the pieces' mean margin beating the whole's by
    ``pieces_gain`` with none under ``pieces_floor``; or, for a box the verifier calls
    several digits, none under ``pieces_floor`` and the verifier calling each piece one
    digit. At a column: the whole read ``unsure``, at least ``column_width`` times as
    wide as tall, not called one digit by the verifier (over ``column_one``), and both
    parts read with ``column_sure``; or a wide box whose parts
    are read with ``wide_column_sure`` and no less surely than the whole (a wide digit
    read surely stays whole: its halves may read surely too, a 9 as a 6 and a 1); or a
    box of several digits whose parts are read with ``several_column_sure`` and called
    one digit each.

    Examples
    --------
    >>> whole = _Whole((0, 0, 40, 40), sure=0.2, wide=False, several=False)
    >>> _prefers_parts(whole, np.array([0.95, 0.92]), np.array([True, True]), False)
    True
    >>> _prefers_parts(whole, np.array([0.95, 0.6]), np.array([True, True]), False)
    False
    """
    weakest = float(part_sure.min())
    several = whole.several and bool(part_one.all())
    if by_pieces:
        mean = float(part_sure.mean())
        return (
            (weakest >= params.pieces_sure and (whole.sure < params.unsure or whole.wide))
            or (weakest >= params.pieces_floor and mean >= whole.sure + params.pieces_gain)
            or (several and weakest >= params.pieces_floor)
        )
    _, _, width, height = whole.box
    return (
        (
            whole.sure < params.unsure
            and whole.one < params.column_one
            and weakest >= params.column_sure
            and width >= params.column_width * height
        )
        or (whole.wide and weakest >= max(params.wide_column_sure, whole.sure))
        or (several and weakest >= params.several_column_sure)
    )


def _wide(boxes: list, params: JudgeParams = DEFAULT_JUDGE) -> np.ndarray:
    """Boxes at least ``wide`` times as wide as the median box: room for two digits.

    Only among ``wide_among`` boxes or more (fewer have no median to speak of).
    """
    widths = np.array([b[2] for b in boxes], np.float64)
    if len(boxes) < params.wide_among:
        return np.zeros(len(boxes), bool)
    return widths >= params.wide * np.median(widths)


def _recut(result: PipelineResult, boxes: list, proba: np.ndarray):
    """Return ``result`` with new boxes: ROIs and digits cut again, reading order redone."""
    from ..pipeline import with_boxes

    order, lines = reading_order_indices(boxes)
    return with_boxes(result, [boxes[i] for i in order], lines), proba[order]
