"""Reading benchmark: synthetic sheets of MNIST **test** digits, read as ``read`` reads them.

``python -m digit_pipeline bench [--sheets N] [--seed S] [--out DIR]`` (wired in by the CLI
through :func:`add_arguments` and :func:`run`):

1. :func:`make_plan` draws a deterministic list of :class:`SheetCase` from the seed: one
   *condition* per sheet, round-robin over :data:`CONDITIONS` (paper tint and uneven
   light, pencil and pen, thin and thick strokes, small and large digits, tight spacing,
   ruled and squared paper, rotation, blur and JPEG), each with its own layout
   (1-6 lines of 2-12 digits), digit size and sheet size (about 0.5-12 MP);
2. :func:`render_case` draws each sheet with :func:`digit_pipeline.synth.make_sheet` and
   encodes it as the camera or scanner would (JPEG, or PNG for a lossless sheet);
3. :func:`read_case` reads the bytes exactly like ``python -m digit_pipeline read``:
   :func:`~digit_pipeline.imageio.decode_image`, then
   :func:`~digit_pipeline.reading.read_sheet` with default parameters (mode ``default``)
   or with :func:`~digit_pipeline.autofit.auto_fit` (mode ``auto``; the fit is timed
   as part of the read);
4. :func:`~digit_pipeline.evaluate.score_sheet` matches found boxes to the truth at
   IoU >= 0.5, and :func:`summarise` pools the sheets per condition and overall.

Every model given with ``--model`` (repeatable) reads the same sheets, in every mode.

``--digits fonts`` draws the same kinds of sheets from digits that MNIST's writers did not
write: the glyphs of handwriting fonts installed on the machine (:func:`font_digits`,
:data:`HANDWRITING_FONTS`). Their shapes — flagged 1s, crossed 7s, open 4s, slanted
script — are a check that the reading generalises beyond MNIST's own strokes.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .aliases import ColorImage
from .synth import SheetStyle, encode_jpeg, make_sheet

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from .params import PipelineParams
    from .reading import SheetReading

__all__ = [
    "CONDITIONS",
    "MODES",
    "Metrics",
    "SheetCase",
    "add_arguments",
    "font_digits",
    "installed_fonts",
    "make_plan",
    "read_case",
    "render_case",
    "report_markdown",
    "run",
    "summarise",
]

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
"""``default``: :class:`~digit_pipeline.params.PipelineParams` defaults; ``auto``: the fit."""

MIN_MP = 0.5
"""Smallest sheet drawn, in megapixels."""

MAX_MP = 12.0
"""Largest sheet drawn, in megapixels (every :data:`FULL_SIZE_EVERY`-th sheet is this big)."""

FULL_SIZE_EVERY = 7
"""Sheets ``3, 3 + 7, 3 + 14, ...`` are :data:`MAX_MP` photos (4000 x 3000 at 12 MP)."""

FAILURE_SIDE = 1600
"""Failure images are shrunk so that their longer side is at most this."""

_ASPECTS = ((4, 3), (3, 4), (3, 2), (2, 3), (16, 9), (1, 1))
_PAPERS = (  # white, cream, grey recycled, bluish white, yellow note pad
    (248, 247, 243),
    (240, 232, 212),
    (226, 224, 218),
    (234, 238, 244),
    (246, 238, 188),
)
HANDWRITING_FONTS = (
    "/usr/share/fonts/opentype/bwht/*.otf",  # fonts-bwht: six people's handwriting
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",  # fonts-comic-neue
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Italic.otf",
    "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",  # fonts-dancingscript
    "/usr/share/fonts/opentype/kaushanscript/*.otf",  # fonts-kaushanscript
    "/usr/share/fonts/truetype/breip/Breip.ttf",  # fonts-breip
    "/usr/share/fonts/truetype/fifthhorseman/*.ttf",  # fonts-dkg-handwriting
    "/usr/share/fonts/truetype/humor-sans/*.ttf",  # fonts-humor-sans
    "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf",  # fonts-klee
    "/usr/share/fonts/truetype/kristi/*.ttf",  # fonts-kristi
    "/usr/share/fonts/truetype/rufscript/*.ttf",  # fonts-rufscript
    "/usr/share/fonts/truetype/sjfonts/*.ttf",  # fonts-sjfonts
    "/usr/share/fonts/truetype/yusei-magic/*.ttf",  # fonts-yusei-magic
)
"""Where Debian's handwriting-font packages put the fonts ``--digits fonts`` draws from."""

GLYPH_SIDE = 112
"""Side of the square white-on-black image each font digit is rendered into."""

_PENS = (None, (18, 18, 22), (28, 40, 120))  # default dark blue-black, black, blue
_EST_WIDTH = 1.0
"""Conservative ink width of a digit, as a fraction of the tallest digit, for the plan."""


# ----------------------------------------------------------------------------- the plan


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
        Seed of :func:`~digit_pipeline.synth.make_sheet`.
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


def _style_for(condition: str, rng: np.random.Generator) -> dict[str, Any]:
    """Style fields of a sheet of ``condition``: a random everyday sheet, then the stress."""
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
    if n_sheets < 1 or n_digits_available < 1:
        raise ValueError(f"need >= 1 sheet and digit, got {n_sheets} and {n_digits_available}")
    if not conditions:
        raise ValueError("conditions must not be empty")
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown conditions {unknown}; known: {', '.join(CONDITIONS)}")
    if max_mp < 0.1:
        raise ValueError(f"max_mp must be >= 0.1, got {max_mp}")
    plan = []
    for i in range(n_sheets):
        rng = np.random.default_rng([seed, i])
        condition = conditions[i % len(conditions)]
        style = SheetStyle(**_style_for(condition, rng))
        lines = [int(n) for n in rng.integers(2, 13, size=int(rng.integers(1, 7)))]
        size = _sheet_size(rng, i, condition, max_mp)
        lines, size = _fit_layout(style, lines, size)
        total = sum(lines)
        indices = rng.choice(n_digits_available, total, replace=total > n_digits_available)
        plan.append(
            SheetCase(
                case_id=f"{i:03d}_{condition}",
                condition=condition,
                style=style,
                lines=tuple(lines),
                size=size,
                indices=tuple(int(k) for k in indices),
                seed=int(rng.integers(2**31)),
            )
        )
    return plan


# ----------------------------------------------------------------------------- drawing


def installed_fonts(patterns: Sequence[str] = HANDWRITING_FONTS) -> list[str]:
    """Return the font files matching ``patterns`` (globs), sorted, each once."""
    from glob import glob

    return sorted({path for pattern in patterns for path in glob(pattern)})


def font_digits(patterns: Sequence[str] = HANDWRITING_FONTS) -> tuple[np.ndarray, np.ndarray]:
    """Render the digits 0-9 of every font matching ``patterns``, MNIST-style.

    Each glyph is drawn white on black and scaled, keeping its aspect ratio, so that its
    ink fills about 80 % of a :data:`GLYPH_SIDE` square, centred.

    Parameters
    ----------
    patterns : sequence of str
        Font files or glob patterns (``*.ttf``, ``*.otf``).

    Returns
    -------
    x : ndarray of shape (10 * fonts, GLYPH_SIDE, GLYPH_SIDE), uint8
    y : ndarray of shape (10 * fonts,), uint8
        The digit of each glyph.

    Raises
    ------
    ValueError
        If no font matches.
    """
    paths = installed_fonts(patterns)
    if not paths:
        raise ValueError(
            "no font matches " + ", ".join(patterns) + " (Debian: apt-get install "
            "fonts-bwht fonts-comic-neue fonts-dancingscript fonts-kaushanscript fonts-breip "
            "fonts-dkg-handwriting fonts-humor-sans fonts-klee fonts-kristi fonts-rufscript "
            "fonts-sjfonts fonts-yusei-magic)"
        )
    images, labels = [], []
    for path in paths:
        font = ImageFont.truetype(path, 2 * GLYPH_SIDE)
        for digit in range(10):
            canvas = Image.new("L", (6 * GLYPH_SIDE, 6 * GLYPH_SIDE), 0)
            ImageDraw.Draw(canvas).text((GLYPH_SIDE, GLYPH_SIDE), str(digit), 255, font=font)
            ink = np.asarray(canvas)
            rows, cols = np.flatnonzero(ink.max(1) > 64), np.flatnonzero(ink.max(0) > 64)
            crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            scale = 0.8 * GLYPH_SIDE / max(crop.shape)
            size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
            small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            glyph = np.zeros((GLYPH_SIDE, GLYPH_SIDE), np.uint8)
            top, left = (GLYPH_SIDE - size[1]) // 2, (GLYPH_SIDE - size[0]) // 2
            glyph[top : top + size[1], left : left + size[0]] = small
            images.append(glyph)
            labels.append(digit)
    return np.stack(images), np.asarray(labels, np.uint8)


def png_bytes(image: ColorImage) -> bytes:
    r"""Encode an RGB image as a PNG (fast compression, like a scanner's output).

    Examples
    --------
    >>> png_bytes(np.zeros((4, 4, 3), np.uint8))[:4]
    b'\x89PNG'
    """
    buf = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def render_case(
    case: SheetCase, x_test: np.ndarray, y_test: np.ndarray
) -> tuple[bytes, dict[str, Any]]:
    """Draw a case's sheet and encode it as a file would hold it.

    The sheet is rendered without JPEG and then encoded once, at
    ``case.style.jpeg_quality`` (or as PNG when that is None), so the decoded bytes are
    exactly what :func:`~digit_pipeline.synth.make_sheet` with that quality returns.

    Parameters
    ----------
    case : SheetCase
        From :func:`make_plan`.
    x_test, y_test : ndarray
        MNIST test images ``(N, 28, 28)`` uint8 and labels.

    Returns
    -------
    data : bytes
        The JPEG or PNG file.
    truth : dict
        As :func:`~digit_pipeline.synth.make_sheet` returns it (final ``width`` and
        ``height`` included).
    """
    idx = np.asarray(case.indices)
    style = replace(case.style, jpeg_quality=None)
    size = case.size
    for attempt in range(10):
        try:
            image, truth = make_sheet(
                x_test[idx],
                [int(v) for v in y_test[idx]],
                case.lines,
                size,
                style,
                case.seed,
                source_indices=case.indices,
            )
            break
        except ValueError as error:  # the plan's estimate was short: draw a larger sheet
            if "too small" not in str(error) or attempt == 9:
                raise
            size = (math.ceil(size[0] * 1.1), math.ceil(size[1] * 1.1))
    quality = case.style.jpeg_quality
    data = png_bytes(image) if quality is None else encode_jpeg(image, quality)
    return data, truth


# ----------------------------------------------------------------------------- reading


def read_case(
    model: keras.Model, data: bytes, mode: str
) -> tuple[SheetReading, PipelineParams, ColorImage, float]:
    """Read an encoded sheet the way ``python -m digit_pipeline read`` does.

    Parameters
    ----------
    model : keras.Model
        A loaded model.
    data : bytes
        The image file.
    mode : {"default", "auto"}
        Default parameters, or the :func:`~digit_pipeline.autofit.auto_fit` of the image.

    Returns
    -------
    reading : SheetReading
        The digits found and read.
    params : PipelineParams
        The parameters used.
    image : ndarray
        The decoded image.
    seconds : float
        Wall time of decode, fit (``auto``) and reading.
    """
    from .autofit import auto_fit
    from .imageio import decode_image
    from .params import PipelineParams
    from .reading import read_sheet

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    start = time.perf_counter()
    image = decode_image(data)
    fit = auto_fit(image) if mode == "auto" else None
    params = PipelineParams() if fit is None else fit.params
    reading, _ = read_sheet(model, image, params, None if fit is None else fit.prepared)
    return reading, params, image, time.perf_counter() - start


def score_record(
    case: SheetCase,
    truth: dict[str, Any],
    reading: SheetReading,
    seconds: float,
    *,
    model: str,
    mode: str,
    params: PipelineParams | None = None,
) -> dict[str, Any]:
    """Score one reading against its truth; return the per-sheet record of ``results.json``.

    Returns
    -------
    dict
        ``case_id, condition, model, mode, width, height, megapixels, truth, found,
        matched, correct, exact, text_exact, seconds, seconds_per_mp, text, truth_text``
        and, when given, ``params``.
    """
    from .evaluate import score_sheet

    score = score_sheet(
        [d.box for d in reading.digits],
        [d.label for d in reading.digits],
        [tuple(d["box"]) for d in truth["digits"]],
        [d["label"] for d in truth["digits"]],
    )
    mp = truth["width"] * truth["height"] / 1e6
    record = {
        "case_id": case.case_id,
        "condition": case.condition,
        "model": model,
        "mode": mode,
        "width": truth["width"],
        "height": truth["height"],
        "megapixels": round(mp, 3),
        "truth": score.truth,
        "found": score.found,
        "matched": score.matched,
        "correct": score.correct,
        "exact": score.exact,
        "text_exact": reading.text == truth["text"],
        "seconds": round(seconds, 4),
        "seconds_per_mp": round(seconds / mp, 4),
        "text": reading.text,
        "truth_text": truth["text"],
    }
    if params is not None:
        record["params"] = params.to_dict()
    return record


# ----------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Metrics:
    """Reading figures pooled over a set of sheets.

    Precision, recall and read accuracy pool the digits of all sheets (a sheet of 60
    digits weighs ten times one of 6); ``exact_share`` and the times count sheets.

    Attributes
    ----------
    sheets, digits, found, matched, correct, exact : int
        Sheets; true digits; boxes found; boxes matched at IoU >= 0.5; matched and read
        right; sheets read exactly (every digit found and right, nothing extra).
    precision, recall, f1, accuracy, exact_share : float
        ``matched / found``, ``matched / digits``, their harmonic mean,
        ``correct / digits``, ``exact / sheets``.
    median_s, p95_s, median_s_per_mp : float
        Seconds per sheet (median, 95th percentile) and median seconds per megapixel.
    """

    sheets: int
    digits: int
    found: int
    matched: int
    correct: int
    exact: int
    precision: float
    recall: float
    f1: float
    accuracy: float
    exact_share: float
    median_s: float
    p95_s: float
    median_s_per_mp: float

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as a JSON-ready dict (floats rounded)."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def summarise(records: Iterable[dict[str, Any]]) -> Metrics:
    """Pool per-sheet records (from :func:`score_record`) into :class:`Metrics`.

    Examples
    --------
    >>> recs = [
    ...     {"truth": 4, "found": 5, "matched": 4, "correct": 3, "exact": False,
    ...      "seconds": 0.2, "seconds_per_mp": 0.1},
    ...     {"truth": 6, "found": 5, "matched": 5, "correct": 5, "exact": False,
    ...      "seconds": 0.4, "seconds_per_mp": 0.3},
    ... ]
    >>> m = summarise(recs)
    >>> m.precision, m.recall, m.accuracy, m.median_s
    (0.9, 0.9, 0.8, 0.30000000000000004)
    """
    records = list(records)
    digits = sum(r["truth"] for r in records)
    found = sum(r["found"] for r in records)
    matched = sum(r["matched"] for r in records)
    correct = sum(r["correct"] for r in records)
    exact = sum(bool(r["exact"]) for r in records)
    precision = matched / found if found else float(digits == 0)
    recall = matched / digits if digits else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    seconds = [r["seconds"] for r in records]
    per_mp = [r["seconds_per_mp"] for r in records]
    return Metrics(
        sheets=len(records),
        digits=digits,
        found=found,
        matched=matched,
        correct=correct,
        exact=exact,
        precision=precision,
        recall=recall,
        f1=f1,
        accuracy=correct / digits if digits else 1.0,
        exact_share=exact / len(records) if records else 0.0,
        median_s=float(np.median(seconds)) if seconds else 0.0,
        p95_s=float(np.percentile(seconds, 95)) if seconds else 0.0,
        median_s_per_mp=float(np.median(per_mp)) if per_mp else 0.0,
    )


def by_condition(records: Sequence[dict[str, Any]]) -> dict[str, Metrics]:
    """Return metrics per condition (in :data:`CONDITIONS` order) plus ``"overall"``."""
    out = {}
    for condition in CONDITIONS:
        mine = [r for r in records if r["condition"] == condition]
        if mine:
            out[condition] = summarise(mine)
    out["overall"] = summarise(records)
    return out


_HEADER = (
    "| condition | sheets | digits | precision | recall | F1 | read | exact | "
    "median s | p95 s | median s/MP |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def table_markdown(table: dict[str, Metrics]) -> str:
    """Format a Markdown table: one row per condition, then the overall row in bold."""
    rows = [_HEADER]
    for name, m in table.items():
        label = f"**{name}**" if name == "overall" else name
        rows.append(
            f"| {label} | {m.sheets} | {m.digits} | {m.precision:.3f} | {m.recall:.3f} | "
            f"{m.f1:.3f} | {m.accuracy:.3f} | {m.exact}/{m.sheets} | {m.median_s:.2f} | "
            f"{m.p95_s:.2f} | {m.median_s_per_mp:.3f} |"
        )
    return "\n".join(rows)


def summary_line(model: str, mode: str, m: Metrics) -> str:
    """Format one line with the overall figures of a (model, mode)."""
    return (
        f"{model} / {mode}: F1 {m.f1:.3f} (P {m.precision:.3f}, R {m.recall:.3f}), "
        f"read {m.correct}/{m.digits} = {m.accuracy:.1%}, exact sheets {m.exact}/{m.sheets} "
        f"= {m.exact_share:.0%}, {m.median_s:.2f} s/sheet median, {m.p95_s:.2f} s p95, "
        f"{m.median_s_per_mp:.3f} s/MP median"
    )


def report_markdown(
    records: Sequence[dict[str, Any]], models: Sequence[str], modes: Sequence[str]
) -> str:
    """Build the report: a table per (model, mode), then one summary line for each."""
    parts, lines = [], []
    for model in models:
        for mode in modes:
            mine = [r for r in records if r["model"] == model and r["mode"] == mode]
            if not mine:
                continue
            table = by_condition(mine)
            parts.append(f"### {model} / {mode}\n\n{table_markdown(table)}\n")
            lines.append("- " + summary_line(model, mode, table["overall"]))
    return "\n".join(parts) + "\n" + "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- failures


def draw_failure(
    image: ColorImage, reading: SheetReading, truth: dict[str, Any], title: str
) -> ColorImage:
    """Draw the truth and the findings on a sheet, cropped to them and shrunk for viewing.

    The sheet is cropped to the boxes (true and found, plus a margin of about half a
    digit) and shrunk so that its longer side is at most :data:`FAILURE_SIDE` pixels.
    True boxes are green with their label below; found boxes red with the label read
    above. ``title`` goes on a white band above the image.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
        The sheet as read.
    reading : SheetReading
        What was found.
    truth : dict
        The sheet's truth (``digits`` with ``box`` and ``label``).
    title : str
        One line of text.

    Returns
    -------
    ndarray of shape (h, w, 3), uint8
        RGB picture.
    """
    truth_boxes = [tuple(d["box"]) for d in truth["digits"]]
    found_boxes = [d.box for d in reading.digits]
    boxes = np.array(truth_boxes + found_boxes, float).reshape(-1, 4)
    height, width = image.shape[:2]
    if len(boxes):
        pad = max(24.0, 0.6 * float(np.median(boxes[:, 3])))
        x0 = int(max(0, boxes[:, 0].min() - pad))
        y0 = int(max(0, boxes[:, 1].min() - pad))
        x1 = int(min(width, (boxes[:, 0] + boxes[:, 2]).max() + pad))
        y1 = int(min(height, (boxes[:, 1] + boxes[:, 3]).max() + pad))
    else:
        x0, y0, x1, y1 = 0, 0, width, height
    crop = image[y0:y1, x0:x1]
    scale = min(1.0, FAILURE_SIDE / max(crop.shape[:2]))
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    out = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1 else crop.copy()
    font = cv2.FONT_HERSHEY_SIMPLEX

    def rect(box: Sequence[int], color: tuple[int, int, int]) -> tuple[int, int, int, int]:
        x, y, w, h = (round(v * scale) for v in (box[0] - x0, box[1] - y0, box[2], box[3]))
        cv2.rectangle(out, (x, y), (x + w, y + h), color, 2)
        return x, y, w, h

    for box, d in zip(truth_boxes, truth["digits"], strict=True):
        x, y, _, h = rect(box, (0, 170, 0))
        cv2.putText(out, str(d["label"]), (x, y + h + 16), font, 0.55, (0, 150, 0), 2)
    for d in reading.digits:
        x, y, _, _ = rect(d.box, (230, 0, 0))
        cv2.putText(out, str(d.label), (x, max(12, y - 4)), font, 0.6, (230, 0, 0), 2)
    (_, th), _ = cv2.getTextSize(title, font, 0.55, 1)
    band = np.full((th + 14, out.shape[1], 3), 255, np.uint8)
    cv2.putText(band, title, (6, th + 6), font, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([band, out])


# ----------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser`` (a sub-command's parser).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Gets ``--sheets --seed --out --data --digits --fonts --model --modes --conditions
        --max-mp --save-failures``.
    """
    from .model import DEFAULT_MODEL

    parser.add_argument("--sheets", type=int, default=60, help="sheets to draw [%(default)s]")
    parser.add_argument("--seed", type=int, default=0, help="seed of the plan [%(default)s]")
    parser.add_argument(
        "--out", default=None, help="folder for results.json and report.md [none: print only]"
    )
    parser.add_argument(
        "--data",
        default=None,
        help="MNIST .npz in keras.datasets layout [download with keras.datasets.mnist]",
    )
    parser.add_argument(
        "--digits",
        choices=("mnist", "fonts"),
        default="mnist",
        help="draw the sheets from MNIST test digits, or from handwriting fonts [%(default)s]",
    )
    parser.add_argument(
        "--fonts",
        action="append",
        default=None,
        metavar="GLOB",
        help="with --digits fonts: font files or glob patterns, repeatable "
        "[Debian's handwriting-font packages]",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="PATH",
        help=f"a .keras model; repeat to compare models on the same sheets [{DEFAULT_MODEL}]",
    )
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help="comma-separated: default (default parameters), auto (fitted) [%(default)s]",
    )
    parser.add_argument(
        "--conditions",
        default=None,
        help=f"comma-separated subset of: {', '.join(CONDITIONS)} [all]",
    )
    parser.add_argument(
        "--max-mp",
        type=float,
        default=MAX_MP,
        help="largest sheet in megapixels; lower it for a quick run [%(default)s]",
    )
    parser.add_argument(
        "--save-failures",
        action="store_true",
        help="with --out: save each sheet not read exactly, boxes drawn, in failures/ "
        "(replacing that folder)",
    )


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _model_names(paths: Sequence[str]) -> list[str]:
    stems = [Path(p).stem for p in paths]
    return [s if stems.count(s) == 1 else str(p) for s, p in zip(stems, paths, strict=True)]


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark with parsed :func:`add_arguments` options.

    Prints progress to stderr and the report (Markdown tables and summary lines) to
    stdout; with ``--out`` writes ``results.json``, ``report.md`` and, with
    ``--save-failures``, ``failures/<model>-<mode>/<case_id>.jpg``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.

    Returns
    -------
    int
        0 on success, 1 for bad data or options, 2 when a model cannot be loaded.
    """
    from .model import DEFAULT_MODEL, ModelLoadError, load_mnist, load_model, predict_proba

    modes = _split(args.modes)
    conditions = _split(args.conditions) or list(CONDITIONS)
    bad = [m for m in modes if m not in MODES] or (["(none)"] if not modes else [])
    if bad:
        _log(f"error: unknown modes {bad}; choose from {', '.join(MODES)}")
        return 1
    try:
        if args.digits == "fonts":
            x_test, y_test = font_digits(args.fonts or HANDWRITING_FONTS)
        else:
            (_, _), (x_test, y_test) = load_mnist(args.data)
        plan = make_plan(
            args.sheets,
            args.seed,
            n_digits_available=len(x_test),
            conditions=conditions,
            max_mp=args.max_mp,
        )
    except (OSError, ValueError) as error:
        _log(f"error: {error}")
        return 1
    paths = [str(p) for p in (args.model or [DEFAULT_MODEL])]
    names = _model_names(paths)
    models = {}
    for name, path in zip(names, paths, strict=True):
        try:
            models[name] = load_model(path)
        except ModelLoadError as error:
            _log(f"error: {error}")
            return 2
        predict_proba(models[name], np.zeros((1, 28, 28), np.uint8))  # warm up
    out = Path(args.out) if args.out else None
    failures = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        if args.save_failures:
            failures = out / "failures"
            shutil.rmtree(failures, ignore_errors=True)  # this tool's output of a past run
    elif args.save_failures:
        _log("note: --save-failures needs --out; no images will be saved")

    records: list[dict[str, Any]] = []
    drawing = 0.0
    started = time.perf_counter()
    for k, case in enumerate(plan, 1):
        mine, seconds, line = _bench_sheet(case, x_test, y_test, models, modes, failures)
        records += mine
        drawing += seconds
        _log(f"[{k}/{len(plan)}] {line}")
    total = time.perf_counter() - started

    report = report_markdown(records, names, modes)
    head = (
        f"{len(plan)} sheets (seed {args.seed}, {sum(len(c.indices) for c in plan)} digits, "
        f"{min(r['megapixels'] for r in records):.1f}-"
        f"{max(r['megapixels'] for r in records):.1f} MP), drawn in {drawing:.0f} s; "
        f"whole run {total:.0f} s"
    )
    print(head + "\n\n" + report, end="")
    if out is not None:
        config = {
            "sheets": args.sheets,
            "seed": args.seed,
            "data": args.data,
            "digits": args.digits,
            "models": dict(zip(names, paths, strict=True)),
            "modes": modes,
            "conditions": conditions,
            "max_mp": args.max_mp,
        }
        results = {
            "config": config,
            "seconds": {"total": round(total, 2), "drawing": round(drawing, 2)},
            "summary": _summary(records, names, modes),
            "sheets": records,
            "plan": [c.to_dict() for c in plan],
        }
        (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        (out / "report.md").write_text(f"# Reading benchmark\n\n{head}\n\n{report}")
        _log(f"wrote {out / 'results.json'} and {out / 'report.md'}")
    return 0


def _bench_sheet(
    case: SheetCase,
    x_test: np.ndarray,
    y_test: np.ndarray,
    models: dict[str, keras.Model],
    modes: Sequence[str],
    failures: Path | None,
) -> tuple[list[dict[str, Any]], float, str]:
    """Draw one sheet and read it with every model in every mode.

    Returns the per-sheet records, the seconds spent drawing and a progress line; sheets
    not read exactly are saved under ``failures`` (when given).
    """
    start = time.perf_counter()
    data, truth = render_case(case, x_test, y_test)
    drawing = time.perf_counter() - start
    records, notes = [], []
    for name, model in models.items():
        for mode in modes:
            reading, params, image, seconds = read_case(model, data, mode)
            record = score_record(
                case, truth, reading, seconds, model=name, mode=mode, params=params
            )
            records.append(record)
            extra = record["found"] - record["matched"]
            notes.append(
                f"{name}/{mode} {record['correct']}/{record['truth']}"
                + (f" (+{extra} extra)" if extra else "")
                + f" {seconds:.2f}s"
            )
            if failures is not None and not record["exact"]:
                title = (
                    f"{case.case_id} {name}/{mode} {truth['width']}x{truth['height']}: "
                    f"found {record['found']}, matched {record['matched']}, "
                    f"right {record['correct']} of {record['truth']}"
                )
                folder = failures / f"{_safe(name)}-{mode}"
                folder.mkdir(parents=True, exist_ok=True)
                drawn = draw_failure(image, reading, truth, title)
                Image.fromarray(drawn).save(folder / f"{case.case_id}.jpg", quality=88)
    mp = truth["width"] * truth["height"] / 1e6
    line = (
        f"{case.case_id} {truth['width']}x{truth['height']} {mp:.1f} MP "
        f"{len(truth['digits'])} digits, drawn in {drawing:.2f}s | " + " | ".join(notes)
    )
    return records, drawing, line


def _safe(name: str) -> str:
    """Turn a model name (possibly a path) into a folder name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("._") or "model"


def _summary(
    records: Sequence[dict[str, Any]], names: Sequence[str], modes: Sequence[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Return ``{model: {mode: {condition or "overall": metrics dict}}}``."""
    return {
        name: {
            mode: {
                c: m.to_dict()
                for c, m in by_condition(
                    [r for r in records if r["model"] == name and r["mode"] == mode]
                ).items()
            }
            for mode in modes
        }
        for name in names
    }
