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

from .aliases import Box, DigitBatch, Image
from .model import predict_proba
from .params import PipelineParams
from .pipeline import PipelineResult, Prepared, prepare, segment

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from .autofit import SheetStats
    from .judge import SetAside

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
    """

    box: Box
    label: int
    confidence: float
    top2: tuple[tuple[int, float], tuple[int, float]]
    line: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict in the CLI's schema."""
        return {
            "box": list(self.box),
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "top2": [[d, round(p, 6)] for d, p in self.top2],
            "line": self.line,
        }


@dataclass(frozen=True)
class SheetReading:
    """Every digit of a sheet, in reading order."""

    digits: tuple[DigitReading, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        r"""The digits as text, one line per written line (``"462\n119\n753"``)."""
        return lines_text([d.label for d in self.digits], [d.line for d in self.digits])


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


def lines_text(labels: list[int], lines: list[int], sep: str = "\n") -> str:
    """Join digit labels into text, ``sep`` between written lines.

    Examples
    --------
    >>> lines_text([4, 6, 2, 1, 1], [0, 0, 0, 1, 1], " / ")
    '462 / 11'
    """
    rows: dict[int, str] = {}
    for label, line in zip(labels, lines, strict=True):
        rows[line] = rows.get(line, "") + str(label)
    return sep.join(rows[k] for k in sorted(rows))


def sheet_from_proba(
    proba: np.ndarray,
    boxes: Sequence[Box],
    lines: Sequence[int],
    timings_ms: dict[str, float] | None = None,
) -> SheetReading:
    """Turn class probabilities ``(N, 10)`` of boxes into a :class:`SheetReading`."""
    digits = []
    for box, line, p in zip(boxes, lines, proba, strict=True):
        first, second = np.argsort(p)[::-1][:2]
        digits.append(
            DigitReading(
                box=tuple(int(v) for v in box),
                label=int(first),
                confidence=float(p[first]),
                top2=((int(first), float(p[first])), (int(second), float(p[second]))),
                line=int(line),
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
        The image the boxes belong to: the flattened page, or the given image itself.
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

        A flattened page's boxes are carried back onto the photo
        (:func:`~digit_pipeline.stages.boxes_in_photo`: the upright box around each);
        without a page the sheet is returned as it is.
        """
        if self.sheet is None or self.page is None:
            return self.sheet
        from .stages import boxes_in_photo

        boxes = boxes_in_photo([d.box for d in self.sheet.digits], self.page)
        digits = tuple(replace(d, box=b) for d, b in zip(self.sheet.digits, boxes, strict=True))
        return SheetReading(digits, dict(self.sheet.timings_ms))

    def set_aside_in_image(self) -> tuple[SetAside, ...]:
        """Return :attr:`set_aside` in the given image's pixels, as :meth:`in_image` does."""
        if self.page is None or not self.set_aside:
            return self.set_aside
        from .stages import boxes_in_photo

        boxes = boxes_in_photo([s.box for s in self.set_aside], self.page)
        return tuple(replace(s, box=b) for s, b in zip(self.set_aside, boxes, strict=True))


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
    from .pipeline import with_boxes
    from .stages import reading_order_indices

    result = reading.result
    extra = with_boxes(result, [reading.set_aside[i].box for i in keep])
    added = sheet_from_proba(predict_proba(model, extra.digits), extra.boxes, [0] * len(keep))
    boxes = [*result.boxes, *extra.boxes]
    rois = [*result.rois, *extra.rois]
    digits = np.concatenate([result.digits, extra.digits])
    readings = [*reading.sheet.digits, *added.digits]
    order, lines = reading_order_indices(boxes)
    new = with_boxes(
        result,
        [boxes[i] for i in order],
        lines,
        cut=([rois[i] for i in order], digits[order]),
    )
    sheet = SheetReading(
        tuple(replace(readings[i], line=line) for i, line in zip(order, lines, strict=True)),
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
    timings: dict[str, float] = {}
    stats = None
    if isinstance(page, str) and page == "auto" and not params.flatten_page:
        page = None
    image, corners = _flattened(image, page, timings)
    if auto:
        from .autofit import auto_fit  # the fit needs the pipeline: imported when used

        start = time.perf_counter()
        fit = auto_fit(image, base=params, model=model)
        timings["fit"] = (time.perf_counter() - start) * 1000
        params, stats = fit.params, fit.stats
        prepared = fit.prepared if fit.prepared is not None else prepared
        if fit.reading is not None:  # the fit read the image already, to judge its choice
            return replace(
                fit.reading, stats=stats, fitted=True, timings_ms=timings, page=corners, image=image
            )
    start = time.perf_counter()
    if prepared is None or not prepared.fits(params):
        prepared = prepare(image, params)
    timings["prepare"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    result = segment(prepared, params)
    timings["segment"] = (time.perf_counter() - start) * 1000
    sheet = None
    if model is not None:
        from .judge import drop_shapes, judge_reading

        start = time.perf_counter()
        result, shaped = drop_shapes(result)  # rules and edges: never cut, never read
        _ = result.digits  # cut on first access
        timings["cut"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        judged = judge_reading(result, model)
        timings["predict"] = (time.perf_counter() - start) * 1000
        result, set_aside = judged.result, shaped + judged.set_aside
        sheet = sheet_from_proba(judged.proba, result.boxes, result.lines, timings)
    else:
        set_aside = ()
    return Reading(params, result, sheet, stats, auto, timings, set_aside, corners, image)


def _flattened(image: Image, page: object, timings: dict[str, float]) -> tuple[Image, Any]:
    """Return the image to read and the page's corners (None: read as it is); see read_sheet."""
    from .stages import flatten_page, order_corners, page_corners

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
