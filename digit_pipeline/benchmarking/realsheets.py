"""Reading accuracy on a folder of real sheets with a ``truth.json`` (``../shared/data/real_dev``).

``truth.json`` is a list of ``{file, text, multiset, ...}``: ``text`` holds the digits in
reading order, one line per row of writing. A reading is scored by aligning its text with
the truth line by line (when both have as many lines; else as one line): a digit counts as
read when the alignment pairs it with the same digit, which for unit edit costs is the
longest common subsequence. Where ``multiset`` is set (scattered digits, no reading order)
the multisets of digits are compared instead.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..imageio import read_image

__all__ = ["SheetResult", "digits_read", "read_folder"]


def _common(a: str, b: str) -> int:
    """Length of the longest common subsequence of two digit strings."""
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if ch == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def digits_read(read: str, truth: str, *, multiset: bool = False) -> int:
    r"""Count the truth's digits that the reading got, aligned line by line.

    Examples
    --------
    >>> digits_read("462\n118\n753", "462\n119\n753")
    8
    >>> digits_read("4621", "462")
    3
    >>> digits_read("95", "59", multiset=True)
    2
    """
    if multiset:
        have, want = Counter(read.replace("\n", "")), Counter(truth.replace("\n", ""))
        return sum(min(n, have[d]) for d, n in want.items())
    lines, truth_lines = read.split("\n"), truth.split("\n")
    if len(lines) != len(truth_lines):
        return _common(read.replace("\n", ""), truth.replace("\n", ""))
    return sum(_common(a, b) for a, b in zip(lines, truth_lines, strict=True))


@dataclass(frozen=True)
class SheetResult:
    """One real sheet: what was read, the truth, digits read right and digits in the truth."""

    file: str
    read: str
    truth: str
    hits: int
    total: int
    error: str | None = None


def read_folder(
    folder: str | os.PathLike[str], read_text: Callable[[object], str]
) -> list[SheetResult]:
    """Read every sheet listed in ``folder/truth.json`` with ``read_text(image) -> text``.

    A sheet that cannot be read counts as 0 hits, with its error kept.

    Raises
    ------
    OSError, ValueError
        If ``truth.json`` is missing or not a list of entries.
    """
    folder = Path(folder)
    entries = json.loads((folder / "truth.json").read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{folder / 'truth.json'} must hold a list of sheets")
    results = []
    for entry in entries:
        truth = str(entry["text"])
        total = len(truth.replace("\n", ""))
        try:
            text = read_text(read_image(folder / entry["file"]))
        except (OSError, ValueError) as error:
            results.append(SheetResult(entry["file"], "", truth, 0, total, str(error)))
            continue
        hits = digits_read(text, truth, multiset=bool(entry.get("multiset")))
        results.append(SheetResult(entry["file"], text, truth, hits, total))
    return results
