"""Score a reading against a sheet's truth (boxes and labels), for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..aliases import Box

MATCH_IOU = 0.5
"""A found box matches a true digit when their intersection over union is at least this."""


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes.

    Examples
    --------
    >>> iou((0, 0, 10, 10), (5, 0, 10, 10))
    0.3333333333333333
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    inter_w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    inter_h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = inter_w * inter_h
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


def match_boxes(
    found: Sequence[Box], truth: Sequence[Box], threshold: float = MATCH_IOU
) -> list[tuple[int, int]]:
    """Greedy one-to-one matching by IoU, best pairs first.

    Returns
    -------
    list of (found_index, truth_index)

    Examples
    --------
    >>> match_boxes([(0, 0, 10, 10), (50, 0, 10, 10)], [(52, 0, 10, 10), (1, 1, 10, 10)])
    [(0, 1), (1, 0)]
    """
    pairs = sorted(
        ((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)),
        reverse=True,
    )
    used_f: set[int] = set()
    used_t: set[int] = set()
    matches = []
    for score, i, j in pairs:
        if score < threshold:
            break
        if i in used_f or j in used_t:
            continue
        used_f.add(i)
        used_t.add(j)
        matches.append((i, j))
    return sorted(matches)


@dataclass(frozen=True)
class SheetScore:
    """How well one sheet was read."""

    found: int
    truth: int
    matched: int
    correct: int

    @property
    def precision(self) -> float:
        """Matched boxes over found boxes (1.0 when nothing was found and nothing was there)."""
        return self.matched / self.found if self.found else float(self.truth == 0)

    @property
    def recall(self) -> float:
        """Matched boxes over true digits."""
        return self.matched / self.truth if self.truth else 1.0

    @property
    def accuracy(self) -> float:
        """Digits found and read right, over all true digits."""
        return self.correct / self.truth if self.truth else 1.0

    @property
    def exact(self) -> bool:
        """Every digit found and read right, nothing extra."""
        return self.correct == self.truth == self.found


def score_sheet(
    boxes: Sequence[Box],
    labels: Sequence[int],
    truth_boxes: Sequence[Box],
    truth_labels: Sequence[int],
) -> SheetScore:
    """Score found boxes and their labels against the truth.

    Examples
    --------
    >>> s = score_sheet([(0, 0, 10, 10)], [3], [(0, 0, 10, 10), (20, 0, 9, 9)], [3, 4])
    >>> s.recall, s.accuracy, s.precision
    (0.5, 0.5, 1.0)
    """
    matches = match_boxes(boxes, truth_boxes)
    correct = int(np.sum([labels[i] == truth_labels[j] for i, j in matches]))
    return SheetScore(len(boxes), len(truth_boxes), len(matches), correct)
