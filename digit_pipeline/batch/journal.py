"""The batch's output files: a resumable JSON Lines journal and the per-digit CSV.

The journal is appended one complete line at a time (one ``write`` of the whole line,
then a flush), so a crash, ``kill -9`` or Ctrl-C leaves at most one partial line at the
end; :class:`Journal` cuts it off when it opens the file again. Each line carries the
image's ``image`` name and content ``hash``: together they are the resume key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..io.exports import reading_csv
from ..reading import DigitReading, SheetReading


def record_key(record: dict[str, Any]) -> tuple[str, str | None]:
    """Return the resume key of a journal line: ``(image, hash)``."""
    return (str(record.get("image")), record.get("hash"))


class Journal:
    """An append-only JSON Lines file that can be resumed.

    Parameters
    ----------
    path : path-like
        Created if missing. A trailing partial line (an interrupted write) is cut off.

    Raises
    ------
    ValueError
        If a complete line in the file is not a JSON object (not a journal of ``read``).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.done: set[tuple[str, str | None]] = set()
        self.cut = 0
        if self.path.exists():
            self.cut = _cut_partial_line(self.path)
            for number, record in enumerate(iter_records(self.path), 1):
                if not isinstance(record, dict) or "image" not in record:
                    raise ValueError(f"{self.path} line {number} is not a record of read.")
                self.done.add(record_key(record))
        self._file: IO[bytes] = open(self.path, "ab")

    @property
    def names(self) -> set[str]:
        """The image names that have a line."""
        return {name for name, _ in self.done}

    def is_done(self, name: str, content_hash: str | None) -> bool:
        """Whether this image, with this content, already has its line.

        A file that could not be opened has no hash; its error line counts until the file
        appears (then it has a hash, and is read).
        """
        return (name, content_hash) in self.done

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one complete line and flush it to the OS."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        self._file.write(line)
        self._file.flush()
        self.done.add(record_key(record))

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def _cut_partial_line(path: Path) -> int:
    """Truncate ``path`` after its last newline; return the bytes cut."""
    with open(path, "rb+") as file:
        size = file.seek(0, os.SEEK_END)
        keep = size
        while keep > 0:
            step = min(1 << 16, keep)
            file.seek(keep - step)
            chunk = file.read(step)
            at = chunk.rfind(b"\n")
            if at >= 0:
                keep = keep - step + at + 1
                break
            keep -= step
        if keep != size:
            file.truncate(keep)
        return size - keep


def iter_records(path: str | os.PathLike[str]) -> Iterator[Any]:
    """Yield the JSON value of each complete line (streamed, one line in memory)."""
    with open(path, encoding="utf-8") as file:
        for line in file:
            if line.endswith("\n") and line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path} holds a line that is not JSON ({error}).") from error


def sheet_from_record(record: dict[str, Any]) -> SheetReading:
    """Rebuild the :class:`SheetReading` of a record (empty for an error record)."""
    digits = tuple(
        DigitReading(
            box=tuple(int(v) for v in d["box"]),
            label=int(d["label"]),
            confidence=float(d["confidence"]),
            top2=tuple((int(k), float(p)) for k, p in d["top2"]),
            line=int(d["line"]),
            number=int(d.get("number", 0)),  # records written before numbers: one a line
            pair=bool(d.get("pair", False)),
        )
        for d in record.get("digits", ())
    )
    return SheetReading(digits)


class CsvTable:
    """The per-digit table (:data:`~digit_pipeline.io.exports.CSV_COLUMNS`) of many sheets."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file: IO[bytes] = open(path, "wb")
        self._header = True

    def add(self, record: dict[str, Any]) -> None:
        """Append the rows of one record (none for an error or an empty sheet)."""
        data = reading_csv(sheet_from_record(record), str(record["image"]))
        if not self._header:
            data = data.split(b"\n", 1)[1]
        self._header = False
        self._file.write(data)

    def close(self) -> None:
        """Flush and close (the header alone when nothing was read)."""
        if self._header:
            self._file.write(reading_csv(SheetReading(()), ""))
        self._file.close()


def csv_bytes(records: list[dict[str, Any]]) -> bytes:
    """Return the per-digit CSV of ``records``, one header (the app's batch download)."""
    out = [reading_csv(SheetReading(()), "")]
    for record in records:
        out.append(reading_csv(sheet_from_record(record), str(record["image"])).split(b"\n", 1)[1])
    return b"".join(out)
