"""Page-level stages: the whole sheet before any box is found.

Grey conversion, the working copy, the desk around a sheet, uneven lighting and ruled lines.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..aliases import GrayImage, Image
from ..validation import check_image, check_int

STEP_SIZE = 320
"""Longer side of the copy :func:`page_surround` looks for the desk around a sheet on."""

SURROUND_DARKER = 50
"""The desk around a sheet is at least this many grey levels darker than the paper."""

SHARP_STEP = 30
"""Along the page's edge the background jumps at least this much within 3 px (of the
:data:`STEP_SIZE` copy); a shadow's soft edge does not."""

LIGHTING_WINDOW = 10
""":func:`flatten_lighting` fills in ink with a closing 1/this of the image's side wide."""

DIM_PAPER = 120.0
""":func:`flatten_lighting` brings paper darker than this (an underexposed photo) up to it."""

SURROUND_INK = 20
"""Strokes this many grey levels (and a quarter) darker than what is around them are
handwriting: in a dark region at the border they and the paper around them are paper in a
shadow, not desk (:func:`page_surround`)."""


def to_gray(image: Image) -> GrayImage:
    """Convert an RGB, RGBA or grey image to grey.

    Transparent pixels of an RGBA image count as white paper.

    Parameters
    ----------
    image : ndarray of shape (H, W), (H, W, 3) or (H, W, 4), uint8
        RGB(A) channel order.

    Returns
    -------
    ndarray of shape (H, W), uint8
        A new array.

    Examples
    --------
    >>> import numpy as np
    >>> to_gray(np.full((2, 2, 3), 255, np.uint8)).tolist()
    [[255, 255], [255, 255]]
    """
    check_image(image)
    if image.ndim == 2:
        return image.copy()
    if image.shape[2] == 4:
        alpha = image[..., 3:4].astype(np.float32) / 255.0
        rgb = image[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return cv2.cvtColor(np.rint(rgb).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def working_copy(gray: GrayImage, work_size: int) -> tuple[GrayImage, float]:
    """Scale ``gray`` down so that its longer side is at most ``work_size``.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
    work_size : int
        Longest side allowed, >= 16.

    Returns
    -------
    small : ndarray of shape (h, w), uint8
        A new array (a copy even when no scaling is needed).
    scale : float
        ``w / W`` (<= 1): multiply original coordinates by it to get working ones.

    Examples
    --------
    >>> import numpy as np
    >>> small, scale = working_copy(np.zeros((100, 400), np.uint8), 200)
    >>> small.shape, scale
    ((50, 200), 0.5)
    """
    check_image(gray, "gray", allow_color=False)
    work_size = check_int(work_size, "work_size", low=16)
    h, w = gray.shape
    longest = max(h, w)
    if longest <= work_size:
        return gray.copy(), 1.0
    scale = work_size / longest
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return small, size[0] / w


def page_surround(gray: GrayImage) -> GrayImage:
    """Mark what lies around the sheet in a photo: a darker desk or table at the borders.

    A phone photo of a sheet often shows the desk around it. Canny finds the page's edge,
    whose closed outline would hold every digit inside one box, and the desk's grain gives
    boxes of its own. On a copy about :data:`STEP_SIZE` px long whose strokes are filled
    in (a grey closing 1/16 of its side wide), a whole sheet in view is looked for first:
    the copy is cut along its grey steps (:data:`PAGE_STEPS`) and the piece holding the
    well-lit paper is the sheet when it is a quadrilateral it fills, covering 15-90 % of
    the copy, with at least two sides inside it, paper-bright, and a surround at least
    :data:`SURROUND_DARKER` darker (:func:`find_page`); then everything outside it is the
    surround. Failing that (a page cut by the frame), the page's edge is where that
    background jumps by :data:`SHARP_STEP` or more; the surround is every region at least
    :data:`SURROUND_DARKER` grey levels darker than the paper, cut apart along that edge,
    that touches the image border, covers at least 2 % of the image and is bounded mostly
    by the edge, while the paper left inside covers at least a quarter. Gentle lighting
    and soft shadows on the paper stay unmarked. A hard, deep shadow (a hand's or a
    phone's) that meets the border can look like desk, but a desk holds no handwriting:
    strokes of digit size much darker than what is around them (:data:`SURROUND_INK`)
    and the paper around them (1/16 of the copy's side) are left unmarked.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.

    Returns
    -------
    ndarray of shape (H, W), uint8
        255 on the surround and a margin past the page's edge, 0 on the paper.

    Examples
    --------
    >>> import numpy as np
    >>> photo = np.full((300, 400), 80, np.uint8)           # a dark desk...
    >>> photo[50:250, 60:340] = 230                          # ...with a sheet on it
    >>> photo[120:180, 150:156] = 30                         # a "1" on the sheet
    >>> mask = page_surround(photo)
    >>> bool(mask[10, 10]), bool(mask[50, 200]), bool(mask[150, 152]), bool(mask[150, 250])
    (True, True, False, False)
    >>> bool(page_surround(photo[50:250, 60:340]).any())    # the sheet alone: nothing
    False
    """
    check_image(gray, "gray", allow_color=False)
    height, width = gray.shape
    empty = np.zeros((height, width), np.uint8)
    small, background = _filled_copy(gray)
    if background is None:
        return empty
    margin = np.ones((9, 9), np.uint8)  # past the page edge: 4 px of the small copy
    quad = _page_quad(background)
    if quad is not None:  # a whole sheet on a desk: everything outside it is desk
        inside = np.zeros(small.shape, np.uint8)
        cv2.fillConvexPoly(inside, quad, 1)
        surround = cv2.dilate((1 - inside) * 255, margin)
        return cv2.resize(surround, (width, height), interpolation=cv2.INTER_NEAREST)
    region = _desk_region(background)
    if region is None:
        return empty
    surround = cv2.dilate(region * 255, margin)
    writing = _writing_area(small, background, region)
    if writing is not None:
        surround[writing] = 0
    return cv2.resize(surround, (width, height), interpolation=cv2.INTER_NEAREST)


def find_page(gray: GrayImage) -> np.ndarray | None:
    """Find the four corners of a whole sheet lying on a darker desk, or ``None``.

    See :func:`page_surround` (which masks everything outside these corners) for how.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.

    Returns
    -------
    ndarray of shape (4, 2), float32, or None
        The corners in ``gray``'s pixels, in the order of the sheet's outline.

    Examples
    --------
    >>> import numpy as np
    >>> photo = np.full((300, 400), 60, np.uint8)           # a dark desk...
    >>> photo[50:250, 60:340] = 230                          # ...with a card on it
    >>> corners = find_page(photo)
    >>> sorted((round(float(x), -1), round(float(y), -1)) for x, y in corners)
    [(60.0, 50.0), (60.0, 250.0), (340.0, 50.0), (340.0, 250.0)]
    >>> find_page(photo[50:250, 60:340]) is None             # the card alone: no page edge
    True
    """
    check_image(gray, "gray", allow_color=False)
    small, background = _filled_copy(gray)
    if background is None:
        return None
    quad = _page_quad(background)
    if quad is None:
        return None
    scale = np.array([gray.shape[1] / small.shape[1], gray.shape[0] / small.shape[0]])
    return ((quad + 0.5) * scale - 0.5).astype(np.float32)


def _filled_copy(gray: GrayImage) -> tuple[GrayImage, GrayImage | None]:
    """Return the :data:`STEP_SIZE` copy and it with strokes filled in (None if tiny).

    The filling is a grey closing 1/16 of the copy's side wide.
    """
    small, _ = working_copy(gray, STEP_SIZE)
    if min(small.shape) < 16:
        return small, None
    window = max(3, max(small.shape) // 16)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    return small, cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)


PAGE_STEPS = (30, 20, 15, 10)
"""Grey steps (within 3 px of the :data:`STEP_SIZE` copy) tried in turn as the sheet's edge
by :func:`find_page`: the first that encloses a whole sheet is kept. A desk with a glare
can be nearly as bright as the paper next to it, so the edge is sometimes faint."""


def _page_quad(background: GrayImage) -> np.ndarray | None:
    """Return the sheet's outline on the small copy as 4 integer corners, or ``None``.

    The copy is cut along its steps (:data:`PAGE_STEPS`); the piece holding most of the
    well-lit paper is the sheet when it is a quadrilateral it fills (a page is convex),
    covers 15-90 % of the copy, has at least two sides inside the picture (not within 5 %
    of its border: so neither a shadow's edge nor a strip of desk along one border
    counts), is paper-bright throughout (its mean within :data:`SURROUND_DARKER` of the
    paper's level) and the rest of the picture is at least that much darker.
    """
    paper = float(np.percentile(background, 90))
    lit = background >= paper - 30
    jump = cv2.morphologyEx(background, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    for step in PAGE_STEPS:
        edge = cv2.dilate((jump >= step).astype(np.uint8), np.ones((5, 5), np.uint8))
        count, labels = cv2.connectedComponents(1 - edge, connectivity=4)
        if count < 2:
            continue
        share = np.bincount(labels[lit], minlength=count)
        share[0] = 0
        piece = (labels == int(np.argmax(share))).astype(np.uint8)
        piece = cv2.dilate(piece, np.ones((5, 5), np.uint8))  # back over the cut
        quad = _quadrilateral(piece)
        if quad is not None and _is_sheet(background, piece, quad, paper):
            return quad
    return None


def _quadrilateral(piece: np.ndarray) -> np.ndarray | None:
    """Return the convex hull of ``piece`` as 4 corners, or ``None`` if it is not one."""
    contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.02, 0.03, 0.04, 0.05):
        corners = cv2.approxPolyDP(hull, tolerance * perimeter, True)
        if len(corners) <= 4:
            return corners[:, 0, :] if len(corners) == 4 else None
    return None


def _is_sheet(background: GrayImage, piece: np.ndarray, quad: np.ndarray, paper: float) -> bool:
    height, width = background.shape
    area = cv2.contourArea(quad)
    if not 0.15 * background.size <= area <= 0.9 * background.size:
        return False
    if np.count_nonzero(piece) < 0.9 * area:
        return False
    inside = np.zeros(background.shape, np.uint8)
    cv2.fillConvexPoly(inside, quad, 1)
    sheet, desk = background[inside > 0], background[inside == 0]
    if sheet.mean() < paper - SURROUND_DARKER or desk.mean() > sheet.mean() - SURROUND_DARKER:
        return False
    sides_inside = 0
    near_x, near_y = max(5, round(0.05 * width)), max(5, round(0.05 * height))
    for (x0, y0), (x1, y1) in zip(quad, np.roll(quad, -1, axis=0), strict=True):
        along_border = (
            max(x0, x1) < near_x
            or min(x0, x1) >= width - near_x
            or max(y0, y1) < near_y
            or min(y0, y1) >= height - near_y
        )
        sides_inside += not along_border
    return sides_inside >= 2


def _desk_region(background: GrayImage) -> np.ndarray | None:
    """Mark (1) the dark regions at the border bounded by the page's edge, or ``None``.

    ``background`` is the working copy with its strokes filled in. ``None`` when no region
    qualifies or when the paper left inside covers less than a quarter of the copy.
    """
    paper = float(np.percentile(background, 90))
    jump = cv2.morphologyEx(background, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    # The page's edge: sharp steps, widened a pixel. Cutting the dark regions along it
    # keeps a shadow on the paper apart from the desk it touches.
    edge = cv2.dilate((jump >= SHARP_STEP).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    dark = (background < paper - max(SURROUND_DARKER, 0.3 * paper)) & ~edge
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), connectivity=8)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    keep = [
        label
        for label in border
        if label
        and stats[label, cv2.CC_STAT_AREA] >= 0.02 * background.size
        and _bounded_by(labels == label, edge)
    ]
    if not keep:
        return None
    region = np.isin(labels, keep).astype(np.uint8)
    if np.count_nonzero(region == 0) < 0.25 * background.size:
        return None
    return region


def _writing_area(small: GrayImage, background: GrayImage, region: np.ndarray) -> np.ndarray | None:
    """Where handwriting in ``region`` and the paper around it lie, or ``None`` if none.

    Handwriting in the region is paper in a shadow, not desk: it and the paper around it
    (1/16 of the copy's side) stay unmarked. Ink within two pixels of the region's rim,
    the sheet's own edge, does not count.
    """
    inner = cv2.erode(region, np.ones((5, 5), np.uint8)) > 0
    writing = (_ink_blobs(small, background) & inner).astype(np.uint8)
    if not writing.any():
        return None
    side = max(3, max(small.shape) // 16)
    return cv2.dilate(writing, np.ones((side, side), np.uint8)) > 0


def flatten_lighting(gray: GrayImage) -> GrayImage:
    """Even out the lighting: paper everywhere as bright as where the light is good.

    A phone photo is lit unevenly: one corner darker, a soft or hard shadow across the
    page. Ink in the dark part then differs from its paper by fewer grey levels, and one
    Canny threshold or one Otsu level cannot serve the whole sheet. The paper's brightness
    is estimated on a copy about :data:`STEP_SIZE` px long by a grey closing
    1/:data:`LIGHTING_WINDOW` of its side wide (wider than any stroke, so the ink is
    filled in) and scaled back up; each pixel is divided by it and multiplied by the
    brightness of the well-lit paper (the estimate's 90th percentile, at least
    :data:`DIM_PAPER`). Ink keeps its
    darkness *relative to the paper around it*, wherever the light falls; an evenly lit
    sheet is left as it was.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.

    Returns
    -------
    ndarray of shape (H, W), uint8
        A new image.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.tile(np.linspace(120, 240, 400), (300, 1)).astype(np.uint8)  # dim left
    >>> page[100:200, 40:46] = page[100:200, 40:46] // 2        # a "1" in the dim part
    >>> page[100:200, 340:346] = page[100:200, 340:346] // 2    # one in the bright part
    >>> flat = flatten_lighting(page)
    >>> int(flat[20, 20]), int(flat[20, 380]), int(flat[150, 42]), int(flat[150, 342])
    (227, 227, 114, 114)
    """
    check_image(gray, "gray", allow_color=False)
    height, width = gray.shape
    small, _ = working_copy(gray, STEP_SIZE)
    window = max(3, max(small.shape) // LIGHTING_WINDOW)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    # Past the image's border the light goes on as it is at the border; without that, a
    # shadow's slanted edge that meets the border would bend there.
    padded = cv2.copyMakeBorder(small, *(window,) * 4, cv2.BORDER_REPLICATE)
    level = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, kernel)[window:-window, window:-window]
    # An underexposed photo's paper is brought up to DIM_PAPER: its ink keeps its darkness
    # relative to the paper, so a dim pencil sheet gets the contrast of a lit one.
    paper = max(DIM_PAPER, float(np.percentile(level, 90)))
    # Scaled up, a sharp shadow edge would blur into the shade and leave a dark seam
    # there; eroding the estimate first moves that blur onto the lit side, where paper
    # brighter than its estimate reads as well-lit paper (so the sheet's edge against a
    # desk leaves no bright rim).
    level = cv2.erode(level, np.ones((5, 5), np.uint8))
    level = cv2.resize(level, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, cv2.max(level, gray), scale=paper)


def _ink_blobs(small: GrayImage, background: GrayImage) -> np.ndarray:
    """Mask of the digit-sized strokes much darker than the background around them."""
    darkness = cv2.subtract(background, small).astype(np.float32)
    ink = (darkness >= np.maximum(SURROUND_INK, 0.25 * background.astype(np.float32))).astype(
        np.uint8
    )
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    longest = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    digit_sized = (longest >= 4) & (longest <= max(small.shape) / 4)
    digit_sized[0] = False
    return digit_sized[labels]


def _bounded_by(region: np.ndarray, edge: np.ndarray) -> bool:
    """Whether most of a region's boundary is a sharp edge (a desk), not a soft ramp."""
    ring = cv2.dilate(region.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    ring &= ~region
    return bool(ring.any()) and np.count_nonzero(ring & edge) >= 0.5 * np.count_nonzero(ring)


def remove_lines(gray: GrayImage, min_length: int, max_thickness: int | None = None) -> GrayImage:
    """Suppress long thin horizontal and vertical lines (ruled or squared paper).

    A grey opening of the inverted image with a ``min_length`` x 1 kernel keeps only
    structures at least that long; a top-hat across them keeps the thin part (at most
    ``max_thickness`` thick), which is the line ink. Subtracting it leaves handwriting, whose
    strokes are shorter or thicker, untouched.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.
    min_length : int
        Shortest line, in pixels, that is removed (>= 3).
    max_thickness : int, optional
        Thickest line removed; default ``max(3, min_length // 10)``.

    Returns
    -------
    ndarray of shape (H, W), uint8
        A new image.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((40, 200), 230, np.uint8)
    >>> page[20, :] = 120                          # a ruled line
    >>> page[5:15, 50:53] = 30                     # a short stroke
    >>> out = remove_lines(page, 60)
    >>> int(out[20, 100]) >= 225, int(out[10, 51]) == 30
    (True, True)
    """
    check_image(gray, "gray", allow_color=False)
    min_length = check_int(min_length, "min_length", low=3)
    if max_thickness is None:
        max_thickness = max(3, min_length // 10)
    max_thickness = check_int(max_thickness, "max_thickness", low=1)
    inverted = cv2.bitwise_not(gray)
    lines = cv2.max(
        _line_ink(inverted, min_length, max_thickness, horizontal=True),
        _line_ink(inverted, min_length, max_thickness, horizontal=False),
    )
    return cv2.bitwise_not(cv2.subtract(inverted, lines))


def _line_ink(inverted: GrayImage, length: int, thickness: int, *, horizontal: bool) -> GrayImage:
    """Return the ink of lines at least ``length`` long and at most ``thickness`` thick.

    Kernels are made odd (an even one shifts OpenCV's opening by a pixel).
    """
    length, span = length | 1, (thickness + 1) | 1
    along = (length, 1) if horizontal else (1, length)
    across = (1, span) if horizontal else (span, 1)
    long_parts = cv2.morphologyEx(
        inverted, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, along)
    )
    return cv2.morphologyEx(
        long_parts, cv2.MORPH_TOPHAT, cv2.getStructuringElement(cv2.MORPH_RECT, across)
    )
