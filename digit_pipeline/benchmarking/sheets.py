r"""Synthesise photographed sheets of handwritten digits from MNIST digit images.

A sheet is built in the order a real photo comes about:

1. paper: a tinted base colour, optionally with ruled lines or a squared grid;
2. ink: each MNIST digit is cropped to its ink, upscaled to the wanted height with
   smooth (cubic/area) interpolation into an alpha mask in [0, 1], thickened or
   thinned, and composited as ``out = paper * (1 - a) + ink * a`` inside its own box;
3. the whole sheet is rotated by a small angle (the truth boxes follow the ink);
4. camera: uneven lighting, an optional soft shadow, optical blur, sensor noise and
   finally a JPEG encode/decode round trip.

Everything is deterministic for a given :class:`numpy.random.Generator` (or seed);
the module never touches a global random state and never imports streamlit.

Truth format (returned next to the image)::

    {"width": W, "height": H, "text": "462\n119",
     "digits": [{"box": [x, y, w, h], "label": 4, "line": 0, "source_index": 17}, ...]}

``box`` is the tight box, in final image pixels, of the pixels where the digit's
ink alpha exceeds :data:`TRUTH_ALPHA`; digits are listed in reading order (lines top
to bottom, left to right within a line) and ``line`` counts from 0.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from .aliases import Box, ColorImage, DigitBatch

__all__ = [
    "TRUTH_ALPHA",
    "InkKind",
    "Ruling",
    "SheetStyle",
    "digit_alpha",
    "encode_jpeg",
    "jpeg_roundtrip",
    "make_sheet",
    "place_on_desk",
]

FloatImage = npt.NDArray[np.float32]
"""Float image of shape (H, W) or (H, W, C), float32 (alpha masks, light fields)."""

InkKind = Literal["pencil", "pen"]
Ruling = Literal["ruled", "squared"]

TRUTH_ALPHA = 0.25
"""Alpha above which a pixel counts as ink for the truth boxes."""

NOMINAL_ASPECT = 0.7
"""Nominal width / height of a digit; gaps are fractions of this nominal width."""

_DEFAULT_INK_RGB: dict[str, tuple[int, int, int]] = {
    "pencil": (112, 112, 118),
    "pen": (26, 30, 52),
}
_RULE_RGB = np.array([140, 178, 222], np.float32)
_RULE_ALPHA = 0.55
_SHADOW_TINT = np.array([1.0, 0.96, 0.86], np.float32)  # shadows are a little blue
_LOWRES_STEP = 4  # illumination fields are computed on a grid this much coarser


@dataclass(frozen=True)
class SheetStyle:
    """How a synthetic sheet looks.

    Parameters
    ----------
    paper_rgb : tuple of 3 int
        Paper colour (RGB, 0-255) under even, full light.
    paper_mottle : float
        Amplitude of the low-frequency blotchiness of the paper (0 = perfectly even).
    lighting : float
        Strength of the lighting gradient, 0-1: the darkest corner receives about
        ``1 - lighting`` of the light of the brightest one.
    shadow : float or bool
        Strength of a soft shadow across part of the page, 0-1 (0 or False = none,
        True = 0.35).
    ink : {"pencil", "pen"}
        Pencil is grey (~90-140) and grainy; pen is dark blue/black (~15-50).
    ink_rgb : tuple of 3 int or None
        Ink colour; None picks the default of `ink`.
    ink_opacity : float
        Peak alpha of the ink, in (0, 1]. Light pencil is ~0.6.
    stroke_px : int
        Stroke thickness change in pixels of the upscaled digit: positive thickens
        (dilation), negative thins (erosion), 0 keeps the MNIST stroke.
    stroke_frac : float or None
        None keeps the MNIST stroke (changed by `stroke_px`). A number redraws the
        digit with a round pen of constant width, that fraction of the digit's ink
        height, along the centre line of the MNIST strokes: ~0.02-0.04 is a thin
        ballpoint (far thinner than erosion can make a stroke without breaking it),
        ~0.12-0.2 a felt marker. `stroke_px` must then be 0.
    blur_sigma : float
        Gaussian blur sigma in pixels (lens / focus), 0 = none.
    noise_sigma : float
        Standard deviation of the sensor noise in grey levels, 0 = none.
    jpeg_quality : int or None
        JPEG quality (1-95) of the final encode/decode round trip; None = no JPEG.
    ruling : {"ruled", "squared"} or None
        None for blank paper, "ruled" for light-blue horizontal rules on which the
        digits sit, "squared" for a grid with one digit per square.
    rotation_deg : float
        Rotation of the whole sheet in degrees, counter-clockwise (small: ±5).
    digit_height : tuple of 2 int
        Range (min, max) of digit ink heights in pixels.
    gap_frac : float
        Minimum horizontal gap between neighbouring digits, as a fraction of the
        nominal digit width (``NOMINAL_ASPECT`` x mean digit height).
    line_spacing : float
        Distance between line baselines as a multiple of the maximum digit height
        (at least 1.2 on ruled or squared paper).

    Examples
    --------
    >>> style = SheetStyle(ink="pencil", ruling="ruled", digit_height=(60, 80))
    >>> style.resolved_ink_rgb()
    (112, 112, 118)
    >>> SheetStyle.from_dict(style.to_dict()) == style
    True
    """

    paper_rgb: tuple[int, int, int] = (238, 233, 218)
    paper_mottle: float = 0.015
    lighting: float = 0.2
    shadow: float | bool = 0.0
    ink: InkKind = "pen"
    ink_rgb: tuple[int, int, int] | None = None
    ink_opacity: float = 1.0
    stroke_px: int = 0
    stroke_frac: float | None = None
    blur_sigma: float = 0.8
    noise_sigma: float = 2.5
    jpeg_quality: int | None = 85
    ruling: Ruling | None = None
    rotation_deg: float = 0.0
    digit_height: tuple[int, int] = (120, 160)
    gap_frac: float = 0.5
    line_spacing: float = 1.6

    def __post_init__(self) -> None:
        """Normalise the shadow flag and validate every field."""
        if isinstance(self.shadow, bool):
            object.__setattr__(self, "shadow", 0.35 if self.shadow else 0.0)
        _check_rgb("paper_rgb", self.paper_rgb)
        if self.ink_rgb is not None:
            _check_rgb("ink_rgb", self.ink_rgb)
        _check_range("paper_mottle", self.paper_mottle, 0.0, 0.5)
        _check_range("lighting", self.lighting, 0.0, 0.9)
        _check_range("shadow", float(self.shadow), 0.0, 0.9)
        if self.ink not in _DEFAULT_INK_RGB:
            raise ValueError(f"ink must be 'pencil' or 'pen', got {self.ink!r}")
        if not 0.0 < self.ink_opacity <= 1.0:
            raise ValueError(f"ink_opacity must be in (0, 1], got {self.ink_opacity}")
        if self.stroke_frac is not None:
            _check_range("stroke_frac", self.stroke_frac, 0.005, 0.4)
            if self.stroke_px:
                raise ValueError("stroke_frac and stroke_px cannot both be set")
        _check_range("blur_sigma", self.blur_sigma, 0.0, 20.0)
        _check_range("noise_sigma", self.noise_sigma, 0.0, 50.0)
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 95:
            raise ValueError(f"jpeg_quality must be None or 1-95, got {self.jpeg_quality}")
        if self.ruling not in (None, "ruled", "squared"):
            raise ValueError(f"ruling must be None, 'ruled' or 'squared', got {self.ruling!r}")
        _check_range("rotation_deg", self.rotation_deg, -45.0, 45.0)
        lo, hi = self.digit_height
        if not 8 <= lo <= hi:
            raise ValueError(
                f"digit_height must be (min, max) with 8 <= min <= max, got {(lo, hi)}"
            )
        _check_range("gap_frac", self.gap_frac, 0.0, 10.0)
        min_spacing = 1.2 if self.ruling else 1.05
        if self.line_spacing < min_spacing:
            raise ValueError(
                f"line_spacing must be >= {min_spacing} with ruling={self.ruling!r}, "
                f"got {self.line_spacing}"
            )

    def resolved_ink_rgb(self) -> tuple[int, int, int]:
        """Return the ink colour, falling back to the default of the ink kind.

        Returns
        -------
        tuple of 3 int
            RGB ink colour.

        Examples
        --------
        >>> SheetStyle(ink="pen").resolved_ink_rgb()
        (26, 30, 52)
        """
        return tuple(self.ink_rgb) if self.ink_rgb is not None else _DEFAULT_INK_RGB[self.ink]

    def to_dict(self) -> dict[str, Any]:
        """Return the style as plain JSON-serialisable values (tuples become lists).

        Returns
        -------
        dict
            Field name to value.

        Examples
        --------
        >>> SheetStyle().to_dict()["digit_height"]
        [120, 160]
        """
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SheetStyle:
        """Build a style from :meth:`to_dict` output (lists become tuples).

        Parameters
        ----------
        data : dict
            Field name to value; unknown keys raise ``TypeError``.

        Returns
        -------
        SheetStyle
            The style.

        Examples
        --------
        >>> SheetStyle.from_dict({"ink": "pencil", "paper_rgb": [250, 250, 250]}).paper_rgb
        (250, 250, 250)
        """
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass
class _Glyph:
    """One digit ready to composite: alpha patch, its ink box and its sheet position."""

    alpha: FloatImage  # (h, w) float32 in [0, 1]
    ink_box: Box  # tight box of alpha > TRUTH_ALPHA inside the patch
    label: int
    line: int
    source_index: int
    x: int = 0  # patch origin on the unrotated sheet
    y: int = 0


# ----------------------------------------------------------------------------- validation


def _check_rgb(name: str, value: Sequence[int]) -> None:
    if len(value) != 3 or not all(0 <= int(c) <= 255 for c in value):
        raise ValueError(f"{name} must be 3 values in 0-255, got {value!r}")


def _check_range(name: str, value: float, lo: float, hi: float) -> None:
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")


def _as_rng(rng: np.random.Generator | int) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


# ----------------------------------------------------------------------------- digits


def _ink_bbox(mask: npt.NDArray[np.bool_]) -> Box | None:
    """Tight (x, y, w, h) box of the True pixels of `mask`, or None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def digit_alpha(
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


# ----------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    """Digit positions and the ruling, in sheet coordinates before rotation."""

    width: int
    height: int
    pitch: float  # baseline-to-baseline distance
    rule_y0: float  # y of one rule (a baseline); rules repeat every pitch
    grid_x0: float  # x of one vertical grid line (squared paper); repeats every pitch


def _line_cursor_positions(
    glyphs: list[_Glyph], style: SheetStyle, pitch: float, h_nom: float, rng: np.random.Generator
) -> list[float]:
    """Return the x of each glyph's ink box within its line, from 0 (content frame)."""
    xs: list[float] = []
    gap_min = style.gap_frac * NOMINAL_ASPECT * h_nom
    cursor = 0.0
    for i, g in enumerate(glyphs):
        bw = g.ink_box[2]
        if style.ruling == "squared":  # one digit per square, centred with a little jitter
            cells = max(1, math.ceil((bw + gap_min) / pitch))
            slack = cells * pitch - bw
            xs.append(cursor + slack / 2 + rng.uniform(-0.1, 0.1) * (slack - gap_min) / 2)
            cursor += cells * pitch
        else:
            if i:
                cursor += gap_min * rng.uniform(1.0, 1.3)
            xs.append(cursor)
            cursor += bw
    return xs


def _layout(
    glyphs: list[_Glyph],
    lines: Sequence[int],
    heights: Sequence[int],
    size: tuple[int, int] | None,
    style: SheetStyle,
    rng: np.random.Generator,
) -> _Layout:
    """Place every glyph (sets ``x``/``y``) and size the sheet; returns the ruling geometry."""
    lo, hi = style.digit_height
    h_nom = (lo + hi) / 2
    pitch = style.line_spacing * hi
    margin = max(8.0, 0.25 * hi)
    # Ink boxes in a content frame: line k's baseline (the rule it sits on) at
    # y = k * pitch; lines start at x = small indent.
    ink_pos: list[tuple[float, float]] = []
    start = 0
    for k, n in enumerate(lines):
        line_glyphs = glyphs[start : start + n]
        xs = _line_cursor_positions(line_glyphs, style, pitch, h_nom, rng)
        indent = 0.0 if style.ruling == "squared" else rng.uniform(0.0, 0.15) * hi
        slope = 0.0 if style.ruling else rng.uniform(-0.015, 0.015)
        for g, x, h in zip(line_glyphs, xs, heights[start : start + n], strict=True):
            if style.ruling == "ruled":  # sit on the rule; may touch it, never cross mid-digit
                dy = rng.uniform(-0.07, 0.015) * h
            elif style.ruling == "squared":
                dy = rng.uniform(-0.1, -0.03) * h
            else:
                dy = rng.uniform(-0.1, 0.1) * h + slope * x
            bottom = k * pitch + dy
            ink_pos.append((indent + x, bottom - g.ink_box[3]))
        start += n

    pairs = zip(ink_pos, glyphs, strict=True)
    boxes = np.array([(x, y, g.ink_box[2], g.ink_box[3]) for (x, y), g in pairs])
    x_min, y_min = boxes[:, 0].min(), boxes[:, 1].min()
    x_max, y_max = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    content_w, content_h = x_max - x_min, y_max - y_min
    theta = math.radians(style.rotation_deg)
    cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
    if size is None:  # size the sheet to the rotated content plus margins, content centred
        width = math.ceil(content_w * cos + content_h * sin + 2 * margin)
        height = math.ceil(content_w * sin + content_h * cos + 2 * margin)
        off_x = (width - content_w) / 2 - x_min
        off_y = (height - content_h) / 2 - y_min
    else:
        width, height = (int(v) for v in size)
        free_x = width - 2 * margin - content_w
        free_y = height - 2 * margin - content_h
        if free_x < 0 or free_y < 0:
            raise ValueError(
                f"size {size} is too small for the digits: content needs about "
                f"{math.ceil(content_w + 2 * margin)}x{math.ceil(content_h + 2 * margin)} px"
            )
        off_x = margin - x_min + free_x * rng.uniform(0.15, 0.45)
        off_y = margin - y_min + free_y * rng.uniform(0.3, 0.6)

    for g, (x, y) in zip(glyphs, ink_pos, strict=True):
        g.x = round(x + off_x) - g.ink_box[0]
        g.y = round(y + off_y) - g.ink_box[1]
    _check_fits(glyphs, width, height, style.rotation_deg)
    # Content-frame baselines are at y = k * pitch and squares start at x = 0.
    return _Layout(width, height, pitch, rule_y0=off_y, grid_x0=off_x)


def _rotation_matrix(width: int, height: int, degrees: float) -> npt.NDArray[np.float64]:
    """2x3 affine matrix rotating the sheet about its centre (counter-clockwise)."""
    return cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)


def _check_fits(glyphs: list[_Glyph], width: int, height: int, degrees: float) -> None:
    """Raise ValueError when a digit's (rotated) ink box would leave the sheet."""
    m = _rotation_matrix(width, height, degrees)
    for g in glyphs:
        bx, by, bw, bh = g.ink_box
        x0, y0 = g.x + bx, g.y + by
        corners = np.array([[x0, y0, 1], [x0 + bw, y0, 1], [x0, y0 + bh, 1], [x0 + bw, y0 + bh, 1]])
        pts = corners @ m.T
        if pts.min() < 1 or pts[:, 0].max() > width - 1 or pts[:, 1].max() > height - 1:
            raise ValueError(
                f"size ({width}, {height}) is too small for the digits at "
                f"rotation_deg={degrees}: digit {g.source_index} leaves the sheet"
            )


# ----------------------------------------------------------------------------- rendering


def _paper(width: int, height: int, style: SheetStyle, layout: _Layout) -> ColorImage:
    """Plain paper colour with the ruling drawn on it, uint8 (H, W, 3)."""
    out = np.empty((height, width, 3), np.uint8)
    out[:] = np.asarray(style.paper_rgb, np.uint8)
    if style.ruling is None:
        return out
    thick = max(1, round(layout.pitch / 60))
    rule_rgb = np.asarray(style.paper_rgb, np.float32) * (1 - _RULE_ALPHA) + _RULE_RGB * _RULE_ALPHA
    rule = np.rint(rule_rgb).astype(np.uint8)
    first = layout.rule_y0 - math.floor(layout.rule_y0 / layout.pitch) * layout.pitch
    for y in np.arange(first, height, layout.pitch):
        y0 = round(y) - thick // 2
        out[max(0, y0) : max(0, y0 + thick)] = rule
    if style.ruling == "squared":
        first = layout.grid_x0 - math.floor(layout.grid_x0 / layout.pitch) * layout.pitch
        for x in np.arange(first, width, layout.pitch):
            x0 = round(x) - thick // 2
            out[:, max(0, x0) : max(0, x0 + thick)] = rule
    return out


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


def _smooth_noise(shape: tuple[int, int], cells: int, rng: np.random.Generator) -> FloatImage:
    """Zero-mean, unit-ish smooth noise of `shape` with about `cells` blobs per side."""
    h, w = shape
    gh = max(2, round(cells * h / max(h, w))) + 1
    gw = max(2, round(cells * w / max(h, w))) + 1
    coarse = rng.standard_normal((gh, gw), dtype=np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _shadow(
    xx: FloatImage, yy: FloatImage, strength: float, rng: np.random.Generator
) -> FloatImage:
    """Per-channel light factor (h, w, 3) of a soft shadow entering from one side.

    The shadow (a hand or the phone) has a slightly curved, blurred edge and covers
    roughly 20-45 % of the page; it is a little bluish, like shade under daylight.
    """
    side = rng.uniform(0, 2 * np.pi)
    nx, ny = np.cos(side), np.sin(side)
    along = (xx - 0.5) * -ny + (yy - 0.5) * nx
    depth = (xx - 0.5) * nx + (yy - 0.5) * ny  # grows towards the shadowed side
    edge = rng.uniform(0.08, 0.3) + rng.uniform(-0.4, 0.4) * along**2
    soft = rng.uniform(0.04, 0.09)
    inside = 1.0 / (1.0 + np.exp(-(depth - edge) / soft))
    return 1.0 - strength * inside[:, :, None] * _SHADOW_TINT


def _illumination(
    width: int, height: int, style: SheetStyle, rng: np.random.Generator
) -> FloatImage:
    """Per-pixel, per-channel light factor (H, W, 3) float32.

    Combines the lighting gradient, vignetting, paper mottle, the optional shadow and
    blotchy chroma noise; all are smooth, so they are computed on a coarse grid and
    upscaled once.
    """
    lw, lh = max(2, width // _LOWRES_STEP), max(2, height // _LOWRES_STEP)
    yy, xx = np.mgrid[0:lh, 0:lw].astype(np.float32)
    xx /= lw - 1
    yy /= lh - 1
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    vignette = (xx - 0.5) ** 2 + (yy - 0.5) ** 2
    light = 1.0 - style.lighting * (0.8 * ramp + 0.4 * vignette)
    mottle = _smooth_noise((lh, lw), 6, rng) * 0.7 + _smooth_noise((lh, lw), 24, rng) * 0.3
    light *= 1.0 + style.paper_mottle * mottle
    field = np.repeat(light[:, :, None], 3, axis=2)
    if style.shadow > 0:
        field *= _shadow(xx, yy, float(style.shadow), rng)
    if style.noise_sigma > 0:  # phone-like chroma blotches, a few pixels wide
        chroma = rng.standard_normal((lh, lw, 3), dtype=np.float32)
        field *= 1.0 + chroma * np.float32(0.4 * style.noise_sigma / 220.0)
    return cv2.resize(field.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def _rotate(sheet: ColorImage, degrees: float) -> ColorImage:
    """Rotate the sheet about its centre, filling the corners by reflection."""
    h, w = sheet.shape[:2]
    m = _rotation_matrix(w, h, degrees)
    return cv2.warpAffine(
        sheet, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )


def _sensor_noise(image: ColorImage, sigma: float, rng: np.random.Generator) -> ColorImage:
    """Add Gaussian noise of `sigma` grey levels to every channel (saturating uint8).

    Uniform random bytes are mapped through lookup tables of Gaussian quantiles,
    several times faster than drawing normal floats for a 12 MP image.
    """
    normal = NormalDist(0.0, sigma)
    values = np.rint([normal.inv_cdf((i + 0.5) / 256) for i in range(256)])
    up = np.clip(values, 0, 255).astype(np.uint8)
    down = np.clip(-values, 0, 255).astype(np.uint8)
    u = rng.integers(0, 256, size=image.shape, dtype=np.uint8)
    return cv2.subtract(cv2.add(image, cv2.LUT(u, up)), cv2.LUT(u, down))


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


def _camera(sheet: ColorImage, style: SheetStyle, rng: np.random.Generator) -> ColorImage:
    """Apply lighting, shadow, blur and sensor noise to the flat sheet; uint8 RGB out."""
    h, w = sheet.shape[:2]
    image = cv2.multiply(sheet, _illumination(w, h, style, rng), dtype=cv2.CV_8U)
    if style.blur_sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), style.blur_sigma)
    if style.noise_sigma > 0:
        image = _sensor_noise(image, style.noise_sigma, rng)
    return image


def place_on_desk(
    image: ColorImage,
    truth: dict[str, Any],
    rng: np.random.Generator | int = 0,
    margin: float = 0.12,
) -> tuple[ColorImage, dict[str, Any]]:
    """Photograph a sheet lying on a desk: a darker, grainy border around the page.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
        The sheet, e.g. from :func:`make_sheet`.
    truth : dict
        Its truth (``width``, ``height``, ``digits`` with ``box``).
    rng : numpy Generator or int
        Seeds the desk's colour and grain.
    margin : float
        Desk visible on each side, as a share of the sheet's width / height.

    Returns
    -------
    photo : ndarray of shape (H + 2 my, W + 2 mx, 3), uint8
    truth : dict
        A copy with the boxes moved and the new ``width`` and ``height``.

    Examples
    --------
    >>> import numpy as np
    >>> sheet = np.full((100, 200, 3), 240, np.uint8)
    >>> truth = {"width": 200, "height": 100, "digits": [{"box": [10, 20, 30, 40]}]}
    >>> photo, moved = place_on_desk(sheet, truth, margin=0.1)
    >>> photo.shape, moved["digits"][0]["box"], (moved["width"], moved["height"])
    ((120, 240, 3), [30, 30, 30, 40], (240, 120))
    """
    rng = _as_rng(rng)
    _check_range("margin", margin, 0.0, 1.0)
    height, width = image.shape[:2]
    mx, my = round(width * margin), round(height * margin)
    shape = (height + 2 * my, width + 2 * mx)
    base = np.array([95, 70, 50]) + rng.integers(-20, 21, 3)  # wood, darker than paper
    grain = cv2.GaussianBlur(rng.normal(0, 18, shape).astype(np.float32), (0, 0), 3)
    photo = np.clip(base[None, None, :] + grain[..., None], 0, 255).astype(np.uint8)
    photo[my : my + height, mx : mx + width] = image
    moved = {
        **truth,
        "width": shape[1],
        "height": shape[0],
        "digits": [
            {**d, "box": [d["box"][0] + mx, d["box"][1] + my, *d["box"][2:]]}
            for d in truth["digits"]
        ],
    }
    return photo, moved


def encode_jpeg(image: ColorImage, quality: int) -> bytes:
    r"""Encode an RGB image as JPEG bytes with Pillow (4:2:0 chroma, like a camera).

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
        RGB image.
    quality : int
        JPEG quality, 1-95.

    Returns
    -------
    bytes
        The JPEG file contents.

    Examples
    --------
    >>> import numpy as np
    >>> encode_jpeg(np.zeros((8, 8, 3), np.uint8), 80)[:2]
    b'\xff\xd8'
    """
    buf = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def jpeg_roundtrip(image: ColorImage, quality: int) -> ColorImage:
    """Return what `image` looks like after being saved as a JPEG and read back.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
        RGB image.
    quality : int
        JPEG quality, 1-95.

    Returns
    -------
    ndarray of shape (H, W, 3), uint8
        The decoded JPEG; `image` is not modified.

    Examples
    --------
    >>> import numpy as np
    >>> jpeg_roundtrip(np.full((8, 8, 3), 200, np.uint8), 90).shape
    (8, 8, 3)
    """
    with Image.open(io.BytesIO(encode_jpeg(image, quality))) as decoded:
        rgb = decoded if decoded.mode == "RGB" else decoded.convert("RGB")
        return np.array(rgb)


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
        or digits.shape[1] < 28
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


def make_sheet(
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
    sources = list(range(len(digits))) if source_indices is None else list(source_indices)
    line_of = np.repeat(np.arange(len(lines)), np.asarray(lines, dtype=int))

    heights = _digit_heights(len(digits), style, rng)
    glyphs = []
    for digit, label, line, src, h in zip(digits, labels, line_of, sources, heights, strict=True):
        alpha, box = _make_glyph(digit, h, style, rng)
        glyphs.append(_Glyph(alpha, box, int(label), int(line), int(src)))
    layout = _layout(glyphs, lines, heights, size, style, rng)

    sheet = _paper(layout.width, layout.height, style, layout)
    _composite(sheet, glyphs, style.resolved_ink_rgb())
    m = None
    if style.rotation_deg:
        sheet = _rotate(sheet, style.rotation_deg)
        m = _rotation_matrix(layout.width, layout.height, style.rotation_deg)
    image = _camera(sheet, style, rng)
    if style.jpeg_quality is not None:
        image = jpeg_roundtrip(image, style.jpeg_quality)

    text_lines = ["".join(str(g.label) for g in glyphs if g.line == k) for k in range(len(lines))]
    truth = {
        "width": layout.width,
        "height": layout.height,
        "text": "\n".join(text_lines),
        "digits": [
            {
                "box": list(_truth_box(g, m, layout.width, layout.height)),
                "label": g.label,
                "line": g.line,
                "source_index": g.source_index,
            }
            for g in glyphs
        ],
    }
    return image, truth
