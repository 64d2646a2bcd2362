"""Every number the judge decides by, named once, with its range and why: :class:`JudgeParams`.

Built like :class:`~digit_pipeline.reading.params.PipelineParams`: a frozen dataclass whose
fields are declared with :func:`~digit_pipeline.reading.params.spec` and validated on
construction. Sizes are in typical digit heights (:func:`~digit_pipeline.stages.refine.
typical_height`) unless a field says otherwise; *margins* are a reading's top probability
minus its second (:func:`~digit_pipeline.reading.judge.margins`).

``off`` names the rules (:data:`RULES`) and the steps
(:data:`STEPS`) to switch off, so that a benchmark can ask what each one is worth.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..params import ParamSpec, check_fields, specs_of
from ..params import spec as _spec


def _t(default: float, why: str, low: float = 0.0, high: float = 1.0) -> Any:
    """Declare a threshold: its default, one line of why, its range."""
    return _spec(default, why, why, low=low, high=high)


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

STEPS = {
    "pieces": "cut a box into its ink's digit-sized pieces side by side",
    "column": "cut a box at its ink's thinnest column",
    "bodies": "read a long-tailed digit taken for a 1 by its body on the line",
    "pairs": "read a box of two digits no cut reads surely whole, with the pair reader",
    "certain": "read as a pair a box taken for one digit, when the pair reader is certain",
    "turn": "read a sheet turned when it reads clearly better so (a photo stored sideways)",
}
"""The judge's steps besides its rules, by name, with what each does."""

OFF_BY_DEFAULT: frozenset[str] = frozenset()
"""Steps off unless asked for (``JudgeParams(off=...)`` without them; ``--judge-on``).
None today. ``certain`` was here until its pair reader learnt that a 1 with an up-stroke
as long as it is tall is one digit (it split a handwriting font's 1 into ``11``); ``pairs``
until its reader learnt that a digit beside a piece of a drawn ring is one digit. A new
step that is not yet shown to make no family worse starts here."""


@dataclass(frozen=True)
class JudgeParams:  # Long: one declaration per threshold is the point of it
    """Every threshold of the judge (its rules, its cuts, its score), validated.

    Parameters
    ----------
    off : frozenset of str
        Rules (:data:`RULES`) and steps
        (:data:`STEPS`) switched off, by name.
    **thresholds
        One per field below; each says what it decides.

    Raises
    ------
    ValueError
        A threshold outside its range, or an unknown name in ``off``.

    Examples
    --------
    >>> JudgeParams().sure
    0.7
    >>> sorted(JudgeParams().off), sorted(JudgeParams(off={"faint"}).off)
    ([], ['faint'])
    >>> JudgeParams(off={"fiant"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: off: unknown rule or step 'fiant'; known: alone, bar, bodies, ...
    """

    off: frozenset[str] = field(default=OFF_BY_DEFAULT)

    # -- The rules that set a box aside (rules.py) --------------------------------------
    flat_ratio: float = _t(3.0, "flat: a box wider than this many times its height…", 1.0, 20.0)
    flat_height: float = _t(0.5, "flat: …and lower than this many digits is a line", 0.0, 2.0)
    bar_height: float = _t(2.2, "bar: a box taller than this many digits…", 1.0, 10.0)
    bar_ratio: float = _t(5.0, "bar: …and this many times its width is an edge", 1.0, 50.0)
    speck: float = _t(0.3, "speck: a box whose longer side is under this many digits, unsure")
    tiny: float = _t(0.12, "speck: a box whose longer side is under this many digits, any read")
    sure: float = _t(0.7, "speck, faint: a reading with this margin is sure")
    frame_px: int = _spec(
        1, "frame: pixels", "frame: a box this near the image's border touches it", low=0, high=50
    )
    crop_sure: float = _t(0.9, "frame: a digit in a tight crop is read with this margin…")
    crop_fill: float = _t(0.5, "frame: …fills this share of the image's height…")
    crop_tall: float = _t(1.6, "frame: …and is at most this many digits tall", 1.0, 5.0)
    no_digit: float = _t(0.5, "no digit: the verifier's probability of no digit above this")
    borrowed_sure: float = _t(0.9, "borrowed ink: kept when read with this margin")
    faint: float = _t(0.5, "faint: ink contrast under this share of the boxes' median")
    faint_among: int = _spec(
        3, "faint: boxes", "faint: only among at least this many boxes kept", low=2, high=100
    )
    lone: float = _t(0.5, "alone: alone on its line and under this many digits")

    # -- Whose ink a box holds (box_ink.py) -----------------------------------------------
    own_share: float = _t(0.25, "borrowed ink: a box owns a piece it holds this share of")
    held_share: float = _t(0.5, "borrowed ink: a piece is the box's holding over this share")
    borrowed_share: float = _t(0.8, "borrowed ink: a box with this share of others' ink")

    # -- Cutting boxes that hold several digits (split_touching) ------------------------
    split_width: float = _t(0.6, "column: boxes this wide (times their height) are tried", 0.0, 5.0)
    split_gain: float = _t(0.05, "column: boxes read with margin over 1 - this only when wide")
    several: float = _t(0.9, "the verifier's probability of several digits that cuts readily")
    one_digit: float = _t(0.5, "a part the verifier calls one digit with over this")
    wide: float = _t(1.5, "a box this many times the median box's width is wide", 1.0, 5.0)
    wide_among: int = _spec(
        3, "wide: boxes", "a box is only wide among at least this many boxes", low=1, high=100
    )
    unsure: float = _t(0.5, "a whole box read under this margin is unsure")
    pieces_sure: float = _t(0.9, "pieces: kept when each is read with this (whole unsure or wide)")
    pieces_floor: float = _t(0.3, "pieces: kept on their mean when none is read under this")
    pieces_gain: float = _t(0.3, "pieces: …and their mean margin beats the whole's by this")
    column_sure: float = _t(0.9, "column: kept when both parts are read with this…")
    column_width: float = _t(0.8, "column: …of a box this wide (times its height)", 0.0, 5.0)
    column_one: float = _t(0.9, "column: …that the verifier calls one digit under this")
    wide_column_sure: float = _t(0.95, "column: a wide box's parts kept when read with this")
    several_column_sure: float = _t(0.8, "column: parts of several digits kept with this")
    min_part: float = _t(0.5, "column: each part holds ink over this share of the height")
    several_min_part: float = _t(0.3, "column: the same, in a box of several digits")
    split_passes: int = _spec(
        2, "passes", "cut parts again this many times in all (three touching digits)", low=1, high=5
    )

    # -- Reading two touching digits whole (pairs.py) ---------------------------------------
    pair_several: float = _t(0.7, "pairs: the verifier's probability of several that asks")
    pair_width: float = _t(0.6, "pairs: boxes this wide (times their height) are asked", 0.0, 5.0)
    # the two gates of the shipped reader: on held-out boxes it keeps 89 % / 73 % of the
    # pairs there, right on 99.2 % / 99.8 % (training.pairs; BENCHMARKS.md, fourteenth session)
    pair_sure: float = _t(0.9, "pairs: the pair reader's probability that keeps its pair")
    pair_overlap: float = _t(0.05, "pairs: boxes holding this share of another box are not")
    pair_height: float = _t(0.75, "pairs: boxes under this many digits tall are not", 0.0, 5.0)
    pair_unsure: float = _t(0.9, "pairs: only a box the classifier reads under this margin")
    pair_agree: float = _t(0.1, "pairs: the classifier gives a half the pair's digit this")
    pair_certain: float = _t(0.99, "pairs: the reader's probability that keeps an undoubted pair")
    pair_both: float = _t(0.05, "pairs: …and the classifier gives each half its digit this")
    pair_best: float = _t(0.3, "pairs: …or this, cut at the column where it reads them best")
    pair_ink: float = _t(0.12, "pairs: …each half there holding this share of the box's ink")
    pair_widest: float = _t(2.0, "pairs: …in a box at most this wide (times its height)", 0.0, 9.0)

    # -- Proposing cuts (cuts.py) ------------------------------------------------------------
    piece: float = _t(0.25, "pieces: a piece of ink this many digits tall may be a digit")
    piece_ink: float = _t(0.03, "pieces: pieces with under this share of the ink are left out")
    group_overlap: float = _t(0.25, "pieces: overlapping by this share of the shorter are one")
    stacked: float = _t(1.6, "pieces: a box this many digits tall is tried as two lines", 1.0, 5.0)
    stacked_piece: float = _t(0.6, "pieces: each of two stacked digits this many digits tall")
    column_middle: float = _t(
        0.25, "column: the cut is sought this share in from each side", 0.0, 0.5
    )
    column_min_px: int = _spec(
        6, "column: pixels", "column: boxes narrower than this are not cut", low=2, high=100
    )
    column_ink: float = _t(0.1, "column: each part's ink spans this share of the height across")
    column_full: float = _t(0.8, "column: one part holds ink over this share of the height")
    column_line: float = _t(0.6, "column: the parts' heights overlap by this share: one line")

    # -- Long-tailed digits (bodies.py) ------------------------------------------------------
    descends: float = _t(1.4, "bodies: a box this many times its line's height…", 1.0, 5.0)
    hangs: float = _t(0.3, "bodies: …whose bottom is this many line heights below the line…")
    top_above: float = _t(0.25, "bodies: …and whose top is at most this many above it")
    body_height: float = _t(
        1.15, "bodies: the body is this many line heights from the top", 0.5, 3.0
    )
    body_line: int = _spec(
        3, "bodies: boxes", "bodies: only on lines of at least this many boxes", low=1, high=100
    )
    body_sure: float = _t(0.85, "bodies: the body's reading replaces a 1 when this sure")

    # -- Which way is up (reading/orientation.py) ----------------------------------------
    turn_digits: int = _spec(
        2,
        "turn: digits",
        "turn: only a reading of at least this many digits is turned",
        low=1,
        high=100,
    )
    turn_evidence: float = _t(
        4.0, "turn: the digits must say a turn this many nats likelier than upright", 0.0, 100.0
    )
    turn_gain: float = _t(
        -0.5, "turn: the turned reading must score at least the upright's plus this…", -5.0, 5.0
    )
    turn_clear: float = _t(
        15.0, "turn: …unless the digits say the turn by this many nats", 0.0, 1000.0
    )

    # -- Scoring a reading (reading_score) ----------------------------------------------------
    noise_cost: float = _t(0.5, "score: what each box costs; a sure digit adds 1 - this")
    reject_cost: float = _t(0.25, "score: what each box set aside costs", 0.0, 5.0)

    def __post_init__(self) -> None:  # noqa: D105
        object.__setattr__(self, "off", frozenset(self.off))
        known = set(RULES) | set(STEPS)
        for name in sorted(self.off):
            if name not in known:
                raise ValueError(
                    f"off: unknown rule or step {name!r}; known: {', '.join(sorted(known))}"
                )
        check_fields(self, JUDGE_SPECS)

    def on(self, name: str) -> bool:
        """Whether the rule or step ``name`` is switched on."""
        return name not in self.off

    def to_dict(self) -> dict[str, Any]:
        """Return the thresholds as a JSON-ready dict (``off`` as a sorted list)."""
        out = dataclasses.asdict(self)
        out["off"] = sorted(self.off)
        return out

    def replace(self, **changes: Any) -> JudgeParams:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


JUDGE_SPECS: tuple[ParamSpec, ...] = specs_of(JudgeParams)
"""One :class:`~digit_pipeline.reading.params.ParamSpec` per threshold, in declaration order."""

DEFAULT_JUDGE = JudgeParams()
"""The judge the app, ``read`` and ``bench`` use unless told otherwise."""
