"""From an image to text: the one reading path the app, ``read`` and ``bench`` all call.

:func:`read_sheet` fits the parameters (optionally), prepares the image, segments it, cuts
the digits and classifies them; every caller goes through it, so they read alike.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..aliases import Box, Image
from ..model import predict_proba
from .autofit import AutoFit, candidates, estimate_fit
from .judge import DEFAULT_JUDGE, JudgeParams, drop_shapes, judge_reading, may_ask
from .judge.verdicts import load_orientation
from .orientation import choose_turn, orientation_evidence, turn_image, unturn_boxes, verdict_of
from .params import PipelineParams
from .pipeline import PipelineResult, segment
from .prepared import Prepared, prepare
from .results import SheetReading, sheet_from_proba

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from .autofit import SheetStats
    from .judge import SetAside


@dataclass(frozen=True)
class Reading:
    """What :func:`read_sheet` did to one image.

    Attributes
    ----------
    params : PipelineParams
        The parameters used: the fitted ones when the fit ran, else those given.
    result : PipelineResult
        Every stage's output (boxes, ROIs, 28×28 digits).
    sheet : SheetReading or None
        The digits read, in reading order; None when no model was given.
    stats : SheetStats or None
        What the fit measured; None when it did not run or found no ink.
    fitted : bool
        Whether the fit ran.
    timings_ms : dict of str to float
        ``fit`` (when it ran), ``prepare`` (0 when a prepared image was reused),
        ``segment`` (up to the boxes) and, with a model, ``cut`` (ROIs and 28×28 digits)
        and ``predict`` (the judge's splits included).
    set_aside : tuple of SetAside
        The boxes the judge set aside as no digit, each with the rule that did it
        (:func:`~digit_pipeline.judge.set_aside_rules`), in the same pixels as ``result``'s
        (:meth:`set_aside_in_image` gives them in the given image's).
    page : ndarray of shape (4, 2) or None
        The corners of the page that was flattened before reading, in the given image's
        pixels (top-left, top-right, bottom-right, bottom-left); None when the image was
        read as it is. With a page, every box is in the flattened page's pixels
        (:meth:`in_image` carries the sheet's back onto the given image).
    image : ndarray or None
        The image the boxes belong to: the flattened page, or the given image itself,
        turned by ``rotation``.
    rotation : int
        Degrees clockwise the image was turned to be read (0, 90, 180 or 270): a sheet
        whose digits say it is turned (``read_sheet(orient=True)``,
        :mod:`~digit_pipeline.reading.orientation`).
    """

    params: PipelineParams
    result: PipelineResult
    sheet: SheetReading | None
    stats: SheetStats | None = None
    fitted: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)
    set_aside: tuple[SetAside, ...] = ()
    page: np.ndarray | None = None
    image: Image | None = None
    rotation: int = 0

    @property
    def rejected(self) -> int:
        """How many boxes the judge set aside as no digit."""
        return len(self.set_aside)

    @property
    def text(self) -> str:
        """The sheet as text (lines joined by newlines); empty without a model."""
        return "" if self.sheet is None else self.sheet.text

    def in_image(self) -> SheetReading | None:
        """Return :attr:`sheet` with its boxes in the given image's pixels.

        A turned image's boxes are turned back, and a flattened page's boxes are carried
        back onto the photo (:func:`~digit_pipeline.stages.boxes_in_photo`: the upright
        box around each); otherwise the sheet is returned as it is.
        """
        if self.sheet is None or (self.page is None and not self.rotation):
            return self.sheet
        boxes = self.boxes_in_image([d.box for d in self.sheet.digits])
        digits = tuple(replace(d, box=b) for d, b in zip(self.sheet.digits, boxes, strict=True))
        return SheetReading(digits, dict(self.sheet.timings_ms))

    def set_aside_in_image(self) -> tuple[SetAside, ...]:
        """Return :attr:`set_aside` in the given image's pixels, as :meth:`in_image` does."""
        if (self.page is None and not self.rotation) or not self.set_aside:
            return self.set_aside
        boxes = self.boxes_in_image([s.box for s in self.set_aside])
        return tuple(replace(s, box=b) for s, b in zip(self.set_aside, boxes, strict=True))

    def boxes_in_image(self, boxes: Sequence[Box]) -> list[Box]:
        """Carry boxes of :attr:`image` (turned, flattened) back onto the given image."""
        boxes = list(boxes)
        if self.rotation and self.image is not None:
            boxes = unturn_boxes(boxes, self.rotation // 90, self.image.shape)
        if self.page is not None:
            from ..stages import boxes_in_photo

            boxes = boxes_in_photo(boxes, self.page)
        return boxes


def keep_set_aside(reading: Reading, keep: Sequence[int], model: keras.Model) -> Reading:
    """Undo the judge for some boxes it set aside: read them as digits with the rest.

    The user's answer to the judge (as marking a box "not a digit" is the other way):
    the boxes ``reading.set_aside[i]`` for ``i`` in ``keep`` are cut, read with ``model``
    and put among the digits in reading order; every other digit keeps its reading.

    Parameters
    ----------
    reading : Reading
        A reading with a model (``sheet`` is not None).
    keep : sequence of int
        Indices into ``reading.set_aside``.
    model : keras.Model
        The model that read ``reading``.

    Returns
    -------
    Reading
        With the kept boxes among the digits and no longer in ``set_aside``.

    Raises
    ------
    ValueError
        If ``reading`` has no sheet, or an index is out of range.
    """
    keep = sorted(set(int(i) for i in keep))
    if reading.sheet is None:
        raise ValueError("only a reading made with a model has boxes set aside to keep")
    if any(not 0 <= i < len(reading.set_aside) for i in keep):
        raise ValueError(f"keep must index the {len(reading.set_aside)} boxes set aside")
    if not keep:
        return reading
    from ..stages import number_indices, reading_order_indices
    from .pipeline import with_boxes

    result = reading.result
    extra = with_boxes(result, [reading.set_aside[i].box for i in keep])
    added = sheet_from_proba(predict_proba(model, extra.digits), extra.boxes, [0] * len(keep))
    boxes = [*result.boxes, *extra.boxes]
    rois = [*result.rois, *extra.rois]
    digits = np.concatenate([result.digits, extra.digits])
    readings = [*reading.sheet.digits, *added.digits]
    order, lines = reading_order_indices(boxes)
    ordered = [boxes[i] for i in order]
    new = with_boxes(result, ordered, lines, cut=([rois[i] for i in order], digits[order]))
    numbers = number_indices(ordered, lines)
    sheet = SheetReading(
        tuple(
            replace(readings[i], line=line, number=number)
            for i, line, number in zip(order, lines, numbers, strict=True)
        ),
        dict(reading.sheet.timings_ms),
    )
    left = tuple(s for i, s in enumerate(reading.set_aside) if i not in keep)
    return replace(reading, result=new, sheet=sheet, set_aside=left)


def read_sheet(  # Long: 50 of its 80 lines are the numpydoc docstring
    image: Image,
    params: PipelineParams | None = None,
    *,
    model: keras.Model | None = None,
    auto: bool = False,
    prepared: Prepared | None = None,
    page: object = "auto",
    judge: JudgeParams = DEFAULT_JUDGE,
    orient: bool = False,
) -> Reading:
    """Read a sheet: flatten its page, fit (optionally), prepare, segment, cut, classify.

    The one reading path: the app, ``read`` and ``bench`` all call it.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
        RGB(A) or grey.
    params : PipelineParams, optional
        The parameters, or with ``auto`` the base of the fit (it keeps the ones it does not
        set, :data:`~digit_pipeline.autofit.FITTED_PARAMS`). Defaults if omitted.
    model : keras.Model, optional
        Fits the contract of :mod:`digit_pipeline.model`; without one the digits are cut
        but not read (``sheet`` is None), as the app does before Predict.
    auto : bool
        Fit the parameters to the image first (:func:`~digit_pipeline.autofit.auto_fit`).
    prepared : Prepared, optional
        ``image`` already prepared; reused when it :meth:`~Prepared.fits` the parameters
        used, which skips the slowest step on a large working copy. Pass ``page=None``
        with it: a prepared image is one whose page is already flattened (or not).
    page : "auto", None or array-like of shape (4, 2)
        ``"auto"``: with ``params.flatten_page`` (the default), a photo of a whole sheet
        on a darker desk is warped flat first (:func:`~digit_pipeline.stages.page_corners`,
        :func:`~digit_pipeline.stages.flatten_page`); a scan or a crop is read as it is.
        ``None``: read the image as it is. Four corners: flatten the page they enclose.
    judge : JudgeParams, optional
        The judge's thresholds, and its rules and steps switched off
        (:class:`~digit_pipeline.reading.judge.params.JudgeParams`).
    orient : bool
        With a model: when the digits read say the sheet is turned, read it turned that
        way too, with the parameters chosen for the image as it is, and keep the turn if
        that reading bears it out (:func:`orient_reading`); ``rotation`` says which.

    Returns
    -------
    Reading

    Examples
    --------
    >>> import numpy as np, cv2
    >>> page = np.full((120, 240), 235, np.uint8)
    >>> _ = cv2.line(page, (40, 30), (40, 90), 30, 6)
    >>> _ = cv2.circle(page, (160, 60), 28, 30, 6)
    >>> reading = read_sheet(page)
    >>> len(reading.result.boxes), reading.sheet is None, reading.fitted
    (2, True, False)
    """
    params = params or PipelineParams()
    if not params.split_touching:  # the switch covers the judge's cuts too
        judge = judge.replace(off=judge.off | {"pieces", "column"})
    timings: dict[str, float] = {}
    stats = None
    if isinstance(page, str) and page == "auto" and not params.flatten_page:
        page = None
    image, corners = _flattened(image, page, timings)
    if auto:
        start = time.perf_counter()
        fit = fit_sheet(image, base=params, model=model, judge=judge)
        timings["fit"] = (time.perf_counter() - start) * 1000
        params, stats = fit.params, fit.stats
        prepared = fit.prepared if fit.prepared is not None else prepared
        if fit.reading is not None:  # the fit read the image already, to judge its choice
            reading = replace(
                fit.reading, stats=stats, fitted=True, timings_ms=timings, page=corners, image=image
            )
            return orient_reading(reading, model, judge) if orient else reading
    start = time.perf_counter()
    if prepared is None or not prepared.fits(params):
        prepared = prepare(image, params)
    timings["prepare"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    result = segment(prepared, params)
    timings["segment"] = (time.perf_counter() - start) * 1000
    sheet = None
    if model is not None:
        start = time.perf_counter()
        result, shaped = drop_shapes(result, judge)  # rules and edges: never cut, never read
        _ = result.digits  # cut on first access
        timings["cut"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        judged = judge_reading(result, model, params=judge)
        timings["predict"] = (time.perf_counter() - start) * 1000
        result, set_aside = judged.result, shaped + judged.set_aside
        sheet = sheet_from_proba(judged.proba, result.boxes, result.lines, timings, judged.pairs)
    else:
        set_aside = ()
    reading = Reading(params, result, sheet, stats, auto, timings, set_aside, corners, image)
    return orient_reading(reading, model, judge) if orient and model is not None else reading


def orient_reading(
    reading: Reading, model: keras.Model, judge: JudgeParams = DEFAULT_JUDGE
) -> Reading:
    """Return ``reading``, or its image read turned when its digits say it is turned.

    What ``read_sheet(orient=True)`` does after reading: the judge's orientation model
    weighs the digits cut (:func:`~.orientation.orientation_evidence`); when they say a
    turn, the image read (:attr:`Reading.image`) is read turned that way with the same
    parameters, and :func:`~.orientation.choose_turn` keeps the turn or not. A kept
    turn's reading comes back with ``rotation`` set; ``timings_ms["orient"]`` is set
    whenever a turn was read.

    Parameters
    ----------
    reading : Reading
        Read with a model (``sheet`` is not None), not turned yet.
    model : keras.Model
    judge : JudgeParams, optional
    """
    from ..stages import to_gray

    start = time.perf_counter()
    turned: dict[int, Reading] = {}

    def read_turned(turns: int) -> Any:
        # the reading starts from grey: turning grey is a third of the pixels to turn
        image = turn_image(to_gray(reading.image), turns)
        turned[turns] = read_sheet(image, reading.params, model=model, page=None, judge=judge)
        return verdict_of(turned[turns], judge)

    evidence = orientation_evidence(load_orientation(), reading.result.digits)
    choice = choose_turn(verdict_of(reading, judge), evidence, read_turned, judge)
    if len(choice.tried) == 1:
        return reading  # the digits say upright: nothing read again
    spent = {"orient": (time.perf_counter() - start) * 1000}
    best = turned[choice.turns] if choice.turns else reading
    return replace(
        best,
        image=turn_image(reading.image, choice.turns),
        sheet=replace(best.sheet, timings_ms={**best.sheet.timings_ms, **spent}),
        stats=reading.stats,
        fitted=reading.fitted,
        timings_ms={**reading.timings_ms, **spent},
        page=reading.page,
        rotation=90 * choice.turns,
    )


def fit_sheet(
    image: Image,
    base: PipelineParams | None = None,
    model: keras.Model | None = None,
    judge: JudgeParams = DEFAULT_JUDGE,
) -> AutoFit:
    """Fit the parameters to ``image`` as ``read`` does: the fit proposes, the reading judges.

    Without a model, the estimate from the ink (:func:`~.autofit.estimate_fit`). With one,
    each of :func:`~.autofit.candidates` (the estimate, the plain ``base``) is read and the
    reading with the higher :func:`~.judge.reading_score` (sure digits, nothing set aside)
    wins; its reading is kept in the result, so nothing need read the image again. The pair
    step (when on) reads only the winner: a pair read whole must not make a working copy
    that merges digits look as good as one that parts them (``bench --full-page``).

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
        The image read (a page already flattened, or none to flatten).
    base : PipelineParams, optional
        The user's switches and ROI threshold (:func:`~.autofit.fit_base`).
    model : keras.Model, optional
        Fits the contract of :mod:`digit_pipeline.model`.
    judge : JudgeParams, optional
        The judge of the chosen reading (and, less its pair step, of each candidate's).

    Returns
    -------
    AutoFit
        With a model, ``reading`` holds the chosen reading.
    """
    fit = estimate_fit(image, base)
    if model is None:
        return replace(fit, measured=None)
    scoring = judge.replace(off=judge.off | {"pairs"})  # pairs: after the fit, not in it
    best = None
    for params, ready in candidates(fit, base):
        reading = read_sheet(image, params, model=model, prepared=ready, page=None, judge=scoring)
        score = verdict_of(reading, scoring).score  # reading_score of its margins
        if best is None or score > best[0]:
            best = (score, reading)
    reading = best[1]
    if scoring != judge and may_ask(
        reading.sheet.digits, reading.set_aside, judge, reading.result.rois
    ):
        ready, params = reading.result.prepared, reading.params  # read again with pairs
        reading = read_sheet(image, params, model=model, prepared=ready, page=None, judge=judge)
    return AutoFit(reading.params, fit.stats, reading.result.prepared, reading)


def _flattened(image: Image, page: object, timings: dict[str, float]) -> tuple[Image, Any]:
    """Return the image to read and the page's corners (None: read as it is); see read_sheet."""
    from ..stages import flatten_page, order_corners, page_corners

    if page is None:
        return image, None
    start = time.perf_counter()
    if isinstance(page, str):
        if page != "auto":
            raise ValueError(f"page must be 'auto', None or four corners, got {page!r}")
        corners = page_corners(image)
    else:
        corners = order_corners(page)
    if corners is not None:
        image = flatten_page(image, corners)
    timings["page"] = (time.perf_counter() - start) * 1000
    return image, corners
