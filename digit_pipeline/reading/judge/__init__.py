"""The classifier as a judge: split what touches, drop what is no digit, score a reading.

Segmentation alone cannot tell two touching digits from one wide digit, or a rule's
stub from a ``1``; the classifier can, once the boxes are cut. :func:`judge_reading`
runs after the boxes are classified, in :func:`~digit_pipeline.reading.read_sheet`:

1. :func:`split_touching` tries to cut each box into its ink's digit-sized pieces side
   by side (digits written apart but boxed together), or a box wide enough to hold two
   digits at its ink's thinnest column near the middle, and keeps the cut when the
   parts are digit-shaped and read with more confidence than the whole; a box the
   verifier still calls several digits is read whole by the pair reader
   (:func:`read_pairs`, ``00`` to ``99``) when it is sure;
2. :func:`plausible` drops boxes that look like no digit next to the sheet's typical
   digit: flat strokes (rules, page edges lying down), thin bars far taller than a digit
   (page edges, a notebook's spine), specks the classifier is unsure of, and boxes the
   *verifier* calls no digit (:func:`load_verifier`: a small model that says one digit,
   several or none — the classifier has only ten answers and gives one, often surely, to
   a rule's stub or to two digits in one box);
3. :func:`reading_score` rates what is left, so that
   :func:`~digit_pipeline.reading.fit_sheet` can let the reading choose between
   candidate settings.

Every number these steps decide by is a field of :class:`JudgeParams`
(:mod:`~digit_pipeline.reading.judge.params`), and each rule and step can be switched off
by name (``JudgeParams(off={"faint", "bodies"})``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...model import predict_proba
from .bodies import descending_bodies
from .box_ink import borrowed_ink, ink_contrast
from .pairs import PAIRS, load_pair_reader, may_ask, pair_halves, read_pairs
from .params import DEFAULT_JUDGE, JUDGE_SPECS, STEPS, JudgeParams
from .rules import (
    RULE_TABLE,
    RULES,
    BoxFeatures,
    Rule,
    SetAside,
    _renumber,
    apply_rules,
    box_features,
    drop_shapes,
    plausible,
    set_aside_rules,
    shape_rules,
    shaped_like_no_digit,
)
from .split import split_touching
from .verdicts import NONE, ONE, SEVERAL, VERIFIER, load_verifier, margins, verdicts

__all__ = [
    "DEFAULT_JUDGE",
    "JUDGE_SPECS",
    "NONE",
    "ONE",
    "PAIRS",
    "RULES",
    "RULE_TABLE",
    "SEVERAL",
    "STEPS",
    "VERIFIER",
    "BoxFeatures",
    "JudgeParams",
    "Judged",
    "Rule",
    "SetAside",
    "apply_rules",
    "box_features",
    "drop_shapes",
    "judge_reading",
    "load_pair_reader",
    "load_verifier",
    "margins",
    "may_ask",
    "pair_halves",
    "plausible",
    "read_pairs",
    "reading_score",
    "set_aside_rules",
    "shape_rules",
    "shaped_like_no_digit",
    "split_touching",
    "verdicts",
]

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from ..pipeline import PipelineResult


@dataclass(frozen=True)
class Judged:
    """A reading after the judge: the pipeline result and each box's probabilities.

    ``set_aside``: the boxes :func:`plausible` dropped, each with the rule that did it;
    ``pairs``: the boxes read from a pair of touching digits (:func:`read_pairs`).
    """

    result: PipelineResult
    proba: np.ndarray
    set_aside: tuple[SetAside, ...] = ()
    pairs: frozenset = frozenset()

    @property
    def rejected(self) -> int:
        """How many boxes were set aside."""
        return len(self.set_aside)


def judge_reading(
    result: PipelineResult,
    model: keras.Model,
    verifier: keras.Model | None = None,
    params: JudgeParams = DEFAULT_JUDGE,
) -> Judged:
    """Classify the boxes of ``result``, split touching digits, drop what is no digit.

    Parameters
    ----------
    result : PipelineResult
        From :func:`~digit_pipeline.reading.pipeline.segment`.
    model : keras.Model
        Fits the contract of :mod:`digit_pipeline.model`.
    verifier : keras.Model, optional
        Says one digit, several or no digit (:func:`load_verifier`, the default): boxes
        of several digits are cut more readily, boxes of no digit are dropped.
    params : JudgeParams, optional
        Every threshold, and the rules and steps switched off.

    Returns
    -------
    Judged
        Boxes, ROIs, digits and lines in reading order again.
    """
    verifier = verifier if verifier is not None else load_verifier()
    proba = predict_proba(model, result.digits)
    if not len(proba):
        return Judged(result, proba)
    result, proba, verdict = split_touching(result, proba, model, verifier, params)
    reader = load_pair_reader() if params.on("pairs") else None  # off: never loaded
    result, proba, verdict, pairs = read_pairs(result, proba, verdict, reader, params, model)
    if params.on("bodies"):
        proba = read_bodies(result, proba, model, params)
    ready = result.prepared
    boxes, rois = result.boxes, result.rois
    rules = set_aside_rules(
        boxes,
        margins(proba),
        ready.shape,
        result.lines,
        verdict[:, NONE],
        borrowed=borrowed_ink(boxes, rois, ready.work.shape, ready.scale, params),
        contrast=ink_contrast(boxes, rois, ready.work, ready.scale),
        params=params,
    )
    rules = ["" if box in pairs else rule for box, rule in zip(boxes, rules, strict=True)]
    keep = np.array([not rule for rule in rules], bool)
    set_aside = tuple(SetAside(box, rule) for box, rule in zip(boxes, rules, strict=True) if rule)
    return Judged(_subset(result, proba, np.flatnonzero(keep)), proba[keep], set_aside, pairs)


def read_bodies(
    result: PipelineResult,
    proba: np.ndarray,
    model: keras.Model,
    params: JudgeParams = DEFAULT_JUDGE,
) -> np.ndarray:
    """Read a box taken for a 1 that hangs far below its line by its part on the line.

    A 1 stands on the line; a 9 (or 4, or 7) with a long tail has its body on the line
    and its stem below (:func:`~digit_pipeline.reading.judge.bodies.descending_bodies`).
    A box read as a 1 whose body is read as another digit with at least
    ``params.body_sure`` takes the body's reading; the box stays whole. A 1 that hangs
    below its line reads 1 by its top too, and keeps its reading.

    Returns
    -------
    ndarray of shape (N, 10)
        ``proba``, with the rows of such boxes replaced.
    """
    from ..pipeline import with_boxes

    bodies = descending_bodies(result.boxes, result.lines, params)
    ones = [i for i in bodies if proba[i].argmax() == 1]
    if not ones:
        return proba
    body_proba = predict_proba(model, with_boxes(result, [bodies[i] for i in ones]).digits)
    proba = proba.copy()
    for i, p in zip(ones, body_proba, strict=True):
        if p.argmax() != 1 and p.max() >= params.body_sure:
            proba[i] = p
    return proba


def reading_score(
    sure: np.ndarray, rejected: int = 0, params: JudgeParams = DEFAULT_JUDGE
) -> float:
    """How believable a reading is: sum over boxes of (margin - ``noise_cost``).

    Every sure digit adds about half a point; a box read unsure, a merged pair or a bit
    of texture takes away; a box the judge had to reject costs ``reject_cost`` (a
    quarter point).

    Parameters
    ----------
    sure : ndarray of shape (N,), float
        Each digit's margin (:func:`margins`).
    rejected : int
        Boxes :func:`plausible` dropped.
    params : JudgeParams, optional

    Examples
    --------
    >>> reading_score(np.array([1.0, 1.0, 0.1]), rejected=2)
    0.1
    """
    cost = float(np.sum(np.asarray(sure) - params.noise_cost))
    return round(cost - params.reject_cost * rejected, 9)


def _subset(result: PipelineResult, proba: np.ndarray, keep: np.ndarray) -> PipelineResult:
    """Return ``result`` with only the boxes ``keep`` (indices), lines renumbered."""
    if len(keep) == len(result.boxes):
        return result
    from ..pipeline import with_boxes

    return with_boxes(
        result,
        [result.boxes[i] for i in keep],
        _renumber([result.lines[i] for i in keep]),
        cut=([result.rois[i] for i in keep], result.digits[keep]),
    )
