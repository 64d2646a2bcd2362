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
import itertools
from collections.abc import Iterable, Sequence
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
    """Read the boxes that hold two touching digits as pairs, where the reader is sure.

    A box is shown to the pair reader when it is at least ``pair_width`` times as wide as
    tall and ``pair_height`` typical digits tall (a grid's crossing boxed beside the
    digits is smaller), and it holds no more than ``pair_overlap`` of another box (a digit
    overlapping a 1 that has a box of its own holds a piece of the 1: read as a pair, the
    1 would be read twice). Its pair is kept in one of two ways; either way the pair is
    the reader's top answer (more than "one digit", its last answer):

    - **Doubted**: the verifier's probability of several digits is over ``pair_several``
      and the classifier reads it under a margin of ``pair_unsure``. The reader gives the
      pair ``pair_sure`` or more and, with the classifier ``model``, the classifier bears
      it out: read on the box's two halves, it gives at least one of them the pair's digit
      there with ``pair_agree`` or more. A piece of a drawn ring or a grid that the pair
      reader takes for ``12`` or ``17`` reads as something else half by half.
    - **Certain** (the step ``certain``): any other box, which the
      verifier and the classifier both take for one digit (a ``11`` read as a sure 1, a
      ``66`` as a 6). The reader gives the pair ``pair_certain`` or more and the
      classifier gives *each* half the pair's digit there with ``pair_both`` or more: a
      wide 4 that the reader takes for ``41`` is no 4 on its left half.

    Such a box is cut in two (:func:`pair_halves`) at the column, in its middle half,
    where the classifier reads the pair's two digits best (without ``model``: at its
    ink's thinnest column in its middle third); the ink's thinnest column of two
    overlapping digits often runs through one of them.

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
    doubted = (verdict[:, SEVERAL] > params.pair_several) & (sure < params.pair_unsure)
    among = range(len(boxes)) if params.on("certain") else np.flatnonzero(doubted)
    asked = _pair_shaped(boxes, params, among)
    if not asked:
        return result, proba, verdict, frozenset()
    cut = resize_pairs([result.rois[i] for i in asked]).astype(np.float32) / 255
    pair_proba = np.asarray(reader(cut, training=False), np.float64)
    least = {i: params.pair_sure if doubted[i] else params.pair_certain for i in asked}
    sure = {
        i: p[:ONE_DIGIT] / p[:ONE_DIGIT].sum()  # its top is a pair: the sum is > 0
        for i, p in zip(asked, pair_proba, strict=True)
        if p.argmax() < ONE_DIGIT and p.max() >= least[i]
    }
    columns: dict[int, int] = {}  # without a classifier: cut at the ink's thinnest
    if sure and model is not None:
        agree = {i: (params.pair_agree, 1) if doubted[i] else (params.pair_both, 2) for i in sure}
        sure, columns = _borne_out(sure, result.rois, model, agree, params)
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
        halves = pair_halves(result.rois[i], box, columns.get(i))
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


def may_ask(
    digits: Sequence,
    set_aside: Sequence,
    params: JudgeParams = DEFAULT_JUDGE,
    rois: Sequence[GrayImage] | None = None,
) -> bool:
    """Say whether the pair step could keep a pair in a reading made without it.

    A *doubted* box is one read under a margin of ``pair_unsure``; any other box is kept
    as a pair only by the step ``certain``, when the reader is
    ``pair_certain`` of it. A reading whose ``digits``
    (:class:`~digit_pipeline.reading.results.DigitReading`) are all surer, that set
    nothing aside and of whose boxes (cut as ``rois``, one per digit) the reader is
    certain of none, reads the same with the step (what
    :func:`~digit_pipeline.reading.fit_sheet` skips). Without ``rois`` a reading of
    sure digits is taken to have no pair.
    """
    if not params.on("pairs"):
        return False
    if set_aside or any(d.top2[0][1] - d.top2[1][1] < params.pair_unsure for d in digits):
        return True
    reader = load_pair_reader() if rois is not None and params.on("certain") else None
    boxes = [d.box for d in digits]
    asked = _pair_shaped(boxes, params, range(len(boxes))) if reader is not None else []
    if not asked:
        return False
    cut = resize_pairs([rois[i] for i in asked]).astype(np.float32) / 255
    answers = np.asarray(reader(cut, training=False), np.float64)
    return bool(np.any((answers.argmax(1) < ONE_DIGIT) & (answers.max(1) >= params.pair_certain)))


def _pair_shaped(boxes: Sequence[Box], params: JudgeParams, among: Iterable[int]) -> list[int]:
    """Return those of the boxes ``among`` wide and tall enough for a pair, holding no other.

    ``among`` (indices) keeps the test of every other box (quadratic in the boxes) to those
    the step may ask about.
    """
    boxes = list(boxes)
    tall = params.pair_height * typical_height(boxes)
    return [
        int(i)
        for i in among
        if boxes[i][2] >= params.pair_width * boxes[i][3]
        and boxes[i][3] >= tall
        and _most_held(boxes, i) <= params.pair_overlap
    ]


def _borne_out(
    sure: dict,
    rois: list,
    model: keras.Model,
    agree: dict,
    params: JudgeParams | None = None,
) -> tuple[dict, dict[int, int]]:
    """Keep the pairs whose halves the classifier reads as the pair's digits; say where.

    ``sure`` maps a box's index to its pair's ``(100,)`` probabilities (first x second);
    ``agree`` maps it to ``(least, halves)``: the pair is kept when ``halves`` of its two
    halves (1: either; 2: both) read as the pair's digit there with ``least`` or more,
    cut at the ink's thinnest column (:func:`_half_cuts`). With ``params``, also where cut
    at the column the classifier reads the pair best (:func:`_read_columns`): each half
    read so with ``pair_best`` or more (the most of 13 tries asks more), holding
    ``pair_ink`` or more of the box's ink (a sliver of one digit reads as a 1), in a box
    at most ``pair_widest`` times as wide as tall (wider, it holds three digits or more).
    The thinnest column of two digits run into each other often runs through one of them
    (a ``14`` cut there reads ``81``). A pair of 1s is borne out only at the thinnest: a 1
    that starts with a long up-stroke reads as two 1s wherever it is cut.

    Returns
    -------
    kept : dict
        Those of ``sure`` borne out.
    columns : dict of int to int
        Per pair of ``sure``, the column where the classifier reads it best (none where
        no column parts its ink).
    """
    from ...model import predict_proba

    order = list(sure)
    halves = [half for i in order for half in _half_cuts(rois[i])]
    seen = predict_proba(model, resize_rois(halves)).reshape(len(order), 2, 10)
    columns, at_best = _read_columns(rois, sure, model)

    def at_its_best(i: int) -> bool:
        height, width = rois[i].shape
        return (
            params is not None
            and sure[i].argmax() != 11
            and i in at_best
            and width <= params.pair_widest * height
            and _agrees(sure[i], at_best[i], (max(params.pair_best, agree[i][0]), agree[i][1]))
            and _ink_share(rois[i], columns[i]) >= params.pair_ink
        )

    kept = {
        i: sure[i]
        for i, read in zip(order, seen, strict=True)
        if _agrees(sure[i], read, agree[i]) or at_its_best(i)
    }
    return kept, columns


def _ink_share(roi: GrayImage, column: int) -> float:
    """Return the smaller share of ``roi``'s ink on either side of ``column``.

    Examples
    --------
    >>> roi = np.zeros((4, 10), np.uint8); roi[:, 1] = roi[:, 6:9] = 255
    >>> float(_ink_share(roi, 4))
    0.25
    """
    ink = roi > 0
    left, total = ink[:, :column].sum(), max(1, ink.sum())
    return min(left, total - left) / total


def _agrees(pair: np.ndarray, read: np.ndarray, agree: tuple[float, int]) -> bool:
    """Say whether two halves read as ``read`` ``(2, 10)`` bear out ``pair`` (``agree``)."""
    first, second = _pair_digits(pair)
    least, halves = agree
    return sum(p >= least for p in (read[0, first], read[1, second])) >= halves


def _pair_digits(pair: np.ndarray) -> tuple[int, int]:
    """Return the first and the second digit most likely in ``pair``'s ``(100,)`` probabilities.

    Examples
    --------
    >>> _pair_digits(np.eye(100)[47])
    (4, 7)
    """
    grid = pair.reshape(10, 10)
    return int(grid.sum(1).argmax()), int(grid.sum(0).argmax())


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


def _read_columns(
    rois: Sequence, sure: dict, model: keras.Model | None
) -> tuple[dict[int, int], dict[int, np.ndarray]]:
    """Return, per pair, the column where the classifier reads its two digits best.

    ``sure`` maps a box's index (in ``rois``, the boxes' cuts) to its pair's ``(100,)``
    probabilities (first x second); 13 columns across the middle half of each cut are
    tried, each half read as a sheet's box is (one pass of ``model`` for every pair). A
    pair with no such column, or no ``model``, has none: :func:`pair_halves` cuts it at
    its ink's thinnest column.

    Returns
    -------
    columns : dict of int to int
        The best column of each pair that has one.
    reads : dict of int to ndarray
        The classifier's probabilities ``(2, 10)`` of its two halves cut there.
    """
    from ...model import predict_proba

    tried = {}
    for i in sure:
        roi = rois[i]
        width = roi.shape[1]
        columns = np.unique(np.linspace(width // 4, 3 * width // 4, 13).round().astype(int))
        tried[i] = [c for c in columns if roi[:, :c].any() and roi[:, c:].any()]
    cuts = [
        half for i, cs in tried.items() for c in cs for half in (rois[i][:, :c], rois[i][:, c:])
    ]
    if model is None or not cuts:
        return {}, {}
    read = iter(predict_proba(model, resize_rois(cuts)).reshape(-1, 2, 10))
    best, reads = {}, {}
    for i, cs in tried.items():
        first, second = _pair_digits(sure[i])
        seen = list(itertools.islice(read, len(cs)))
        if cs:
            k = int(np.argmax([r[0, first] * r[1, second] for r in seen]))
            best[i], reads[i] = int(cs[k]), seen[k]
    return best, reads


def pair_halves(roi: GrayImage, box: Box, column: int | None = None) -> tuple[Box, Box]:
    """Cut a pair's box in two at ``column``, or its ink's thinnest in the middle third.

    ``roi`` is the box's white-on-black cut (any scale; ``column`` is one of its
    columns); each half is fitted to the rows its ink spans.

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
    column = _split_column(ink) if column is None else column
    sx, sy = w / width, h / height
    halves = []
    for start, stop in ((0, column), (column, width)):
        rows = np.flatnonzero(ink[:, start:stop].any(1))
        top, bottom = (rows[0], rows[-1] + 1) if rows.size else (0, height)
        left, right = round(x + start * sx), round(x + stop * sx)
        tall = max(1, round((bottom - top) * sy))
        halves.append((left, round(y + top * sy), max(1, right - left), tall))
    return halves[0], halves[1]
