r"""Synthesise photographed sheets of handwritten digits from MNIST digit images.

A sheet is built in the order a real photo comes about:

1. paper: a tinted base colour, optionally with ruled lines or a squared grid;
2. ink (:mod:`.glyphs`): each MNIST digit is cropped to its ink, upscaled to the wanted
   height with smooth (cubic/area) interpolation into an alpha mask in [0, 1], thickened
   or thinned, and composited as ``out = paper * (1 - a) + ink * a`` inside its own box;
3. the whole sheet is rotated by a small angle (the truth boxes follow the ink);
4. camera (:mod:`.camera`): uneven lighting, an optional soft shadow, optical blur, sensor
   noise and finally a JPEG encode/decode round trip.

Where each digit goes on the paper and how large the sheet is are worked out before the
paper is drawn (:mod:`.layout`).

The look is a :class:`~.styles.SheetStyle`. Everything is deterministic for a given
:class:`numpy.random.Generator` (or seed); the module never touches a global random state
and never imports streamlit.

Truth format (returned next to the image)::

    {"width": W, "height": H, "text": "462\n119",
     "digits": [{"box": [x, y, w, h], "label": 4, "line": 0, "number": 0,
                 "source_index": 17}, ...]}

``box`` is the tight box, in final image pixels, of the pixels where the digit's
ink alpha exceeds :data:`TRUTH_ALPHA`; digits are listed in reading order (lines top
to bottom, left to right within a line); ``line`` and ``number`` count from 0. Each line
is one number unless the style writes numbers apart (``SheetStyle.number_gap``): the text
then parts them with a space (``"1000 99 20"``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ..aliases import Box, ColorImage, DigitBatch
from ..model.contract import MNIST_SIZE
from ..reading.results import lines_text
from .camera import _camera, jpeg_roundtrip
from .glyphs import _Glyph, _ink_bbox, _make_glyph
from .layout import _Layout, _layout, _rotation_matrix
from .styles import TRUTH_ALPHA, SheetStyle, _as_rng

__all__ = ["make_sheet"]

_RULE_RGB = np.array([140, 178, 222], np.float32)
_RULE_ALPHA = 0.55
_DOT_RGB = np.array([105, 105, 112], np.float32)  # dot grids are printed grey, and darker
_DOT_ALPHA = 0.7


# ----------------------------------------------------------------------------- rendering


def _paper(width: int, height: int, style: SheetStyle, layout: _Layout) -> ColorImage:
    """Plain paper colour with the ruling drawn on it, uint8 (H, W, 3)."""
    out = np.empty((height, width, 3), np.uint8)
    out[:] = np.asarray(style.paper_rgb, np.uint8)
    if style.ruling is None:
        return out
    thick = max(1, round(layout.pitch / 60))
    rule = _printed_on(style.paper_rgb, _RULE_RGB, _RULE_ALPHA)
    pitch = layout.pitch / style.rule_divisions
    rows = _repeats(layout.rule_y0, pitch, height)
    columns = _repeats(layout.grid_x0, pitch, width) if style.ruling == "squared" else []
    if style.rule_print == "solid":
        for y in rows:
            y0 = round(y) - thick // 2
            out[max(0, y0) : max(0, y0 + thick)] = rule
        for x in columns:
            x0 = round(x) - thick // 2
            out[:, max(0, x0) : max(0, x0 + thick)] = rule
        return out
    if style.rule_print == "dotted":
        colour = tuple(int(c) for c in _printed_on(style.paper_rgb, _DOT_RGB, _DOT_ALPHA))
        # squared: a dot at each crossing; ruled: a row of close dots along each rule
        step = pitch if columns else pitch / 6
        radius = max(1, round(1.2 * thick))
        for y in rows:
            for x in columns or _repeats(0.0, step, width):
                cv2.circle(out, (round(x), round(y)), radius, colour, -1, cv2.LINE_AA)
        return out
    colour = tuple(int(c) for c in rule)
    dash, period = 0.3 * pitch, 0.5 * pitch  # dashes 0.3 of a square long, 0.2 apart
    for y in rows:
        for x in _repeats(layout.grid_x0, period, width):
            cv2.line(out, (round(x), round(y)), (round(x + dash), round(y)), colour, thick)
    for x in columns:
        for y in _repeats(layout.rule_y0, period, height):
            cv2.line(out, (round(x), round(y)), (round(x), round(y + dash)), colour, thick)
    return out


def _printed_on(paper_rgb: tuple[int, int, int], rgb: np.ndarray, alpha: float) -> np.ndarray:
    """Return the colour of ink ``rgb`` printed at ``alpha`` on ``paper_rgb``, uint8 (3,)."""
    blend = np.asarray(paper_rgb, np.float32) * (1 - alpha) + rgb * alpha
    return np.rint(blend).astype(np.uint8)


def _repeats(start: float, step: float, end: int) -> list[float]:
    """Every position ``start + k * step`` (any whole k) in ``[0, end)``."""
    return list(np.arange(start - math.floor(start / step) * step, end, step))


def _composite(sheet: ColorImage, glyphs: list[_Glyph], ink_rgb: tuple[int, int, int]) -> None:
    """Composite every glyph's ink onto `sheet` in place, only inside its patch."""
    ink = np.asarray(ink_rgb, np.float32)
    height, width = sheet.shape[:2]
    for g in glyphs:
        h, w = g.alpha.shape
        x0, y0 = max(0, g.x), max(0, g.y)
        x1, y1 = min(width, g.x + w), min(height, g.y + h)
        region = sheet[y0:y1, x0:x1].astype(np.float32)
        a = g.alpha[y0 - g.y : y1 - g.y, x0 - g.x : x1 - g.x, None]
        region *= 1.0 - a
        region += a * ink
        sheet[y0:y1, x0:x1] = np.rint(region).astype(np.uint8)


def _draw_shapes(
    sheet: ColorImage, glyphs: list[_Glyph], style: SheetStyle, rng: np.random.Generator
) -> None:
    """Draw an ellipse or a rectangle round ``style.shapes`` of the numbers, in the ink.

    The shape leaves 0-35 % of the number's height free around its ink box, or cuts into
    it by up to 8 % (a digit then crosses the shape), in a pen about as wide as the digits'.
    """
    ink = tuple(int(v) for v in style.resolved_ink_rgb())
    for number in sorted({g.number for g in glyphs}):
        if rng.random() >= style.shapes:
            continue
        boxes = np.array(
            [(g.x + g.ink_box[0], g.y + g.ink_box[1], g.ink_box[2], g.ink_box[3])
             for g in glyphs if g.number == number]
        )  # fmt: skip
        x0, y0 = boxes[:, :2].min(axis=0)
        x1, y1 = (boxes[:, :2] + boxes[:, 2:]).max(axis=0)
        tall = float(y1 - y0)
        margin = float(rng.uniform(-0.08, 0.35)) * tall
        pen = max(2, round(float(rng.uniform(0.05, 0.1)) * tall))
        if rng.random() < 0.5:
            centre = (round((x0 + x1) / 2), round((y0 + y1) / 2))
            axes = (round((x1 - x0) / 2 * 1.15 + margin), round(tall / 2 * 1.15 + margin))
            cv2.ellipse(sheet, centre, axes, 0.0, 0.0, 360.0, ink, pen, cv2.LINE_AA)
        else:
            m = round(margin)
            cv2.rectangle(sheet, (x0 - m, y0 - m), (x1 + m, y1 + m), ink, pen, cv2.LINE_AA)


def _rotate(sheet: ColorImage, degrees: float) -> ColorImage:
    """Rotate the sheet about its centre, filling the corners by reflection."""
    h, w = sheet.shape[:2]
    m = _rotation_matrix(w, h, degrees)
    return cv2.warpAffine(
        sheet, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def _truth_box(g: _Glyph, m: npt.NDArray[np.float64] | None, width: int, height: int) -> Box:
    """Tight box of the glyph's ink (alpha > TRUTH_ALPHA) in final image pixels."""
    if m is None:
        bx, by, bw, bh = g.ink_box
        return g.x + bx, g.y + by, bw, bh
    h, w = g.alpha.shape
    corners = np.array([[g.x, g.y, 1], [g.x + w, g.y, 1], [g.x, g.y + h, 1], [g.x + w, g.y + h, 1]])
    pts = corners @ m.T
    dx0, dy0 = np.floor(pts.min(axis=0)).astype(int) - 1
    dx1, dy1 = np.ceil(pts.max(axis=0)).astype(int) + 1
    # Same warp as the sheet, expressed for the patch: p_dst = M p_src - d0, p_src = p + g.xy
    local = m.copy()
    local[:, 2] += m[:, :2] @ np.array([g.x, g.y]) - np.array([dx0, dy0])
    warped = cv2.warpAffine(
        g.alpha, local, (int(dx1 - dx0), int(dy1 - dy0)), flags=cv2.INTER_LINEAR
    )
    box = _ink_bbox(warped > TRUTH_ALPHA) or _ink_bbox(warped >= 0.5 * float(warped.max()))
    assert box is not None
    x0, y0 = max(0, dx0 + box[0]), max(0, dy0 + box[1])
    x1 = min(width, dx0 + box[0] + box[2])
    y1 = min(height, dy0 + box[1] + box[3])
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


# ----------------------------------------------------------------------------- public API


def _digit_heights(n: int, style: SheetStyle, rng: np.random.Generator) -> list[int]:
    """Draw a sheet-wide nominal height in the range and jitter each digit by +-10 %."""
    lo, hi = style.digit_height
    base_lo, base_hi = lo * 1.1, hi / 1.1
    base = rng.uniform(base_lo, base_hi) if base_lo < base_hi else (lo + hi) / 2
    jitter = rng.uniform(0.9, 1.1, size=n)
    return [round(min(hi, max(lo, float(base * j)))) for j in jitter]


def _validate_inputs(
    digits: DigitBatch,
    labels: Sequence[int],
    lines: Sequence[int],
    source_indices: Sequence[int] | None,
) -> None:
    if (
        digits.ndim != 3
        or digits.shape[1] != digits.shape[2]
        or digits.shape[1] < MNIST_SIZE
        or digits.dtype != np.uint8
    ):
        raise ValueError(
            f"digits must be an (N, S, S) uint8 array with S >= 28, got {digits.dtype} "
            f"{digits.shape}"
        )
    if len(lines) == 0 or any(int(n) < 1 for n in lines):
        raise ValueError(f"lines must be a non-empty list of positive counts, got {list(lines)}")
    if sum(lines) != len(digits) or len(labels) != len(digits):
        raise ValueError(
            f"lines must add up to the number of digits and labels: sum(lines)={sum(lines)}, "
            f"digits={len(digits)}, labels={len(labels)}"
        )
    if source_indices is not None and len(source_indices) != len(digits):
        raise ValueError(
            f"source_indices must have one entry per digit, got {len(source_indices)} "
            f"for {len(digits)} digits"
        )


def make_sheet(  # Long: a 50-line numpydoc docstring with doctests; the body is ~20
    digits: DigitBatch,
    labels: Sequence[int],
    lines: Sequence[int],
    size: tuple[int, int] | None = None,
    style: SheetStyle | None = None,
    rng: np.random.Generator | int = 0,
    *,
    source_indices: Sequence[int] | None = None,
) -> tuple[ColorImage, dict[str, Any]]:
    r"""Render MNIST digits as a photographed sheet of handwriting, with its truth.

    Parameters
    ----------
    digits : ndarray of shape (N, S, S), uint8
        MNIST images (white on black, S = 28), or any square digit images as large or
        larger (e.g. glyphs of handwriting fonts), in reading order. Not modified.
    labels : sequence of int, length N
        The digit each image shows.
    lines : sequence of int
        How many digits go on each line, top to bottom; must add up to N.
    size : tuple (W, H) of int or None, optional
        Sheet size in pixels; None sizes the sheet to fit the digits plus margins.
    style : SheetStyle or None, optional
        Look of the sheet; None uses ``SheetStyle()``.
    rng : numpy.random.Generator or int, optional
        Random generator (advanced in place) or seed; the same seed gives the same
        sheet, bit for bit.
    source_indices : sequence of int or None, optional
        Index of each digit in MNIST ``x_test``, copied to the truth; default 0..N-1.

    Returns
    -------
    image : ndarray of shape (H, W, 3), uint8
        RGB image; when ``style.jpeg_quality`` is set, exactly what a JPEG of the
        rendered sheet at that quality decodes to.
    truth : dict
        ``{"width", "height", "text", "digits": [{"box", "label", "line",
        "source_index"}]}``, see the module docstring.

    Raises
    ------
    ValueError
        If the inputs disagree (counts, shapes, dtypes) or the digits do not fit in `size`.

    Examples
    --------
    >>> import numpy as np
    >>> digits = np.zeros((3, 28, 28), np.uint8)
    >>> digits[:, 4:24, 12:16] = 255
    >>> style = SheetStyle(digit_height=(40, 48), jpeg_quality=None)
    >>> image, truth = make_sheet(digits, [1, 1, 1], [2, 1], style=style, rng=7)
    >>> image.dtype, image.shape[2], truth["text"]
    (dtype('uint8'), 3, '11\n1')
    >>> [d["line"] for d in truth["digits"]]
    [0, 0, 1]
    """
    style = SheetStyle() if style is None else style
    rng = _as_rng(rng)
    digits = np.asarray(digits)
    _validate_inputs(digits, labels, lines, source_indices)
    heights = _digit_heights(len(digits), style, rng)
    glyphs = _glyphs(digits, labels, lines, source_indices, heights, style, rng)
    layout = _layout(glyphs, lines, heights, size, style, rng)

    sheet = _paper(layout.width, layout.height, style, layout)
    _composite(sheet, glyphs, style.resolved_ink_rgb())
    if style.shapes:
        _draw_shapes(sheet, glyphs, style, rng)
    m = None
    if style.rotation_deg:
        sheet = _rotate(sheet, style.rotation_deg)
        m = _rotation_matrix(layout.width, layout.height, style.rotation_deg)
    image = _camera(sheet, style, rng)
    if style.jpeg_quality is not None:
        image = jpeg_roundtrip(image, style.jpeg_quality)

    return image, _truth(glyphs, len(lines), layout, m)


def _glyphs(
    digits: DigitBatch,
    labels: Sequence[int],
    lines: Sequence[int],
    source_indices: Sequence[int] | None,
    heights: Sequence[int],
    style: SheetStyle,
    rng: np.random.Generator,
) -> list[_Glyph]:
    """Turn every digit into a glyph (alpha patch, ink box, label, line, source index)."""
    sources = list(range(len(digits))) if source_indices is None else list(source_indices)
    line_of = np.repeat(np.arange(len(lines)), np.asarray(lines, dtype=int))
    glyphs = []
    for digit, label, line, src, h in zip(digits, labels, line_of, sources, heights, strict=True):
        alpha, box = _make_glyph(digit, h, style, rng)
        glyphs.append(_Glyph(alpha, box, int(label), int(line), int(src)))
    return glyphs


def _truth(
    glyphs: list[_Glyph], n_lines: int, layout: _Layout, m: npt.NDArray[np.float64] | None
) -> dict[str, Any]:
    """Return the sheet's truth (see the module docstring) in final image pixels."""
    text = lines_text(
        [g.label for g in glyphs], [g.line for g in glyphs], numbers=[g.number for g in glyphs]
    )
    return {
        "width": layout.width,
        "height": layout.height,
        "text": text,
        "digits": [
            {
                "box": list(_truth_box(g, m, layout.width, layout.height)),
                "label": g.label,
                "line": g.line,
                "number": g.number,
                "source_index": g.source_index,
            }
            for g in glyphs
        ],
    }
