"""What a box's ink says of it: borrowed from a neighbour, or much fainter than the rest.

A digit's stroke that runs past its box (a 3's tail, a 5's flag) can get a box of its
own, and that box is then read as a 1 or a 7 that was never written. Its ink is not its
own: the stroke it holds belongs to a piece of ink that lies mostly in another box
(:func:`borrowed_ink`). A fibre of kraft paper or a smudge is boxed like a stroke, but is
far fainter than the writing around it (:func:`ink_contrast`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ...aliases import Box, GrayImage
from .params import DEFAULT_JUDGE, JudgeParams


def borrowed_ink(
    boxes: Sequence[Box],
    rois: Sequence[GrayImage],
    shape: tuple[int, int],
    scale: float,
    params: JudgeParams = DEFAULT_JUDGE,
) -> np.ndarray:
    """Tell which boxes hold mostly ink that belongs to another box.

    The boxes' ink (their white-on-black ROIs, as cut) is laid back on a page of
    ``shape`` (the working copy, ``scale`` times the boxes' pixels) and split into
    connected pieces. A piece belongs to a box that holds more than ``held_share`` of
    it; a box holding less than ``own_share`` of a piece that belongs to another box has
    borrowed that ink. A box is flagged when at least ``borrowed_share`` of its ink is
    borrowed (thresholds of ``params``, :class:`~digit_pipeline.reading.judge.params.
    JudgeParams`). The two parts of touching digits cut apart each hold a good
    share of their piece, so neither is flagged; nor is a digit apart from the others.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
        Original-image pixels.
    rois : sequence of ndarray, uint8
        Each box's ink, 255 on 0, of the box's shape or shrunk
        (:func:`~digit_pipeline.stages.extract_roi_black_white`).
    shape : (height, width)
        Of the page the ink is laid on.
    scale : float
        Page pixels per box pixel.
    params : JudgeParams, optional

    Returns
    -------
    ndarray of shape (N,), bool

    Examples
    --------
    >>> import numpy as np
    >>> ink = np.zeros((40, 60), np.uint8)
    >>> ink[5:35, 5:35] = 255                  # a digit...
    >>> ink[18:22, 35:55] = 255                # ...and its tail, boxed on its own
    >>> boxes = [(0, 0, 36, 40), (36, 0, 24, 40)]
    >>> rois = [ink[:, :36].copy(), ink[:, 36:].copy()]
    >>> borrowed_ink(boxes, rois, (40, 60), 1.0).tolist()
    [False, True]
    """
    count = len(boxes)
    if count < 2:
        return np.zeros(count, bool)
    page = np.zeros(shape, np.uint8)
    laid = _laid(boxes, rois, scale, shape)
    for (rows, cols), ink in laid:
        np.maximum(page[rows, cols], ink, out=page[rows, cols])
    pieces, labels, stats, _ = cv2.connectedComponentsWithStats(
        (page > 0).astype(np.uint8), connectivity=8
    )
    size = np.maximum(stats[:, cv2.CC_STAT_AREA].astype(np.float64), 1.0)
    held = np.zeros((count, pieces))
    for i, ((rows, cols), _) in enumerate(laid):
        held[i] = np.bincount(labels[rows, cols].ravel(), minlength=pieces)
    held[:, 0] = 0  # the paper
    share = held / size
    flagged = np.zeros(count, bool)
    for i in range(count):
        ink = held[i].sum()
        if ink == 0:
            continue
        others = np.delete(share, i, axis=0).max(axis=0)
        foreign = (share[i] < params.own_share) & (others > params.held_share)
        flagged[i] = held[i][foreign].sum() >= params.borrowed_share * ink
    return flagged


def _laid(
    boxes: Sequence[Box], rois: Sequence[GrayImage], scale: float, shape: tuple[int, int]
) -> list[tuple[tuple[slice, slice], np.ndarray]]:
    """Lay each ROI over its box on a page ``scale`` times the boxes' pixels.

    Returns, per box, its (rows, columns) slices on the page (at least 1 px each way)
    and its ink resized to them.
    """
    height, width = shape
    laid = []
    for (x, y, w, h), roi in zip(boxes, rois, strict=True):
        x0, y0 = min(width - 1, int(x * scale)), min(height - 1, int(y * scale))
        x1 = min(width, max(x0 + 1, round((x + w) * scale)))
        y1 = min(height, max(y0 + 1, round((y + h) * scale)))
        ink = cv2.resize(roi, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        laid.append(((slice(y0, y1), slice(x0, x1)), ink))
    return laid


def ink_contrast(
    boxes: Sequence[Box], rois: Sequence[GrayImage], gray: GrayImage, scale: float
) -> np.ndarray:
    """Return how much darker each box's ink is than its paper, in grey levels.

    The median grey of the box's paper minus that of its ink (its ROI's white pixels),
    on ``gray`` (``scale`` times the boxes' pixels: the working copy, lighting evened).
    A box with no ink, or no paper, gets 0.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
    rois : sequence of ndarray, uint8
        Each box's ink, 255 on 0 (any size: laid over the box).
    gray : ndarray of shape (H, W), uint8
        Dark ink on light paper.
    scale : float

    Returns
    -------
    ndarray of shape (N,), float

    Examples
    --------
    >>> import numpy as np
    >>> page = np.full((20, 40), 200, np.uint8)
    >>> page[4:16, 8:10] = 40; page[4:16, 28:30] = 170      # a dark 1, a faint mark
    >>> rois = [(page[:, :20] < 190).astype(np.uint8) * 255, (page[:, 20:] < 190) * 255]
    >>> ink_contrast([(0, 0, 20, 20), (20, 0, 20, 20)], [r.astype(np.uint8) for r in rois],
    ...              page, 1.0).tolist()
    [160.0, 30.0]
    """
    contrast = np.zeros(len(boxes))
    for i, (where, roi) in enumerate(_laid(boxes, rois, scale, gray.shape)):
        crop, ink = gray[where], roi > 0
        if ink.any() and not ink.all():
            contrast[i] = float(np.median(crop[~ink])) - float(np.median(crop[ink]))
    return contrast
