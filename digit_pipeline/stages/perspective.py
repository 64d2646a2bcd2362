"""The page found in a photo, warped flat: a four-point perspective transform.

A sheet photographed at an angle is a quadrilateral; its rows slope and its digits lean.
:func:`page_corners` finds the sheet (:func:`~digit_pipeline.stages.find_page`: the
well-lit quadrilateral on a darker desk) and :func:`flatten_page` maps it onto an upright
rectangle, so that every later stage sees the page as a scanner would give it. A scan or a
crop with no page edge has no corners and is read as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..aliases import Box, Image
from ..validation import check_corners, check_image
from .page import to_gray
from .surround import find_page

MIN_SIDE = 16
"""The flattened page is at least this many pixels on each side."""


def order_corners(corners: object) -> np.ndarray:
    """Return four corners in the order top-left, top-right, bottom-right, bottom-left.

    The corners are sorted by their angle around their centre, clockwise on the image
    (y grows downwards), starting from the one nearest the image's top-left (smallest
    ``x + y``). Any order in, the same order out.

    Parameters
    ----------
    corners : array-like of shape (4, 2)
        (x, y) pixels, in any order.

    Returns
    -------
    ndarray of shape (4, 2), float32

    Examples
    --------
    >>> order_corners([[90, 80], [10, 10], [12, 85], [95, 5]]).astype(int).tolist()
    [[10, 10], [95, 5], [90, 80], [12, 85]]
    """
    points = check_corners(corners)
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ring = points[np.argsort(angles)]  # clockwise on screen: y points down
    first = int(np.argmin(ring.sum(axis=1)))
    return np.roll(ring, -first, axis=0)


def flattened_size(corners: object) -> tuple[int, int]:
    """Return the (width, height) of the page ``corners`` enclose, flattened.

    Each side is as long as the longer of the two opposite sides of the quadrilateral
    (at least :data:`MIN_SIDE`), so the page loses no resolution where it was nearest.

    Examples
    --------
    >>> flattened_size([[0, 0], [100, 0], [90, 50], [10, 50]])
    (101, 52)
    """
    top_left, top_right, bottom_right, bottom_left = order_corners(corners)
    width = max(np.linalg.norm(top_right - top_left), np.linalg.norm(bottom_right - bottom_left))
    height = max(np.linalg.norm(bottom_left - top_left), np.linalg.norm(bottom_right - top_right))
    return max(MIN_SIDE, round(width) + 1), max(MIN_SIDE, round(height) + 1)


def flatten_page(image: Image, corners: object) -> Image:
    """Warp the quadrilateral ``corners`` of ``image`` onto an upright rectangle.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
    corners : array-like of shape (4, 2)
        The page's corners in ``image``'s pixels, in any order (:func:`order_corners`);
        they may lie outside the image, which is then continued by its border pixels.

    Returns
    -------
    ndarray of shape (h, w) or (h, w, C), uint8
        A new image of size :func:`flattened_size`.

    Examples
    --------
    >>> import numpy as np
    >>> photo = np.zeros((100, 120), np.uint8)
    >>> photo[20:80, 30:90] = 255                      # an upright white card
    >>> flat = flatten_page(photo, [[30, 20], [89, 20], [89, 79], [30, 79]])
    >>> flat.shape, int(flat.min())
    ((60, 60), 255)
    """
    check_image(image)
    matrix, (width, height) = _page_matrix(corners)
    return cv2.warpPerspective(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _page_matrix(corners: object) -> tuple[np.ndarray, tuple[int, int]]:
    """Return the flattening's 3x3 matrix (photo to page) and the page's (width, height)."""
    source = order_corners(corners)
    width, height = flattened_size(source)
    target = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32
    )
    return cv2.getPerspectiveTransform(source, target), (width, height)


def boxes_in_photo(boxes: Sequence[Box], corners: object) -> list[Box]:
    """Map boxes on the page flattened from ``corners`` back onto the photo.

    Each box's four corners are carried back by the inverse of :func:`flatten_page`'s
    transform; the box in the photo is the smallest upright one around them.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
        Pixels of the flattened page.
    corners : array-like of shape (4, 2)
        The page's corners in the photo, as given to :func:`flatten_page`.

    Returns
    -------
    list of (x, y, w, h)
        Pixels of the photo.

    Examples
    --------
    >>> corners = [[30, 20], [89, 20], [89, 79], [30, 79]]    # an upright page: a shift
    >>> boxes_in_photo([(5, 10, 20, 30)], corners)
    [(35, 30, 20, 30)]
    """
    if not len(boxes):
        return []
    matrix, _ = _page_matrix(corners)
    xywh = np.asarray(boxes, np.float64).reshape(-1, 4)
    x0, y0 = xywh[:, 0], xywh[:, 1]
    x1, y1 = x0 + xywh[:, 2], y0 + xywh[:, 3]
    points = np.stack([np.stack(c, axis=1) for c in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], 1)
    back = cv2.perspectiveTransform(points.reshape(-1, 1, 2), np.linalg.inv(matrix))
    back = np.round(back.reshape(-1, 4, 2), 3)  # no floor below a whole pixel by rounding error
    low, high = np.floor(back.min(axis=1)), np.ceil(back.max(axis=1))
    return [
        (int(lx), int(ly), max(1, int(hx - lx)), max(1, int(hy - ly)))
        for (lx, ly), (hx, hy) in zip(low, high, strict=True)
    ]


def page_corners(image: Image) -> np.ndarray | None:
    """Find the corners of the sheet in a photo, ordered as :func:`order_corners` does.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8

    Returns
    -------
    ndarray of shape (4, 2), float32, or None
        ``None`` for a scan or a crop: no whole sheet on a darker desk.

    Examples
    --------
    >>> import numpy as np
    >>> photo = np.full((300, 400), 60, np.uint8)            # a dark desk...
    >>> photo[50:250, 60:340] = 230                          # ...with a card on it
    >>> page_corners(photo).round(-1).astype(int).tolist()
    [[60, 50], [340, 50], [340, 250], [60, 250]]
    >>> page_corners(photo[50:250, 60:340]) is None
    True
    """
    found = find_page(to_gray(image))
    return None if found is None else order_corners(found)
