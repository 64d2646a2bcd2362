"""How dark a sheet's ink is against its own paper, and how faint a box's ink may be.

:func:`ink_mask` finds the ink of a whole sheet: each pixel's darkness below the paper
around it (:func:`darkness`), split from the paper's grain. The fit measures digits on
that mask; :func:`ink_floor` scales from it the contrast a box needs to hold ink at all
(:data:`~digit_pipeline.stages.crops.MIN_INK_CONTRAST` on a sheet of dark ink, less on a
webcam's grey frame, where the whole sheet's ink is 20-30 grey levels dark).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..aliases import GrayImage
from .crops import MIN_INK_CONTRAST

MIN_DARKNESS = 16
"""Ink must be at least this many grey levels darker than its paper."""

FAINT_GRAIN = 2
"""Faint ink stands this many times above the paper's grain (the 90th percentile of its
darkness, lightly smoothed)."""

FAINT_INK = 2 * MIN_DARKNESS
"""Ink this dark that Otsu's split missed is no faint ink but a paper's texture (kraft
fibres) that drew the split: the fit does not take it for a faint sheet's ink."""

FLOOR_SHARE = 0.4
"""A box holds ink when its ink is at least this share as dark as the sheet's dark ink (the
90th percentile of the sheet's ink darkness), up to ``MIN_INK_CONTRAST``."""

MIN_FLOOR = 8
"""No box holds ink that is under this many grey levels darker than its paper."""


def darkness(gray: GrayImage) -> GrayImage:
    """Return how much darker each pixel is than the paper around it (uint8).

    The paper's own brightness, lighting and shadows included, is a grey closing with a
    window far wider than any stroke or filled loop, taken on a quarter-size copy.

    Examples
    --------
    >>> page = np.full((80, 80), 200, np.uint8); page[30:50, 38:42] = 120
    >>> dark = darkness(page)
    >>> int(dark[40, 40]), int(dark[5, 5])
    (80, 0)
    """
    height, width = gray.shape
    quarter = cv2.resize(
        gray, (max(1, width // 4), max(1, height // 4)), interpolation=cv2.INTER_AREA
    )
    side = max(5, max(quarter.shape) // 20)
    paper = cv2.morphologyEx(
        quarter, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    )
    paper = cv2.max(cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR), gray)
    return cv2.subtract(paper, gray)


def ink_mask(gray: GrayImage, desk: GrayImage) -> tuple[float, np.ndarray | None]:
    """Return the ink/paper contrast and the ink mask (None if there is no ink).

    Ink is split from the paper by Otsu's threshold on :func:`darkness`. The ``desk``
    (non-zero: the surround of the sheet in a photo) is neither ink nor paper: its grain
    must not set the ink's threshold. Where that split falls inside the paper's grain
    (ink a sliver of the sheet and faint), :func:`_faint_ink` looks again.
    """
    return _ink(darkness(gray), desk)


def _ink(dark: GrayImage, desk: GrayImage) -> tuple[float, np.ndarray | None]:
    """:func:`ink_mask` of a sheet whose :func:`darkness` is ``dark``."""
    sheet = dark[desk == 0]
    if sheet.size == 0:
        return 0.0, None
    level, _ = cv2.threshold(sheet[None, :], 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    ink = np.where((dark > max(level, MIN_DARKNESS // 2)) & (desk == 0), 255, 0).astype(np.uint8)
    if not ink.any():
        return 0.0, None
    contrast = float(np.median(dark[ink > 0]))
    if contrast >= MIN_DARKNESS:
        return contrast, ink
    return _faint_ink(dark, desk, contrast)


def _faint_ink(
    dark: GrayImage, desk: GrayImage, contrast: float
) -> tuple[float, np.ndarray | None]:
    """Return faint ink that is a sliver of the sheet, or ``(contrast, None)`` if none.

    On a webcam's grey frame the ink is 10-30 levels dark and a fraction of a percent of
    the pixels: Otsu's split falls inside the paper's grain. Ink is then what stands
    :data:`FAINT_GRAIN` times above the grain and at least ``MIN_DARKNESS * 3 // 4``
    levels, after a 3 x 3 smoothing that the grain's single pixels do not survive; and
    it must still be :data:`MIN_DARKNESS` dark in the middle (the grain's few survivors
    on a blank frame are not) and fainter than :data:`FAINT_INK`.
    """
    smooth = cv2.GaussianBlur(dark, (3, 3), 0)
    grain = float(np.percentile(smooth[desk == 0], 90))
    level = max(MIN_DARKNESS * 3 // 4, FAINT_GRAIN * grain)
    ink = np.where((smooth > level) & (desk == 0), 255, 0).astype(np.uint8)
    if not ink.any():
        return contrast, None
    faint = float(np.median(dark[ink > 0]))
    return (faint, ink) if MIN_DARKNESS <= faint < FAINT_INK else (contrast, None)


def ink_floor(gray: GrayImage, desk: GrayImage) -> int:
    """Return the contrast a box of this sheet needs to hold ink, in grey levels.

    :data:`FLOOR_SHARE` of the sheet's dark ink (the 90th percentile of its ink's
    :func:`darkness`), at least :data:`MIN_FLOOR` and at most ``MIN_INK_CONTRAST``: on a
    sheet of dark ink a box must differ from its paper by ``MIN_INK_CONTRAST`` levels, as
    always; on a grey webcam frame whose digits are 25 levels dark, by 10.

    Examples
    --------
    >>> page = np.full((200, 200), 200, np.uint8); page[60:140, 95:100] = 40
    >>> desk = np.zeros_like(page)
    >>> ink_floor(page, desk) == MIN_INK_CONTRAST
    True
    >>> page[60:140, 95:100] = 175  # ink 25 levels dark
    >>> ink_floor(page, desk)
    10
    >>> blank = np.full((50, 50), 200, np.uint8)
    >>> ink_floor(blank, np.zeros_like(blank)) == MIN_INK_CONTRAST
    True
    """
    dark = darkness(gray)
    _, ink = _ink(dark, desk)
    if ink is None:
        return MIN_INK_CONTRAST
    level = float(np.percentile(dark[ink > 0], 90))
    return int(np.clip(round(FLOOR_SHARE * level), MIN_FLOOR, MIN_INK_CONTRAST))
