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
    names = [cell.strip().lower() for cell in header]
    missing = [f for f in ("id", "label") if f not in names]
    if missing:
        raise _refused(where, 1, f"the header has no {' or '.join(missing)} column")
    column = {name: names.index(name) for name in FIELDS if name in names}
    extra_fields = [h.strip() for h, n in zip(header, names, strict=True) if n not in FIELDS and n]
    extra_at = [i for i, n in enumerate(names) if n not in FIELDS and n]
    rows: dict[str, Sample] = {}
    extras: dict[str, dict[str, str]] = {}
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue  # a blank line, or a row of empty cells a spreadsheet left

        def cell(name: str, cells: list[str] = cells) -> str:
            i = column.get(name)
            return cells[i] if i is not None and i < len(cells) else ""

        sid, label = cell("id").lower(), _parse_label(cell("label"))
        if not _ID.fullmatch(sid):
            raise _refused(where, line, f"id {cell('id')!r} is not 16 hex characters")
        if label is None:
            raise _refused(where, line, f"label {cell('label')!r} is not a digit 0-9")
        rows[sid] = Sample(sid, label, spreadsheet_text(cell("source")), cell("saved_at"))
        extras[sid] = {
            f: (cells[i] if i < len(cells) else "")
            for f, i in zip(extra_fields, extra_at, strict=True)
        }
    return LabelsTable(rows, extra_fields, extras)


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
