"""The reading page: boxes, stages, the 28×28 digits, the reading, its downloads.

Its parts beside it: :mod:`.sources` (the image), :mod:`.page_panel` (the page's corners),
:mod:`.table` (the corrections and downloads), :mod:`.set_aside` (the boxes set aside),
:mod:`.dataset_panel` (the user's dataset and fine-tuning).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from digit_pipeline import PipelineParams, PipelineResult
from digit_pipeline.model import ModelLoadError
from digit_pipeline.reading import (
    LOW_CONFIDENCE,
    Reading,
    SheetReading,
)
from workbench.cache import (
    Pictures,
    digit_pictures,
    get_model,
    model_future,
    page_panels,
    pictures,
    preview,
    read_source,
    stage_pictures,
)
from workbench.common import Source
from workbench.controls import (
    auto_fit_new_image,
    finish_pending_fit,
    model_picker,
    sidebar_controls,
)
from workbench.pages.reading.dataset_panel import save_to_dataset, show_dataset
from workbench.pages.reading.page_panel import page_picker
from workbench.pages.reading.set_aside import aside_labels, kept_reading, show_set_aside
from workbench.pages.reading.sources import (
    orient_new_image,
    source_picker,
    turn_control,
    turned,
)
from workbench.pages.reading.table import (
    NOT_A_DIGIT,
    corrected_labels,
    drop_not_digits,
    keep_key,
    show_downloads,
    show_reading,
)


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


def render() -> None:
    """Draw the reading page."""
    st.title("Digit Workbench")
    st.caption(
        "Tune the stages until the boxes fit the digits, extract them as 28×28 MNIST-style "
        "images, and let the model read them."
    )
    source = turned(source_picker())  # as this session turned it (by hand, or the reading)
    source = orient_new_image(source)  # a photo stored sideways: turned once it reads so
    turn_control(source)
    source = page_picker(source)  # a photographed page: flattened
    auto_fit_new_image(source)  # before the sliders are drawn, so the fit can move them
    params = sidebar_controls(source)
    model_path = model_picker()
    model_future(model_path)  # loads in the background while the user looks at the boxes
    if source is None:
        st.info("Upload a photo or scan of handwritten digits, or pick a bundled sample.")
        st.stop()

    image, scale = preview(source.key, source)
    result = read_source(source, params).result  # the boxes: no model yet
    forget_old_reading((source.key, params, model_path))
    boxes_area, stages_area = st.container(), st.container()
    digits, judged, found = extract_and_predict(source, params, model_path, result)
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
            read = read_source(source, params, get_model(model_path))  # a fit's, if it chose these
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


__all__ = ["NOT_A_DIGIT", "render"]
