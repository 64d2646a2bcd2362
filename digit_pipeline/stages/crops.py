"""Crop a box out of the page and tell its ink from its paper.

The helpers shared by the box and digit stages: a crop (optionally shrunk, optionally
without the ruled lines running through it) and its binarisation.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..aliases import Box, GrayImage
from .page import _line_ink

MIN_INK_CONTRAST = 24
"""Inside a box, ink and paper must differ by at least this many grey levels (by default:
a sheet whose own ink is faint asks less, :func:`~digit_pipeline.stages.ink.ink_floor`)."""


def _shrink(image: GrayImage, factor: float) -> GrayImage:
    """Shrink by ``factor`` (area interpolation); a large shrink goes in two steps.

    Area interpolation by a whole factor is a plain box average and fast; by any other
    factor OpenCV weighs every source pixel per target pixel, which on a strip past a
    page-tall box of a 12 MP photo takes tens of milliseconds. So a shrink below a
    quarter first averages by the largest whole factor that stays above the target, then
    finishes by area as before.
    """
    if factor >= 1.0 or image.size == 0:
        return image
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    step = int(0.5 / factor)
    if step >= 2 and min(image.shape) >= 2 * step:
        h, w = (image.shape[0] // step) * step, (image.shape[1] // step) * step
        image = cv2.resize(image[:h, :w], (w // step, h // step), interpolation=cv2.INTER_AREA)
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


def _binarize(
    crop: GrayImage, threshold: int | None, min_contrast: int = MIN_INK_CONTRAST
) -> GrayImage:
    if crop.size == 0:
        return np.zeros((max(1, crop.shape[0]), max(1, crop.shape[1])), np.uint8)
    if threshold is None:
        _, ink = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        # Mean paper minus mean ink, from exact integer sums (called for every box, so
        # OpenCV's sums rather than NumPy's boolean indexing: five times faster).
        dark_count, count = cv2.countNonZero(ink), crop.size
        if dark_count in (0, count):
            return np.zeros_like(crop)
        total = int(cv2.sumElems(crop)[0])
        dark = int(cv2.sumElems(cv2.bitwise_and(crop, ink))[0])
        if (total - dark) / (count - dark_count) - dark / dark_count < min_contrast:
            return np.zeros_like(crop)
        return ink
    return np.where(crop <= threshold, 255, 0).astype(np.uint8)
