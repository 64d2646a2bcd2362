"""Downloads of a reading: CSV, JSON, a ZIP of the digits, the annotated image.

Every function is pure and returns bytes, ready for ``st.download_button`` or a file.
Text cells of the CSV files that a spreadsheet would run as a formula (a file named
``=HYPERLINK(...).png``) are escaped as OWASP recommends
(:func:`~digit_pipeline.userdata.labels.spreadsheet_safe`).
``corrected`` is the user's label for each digit (the model's where untouched); when it is
given the exports carry it beside the model's reading.

Examples
--------
>>> from digit_pipeline.reading import DigitReading, SheetReading
>>> reading = SheetReading((DigitReading((3, 4, 10, 12), 7, 0.9, ((7, 0.9), (1, 0.05)), 0),))
>>> print(reading_csv(reading, "sheet.png").decode(), end="")
image,index,line,number,label,confidence,second,second_confidence,x,y,w,h
sheet.png,1,1,1,7,0.9,1,0.05,3,4,10,12

The CSV and the ZIP count digits, lines and numbers from 1, as the app's table does (``#``,
``line``, ``number``); the JSON keeps the schema ``read --json`` prints, which counts from 0.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

from ..aliases import Box, DigitBatch
from ..aliases import Image as ImageArray
from ..reading import SheetReading, lines_text
from ..stages import draw_boxes
from ..userdata.labels import spreadsheet_safe
from ..validation import check_digits, check_labels
from .images import encode_png

CSV_COLUMNS = (
    "image",
    "index",
    "line",
    "number",
    "label",
    "confidence",
    "second",
    "second_confidence",
    "x",
    "y",
    "w",
    "h",
)
"""Columns of :func:`reading_csv`; ``corrected`` follows when corrections are given."""

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same digits give the same bytes


def reading_csv(
    reading: SheetReading, image_name: str, corrected: Sequence[int] | None = None
) -> bytes:
    """Return the reading as CSV, one row per digit in reading order.

    Parameters
    ----------
    reading : SheetReading
    image_name : str
        Written in the ``image`` column, so several sheets' files can be concatenated.
    corrected : sequence of int, optional
        The user's label of each digit; adds a ``corrected`` column.

    Returns
    -------
    bytes
        UTF-8, header :data:`CSV_COLUMNS` (+ ``corrected``), LF line ends; ``index``,
        ``line`` and ``number`` count from 1, as the app's table does.

    Raises
    ------
    ValueError
        If ``corrected`` does not hold one label 0..9 per digit.
    """
    fixed = _check_corrected(corrected, reading)
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (("corrected",) if fixed is not None else ()))
    for i, d in enumerate(reading.digits):
        second, second_p = d.top2[1]
        row = [
            spreadsheet_safe(image_name),
            i + 1,
            d.line + 1,
            d.number + 1,
            d.label,
            round(d.confidence, 6),
            second,
            round(second_p, 6),
        ]
        row += list(d.box)
        if fixed is not None:
            row.append(fixed[i])
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


def reading_dict(
    reading: SheetReading, image_name: str, corrected: Sequence[int] | None = None
) -> dict[str, Any]:
    """Return the reading as a JSON-ready dict in the CLI's schema.

    ``{"image", "text", "digits": [{"box", "label", "confidence", "top2", "line", "number",
    "pair"}]}``, each digit with ``"corrected"`` and the whole with ``"corrected_text"``
    when corrections are given.

    Parameters
    ----------
    reading : SheetReading
    image_name : str
    corrected : sequence of int, optional
        The user's label of each digit.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If ``corrected`` does not hold one label 0..9 per digit.

    Examples
    --------
    >>> from digit_pipeline.reading import DigitReading, SheetReading
    >>> d = DigitReading((3, 4, 10, 12), 7, 0.9, ((7, 0.9), (1, 0.05)), 0)
    >>> reading_dict(SheetReading((d,)), "sheet.png", corrected=[1])["corrected_text"]
    '1'
    """
    fixed = _check_corrected(corrected, reading)
    record: dict[str, Any] = {
        "image": image_name,
        "text": reading.text,
        "digits": [d.to_dict() for d in reading.digits],
    }
    if fixed is not None:
        for digit, label in zip(record["digits"], fixed, strict=True):
            digit["corrected"] = label
        digits = reading.digits
        record["corrected_text"] = lines_text(
            fixed, [d.line for d in digits], numbers=[d.number for d in digits]
        )
    return record


def reading_json(
    reading: SheetReading, image_name: str, corrected: Sequence[int] | None = None
) -> bytes:
    """Return :func:`reading_dict` as indented UTF-8 JSON.

    Parameters
    ----------
    reading : SheetReading
    image_name : str
    corrected : sequence of int, optional

    Returns
    -------
    bytes
    """
    text = json.dumps(reading_dict(reading, image_name, corrected), indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def rois_zip(digits: DigitBatch, labels: Sequence[int] | None = None) -> bytes:
    """Return the digits as a ZIP of 28×28 PNGs plus ``labels.csv``.

    Parameters
    ----------
    digits : ndarray of shape (N, 28, 28), uint8
    labels : sequence of int, optional
        One per digit, 0..9; part of each file name (``003_7.png``: the third digit, a 7)
        when given, else the names are ``003.png``. Digits count from 1, as in the app.

    Returns
    -------
    bytes
        The ZIP; ``labels.csv`` has columns ``file,index,label`` (label empty without
        labels). The same input always gives the same bytes.

    Raises
    ------
    ValueError
        Naming ``digits`` or ``labels``.

    Examples
    --------
    >>> import io, zipfile, numpy as np
    >>> data = rois_zip(np.zeros((2, 28, 28), np.uint8), [4, 2])
    >>> zipfile.ZipFile(io.BytesIO(data)).namelist()
    ['001_4.png', '002_2.png', 'labels.csv']
    """
    digits = check_digits(digits)
    checked = check_labels(labels, len(digits)) if labels is not None else None
    rows = io.StringIO(newline="")
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(("file", "index", "label"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, digit in enumerate(digits):
            label = "" if checked is None else checked[i]
            name = f"{i + 1:03d}.png" if checked is None else f"{i + 1:03d}_{label}.png"
            archive.writestr(zipfile.ZipInfo(name, _ZIP_DATE), encode_png(digit))
            writer.writerow((name, i + 1, label))
        info = zipfile.ZipInfo("labels.csv", _ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, rows.getvalue().encode("utf-8"))
    return buf.getvalue()


def annotated_png(
    image: ImageArray,
    boxes: Sequence[Box],
    labels: Sequence[int | str] | None = None,
    *,
    thickness: int | None = None,
) -> bytes:
    """Return ``image`` with its boxes (and labels above them) drawn, as PNG bytes.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, 3|4), uint8
    boxes : sequence of (x, y, w, h)
        Original-image pixels.
    labels : sequence of int or str, optional
        One per box.
    thickness : int, optional
        Line width; default scales with the image, as in
        :func:`digit_pipeline.stages.draw_boxes`.

    Returns
    -------
    bytes
        An RGB PNG the size of ``image``.

    Raises
    ------
    ValueError
        From :func:`~digit_pipeline.stages.draw_boxes`: a bad image or one label per box
        missing.

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> png = annotated_png(np.zeros((20, 30), np.uint8), [(2, 2, 10, 10)], [5])
    >>> Image.open(io.BytesIO(png)).size
    (30, 20)
    """
    text = [str(label) for label in labels] if labels is not None else None
    drawn = draw_boxes(image, boxes, text, thickness=thickness)
    return encode_png(drawn)


def _check_corrected(corrected: Sequence[int] | None, reading: SheetReading) -> list[int] | None:
    if corrected is None:
        return None
    return check_labels(corrected, len(reading.digits), name="corrected")
