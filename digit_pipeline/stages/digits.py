"""Digits from boxes: black-and-white ROIs and MNIST-faithful 28x28 digits."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..aliases import Box, DigitBatch, GrayImage
from ..model.contract import MNIST_SIZE
from ..validation import check_image, check_int
from .crops import MIN_INK_CONTRAST, _binarize, _clean_crop, _crop

MNIST_BOX = 20
"""MNIST digits are fitted into a box of this side, keeping their aspect ratio."""

MNIST_CENTER = 14.0
"""Where MNIST puts a digit's centre of mass (row and column, pixel-index coordinates)."""

MNIST_STROKE = 2.4
"""Median stroke width of MNIST training digits in 28x28 pixels (:func:`stroke_width`)."""

THIN_STROKE = 1.2
"""Strokes thinner than this once fitted into MNIST's box are thickened (0.3 % of MNIST's are)."""


# Long: the numpydoc docstring (parameters, raises, a doctest) is 45 of its 63 lines.
def extract_roi_black_white(
    gray: GrayImage,
    boxes: Sequence[Box],
    threshold: int | None = None,
    *,
    remove_lines: bool = False,
    max_side: int | None = None,
    min_contrast: int = MIN_INK_CONTRAST,
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
        ``min_contrast`` grey levels has no ink (an all-black ROI).
    remove_lines : bool
        Remove ruled/squared-paper lines running through the box before thresholding:
        lines longer than 1.5 times the box are suppressed (see :func:`remove_lines`),
        judged on strips that extend past the box.
    max_side : int, optional
        Shrink each crop (area interpolation) so its longer side is at most this before
        thresholding; MNIST digits are 20 px, so ~100 px loses nothing and is fast.
    min_contrast : int
        :data:`MIN_INK_CONTRAST` unless the sheet's own ink is faint
        (:func:`~digit_pipeline.stages.ink.ink_floor`).

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
            if remove_lines
            else _crop(gray, (x, y, w, h), factor)
        )
        rois.append(_binarize(crop, threshold, min_contrast))
    return rois


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


PAIR_SHAPE = (28, 56)
"""A box read as a pair of digits is cut this size (height, width): two MNIST digits wide."""


def resize_pairs(rois: Sequence[GrayImage]) -> np.ndarray:
    """Cut white-on-black ROIs that hold two digits as :data:`PAIR_SHAPE` images.

    As :func:`resize_rois` cuts one digit, but into a box twice as wide: each ROI is
    cropped tight to its ink, fitted into 20 x 48 keeping its aspect ratio and centred
    (the pair reader, :mod:`digit_pipeline.training.pairs`, reads these).

    Parameters
    ----------
    rois : sequence of ndarray of shape (h, w), uint8

    Returns
    -------
    ndarray of shape (N, 28, 56), uint8

    Examples
    --------
    >>> import numpy as np
    >>> pair = np.zeros((50, 80), np.uint8); pair[5:45, 10:20] = 255; pair[5:45, 50:75] = 255
    >>> out = resize_pairs([pair])
    >>> out.shape, int(out[0].any(1).sum()), int(out[0].any(0).sum())
    ((1, 28, 56), 20, 18)
    """
    height, width = PAIR_SHAPE
    out = np.zeros((len(rois), height, width), np.uint8)
    for i, roi in enumerate(rois):
        check_image(roi, f"rois[{i}]", allow_color=False)
        rows, cols = np.nonzero(roi.any(axis=1))[0], np.nonzero(roi.any(axis=0))[0]
        if rows.size == 0:
            continue
        ink = _thicken_thin_strokes(roi[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
        h, w = ink.shape
        factor = min(MNIST_BOX / h, (width - 2 * (height - MNIST_BOX) // 2) / w)
        new_w, new_h = max(1, round(w * factor)), max(1, round(h * factor))
        interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
        small = cv2.resize(ink, (new_w, new_h), interpolation=interpolation)
        top, left = (height - new_h) // 2, (width - new_w) // 2
        out[i, top : top + new_h, left : left + new_w] = small
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
