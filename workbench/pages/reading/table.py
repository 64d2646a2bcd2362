"""The reading as a table the user corrects, and the downloads that follow it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from digit_pipeline.io.exports import annotated_png, reading_csv, reading_json, rois_zip
from digit_pipeline.reading import SheetReading, lines_text, without
from workbench.cache import source_image
from workbench.common import Source

NOT_A_DIGIT = "not a digit"
"""The corrections table's choice for a box that holds no digit (a speck, a rule's stub)."""


def show_reading(reading: SheetReading, low: float) -> list[int | None]:
    """Show the sheet as text and a table in which every label can be corrected.

    Returns
    -------
    list of int or None
        The labels after the user's corrections (the model's where untouched); None for
        a box the user marked :data:`NOT_A_DIGIT`.
    """
    st.subheader("Reading")
    table = table_key()
    saved = st.session_state.setdefault("corrections", {}).get(table)
    if saved is not None and len(saved) != len(reading.digits):
        saved = None
    paired = any(d.pair for d in reading.digits)  # a column only when a pair was read
    rows = [
        {
            "#": i + 1,
            "read": d.label,
            "confidence": d.confidence,
            "check": "⚠️ low" if d.confidence < low else "",
            "second choice": d.top2[1][0],
            "second confidence": d.top2[1][1],
            "line": d.line + 1,
            "number": d.number + 1,
            **({"pair": "read whole with its neighbour" if d.pair else ""} if paired else {}),
            "correct label": saved[i] if saved else str(d.label),
        }
        for i, d in enumerate(reading.digits)
    ]
    st.caption(
        "Correct a label in the last column, or mark a box that holds no digit "
        f"“{NOT_A_DIGIT}”; the reading, the downloads and what is saved follow it."
    )
    edited = st.data_editor(
        rows,
        hide_index=True,
        key=table,
        disabled=[
            *("#", "read", "confidence", "check", "second choice", "second confidence"),
            *("line", "number", "pair"),
        ],
        column_config={
            "confidence": st.column_config.ProgressColumn(
                format="percent", min_value=0, max_value=1
            ),
            "second confidence": st.column_config.NumberColumn(format="percent"),
            "correct label": st.column_config.SelectboxColumn(
                options=[str(n) for n in range(10)] + [NOT_A_DIGIT], required=True
            ),
        },
    )
    # The table's edits die with the page; kept here, they come back as its start values.
    st.session_state["corrections"] = {table: [str(row["correct label"]) for row in edited]}
    labels = [
        _label(row["correct label"], d.label) for row, d in zip(edited, reading.digits, strict=True)
    ]
    kept = [(n, d) for n, d in zip(labels, reading.digits, strict=True) if n is not None]
    changed = sum(a != d.label for a, d in zip(labels, reading.digits, strict=True))
    note = f" ({changed} corrected)" if changed else ""
    text = lines_text(
        [n for n, _ in kept], [d.line for _, d in kept], " / ", [d.number for _, d in kept]
    )
    unsure = sum(
        d.confidence < low and n == d.label for n, d in zip(labels, reading.digits, strict=True)
    )
    if unsure:  # a digit still flagged: the text is not yet to be trusted
        st.warning(
            f"Sheet reads: **{text or '(no digits)'}**{note} — {unsure} digit"
            f"{'s' if unsure != 1 else ''} flagged ⚠️ for a look: check "
            f"{'them' if unsure != 1 else 'it'} in the table."
        )
    else:
        st.success(f"Sheet reads: **{text or '(no digits)'}**{note}")
    return labels


def corrected_labels(reading: SheetReading | None) -> list[int | None] | None:
    """Return the labels after the corrections table's edits, before the table is drawn.

    The digits above the table show its corrections in the same run: the table's kept
    values (``corrections``) with its latest edits (its widget state) laid over them.
    """
    if reading is None:
        return None
    table = table_key()
    values = st.session_state.get("corrections", {}).get(table)
    if values is None or len(values) != len(reading.digits):
        values = [str(d.label) for d in reading.digits]
    values = list(values)
    edits = st.session_state.get(table, {}) or {}
    for row, change in (edits.get("edited_rows") or {}).items():
        if "correct label" in change and 0 <= int(row) < len(values):
            values[int(row)] = change["correct label"]
    return [_label(v, d.label) for v, d in zip(values, reading.digits, strict=True)]


def _label(value: object, model_label: int) -> int | None:
    """Return the table's value as a digit: None for "not a digit", the model's if empty."""
    if value == NOT_A_DIGIT:
        return None
    try:
        return int(str(value))
    except ValueError:
        return model_label


def drop_not_digits(
    reading: SheetReading, digits: np.ndarray, labels: list[int | None]
) -> tuple[SheetReading, np.ndarray, list[int]]:
    """Return the reading, the digits and the labels without the boxes marked not a digit."""
    drop = [i for i, n in enumerate(labels) if n is None]
    keep = [i for i, n in enumerate(labels) if n is not None]
    return without(reading, drop), digits[keep], [labels[i] for i in keep]


def show_downloads(
    source: Source, reading: SheetReading, digits: np.ndarray, labels: list[int]
) -> None:
    """Download buttons: the reading as CSV and JSON, the ROIs as a ZIP, the boxed image.

    Each file is built only when its button is clicked (Streamlit runs the callable then),
    so a rerun after Predict costs no more than one before it.
    """
    stem = Path(source.name).stem or "sheet"
    corrected = labels if labels != [d.label for d in reading.digits] else None
    boxes = [d.box for d in reading.digits]
    texts = [str(n) for n in labels]
    files = [
        ("Reading (CSV)", "csv", "text/csv", lambda: reading_csv(reading, source.name, corrected)),
        (
            "Reading (JSON)",
            "json",
            "application/json",
            lambda: reading_json(reading, source.name, corrected),
        ),
        ("ROIs (ZIP of PNGs)", "zip", "application/zip", lambda: rois_zip(digits, labels)),
        (
            "Annotated image (PNG)",
            "png",
            "image/png",
            lambda: annotated_png(source_image(source), boxes, texts),
        ),
    ]
    suffix = {
        "csv": "reading.csv",
        "json": "reading.json",
        "zip": "rois.zip",
        "png": "annotated.png",
    }
    for column, (label, kind, mime, build) in zip(st.columns(len(files)), files, strict=True):
        column.download_button(
            label,
            build,
            file_name=f"{stem}-{suffix[kind]}",
            mime=mime,
            key=f"download_{kind}",
            on_click="ignore",
        )


def table_key() -> str:
    """Return the corrections table's key: one per reading and choice of set-aside boxes kept."""
    keep = st.session_state.get(keep_key())
    kept = "_" + "-".join(str(i) for i in keep) if keep else ""
    return f"corrections_{st.session_state.get('reading_id', 0)}{kept}"


def keep_key() -> str:
    """Return the session-state key of this reading's *Keep as digits* choice."""
    return f"keep_aside_{st.session_state.get('reading_id', 0)}"
