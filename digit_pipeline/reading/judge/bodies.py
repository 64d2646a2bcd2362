"""Long-tailed digits: the part of a box that sits on its line (a 9's body above its stem)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...aliases import Box
from .params import DEFAULT_JUDGE, JudgeParams


def descending_bodies(
    boxes: Sequence[Box], lines: Sequence[int], params: JudgeParams = DEFAULT_JUDGE
) -> dict[int, Box]:
    """Find boxes that hang far below their line, and the part of each within the line.

    A long-tailed 9 (or 4, or 7) is written with its body on the line and its stem far
    below it; read whole, it is a tall thin stroke, which a classifier trained on MNIST
    takes for a 1. A box is *descending* when its line holds at least ``body_line``
    boxes, it is ``descends`` times the line's median height, its top is on the line (not
    above it by more than ``top_above`` of that height: a 6's ascender is not a tail) and
    its bottom is below the line's by more than ``hangs`` of it. Its body is the part
    from its top down ``body_height`` times the line's height (thresholds of ``params``,
    :class:`~digit_pipeline.reading.judge.params.JudgeParams`).

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
    lines : sequence of int
        Each box's line.
    params : JudgeParams, optional

    Returns
    -------
    dict of int to (x, y, w, h)
        For each descending box's index, its body.

    Examples
    --------
    >>> boxes = [(0, 10, 20, 40), (30, 12, 20, 38), (60, 8, 20, 90), (90, 10, 20, 40)]
    >>> descending_bodies(boxes, [0, 0, 0, 0])
    {2: (60, 8, 20, 46)}
    """
    bodies: dict[int, Box] = {}
    line_of = np.asarray(lines)
    xywh = np.asarray(boxes, np.float64).reshape(-1, 4)
    for line in np.unique(line_of):
        members = np.flatnonzero(line_of == line)
        if len(members) < params.body_line:
            continue
        height = float(np.median(xywh[members, 3]))
        top = float(np.median(xywh[members, 1]))
        bottom = float(np.median(xywh[members, 1] + xywh[members, 3]))
        for i in members:
            x, y, w, h = (int(v) for v in boxes[i])
            hangs = y + h > bottom + params.hangs * height and y >= top - params.top_above * height
            if h > params.descends * height and hangs:
                bodies[int(i)] = (x, y, w, round(params.body_height * height))
    return bodies
