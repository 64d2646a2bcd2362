"""The judge's rules for what is no digit: a table of named rules over per-box features.

A rule looks at one box beside the sheet's typical digit (its shape, size, place, ink and
how surely it is read: :class:`BoxFeatures`) and names why the box is no digit, or says
nothing. :data:`RULE_TABLE` holds them in the order they apply; :func:`set_aside_rules`
applies them in one place, skipping those a :class:`~digit_pipeline.reading.judge.params.
JudgeParams` switches off. The judge (:func:`~digit_pipeline.reading.judge.judge_reading`)
keeps the boxes no rule names, and hands back the others as :class:`SetAside` (the app
draws them; ``read --json`` lists them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...aliases import Box
from ...stages.refine import typical_height
from .params import DEFAULT_JUDGE, RULES, JudgeParams

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import PipelineResult


@dataclass(frozen=True)
class SetAside:
    """A box the judge set aside as no digit, and the rule that did it (a :data:`RULES` name)."""

    box: Box
    rule: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the box and the rule's name."""
        return {"box": [int(v) for v in self.box], "rule": self.rule}


@dataclass(frozen=True)
class BoxFeatures:
    """What the rules look at, one entry per box (arrays of shape (N,)).

    ``typical`` is the sheet's typical digit height (:func:`~digit_pipeline.stages.refine.
    typical_height`). A feature that is None was not measured, and the rules that need it
    say nothing.
    """

    x: np.ndarray
    y: np.ndarray
    width: np.ndarray
    height: np.ndarray
    typical: float
    sure: np.ndarray | None = None
    shape: tuple[int, int] | None = None
    lines: np.ndarray | None = None
    none: np.ndarray | None = None
    borrowed: np.ndarray | None = None
    contrast: np.ndarray | None = None

    @property
    def longest(self) -> np.ndarray:
        """Each box's longer side."""
        return np.maximum(self.width, self.height)


def box_features(
    boxes: list,
    sure: np.ndarray | None = None,
    shape: tuple[int, int] | None = None,
    lines: list[int] | None = None,
    none: np.ndarray | None = None,
    *,
    borrowed: np.ndarray | None = None,
    contrast: np.ndarray | None = None,
) -> BoxFeatures:
    """Gather the features of ``boxes`` (see :func:`set_aside_rules` for the arguments)."""
    xywh = np.array(boxes, np.float64).reshape(-1, 4)

    def array(values: Any, kind: type = np.float64) -> np.ndarray | None:
        return None if values is None else np.asarray(values, kind)

    return BoxFeatures(
        x=xywh[:, 0],
        y=xywh[:, 1],
        width=xywh[:, 2],
        height=xywh[:, 3],
        typical=typical_height(boxes),
        sure=array(sure),
        shape=shape,
        lines=array(lines, np.int64),
        none=array(none),
        borrowed=array(borrowed, bool),
        contrast=array(contrast),
    )


Test = Callable[[BoxFeatures, JudgeParams, np.ndarray], "np.ndarray | None"]


@dataclass(frozen=True)
class Rule:
    """One entry of :data:`RULE_TABLE`: a name, what it takes a box for, and its test.

    ``test(features, params, kept)`` returns the boxes it sets aside (a bool mask), or
    None when a feature it needs is missing; ``kept`` is the boxes no earlier rule named.
    """

    name: str
    means: str
    test: Test


def _flat(f: BoxFeatures, p: JudgeParams, kept: np.ndarray) -> np.ndarray:
    """Wider than ``flat_ratio`` heights and lower than ``flat_height`` digits: a line."""
    return (f.width > p.flat_ratio * f.height) & (f.height < p.flat_height * f.typical)


def _bar(f: BoxFeatures, p: JudgeParams, kept: np.ndarray) -> np.ndarray:
    """Taller than ``bar_height`` digits and ``bar_ratio`` widths: a page edge standing up."""
    return (f.height > p.bar_height * f.typical) & (f.height > p.bar_ratio * f.width)


def _speck(f: BoxFeatures, p: JudgeParams, kept: np.ndarray) -> np.ndarray | None:
    """Smaller than ``speck`` digits and read unsure (under ``sure``), or under ``tiny``."""
    if f.sure is None:
        return None
    small = (f.longest < p.speck * f.typical) & (f.sure < p.sure)
    return small | (f.longest < p.tiny * f.typical)


def _frame(f: BoxFeatures, p: JudgeParams, kept: np.ndarray) -> np.ndarray | None:
    """Within ``frame_px`` of the image's border, unless a tight crop's digit.

    The photo's frame cuts through the desk, the page's edge and its shadow; a digit cut
    by the frame cannot be read anyway. A crop around one line of digits (a cheque's
    amount, a canvas drawing) has digits filling ``crop_fill`` of its height and no more
    than ``crop_tall`` digits tall, read with ``crop_sure``: they may touch its frame.
    """
    if f.shape is None or f.sure is None:
        return None
    rows, cols = f.shape
    edge = p.frame_px
    touches = (
        (f.x <= edge)
        | (f.y <= edge)
        | (f.x + f.width >= cols - edge)
        | (f.y + f.height >= rows - edge)
    )
    crop_digit = (
        (f.sure >= p.crop_sure)
        & (f.height >= p.crop_fill * rows)
        & (f.height <= p.crop_tall * f.typical)
    )
    return touches & ~crop_digit


def _no_digit(f: BoxFeatures, p: JudgeParams, kept: np.ndarray) -> np.ndarray | None:
    """Find boxes the verifier calls no digit with over ``no_digit``."""
    return None if f.none is None else f.none > p.no_digit


def _borrowed(f: BoxFeatures, p: JudgeParams, kept: np.ndarray) -> np.ndarray | None:
    """Its ink mostly another box's, read under ``borrowed_sure``: a digit's tail."""
    if f.borrowed is None or f.sure is None:
        return None
    return f.borrowed & (f.sure < p.borrowed_sure)


def _faint(f: BoxFeatures, p: JudgeParams, kept: np.ndarray) -> np.ndarray | None:
    """Contrast under ``faint`` times the median of the boxes kept so far, read unsure.

    Compared with the boxes kept so far (at least ``faint_among``): specks are faint too,
    and would lower the bar.
    """
    if f.contrast is None or f.sure is None or np.count_nonzero(kept) < p.faint_among:
        return None
    return (f.contrast < p.faint * float(np.median(f.contrast[kept]))) & (f.sure < p.sure)


def _alone(f: BoxFeatures, p: JudgeParams, kept: np.ndarray) -> np.ndarray | None:
    """Alone on its line among the boxes kept so far, and smaller than ``lone`` digits.

    A speck beside it is no company; handwriting does not leave one small mark on a line
    by itself: a fibre of the paper, a dot of dirt.
    """
    if f.lines is None or len(np.unique(f.lines)) < 2:
        return None
    counts = np.bincount(f.lines[kept], minlength=int(f.lines.max()) + 1)
    return (counts[f.lines] == 1) & (f.longest < p.lone * f.typical)


_TESTS: dict[str, Test] = {
    "flat": _flat,
    "bar": _bar,
    "speck": _speck,
    "frame": _frame,
    "no digit": _no_digit,
    "borrowed ink": _borrowed,
    "faint": _faint,
    "alone": _alone,
}

RULE_TABLE: tuple[Rule, ...] = tuple(Rule(name, RULES[name], _TESTS[name]) for name in RULES)
"""The rules in the order they apply: the first that holds names a box."""

SHAPE_RULES = ("flat", "bar")
"""The rules known from a box's shape alone, before anything is cut or read."""


def apply_rules(
    features: BoxFeatures, params: JudgeParams = DEFAULT_JUDGE, names: tuple[str, ...] | None = None
) -> list[str]:
    """Apply the rules of :data:`RULE_TABLE` (those in ``names``, all by default), in order.

    Each box is named by the first rule that holds for it among those ``params`` leaves
    on; "" where none does.
    """
    rules = np.full(len(features.width), "", object)
    for rule in RULE_TABLE:
        if (names is not None and rule.name not in names) or not params.on(rule.name):
            continue
        kept = rules == ""
        holds = rule.test(features, params, kept)
        if holds is not None:
            rules[kept & holds] = rule.name
    return [str(rule) for rule in rules]


def plausible(
    boxes: list,
    sure: np.ndarray,
    shape: tuple[int, int] | None = None,
    lines: list[int] | None = None,
    none: np.ndarray | None = None,
    *,
    borrowed: np.ndarray | None = None,
    contrast: np.ndarray | None = None,
    params: JudgeParams = DEFAULT_JUDGE,
) -> np.ndarray:
    """Which boxes may be digits: those no rule of :func:`set_aside_rules` names.

    Takes the arguments of :func:`set_aside_rules`.

    Returns
    -------
    ndarray of shape (N,), bool

    Examples
    --------
    >>> boxes = [(0, 0, 20, 40), (30, 0, 22, 42), (60, 0, 21, 38), (0, 60, 90, 4)]
    >>> plausible(boxes, np.ones(4)).tolist()                    # the last is a rule
    [True, True, True, False]
    """
    rules = set_aside_rules(
        boxes, sure, shape, lines, none, borrowed=borrowed, contrast=contrast, params=params
    )
    return np.array([not rule for rule in rules], bool)


def set_aside_rules(
    boxes: list,
    sure: np.ndarray,
    shape: tuple[int, int] | None = None,
    lines: list[int] | None = None,
    none: np.ndarray | None = None,
    *,
    borrowed: np.ndarray | None = None,
    contrast: np.ndarray | None = None,
    params: JudgeParams = DEFAULT_JUDGE,
) -> list[str]:
    """Name the rule that sets each box aside as no digit ("" for a box that may be one).

    The rules of :data:`RULE_TABLE`, in its order, over the boxes' :class:`BoxFeatures`;
    the first rule that holds names the box; a rule whose feature is not given says
    nothing; ``params`` holds every threshold and the rules switched off.

    Parameters
    ----------
    boxes : list of (x, y, w, h)
    sure : ndarray of shape (N,), float
        Each box's margin (:func:`~digit_pipeline.reading.judge.margins`).
    shape : (height, width), optional
        The image's; without it no box is judged by the border.
    lines : list of int, optional
        Each box's line; without them no box is judged alone on its line.
    none : ndarray of shape (N,), float, optional
        The verifier's probability that each box holds no digit
        (:func:`~digit_pipeline.reading.judge.verdicts`).
    borrowed : ndarray of shape (N,), bool, optional
        Boxes whose ink is mostly another box's
        (:func:`~digit_pipeline.reading.judge.box_ink.borrowed_ink`).
    contrast : ndarray of shape (N,), float, optional
        How much darker each box's ink is than its paper
        (:func:`~digit_pipeline.reading.judge.box_ink.ink_contrast`).
    params : JudgeParams, optional

    Returns
    -------
    list of str
        One per box: a :data:`RULES` name, or "" where no rule holds.

    Examples
    --------
    >>> boxes = [(0, 0, 20, 40), (30, 0, 22, 42), (60, 0, 21, 38), (0, 60, 90, 4)]
    >>> set_aside_rules(boxes, np.ones(4))
    ['', '', '', 'flat']
    >>> set_aside_rules(boxes, np.ones(4), params=JudgeParams(off={"flat"}))
    ['', '', '', '']
    """
    if not boxes:
        return []
    features = box_features(boxes, sure, shape, lines, none, borrowed=borrowed, contrast=contrast)
    return apply_rules(features, params)


def shaped_like_no_digit(boxes: list, params: JudgeParams = DEFAULT_JUDGE) -> np.ndarray:
    """Boxes no digit can fill, by their shape alone (:func:`shape_rules` names one).

    Examples
    --------
    >>> shaped_like_no_digit([(0, 0, 20, 40), (30, 0, 22, 42), (0, 60, 900, 6)]).tolist()
    [False, False, True]
    """
    return np.array([bool(rule) for rule in shape_rules(boxes, params)], bool)


def shape_rules(boxes: list, params: JudgeParams = DEFAULT_JUDGE) -> list[str]:
    """Name the boxes no digit can fill, by their shape alone: ``flat`` or ``bar`` ("" else).

    The :data:`SHAPE_RULES` of the table: a rule, a page edge lying down; a page edge
    standing up, a notebook's spine. Known before anything is cut or read, so
    :func:`drop_shapes` spares their (large) cut.

    Examples
    --------
    >>> digits = [(0, 0, 20, 40), (30, 0, 22, 42), (60, 0, 21, 38)]
    >>> shape_rules([*digits, (0, 60, 900, 6), (100, 0, 6, 200)])
    ['', '', '', 'flat', 'bar']
    """
    if not boxes:
        return []
    return apply_rules(box_features(boxes), params, SHAPE_RULES)


def drop_shapes(
    result: PipelineResult, params: JudgeParams = DEFAULT_JUDGE
) -> tuple[PipelineResult, tuple[SetAside, ...]]:
    """Return ``result`` without the boxes :func:`shape_rules` names, and those boxes.

    Done before the digits are cut: a rule's box on a 12 MP photo spans the page, and
    cutting it (lines removed on strips past it) is the slowest part of a reading.
    """
    rules = shape_rules(result.boxes, params)
    if not any(rules):
        return result, ()
    from ..pipeline import with_boxes

    keep = [i for i, rule in enumerate(rules) if not rule]
    dropped = tuple(SetAside(result.boxes[i], rule) for i, rule in enumerate(rules) if rule)
    boxes = [result.boxes[i] for i in keep]
    return with_boxes(result, boxes, _renumber([result.lines[i] for i in keep])), dropped


def _renumber(lines: list[int]) -> list[int]:
    """Renumber the lines 0, 1, 2… keeping their order."""
    ranks = {line: n for n, line in enumerate(sorted(set(lines)))}
    return [ranks[line] for line in lines]
