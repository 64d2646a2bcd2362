"""Where the digits of a synthetic sheet go, and how large the sheet is.

:func:`_layout` places every glyph on its line (on the rule of ruled paper, one per square
of squared paper, on a slight slope on plain paper) and sizes the sheet to the content or
fits the content into a given size, checking that no digit's ink leaves the sheet once it
is rotated (:func:`_rotation_matrix`). :mod:`.sheets` draws the paper and the ink there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from .glyphs import _Glyph
from .styles import NOMINAL_ASPECT, SheetStyle


@dataclass(frozen=True)
class _Layout:
    """Digit positions and the ruling, in sheet coordinates before rotation."""

    width: int
    height: int
    pitch: float  # baseline-to-baseline distance
    rule_y0: float  # y of one rule (a baseline); rules repeat every pitch
    grid_x0: float  # x of one vertical grid line (squared paper); repeats every pitch


def _line_cursor_positions(
    glyphs: list[_Glyph],
    style: SheetStyle,
    pitch: float,
    h_nom: float,
    rng: np.random.Generator,
    starts: frozenset[int] = frozenset(),
) -> list[float]:
    """Return the x of each glyph's ink box within its line, from 0 (content frame).

    A glyph whose index is in ``starts`` begins a new number: ``style.number_gap`` nominal
    heights (and up to 40 % more) after the last.
    """
    xs: list[float] = []
    gap_min = style.gap_frac * NOMINAL_ASPECT * h_nom
    cursor = 0.0
    for i, g in enumerate(glyphs):
        if i in starts:
            cursor += style.number_gap * h_nom * rng.uniform(1.0, 1.4)
        bw = g.ink_box[2]
        if style.ruling == "squared":  # one digit per square, centred with a little jitter
            cells = max(1, math.ceil((bw + gap_min) / pitch))
            slack = cells * pitch - bw
            xs.append(cursor + slack / 2 + rng.uniform(-0.1, 0.1) * (slack - gap_min) / 2)
            cursor += cells * pitch
        else:
            if i:
                gap = gap_min * rng.uniform(1.0, 1.3)
                cursor += max(gap, -0.4 * min(bw, glyphs[i - 1].ink_box[2]))  # run into it
            xs.append(cursor)
            cursor += bw
    return xs


def _numbers_of_line(
    glyphs: list[_Glyph], style: SheetStyle, first: int, rng: np.random.Generator
) -> tuple[frozenset[int], list[float]]:
    """Part a line's glyphs into numbers of 1-4 digits (``style.number_size``), from ``first``.

    Only with ``style.number_gap`` > 0 and not on squared paper; sets each glyph's
    ``number``.

    Returns the indices that begin a number (the first excluded) and each glyph's vertical
    shift in nominal heights: each number sits up to a quarter height above or below.
    Without numbers the line is number ``first``, unshifted, and ``rng`` is not drawn from.
    """
    if not style.number_gap or style.ruling == "squared":
        for g in glyphs:
            g.number = first
        return frozenset(), [0.0] * len(glyphs)
    starts, shifts, i, number = set(), [], 0, first
    while i < len(glyphs):
        size, shift = int(rng.integers(1, 5)), float(rng.uniform(-0.25, 0.25))
        size = style.number_size or size
        if i:
            starts.add(i)
        for g in glyphs[i : i + size]:
            g.number = number
            shifts.append(shift)
        i, number = i + size, number + 1
    return frozenset(starts), shifts


def _ink_positions(
    glyphs: list[_Glyph],
    lines: Sequence[int],
    heights: Sequence[int],
    style: SheetStyle,
    pitch: float,
    rng: np.random.Generator,
) -> list[tuple[float, float]]:
    """Return each glyph's ink box origin in a content frame (before the sheet is sized).

    Line k's baseline (the rule it sits on) is at y = k * pitch; lines start at x = a
    small indent.
    """
    lo, hi = style.digit_height
    h_nom = (lo + hi) / 2
    ink_pos: list[tuple[float, float]] = []
    start = 0
    number = 0
    for k, n in enumerate(lines):
        line_glyphs = glyphs[start : start + n]
        starts, shifts = _numbers_of_line(line_glyphs, style, number, rng)
        number = line_glyphs[-1].number + 1
        xs = _line_cursor_positions(line_glyphs, style, pitch, h_nom, rng, starts)
        indent = 0.0 if style.ruling == "squared" else rng.uniform(0.0, 0.15) * hi
        slope = 0.0 if style.ruling else rng.uniform(-0.015, 0.015)
        for g, x, h, shift in zip(line_glyphs, xs, heights[start : start + n], shifts, strict=True):
            if style.ruling == "ruled":  # sit on the rule; may touch it, never cross mid-digit
                dy = rng.uniform(-0.07, 0.015) * h
            elif style.ruling == "squared":
                dy = rng.uniform(-0.1, -0.03) * h
            else:
                dy = rng.uniform(-0.1, 0.1) * h + slope * x
            bottom = k * pitch + dy + shift * h_nom
            ink_pos.append((indent + x, bottom - g.ink_box[3]))
        start += n
    return ink_pos


def _layout(
    glyphs: list[_Glyph],
    lines: Sequence[int],
    heights: Sequence[int],
    size: tuple[int, int] | None,
    style: SheetStyle,
    rng: np.random.Generator,
) -> _Layout:
    """Place every glyph (sets ``x``/``y``) and size the sheet; returns the ruling geometry."""
    hi = style.digit_height[1]
    pitch = style.line_spacing * hi
    margin = max(8.0, 0.25 * hi)
    ink_pos = _ink_positions(glyphs, lines, heights, style, pitch, rng)

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
