"""One digit as ink: an MNIST image turned into a smooth alpha mask, pen or pencil."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from ..aliases import Box
from .styles import TRUTH_ALPHA, FloatImage, SheetStyle

__all__ = ["digit_alpha"]


@dataclass
class _Glyph:
    """One digit ready to composite: alpha patch, its ink box and its sheet position."""

    alpha: FloatImage  # (h, w) float32 in [0, 1]
    ink_box: Box  # tight box of alpha > TRUTH_ALPHA inside the patch
    label: int
    line: int
    source_index: int
    number: int = 0  # which number of the sheet (SheetStyle.number_gap)
    x: int = 0  # patch origin on the unrotated sheet
    y: int = 0


def _ink_bbox(mask: npt.NDArray[np.bool_]) -> Box | None:
    """Tight (x, y, w, h) box of the True pixels of `mask`, or None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def digit_alpha(  # Long: a 48-line numpydoc docstring with doctests; the body is ~35
    digit: npt.NDArray[np.uint8],
    height: int,
    stroke_px: int = 0,
    *,
    pen_px: float | None = None,
) -> FloatImage:
    """Turn one MNIST digit into a smooth ink alpha mask of a given ink height.

    The digit is cropped to its ink, upscaled (cubic) or downscaled (area) so that its
    ink is `height` pixels tall (very wide digits are capped at 1.3 x `height` wide),
    its edges are sharpened to a ~2 px ramp like a real pen line, and the stroke is
    thickened (dilation) or thinned (erosion) by `stroke_px` pixels. With `pen_px`,
    the strokes are instead thinned to their centre line and redrawn with a round pen
    `pen_px` wide (anti-aliased); the ink then ends about half the MNIST stroke width
    short of `height` at the tips, plus half the pen width.

    Parameters
    ----------
    digit : ndarray of shape (S, S), uint8
        MNIST image (or a larger glyph), white digit on black.
    height : int
        Target ink height in pixels (>= 4).
    stroke_px : int, optional
        Stroke width change in pixels: > 0 thickens, < 0 thins.
    pen_px : float or None, optional
        Redraw the digit with a pen this many pixels wide (>= 1); `stroke_px` must be 0.

    Returns
    -------
    ndarray of shape (h, w), float32
        Alpha in [0, 1], with a transparent border of a few pixels.

    Raises
    ------
    ValueError
        If `digit` is not a 2-D uint8 image with some ink, `height` < 4, `pen_px` < 1
        or both `pen_px` and `stroke_px` are given.

    Examples
    --------
    >>> import numpy as np
    >>> digit = np.zeros((28, 28), np.uint8)
    >>> digit[4:24, 12:16] = 255
    >>> alpha = digit_alpha(digit, 100)
    >>> alpha.dtype, float(alpha.max())
    (dtype('float32'), 1.0)
    >>> rows = np.flatnonzero((alpha > TRUTH_ALPHA).any(axis=1))
    >>> abs(int(rows[-1] - rows[0] + 1) - 100) <= 2
    True
    >>> pen = digit_alpha(digit, 100, pen_px=3)
    >>> 2 <= int((pen[50] > 0.5).sum()) <= 4
    True
    """
    if digit.ndim != 2 or digit.dtype != np.uint8:
        raise ValueError(f"digit must be a 2-D uint8 image, got {digit.dtype} {digit.shape}")
    if height < 4:
        raise ValueError(f"height must be >= 4, got {height}")
    if pen_px is not None and (pen_px < 1 or stroke_px):
        raise ValueError(f"pen_px must be >= 1 and stroke_px 0, got {pen_px} and {stroke_px}")
    box = _ink_bbox(digit > 25)
    if box is None:
        raise ValueError("digit has no ink (no pixel > 25)")
    x, y, w, h = box
    crop = np.pad(digit[y : y + h, x : x + w].astype(np.float32) / 255.0, 2)
    scale = min(height / h, 1.3 * height / w)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    alpha = cv2.resize(crop, size, interpolation=interp)
    # A cubic upscale blurs every edge over ~`scale` pixels; a real pen line on a
    # photo has a ~2 px edge, so steepen the ramp around the MNIST mid-level (0.45)
    # to a width of 1/steep, keeping 0 at 0 (no halo) and, for steep = 1, identity.
    width = 1.0 / max(1.0, scale / 2.0)
    low = 0.45 * (1.0 - width)
    alpha = np.clip((alpha - low) / width, 0.0, 1.0)
    if pen_px is not None:
        return _redraw_with_pen(alpha, float(pen_px))
    pad = abs(stroke_px) + 2
    alpha = np.pad(alpha, pad)
    if stroke_px:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (abs(stroke_px) + 1,) * 2)
        op = cv2.dilate if stroke_px > 0 else cv2.erode
        alpha = op(alpha, kernel)
    return alpha.astype(np.float32, copy=False)


_SKELETON_HEIGHT = 96
"""Digits are thinned to their centre line at most this many pixels tall."""


def _thin(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Zhang-Suen thinning of a binary mask to one-pixel-wide centre lines."""
    img = np.pad(mask, 1).astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            # Neighbours P2..P9, clockwise from north.
            nb = [
                img[:-2, 1:-1],
                img[:-2, 2:],
                img[1:-1, 2:],
                img[2:, 2:],
                img[2:, 1:-1],
                img[2:, :-2],
                img[1:-1, :-2],
                img[:-2, :-2],
            ]
            count = sum(n.astype(np.int32) for n in nb)
            turns = sum((nb[i] == 0) & (nb[(i + 1) % 8] == 1) for i in range(8))
            p2, p4, p6, p8 = nb[0], nb[2], nb[4], nb[6]
            if step == 0:
                side = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                side = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            remove = (c == 1) & (count >= 2) & (count <= 6) & (turns == 1) & side
            if remove.any():
                c[remove] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


def _redraw_with_pen(alpha: FloatImage, pen_px: float) -> FloatImage:
    """Redraw a digit's alpha along its strokes' centre line with a round pen.

    The centre line is found on a copy at most :data:`_SKELETON_HEIGHT` pixels tall
    (thinning is iterative); its distance field is scaled back up, so the pen's edge
    stays smooth at any size.
    """
    alpha = np.pad(alpha, math.ceil(pen_px / 2) + 2)
    h, w = alpha.shape
    scale = min(1.0, _SKELETON_HEIGHT / h)
    small = alpha
    if scale < 1:
        small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(alpha, small_size, interpolation=cv2.INTER_AREA)
    skeleton = _thin(small > 0.5)
    if not skeleton.any():  # nothing survived the threshold: keep the strongest pixel
        skeleton = small >= small.max()
    dist = cv2.distanceTransform((~skeleton).astype(np.uint8), cv2.DIST_L2, 5)
    if scale < 1:  # distances are smooth: scale the field, not the thin line
        dist = cv2.resize(dist * np.float32(w / small.shape[1]), (w, h), cv2.INTER_LINEAR)
    return np.clip(pen_px / 2 + 0.5 - dist, 0.0, 1.0).astype(np.float32)


def _pencil_grain(alpha: FloatImage, rng: np.random.Generator) -> FloatImage:
    """Modulate an alpha mask with fine graphite-on-paper grain and uneven pressure."""
    grain = rng.standard_normal(alpha.shape, dtype=np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 1.0)
    grain /= max(float(grain.std()), 1e-6)
    h, w = alpha.shape
    pressure = rng.uniform(0.8, 1.0, size=(3, 3)).astype(np.float32)
    pressure = cv2.resize(pressure, (w, h), interpolation=cv2.INTER_LINEAR)
    factor = np.clip(0.86 + 0.13 * grain, 0.45, 1.0) * pressure
    return (alpha * factor).astype(np.float32)


def _make_glyph(
    digit: npt.NDArray[np.uint8],
    height: int,
    style: SheetStyle,
    rng: np.random.Generator,
) -> tuple[FloatImage, Box]:
    """Return one digit's final alpha patch (grain, opacity) and its ink box in it."""
    if style.stroke_frac is None:
        alpha = digit_alpha(digit, height, style.stroke_px)
    else:
        alpha = digit_alpha(digit, height, pen_px=max(1.0, style.stroke_frac * height))
    if style.ink == "pencil":
        alpha = _pencil_grain(alpha, rng)
    opacity = style.ink_opacity * rng.uniform(0.93, 1.0)
    alpha = (alpha * np.float32(opacity)).astype(np.float32)
    box = _ink_bbox(alpha > TRUTH_ALPHA)
    if box is None:  # a very faint or thin digit: fall back to its strongest ink
        box = _ink_bbox(alpha >= 0.5 * float(alpha.max()))
    assert box is not None
    return alpha, box
