"""The slider-independent part of a reading: an image prepared once.

:func:`prepare` does the work that depends only on the image and the three settings in
:data:`PREPARE_FIELDS` (grey conversion, the working copy, the desk around the sheet, line
removal, inversion, even lighting) and returns a :class:`Prepared`;
:func:`~digit_pipeline.reading.pipeline.segment` runs the slider-dependent rest on it, so
an app can cache this part and rerun only that one when a slider moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from ..aliases import GrayImage, Image
from ..stages import (
    flatten_lighting,
    ink_floor,
    page_surround,
    remove_lines,
    remove_print,
    remove_shapes,
    to_gray,
    working_copy,
)
from .params import PipelineParams

PREPARE_FIELDS = ("work_size", "remove_lines", "invert")
"""The :class:`~digit_pipeline.params.PipelineParams` fields :func:`prepare` depends on."""

LINE_FRACTION = 2
"""On the working copy, lines at least 1/LINE_FRACTION of the page's side are removed.

Rules of ruled and squared paper run across the page; a digit, even a "1" written large
on a small image, is shorter than half of it."""


FLOOR_SIDE = 1200
""":attr:`Prepared.ink_floor` samples the working copy down to this longer side."""


@dataclass(frozen=True)
class Prepared:
    """The slider-independent part: grey original, working copy, its line-free version.

    ``gray`` and ``work`` have their lighting evened out
    (:func:`~digit_pipeline.stages.flatten_lighting`): paper everywhere reads as bright as
    where the light is good.

    ``surround`` marks, on the working copy, the desk around the sheet in a photo
    (:func:`~digit_pipeline.stages.page_surround`); edges there are not digits.

    ``params`` are the parameters it was prepared with; only :data:`PREPARE_FIELDS` of them
    matter (:meth:`fits`).
    """

    gray: GrayImage
    work: GrayImage
    scale: float
    cleaned: GrayImage
    surround: GrayImage
    params: PipelineParams

    def fits(self, params: PipelineParams) -> bool:
        """Whether this is the image prepared as ``params`` would prepare it."""
        return prepare_key(self.params) == prepare_key(params)

    @cached_property
    def ink_floor(self) -> int:
        """The contrast a box needs to hold ink on this sheet (:func:`~.stages.ink_floor`).

        Measured on every ``step``-th pixel of the cleaned copy, ``step`` keeping its
        longer side within ``FLOOR_SIDE``: a sheet's statistic, which a sample's pixel
        values (not averaged: a thin stroke stays as dark) give as well, at a fifth of
        the cost on a large working copy.
        """
        step = -(-max(self.cleaned.shape) // FLOOR_SIDE)
        return ink_floor(self.cleaned[::step, ::step], self.surround[::step, ::step])

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the original image."""
        return self.gray.shape[:2]

    @property
    def scales(self) -> tuple[float, float]:
        """Horizontal and vertical working / original scales."""
        return (
            self.work.shape[1] / self.gray.shape[1],
            self.work.shape[0] / self.gray.shape[0],
        )


def prepare_key(params: PipelineParams) -> tuple[object, ...]:
    """Return the values of :data:`PREPARE_FIELDS`: equal keys, equal :func:`prepare` output.

    Examples
    --------
    >>> prepare_key(PipelineParams(work_size=800))
    (800, True, False)
    """
    return tuple(getattr(params, name) for name in PREPARE_FIELDS)


def prepare(image: Image, params: PipelineParams | None = None) -> Prepared:
    """Grey conversion, working copy, the desk around the sheet, even lighting, line removal.

    The grey original and the working copy both have their lighting evened out
    (:func:`~digit_pipeline.stages.flatten_lighting`), so shadows and a dim corner do not
    change which strokes Canny finds or where Otsu cuts ink from paper; the desk around a
    photographed sheet is judged before that, on the light as it fell.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
        RGB(A) or grey.
    params : PipelineParams, optional
        Defaults if omitted. Only :data:`PREPARE_FIELDS` are used: ``work_size`` (longer
        side of the working copy), ``remove_lines`` (remove long thin lines of ruled or
        squared paper from the working copy, then the dots and dashes of a printed
        lattice: :func:`~digit_pipeline.stages.remove_print`) and ``invert`` (light ink on
        dark paper: invert the grey image first, so that everything after sees dark ink
        on light paper).

    Returns
    -------
    Prepared
    """
    params = params or PipelineParams()
    gray = to_gray(image)
    if params.invert:
        gray = cv2.bitwise_not(gray)
    work, scale = working_copy(gray, params.work_size)
    # The desk is judged on the light as it fell (a desk is darker than the paper), and
    # ruled lines are removed before the lighting is evened out: in that order a slightly
    # turned squared sheet of the benchmark (017) lost its grid, in the other order Canny
    # at the default thresholds still drew it.
    surround = page_surround(work)
    if params.remove_lines:
        height, width = work.shape
        cleaned = remove_shapes(work)  # rings and boxes round digits, before their sides go
        cleaned = _remove_page_lines(cleaned, width // LINE_FRACTION, height // LINE_FRACTION)
        cleaned = remove_print(flatten_lighting(cleaned))  # dotted and dashed grids
    gray, work = flatten_lighting(gray), flatten_lighting(work)
    return Prepared(gray, work, scale, cleaned if params.remove_lines else work, surround, params)


def _remove_page_lines(work: GrayImage, h_length: int, v_length: int) -> GrayImage:
    """Remove horizontal lines >= h_length and vertical lines >= v_length."""
    h_clean = remove_lines(work, max(h_length, 30)) if h_length >= 30 else work
    v_clean = remove_lines(work, max(v_length, 30)) if v_length >= 30 else work
    if h_length == v_length:
        return h_clean
    # Each call removed both directions at its own length; keep a pixel dark only
    # where neither judged it a line.
    return np.maximum(h_clean, v_clean)
