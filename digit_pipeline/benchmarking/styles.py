"""How a synthetic sheet looks (:class:`SheetStyle`), and the checks its fields share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "NOMINAL_ASPECT",
    "TRUTH_ALPHA",
    "FloatImage",
    "InkKind",
    "RulePrint",
    "Ruling",
    "SheetStyle",
]

FloatImage = npt.NDArray[np.float32]
"""Float image of shape (H, W) or (H, W, C), float32 (alpha masks, light fields)."""

InkKind = Literal["pencil", "pen"]
Ruling = Literal["ruled", "squared"]
RulePrint = Literal["solid", "dotted", "dashed"]

TRUTH_ALPHA = 0.25
"""Alpha above which a pixel counts as ink for the truth boxes."""

NOMINAL_ASPECT = 0.7
"""Nominal width / height of a digit; gaps are fractions of this nominal width."""

_DEFAULT_INK_RGB: dict[str, tuple[int, int, int]] = {
    "pencil": (112, 112, 118),
    "pen": (26, 30, 52),
}


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
    defocus_px : float
        Radius in pixels of an out-of-focus lens's blur (a disk, as a lens blurs), 0 = none.
    vignette : float
        How much darker the corners are than the centre (0-0.9), on top of ``lighting``:
        a close-up's dark corners.
    noise_sigma : float
        Standard deviation of the sensor noise in grey levels, 0 = none.
    jpeg_quality : int or None
        JPEG quality (1-95) of the final encode/decode round trip; None = no JPEG.
    ruling : {"ruled", "squared"} or None
        None for blank paper, "ruled" for light-blue horizontal rules on which the
        digits sit, "squared" for a grid with one digit per square.
    rule_print : {"solid", "dotted", "dashed"}
        How the ruling is printed: solid lines; dots (a dot at each crossing of squared
        paper, a row of close dots along each rule of ruled paper); or dashes.
    rule_divisions : int
        The ruling's pitch is the lines' pitch divided by this (1-4): 2 puts a rule or a
        grid line through the middle of each line of digits, as on 5 mm squared paper.
    rotation_deg : float
        Rotation of the whole sheet in degrees, counter-clockwise (small: ±5).
    digit_height : tuple of 2 int
        Range (min, max) of digit ink heights in pixels.
    gap_frac : float
        Minimum horizontal gap between neighbouring digits, as a fraction of the
        nominal digit width (``NOMINAL_ASPECT`` x mean digit height). Negative: each digit
        runs into the last by that much (by at most 40 % of the narrower one's width).
    line_spacing : float
        Distance between line baselines as a multiple of the maximum digit height
        (at least 1.2 on ruled or squared paper).
    shapes : float
        Share of the numbers (``number_gap``) drawn round with a shape in the ink: an
        ellipse or a rectangle, close enough that a digit may cross it. 0 = none.
    number_gap : float
        0: each line is one number. Else the digits of a line (on plain or ruled paper)
        are written as numbers of 1-4 digits, each a little higher or lower than the
        last, this many nominal digit heights apart (the text parts them by spaces).
    number_size : int
        With ``number_gap``: 0 writes numbers of 1-4 digits, 1-4 numbers of that many.

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
    defocus_px: float = 0.0
    vignette: float = 0.0
    noise_sigma: float = 2.5
    jpeg_quality: int | None = 85
    ruling: Ruling | None = None
    rule_print: RulePrint = "solid"
    rule_divisions: int = 1
    rotation_deg: float = 0.0
    digit_height: tuple[int, int] = (120, 160)
    gap_frac: float = 0.5
    line_spacing: float = 1.6
    number_gap: float = 0.0
    number_size: int = 0
    shapes: float = 0.0

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
        _check_range("defocus_px", self.defocus_px, 0.0, 50.0)
        _check_range("vignette", self.vignette, 0.0, 0.9)
        _check_range("noise_sigma", self.noise_sigma, 0.0, 50.0)
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 95:
            raise ValueError(f"jpeg_quality must be None or 1-95, got {self.jpeg_quality}")
        if self.ruling not in (None, "ruled", "squared"):
            raise ValueError(f"ruling must be None, 'ruled' or 'squared', got {self.ruling!r}")
        if self.rule_print not in ("solid", "dotted", "dashed"):
            raise ValueError(
                f"rule_print must be 'solid', 'dotted' or 'dashed', got {self.rule_print!r}"
            )
        if not 1 <= self.rule_divisions <= 4:
            raise ValueError(f"rule_divisions must be 1-4, got {self.rule_divisions}")
        _check_range("rotation_deg", self.rotation_deg, -45.0, 45.0)
        lo, hi = self.digit_height
        if not 8 <= lo <= hi:
            raise ValueError(
                f"digit_height must be (min, max) with 8 <= min <= max, got {(lo, hi)}"
            )
        _check_range("gap_frac", self.gap_frac, -0.6, 10.0)
        if not 0 <= self.number_size <= 4:
            raise ValueError(f"number_size must be 0-4, got {self.number_size}")
        _check_range("number_gap", self.number_gap, 0.0, 10.0)
        _check_range("shapes", self.shapes, 0.0, 1.0)
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
