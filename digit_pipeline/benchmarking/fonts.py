"""Digits from handwriting fonts, MNIST-style: the ``--digits fonts`` source of the bench."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["GLYPH_SIDE", "HANDWRITING_FONTS", "font_digits", "installed_fonts"]

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
