"""The classifier as a judge: split what touches, drop what is no digit, score a reading.

Segmentation alone cannot tell two touching digits from one wide digit, or a rule's
stub from a ``1``; the classifier can, once the boxes are cut. :func:`judge_reading`
runs after the boxes are classified, in :func:`~digit_pipeline.reading.read_sheet`:

1. :func:`split_touching` tries to cut each box into its ink's digit-sized pieces side
   by side (digits written apart but boxed together), or a box wide enough to hold two
   digits at its ink's thinnest column near the middle, and keeps the cut when the
   parts are digit-shaped and read with more confidence than the whole;
2. :func:`plausible` drops boxes that look like no digit next to the sheet's typical
   digit: flat strokes (rules, page edges lying down), thin bars far taller than a digit
   (page edges, a notebook's spine), specks the classifier is unsure of, and boxes the
   *verifier* calls no digit (:func:`load_verifier`: a small model that says one digit,
   several or none — the classifier has only ten answers and gives one, often surely, to
   a rule's stub or to two digits in one box);
3. :func:`reading_score` rates what is left, so that
   :func:`~digit_pipeline.autofit.auto_fit` can let the reading choose between
   candidate settings.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...model import predict_proba
from ...stages import reading_order_indices
from ...stages.refine import typical_height
from .bodies import descending_bodies
from .box_ink import borrowed_ink, ink_contrast
from .cuts import column_cut, ink_pieces
from .rules import (
    BAR,
    BORROWED_SURE,
    FAINT,
    FLAT,
    LONE,
    NO_DIGIT,
    RULES,
    SPECK,
    SURE,
    SetAside,
    _renumber,
    drop_shapes,
    plausible,
    set_aside_rules,
    shape_rules,
    shaped_like_no_digit,
)

__all__ = [
    "BAR",
    "BORROWED_SURE",
    "FAINT",
    "FLAT",
    "LONE",
    "NO_DIGIT",
    "RULES",
    "SPECK",
    "SURE",
    "Judged",
    "SetAside",
    "drop_shapes",
    "judge_reading",
    "load_verifier",
    "margins",
    "plausible",
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

MIN_SPLIT_WIDTH = 0.6
"""Boxes at least this wide (times their height) are tried as two touching digits."""

SPLIT_GAIN = 0.05
"""Boxes read with a margin above 1 - this are only tried when they are wide."""

SEVERAL_DIGITS = 0.9
"""A box the verifier calls several digits with more than this is cut more readily."""

BODY_SURE = 0.85
"""A long-tailed digit read as a 1 is read by its body when that is read this surely."""

NOISE_COST = 0.5
"""What a box costs in :func:`reading_score`: one read with a lower margin lowers it."""


@dataclass(frozen=True)
class Judged:
    """A reading after the judge: the pipeline result and each box's probabilities.

    ``set_aside``: the boxes :func:`plausible` dropped, each with the rule that did it.
    """

    result: PipelineResult
    proba: np.ndarray
    set_aside: tuple[SetAside, ...] = ()

    @property
    def rejected(self) -> int:
        """How many boxes were set aside."""
        return len(self.set_aside)


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
    from ...model import MODELS_DIR, read_keras

    path = MODELS_DIR / VERIFIER
    if not path.is_file():
        return None
    fix = "Rebuild it with: python -m digit_pipeline train-verifier"
    return read_keras(path, fix)


def verdicts(verifier: keras.Model | None, digits: np.ndarray) -> np.ndarray:
    """Return the verifier's ``(N, 3)`` probabilities of one digit, several, no digit.

    Without a verifier every box is one digit (``[1, 0, 0]``).
    """
    if verifier is None or len(digits) == 0:
        out = np.zeros((len(digits), 3), np.float32)
        out[:, 0] = 1.0
        return out
    x = np.asarray(digits, np.float32) / 255.0
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


def judge_reading(
    result: PipelineResult, model: keras.Model, verifier: keras.Model | None = None
) -> Judged:
    """Classify the boxes of ``result``, split touching digits, drop what is no digit.

    Parameters
    ----------
    result : PipelineResult
        From :func:`~digit_pipeline.pipeline.segment`.
    model : keras.Model
        Fits the contract of :mod:`digit_pipeline.model`.
    verifier : keras.Model, optional
        Says one digit, several or no digit (:func:`load_verifier`, the default): boxes
        of several digits are cut more readily, boxes of no digit are dropped.

    Returns
    -------
    Judged
        Boxes, ROIs, digits and lines in reading order again.
    """
    verifier = verifier if verifier is not None else load_verifier()
    proba = predict_proba(model, result.digits)
    if not len(proba):
        return Judged(result, proba)
    result, proba, verdict = split_touching(result, proba, model, verifier)
    proba = read_bodies(result, proba, model)
    ready = result.prepared
    boxes, rois = result.boxes, result.rois
    borrowed = borrowed_ink(boxes, rois, ready.work.shape, ready.scale)
    contrast = ink_contrast(boxes, rois, ready.work, ready.scale)
    rules = set_aside_rules(
        boxes,
        margins(proba),
        ready.shape,
        result.lines,
        verdict[:, NONE],
        borrowed=borrowed,
        contrast=contrast,
    )
    keep = np.array([not rule for rule in rules], bool)
    set_aside = tuple(SetAside(box, rule) for box, rule in zip(boxes, rules, strict=True) if rule)
    return Judged(_subset(result, proba, np.flatnonzero(keep)), proba[keep], set_aside)


def read_bodies(result: PipelineResult, proba: np.ndarray, model: keras.Model) -> np.ndarray:
    """Read a box taken for a 1 that hangs far below its line by its part on the line.

    A 1 stands on the line; a 9 (or 4, or 7) with a long tail has its body on the line
    and its stem below (:func:`~digit_pipeline.reading.judge.bodies.descending_bodies`). A
    box read as
    a 1 whose body is read as another digit with at least :data:`BODY_SURE` takes the
    body's reading; the box stays whole. A 1 that hangs below its line reads 1 by its
    top too, and keeps its reading.

    Returns
    -------
    ndarray of shape (N, 10)
        ``proba``, with the rows of such boxes replaced.
    """
    from ..pipeline import with_boxes

    bodies = descending_bodies(result.boxes, result.lines)
    ones = [i for i in bodies if proba[i].argmax() == 1]
    if not ones:
        return proba
    body_proba = predict_proba(model, with_boxes(result, [bodies[i] for i in ones]).digits)
    proba = proba.copy()
    for i, p in zip(ones, body_proba, strict=True):
        if p.argmax() != 1 and p.max() >= BODY_SURE:
            proba[i] = p
    return proba


def reading_score(sure: np.ndarray, rejected: int = 0) -> float:
    """How believable a reading is: sum over boxes of (margin - :data:`NOISE_COST`).

    Every sure digit adds about half a point; a box read unsure, a merged pair or a bit
    of texture takes away; a box the judge had to reject costs a quarter point.

    Parameters
    ----------
    sure : ndarray of shape (N,), float
        Each digit's margin (:func:`margins`).
    rejected : int
        Boxes :func:`plausible` dropped.

    Examples
    --------
    >>> reading_score(np.array([1.0, 1.0, 0.1]), rejected=2)
    0.1
    """
    return round(float(np.sum(np.asarray(sure) - NOISE_COST) - 0.25 * rejected), 9)


def split_touching(
    result: PipelineResult,
    proba: np.ndarray,
    model: keras.Model,
    verifier: keras.Model | None = None,
) -> tuple[PipelineResult, np.ndarray, np.ndarray]:
    """Split boxes of touching or merged digits where the classifier prefers the parts.

    Returns the result, its boxes' probabilities and the verifier's :func:`verdicts` on
    them (computed once per set of boxes, and handed back for :func:`plausible`).

    Two ways to cut a box are tried. First its ink's pieces: a box whose ink falls into
    two or more digit-sized pieces side by side
    (:func:`~digit_pipeline.reading.judge.cuts.ink_pieces`: a digit written close to the next
    and joined to it by the dilation or as a "fragment") is cut into them
    when every piece is read sure (margin 0.9) and the whole is read unsure (under 0.5)
    or is half as wide again as the median box, or when the pieces' mean margin beats
    the whole's by 0.3 with none under 0.3. Otherwise a box at least
    :data:`MIN_SPLIT_WIDTH` times as wide as tall, read unsure or half as wide again as
    the median box, is cut at its ink's thinnest column in the middle half; the cut is
    kept when each part holds ink over at least half the box's height, one of them over
    most of it, side by side on the line (not one above the other), and the classifier
    prefers the parts: the whole box, at least 0.8 times as wide as tall, is read unsure
    (margin under 0.5) and both parts sure (0.9); or, for a box half as wide again as
    the median box, both parts are read with a margin of 0.95. Parts are tried again
    once (three touching digits).

    A box the ``verifier`` calls several digits (:data:`SEVERAL_DIGITS`) is cut more
    readily, when the verifier calls each part one digit: into its pieces when none is
    read with a margin under 0.3, at its thinnest column (whatever its width, and a part
    may hold ink over only 0.3 of the box's height: a 0 beside a 7's long stem) when
    both parts are read with 0.8.
    """
    from ..pipeline import with_boxes

    boxes, sure = list(result.boxes), margins(proba)
    typical = typical_height(boxes)
    verdict = verdicts(verifier, result.digits)
    for _ in range(2):
        candidates, wide = {}, _wide(boxes)
        several = verdict[:, SEVERAL] > SEVERAL_DIGITS
        rois = result.rois
        for i, box in enumerate(boxes):
            pieces = ink_pieces(rois[i], box, typical)
            if pieces is not None:
                candidates[i] = (pieces, True)
            elif several[i] or (
                box[2] >= MIN_SPLIT_WIDTH * box[3] and (sure[i] < 1.0 - SPLIT_GAIN or wide[i])
            ):
                # Called several digits: a smaller digit beside a tall one may be cut off.
                low = 0.3 if several[i] else 0.5
                parts = column_cut(result.prepared.gray, box, low)
                if parts is not None:
                    candidates[i] = (parts, False)
        if not candidates:
            break
        flat = [p for parts, _ in candidates.values() for p in parts]
        part_digits = with_boxes(result, flat).digits
        part_proba = predict_proba(model, part_digits)
        part_sure = margins(part_proba)
        part_one = verdicts(verifier, part_digits)[:, ONE] > 0.5
        new_boxes, new_proba, changed = [], [], False
        k = 0
        for i, box in enumerate(boxes):
            if i in candidates:
                parts, by_pieces = candidates[i]
                n = len(parts)
                weakest = float(part_sure[k : k + n].min())
                if by_pieces:
                    mean = float(part_sure[k : k + n].mean())
                    better = (
                        (weakest >= 0.9 and (sure[i] < 0.5 or wide[i]))
                        or (weakest >= 0.3 and mean >= sure[i] + 0.3)
                        or (several[i] and weakest >= 0.3 and part_one[k : k + n].all())
                    )
                else:
                    better = (
                        (sure[i] < 0.5 and weakest >= 0.9 and box[2] >= 0.8 * box[3])
                        or (wide[i] and weakest >= 0.95)
                        or (several[i] and weakest >= 0.8 and part_one[k : k + n].all())
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


def _wide(boxes: list) -> np.ndarray:
    """Boxes at least 1.5 times as wide as the median box: room for two digits."""
    widths = np.array([b[2] for b in boxes], np.float64)
    return widths >= 1.5 * np.median(widths) if len(boxes) >= 3 else np.zeros(len(boxes), bool)


def _recut(result: PipelineResult, boxes: list, proba: np.ndarray):
    """Return ``result`` with new boxes: ROIs and digits cut again, reading order redone."""
    from ..pipeline import with_boxes

    order, lines = reading_order_indices(boxes)
    return with_boxes(result, [boxes[i] for i in order], lines), proba[order]


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
