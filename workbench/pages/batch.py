"""The batch page: many sheets (or a ZIP of them) read with the sidebar's settings."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import streamlit as st

from digit_pipeline import draw_boxes
from digit_pipeline.batch import csv_bytes, read_data, zip_sources
from digit_pipeline.batch.sources import is_archive_name, member_bytes
from digit_pipeline.io.images import UPLOAD_TYPES, ImageReadError, decode_image
from digit_pipeline.model import ModelLoadError
from digit_pipeline.reading import LOW_CONFIDENCE
from workbench.cache import get_model
from workbench.common import thumbnail
from workbench.controls import model_picker, sidebar_controls

MAX_THUMBNAILS = 24  # sheets shown for a second look, at most


def items(uploads: list[Any]) -> list[tuple[str, bytes | None, str | None]]:
    """Flatten the uploads into ``(name, bytes, error)``: images, and a ZIP's image members.

    A ZIP member with a hostile name, or a ZIP that cannot be opened, is an item with
    its sentence and no bytes (it is never read).
    """
    out: list[tuple[str, bytes | None, str | None]] = []
    for upload in uploads:
        data = upload.getvalue()
        if not is_archive_name(upload.name):
            out.append((upload.name, data, None))
            continue
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            out.append(
                (upload.name, None, f"{upload.name} is not a ZIP archive this app can read.")
            )
            continue
        with archive:
            for source in zip_sources(archive, upload.name):
                if source.refused:
                    out.append((source.name, None, source.refused))
                    continue
                try:
                    out.append(
                        (source.name, member_bytes(archive, source.member, source.name), None)
                    )
                except ImageReadError as error:
                    out.append((source.name, None, str(error)))
    return out


def flag_below() -> float:
    """Return the confidence under which a digit is flagged: the reading page's slider."""
    return float(st.session_state.get("low_confidence", LOW_CONFIDENCE))


def low_count(record: dict[str, Any], below: float) -> int:
    """Count the digits of a sheet's record read with a confidence under ``below``.

    Examples
    --------
    >>> low_count({"digits": [{"confidence": 0.5}, {"confidence": 0.95}]}, 0.9)
    1
    """
    return sum(d["confidence"] < below for d in record.get("digits", ()))


def needs_a_look(record: dict[str, Any], below: float) -> str | None:
    """Say why a sheet should be looked at (an error, no digits, low confidence), or None."""
    if "error" in record:
        return "error"
    if not record["digits"]:
        return "no digits found"
    low = low_count(record, below)
    return f"{low} low-confidence digit{'s' if low != 1 else ''}" if low else None


def read_all(uploads: list[Any], params: Any, model: Any, auto: bool) -> None:
    """Read every upload with a progress bar; keep the records and the thumbnails to show."""
    batch = items(uploads)
    bar = st.progress(0.0, text=f"Reading 0 of {len(batch)} sheets…")
    records: list[dict[str, Any]] = []
    thumbs: list[tuple[str, Any, str]] = []
    below = flag_below()
    for i, (name, data, error) in enumerate(batch, 1):
        if data is None:
            record = {"image": name, "error": error}
        else:
            record, _ = read_data(data, name, params, model, auto)
        records.append(record)
        why = needs_a_look(record, below)
        if why and data is not None and "error" not in record and len(thumbs) < MAX_THUMBNAILS:
            image = decode_image(data, name)
            boxes = [tuple(d["box"]) for d in record["digits"]]
            thumbs.append((name, thumbnail(draw_boxes(image, boxes), 320), why))
        bar.progress(i / len(batch), text=f"Reading {i} of {len(batch)} sheets…")
    bar.empty()
    st.session_state["batch_records"] = records
    st.session_state["batch_thumbs"] = thumbs


def batch_summary(records: list[dict[str, Any]]) -> str:
    """Say how many sheets were read and how many could not be.

    Examples
    --------
    >>> batch_summary([{"image": "a", "digits": []}] + [{"image": "b", "error": "no"}] * 4)
    '1 of 5 sheets read; 4 could not be read (below).'
    >>> batch_summary([{"image": "a", "digits": []}] * 2)
    '2 of 2 sheets read.'
    """
    failed = sum(1 for r in records if "error" in r)
    read = f"{len(records) - failed} of {len(records)} sheet{'s' if len(records) != 1 else ''} read"
    return f"{read}; {failed} could not be read (below)." if failed else f"{read}."


def show_results(records: list[dict[str, Any]], thumbs: list[tuple[str, Any, str]]) -> None:
    """Show the table of results, the sheets to look at, and the downloads."""
    below = flag_below()
    rows = [
        {
            "file": r["image"],
            "text": r.get("text", "").replace("\n", " / "),
            "digits": len(r.get("digits", ())),
            "low confidence": low_count(r, below),
            "error": r.get("error", ""),
        }
        for r in records
    ]
    st.caption(batch_summary(records))
    st.dataframe(rows, width="stretch", hide_index=True, key="batch_table")
    for r in records:
        if "error" in r:
            st.error(r["error"])
    if thumbs:
        st.subheader("Sheets that need a look")
        columns = st.columns(4)
        for i, (name, image, why) in enumerate(thumbs):
            columns[i % 4].image(image, caption=f"{name}: {why}", output_format="JPEG")
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    left, right = st.columns(2)
    left.download_button(
        "Download JSONL", jsonl, "readings.jsonl", "application/x-ndjson", key="batch_jsonl"
    )
    right.download_button(
        "Download CSV", csv_bytes(records), "digits.csv", "text/csv", key="batch_csv"
    )


def settings_note(auto: bool) -> str:
    """Say which settings the batch is read with, and where the sidebar's came from."""
    where = "the stages as set on *Read a sheet*"
    if st.session_state.get("fit_name"):
        where += f" (fitted there to {st.session_state['fit_name']})"
    if auto:
        return (
            f"Each sheet is fitted on its own, as `read` does; of the sidebar ({where}) only "
            "the switches and the ROI threshold apply."
        )
    return f"Every sheet is read with the sidebar's stages as they are: {where}."


def render() -> None:
    """Draw the batch page."""
    params = sidebar_controls(None, fit=False)
    model_path = model_picker()
    st.title("Read a batch of sheets")
    st.write(
        "Upload many sheets, or a ZIP of them. For a whole archive on disk, download the "
        "settings and run "
        "`python -m digit_pipeline read FOLDER --params digit-settings.json --out out.jsonl`."
    )
    uploads = st.file_uploader(
        "Sheets or ZIP archives",
        type=[*UPLOAD_TYPES, "zip"],
        accept_multiple_files=True,
        key="batch_upload",
    )
    st.session_state.setdefault("batch_autofit", True)  # as ``read`` does
    auto = st.toggle(
        "Fit the stages to each sheet",
        key="batch_autofit",
        help="On (as `read` does): each sheet gets its own fit. Off: every sheet is read "
        "with the sidebar's settings as they are.",
    )
    st.caption(settings_note(auto))
    if not uploads:
        st.info("Upload sheets or a ZIP archive to read them all.")
        st.stop()
    signature = hashlib.sha256(
        json.dumps(
            [[u.name, u.size] for u in uploads] + [params.to_dict(), model_path, auto]
        ).encode()
    ).hexdigest()
    if st.button("Read all", key="batch_read", type="primary"):
        try:
            model = get_model(model_path)
        except ModelLoadError as error:
            st.error(str(error))
            st.stop()
        read_all(uploads, params, model, auto)
        st.session_state["batch_signature"] = signature
    records = st.session_state.get("batch_records")
    if records is None:
        return
    if st.session_state.get("batch_signature") != signature:
        st.caption("The uploads or settings changed since this reading: Read all again.")
    show_results(records, st.session_state.get("batch_thumbs", []))
