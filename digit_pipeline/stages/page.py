"""Page-level stages: the whole sheet before any box is found.

Grey conversion, the working copy, uneven lighting and ruled lines. The desk around a
photographed sheet, and the sheet's outline on it, are in :mod:`.surround`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..aliases import GrayImage, Image
from ..validation import check_image, check_int

STEP_SIZE = 320
"""Longer side of the copy :func:`~digit_pipeline.stages.surround.page_surround` looks for
the desk around a sheet on (and :func:`flatten_lighting` estimates the paper on)."""

LIGHTING_WINDOW = 10
""":func:`flatten_lighting` fills in ink with a closing 1/this of the image's side wide."""

DIM_PAPER = 120.0
""":func:`flatten_lighting` brings paper darker than this (an underexposed photo) up to it."""


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
