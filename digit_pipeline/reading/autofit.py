"""Pick every stage parameter for the image at hand, from its ink.

The fit measures the sheet on a small copy — how tall a typical digit is, how thick its
strokes are, how strongly ink stands out from paper — and derives the knobs from those:
the working size puts a typical digit at about :data:`TARGET_HEIGHT` pixels, the blur
follows the stroke width, the Canny thresholds sit between the paper's noise and the
strokes' edges, and the minimum box area drops specks far smaller than a digit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..aliases import GrayImage, Image
from ..stages import MIN_DARKNESS, blur_image, ink_mask, page_surround, stroke_width, to_gray
from .params import PARAM_SPECS, PipelineParams
from .prepared import Prepared, prepare, prepare_key

if TYPE_CHECKING:  # pragma: no cover
    from .sheet import Reading

TARGET_HEIGHT = 48
"""Working-copy height, in pixels, that the fit gives a typical digit."""

MIN_STROKE = 2.5
"""Strokes are kept at least this many working-copy pixels thick."""

DARK_PAPER = 100
"""A sheet whose median grey level is below this is dark paper with light ink."""

MIN_HEIGHT = 8
"""On the measuring copy, blobs lower than this are specks, not digits."""

FITTED_PARAMS = (
    "invert",
    "work_size",
    "blur_size",
    "canny_lower",
    "canny_multiplier",
    "canny_aperture",
    "dilate_size",
    "dilate_iterations",
    "min_box_area",
)
"""The :class:`~digit_pipeline.params.PipelineParams` fields :func:`auto_fit` sets; the
others (ROI threshold, line removal, joining, splitting) come from its ``base``."""


def fit_base(params: PipelineParams | None = None) -> PipelineParams:
    """Return what a fit starts from: the defaults, with ``params``' fields the fit keeps.

    The fit is a function of the image and of the user's choices it does not make itself
    (the switches, the ROI threshold), never of the values ``params`` holds for the fields
    it sets: those are the last image's fit when the app fits a new image.

    Examples
    --------
    >>> fit_base(PipelineParams(canny_lower=99, remove_lines=False)) == PipelineParams(
    ...     remove_lines=False
    ... )
    True
    """
    params = params or PipelineParams()
    kept = {name: value for name, value in params.to_dict().items() if name not in FITTED_PARAMS}
    return PipelineParams(**kept)


MEASURE_SIZE = 1200
"""Longer side of the copy the sheet is measured on."""


@dataclass(frozen=True)
class SheetStats:
    """What the fit measured, in original-image pixels.

    Attributes
    ----------
    digit_height : float
        Height of a typical digit.
    stroke_width : float
        Typical stroke thickness.
    contrast : float
        Median grey-level difference between ink and the paper around it.
    blobs : int
        Ink blobs big enough to be (part of) a digit.
    """

    digit_height: float
    stroke_width: float
    contrast: float
    blobs: int


@dataclass(frozen=True)
class AutoFit:
    """The fitted parameters and what they were fitted from (``stats`` None: no ink).

    ``prepared`` is the image prepared with the fitted working size, line removal and
    inversion (the fit needs it itself), ready for
    :func:`~digit_pipeline.pipeline.segment`, so a reader need not prepare it again
    (without ink: the copy the ink was sought on, if the parameters prepare it alike).
    """

    params: PipelineParams
    stats: SheetStats | None
    prepared: Prepared | None = None
    reading: Reading | None = None
    """With a model: the chosen candidate's reading (the fit read it to judge it)."""
    measured: Prepared | None = None
    """The copy the ink was measured on, for :func:`candidates`; :func:`fit_sheet` drops it."""


def auto_fit(image: Image, base: PipelineParams | None = None) -> AutoFit:
    """Fit every stage parameter to ``image`` from its ink (:func:`estimate_fit`).

    The fit ``read`` and the app make also lets the reading judge this estimate against
    the plain ``base``: :func:`~digit_pipeline.reading.fit_sheet`, which reads the
    :func:`candidates` proposed here (the fit proposes, the reader scores).

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
    base : PipelineParams, optional
        Parameters the fit does not set (ROI threshold, the switches) come from here;
        its values of the fields the fit sets are not used (:func:`fit_base`).

    Returns
    -------
    AutoFit
        On a page without ink the parameters are ``base`` and ``stats`` is None.

    Examples
    --------
    >>> import numpy as np, cv2
    >>> page = np.full((600, 800), 230, np.uint8)
    >>> for k in range(4):
    ...     _ = cv2.ellipse(page, (150 + 150 * k, 300), (40, 60), 0, 0, 360, 40, 12)
    >>> fit = auto_fit(page)
    >>> round(fit.stats.digit_height), round(fit.stats.stroke_width)
    (135, 12)
    """
    return estimate_fit(image, base)


def candidates(fit: AutoFit, base: PipelineParams | None = None) -> list[tuple]:
    """Return the settings a reader should try: the estimate, then the plain ``base``.

    Each is ``(params, prepared or None)``; the base only where it differs from the
    estimate, with the estimate's prepared image where it would be prepared alike. A
    measurement that misjudges a sheet then cannot read it worse than the defaults would
    have, as far as the classifier can tell.

    Examples
    --------
    >>> fit = AutoFit(PipelineParams(canny_lower=50), None)
    >>> [params.canny_lower for params, _ in candidates(fit)]
    [50, 30]
    """
    base = fit_base(base)
    proposed = [(fit.params, fit.prepared)]
    if fit.params != base:
        ready = fit.prepared if fit.prepared is not None and fit.prepared.fits(base) else None
        if ready is None and fit.measured is not None:
            ready = _as_measured(fit.measured, base, fit.params.invert)
        proposed.append((base, None if ready is None else replace(ready, params=base)))
    return proposed


def estimate_fit(image: Image, base: PipelineParams | None = None) -> AutoFit:
    """Fit every stage parameter to ``image`` from its ink's measurements alone.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
    base : PipelineParams, optional
        Parameters the fit does not set; its other values are not used (:func:`fit_base`).

    Returns
    -------
    AutoFit
    """
    base = fit_base(base)
    upright = gray = to_gray(image)
    invert = is_dark_paper(gray)
    if invert:
        gray = cv2.bitwise_not(gray)
    stats, measured = _measured(gray)
    if stats is None:
        params = base.replace(invert=invert)
        return AutoFit(params, None, _as_measured(measured, params, invert), measured=measured)
    longest = max(gray.shape)
    scale = max(TARGET_HEIGHT / stats.digit_height, MIN_STROKE / stats.stroke_width)
    work_size = _clamp_to_spec("work_size", min(longest, round(longest * scale)))
    work_scale = min(1.0, work_size / longest)
    height = stats.digit_height * work_scale
    stroke = stats.stroke_width * work_scale
    blur = 3 if stroke < 4 else 5 if stroke < 8 else 7
    wanted = base.replace(invert=invert, work_size=work_size)
    ready = _as_measured(measured, wanted, invert) or prepare(upright, wanted)
    lower, multiplier = _canny_thresholds(ready.cleaned, blur, ready.surround)
    params = ready.params.replace(
        blur_size=blur,
        canny_lower=lower,
        canny_multiplier=multiplier,
        canny_aperture=3,
        dilate_size=3,
        dilate_iterations=1 if height < 64 else 2,
        min_box_area=_clamp_to_spec("min_box_area", round((0.15 * height) ** 2)),
    )
    return AutoFit(params, stats, ready, measured=measured)


def _as_measured(measured: Prepared, params: PipelineParams, invert: bool) -> Prepared | None:
    """Return the copy the ink was measured on if ``params`` prepare it alike, else None.

    It was prepared from the grey image already ``invert``-ed to dark ink on light paper.
    """
    if prepare_key(measured.params.replace(invert=invert)) != prepare_key(params):
        return None
    return replace(measured, params=params)


INK_SHARE = 0.35
""":func:`is_dark_paper`: a grey class (Otsu) holding at most this share of the paper is ink."""

STROKE_EVIDENCE = 8
"""Strokes tell dark ink from light only when the stronger stands out by this many grey
levels: on a nearly blank page (tiny thin strokes the small copy misses) both are JPEG
noise of 3 or 4 levels, and a coin toss between them once called white paper dark."""

STROKE_POLARITY = 1.25
""":func:`is_dark_paper` trusts the strokes' polarity when one side is this much stronger."""

PAPER_WINDOW = 31
""":func:`is_dark_paper`: the paper's level is the median over this many px (of ~300)."""


def is_dark_paper(gray: GrayImage) -> bool:
    """Whether the sheet is light ink on dark paper, judged by the ink, not the exposure.

    On a copy about 300 px long, the paper (without the desk around a photographed sheet,
    :func:`~digit_pipeline.stages.page_surround`) is split in two grey classes (Otsu):
    ink is the minority, so when the darker class holds at most :data:`INK_SHARE` of it
    the ink is dark, and when the lighter class does, the ink is light (the classes at
    least :data:`MIN_DARKNESS` grey levels apart). Otherwise (a
    lighting gradient splits the paper itself) the strokes decide: thin strokes darker
    than the paper around them against thin strokes brighter than it
    (:func:`_stroke_evidence`), when one is :data:`STROKE_POLARITY` times the other (99.5th
    percentiles) and stands out by :data:`STROKE_EVIDENCE`. Only when neither tells (a
    blank sheet, or strokes too thin for the small copy) does the grey level: most
    pixels darker than :data:`DARK_PAPER`. An underexposed photo of white paper is dark
    all over, but its pencil is still the darker minority.

    Examples
    --------
    >>> import numpy as np
    >>> is_dark_paper(np.full((10, 10), 40, np.uint8))
    True
    >>> desk = np.full((300, 300), 70, np.uint8); desk[60:240, 60:240] = 230
    >>> is_dark_paper(desk)                          # mostly desk, but the sheet is light
    False
    >>> dim = np.full((300, 300), 60, np.uint8); dim[60:240, 140:145] = 20
    >>> is_dark_paper(dim), is_dark_paper(255 - dim)  # a dim photo of a pencil "1"; light ink
    (False, True)
    """
    small = gray[:: max(1, gray.shape[0] // 300), :: max(1, gray.shape[1] // 300)]
    surround = page_surround(small)
    paper = surround == 0 if surround.any() else np.ones(small.shape, bool)
    values = small[paper]
    level, _ = cv2.threshold(values.reshape(1, -1), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    darker = values <= level
    dark_share = float(np.mean(darker))
    apart = 0 < dark_share < 1 and values[~darker].mean() - values[darker].mean() >= MIN_DARKNESS
    if apart and (dark_share <= INK_SHARE or dark_share >= 1 - INK_SHARE):
        return dark_share >= 1 - INK_SHARE
    dark, light = _stroke_evidence(small, paper)
    if max(dark, light) >= STROKE_EVIDENCE:
        if light > STROKE_POLARITY * dark:
            return True
        if dark > STROKE_POLARITY * light:
            return False
    return bool(np.median(values) < DARK_PAPER)


def _stroke_evidence(small: GrayImage, paper: np.ndarray) -> tuple[float, float]:
    """Return how far thin strokes stand darker, and lighter, than the paper (see is_dark_paper).

    A stroke stands out from what is around it (a black-hat, or a top-hat, 7 px wide) *and*
    from the paper (the median over :data:`PAPER_WINDOW` px): the paper inside a small ring
    or loop of dark ink stands above the ring as much as a light stroke would, but not
    above the paper; without the second test a sheet of small ringed digits was read as
    light ink on dark paper. Each is the 99.5th percentile over the paper's pixels.
    """
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    level = cv2.medianBlur(small, PAPER_WINDOW)
    below = np.minimum(
        cv2.morphologyEx(small, cv2.MORPH_BLACKHAT, kernel), cv2.subtract(level, small)
    )
    above = np.minimum(
        cv2.morphologyEx(small, cv2.MORPH_TOPHAT, kernel), cv2.subtract(small, level)
    )
    return float(np.percentile(below[paper], 99.5)), float(np.percentile(above[paper], 99.5))


def measure_sheet(gray: GrayImage) -> SheetStats | None:
    """Measure digit height, stroke width and contrast of a sheet, or None if it is blank.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.

    Returns
    -------
    SheetStats or None
    """
    return _measured(gray)[0]


def _measured(gray: GrayImage) -> tuple[SheetStats | None, Prepared]:
    """Return :func:`measure_sheet`'s figures and the copy it measured them on."""
    ready = prepare(gray, PipelineParams(work_size=MEASURE_SIZE, remove_lines=True, invert=False))
    small, scale = ready.cleaned, ready.scale
    contrast, ink = ink_mask(small, ready.surround)  # the desk around the sheet is not ink
    if ink is None:
        return None, ready
    # Join pencil grain and small breaks so a digit is one blob.
    joined = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    _, _, boxes, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    areas, heights = boxes[1:, cv2.CC_STAT_AREA], boxes[1:, cv2.CC_STAT_HEIGHT]
    widths = boxes[1:, cv2.CC_STAT_WIDTH]
    big = (areas >= max(12, small.size * 2e-5)) & (heights >= MIN_HEIGHT)
    # Lines and page borders that survived are much wider than tall: not digits.
    big &= widths <= 3 * heights
    if not big.any():
        return None, ready
    height = _weighted_median(heights[big].astype(np.float64), areas[big].astype(np.float64))
    stroke = stroke_width(ink)
    stats = SheetStats(
        digit_height=height / scale,
        stroke_width=max(1.0, stroke / scale),
        contrast=contrast,
        blobs=int(big.sum()),
    )
    return stats, ready


def _canny_thresholds(work: GrayImage, blur: int, surround: GrayImage) -> tuple[int, float]:
    """Return Canny's lower threshold and multiplier for a working copy.

    The upper threshold is 60 % of the typical gradient on stroke edges, the lower one
    just above the paper's own gradients (its 99th percentile), so faint pencil still
    links up while paper grain stays below.
    """
    blurred = blur_image(work, blur)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
    gradient = np.abs(gx) + np.abs(gy)
    _, ink = ink_mask(blurred, surround)
    if ink is None:
        spec = PipelineParams()
        return spec.canny_lower, spec.canny_multiplier
    kernel = np.ones((3, 3), np.uint8)
    edge = (cv2.dilate(ink, kernel) > cv2.erode(ink, kernel)) & (surround == 0)
    paper = (cv2.dilate(ink, kernel, iterations=4) == 0) & (surround == 0)
    strength = float(np.median(gradient[edge])) if edge.any() else 120.0
    noise = float(np.percentile(gradient[paper], 99)) if paper.any() else 0.0
    upper = max(0.6 * strength, 2.0 * noise, 10.0)
    lower = min(max(1.2 * noise, upper / 3.0, 5.0), upper / 1.5)
    lower = _clamp_to_spec("canny_lower", round(lower))
    multiplier = float(np.clip(round(upper / max(lower, 1) * 10) / 10, 1.5, 5.0))
    return lower, multiplier


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _clamp_to_spec(name: str, value: int) -> int:
    spec = next(s for s in PARAM_SPECS if s.name == name)
    return int(np.clip(value, spec.low, spec.high))
