"""The judge's rules for what is no digit: each box set aside is named by the rule that did it.

A rule looks at one box beside the sheet's typical digit (its shape, size, place, ink and
how surely it is read) and names why the box is no digit, or says nothing. The judge
(:func:`~digit_pipeline.judge.judge_reading`) keeps the boxes no rule names, and hands
back the others as :class:`SetAside` (the app draws them; ``read --json`` lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...aliases import Box
from ...stages.refine import typical_height

if TYPE_CHECKING:  # pragma: no cover
    from ..pipeline import PipelineResult

FLAT = 3.0
"""A box wider than this many times its height, and lower than half a digit, is a line."""

BAR = 2.2
"""A thin box taller than this many typical digits is a page edge or a spine."""

SPECK = 0.3
"""A box smaller than this fraction of a typical digit, read unsure, is a speck."""

LONE = 0.5
"""A box alone on its line and smaller than this fraction of a typical digit is a speck."""

NO_DIGIT = 0.5
"""A box the verifier calls no digit with more than this probability is dropped."""

SURE = 0.7
"""Margin (top probability minus the second) of a confident reading."""

BORROWED_SURE = 0.9
"""A box whose ink is mostly another box's is dropped unless read with this margin."""

FAINT = 0.5
"""A box whose ink is fainter than this share of the sheet's median box is a mark of the
paper (a fibre, a smudge) unless it is read with a margin of :data:`SURE`."""


RULES = {
    "flat": "a flat stroke: a rule, a page edge lying down",
    "bar": "a thin bar taller than a digit: a page edge, a notebook's spine",
    "speck": "a speck, too small for a digit",
    "frame": "touches the image's frame: the desk, a page edge or its shadow",
    "no digit": "the verifier calls it no digit",
    "borrowed ink": "its ink is mostly another box's: a piece of a digit",
    "faint": "far fainter than the other boxes: a fibre, a smudge",
    "alone": "alone on its line and small: a fibre, a dot of dirt",
}
"""Every rule that sets a box aside, by name, with what it takes the box for."""


@dataclass(frozen=True)
class SetAside:
    """A box the judge set aside as no digit, and the rule that did it (a :data:`RULES` name)."""

    box: Box
    rule: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the box and the rule's name."""
        return {"box": [int(v) for v in self.box], "rule": self.rule}


def plausible(
    boxes: list,
    sure: np.ndarray,
    shape: tuple[int, int] | None = None,
    lines: list[int] | None = None,
    none: np.ndarray | None = None,
    *,
    borrowed: np.ndarray | None = None,
    contrast: np.ndarray | None = None,
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
    rules = set_aside_rules(boxes, sure, shape, lines, none, borrowed=borrowed, contrast=contrast)
    return np.array([not rule for rule in rules], bool)


def set_aside_rules(  # Long: the rules' docstring; the body is one mask per rule
    boxes: list,
    sure: np.ndarray,
    shape: tuple[int, int] | None = None,
    lines: list[int] | None = None,
    none: np.ndarray | None = None,
    *,
    borrowed: np.ndarray | None = None,
    contrast: np.ndarray | None = None,
) -> list[str]:
    """Name the rule that sets each box aside as no digit ("" for a box that may be one).

    Judged against the sheet's typical digit height, in this order (the first rule that
    holds names the box; the names are those of :data:`RULES`):

    - ``flat``, ``bar``: :func:`shape_rules` (rules, page edges, a spine);
    - ``speck``: smaller than :data:`SPECK` of a digit and read unsure, or tiny;
    - ``frame``: touching the image's border (the photo's frame cuts through the desk,
      the page's edge and its shadow; a digit cut by the frame cannot be read anyway)
      unless it fills half the image's height and is read sure: a crop around one line;
    - ``no digit``: the verifier calls it no digit (over :data:`NO_DIGIT`);
    - ``borrowed ink``: its ink is mostly another box's (the tail of a digit boxed on its
      own) unless it is read with a margin of :data:`BORROWED_SURE`;
    - ``faint``: its ink is far fainter than the other boxes' (``contrast`` under
      :data:`FAINT` times the median of the boxes kept so far, among at least three: a
      fibre, a smudge) unless read with :data:`SURE`;
    - ``alone``: alone on its line among the boxes kept and smaller than :data:`LONE` of
      a digit (a paper fibre).

    Parameters
    ----------
    boxes : list of (x, y, w, h)
    sure : ndarray of shape (N,), float
        Each box's margin (:func:`~digit_pipeline.judge.margins`).
    shape : (height, width), optional
        The image's; without it no box is judged by the border.
    lines : list of int, optional
        Each box's line; without them no box is judged alone on its line.
    none : ndarray of shape (N,), float, optional
        The verifier's probability that each box holds no digit
        (:func:`~digit_pipeline.judge.verdicts`).
    borrowed : ndarray of shape (N,), bool, optional
        Boxes whose ink is mostly another box's
        (:func:`~digit_pipeline.reading.judge.box_ink.borrowed_ink`).
    contrast : ndarray of shape (N,), float, optional
        How much darker each box's ink is than its paper
        (:func:`~digit_pipeline.reading.judge.box_ink.ink_contrast`).

    Returns
    -------
    list of str
        One per box: a :data:`RULES` name, or "" where no rule holds.

    Examples
    --------
    >>> boxes = [(0, 0, 20, 40), (30, 0, 22, 42), (60, 0, 21, 38), (0, 60, 90, 4)]
    >>> set_aside_rules(boxes, np.ones(4))
    ['', '', '', 'flat']
    """
    if not boxes:
        return []
    size = np.array([b[2:] for b in boxes], np.float64).reshape(-1, 2)
    width, height = size[:, 0], size[:, 1]
    typical = typical_height(boxes)
    longest = np.maximum(width, height)
    rules = np.array(shape_rules(boxes), object)

    def name(rule: str, mask: np.ndarray) -> None:
        rules[(rules == "") & mask] = rule

    name("speck", (longest < SPECK * typical) & (sure < SURE) | (longest < 0.4 * SPECK * typical))
    if shape is not None:
        xy = np.array([b[:2] for b in boxes], np.float64).reshape(-1, 2)
        touches = (
            (xy[:, 0] <= 1)
            | (xy[:, 1] <= 1)
            | (xy[:, 0] + width >= shape[1] - 1)
            | (xy[:, 1] + height >= shape[0] - 1)
        )
        # A crop around one line of digits (a cheque's amount, a canvas drawing) has digits
        # filling most of its height, and they may touch its frame.
        crop_digit = (sure >= 0.9) & (height >= 0.5 * shape[0]) & (height <= 1.6 * typical)
        name("frame", touches & ~crop_digit)
    if none is not None:
        name("no digit", np.asarray(none) > NO_DIGIT)
    if borrowed is not None:
        name("borrowed ink", np.asarray(borrowed, bool) & (sure < BORROWED_SURE))
    kept = rules == ""
    if contrast is not None and np.count_nonzero(kept) >= 3:
        # Compared with the boxes kept so far: specks are faint too, and would lower the bar.
        faint = np.asarray(contrast) < FAINT * float(np.median(np.asarray(contrast)[kept]))
        name("faint", faint & (sure < SURE))
    if lines is not None and len(set(lines)) > 1:
        # Alone on a line of its own (among the boxes kept so far: a speck beside it is no
        # company) and less than half a digit: a fibre of the paper, a dot of dirt —
        # handwriting does not leave one small mark on a line by itself.
        kept = rules == ""
        line_of = np.asarray(lines)
        counts = np.bincount(line_of[kept], minlength=max(lines) + 1)
        name("alone", (counts[line_of] == 1) & (longest < LONE * typical))
    return [str(rule) for rule in rules]


def shaped_like_no_digit(boxes: list) -> np.ndarray:
    """Boxes no digit can fill, by their shape alone (:func:`shape_rules` names one).

    Examples
    --------
    >>> shaped_like_no_digit([(0, 0, 20, 40), (30, 0, 22, 42), (0, 60, 900, 6)]).tolist()
    [False, False, True]
    """
    return np.array([bool(rule) for rule in shape_rules(boxes)], bool)


def shape_rules(boxes: list) -> list[str]:
    """Name the boxes no digit can fill, by their shape alone: ``flat`` or ``bar`` ("" else).

    Flat: wider than :data:`FLAT` times their height and lower than half a typical digit
    (a rule, a page edge lying down); a bar: taller than :data:`BAR` typical digits and
    five times its width (a page edge standing up, a notebook's spine). Known before
    anything is cut or read, so :func:`drop_shapes` spares their (large) cut.

    Examples
    --------
    >>> digits = [(0, 0, 20, 40), (30, 0, 22, 42), (60, 0, 21, 38)]
    >>> shape_rules([*digits, (0, 60, 900, 6), (100, 0, 6, 200)])
    ['', '', '', 'flat', 'bar']
    """
    if not boxes:
        return []
    size = np.array([b[2:] for b in boxes], np.float64).reshape(-1, 2)
    width, height = size[:, 0], size[:, 1]
    typical = typical_height(boxes)
    flat = (width > FLAT * height) & (height < 0.5 * typical)
    bar = (height > BAR * typical) & (height > 5 * width)
    return ["flat" if f else "bar" if b else "" for f, b in zip(flat, bar, strict=True)]


def drop_shapes(result: PipelineResult) -> tuple[PipelineResult, tuple[SetAside, ...]]:
    """Return ``result`` without the boxes :func:`shape_rules` names, and those boxes.

    Done before the digits are cut: a rule's box on a 12 MP photo spans the page, and
    cutting it (lines removed on strips past it) is the slowest part of a reading.
    """
    rules = shape_rules(result.boxes)
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
