"""Real-photo benchmark: a folder of real photos and scans with a ``truth.json``.

``python -m digit_pipeline bench --real DIR [--model M ...] [--out DIR] [--no-auto]``
reads every image listed in ``DIR/truth.json`` exactly as ``python -m digit_pipeline read``
does (:func:`~digit_pipeline.io.images.read_image`, then
:func:`~digit_pipeline.reading.read_sheet`, the fit on unless ``--no-auto``) and scores
the text against the truth's ``text``.

Only the digits are known, not their boxes, so a reading is scored by aligning texts
(:func:`align_texts`): one edit-distance alignment of the two texts in which a line break
aligns only with a line break, so each written line is aligned with the line read at its
place. A truth digit aligned to the same digit is *read right*; to another digit,
*wrong*; to nothing, *missed*; a digit read and aligned to nothing is *extra*. Where the
truth has ``multiset`` (digits scattered with no reading order) the multisets of digits
are compared instead (:func:`score_multiset`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..aliases import ColorImage

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from ..reading import Reading
    from ..reading.judge import JudgeParams
    from ..reading.params import PipelineParams

__all__ = ["TextScore", "align_texts", "bench_real", "load_truth", "score_text", "table_markdown"]

DRAWING_SIDE = 1000
"""Longer side, in pixels, of the image part of a failure drawing."""


@dataclass(frozen=True)
class TextScore:
    """How a read text compares with the truth.

    Attributes
    ----------
    truth : int
        Digits in the truth.
    correct : int
        Truth digits aligned to the same digit.
    wrong : int
        Truth digits aligned to another digit.
    missed : int
        Truth digits aligned to nothing.
    extra : int
        Digits read that align to no truth digit.
    """

    truth: int
    correct: int
    wrong: int
    missed: int
    extra: int

    @property
    def exact(self) -> bool:
        """Every digit read right, nothing extra."""
        return self.correct == self.truth and self.extra == 0

    @property
    def found(self) -> int:
        """Digits read (right, wrong or extra)."""
        return self.correct + self.wrong + self.extra


def align_texts(truth: str, read: str) -> TextScore:
    r"""Align ``read`` with ``truth`` (digits, lines separated by newlines) and score it.

    A minimum edit-distance alignment over characters where a line break may align with
    a line break (free), or be inserted or deleted (cost 1), but never stands for a
    digit; a digit aligned to a different digit costs 1, like an insertion or deletion.
    Among alignments of equal cost, the one with the most digits read right is taken.

    Parameters
    ----------
    truth, read : str
        Digits, one line per written line (other characters, like spaces, are ignored).

    Returns
    -------
    TextScore

    Examples
    --------
    >>> align_texts("462\n119\n753", "46\n113\n753")
    TextScore(truth=9, correct=7, wrong=1, missed=1, extra=0)
    >>> align_texts("12", "7123").extra
    2
    """
    a, b = _tokens(truth), _tokens(read)
    correct = wrong = missed = extra = 0
    for step, i, j in _alignment(a, b):
        if step == "d" and a[i] != "\n":
            correct += a[i] == b[j]
            wrong += a[i] != b[j]
        elif step == "t":
            missed += a[i] != "\n"
        elif step == "r":
            extra += b[j] != "\n"
    return TextScore(sum(c != "\n" for c in a), correct, wrong, missed, extra)


def read_marks(truth: str, read: str) -> list[str]:
    r"""Mark each digit of ``read`` as ``correct``, ``wrong`` or ``extra`` (:func:`align_texts`).

    Examples
    --------
    >>> read_marks("462\n119", "46\n113")
    ['correct', 'correct', 'correct', 'correct', 'wrong']
    >>> read_marks("12", "7123")
    ['extra', 'correct', 'correct', 'extra']
    """
    a, b = _tokens(truth), _tokens(read)
    marks = {}
    for step, i, j in _alignment(a, b):
        if step == "d" and b[j] != "\n":
            marks[j] = "correct" if a[i] == b[j] else "wrong"
        elif step == "r" and b[j] != "\n":
            marks[j] = "extra"
    return [marks[j] for j in sorted(marks)]


def _alignment(a: list[str], b: list[str]) -> list[tuple[str, int, int]]:
    """Return the steps of the least-cost alignment of :func:`align_texts`, first to last.

    Each is ``("d", i, j)`` (``a[i]`` over ``b[j]``), ``("t", i, -1)`` (``a[i]`` missed) or
    ``("r", -1, j)`` (``b[j]`` extra).
    """
    n, m = len(a), len(b)
    # cost[i][j], then -correct as a tie-break: both minimised together as a tuple.
    inf = (10**9, 0)
    best = [[inf] * (m + 1) for _ in range(n + 1)]
    move = [[""] * (m + 1) for _ in range(n + 1)]
    best[0][0] = (0, 0)
    for i in range(n + 1):
        for j in range(m + 1):
            if i == j == 0:
                continue
            options = []
            if i and j and (a[i - 1] == "\n") == (b[j - 1] == "\n"):
                same = a[i - 1] == b[j - 1]
                cost, minus = best[i - 1][j - 1]
                hit = same and a[i - 1] != "\n"
                options.append(((cost + (not same), minus - hit), "d"))
            if i:
                cost, minus = best[i - 1][j]
                options.append(((cost + 1, minus), "t"))
            if j:
                cost, minus = best[i][j - 1]
                options.append(((cost + 1, minus), "r"))
            best[i][j], move[i][j] = min(options)
    steps = []
    i, j = n, m
    while i or j:
        step = move[i][j]
        if step == "d":
            steps.append(("d", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif step == "t":
            steps.append(("t", i - 1, -1))
            i -= 1
        else:
            steps.append(("r", -1, j - 1))
            j -= 1
    return steps[::-1]


def score_multiset(truth: str, read: str) -> TextScore:
    """Compare the multisets of digits of two texts (no reading order).

    Examples
    --------
    >>> score_multiset("1 2 2 5", "5 2 7 1 9")
    TextScore(truth=4, correct=3, wrong=1, missed=0, extra=1)
    """
    want, got = Counter(c for c in truth if c.isdigit()), Counter(c for c in read if c.isdigit())
    total, n_read = sum(want.values()), sum(got.values())
    correct = sum((want & got).values())
    wrong = min(total - correct, n_read - correct)
    return TextScore(total, correct, wrong, total - correct - wrong, n_read - correct - wrong)


def score_text(entry: dict[str, Any], read: str) -> TextScore:
    """Score ``read`` against one ``truth.json`` entry (``multiset`` where it is set)."""
    if entry.get("multiset"):
        multiset = entry["multiset"]
        truth = "".join(str(d) for d in multiset) if isinstance(multiset, list) else entry["text"]
        return score_multiset(truth, read)
    return align_texts(entry["text"], read)


def _tokens(text: str) -> list[str]:
    lines = ["".join(c for c in line if c.isdigit()) for line in text.strip().splitlines()]
    return list("\n".join(line for line in lines if line))


def load_truth(folder: str | Path) -> list[dict[str, Any]]:
    """Return the entries of ``folder/truth.json`` (``file`` and ``text`` at least).

    Raises
    ------
    OSError
        No readable ``truth.json``.
    ValueError
        It is not a list of entries with ``file`` and ``text``.
    """
    path = Path(folder) / "truth.json"
    entries = json.loads(path.read_text())
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and "file" in e and "text" in e for e in entries
    ):
        raise ValueError(f"{path} must be a list of objects with 'file' and 'text'")
    return entries


def read_entry(
    folder: Path,
    entry: dict[str, Any],
    model: keras.Model,
    auto: bool,
    judge: JudgeParams | None = None,
    params: PipelineParams | None = None,
) -> tuple[ColorImage, Reading, float]:
    """Read one image of the folder as ``read`` does; return it, the reading and seconds."""
    from ..io.images import read_image
    from ..reading import read_sheet
    from ..reading.judge import DEFAULT_JUDGE

    start = time.perf_counter()
    image = read_image(folder / entry["file"])
    reading = read_sheet(image, params, model=model, auto=auto, judge=judge or DEFAULT_JUDGE)
    return image, reading, time.perf_counter() - start


def bench_real(
    folder: str | Path,
    models: dict[str, keras.Model],
    modes: Sequence[str] = ("auto",),
    out: Path | None = None,
    log: Any = None,
    judge: JudgeParams | None = None,
) -> list[dict[str, Any]]:
    """Read every image of ``folder`` with every model in every mode; one record each.

    Parameters
    ----------
    folder : str or Path
        Holds ``truth.json`` and the images it names.
    models : dict of str to keras.Model
    modes : sequence of {"auto", "default"}
        ``auto``: the fit on (``read``'s default); ``default``: the plain defaults.
    out : Path, optional
        Failure drawings go to ``out/failures/<model>-<mode>/<file>.png``.
    log : callable, optional
        Called with one progress line per reading.
    judge : JudgeParams, optional
        The judge's thresholds and the rules switched off (``bench --judge-off``).

    Returns
    -------
    list of dict
        ``file, model, mode, truth_text, text, seconds`` and the :class:`TextScore` fields.
    """
    folder = Path(folder)
    records = []
    for entry in load_truth(folder):
        for name, model in models.items():
            for mode in modes:
                image, reading, seconds = read_entry(folder, entry, model, mode == "auto", judge)
                score = score_text(entry, reading.text)
                record = {
                    "file": entry["file"],
                    "model": name,
                    "mode": mode,
                    "truth_text": entry["text"],
                    "text": reading.text,
                    "seconds": round(seconds, 3),
                    "exact": score.exact,
                    **asdict(score),
                }
                records.append(record)
                if log is not None:
                    shown = reading.text.replace("\n", "/")
                    log(
                        f"{entry['file']} {name}/{mode}: {shown!r} {score.correct}/{score.truth}"
                        f" +{score.extra} {seconds:.2f}s"
                    )
                if out is not None and not score.exact:
                    target = out / "failures" / f"{name}-{mode}"
                    target.mkdir(parents=True, exist_ok=True)
                    drawn = draw_reading(image, reading, entry["text"], record)
                    cv2.imwrite(
                        str(target / (Path(entry["file"]).stem + ".png")),
                        cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR),
                    )
    return records


def draw_reading(
    image: ColorImage, reading: Reading, truth_text: str, record: dict[str, Any]
) -> np.ndarray:
    """Draw the boxes found and the labels read over ``image``, the truth beside it.

    Returns
    -------
    ndarray of shape (h, w, 3), uint8
        RGB: the image (shrunk to :data:`DRAWING_SIDE`) with red boxes and labels, and a
        white panel on the right listing the truth, the text read and the score.
    """
    scale = min(1.0, DRAWING_SIDE / max(image.shape[:2]))
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    canvas = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image.copy()
    canvas = np.ascontiguousarray(canvas[..., :3])
    font = cv2.FONT_HERSHEY_SIMPLEX
    sheet = reading.in_image()  # a flattened page's boxes, back on the photo
    digits = sheet.digits if sheet is not None else ()
    for d in digits:
        x, y, w, h = (round(v * scale) for v in d.box)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), (230, 0, 0), 2)
        size_text = max(0.5, min(2.0, h / 40))
        cv2.putText(canvas, str(d.label), (x, max(14, y - 4)), font, size_text, (230, 0, 0), 2)
    lines = ["truth:", *truth_text.splitlines(), "", "read:", *(reading.text or "-").splitlines()]
    lines += ["", f"right {record['correct']}/{record['truth']}", f"extra {record['extra']}"]
    lines += [f"{record['model']}/{record['mode']}"]
    panel = np.full((max(canvas.shape[0], 24 * len(lines) + 20), 300, 3), 255, np.uint8)
    for k, line in enumerate(lines):
        cv2.putText(panel, line, (8, 28 + 24 * k), font, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    if panel.shape[0] > canvas.shape[0]:
        pad = np.full((panel.shape[0] - canvas.shape[0], canvas.shape[1], 3), 255, np.uint8)
        canvas = np.concatenate([canvas, pad])
    return np.concatenate([canvas, panel], axis=1)


def table_markdown(records: Sequence[dict[str, Any]]) -> str:
    """Return the summary table (one row per model and mode) and the per-image table."""
    keys = list(dict.fromkeys((r["model"], r["mode"]) for r in records))
    out = [
        "| model | mode | digits read right | extra digits | exact sheets | s / sheet |",
        "|---|---|---|---|---|---|",
    ]
    for model, mode in keys:
        mine = [r for r in records if (r["model"], r["mode"]) == (model, mode)]
        truth = sum(r["truth"] for r in mine)
        correct = sum(r["correct"] for r in mine)
        out.append(
            f"| {model} | {mode} | {correct}/{truth} = {100 * correct / max(truth, 1):.1f}% "
            f"| {sum(r['extra'] for r in mine)} | {sum(r['exact'] for r in mine)}/{len(mine)} "
            f"| {np.mean([r['seconds'] for r in mine]):.2f} |"
        )
    out += ["", "| file | truth | " + " | ".join(f"{a} / {b}" for a, b in keys) + " |"]
    out.append("|---|---|" + "---|" * len(keys))
    for file in dict.fromkeys(r["file"] for r in records):
        cells = []
        for key in keys:
            r = next(r for r in records if r["file"] == file and (r["model"], r["mode"]) == key)
            mark = "" if r["exact"] else f" ({r['correct']}/{r['truth']}, +{r['extra']})"
            cells.append(r["text"].replace("\n", "/") + mark)
        truth = next(r["truth_text"] for r in records if r["file"] == file).replace("\n", "/")
        out.append(f"| {file} | {truth} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"
