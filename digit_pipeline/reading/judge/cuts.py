"""Cuts the judge tries in a box that may hold several digits: its ink's pieces, a column.

The judge (:func:`~digit_pipeline.reading.judge.split_touching`) keeps a cut only when the
classifier prefers its parts; these functions only propose them.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...aliases import Box, GrayImage
from .params import DEFAULT_JUDGE, JudgeParams


def ink_pieces(
    roi: np.ndarray, box: tuple, typical: float, params: JudgeParams = DEFAULT_JUDGE
) -> list | None:
    """Return the boxes of the digit-sized ink pieces of ``roi``, or None.

    The ink's connected pieces (those with ``piece_ink`` of the ink or more) are grouped
    while their columns overlap (a 4's two strokes, a 5's bar, a 7's cross stay
    together); groups shorter than ``piece`` typical digits (a dot, a stray mark) are
    left out. Two or more groups, each that tall, lying side by side, are returned in
    image pixels. A box of ``stacked`` typical digits' height or more is also tried one
    above another: pieces grouped while their rows overlap, two or more groups each at
    least ``stacked_piece`` typical digits tall (two digits of consecutive lines merged
    into one box). The thresholds are those of ``params``
    (:class:`~digit_pipeline.reading.judge.params.JudgeParams`).
    """
    x, y, w, h = box
    if roi.size == 0 or not roi.any() or typical <= 0:
        return None
    sy, sx = roi.shape[0] / max(h, 1), roi.shape[1] / max(w, 1)
    count, _, stats, _ = cv2.connectedComponentsWithStats(roi, connectivity=8)
    if count < 3:
        return None
    ink = stats[1:, cv2.CC_STAT_AREA]
    pieces = [
        [int(s[0]), int(s[0] + s[2]), int(s[1]), int(s[1] + s[3])]
        for s, area in zip(stats[1:], ink, strict=True)
        if area >= params.piece_ink * ink.sum()
    ]
    overlap = params.group_overlap
    tall = [g for g in _grouped(pieces, 0, overlap) if (g[3] - g[2]) / sy >= params.piece * typical]
    if len(tall) < 2 and h >= params.stacked * typical:
        least = params.stacked_piece * typical
        tall = [g for g in _grouped(pieces, 2, overlap) if (g[3] - g[2]) / sy >= least]
    if len(tall) < 2:
        return None
    return [
        (
            x + int(g[0] / sx),
            y + int(g[2] / sy),
            max(1, round((g[1] - g[0]) / sx)),
            max(1, round((g[3] - g[2]) / sy)),
        )
        for g in tall
    ]


def _grouped(pieces: list, axis: int, share: float) -> list:
    """Merge ``[x0, x1, y0, y1]`` pieces while they overlap along ``axis`` (0: x, 2: y).

    Two pieces overlapping by more than ``share`` of the shorter one's extent become one.
    """
    groups = [list(p) for p in pieces]
    merged = True
    while merged and len(groups) > 1:
        merged = False
        groups.sort(key=lambda g: (g[axis], g[axis + 1]))
        for a in range(len(groups) - 1):
            g, o = groups[a], groups[a + 1]
            overlap = min(g[axis + 1], o[axis + 1]) - max(g[axis], o[axis])
            if overlap > share * min(g[axis + 1] - g[axis], o[axis + 1] - o[axis]):
                groups[a] = [min(g[0], o[0]), max(g[1], o[1]), min(g[2], o[2]), max(g[3], o[3])]
                del groups[a + 1]
                merged = True
                break
    return groups


def column_cut(
    gray: GrayImage,
    box: Box,
    min_part: float | None = None,
    params: JudgeParams = DEFAULT_JUDGE,
) -> list | None:
    """Return two boxes cut from ``box`` at the ink's thinnest column, or None.

    The cut is sought between ``column_middle`` of the box's width in from each side (the
    ink below the level halfway between its darkest pixel and its median), in a box at
    least ``column_min_px`` wide; each part must hold ink over at least ``min_part`` of
    the box's height (``params.min_part`` by default) and across ``column_ink`` of it,
    one of them over ``column_full`` of it, and the two must share the line (their
    heights overlap by ``column_line`` of the shorter).
    """
    min_part = params.min_part if min_part is None else min_part
    x, y, w, h = box
    crop = gray[y : y + h, x : x + w]
    if crop.size == 0 or w < params.column_min_px:
        return None
    level = (int(crop.min()) + int(np.median(crop))) / 2
    ink = crop < level
    if not ink.any():
        return None
    columns = ink.sum(axis=0).astype(np.float64)
    lo = int(w * params.column_middle)
    hi = w - lo
    if hi - lo < 2:
        return None
    cut = lo + int(np.argmin(np.convolve(columns, np.ones(3) / 3, "same")[lo:hi]))
    parts = []
    for x0, x1 in ((0, cut), (cut, w)):
        rows = np.flatnonzero(ink[:, x0:x1].any(axis=1))
        cols = np.flatnonzero(ink[:, x0:x1].any(axis=0))
        if (
            len(rows) == 0
            or rows[-1] - rows[0] + 1 < min_part * h
            or len(cols) < params.column_ink * h
        ):
            return None
        parts.append(
            (
                x + x0 + int(cols[0]),
                y + int(rows[0]),
                int(cols[-1] - cols[0] + 1),
                int(rows[-1] - rows[0] + 1),
            )
        )
    (_, ya, _, ha), (_, yb, _, hb) = parts
    overlap = min(ya + ha, yb + hb) - max(ya, yb)
    if max(ha, hb) < params.column_full * h or overlap < params.column_line * min(ha, hb):
        return None  # two digits side by side share the line; these are pieces of one
    return parts
