"""The reading benchmark's plan: which sheets to draw, deterministically from a seed.

:func:`make_plan` draws a list of :class:`SheetCase`: one *condition* per sheet, round-robin
over :data:`CONDITIONS`, each with its own style, layout and sheet size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .styles import SheetStyle

__all__ = ["CONDITIONS", "MODES", "SheetCase", "make_plan"]

CONDITIONS = (
    "baseline",
    "pencil_lighting",
    "thin_strokes",
    "thick_strokes",
    "small_digits",
    "large_digits",
    "tight_spacing",
    "ruled_squared",
    "rotated",
    "blur_jpeg",
)
"""What each sheet stresses; sheets take them in turn."""

MODES = ("default", "auto")
"""``default``: the :class:`~digit_pipeline.reading.params.PipelineParams` defaults;
``auto``: the fit."""

MIN_MP = 0.5
"""Smallest sheet drawn, in megapixels."""

MAX_MP = 12.0
"""Largest sheet drawn, in megapixels (every :data:`FULL_SIZE_EVERY`-th sheet is this big)."""

FULL_SIZE_EVERY = 7
"""Sheets ``3, 3 + 7, 3 + 14, ...`` are :data:`MAX_MP` photos (4000 x 3000 at 12 MP)."""

_ASPECTS = ((4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (1, 1))
_PAPERS = (  # white, cream, grey recycled, bluish white, yellow note pad
    (248, 247, 243),
    (240, 232, 212),
    (226, 224, 218),
    (234, 238, 244),
    (246, 238, 188),
)
_PENS = (None, (18, 18, 22), (28, 40, 120))  # default dark blue-black, black, blue
_EST_WIDTH = 1.0
"""Conservative ink width of a digit, as a fraction of the tallest digit, for the plan."""


@dataclass(frozen=True)
class SheetCase:
    """One benchmark sheet: what it stresses and everything needed to draw it again.

    Attributes
    ----------
    case_id : str
        ``"<index>_<condition>"``, e.g. ``"007_rotated"``.
    condition : str
        One of :data:`CONDITIONS`.
    style : SheetStyle
        Look of the sheet; ``style.jpeg_quality`` None means the sheet is a PNG.
    lines : tuple of int
        Digits per line, top to bottom.
    size : (width, height)
        Planned sheet size in pixels (drawn a little larger in the rare case the
        digits do not fit; the truth has the final size).
    indices : tuple of int
        Indices into MNIST ``x_test`` of the digits, in reading order.
    seed : int
        Seed of :func:`~digit_pipeline.benchmarking.sheets.make_sheet`.
    """

    case_id: str
    condition: str
    style: SheetStyle
    lines: tuple[int, ...]
    size: tuple[int, int]
    indices: tuple[int, ...]
    seed: int

    @property
    def megapixels(self) -> float:
        """Planned size in megapixels."""
        return self.size[0] * self.size[1] / 1e6

    def to_dict(self) -> dict[str, Any]:
        """Return the case as JSON-ready values.

        Returns
        -------
        dict
            ``case_id, condition, style, lines, size, indices, seed``.
        """
        return {
            "case_id": self.case_id,
            "condition": self.condition,
            "style": self.style.to_dict(),
            "lines": list(self.lines),
            "size": list(self.size),
            "indices": list(self.indices),
            "seed": self.seed,
        }


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _jitter_rgb(rng: np.random.Generator, rgb: tuple[int, int, int], spread: int) -> tuple:
    return tuple(int(np.clip(c + rng.integers(-spread, spread + 1), 0, 255)) for c in rgb)


def _everyday_style(rng: np.random.Generator) -> tuple[dict[str, Any], float]:
    """Style fields of a random everyday sheet, and the tallest digit height drawn for it."""
    ink = "pen" if rng.random() < 0.5 else "pencil"
    hi = _log_uniform(rng, 55, 260)
    kw: dict[str, Any] = {
        "paper_rgb": _jitter_rgb(rng, _PAPERS[rng.integers(len(_PAPERS))], 4),
        "paper_mottle": rng.uniform(0.005, 0.03),
        "lighting": rng.uniform(0.05, 0.3),
        "shadow": rng.uniform(0.15, 0.3) if rng.random() < 0.25 else 0.0,
        "ink": ink,
        "ink_rgb": _PENS[rng.integers(len(_PENS))] if ink == "pen" else None,
        "ink_opacity": 1.0 if ink == "pen" else rng.uniform(0.75, 1.0),
        "blur_sigma": rng.uniform(0.4, 1.2),
        "noise_sigma": rng.uniform(1.0, 3.5),
        "jpeg_quality": int(rng.integers(75, 93)) if rng.random() < 0.8 else None,
        "rotation_deg": rng.uniform(-1.0, 1.0),
        "gap_frac": rng.uniform(0.3, 0.9),
        "line_spacing": rng.uniform(1.35, 1.9),
    }
    return kw, hi


def _style_for(condition: str, rng: np.random.Generator) -> dict[str, Any]:
    """Style fields of a sheet of ``condition``: a random everyday sheet, then the stress."""
    kw, hi = _everyday_style(rng)
    if condition == "baseline":
        kw.update(
            paper_rgb=_jitter_rgb(rng, (249, 248, 245), 3),
            paper_mottle=0.01,
            lighting=rng.uniform(0.05, 0.15),
            shadow=0.0,
            ink="pen",
            ink_rgb=None,
            ink_opacity=1.0,
            blur_sigma=rng.uniform(0.5, 0.9),
            noise_sigma=rng.uniform(1.5, 2.5),
            jpeg_quality=int(rng.integers(85, 93)),
            rotation_deg=0.0,
            gap_frac=rng.uniform(0.4, 0.8),
        )
    elif condition == "pencil_lighting":
        kw.update(
            paper_rgb=_jitter_rgb(rng, _PAPERS[1 + rng.integers(len(_PAPERS) - 1)], 6),
            lighting=rng.uniform(0.4, 0.6),
            shadow=rng.uniform(0.3, 0.5),
            ink="pencil",
            ink_rgb=None,
            ink_opacity=rng.uniform(0.55, 0.8),
        )
    elif condition == "thin_strokes":
        kw.update(stroke_frac=rng.uniform(0.02, 0.045))
    elif condition == "thick_strokes":
        kw.update(stroke_frac=rng.uniform(0.12, 0.2), ink="pen", ink_rgb=(18, 18, 22))
        kw.update(ink_opacity=1.0)
    elif condition == "small_digits":
        hi = rng.uniform(48, 60)
        kw.update(digit_height=(40, round(hi)))
    elif condition == "large_digits":
        hi = rng.uniform(300, 400)
        kw.update(digit_height=(max(250, round(hi / 1.25)), round(hi)))
    elif condition == "tight_spacing":
        kw.update(gap_frac=rng.uniform(0.1, 0.2))
    elif condition == "ruled_squared":
        ruling = "ruled" if rng.random() < 0.5 else "squared"
        kw.update(ruling=ruling, line_spacing=rng.uniform(1.3, 1.7))
    elif condition == "rotated":
        kw.update(rotation_deg=float(rng.choice([-1, 1]) * rng.uniform(2.0, 5.0)))
    elif condition == "blur_jpeg":
        kw.update(blur_sigma=rng.uniform(1.5, 2.5), jpeg_quality=int(rng.integers(40, 61)))
    else:
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    if "digit_height" not in kw:
        kw["digit_height"] = (max(8, round(hi / rng.uniform(1.15, 1.35))), round(hi))
    return kw


def _needed_size(style: SheetStyle, lines: Sequence[int]) -> tuple[float, float]:
    """Conservative (width, height) a layout needs, margins and rotation included."""
    lo, hi = style.digit_height
    pitch = style.line_spacing * hi
    gap = style.gap_frac * 0.7 * (lo + hi) / 2 * 1.3
    if style.ruling == "squared":
        per_digit = math.ceil((_EST_WIDTH * hi + gap) / pitch) * pitch
        content_w = max(lines) * per_digit
    else:
        content_w = 0.15 * hi + max(lines) * _EST_WIDTH * hi + (max(lines) - 1) * gap
        # numbers apart: about two gaps in three part numbers, each up to 1.4 x number_gap
        content_w += 0.7 * (max(lines) - 1) * style.number_gap * 1.4 * (lo + hi) / 2
    content_h = (len(lines) - 1) * pitch + 1.25 * hi
    if style.ruling is None:
        content_h += 0.03 * content_w  # lines may slope
    theta = math.radians(style.rotation_deg)
    cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
    margin = 2 * max(8.0, 0.25 * hi) + 4
    return content_w * cos + content_h * sin + margin, content_w * sin + content_h * cos + margin


def _fit_layout(
    style: SheetStyle, lines: list[int], size: tuple[int, int]
) -> tuple[list[int], tuple[int, int]]:
    """Trim the layout to the sheet (keeping >= 1 line of >= 2), then grow the sheet if needed."""
    width, height = size
    while True:
        need_w, need_h = _needed_size(style, lines)
        over_w, over_h = need_w / width, need_h / height
        if max(over_w, over_h) <= 1:
            return lines, size
        if over_w >= over_h and max(lines) > 2:
            cap = max(lines) - 1
            lines = [min(n, cap) for n in lines]
        elif len(lines) > 1:
            lines = lines[:-1]
        elif max(lines) > 2:
            lines = [lines[0] - 1]
        else:
            grow = max(over_w, over_h)
            return lines, (math.ceil(width * grow), math.ceil(height * grow))


def _sheet_size(
    rng: np.random.Generator, index: int, condition: str, max_mp: float
) -> tuple[int, int]:
    a, b = _ASPECTS[rng.integers(len(_ASPECTS))]
    if index % FULL_SIZE_EVERY == 3:
        mp = max_mp
        a, b = (4, 3) if a >= b else (3, 4)
    elif condition == "small_digits":
        mp = _log_uniform(rng, min(4.0, max_mp), max_mp)
    else:
        mp = _log_uniform(rng, min(MIN_MP, max_mp), max_mp)
    width = math.sqrt(mp * 1e6 * a / b)
    return round(width), round(width * b / a)


def make_plan(
    n_sheets: int,
    seed: int = 0,
    *,
    n_digits_available: int = 10_000,
    conditions: Sequence[str] = CONDITIONS,
    max_mp: float = MAX_MP,
) -> list[SheetCase]:
    """Draw the benchmark's sheets, deterministically from ``seed``.

    Sheet ``i`` has condition ``conditions[i % len(conditions)]`` and depends only on
    ``seed``, ``i`` and the other arguments, so a longer plan extends a shorter one.

    Parameters
    ----------
    n_sheets : int
        How many sheets (>= 1).
    seed : int
        Seed of the whole plan.
    n_digits_available : int
        Length of MNIST ``x_test``; every index drawn is below it.
    conditions : sequence of str
        Subset of :data:`CONDITIONS` to take in turn.
    max_mp : float
        Largest sheet in megapixels (>= 0.1); sizes are drawn up to it. A layout that
        cannot be trimmed to fit may still need a slightly larger sheet.

    Returns
    -------
    list of SheetCase

    Raises
    ------
    ValueError
        If a count is not positive or a condition is unknown.

    Examples
    --------
    >>> plan = make_plan(10, seed=1, n_digits_available=200)
    >>> sorted(case.condition for case in plan) == sorted(CONDITIONS)
    True
    >>> make_plan(3, seed=1, n_digits_available=200) == plan[:3]
    True
    """
    _check_plan_args(n_sheets, n_digits_available, conditions, max_mp)
    return [
        _case(i, seed, conditions[i % len(conditions)], n_digits_available, max_mp)
        for i in range(n_sheets)
    ]


def _check_plan_args(
    n_sheets: int, n_digits_available: int, conditions: Sequence[str], max_mp: float
) -> None:
    """Raise ``ValueError`` for the arguments :func:`make_plan` refuses."""
    if n_sheets < 1 or n_digits_available < 1:
        raise ValueError(f"need >= 1 sheet and digit, got {n_sheets} and {n_digits_available}")
    if not conditions:
        raise ValueError("conditions must not be empty")
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown conditions {unknown}; known: {', '.join(CONDITIONS)}")
    if max_mp < 0.1:
        raise ValueError(f"max_mp must be >= 0.1, got {max_mp}")


def _case(i: int, seed: int, condition: str, n_digits_available: int, max_mp: float) -> SheetCase:
    """Draw sheet ``i`` of a plan: it depends only on its arguments."""
    rng = np.random.default_rng([seed, i])
    style = SheetStyle(**_style_for(condition, rng))
    lines = [int(n) for n in rng.integers(2, 13, size=int(rng.integers(1, 7)))]
    size = _sheet_size(rng, i, condition, max_mp)
    lines, size = _fit_layout(style, lines, size)
    total = sum(lines)
    indices = rng.choice(n_digits_available, total, replace=total > n_digits_available)
    return SheetCase(
        case_id=f"{i:03d}_{condition}",
        condition=condition,
        style=style,
        lines=tuple(lines),
        size=size,
        indices=tuple(int(k) for k in indices),
        seed=int(rng.integers(2**31)),
    )
