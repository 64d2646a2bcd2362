"""Which way is up: quarter turns of an image and its boxes, and the turn a reading prefers.

A phone can store a photo sideways with no EXIF tag to say so, and a sheet can be scanned
upside down. Each box of such a sheet holds a digit turned the same way, so:

- **the digits say it**: the judge's orientation model (:mod:`digit_pipeline.training.
  orientation`, ``models/judge/orientation.keras``) tells from one cut-out digit whether it
  is shown upright or turned 1, 2 or 3 quarter turns; its log-probabilities summed over a
  sheet's digits (:func:`orientation_evidence`) weigh a 7 or a 4, which look like nothing
  else turned over, far above a 0 or an 8, which look the same;
- **the reading confirms it**: the sheet is read turned the way the digits say, and the
  turn is kept only when that reading is no worse (:func:`confirms`): a quarter turn must
  stand the boxes up (a digit is rarely wider than tall), and the reading must score at
  least as well.

:func:`choose_turn` decides; the ``turn_*`` thresholds of
:class:`~digit_pipeline.reading.judge.params.JudgeParams` say how sure it must be. A sheet
whose digits say "upright" is read once, as before: the evidence costs one small model's
pass over the digits already cut.

Turns are counted in quarter turns **clockwise** (1 = 90°, 2 = 180°, 3 = 270°), as a
person turns a photo to see it upright.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..aliases import Box, Image
from .judge import DEFAULT_JUDGE, JudgeParams, reading_score

__all__ = [
    "TurnChoice",
    "Verdict",
    "choose_turn",
    "confirms",
    "orientation_evidence",
    "shown_turn",
    "turn_boxes",
    "turn_image",
    "unturn_boxes",
    "verdict_of",
]


def turn_image(image: Image, turns: int) -> Image:
    """Turn an image ``turns`` quarter turns clockwise (a contiguous copy; 0: itself).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    >>> turn_image(image, 1).tolist()
    [[3, 0], [4, 1], [5, 2]]
    >>> turn_image(image, 4) is image
    True
    """
    turns %= 4
    if turns == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, -turns))


def turn_boxes(boxes: Sequence[Box], turns: int, shape: Sequence[int]) -> list[Box]:
    """Carry ``(x, y, w, h)`` boxes of an image onto the image turned ``turns`` clockwise.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
        Pixels of the image before the turn.
    turns : int
        Quarter turns clockwise.
    shape : sequence of int
        ``(height, width, ...)`` of the image before the turn.

    Examples
    --------
    >>> turn_boxes([(0, 0, 2, 1)], 1, (4, 6))      # top-left, lying; turned: top-right, standing
    [(3, 0, 1, 2)]
    >>> turn_boxes(turn_boxes([(1, 2, 3, 1)], 3, (4, 6)), 1, (6, 4))
    [(1, 2, 3, 1)]
    """
    out = []
    for x, y, w, h in boxes:
        height, width = int(shape[0]), int(shape[1])
        for _ in range(turns % 4):  # one quarter turn clockwise: (x, y) -> (H - 1 - y, x)
            x, y, w, h = height - y - h, x, h, w
            height, width = width, height
        out.append((int(x), int(y), int(w), int(h)))
    return out


def unturn_boxes(boxes: Sequence[Box], turns: int, shape: Sequence[int]) -> list[Box]:
    """Carry boxes of a turned image back onto the image before the turn.

    ``shape`` is the turned image's; the inverse of :func:`turn_boxes`.

    Examples
    --------
    >>> unturn_boxes([(3, 0, 1, 2)], 1, (6, 4))
    [(0, 0, 2, 1)]
    """
    return turn_boxes(boxes, -turns % 4, shape)


@dataclass(frozen=True)
class Verdict:
    """What one reading says about its own way up.

    Attributes
    ----------
    score : float
        :func:`~digit_pipeline.reading.judge.reading_score`.
    sure : float
        The digits' mean margin (0 without digits).
    standing : float
        The digits' median height over width (0 without digits).
    digits : int
    """

    score: float
    sure: float
    standing: float
    digits: int


def verdict(
    boxes: Sequence[Box], margins: np.ndarray, rejected: int, judge: JudgeParams
) -> Verdict:
    """Measure a reading: its score, how sure it is on the whole, whether its digits stand.

    Examples
    --------
    >>> import numpy as np
    >>> verdict([(0, 0, 10, 20), (20, 0, 12, 18)], np.array([1.0, 0.8]), 0, DEFAULT_JUDGE)
    Verdict(score=0.8, sure=0.9, standing=1.75, digits=2)
    """
    margins = np.asarray(margins, dtype=float)
    if not len(margins):
        return Verdict(reading_score(margins, rejected, judge), 0.0, 0.0, 0)
    b = np.asarray(boxes, dtype=float).reshape(-1, 4)
    standing = float(np.median(b[:, 3] / np.maximum(b[:, 2], 1.0)))
    return Verdict(
        reading_score(margins, rejected, judge),
        round(float(margins.mean()), 9),
        round(standing, 9),
        len(margins),
    )


def verdict_of(reading: Any, judge: JudgeParams = DEFAULT_JUDGE) -> Verdict:
    """Return the :func:`verdict` of a :class:`~digit_pipeline.reading.Reading` with a model."""
    digits = reading.sheet.digits
    margins = np.array([d.top2[0][1] - d.top2[1][1] for d in digits])
    return verdict([d.box for d in digits], margins, reading.rejected, judge)


def orientation_evidence(model: Any, digits: np.ndarray) -> np.ndarray:
    """Sum each turn's log-probability over a sheet's digits: ``(4,)``, nats.

    ``evidence[k]``: how well "every digit is shown turned ``k`` quarter turns clockwise"
    explains the digits (the orientation model's outputs, floored at float32's epsilon). Zeros
    without a model or digits.

    Examples
    --------
    >>> orientation_evidence(None, np.zeros((3, 28, 28), np.uint8)).tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    if model is None or not len(digits):
        return np.zeros(4)
    from ..model import to_model_input

    proba = np.asarray(model(to_model_input(np.asarray(digits)), training=False), np.float64)
    return np.log(np.maximum(proba, np.finfo(np.float32).eps)).sum(axis=0)


def shown_turn(evidence: np.ndarray, judge: JudgeParams = DEFAULT_JUDGE) -> int:
    """Return the quarter turns the digits are shown turned: 0 unless the evidence is strong.

    The likeliest turn, when it explains the digits ``turn_evidence`` nats better than
    upright does.

    Examples
    --------
    >>> shown_turn(np.array([-9.0, -2.0, -12.0, -14.0]))
    1
    >>> shown_turn(np.array([-3.0, -2.0, -12.0, -14.0]))
    0
    """
    turns = int(np.argmax(evidence))
    if turns and evidence[turns] - evidence[0] >= judge.turn_evidence:
        return turns
    return 0


def confirms(
    turned: Verdict, upright: Verdict, turns: int, judge: JudgeParams, strength: float = 0.0
) -> bool:
    """Whether the reading turned ``turns`` quarter turns bears the digits' evidence out.

    A quarter turn must stand the boxes up more than they stood (boxes trade width and
    height: a digit is rarely wider than tall). And the reading must score no less than
    the upright one by more than ``turn_gain`` allows — unless the digits said the turn
    by ``turn_clear`` nats or more (``strength``): digits read surely upside down (thin
    0s, 6s, 8s and 9s) can outscore the right way up, whose thin strokes merged.

    Examples
    --------
    >>> up = Verdict(score=1.0, sure=0.7, standing=0.8, digits=10)
    >>> confirms(Verdict(4.5, sure=0.95, standing=1.25, digits=10), up, 1, DEFAULT_JUDGE)
    True
    >>> confirms(Verdict(4.5, sure=0.95, standing=0.7, digits=10), up, 1, DEFAULT_JUDGE)
    False
    >>> confirms(Verdict(0.4, sure=0.6, standing=0.8, digits=10), up, 2, DEFAULT_JUDGE)
    False
    """
    if turns % 2 and turned.standing <= upright.standing:
        return False
    return strength >= judge.turn_clear or turned.score >= upright.score + judge.turn_gain


@dataclass(frozen=True)
class TurnChoice:
    """The turn :func:`choose_turn` keeps, and what it saw.

    Attributes
    ----------
    turns : int
        Quarter turns clockwise to read the image (0: as it is).
    evidence : ndarray of shape (4,)
        :func:`orientation_evidence` of the upright reading's digits.
    tried : dict of int to Verdict
        The upright reading's verdict under 0, and the turn read (if any).
    """

    turns: int
    evidence: np.ndarray
    tried: dict[int, Verdict]


def choose_turn(
    upright: Verdict,
    evidence: np.ndarray,
    read_turned: Callable[[int], Verdict],
    judge: JudgeParams = DEFAULT_JUDGE,
) -> TurnChoice:
    """Choose the way up: the turn the digits say (:func:`shown_turn`), if the reading confirms.

    Parameters
    ----------
    upright : Verdict
        The reading of the image as it is.
    evidence : ndarray of shape (4,)
        :func:`orientation_evidence` of its digits.
    read_turned : callable
        Reads the image turned ``turns`` quarter turns clockwise; returns its verdict.
    judge : JudgeParams, optional
        ``turn_*`` thresholds; with ``"turn"`` in ``judge.off`` nothing is turned.

    Returns
    -------
    TurnChoice

    Examples
    --------
    >>> up = Verdict(score=1.0, sure=0.7, standing=0.6, digits=10)
    >>> lying = np.array([-20.0, -30.0, -40.0, -2.0])  # shown three quarter turns around
    >>> seen = {1: Verdict(4.8, 0.97, 1.5, 10)}
    >>> choose_turn(up, lying, seen.__getitem__).turns
    1
    >>> choose_turn(up, lying, seen.__getitem__, DEFAULT_JUDGE.replace(off={"turn"})).turns
    0
    """
    tried = {0: upright}
    shown = shown_turn(evidence, judge)
    if not judge.on("turn") or upright.digits < judge.turn_digits or not shown:
        return TurnChoice(0, evidence, tried)
    turns = (4 - shown) % 4
    tried[turns] = read_turned(turns)
    strength = float(evidence[shown] - evidence[0])
    kept = confirms(tried[turns], upright, turns, judge, strength)
    return TurnChoice(turns if kept else 0, evidence, tried)
