"""The reading benchmark's figures: pooled metrics, Markdown tables and failure pictures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..aliases import ColorImage
from .plan import CONDITIONS

if TYPE_CHECKING:  # pragma: no cover
    from ..reading import SheetReading

__all__ = [
    "Metrics",
    "by_condition",
    "draw_failure",
    "report_markdown",
    "summarise",
    "summary_line",
    "table_markdown",
]

FAILURE_SIDE = 1600
"""Failure images are shrunk so that their longer side is at most this."""


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
    text_exact : int
        Sheets whose text is the truth's to the character: its lines, and its numbers
        parted by spaces as they were written.
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
    text_exact: int
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
    text_exact = sum(bool(r.get("text_exact")) for r in records)
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
        text_exact=text_exact,
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
        f"= {m.exact_share:.0%}, text as written {m.text_exact}/{m.sheets}, "
        f"{m.median_s:.2f} s/sheet median, {m.p95_s:.2f} s p95, "
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
