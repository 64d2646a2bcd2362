"""Digit Workbench: a thin Streamlit layer over the ``digit_pipeline`` package.

Run with ``streamlit run streamlit_app.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import streamlit as st

from digit_pipeline import PARAM_SPECS, PipelineParams, draw_boxes
from digit_pipeline.autofit import auto_fit
from digit_pipeline.imageio import UPLOAD_TYPES, ImageReadError, decode_image, page_count
from digit_pipeline.model import MODELS_DIR, ModelLoadError, load_card, load_model
from digit_pipeline.pipeline import Prepared, Segmentation, cut_digits, find_boxes, prepare
from digit_pipeline.reading import SheetReading, classify, lines_text

SAMPLES_DIR = Path(__file__).resolve().parent / "sample_images"
# Streamlit's "magic" would print bare strings, so these constants have comments.
PREVIEW_WIDTH = 1400  # images are shown at most this wide; boxes are drawn on that preview
PANEL_WIDTH = 480  # stage panels are shown at most this wide
ROI_ZOOM = 4  # 28x28 digits are shown enlarged this many times
UPLOAD_CHOICE = "Upload your own…"


@dataclass(frozen=True)
class Source:
    """The image the user picked: its bytes, a display name and a digest for caching."""

    name: str
    data: bytes
    digest: str


# --- cached work -----------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the model…")
def get_model(path: str) -> Any:
    """Load a model once per process; it is shared by all sessions and never mutated."""
    return load_model(path)


@st.cache_data(max_entries=16, show_spinner=False)
def decoded_preview(digest: str, _data: bytes, name: str) -> tuple[np.ndarray, float]:
    """Decode an image (keyed by its bytes' digest); return a copy for display and its scale.

    The copy is at most PREVIEW_WIDTH wide: boxes are drawn on it, so a 12 MP photo is never
    copied or re-encoded on a slider move.
    """
    image = decode_image(_data, name)
    scale = min(1.0, PREVIEW_WIDTH / image.shape[1])
    if scale == 1.0:
        return image, 1.0
    size = (PREVIEW_WIDTH, max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


@st.cache_data(max_entries=16, show_spinner=False)
def prepared(
    digest: str, _data: bytes, name: str, work_size: int, lines: bool, invert: bool
) -> Prepared:
    """Grey, working copy and line removal, once per image and setting."""
    return prepare(decode_image(_data, name), work_size, lines, invert)


def thumbnail(image: np.ndarray, width: int = PANEL_WIDTH) -> np.ndarray:
    """Return ``image`` shrunk to at most ``width`` pixels wide, for the stage panels."""
    if image.shape[1] <= width:
        return image
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def sample_names() -> list[str]:
    """List the bundled sample sheets, by file name."""
    return sorted(
        p.name for p in SAMPLES_DIR.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )


def list_models() -> list[str]:
    """List the ``.keras`` files shipped in models/, default first."""
    names = sorted(p.name for p in MODELS_DIR.glob("*.keras"))
    return sorted(names, key=lambda n: n != "mlp.keras")


# --- page parts ------------------------------------------------------------------------


def source_picker() -> Source | None:
    """Sidebar: pick a bundled sample or upload a file. Returns the image to use."""
    st.sidebar.header("Image")
    choices = [*sample_names(), UPLOAD_CHOICE]
    choice = st.sidebar.selectbox("Sheet", choices, key="source")
    if choice != UPLOAD_CHOICE:
        data = (SAMPLES_DIR / choice).read_bytes()
        return Source(choice, data, hashlib.sha256(data).hexdigest())
    upload = st.sidebar.file_uploader(
        "Photo or scan of handwritten digits", type=list(UPLOAD_TYPES), key="upload"
    )
    if upload is None:
        return st.session_state.get("last_good_upload")
    data = upload.getvalue()
    source = Source(upload.name, data, hashlib.sha256(data).hexdigest())
    try:
        decoded_preview(source.digest, source.data, source.name)
    except ImageReadError as error:
        st.error(f"Could not use **{upload.name}**: {error}")
        previous = st.session_state.get("last_good_upload")
        if previous is not None:
            st.caption(f"Still showing the previous image, {previous.name}.")
        return previous
    st.session_state["last_good_upload"] = source
    pages = page_count(data)
    if pages > 1:
        st.sidebar.caption(f"{upload.name} has {pages} pages; reading the first.")
    return source


def apply_auto_fit(source: Source | None, current: PipelineParams) -> None:
    """Button callback: fit the parameters to the image and move the sliders there."""
    if source is None:
        return
    fit = auto_fit(decode_image(source.data, source.name), base=current)
    for spec in PARAM_SPECS:
        if not spec.optional:
            value = getattr(fit.params, spec.name)
            st.session_state[f"param_{spec.name}"] = float(value) if spec.kind is float else value
    if fit.stats is None:
        st.session_state["fit_note"] = "Auto-fit found no ink on this image; nothing changed."
    else:
        stats = fit.stats
        st.session_state["fit_note"] = (
            f"Auto-fit for {source.name}: digits about {stats.digit_height:.0f} px tall, "
            f"strokes about {stats.stroke_width:.0f} px, ink {stats.contrast:.0f} grey "
            "levels darker than the paper."
        )


def reset_params() -> None:
    """Button callback: put every parameter back to its default."""
    for spec in PARAM_SPECS:
        st.session_state.pop(f"param_{spec.name}", None)
    st.session_state.pop("param_roi_threshold_auto", None)
    st.session_state.pop("fit_note", None)


def current_params() -> PipelineParams:
    """Return the parameters the sidebar holds now (defaults for controls not yet drawn)."""
    values = {}
    for spec in PARAM_SPECS:
        value = st.session_state.get(f"param_{spec.name}", spec.default)
        if spec.optional and st.session_state.get(f"param_{spec.name}_auto", True):
            value = None
        values[spec.name] = value
    try:
        return PipelineParams(**values)
    except ValueError:
        return PipelineParams()


def sidebar_controls(source: Source | None) -> PipelineParams:
    """Sidebar: one control per pipeline parameter, built from PARAM_SPECS."""
    st.sidebar.header("Stages")
    left, right = st.sidebar.columns(2)
    left.button(
        "Auto-fit boxes",
        key="autofit",
        type="primary",
        on_click=apply_auto_fit,
        args=(source, current_params()),
        help="Measure the digits and strokes of this image and set every stage from them.",
        disabled=source is None,
    )
    right.button("Reset to defaults", key="reset", on_click=reset_params)
    if st.session_state.get("fit_note"):
        st.sidebar.caption(st.session_state["fit_note"])
    values: dict[str, Any] = {}
    for spec in PARAM_SPECS:
        key = f"param_{spec.name}"
        # Widgets take their values from session state only, so Auto-fit and Reset can
        # move them (a widget given both a value and a state warns).
        cast = float if spec.kind is float else int if spec.kind is int else bool
        st.session_state.setdefault(key, cast(spec.default) if spec.default is not None else 128)
        if spec.kind is bool:
            values[spec.name] = st.sidebar.toggle(spec.label, key=key, help=spec.help)
        elif spec.choices:
            values[spec.name] = st.sidebar.select_slider(
                spec.label, options=list(spec.choices), key=key, help=spec.help
            )
        elif spec.optional:
            st.session_state.setdefault(f"{key}_auto", spec.default is None)
            auto = st.sidebar.checkbox(f"{spec.label}: {spec.optional}", key=f"{key}_auto")
            level = st.sidebar.slider(
                spec.label,
                int(spec.low),
                int(spec.high),
                step=int(spec.step),
                key=key,
                help=spec.help,
                disabled=auto,
            )
            values[spec.name] = None if auto else level
        else:
            values[spec.name] = st.sidebar.slider(
                spec.label,
                cast(spec.low),
                cast(spec.high),
                step=cast(spec.step),
                key=key,
                help=spec.help,
            )
    return PipelineParams(**values)


def model_picker() -> str:
    """Sidebar: which model reads the digits."""
    st.sidebar.header("Model")
    names = list_models()
    if not names:
        return str(MODELS_DIR / "mlp.keras")
    name = st.sidebar.selectbox("Model", names, key="model")
    card = load_card(MODELS_DIR / name)
    if card:
        st.sidebar.caption(
            f"{card.get('architecture', '')} · MNIST test accuracy "
            f"{card.get('mnist_test_accuracy', float('nan')):.2%}"
        )
    return str(MODELS_DIR / name)


def show_boxes(image: np.ndarray, scale: float, found: Segmentation) -> None:
    """Show the picked image with its boxes drawn on."""
    boxes = [tuple(round(v * scale) for v in box) for box in found.boxes]
    st.image(draw_boxes(image, boxes), width="stretch", output_format="JPEG")
    if found.dropped:
        st.warning(
            f"This image yields very many shapes; only the {len(found.boxes)} largest are "
            "kept. Try Auto-fit boxes, a larger Gaussian mask or a higher Canny threshold."
        )
    count = len(found.boxes)
    if count:
        st.caption(f"{count} box{'es' if count != 1 else ''} found.")
    else:
        st.warning("No digits found. Try lowering the Canny threshold or the minimum box area.")


def show_stages(ready: Prepared, found: Segmentation, image: np.ndarray, scale: float) -> None:
    """Show every stage's image side by side, in an expander."""
    with st.expander("Stages", expanded=False):
        boxes = [tuple(round(v * scale) for v in box) for box in found.boxes]
        panels = [
            ("Grey (working copy)", ready.work),
            ("Lines removed", ready.cleaned),
            ("Blurred", found.blurred),
            ("Edges", found.edges),
            ("Dilated", found.dilated),
            ("Boxes", draw_boxes(image, boxes)),
        ]
        panels = [(title, thumbnail(panel)) for title, panel in panels]
        for row in range(0, len(panels), 3):
            for column, (title, panel) in zip(st.columns(3), panels[row : row + 3], strict=False):
                column.image(panel, caption=title, width="stretch", output_format="JPEG")


def show_rois(digits: np.ndarray, reading: SheetReading | None) -> None:
    """Show the 28x28 digits, enlarged, in reading order, with any predictions."""
    st.subheader("Digits (28×28, MNIST-style)")
    per_row = 10
    for start in range(0, len(digits), per_row):
        columns = st.columns(per_row)
        for offset, column in enumerate(columns):
            i = start + offset
            if i >= len(digits):
                break
            big = cv2.resize(
                digits[i], None, fx=ROI_ZOOM, fy=ROI_ZOOM, interpolation=cv2.INTER_NEAREST
            )
            caption = f"#{i + 1}"
            if reading is not None:
                d = reading.digits[i]
                caption = f"#{i + 1}: **{d.label}** ({d.confidence:.0%})"
            column.image(big, width="stretch")
            column.markdown(caption)


def show_reading(reading: SheetReading) -> None:
    """Show the sheet as text and a table of every digit."""
    st.subheader("Reading")
    labels = [d.label for d in reading.digits]
    lines = [d.line for d in reading.digits]
    st.success(f"Sheet reads: **{lines_text(labels, lines, ' / ')}**")
    rows = [
        {
            "#": i + 1,
            "digit": d.label,
            "confidence": d.confidence,
            "second choice": d.top2[1][0],
            "second confidence": d.top2[1][1],
            "line": d.line + 1,
            "box (x, y, w, h)": str(d.box),
        }
        for i, d in enumerate(reading.digits)
    ]
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "confidence": st.column_config.ProgressColumn(
                format="percent", min_value=0, max_value=1
            ),
            "second confidence": st.column_config.NumberColumn(format="percent"),
        },
    )


# --- the page --------------------------------------------------------------------------


def main() -> None:
    """Draw the whole page."""
    st.set_page_config(page_title="Digit Workbench", layout="wide")
    st.title("Digit Workbench")
    st.caption(
        "Tune the stages until the boxes fit the digits, extract them as 28×28 MNIST-style "
        "images, and let the model read them."
    )
    source = source_picker()
    params = sidebar_controls(source)
    model_path = model_picker()
    if source is None:
        st.info("Upload a photo or scan of handwritten digits, or pick a bundled sample.")
        st.stop()

    image, scale = decoded_preview(source.digest, source.data, source.name)
    ready = prepared(
        source.digest,
        source.data,
        source.name,
        params.work_size,
        params.remove_lines,
        params.invert,
    )
    found = find_boxes(ready, params)

    signature = (source.digest, params, model_path)
    if st.session_state.get("signature") != signature:
        st.session_state["signature"] = signature
        st.session_state["digits"] = None
        st.session_state["reading"] = None

    show_boxes(image, scale, found)
    show_stages(ready, found, image, scale)

    left, right = st.columns(2)
    extract = left.button("Extract ROIs", key="extract", type="primary", width="stretch")
    predict = right.button("Predict", key="predict", width="stretch")
    if (extract or predict) and st.session_state["digits"] is None:
        st.session_state["digits"] = cut_digits(ready, found.boxes, params)[1]
    digits: np.ndarray | None = st.session_state["digits"]
    if predict and digits is not None and len(digits):
        try:
            model = get_model(model_path)
        except ModelLoadError as error:
            st.error(str(error))
        else:
            st.session_state["reading"] = classify(model, digits, found.boxes, found.lines)

    reading: SheetReading | None = st.session_state["reading"]
    if digits is not None and len(digits):
        show_rois(digits, reading)
    elif digits is not None:
        st.info("No digits to extract with these settings.")
    if reading is not None:
        show_reading(reading)


main()
