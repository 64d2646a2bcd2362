"""One call that runs every stage and keeps every intermediate for the UI.

:func:`~digit_pipeline.reading.prepared.prepare` (in :mod:`.prepared`) does the work that
depends only on the image and the three settings in
:data:`~digit_pipeline.reading.prepared.PREPARE_FIELDS` (grey conversion, the working copy,
line removal, inversion) and :func:`segment` the slider-dependent rest, so an app can cache
the first and rerun only the second when a slider moves. :func:`run_pipeline` does both.
:func:`digit_pipeline.reading.read_sheet` is the one reading path built on these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from operator import attrgetter

from ..aliases import Box, DigitBatch, GrayImage, Image
from ..stages import (
    MIN_INK_CONTRAST,
    blur_image,
    dilate_image,
    edges_canny,
    extract_roi_black_white,
    find_contours_and_boxes,
    ink_box,
    join_fragments,
    merge_overlapping,
    open_enclosures,
    reading_order_indices,
    resize_rois,
    scale_boxes,
    shade_outside,
    split_wide_boxes,
)
from .params import PipelineParams
from .prepared import PREPARE_FIELDS, Prepared, prepare

MAX_BOXES = 1000
"""At most this many boxes (the largest) are kept; a page of noise yields thousands. A full
page of small figures holds 350-460 digits (``bench --full-page``): a cap of 300 dropped
the rest without a word, its narrow 1s first."""

ROI_SIDE = 112
"""ROIs are cut at most this many pixels on their longer side (4x MNIST's 28)."""


@dataclass(frozen=True)
class PipelineResult:
    """Every stage's output for one image.

    Attributes
    ----------
    prepared : Prepared
        Grey original, working copy (``scale`` = working / original) and cleaned copy.
    blurred, edges, dilated : ndarray of shape (h, w), uint8
        Stage outputs on the working copy.
    boxes : list of (x, y, w, h)
        In original-image pixels, reading order.
    lines : list of int
        Line index of each box (0 = top line).
    rois : list of ndarray, uint8
        White-on-black ink of each box, at most :data:`ROI_SIDE` px on its longer side.
        Cut on first access (:func:`cut_digits`), so a slider move that only redraws the
        boxes never pays for it.
    digits : ndarray of shape (N, 28, 28), uint8
        MNIST-style digits, one per box; cut with ``rois``.
    params : PipelineParams
        The parameters used.
    dropped : int
        Boxes left out because there were more than :data:`MAX_BOXES`.
    """

    prepared: Prepared
    blurred: GrayImage
    edges: GrayImage
    dilated: GrayImage
    boxes: list[Box]
    lines: list[int]
    params: PipelineParams
    dropped: int = 0

    @cached_property
    def _cut(self) -> tuple[list[GrayImage], DigitBatch]:
        return cut_digits(self.prepared, self.boxes, self.params)

    @property
    def rois(self) -> list[GrayImage]:
        """White-on-black ink of each box (cut on first access)."""
        return self._cut[0]

    @property
    def digits(self) -> DigitBatch:
        """MNIST-style 28×28 digits, one per box (cut on first access)."""
        return self._cut[1]

    @property
    def gray(self) -> GrayImage:
        """The grey original."""
        return self.prepared.gray


@dataclass(frozen=True)
class Segmentation:
    """The slider-dependent stages up to the boxes (what a slider move redraws)."""

    blurred: GrayImage
    edges: GrayImage
    dilated: GrayImage
    boxes: list[Box]
    lines: list[int]
    dropped: int = 0
    """Boxes left out because there were more than :data:`MAX_BOXES`."""


def find_boxes(prepared: Prepared, params: PipelineParams | None = None) -> Segmentation:
    """Blur, edges, dilation and boxes on the working copy; boxes mapped to the original.

    Each box found on the dilated edges is shrunk to the ink inside it (plus one working
    pixel), so boxes fit the digits rather than their dilated outline; boxes without ink
    (paper and "ink" closer than :data:`~digit_pipeline.stages.MIN_INK_CONTRAST` grey
    levels) are dropped, and fragments overlapping a digit's box are merged into it
    (:func:`~digit_pipeline.stages.merge_overlapping`).

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    params : PipelineParams, optional
        Defaults if omitted.

    Returns
    -------
    Segmentation
        Boxes in original-image pixels, in reading order, with their line index.
    """
    params = params or PipelineParams()
    blurred = blur_image(prepared.cleaned, params.blur_size)
    edges = edges_canny(blurred, params.canny_lower, params.canny_multiplier, params.canny_aperture)
    edges[prepared.surround > 0] = 0  # the desk around the sheet and the page's edge
    dilated = dilate_image(edges, params.dilate_size, params.dilate_iterations)
    raw = find_contours_and_boxes(dilated, params.min_box_area)
    dropped = max(0, len(raw) - MAX_BOXES)
    if dropped:
        raw = sorted(raw, key=lambda b: b[2] * b[3], reverse=True)[:MAX_BOXES]
    work_boxes = refine_boxes(
        prepared.cleaned,
        raw,
        join=params.join_fragments,
        split=params.split_touching,
        min_contrast=prepared.ink_floor,
    )
    boxes = scale_boxes(work_boxes, prepared.scales, prepared.shape)
    order, lines = reading_order_indices(boxes)
    return Segmentation(blurred, edges, dilated, [boxes[i] for i in order], lines, dropped)


def refine_boxes(
    gray: GrayImage,
    boxes: list[Box],
    *,
    join: bool = True,
    split: bool = True,
    min_contrast: int = MIN_INK_CONTRAST,
) -> list[Box]:
    """Fit raw contour boxes to the digits they hold.

    Each box is shrunk to its ink plus one pixel (inkless boxes go), a shape drawn around
    digits gives way to the digits inside it
    (:func:`~digit_pipeline.stages.open_enclosures`), overlapping boxes merge, pieces of
    one digit are joined (``join``) and boxes of touching digits are split (``split``).

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        The image the boxes are in (the cleaned working copy).
    boxes : list of (x, y, w, h)
    join, split : bool
        Run :func:`~digit_pipeline.stages.join_fragments` /
        :func:`~digit_pipeline.stages.split_wide_boxes`.
    min_contrast : int
        Boxes whose ink is fainter hold none (:attr:`~.prepared.Prepared.ink_floor`).

    Returns
    -------
    list of (x, y, w, h)
    """

    def tight(found: list[Box]) -> list[Box]:
        return [b for b in (ink_box(gray, b, 1, min_contrast) for b in found) if b is not None]

    refined = merge_overlapping(open_enclosures(gray, tight(boxes)))
    if join:
        refined = merge_overlapping(join_fragments(refined))
    if split:
        refined = tight(split_wide_boxes(gray, refined))
    return refined


def cut_digits(
    prepared: Prepared, boxes: list[Box], params: PipelineParams | None = None
) -> tuple[list[GrayImage], DigitBatch]:
    """Cut each box from the original as black/white ink and make MNIST-style digits.

    Returns
    -------
    rois : list of ndarray, uint8
        White ink on black, at most :data:`ROI_SIDE` px on the longer side.
    digits : ndarray of shape (N, 28, 28), uint8
    """
    params = params or PipelineParams()
    rois = extract_roi_black_white(
        prepared.gray,
        boxes,
        params.roi_threshold,
        remove_lines=params.remove_lines,
        max_side=ROI_SIDE,
        min_contrast=prepared.ink_floor,
    )
    return rois, resize_rois(rois)


def with_boxes(
    result: PipelineResult,
    boxes: list[Box],
    lines: list[int] | None = None,
    cut: tuple[list[GrayImage], DigitBatch] | None = None,
) -> PipelineResult:
    """Return ``result`` with other boxes, in the given order; their digits cut on access.

    Parameters
    ----------
    result : PipelineResult
    boxes : list of (x, y, w, h)
        Original-image pixels.
    lines : list of int, optional
        Line index of each box; all 0 if omitted.
    cut : (rois, digits), optional
        The boxes' ROIs and digits when they are already cut (a subset of ``result``'s).

    Returns
    -------
    PipelineResult
    """
    boxes = [tuple(int(v) for v in box) for box in boxes]
    lines = list(lines) if lines is not None else [0] * len(boxes)
    new = replace(result, boxes=boxes, lines=lines)
    if cut is not None:
        new.__dict__["_cut"] = cut  # seeds the cached_property: nothing is cut again
    return new


def segment(prepared: Prepared, params: PipelineParams | None = None) -> PipelineResult:
    """Run every slider-dependent stage on a prepared image.

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`, with the same :data:`PREPARE_FIELDS` as ``params``.
    params : PipelineParams, optional
        Defaults if omitted.

    Returns
    -------
    PipelineResult
        No digit on the page gives empty ``boxes`` and a ``(0, 28, 28)`` ``digits``.

    Raises
    ------
    ValueError
        If ``prepared`` was prepared with other :data:`PREPARE_FIELDS` than ``params``.
    """
    params = params or PipelineParams()
    if not prepared.fits(params):
        raise ValueError(
            f"prepared was made with {_prepare_dict(prepared.params)}, "
            f"params ask for {_prepare_dict(params)}"
        )
    found = find_boxes(prepared, params)
    return PipelineResult(
        prepared=prepared,
        blurred=found.blurred,
        edges=found.edges,
        dilated=found.dilated,
        boxes=found.boxes,
        lines=found.lines,
        params=params,
        dropped=found.dropped,
    )


def run_pipeline(image: Image, params: PipelineParams | None = None) -> PipelineResult:
    """Run every stage on ``image`` and return every intermediate.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
        RGB(A) or grey; dark handwriting on light paper.
    params : PipelineParams, optional
        Defaults if omitted.

    Returns
    -------
    PipelineResult

    Examples
    --------
    >>> import numpy as np, cv2
    >>> page = np.full((120, 240), 235, np.uint8)
    >>> _ = cv2.line(page, (40, 30), (40, 90), 30, 6)       # a "1"
    >>> _ = cv2.circle(page, (160, 60), 28, 30, 6)          # a "0"
    >>> result = run_pipeline(page)
    >>> len(result.boxes), result.digits.shape, result.lines
    (2, (2, 28, 28), [0, 0])
    """
    params = params or PipelineParams()
    return segment(prepare(image, params), params)


def _prepare_dict(params: PipelineParams) -> dict[str, object]:
    return {name: getattr(params, name) for name in PREPARE_FIELDS}


STAGE_DEPENDS = {
    "prepare": PREPARE_FIELDS,
    "blur": (*PREPARE_FIELDS, "blur_size"),
    "segment": None,
}
"""What a stage view changes with: the :class:`PipelineParams` fields (None: every one)."""


@dataclass(frozen=True)
class StageView:
    """One stage's preview: its title, its picture from a result, what it changes with.

    Attributes
    ----------
    title : str
        The caption an app shows under it.
    picture : callable
        From a :class:`PipelineResult` to the image shown, ndarray of shape (h, w) or
        (h, w, 3), uint8 (on the working copy).
    depends : {"prepare", "blur", "segment"}
        ``"prepare"``: the same for every slider move (only :data:`PREPARE_FIELDS`);
        ``"blur"``: those and the blur; ``"segment"``: any parameter
        (:data:`STAGE_DEPENDS`).
    """

    title: str
    picture: Callable[[PipelineResult], Image]
    depends: str

    def __post_init__(self) -> None:
        """Check ``depends``."""
        if self.depends not in STAGE_DEPENDS:
            raise ValueError(f"depends must be one of {tuple(STAGE_DEPENDS)}, got {self.depends!r}")

    def key(self, params: PipelineParams) -> tuple[object, ...]:
        """Return the values of the parameters the view changes with.

        For one image, equal keys give equal pictures, so an app can draw a view once per
        key and share it between slider moves.

        Examples
        --------
        >>> blurred = next(v for v in STAGE_VIEWS if v.title == "Blurred")
        >>> blurred.key(PipelineParams(blur_size=7)) == blurred.key(
        ...     PipelineParams(blur_size=7, canny_lower=60)
        ... )
        True
        """
        names = STAGE_DEPENDS[self.depends]
        if names is None:
            return tuple(params.to_dict().values())
        return tuple(getattr(params, name) for name in names)


def _page_found(result: PipelineResult) -> Image:
    return shade_outside(result.prepared.work, result.prepared.surround)


STAGE_VIEWS = (
    StageView("Grey, lighting evened (working copy)", attrgetter("prepared.work"), "prepare"),
    StageView("Page found (the desk around it shaded)", _page_found, "prepare"),
    StageView("Lines removed", attrgetter("prepared.cleaned"), "prepare"),
    StageView("Blurred", attrgetter("blurred"), "blur"),
    StageView("Edges", attrgetter("edges"), "segment"),
    StageView("Dilated", attrgetter("dilated"), "segment"),
)
"""The stages an app previews, in order: every one a view of one :class:`PipelineResult`.

A new stage shown is one entry here. The picture with the boxes drawn is the app's own.

Examples
--------
>>> import numpy as np
>>> result = run_pipeline(np.full((60, 80), 230, np.uint8))
>>> [view.picture(result).shape for view in STAGE_VIEWS][:2]
[(60, 80), (60, 80, 3)]
"""
