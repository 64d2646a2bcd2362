"""Boxes from blobs: bounding boxes, nested boxes, reading order and scaling back.

Boxes are ``(x, y, w, h)`` (see :mod:`digit_pipeline.aliases`); reading order is lines top to
bottom, left to right in a line.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..aliases import Box, GrayImage
from ..validation import check_image, check_int

MAX_CONTOURS = 3000
""":func:`find_contours_and_boxes` keeps at most this many (the largest) boxes."""


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
    their median centre height. When the lines found slope by more than
    :data:`LEVEL_SLOPE` (a tilted sheet, :func:`line_slope`), the boxes are chained again
    with each one's height measured along that slope, so that numbers far apart on a tilted
    line, each a little higher or lower, still fall on one line.

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
    order, lines = _chained(boxes)
    slope = line_slope([boxes[i] for i in order], lines)
    if abs(slope) <= LEVEL_SLOPE:
        return order, lines
    level = [(x, y - slope * (x + w / 2), w, h) for x, y, w, h in boxes]
    return _chained(level)


LEVEL_SLOPE = 0.02
"""Lines sloping more than this (about 1.1°) are chained again along their slope."""


def line_slope(boxes: Sequence[Box], lines: Sequence[int]) -> float:
    """Return the sheet's line slope (dy/dx): the median of its lines' fitted slopes.

    Each line of at least two boxes fits a straight line through its box centres (least
    squares) and counts once per box beyond the first. 0.0 when no line has two boxes.

    Examples
    --------
    >>> line_slope([(0, 0, 10, 10), (20, 2, 10, 10), (40, 4, 10, 10)], [0, 0, 0])
    0.1
    """
    slopes: list[float] = []
    centres = np.array([(x + w / 2, y + h / 2) for x, y, w, h in boxes], float).reshape(-1, 2)
    lines = np.asarray(lines)
    for line in np.unique(lines):
        cx, cy = centres[lines == line].T
        if len(cx) < 2 or np.ptp(cx) == 0:
            continue
        slope = float(np.polyfit(cx, cy, 1)[0])
        slopes += [slope] * (len(cx) - 1)
    return round(float(np.median(slopes)), 6) if slopes else 0.0


def _chained(boxes: Sequence[Box]) -> tuple[list[int], list[int]]:
    """Chain boxes into lines (see :func:`reading_order_indices`); order and lines."""
    chains: list[list[int]] = []
    # The last box of each chain, top and bottom (arrays: a noisy page has hundreds).
    tops, bottoms = np.empty(len(boxes)), np.empty(len(boxes))
    for i in sorted(range(len(boxes)), key=lambda k: (boxes[k][0], boxes[k][1])):
        _, y, _, h = boxes[i]
        n = len(chains)
        if n:
            overlap = np.minimum(y + h, bottoms[:n]) - np.maximum(y, tops[:n])
            ratio = overlap / np.maximum(1, np.minimum(h, bottoms[:n] - tops[:n]))
            best = int(np.argmax(ratio))  # the first of equals, as a loop would pick
        if n and ratio[best] >= 0.5:
            chains[best].append(i)
        else:
            best = n
            chains.append([i])
        tops[best], bottoms[best] = y, y + h
    chains.sort(key=lambda c: float(np.median([boxes[k][1] + boxes[k][3] / 2 for k in c])))
    order = [k for chain in chains for k in chain]
    lines = [n for n, chain in enumerate(chains) for _ in chain]
    return order, lines


NUMBER_GAP = 1.5
"""A gap wider than this many digit heights of its line may part two numbers."""
NUMBER_GAP_OVER_TYPICAL = 2.0
"""...if it is also this many times the sheet's usual gap (its lower quartile), so evenly
spaced digits, however far apart, stay one number."""


def number_indices(boxes: Sequence[Box], lines: Sequence[int]) -> list[int]:
    """Group boxes in reading order into the numbers a writer meant: a number index each.

    Along a line, a gap starts a new number when it is wider than :data:`NUMBER_GAP` times
    the line's median box height and :data:`NUMBER_GAP_OVER_TYPICAL` times the sheet's usual
    gap between neighbours, its lower quartile (at least a quarter height: digits that touch
    or overlap have no gap to measure). Measured on real_dev's true boxes, where every line
    is one number, the widest gap is 1.3 heights (a 3x3 grid), and a sheet of two lines of
    two digits 2.5-2.7 heights apart stays two numbers: its usual gap is that wide. On
    ``bench --numbers``' true boxes, lines known, 57 of 60 sheets are grouped as written
    (the median instead of the quartile: 52; the rest have one gap a line and nothing to
    compare it with).

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
        In reading order.
    lines : sequence of int
        The line of each box (:func:`reading_order`), non-decreasing.

    Returns
    -------
    list of int
        0 for the first box, counting up through the sheet.

    Examples
    --------
    >>> boxes = [(0, 0, 10, 20), (14, 0, 10, 20), (80, 0, 10, 20), (94, 0, 10, 20)]
    >>> number_indices(boxes, [0, 0, 0, 0])
    [0, 0, 1, 1]
    >>> number_indices(boxes[:2] + [(0, 50, 10, 20)], [0, 0, 1])
    [0, 0, 1]
    """
    if len(boxes) != len(lines):
        raise ValueError(f"{len(boxes)} boxes but {len(lines)} lines")
    tall = np.array([b[3] for b in boxes], float)
    heights = {k: float(np.median(tall[np.asarray(lines) == k])) for k in set(lines)}
    pairs = [i for i in range(1, len(boxes)) if lines[i] == lines[i - 1]]
    gaps = {i: boxes[i][0] - (boxes[i - 1][0] + boxes[i - 1][2]) for i in pairs}
    relative = {i: gaps[i] / max(1.0, heights[lines[i]]) for i in pairs}
    typical = max(0.25, float(np.quantile(list(relative.values()), 0.25))) if pairs else 0.0
    numbers, current = [], 0
    for i in range(len(boxes)):
        if i and (
            lines[i] != lines[i - 1]
            or relative[i] > max(NUMBER_GAP, NUMBER_GAP_OVER_TYPICAL * typical)
        ):
            current += 1
        numbers.append(current)
    return numbers


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
