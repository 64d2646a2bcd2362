"""The reading page: boxes, stages, the 28×28 digits, the reading, its downloads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from digit_pipeline import PipelineParams, PipelineResult, Prepared
from digit_pipeline.aliases import Box
from digit_pipeline.exports import annotated_png, reading_csv, reading_json, rois_zip
from digit_pipeline.model import ModelLoadError
from digit_pipeline.reading import (
    LOW_CONFIDENCE,
    Reading,
    SheetReading,
    keep_set_aside,
    lines_text,
    without,
)
from digit_pipeline.reading.judge import RULES, SetAside
from workbench.cache import (
    Pictures,
    digit_pictures,
    get_model,
    model_future,
    page_panels,
    pictures,
    preview,
    read_with_model,
    ready_image,
    source_image,
    stage_pictures,
    stage_results,
)
from workbench.common import Source
from workbench.controls import (
    auto_fit_new_image,
    finish_pending_fit,
    model_picker,
    sidebar_controls,
)
from workbench.dataset_panel import save_to_dataset, show_dataset
from workbench.page_panel import page_picker
from workbench.sources import source_picker


def show_boxes(found: PipelineResult, shown: Pictures, aside: int = 0) -> None:
    """Show the picked image with its boxes drawn on (``aside``: boxes set aside, in grey)."""
    st.image(shown.boxes, width="stretch")
    if found.dropped:
        st.warning(
            f"This image yields very many shapes; only the {len(found.boxes)} largest are "
            "kept. Try Auto-fit boxes, a larger Gaussian mask or a higher Canny threshold."
        )
    count = len(found.boxes)
    if count:
        more = f" and {aside} set aside as no digit (grey, listed below)" if aside else ""
        st.caption(f"{count} box{'es' if count != 1 else ''} found{more}.")
    else:
        st.warning("No digits found. Try lowering the Canny threshold or the minimum box area.")


def show_stages(draw: Callable[[], tuple[tuple[str, bytes], ...]]) -> None:
    """Show every stage's image side by side, in an expander.

    The panels are drawn (``draw()``) only while the expander is open, so a slider move
    with it closed does not pay for them.
    """
    stages = st.expander("Stages", expanded=False, key="show_stages", on_change="rerun")
    if not stages.open:
        return
    with stages:
        panels = draw()
        for row in range(0, len(panels), 3):
            for column, (title, panel) in zip(st.columns(3), panels[row : row + 3], strict=False):
                column.image(panel, caption=title, width="stretch")


def show_rois(
    pictures: tuple[bytes, ...],
    reading: SheetReading | None,
    low: float = 0.0,
    labels: list[int | None] | None = None,
) -> None:
    """Show the 28x28 digits, enlarged, in reading order, with any predictions.

    Digits read with confidence below ``low`` are flagged for a second look, unless the
    user's ``labels`` (after the corrections table) changed them: a corrected digit shows
    its new label, a box marked not a digit says so.
    """
    st.subheader("Digits (28×28, MNIST-style)")
    per_row = 10
    for start in range(0, len(pictures), per_row):
        columns = st.columns(per_row)
        for offset, column in enumerate(columns):
            i = start + offset
            if i >= len(pictures):
                break
            caption = f"#{i + 1}"
            if reading is not None:
                d = reading.digits[i]
                label = d.label if labels is None else labels[i]
                if label is None:
                    caption = f"#{i + 1}: {NOT_A_DIGIT} (read {d.label})"
                elif label != d.label:
                    caption = f"#{i + 1}: **{label}** ✏️ (read {d.label}, {d.confidence:.0%})"
                else:
                    flag = " ⚠️" if d.confidence < low else ""
                    caption = f"#{i + 1}: **{d.label}** ({d.confidence:.0%}){flag}"
            column.image(pictures[i], width="stretch")
            column.markdown(caption)


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
    rows = [
        {
            "#": i + 1,
            "read": d.label,
            "confidence": d.confidence,
            "check": "⚠️ low" if d.confidence < low else "",
            "second choice": d.top2[1][0],
            "second confidence": d.top2[1][1],
            "line": d.line + 1,
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
        disabled=["#", "read", "confidence", "check", "second choice", "second confidence", "line"],
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
    kept = [(n, d.line) for n, d in zip(labels, reading.digits, strict=True) if n is not None]
    changed = sum(a != d.label for a, d in zip(labels, reading.digits, strict=True))
    note = f" ({changed} corrected)" if changed else ""
    text = lines_text([n for n, _ in kept], [line for _, line in kept], " / ")
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


def render() -> None:
    """Draw the reading page."""
    st.title("Digit Workbench")
    st.caption(
        "Tune the stages until the boxes fit the digits, extract them as 28×28 MNIST-style "
        "images, and let the model read them."
    )
    source = page_picker(source_picker())  # a photographed page: flattened
    auto_fit_new_image(source)  # before the sliders are drawn, so the fit can move them
    params = sidebar_controls(source)
    model_path = model_picker()
    model_future(model_path)  # loads in the background while the user looks at the boxes
    if source is None:
        st.info("Upload a photo or scan of handwritten digits, or pick a bundled sample.")
        st.stop()

    image, scale = preview(source.key, source)
    ready = ready_image(source, params)
    result = stage_results(source.key, source.name, params, None, ready).result
    forget_old_reading((source.key, params, model_path))
    boxes_area, stages_area = st.container(), st.container()
    digits, judged, found = extract_and_predict(source, params, model_path, ready, result)
    reading = judged.sheet if judged is not None else None
    # After Predict the boxes are the judged ones (touching digits split, non-digits dropped),
    # and the boxes set aside are drawn in their own colour with their rule.
    keep = tuple(st.session_state.get(keep_key(), ()))
    version = (model_path, keep) if judged is not None else None  # which boxes are drawn
    aside = aside_labels(judged.set_aside) if judged is not None else ()
    shown = pictures(source.key, source.name, params, version, found, image, scale, aside)
    with boxes_area:
        show_boxes(found, shown, len(aside))
    with stages_area:
        show_stages(
            lambda: (
                page_panels(source.key, source)
                + stage_pictures(source.key, source.name, params, version, found, shown)
            )
        )
    st.session_state.setdefault("low_confidence", LOW_CONFIDENCE)
    low = st.sidebar.slider(
        "Flag digits read with confidence below", 0.0, 1.0, step=0.05, key="low_confidence"
    )
    if digits is not None and len(digits):
        pictured = digit_pictures(source.key, source.name, params, version, digits)
        show_rois(pictured, reading, low, corrected_labels(reading))
    elif digits is not None:
        st.info("No digits to extract with these settings.")
    labels = None
    if reading is not None and digits is not None and len(digits):
        labels = show_reading(reading, low)
    if labels is not None:
        reading, digits, labels = drop_not_digits(reading, digits, labels)
        if len(digits):
            save_to_dataset(source, digits, labels)
            show_downloads(source, reading, digits, labels)
    if judged is not None:
        show_set_aside(st.session_state["judged"].set_aside)
    show_dataset(model_path)
    finish_pending_fit(source)  # the first image's judged fit, once the model is loaded


def table_key() -> str:
    """Return the corrections table's key: one per reading and choice of set-aside boxes kept."""
    keep = st.session_state.get(keep_key())
    kept = "_" + "-".join(str(i) for i in keep) if keep else ""
    return f"corrections_{st.session_state.get('reading_id', 0)}{kept}"


def keep_key() -> str:
    """Return the session-state key of this reading's *Keep as digits* choice."""
    return f"keep_aside_{st.session_state.get('reading_id', 0)}"


def aside_labels(set_aside: tuple[SetAside, ...]) -> tuple[tuple[Box, str], ...]:
    """Each box still set aside with its label on the image: its number and rule (A1 flat)."""
    numbers = {s: n for n, s in enumerate(st.session_state["judged"].set_aside, 1)}
    return tuple((s.box, f"A{numbers.get(s, '?')} {s.rule}") for s in set_aside)


def show_set_aside(set_aside: tuple[SetAside, ...]) -> None:
    """List the boxes the judge set aside as no digit, by rule, and let the user keep any."""
    if not set_aside:
        return
    count = len(set_aside)
    st.subheader(f"Set aside as no digit ({count})")
    st.caption(
        f"The reading took {'this box' if count == 1 else f'these {count} boxes'} for no "
        "digit; each is drawn in grey on the image with its number and rule. Keep one to "
        "read it as a digit after all."
    )
    st.markdown(
        "\n".join(f"- **A{n}** {s.rule}: {RULES[s.rule]}" for n, s in enumerate(set_aside, 1))
    )
    st.multiselect(
        "Keep as digits",
        list(range(count)),
        format_func=lambda i: f"A{i + 1} ({set_aside[i].rule})",
        key=keep_key(),
        help="The judge's decision undone: the box is cut and read with the others.",
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def kept_reading(
    key: str,
    params: PipelineParams,
    model_path: str,
    keep: tuple[int, ...],
    _judged: Reading,
    _model: object,
) -> Reading:
    """Return the reading with the set-aside boxes ``keep`` read as digits, once per choice."""
    return keep_set_aside(_judged, keep, _model)


def forget_old_reading(signature: tuple[object, ...]) -> None:
    """Forget the extracted digits and the reading when the image, parameters or model change."""
    if st.session_state.get("signature") != signature:
        st.session_state["signature"] = signature
        st.session_state["extracted"] = False
        st.session_state["reading"] = None
        st.session_state["judged"] = None


def extract_and_predict(
    source: Source,
    params: PipelineParams,
    model_path: str,
    ready: Prepared,
    result: PipelineResult,
) -> tuple[np.ndarray | None, Reading | None, PipelineResult]:
    """Draw Extract ROIs and Predict; return the digits, the reading and their results.

    The digits are None until extracted; the results are the judged ones once read, with
    the set-aside boxes the user chose to keep read among them.
    """
    left, right = st.columns(2)
    extract = left.button("Extract ROIs", key="extract", type="primary", width="stretch")
    predict = right.button("Predict", key="predict", width="stretch")
    if extract or predict:
        st.session_state["extracted"] = True
    if predict and len(result.boxes):
        try:
            model = get_model(model_path)
            read = read_with_model(source, params, model_path, ready, model)
        except ModelLoadError as error:
            st.error(str(error))
        else:
            st.session_state["reading"] = read.sheet
            st.session_state["judged"] = read  # the whole reading: its set-aside boxes too
            st.session_state["reading_id"] = st.session_state.get("reading_id", 0) + 1
    judged = st.session_state.get("judged")
    if judged is None:
        digits = result.digits if st.session_state["extracted"] else None
        return digits, None, result
    keep = tuple(st.session_state.get(keep_key(), ()))
    if keep:  # boxes the user took back from the judge
        model = get_model(model_path)
        judged = kept_reading(source.key, params, model_path, keep, judged, model)
    digits = judged.result.digits if st.session_state["extracted"] else None
    return digits, judged, judged.result
