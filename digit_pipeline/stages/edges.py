"""Edge stages: Gaussian blur, Canny edges and their dilation into one blob per digit."""

from __future__ import annotations

import cv2
import numpy as np

from ..aliases import GrayImage
from ..validation import check_float, check_image, check_int


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
