"""Drawing boxes and their labels on a copy of the image."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..aliases import Box, Image
from ..validation import check_corners, check_image, check_int


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
    canvas = _rgb_copy(image)
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


def shade_outside(gray: Image, outside: np.ndarray, color: tuple[int, int, int] = (90, 0, 30)):
    """Return an RGB copy of ``gray`` with the pixels where ``outside`` is set tinted.

    Shows what :func:`~digit_pipeline.stages.page_surround` took for the desk around the
    sheet: the page found is what stays untinted.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
    outside : ndarray of shape (H, W)
        Non-zero where the image is not the page.
    color : tuple of int
        RGB tint, blended half and half.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((2, 2), np.uint8); mask[0, 0] = 255
    >>> shade_outside(np.full((2, 2), 200, np.uint8), mask)[:, :, 0].tolist()
    [[145, 200], [200, 200]]
    """
    check_image(gray, "gray", allow_color=False)
    rgb = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    tinted = cv2.addWeighted(rgb, 0.5, np.full_like(rgb, color), 0.5, 0)
    where = np.asarray(outside) > 0
    rgb[where] = tinted[where]
    return rgb


def draw_outline(
    image: Image,
    corners: object,
    *,
    color: tuple[int, int, int] = (0, 160, 255),
    thickness: int | None = None,
) -> np.ndarray:
    """Draw the quadrilateral ``corners`` (a page found in a photo) on an RGB copy of ``image``.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
    corners : array-like of shape (4, 2)
        (x, y) pixels, in the order of the outline.
    color : tuple of int
        RGB colour of the outline and of a dot on each corner.
    thickness : int, optional
        Line width; default scales with the image size.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8

    Examples
    --------
    >>> import numpy as np
    >>> out = draw_outline(np.zeros((20, 20), np.uint8), [[2, 2], [17, 2], [17, 17], [2, 17]])
    >>> bool(out[2, 10].any()), bool(out[10, 10].any())     # on the outline, inside it
    (True, False)
    """
    canvas = _rgb_copy(image)
    points = np.rint(check_corners(corners)).astype(np.int32)
    if thickness is None:
        thickness = max(1, round(max(canvas.shape[:2]) / 300))
    thickness = check_int(thickness, "thickness", low=1)
    cv2.polylines(canvas, [points], True, color, thickness, cv2.LINE_AA)
    for x, y in points:
        cv2.circle(canvas, (int(x), int(y)), 3 * thickness, color, -1, cv2.LINE_AA)
    return canvas


def _rgb_copy(image: Image) -> np.ndarray:
    """Return a contiguous RGB copy of a grey, RGB or RGBA ``image`` to draw on."""
    check_image(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(image[..., :3]).copy()
