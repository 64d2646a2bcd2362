"""Box refinements: from raw boxes to one box per digit.

Joining fragments, splitting touching digits, shrinking a box to its ink, opening shapes
drawn around digits and merging overlapping boxes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np

from ..aliases import Box, GrayImage
from ..validation import check_image
from .crops import MIN_INK_CONTRAST, _binarize, _crop


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

    A box wider than 1.3 times its height and holding two typical digit widths or more,
    rounded (from 1.5 widths), is cut into ``round(width / typical width)`` parts (Python's
    rounding: 2.5 widths make 2 parts). Each cut is made, within a window around its
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
    width = _typical_width(boxes, height)
    if width <= 0:
        return boxes
    out: list[Box] = []
    for box in boxes:
        out.extend(_split_box(gray, box, width, height, max_parts))
    return out


def _typical_width(boxes: Sequence[Box], height: float) -> float:
    """Median width of the boxes no wider than tall nor as narrow as a "1", kept in bounds."""
    singles = [b[2] for b in boxes if 0.4 * b[3] <= b[2] <= b[3]]
    width = float(np.median(singles)) if singles else 0.7 * height
    return float(np.clip(width, 0.6 * height, 0.9 * height))


def _split_box(gray: GrayImage, box: Box, width: float, height: float, max_parts: int) -> list[Box]:
    """Split one box into the digits side by side in it, or return ``[box]`` unchanged."""
    x, y, w, h = box
    parts = min(max_parts, round(w / width))
    if w <= 1.3 * h or parts < 2:
        return [box]
    cuts = _cut_columns(gray, box, width, parts)
    pieces = [
        ink_box(gray, (x + left, y, right - left, h)) for left, right in itertools.pairwise(cuts)
    ]
    pieces = [p for p in pieces if p is not None]
    # Every part must be a whole digit: a part much lower than a digit is a piece of a
    # wide one (the bar of a 5, the tail of a 2), so that box stays whole.
    if len(pieces) > 1 and all(p[3] >= 0.6 * height for p in pieces):
        return pieces
    return [box]


def _cut_columns(gray: GrayImage, box: Box, width: float, parts: int) -> list[int]:
    """Columns (relative to ``box``, from 0 to its width) where ``box`` is cut into ``parts``."""
    w, h = box[2], box[3]
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
    return cuts


def ink_box(
    gray: GrayImage, box: Box, margin: int = 0, min_contrast: int = MIN_INK_CONTRAST
) -> Box | None:
    """Shrink ``box`` to the ink inside it (Otsu per box), or ``None`` if it holds none.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.
    box : (x, y, w, h)
    margin : int
        Pixels added around the ink (clipped to the image).
    min_contrast : int
        Ink and paper differing by less hold no ink (:func:`~.ink.ink_floor`).

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
    ink = _binarize(_crop(gray, box), None, min_contrast)
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
