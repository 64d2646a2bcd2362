"""The sheet on the desk: a photographed sheet's outline and the desk around it.

A phone photo of a sheet often shows the desk or table it lies on. :func:`page_surround`
marks that surround (so that its edges are not taken for digits) and :func:`find_page`
finds the four corners of a whole sheet lying on a darker desk (so that it can be warped
flat, :mod:`.perspective`). Both work on a copy about
:data:`~digit_pipeline.stages.page.STEP_SIZE` px long whose strokes are filled in.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..aliases import GrayImage
from ..validation import check_image
from .page import STEP_SIZE, working_copy

SURROUND_DARKER = 50
"""The desk around a sheet is at least this many grey levels darker than the paper."""

SHARP_STEP = 30
"""Along the page's edge the background jumps at least this much within 3 px (of the
:data:`STEP_SIZE` copy); a shadow's soft edge does not."""

SURROUND_INK = 20
"""Strokes this many grey levels (and a quarter) darker than what is around them are
handwriting: in a dark region at the border they and the paper around them are paper in a
shadow, not desk (:func:`page_surround`)."""


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
