"""The stages of the reading pipeline, each a small pure function.

Every stage takes the image first and its knobs after, validates them with
:mod:`digit_pipeline.validation`, and returns a new array: inputs are never modified.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np

from .aliases import Box, DigitBatch, GrayImage, Image
from .validation import check_image, check_int

MNIST_SIZE = 28
"""Side of an MNIST digit image."""

MNIST_BOX = 20
"""MNIST digits are fitted into a box of this side, keeping their aspect ratio."""

MNIST_CENTER = 14.0
"""Where MNIST puts a digit's centre of mass (row and column, pixel-index coordinates)."""

MNIST_STROKE = 2.4
"""Median stroke width of MNIST training digits in 28x28 pixels (:func:`stroke_width`)."""

THIN_STROKE = 1.2
"""Strokes thinner than this once fitted into MNIST's box are thickened (0.3 % of MNIST's are)."""

STEP_SIZE = 320
"""Longer side of the copy :func:`page_surround` looks for the desk around a sheet on."""

SURROUND_DARKER = 50
"""The desk around a sheet is at least this many grey levels darker than the paper."""

SHARP_STEP = 30
"""Along the page's edge the background jumps at least this much within 3 px (of the
:data:`STEP_SIZE` copy); a shadow's soft edge does not."""

LIGHTING_WINDOW = 10
""":func:`flatten_lighting` fills in ink with a closing 1/this of the image's side wide."""

SURROUND_INK = 20
"""Strokes this many grey levels (and a quarter) darker than what is around them are
handwriting: in a dark region at the border they and the paper around them are paper in a
shadow, not desk (:func:`page_surround`)."""

MAX_CONTOURS = 3000
""":func:`find_contours_and_boxes` keeps at most this many (the largest) boxes."""

MIN_INK_CONTRAST = 24
"""Inside a box, ink and paper must differ by at least this many grey levels."""


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
    in (a grey closing 1/16 of its side wide), the page's edge is where that background
    jumps by :data:`SHARP_STEP` or more; the surround is every region at least
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
    small, _ = working_copy(gray, STEP_SIZE)
    if min(small.shape) < 16:
        return empty
    window = max(3, max(small.shape) // 16)
    background = cv2.morphologyEx(
        small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    )
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
        and stats[label, cv2.CC_STAT_AREA] >= 0.02 * small.size
        and _bounded_by(labels == label, edge)
    ]
    if not keep:
        return empty
    region = np.isin(labels, keep).astype(np.uint8)
    if np.count_nonzero(region == 0) < 0.25 * small.size:
        return empty
    margin = 9  # past the page edge: 4 px of the small copy
    surround = cv2.dilate(region * 255, np.ones((margin, margin), np.uint8))
    # Handwriting in the region is paper in a shadow, not desk: it and the paper around
    # it stay (ink within two pixels of the region's rim, the sheet's own edge, does not
    # count).
    inner = cv2.erode(region, np.ones((5, 5), np.uint8)) > 0
    writing = (_ink_blobs(small, background) & inner).astype(np.uint8)
    if writing.any():
        side = max(3, max(small.shape) // 16)
        surround[cv2.dilate(writing, np.ones((side, side), np.uint8)) > 0] = 0
    return cv2.resize(surround, (width, height), interpolation=cv2.INTER_NEAREST)


def flatten_lighting(gray: GrayImage) -> GrayImage:
    """Even out the lighting: paper everywhere as bright as where the light is good.

    A phone photo is lit unevenly: one corner darker, a soft or hard shadow across the
    page. Ink in the dark part then differs from its paper by fewer grey levels, and one
    Canny threshold or one Otsu level cannot serve the whole sheet. The paper's brightness
    is estimated on a copy about :data:`STEP_SIZE` px long by a grey closing
    1/:data:`LIGHTING_WINDOW` of its side wide (wider than any stroke, so the ink is
    filled in) and scaled back up; each pixel is divided by it and multiplied by the
    brightness of the well-lit paper (the estimate's 90th percentile). Ink keeps its
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
    paper = max(1.0, float(np.percentile(level, 90)))
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


def blur_image(gray: GrayImage, mask_size: int = 5) -> GrayImage:
    """Smooth ``gray`` with a Gaussian mask of side ``mask_size``.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
    mask_size : int
        Odd side of the mask, >= 1 (1 returns an unchanged copy).

    Returns
    -------
    ndarray of shape (H, W), uint8

    Raises
    ------
    ValueError
        If ``mask_size`` is even or < 1.

    Examples
    --------
    >>> import numpy as np
    >>> blur_image(np.full((3, 3), 7, np.uint8), 3).tolist()
    [[7, 7, 7], [7, 7, 7], [7, 7, 7]]
    """
    check_image(gray, "gray", allow_color=False)
    mask_size = check_int(mask_size, "mask_size", low=1, odd=True)
    if mask_size == 1:
        return gray.copy()
    return cv2.GaussianBlur(gray, (mask_size, mask_size), 0)


def edges_canny(
    blurred: GrayImage, lower: int = 30, multiplier: float = 3.0, aperture: int = 3
) -> GrayImage:
    """Find edges with Canny; the upper threshold is ``lower * multiplier``.

    Parameters
    ----------
    blurred : ndarray of shape (H, W), uint8
    lower : int
        Lower hysteresis threshold, 0..255.
    multiplier : float
        Upper / lower threshold ratio, >= 1.
    aperture : int
        Sobel aperture: 3, 5 or 7.

    Returns
    -------
    ndarray of shape (H, W), uint8
        255 on edges, 0 elsewhere.

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((20, 20), np.uint8); img[5:15, 5:15] = 255
    >>> int(edges_canny(img).max())
    255
    """
    from .validation import check_float

    check_image(blurred, "blurred", allow_color=False)
    lower = check_int(lower, "lower", low=0, high=255)
    multiplier = check_float(multiplier, "multiplier", low=1.0)
    aperture = check_int(aperture, "aperture", choices=(3, 5, 7))
    return cv2.Canny(blurred, lower, lower * multiplier, apertureSize=aperture)


def dilate_image(edges: GrayImage, kernel_size: int = 5, iterations: int = 2) -> GrayImage:
    """Thicken edges with a square kernel so that each digit becomes one blob.

    Parameters
    ----------
    edges : ndarray of shape (H, W), uint8
    kernel_size : int
        Side of the square kernel, >= 1.
    iterations : int
        Number of passes, >= 0 (0 returns a copy).

    Returns
    -------
    ndarray of shape (H, W), uint8

    Raises
    ------
    ValueError
        If a parameter is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> dot = np.zeros((9, 9), np.uint8); dot[4, 4] = 255
    >>> int((dilate_image(dot, 3, 1) > 0).sum())
    9
    """
    check_image(edges, "edges", allow_color=False)
    kernel_size = check_int(kernel_size, "kernel_size", low=1)
    iterations = check_int(iterations, "iterations", low=0)
    if iterations == 0 or kernel_size == 1:
        return edges.copy()
    kernel = np.ones((kernel_size, kernel_size), np.uint8)
    return cv2.dilate(edges, kernel, iterations=iterations)


def find_contours_and_boxes(dilated: GrayImage, min_area: int = 0) -> list[Box]:
    """Bound each outer blob of ``dilated`` with a box, in reading order.

    Boxes smaller than ``min_area`` and boxes lying inside another box are dropped.

    Parameters
    ----------
    dilated : ndarray of shape (H, W), uint8
        Non-zero pixels are foreground.
    min_area : int
        Smallest ``w * h`` kept, >= 0.

    Returns
    -------
    list of (x, y, w, h)
        In the pixels of ``dilated``, ordered by :func:`reading_order`.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((30, 60), np.uint8)
    >>> img[5:25, 40:50] = 255; img[5:25, 5:15] = 255
    >>> find_contours_and_boxes(img)
    [(5, 5, 10, 20), (40, 5, 10, 20)]
    """
    check_image(dilated, "dilated", allow_color=False)
    min_area = check_int(min_area, "min_area", low=0)
    contours, _ = cv2.findContours(dilated, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [cv2.boundingRect(c) for c in contours]
    boxes = [tuple(int(v) for v in b) for b in boxes if b[2] * b[3] >= max(min_area, 1)]
    if len(boxes) > MAX_CONTOURS:  # a page of noise: keep the largest, stay responsive
        boxes = sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)[:MAX_CONTOURS]
    boxes = drop_nested(boxes)
    ordered, _ = reading_order(boxes)
    return ordered


def drop_nested(boxes: Sequence[Box]) -> list[Box]:
    """Drop every box that lies entirely inside another box (duplicates keep one).

    Examples
    --------
    >>> drop_nested([(0, 0, 10, 10), (2, 2, 3, 3), (20, 0, 5, 5)])
    [(0, 0, 10, 10), (20, 0, 5, 5)]
    """
    if len(boxes) < 2:
        return [tuple(b) for b in boxes]
    arr = np.asarray(boxes, dtype=np.int64)
    x0, y0 = arr[:, 0], arr[:, 1]
    x1, y1 = x0 + arr[:, 2], y0 + arr[:, 3]
    inside = (
        (x0[:, None] >= x0[None, :])
        & (y0[:, None] >= y0[None, :])
        & (x1[:, None] <= x1[None, :])
        & (y1[:, None] <= y1[None, :])
    )
    np.fill_diagonal(inside, False)
    identical = inside & inside.T
    # Of identical boxes keep the first: box i is dropped only by a later twin.
    later = np.triu(np.ones_like(identical), 1).T.astype(bool)
    dropped = (inside & ~identical).any(axis=1) | (identical & later).any(axis=1)
    return [tuple(int(v) for v in arr[i]) for i in range(len(arr)) if not dropped[i]]


def reading_order(boxes: Sequence[Box]) -> tuple[list[Box], list[int]]:
    """Order boxes in lines top to bottom, left to right within a line.

    See :func:`reading_order_indices` for how lines are found.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)

    Returns
    -------
    ordered : list of (x, y, w, h)
    lines : list of int
        The line index (0 = top line) of each ordered box.

    Examples
    --------
    >>> reading_order([(50, 0, 10, 10), (0, 40, 10, 10), (0, 2, 10, 10)])
    ([(0, 2, 10, 10), (50, 0, 10, 10), (0, 40, 10, 10)], [0, 0, 1])
    """
    order, lines = reading_order_indices(boxes)
    return [tuple(int(v) for v in boxes[i]) for i in order], lines


def reading_order_indices(boxes: Sequence[Box]) -> tuple[list[int], list[int]]:
    """Return the indices of ``boxes`` in reading order, and the line of each.

    Boxes are chained left to right: a box joins the line whose last box overlaps it
    vertically by at least half the smaller height (the best such line), else it starts
    a new line. A gently sloping line thus stays one line. Lines are then ordered by
    their median centre height.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)

    Returns
    -------
    order : list of int
    lines : list of int
        Line index (0 = top line) of each box in ``order``.

    Examples
    --------
    >>> reading_order_indices([(50, 0, 10, 10), (0, 40, 10, 10), (0, 2, 10, 10)])
    ([2, 0, 1], [0, 0, 1])
    """
    chains: list[list[int]] = []
    for i in sorted(range(len(boxes)), key=lambda k: (boxes[k][0], boxes[k][1])):
        _, y, _, h = boxes[i]
        best, best_ratio = None, 0.0
        for chain in chains:
            _, ly, _, lh = boxes[chain[-1]]
            overlap = min(y + h, ly + lh) - max(y, ly)
            ratio = overlap / max(1, min(h, lh))
            if ratio >= 0.5 and ratio > best_ratio:
                best, best_ratio = chain, ratio
        if best is None:
            chains.append([i])
        else:
            best.append(i)
    chains.sort(key=lambda c: float(np.median([boxes[k][1] + boxes[k][3] / 2 for k in c])))
    order = [k for chain in chains for k in chain]
    lines = [n for n, chain in enumerate(chains) for _ in chain]
    return order, lines


def typical_height(boxes: Sequence[Box]) -> float:
    """Return the height of a typical digit: the median height of the taller half of boxes.

    Fragments (dots, floating bars) are short, so the taller half is mostly whole digits.

    Examples
    --------
    >>> typical_height([(0, 0, 10, 40), (0, 0, 12, 44), (0, 0, 5, 6), (0, 0, 20, 4)])
    42.0
    """
    if not boxes:
        return 0.0
    heights = np.sort([b[3] for b in boxes])
    return float(np.median(heights[len(heights) // 2 :]))


def join_fragments(boxes: Sequence[Box], height: float | None = None) -> list[Box]:
    """Join pieces of a digit (a floating bar, a two-stroke 4, a pencil lift) to it.

    A box lower than 0.85 typical digit heights is a fragment; it joins the nearest box
    whose union with it still looks like one digit (at most 1.3 typical heights tall, and
    0.95 wide — 1.2 when one lies above the other) and lies within 0.25 typical heights.
    Fragments are joined smallest first, repeatedly, so two pieces of one digit can find
    each other.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
    height : float, optional
        The typical digit height; default :func:`typical_height` of ``boxes``.

    Returns
    -------
    list of (x, y, w, h)

    Examples
    --------
    >>> body = (10, 20, 30, 30)          # the lower part of a 5
    >>> bar = (14, 4, 28, 6)             # its top bar, drawn apart
    >>> other = (60, 0, 28, 50)          # the next digit
    >>> join_fragments([body, bar, other])
    [(10, 4, 32, 46), (60, 0, 28, 50)]
    """
    boxes = [tuple(int(v) for v in b) for b in boxes]
    if len(boxes) < 2:
        return boxes
    height = typical_height(boxes) if height is None else float(height)
    if height <= 0:
        return boxes
    changed = True
    while changed:
        changed = False
        for i in sorted(range(len(boxes)), key=lambda k: boxes[k][2] * boxes[k][3]):
            piece = boxes[i]
            if piece[3] >= 0.85 * height:
                continue
            best, best_gap = None, 0.25 * height
            for j, other in enumerate(boxes):
                if j == i:
                    continue
                union = _union(piece, other)
                stacked = min(piece[0] + piece[2], other[0] + other[2]) > max(piece[0], other[0])
                if union[3] > 1.3 * height or union[2] > (1.2 if stacked else 0.95) * height:
                    continue
                gap = _gap(piece, other)
                if gap <= best_gap:
                    best, best_gap = j, gap
            if best is not None:
                boxes[best] = _union(piece, boxes[best])
                del boxes[i]
                changed = True
                break
    return boxes


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def _gap(a: Box, b: Box) -> float:
    dx = max(0, max(a[0], b[0]) - min(a[0] + a[2], b[0] + b[2]))
    dy = max(0, max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3]))
    return float(np.hypot(dx, dy))


def split_wide_boxes(
    gray: GrayImage, boxes: Sequence[Box], height: float | None = None, max_parts: int = 6
) -> list[Box]:
    """Split boxes that hold several touching digits side by side.

    A box wider than 1.3 times its height and than 1.4 typical digit widths is cut into
    ``round(width / typical width)`` parts. Each cut is made, within a window around its
    expected position, at the column that crosses the fewest strokes (then the least
    ink): the contact between two digits is one stroke, while a cut through a "0" crosses
    two. A cut crossing more than one stroke is only made in a box at least 1.8 typical
    widths wide, and a box is only split if every part, shrunk to its ink, is at least
    0.6 typical heights tall — so a single wide digit (a 5 with a long bar) stays whole.
    The typical width is the median width of the boxes no wider than tall and not as
    narrow as a "1", kept within 0.6-0.9 typical heights.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        The image the boxes are in: dark ink on light paper.
    boxes : sequence of (x, y, w, h)
    height : float, optional
        The typical digit height; default :func:`typical_height` of ``boxes``.
    max_parts : int
        Most digits one box is split into.

    Returns
    -------
    list of (x, y, w, h)

    Examples
    --------
    >>> import numpy as np, cv2
    >>> page = np.full((60, 140), 230, np.uint8)
    >>> _ = cv2.ellipse(page, (25, 30), (14, 20), 0, 0, 360, 20, 4)  # "0"
    >>> _ = cv2.ellipse(page, (54, 30), (14, 20), 0, 0, 360, 20, 4)  # "0" touching it
    >>> _ = cv2.line(page, (110, 8), (110, 52), 20, 5)               # a lone "1"
    >>> split_wide_boxes(page, [(9, 8, 62, 45), (107, 5, 7, 50)])
    [(9, 8, 31, 45), (40, 8, 31, 45), (107, 5, 7, 50)]
    """
    check_image(gray, "gray", allow_color=False)
    boxes = [tuple(int(v) for v in b) for b in boxes]
    height = typical_height(boxes) if height is None else float(height)
    singles = [b[2] for b in boxes if 0.4 * b[3] <= b[2] <= b[3]]
    width = float(np.median(singles)) if singles else 0.7 * height
    width = float(np.clip(width, 0.6 * height, 0.9 * height))
    if width <= 0:
        return boxes
    out: list[Box] = []
    for box in boxes:
        x, y, w, h = box
        parts = min(max_parts, round(w / width))
        if w <= 1.3 * h or w <= 1.4 * width or parts < 2:
            out.append(box)
            continue
        ink = _binarize(_crop(gray, box), None) > 0
        # Strokes crossed by each column, then ink in it: a cut between two touching
        # digits crosses one stroke (the contact), a cut through a digit two or more.
        runs = (np.diff(ink.astype(np.int8), axis=0, prepend=0) > 0).sum(axis=0)
        cost = runs + 0.5 * ink.sum(axis=0) / max(1, h)
        cuts = [0]
        step = w / parts
        for k in range(1, parts):
            lo = max(cuts[-1] + 1, round(k * step - 0.35 * step))
            hi = min(w - 1, round(k * step + 0.35 * step))
            if hi <= lo:
                continue
            columns = np.arange(lo, hi)
            penalty = cost[lo:hi] + 0.2 * np.abs(columns - k * step) / step
            cut = lo + int(np.argmin(penalty))
            # A wide single digit has no one-stroke column near its middle; only a box
            # far wider than a digit is cut through more strokes than one.
            if runs[cut] <= 1 or w >= 1.8 * width:
                cuts.append(cut)
        cuts.append(w)
        pieces = [
            ink_box(gray, (x + left, y, right - left, h))
            for left, right in itertools.pairwise(cuts)
        ]
        pieces = [p for p in pieces if p is not None]
        # Every part must be a whole digit: a part much lower than a digit is a piece of a
        # wide one (the bar of a 5, the tail of a 2), so that box stays whole.
        if len(pieces) > 1 and all(p[3] >= 0.6 * height for p in pieces):
            out.extend(pieces)
        else:
            out.append(box)
    return out


def scale_boxes(
    boxes: Sequence[Box], scale: float | tuple[float, float], shape: tuple[int, int]
) -> list[Box]:
    """Map boxes found on a working copy back to the original image.

    The mapped box covers every original pixel that the working box covers, clipped to
    ``shape`` (H, W) of the original.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
        In working-copy pixels.
    scale : float or (float, float)
        Working / original size; a pair gives the horizontal and vertical scales apart
        (they differ slightly because each side is rounded).
    shape : (int, int)
        ``(H, W)`` of the original.

    Returns
    -------
    list of (x, y, w, h)

    Examples
    --------
    >>> scale_boxes([(10, 5, 4, 4)], 0.5, (100, 100))
    [(20, 10, 8, 8)]
    """
    sx, sy = (scale, scale) if np.isscalar(scale) else scale
    height, width = shape
    out = []
    for x, y, w, h in boxes:
        x0 = min(width - 1, max(0, int(np.floor(x / sx))))
        y0 = min(height - 1, max(0, int(np.floor(y / sy))))
        x1 = min(width, int(np.ceil((x + w) / sx)))
        y1 = min(height, int(np.ceil((y + h) / sy)))
        out.append((x0, y0, max(1, x1 - x0), max(1, y1 - y0)))
    return out


def extract_roi_black_white(
    gray: GrayImage,
    boxes: Sequence[Box],
    threshold: int | None = None,
    *,
    remove_rules: bool = False,
    max_side: int | None = None,
) -> list[GrayImage]:
    """Cut each box out of ``gray`` as white ink (255) on black (0).

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper, the original resolution.
    boxes : sequence of (x, y, w, h)
        In the pixels of ``gray``.
    threshold : int or None
        Grey level 0..255 at or below which a pixel is ink; ``None`` picks one per box
        with Otsu's method. A box whose ink and paper differ by less than
        :data:`MIN_INK_CONTRAST` grey levels has no ink (an all-black ROI).
    remove_rules : bool
        Remove ruled/squared-paper lines running through the box before thresholding:
        lines longer than 1.5 times the box are suppressed (see :func:`remove_lines`),
        judged on strips that extend past the box.
    max_side : int, optional
        Shrink each crop (area interpolation) so its longer side is at most this before
        thresholding; MNIST digits are 20 px, so ~100 px loses nothing and is fast.

    Returns
    -------
    list of ndarray, uint8
        One binary image per box, values 0 and 255, of the box's shape (or shrunk to
        ``max_side``).

    Raises
    ------
    ValueError
        If ``threshold`` or ``max_side`` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((20, 20), 220, np.uint8); page[5:15, 8:11] = 20
    >>> roi = extract_roi_black_white(page, [(4, 2, 12, 16)])[0]
    >>> roi.shape, int(roi.max()), int((roi > 0).sum())
    ((16, 12), 255, 30)
    """
    check_image(gray, "gray", allow_color=False)
    if threshold is not None:
        threshold = check_int(threshold, "threshold", low=0, high=255)
    if max_side is not None:
        max_side = check_int(max_side, "max_side", low=MNIST_BOX)
    rois = []
    for box in boxes:
        x, y, w, h = (int(v) for v in box)
        factor = 1.0 if max_side is None else min(1.0, max_side / max(w, h, 1))
        crop = (
            _clean_crop(gray, (x, y, w, h), factor)
            if remove_rules
            else _crop(gray, (x, y, w, h), factor)
        )
        rois.append(_binarize(crop, threshold))
    return rois


def _shrink(image: GrayImage, factor: float) -> GrayImage:
    if factor >= 1.0 or image.size == 0:
        return image
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _crop(gray: GrayImage, box: Box, factor: float = 1.0) -> GrayImage:
    x, y, w, h = box
    return _shrink(gray[max(0, y) : max(0, y + h), max(0, x) : max(0, x + w)], factor)


def _clean_crop(gray: GrayImage, box: Box, factor: float = 1.0) -> GrayImage:
    """Crop ``box`` after removing lines longer than the box, seen on strips past it."""
    height, width = gray.shape
    x, y = max(0, box[0]), max(0, box[1])
    w, h = min(width, box[0] + box[2]) - x, min(height, box[1] + box[3]) - y
    if w <= 0 or h <= 0:  # wholly outside the image: nothing to clean
        return _crop(gray, box, factor)
    length = max(3, int(1.5 * max(w, h)))
    x0, x1 = max(0, x - length), min(width, x + w + length)
    y0, y1 = max(0, y - length), min(height, y + h + length)
    rows = _shrink(gray[y : y + h, x0:x1], factor)
    cols = _shrink(gray[y0:y1, x : x + w], factor)
    core = _shrink(gray[y : y + h, x : x + w], factor)
    ch, cw = core.shape
    left = min(max(0, round((x - x0) * factor)), rows.shape[1] - cw)
    top = min(max(0, round((y - y0) * factor)), cols.shape[0] - ch)
    line_length = max(3, round(length * factor))
    thickness = max(3, round(min(w, h) * factor) // 6)
    row_lines = _line_ink(cv2.bitwise_not(rows), line_length, thickness, horizontal=True)
    col_lines = _line_ink(cv2.bitwise_not(cols), line_length, thickness, horizontal=False)
    row_lines = row_lines[:ch, left : left + cw]
    col_lines = col_lines[top : top + ch, :cw]
    lines = cv2.max(row_lines, col_lines)
    return cv2.bitwise_not(cv2.subtract(cv2.bitwise_not(core), lines))


def ink_box(gray: GrayImage, box: Box, margin: int = 0) -> Box | None:
    """Shrink ``box`` to the ink inside it (Otsu per box), or ``None`` if it holds none.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.
    box : (x, y, w, h)
    margin : int
        Pixels added around the ink (clipped to the image).

    Returns
    -------
    (x, y, w, h) or None

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((20, 20), 220, np.uint8); page[5:15, 8:11] = 20
    >>> ink_box(page, (4, 2, 12, 16)), ink_box(page, (12, 0, 8, 4))
    ((8, 5, 3, 10), None)
    """
    check_image(gray, "gray", allow_color=False)
    ink = _binarize(_crop(gray, box), None)
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    if rows.size == 0:
        return None
    x0, y0 = max(0, box[0]), max(0, box[1])
    height, width = gray.shape
    left = max(0, x0 + int(cols[0]) - margin)
    top = max(0, y0 + int(rows[0]) - margin)
    right = min(width, x0 + int(cols[-1]) + 1 + margin)
    bottom = min(height, y0 + int(rows[-1]) + 1 + margin)
    return (left, top, right - left, bottom - top)


def open_enclosures(gray: GrayImage, boxes: Sequence[Box], min_height: float = 0.3) -> list[Box]:
    """Replace a box that is a shape drawn around digits by the digits inside it.

    People circle or frame a digit. The dilated edges then give one box, the shape's, and
    the digit inside would be read together with its frame. In each box the ink's
    connected components are checked: when the largest one spans the whole box, is thin
    (its ink covers at most a quarter of its box) and encloses other ink at least
    ``min_height`` of its height tall, the box gives way to the boxes of the ink it
    encloses. A digit's own loops (0, 6, 8, 9) hold no ink inside, so they stay.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.
    boxes : sequence of (x, y, w, h)
    min_height : float
        Least height of enclosed ink, as a share of the shape's height, for the shape to
        count as drawn around a digit.

    Returns
    -------
    list of (x, y, w, h)
        Boxes in order; an enclosure's box is replaced by the boxes of the ink inside it.

    Examples
    --------
    >>> import numpy as np, cv2
    >>> page = np.full((120, 120), 230, np.uint8)
    >>> _ = cv2.circle(page, (60, 60), 50, 30, 2)           # a circle drawn around...
    >>> _ = cv2.line(page, (60, 35), (60, 85), 30, 4)       # ...a "1"
    >>> open_enclosures(page, [(8, 8, 105, 105)])
    [(58, 33, 5, 55)]
    >>> open_enclosures(page, [(50, 30, 20, 60)])           # the "1" alone stays
    [(50, 30, 20, 60)]
    """
    check_image(gray, "gray", allow_color=False)
    out: list[Box] = []
    for box in boxes:
        inner = _enclosed_ink(gray, box, min_height)
        out.extend(inner if inner else [tuple(int(v) for v in box)])
    return out


def _enclosed_ink(gray: GrayImage, box: Box, min_height: float) -> list[Box]:
    """Boxes of the ink a thin shape spanning ``box`` encloses (empty if it is no such shape)."""
    crop = _crop(gray, box)
    height, width = crop.shape[:2]
    if height < 12 or width < 12:
        return []
    ink = _binarize(crop, None)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count < 3:
        return []
    spans = stats[1:, cv2.CC_STAT_WIDTH] * stats[1:, cv2.CC_STAT_HEIGHT]
    frame = 1 + int(np.argmax(spans))
    fw, fh = stats[frame, cv2.CC_STAT_WIDTH], stats[frame, cv2.CC_STAT_HEIGHT]
    if fw < 0.9 * width or fh < 0.9 * height or stats[frame, cv2.CC_STAT_AREA] > 0.25 * fw * fh:
        return []
    # What the shape encloses: paper not reachable from the crop's border around it.
    outside = np.pad((labels != frame).astype(np.uint8), 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)
    enclosed = outside[1:-1, 1:-1] == 1
    x0, y0 = max(0, box[0]), max(0, box[1])
    inner, tall = [], False
    for label in range(1, count):
        if label == frame:
            continue
        part = labels == label
        if np.count_nonzero(enclosed & part) < 0.9 * np.count_nonzero(part):
            continue
        left, top, w, h = (int(v) for v in stats[label, :4])
        if max(w, h) < 0.1 * fh:  # a speck inside the shape
            continue
        tall |= h >= min_height * fh
        inner.append((x0 + left, y0 + top, w, h))
    return inner if tall else []


def merge_overlapping(boxes: Sequence[Box], min_overlap: float = 0.3) -> list[Box]:
    """Merge boxes whose intersection covers at least ``min_overlap`` of the smaller one.

    A fragment of a digit (a pencil lift, a floating bar) overlapping the digit's own box
    joins it; neighbours that merely touch stay apart. Repeats until nothing merges.
    Nested boxes merge too (their overlap is 1).

    Examples
    --------
    >>> merge_overlapping([(0, 0, 10, 10), (7, 7, 4, 4), (30, 0, 5, 5)])
    [(0, 0, 11, 11), (30, 0, 5, 5)]
    >>> merge_overlapping([(0, 0, 10, 10), (9, 0, 10, 10)])
    [(0, 0, 10, 10), (9, 0, 10, 10)]
    """
    merged = [tuple(int(v) for v in b) for b in boxes]
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                inter_w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
                inter_h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
                if inter_w <= 0 or inter_h <= 0:
                    continue
                smaller = min(a[2] * a[3], b[2] * b[3])
                if inter_w * inter_h >= min_overlap * smaller:
                    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                    x1 = max(a[0] + a[2], b[0] + b[2])
                    y1 = max(a[1] + a[3], b[1] + b[3])
                    merged[i] = (x0, y0, x1 - x0, y1 - y0)
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def _binarize(crop: GrayImage, threshold: int | None) -> GrayImage:
    if crop.size == 0:
        return np.zeros((max(1, crop.shape[0]), max(1, crop.shape[1])), np.uint8)
    if threshold is None:
        _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        dark, light = crop[ink > 0], crop[ink == 0]
        if dark.size == 0 or light.size == 0 or light.mean() - dark.mean() < MIN_INK_CONTRAST:
            return np.zeros_like(crop)
        return ink
    return np.where(crop <= threshold, 255, 0).astype(np.uint8)


def resize_rois(rois: Sequence[GrayImage]) -> DigitBatch:
    """Make MNIST-faithful 28x28 digits from white-on-black ROIs.

    Each ROI is cropped tight to its ink, fitted into a 20x20 box keeping its aspect
    ratio (area interpolation, which anti-aliases like MNIST), padded to 28x28 and shifted
    so that its centre of mass sits at the centre, as MNIST was made.

    Parameters
    ----------
    rois : sequence of ndarray of shape (h, w), uint8
        White ink on black, e.g. from :func:`extract_roi_black_white`.

    Returns
    -------
    ndarray of shape (N, 28, 28), uint8
        A ROI without ink gives an all-black digit.

    Examples
    --------
    >>> import numpy as np
    >>> bar = np.zeros((100, 10), np.uint8); bar[:, 3:7] = 255
    >>> out = resize_rois([bar])
    >>> out.shape, out.dtype.name, int(out[0].any(1).sum())
    ((1, 28, 28), 'uint8', 20)
    """
    out = np.zeros((len(rois), MNIST_SIZE, MNIST_SIZE), np.uint8)
    for i, roi in enumerate(rois):
        check_image(roi, f"rois[{i}]", allow_color=False)
        out[i] = _mnist_digit(roi)
    return out


def _mnist_digit(roi: GrayImage) -> GrayImage:
    rows, cols = np.nonzero(roi.any(axis=1))[0], np.nonzero(roi.any(axis=0))[0]
    canvas = np.zeros((MNIST_SIZE, MNIST_SIZE), np.uint8)
    if rows.size == 0:
        return canvas
    ink = roi[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    ink = _thicken_thin_strokes(ink)
    h, w = ink.shape
    factor = MNIST_BOX / max(h, w)
    new_w, new_h = max(1, round(w * factor)), max(1, round(h * factor))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    small = cv2.resize(ink, (new_w, new_h), interpolation=interpolation)
    top, left = (MNIST_SIZE - new_h) // 2, (MNIST_SIZE - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = small
    moments = cv2.moments(canvas)
    if moments["m00"] == 0:
        return canvas
    dx = round(MNIST_CENTER - moments["m10"] / moments["m00"])
    dy = round(MNIST_CENTER - moments["m01"] / moments["m00"])
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(canvas, shift, (MNIST_SIZE, MNIST_SIZE), flags=cv2.INTER_NEAREST)


def stroke_width(ink: GrayImage) -> float:
    """Estimate the stroke width of white ink on black: twice its area over its perimeter.

    For a stroke much longer than wide, area = length x width and perimeter ~ 2 x length.

    Examples
    --------
    >>> import numpy as np
    >>> bar = np.zeros((60, 20), np.uint8); bar[5:55, 8:12] = 255
    >>> round(stroke_width(bar), 1)
    3.8
    """
    mask = (ink > 127).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(mask.sum()) / perimeter if perimeter else 0.0


def _thicken_thin_strokes(ink: GrayImage) -> GrayImage:
    """Dilate a cropped digit whose strokes would be thinner than MNIST's once in 20x20.

    A ballpoint digit photographed large has strokes a few percent of its height; scaled
    into MNIST's 20x20 box they fade to faint hairlines the model never saw. MNIST's
    strokes are :data:`MNIST_STROKE` px wide (median); below :data:`THIN_STROKE` the ink is
    dilated so that it lands at the median. The threshold is low on purpose: dilating an
    ordinary stroke can close a small loop (an 8 with a tiny upper loop becomes a 0).
    """
    factor = MNIST_BOX / max(ink.shape)
    width = stroke_width(ink) * factor
    if width == 0 or width >= THIN_STROKE:
        return ink
    radius = round((MNIST_STROKE - width) / factor / 2)
    if radius < 1:
        return ink
    padded = cv2.copyMakeBorder(ink, radius, radius, radius, radius, cv2.BORDER_CONSTANT, 0)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(padded, disk)


def draw_boxes(
    image: Image,
    boxes: Sequence[Box],
    labels: Sequence[str] | None = None,
    *,
    color: tuple[int, int, int] = (255, 0, 80),
    thickness: int | None = None,
) -> np.ndarray:
    """Draw ``boxes`` (and optional ``labels`` above them) on an RGB copy of ``image``.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
    boxes : sequence of (x, y, w, h)
    labels : sequence of str, optional
        One per box.
    color : tuple of int
        RGB colour of boxes and labels.
    thickness : int, optional
        Line width; default scales with the image size.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8

    Examples
    --------
    >>> import numpy as np
    >>> out = draw_boxes(np.zeros((20, 20), np.uint8), [(2, 2, 10, 10)], thickness=1)
    >>> out.shape, out[2, 5].tolist()
    ((20, 20, 3), [255, 0, 80])
    """
    check_image(image)
    if image.ndim == 2:
        canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    else:
        canvas = np.ascontiguousarray(image[..., :3]).copy()
    if labels is not None and len(labels) != len(boxes):
        raise ValueError(f"labels must have one entry per box, got {len(labels)} for {len(boxes)}")
    if thickness is None:
        thickness = max(1, round(max(canvas.shape[:2]) / 400))
    thickness = check_int(thickness, "thickness", low=1)
    for i, (x, y, w, h) in enumerate(boxes):
        cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), color, thickness)
        if labels is not None:
            scale = max(0.4, h / 60)
            cv2.putText(
                canvas,
                str(labels[i]),
                (x, max(0, y - 4)),
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                color,
                max(1, thickness),
                cv2.LINE_AA,
            )
    return canvas
