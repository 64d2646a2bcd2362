"""Shapes drawn round digits: an ellipse or a rectangle in the ink, told from a digit.

People ring a number, or box it. A ring that does not touch its digits is its own blob and
the judge sets it aside; one that a digit crosses makes one blob with the digit, and the
pair reads as a 0. :func:`drawn_shapes` finds the blobs whose outline is an ellipse or a
rectangle drawn all round, with ink inside it (a 0 or a loop of an 8 is a ring with
nothing inside), and :func:`remove_shapes` paints the ring's band with paper, so the
digits inside are boxed and read alone. A digit crossing the ring loses a band one pen
wide where it crossed.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..aliases import GrayImage
from ..validation import check_image
from .digits import stroke_width
from .page import flatten_lighting

__all__ = ["DIGIT_INK", "SHAPE_INK", "drawn_shapes", "remove_shapes"]

SHAPE_INK = 40
"""Grey levels below the paper from which a pixel is the pen's (a shape is drawn firmly)."""
DIGIT_INK = 15
"""Grey levels below the paper from which a pixel inside a shape is ink (a pencil digit)."""

_ON_OUTLINE = 0.8  # this share of the blob's outline lies on the fitted shape...
_ROUND = 0.85  # ...and the shape's outline is inked this share of the way round
_NEAR = 1.5  # "on": within this many pen widths (and 2 px)
_INSIDE = 0.25  # a piece of ink inside, away from the ring, this share of its width tall
_PAPER = 0.5  # paper (no ink of the blob) on this share of the ring's inside
_THIN = 5.0  # the shape is at least this many pen widths across, both ways
_SMALLEST = 24  # px: smaller blobs are never shapes
_LARGER = 1.4  # a ring is this many times a digit's height, tall or wide (a 0 is a ring)
_FRAMED = 1.0  # a drawn box, this many (no digit is a rectangle drawn all round)


def drawn_shapes(gray: GrayImage, paper: float | None = None) -> np.ndarray:
    """Return a mask (bool, H x W) of the ink of shapes drawn round digits.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper whose lighting is even.
    paper : float, optional
        The paper's grey level; default the image's median.

    Returns
    -------
    ndarray of shape (H, W), bool
        True on the band of each shape found (the ring's pixels of its blob); the
        digits' own pixels off that band stay False.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> page = np.full((200, 300), 230, np.uint8)
    >>> _ = cv2.ellipse(page, (150, 100), (80, 60), 0, 0, 360, 30, 4)
    >>> page[60:140, 146:154] = 30  # a 1 whose ends cross the ring
    >>> ring = drawn_shapes(page)
    >>> bool(ring[100, 230]), bool(ring[100, 150])
    (True, False)
    >>> plain = np.full((200, 300), 230, np.uint8)
    >>> _ = cv2.ellipse(plain, (150, 100), (30, 45), 0, 0, 360, 30, 8)  # a 0
    >>> bool(drawn_shapes(plain).any())
    False
    """
    check_image(gray, "gray", allow_color=False)
    paper = float(np.median(gray)) if paper is None else float(paper)
    ink = (gray < paper - SHAPE_INK).astype(np.uint8)
    any_ink = (gray < paper - DIGIT_INK).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    found = np.zeros(gray.shape, bool)
    big = [k for k in range(1, count) if min(stats[k, 2:4]) >= _SMALLEST]
    if not big:
        return found
    pen = stroke_width(ink * 255)  # the page's pen, once: a shape is drawn with the same
    # a digit's height: the median blob's (a 1 is narrow, not short). Where rings are as
    # many as the digits, or more, the median is a ring's and none is taken for a shape
    tall = stats[1:, cv2.CC_STAT_HEIGHT]
    typical = float(np.median(tall[tall >= _SMALLEST]))
    for k in big:
        x, y, w, h = stats[k, :4]
        if min(w, h) < _THIN * pen or max(w, h) < _FRAMED * typical:
            continue
        pad = 2 + int(0.2 * max(w, h))  # room for a fitted outline past the blob
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(gray.shape[1], x + w + pad), min(gray.shape[0], y + h + pad)
        blob = (labels[y0:y1, x0:x1] == k).astype(np.uint8)
        ring = max(w, h) >= _LARGER * typical  # smaller: only a box, drawn tight
        band = _ring_band(blob, any_ink[y0:y1, x0:x1], pen, typical, ring=ring)
        if band is not None:
            found[y0:y1, x0:x1] |= band
    return found


def _ring_band(
    blob: np.ndarray, ink: np.ndarray, pen: float, typical: float, *, ring: bool = True
) -> np.ndarray | None:
    """Return the band of ``blob`` (uint8 0/1) on a fitted ellipse or rectangle, or None.

    Without ``ring``, only a rectangle: a blob no larger than a digit fitted by an ellipse
    may be a 0 (a slashed one has ink inside), never a box drawn all round.
    """
    contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    points = max(contours, key=len)
    if len(points) < 20:
        return None
    near = max(2.0, _NEAR * pen)
    inked = cv2.dilate(blob, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    for outline in _fitted_outlines(points, blob.shape, pen, ring=ring):
        dist = cv2.distanceTransform(1 - outline, cv2.DIST_L2, 3)
        if np.mean(dist[points[:, 0, 1], points[:, 0, 0]] <= near) < _ON_OUTLINE:
            continue
        if inked[outline > 0].mean() < _ROUND:
            continue
        filled = _filled(outline)
        within = cv2.erode(filled, np.ones((3, 3), np.uint8), iterations=int(pen) + 1)
        if within.sum() == 0 or ((within > 0) & (blob == 0)).mean(where=within > 0) < _PAPER:
            continue  # a thick 0: its own stroke fills the ring
        inside = cv2.erode(within, np.ones((3, 3), np.uint8), iterations=int(pen) + 1)
        if _tallest_piece(ink * inside) < _INSIDE * min(_width(inside), typical):
            continue  # a ring with nothing inside is a 0 (pencil grain is no digit)
        # the shape's own pen (its ink along the outline), not the digits': a thin ring
        # round bold digits takes a thin band, and a stroke along it keeps the rest
        thick = float(((blob > 0) & (dist <= near)).sum()) / max(1, int(outline.sum()))
        return (blob > 0) & (dist <= min(near, thick + 1.5))
    return None


def _tallest_piece(ink: np.ndarray) -> int:
    """Return the height in px of the tallest connected piece of ``ink`` (uint8 0/1)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return int(stats[1:, cv2.CC_STAT_HEIGHT].max()) if count > 1 else 0


def _width(mask: np.ndarray) -> int:
    """Return the smaller side in px of the box round ``mask``'s True pixels."""
    ys, xs = np.nonzero(mask)
    return int(min(np.ptp(ys), np.ptp(xs))) + 1 if len(ys) else 0


def _fitted_outlines(
    points: np.ndarray, shape: tuple[int, int], pen: float, *, ring: bool = True
) -> list:
    """Return one-pixel outlines (uint8) of the ellipse and rectangle fitted to ``points``.

    Only those at least :data:`_THIN` pen widths across, both ways; the ellipse only with
    ``ring``.
    """
    outlines = []
    (cx, cy), (a, b), angle = cv2.fitEllipse(points)
    if ring and min(a, b) >= _THIN * pen:
        outline = np.zeros(shape, np.uint8)
        cv2.ellipse(outline, ((cx, cy), (a, b), angle), 1, 1)
        outlines.append(outline)
    rect = cv2.minAreaRect(points)
    if min(rect[1]) >= _THIN * pen:
        outline = np.zeros(shape, np.uint8)
        corners = np.round(cv2.boxPoints(rect)).astype(np.int32)
        cv2.polylines(outline, [corners], True, 1, 1)
        outlines.append(outline)
    return outlines


def _filled(outline: np.ndarray) -> np.ndarray:
    """Return the inside of a closed one-pixel ``outline`` (uint8 0/1), outline included."""
    contours, _ = cv2.findContours(outline, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(outline)
    cv2.drawContours(filled, contours, -1, 1, cv2.FILLED)
    return filled


def remove_shapes(gray: GrayImage) -> GrayImage:
    """Paint the band of each shape drawn round digits (:func:`drawn_shapes`) with paper.

    Shapes are found on a copy whose lighting is evened out, and painted with the paper
    around them (the brightest grey within a few pen widths), so a shape in a shadow leaves
    no light band. Run before the ruled lines are removed: a rectangle's sides are long
    straight lines, and a rectangle missing two sides is no shape.

    Parameters
    ----------
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.

    Returns
    -------
    ndarray of shape (H, W), uint8
        A new image (the same values where no shape was found).

    Examples
    --------
    >>> import cv2, numpy as np
    >>> page = np.full((200, 300), 230, np.uint8)
    >>> _ = cv2.rectangle(page, (60, 40), (240, 160), 30, 4)
    >>> page[60:140, 146:154] = 30
    >>> clean = remove_shapes(page)
    >>> int(clean[40, 100]), int(clean[100, 150])
    (230, 30)
    """
    check_image(gray, "gray", allow_color=False)
    band = drawn_shapes(flatten_lighting(gray)).astype(np.uint8)
    if not band.any():
        return gray.copy()
    band = cv2.dilate(band, np.ones((3, 3), np.uint8))  # its soft edge
    reach = 2 * int(cv2.distanceTransform(band, cv2.DIST_L2, 3).max()) + 3
    paper = cv2.dilate(gray, np.ones((reach, reach), np.uint8))  # the paper beside the band
    out = gray.copy()
    out[band > 0] = paper[band > 0]
    return out
