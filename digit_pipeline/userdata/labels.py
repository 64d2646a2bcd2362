"""``labels.csv`` of a dataset folder, read the way people's tools write it back.

See :mod:`digit_pipeline.userdata.dataset` for the format.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

from ..validation import SAMPLE_ID

CSV_NAME = "labels.csv"
"""The labels file inside a dataset folder."""

FIELDS = ("id", "label", "source", "saved_at")
"""Columns of ``labels.csv``, in order."""

_ID = SAMPLE_ID
_FORMULA_START = tuple("=+-@\t\r")


@dataclass(frozen=True)
class Sample:
    """One saved digit: a row of ``labels.csv``."""

    id: str
    label: int
    source: str
    saved_at: str


class DatasetError(ValueError):
    """``labels.csv`` holds a line this module cannot understand; nothing was changed.

    The message names the file and the line, in one sentence a user can act on.
    """


@dataclass
class LabelsTable:
    """``labels.csv`` as read: samples by id, plus any extra columns kept for the rewrite."""

    rows: dict[str, Sample]
    extra_fields: list[str]
    extras: dict[str, dict[str, str]]


def parse_labels(data: bytes, path: str | os.PathLike[str] = CSV_NAME) -> LabelsTable:
    r"""Parse the bytes of a ``labels.csv`` as people's tools write it back.

    Accepts a UTF-8 byte-order mark, CRLF or CR line ends, quoted fields, whitespace around
    names and values, columns in any order (matched without regard to case), extra columns,
    upper-case ids, labels such as ``7.0`` and blank lines.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str or Path
        Named in error messages.

    Returns
    -------
    LabelsTable
        Samples by id in file order (a later row of the same id wins) and the extra columns.

    Raises
    ------
    DatasetError
        Naming the file and the line that cannot be understood.

    Examples
    --------
    >>> data = b"\xef\xbb\xbfID , Label,note\r\n0123456789ABCDEF, 7.0 ,mine\r\n"
    >>> table = parse_labels(data)
    >>> table.rows["0123456789abcdef"].label, table.extra_fields
    (7, ['note'])
    >>> parse_labels(b"id,label\n0123456789abcdef,12\n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    digit_pipeline.userdata.labels.DatasetError: labels.csv, line 2: label '12' is not a ...
    """
    where = str(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _refused(where, line, "not UTF-8 text; save it again as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        if text.strip():
            raise _refused(where, 1, "no header line naming the columns id and label")
        return LabelsTable({}, [], {})
    columns = _Columns.from_header(header, where)
    table = LabelsTable({}, columns.extra_fields, {})
    for cells in reader:
        cells = [c.strip() for c in cells]
        if any(cells):  # else a blank line, or a row of empty cells a spreadsheet left
            sample = columns.sample(cells, where, reader.line_num)
            table.rows[sample.id] = sample
            table.extras[sample.id] = columns.extras(cells)
    return table


@dataclass(frozen=True)
class _Columns:
    """Where each known column is in a ``labels.csv`` as written, and the extra ones."""

    at: dict[str, int]
    extra_fields: list[str]
    extra_at: list[int]

    @classmethod
    def from_header(cls, header: list[str], where: str) -> _Columns:
        names = [cell.strip().lower() for cell in header]
        missing = [f for f in ("id", "label") if f not in names]
        if missing:
            raise _refused(where, 1, f"the header has no {' or '.join(missing)} column")
        extra_at = [i for i, n in enumerate(names) if n not in FIELDS and n]
        return cls(
            {name: names.index(name) for name in FIELDS if name in names},
            [header[i].strip() for i in extra_at],
            extra_at,
        )

    def cell(self, cells: list[str], name: str) -> str:
        i = self.at.get(name)
        return cells[i] if i is not None and i < len(cells) else ""

    def sample(self, cells: list[str], where: str, line: int) -> Sample:
        sid, label = self.cell(cells, "id").lower(), _parse_label(self.cell(cells, "label"))
        if not _ID.fullmatch(sid):
            raise _refused(where, line, f"id {self.cell(cells, 'id')!r} is not 16 hex characters")
        if label is None:
            raise _refused(where, line, f"label {self.cell(cells, 'label')!r} is not a digit 0-9")
        source = spreadsheet_text(self.cell(cells, "source"))
        return Sample(sid, label, source, self.cell(cells, "saved_at"))

    def extras(self, cells: list[str]) -> dict[str, str]:
        return {
            f: (cells[i] if i < len(cells) else "")
            for f, i in zip(self.extra_fields, self.extra_at, strict=True)
        }


def _refused(where: str, line: int, what: str) -> DatasetError:
    """Return the one sentence a user sees for a ``labels.csv`` line this module cannot read."""
    return DatasetError(
        f"{where}, line {line}: {what}; mend that line (or remove it) and try again "
        "(nothing was changed)"
    )


def _parse_label(text: str) -> int | None:
    """``"7"``, ``"7.0"`` or ``"07"`` -> 7; anything else (or outside 0..9) -> None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and 0 <= value <= 9 else None


# -- files ---------------------------------------------------------------------------------


def spreadsheet_safe(text: str) -> str:
    r"""Return ``text`` as a CSV cell a spreadsheet shows as text, never runs as a formula.

    OWASP's advice for CSV injection: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return gets a leading single quote. A carriage return inside becomes a
    line feed: Python's CSV writer (LF line ends) would not quote it, and the row would
    break in two. :func:`spreadsheet_text` undoes the quote.

    Examples
    --------
    >>> spreadsheet_safe('=HYPERLINK("http://x","y").png')
    '\'=HYPERLINK("http://x","y").png'
    >>> spreadsheet_safe("sheet-1.png"), spreadsheet_safe("\rname")
    ('sheet-1.png', "'\nname")
    """
    return (
        "'" + text.replace("\r", "\n")
        if text.startswith(_FORMULA_START)
        else text.replace("\r", "\n")
    )


def spreadsheet_text(cell: str) -> str:
    """Undo :func:`spreadsheet_safe`.

    Examples
    --------
    >>> spreadsheet_text(spreadsheet_safe("=1+2"))
    '=1+2'
    """
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell
