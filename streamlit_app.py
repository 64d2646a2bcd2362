"""Digit Workbench: a thin Streamlit layer over the ``digit_pipeline`` package.

Run with ``streamlit run streamlit_app.py``.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import streamlit as st

from digit_pipeline import CANVAS_PARAMS, PARAM_SPECS, ParamSpec, PipelineParams, draw_boxes
from digit_pipeline.autofit import AutoFit, auto_fit
from digit_pipeline.contract import MNIST_SIZE
from digit_pipeline.exports import annotated_png, reading_csv, reading_json, rois_zip
from digit_pipeline.imageio import (
    UPLOAD_TYPES,
    ImageReadError,
    decode_image,
    encode_png,
    page_count,
)
from digit_pipeline.model import MODELS_DIR, ModelLoadError, load_card, load_model, predict_proba
from digit_pipeline.pipeline import (
    PREPARE_FIELDS,
    PipelineResult,
    Prepared,
    prepare,
    prepare_key,
)
from digit_pipeline.reading import LOW_CONFIDENCE, Reading, SheetReading, lines_text, read_sheet
from digit_pipeline.training.finetune import MIN_SAMPLES, fine_tune, user_models_dir
from digit_pipeline.userdata import Dataset, DatasetError, default_dir

SAMPLES_DIR = Path(__file__).resolve().parent / "sample_images"
# Streamlit's "magic" would print bare strings, so these constants have comments.
PREVIEW_WIDTH = 1400  # images are shown at most this wide; boxes are drawn on that preview
PANEL_WIDTH = 480  # stage panels are shown at most this wide
ROI_ZOOM = 4  # 28x28 digits are shown enlarged this many times
UPLOAD_CHOICE = "Upload your own…"
CAMERA_CHOICE = "Take a photo…"
CANVAS_CHOICE = "Draw digits…"
CANVAS_SIZE = (720, 260)  # width, height of the drawing canvas
CANVAS_STROKE = 16


@dataclass(frozen=True)
class Source:
    """The image the user picked: its bytes, a display name and a digest for caching."""

    name: str
    data: bytes
    digest: str


# --- cached work -----------------------------------------------------------------------
# Images and stage results are cached with st.cache_resource rather than st.cache_data:
# cache_data would pickle a copy of a 12 MP image (36 MB) on every rerun. Sharing is safe:
# every array handed out is made read-only, and the package's stages never mutate input.


@st.cache_resource(show_spinner=False)
def loader() -> ThreadPoolExecutor:
    """One background thread per process that loads and warms models."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")


def _load_and_warm(path: str) -> Any:
    model = load_model(path)
    predict_proba(model, np.zeros((1, MNIST_SIZE, MNIST_SIZE), np.uint8))  # builds the graph
    return model


@st.cache_resource(show_spinner=False)
def model_future(path: str) -> Future[Any]:
    """Start loading a model in the background; the same future for every session."""
    return loader().submit(_load_and_warm, path)


def get_model(path: str) -> Any:
    """Return the loaded model (waiting for its background load); never mutated."""
    future = model_future(path)
    if not future.done():
        with st.spinner("Loading the model…"):
            return future.result()
    return future.result()


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@st.cache_resource(max_entries=4, show_spinner=False)
def decoded(digest: str, _data: bytes, name: str) -> np.ndarray:
    """Decode an image once per process (keyed by its bytes' digest)."""
    return _read_only(decode_image(_data, name))


@st.cache_resource(max_entries=4, show_spinner=False)
def preview(digest: str, _data: bytes, name: str) -> tuple[np.ndarray, float]:
    """Return a copy at most PREVIEW_WIDTH wide for display, and its scale.

    Boxes are drawn on it, so a 12 MP photo is never copied or re-encoded on a slider move.
    """
    image = decoded(digest, _data, name)
    scale = min(1.0, PREVIEW_WIDTH / image.shape[1])
    if scale == 1.0:
        return image, 1.0
    size = (PREVIEW_WIDTH, max(1, round(image.shape[0] * scale)))
    return _read_only(cv2.resize(image, size, interpolation=cv2.INTER_AREA)), scale


@st.cache_resource(max_entries=8, show_spinner=False)
def fitted(digest: str, _data: bytes, name: str, base: PipelineParams) -> AutoFit:
    """Fit the parameters to an image, once per image and base."""
    return auto_fit(decoded(digest, _data, name), base=base)


@st.cache_resource(max_entries=8, show_spinner=False)
def prepared(digest: str, _data: bytes, name: str, key: tuple[object, ...]) -> Prepared:
    """Prepare an image once per image and prepare settings (``prepare_key``)."""
    params = PipelineParams(**dict(zip(PREPARE_FIELDS, key, strict=True)))
    return prepare(decoded(digest, _data, name), params)


@st.cache_resource(max_entries=32, show_spinner=False)
def stage_results(
    digest: str,
    name: str,
    params: PipelineParams,
    model_path: str | None,
    _ready: Prepared,
    _model: Any = None,
) -> Reading:
    """Read a prepared image with ``params`` (and the model at ``model_path``, if given).

    The package's one reading path; cached per image, parameters and model.
    """
    return read_sheet(_ready.gray, params, model=_model, prepared=_ready)


def ready_image(source: Source, params: PipelineParams) -> Prepared:
    """Return the prepared image for ``params``: the fit's own when it fits, else cached."""
    fit_base = st.session_state.get("fit_base")
    if fit_base is not None and fit_base[0] == source.digest:
        fit = fitted(source.digest, source.data, source.name, fit_base[1])
        if fit.prepared is not None and fit.prepared.fits(params):
            return fit.prepared
    return prepared(source.digest, source.data, source.name, prepare_key(params))


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


def list_models() -> dict[str, Path]:
    """Map model names to files: the shipped ones (default first), then the user's own."""
    shipped = sorted(MODELS_DIR.glob("*.keras"), key=lambda p: (p.name != "mlp.keras", p.name))
    own = sorted(user_models_dir().glob("*.keras")) if user_models_dir().is_dir() else []
    models = {p.name: p for p in shipped}
    models.update({f"{p.name} (yours)": p for p in own})
    return models


# --- page parts ------------------------------------------------------------------------


def on_source_change() -> None:
    """Selectbox callback: drawn digits get the canvas defaults; leaving them, the usual."""
    reset_params()
    if st.session_state.get("source") == CANVAS_CHOICE:
        params_to_state(CANVAS_PARAMS)


def source_picker() -> Source | None:
    """Sidebar: a bundled sample, an upload, the camera or the canvas. Returns the image."""
    st.sidebar.header("Image")
    choices = [*sample_names(), UPLOAD_CHOICE, CAMERA_CHOICE, CANVAS_CHOICE]
    choice = st.sidebar.selectbox("Sheet", choices, key="source", on_change=on_source_change)
    if choice == CAMERA_CHOICE:
        return camera_source()
    if choice == CANVAS_CHOICE:
        return canvas_source()
    if choice != UPLOAD_CHOICE:
        data = (SAMPLES_DIR / choice).read_bytes()
        return Source(choice, data, hashlib.sha256(data).hexdigest())
    upload = st.sidebar.file_uploader(
        "Photo or scan of handwritten digits", type=list(UPLOAD_TYPES), key="upload"
    )
    if upload is None:
        return st.session_state.get("last_good_upload")
    return checked_source(upload.name, upload.getvalue())


def checked_source(name: str, data: bytes) -> Source | None:
    """Decode user bytes once; on failure say why and fall back to the last good image."""
    source = Source(name, data, hashlib.sha256(data).hexdigest())
    try:
        preview(source.digest, source.data, source.name)
    except ImageReadError as error:
        st.error(f"Could not use **{name}**: {error}")
        previous = st.session_state.get("last_good_upload")
        if previous is not None:
            st.caption(f"Still showing the previous image, {previous.name}.")
        return previous
    st.session_state["last_good_upload"] = source
    pages = page_count(data)
    if pages > 1:
        st.sidebar.caption(f"{name} has {pages} pages; reading the first.")
    return source


def camera_source() -> Source | None:
    """Take the image from the camera (main area)."""
    shot = st.camera_input("Take a photo of a sheet of digits", key="camera")
    if shot is None:
        return None
    return checked_source(shot.name or "camera photo", shot.getvalue())


def canvas_source() -> Source | None:
    """Take digits drawn with the mouse (main area), as black ink on a white sheet."""
    from streamlit_drawable_canvas import st_canvas

    version = st.session_state.setdefault("canvas_version", 0)
    st.caption("Draw one or more digits, side by side or in lines, then press Predict.")
    width, height = CANVAS_SIZE
    drawn = st_canvas(
        stroke_width=CANVAS_STROKE,
        stroke_color="#000000",
        background_color="#FFFFFF",
        width=width,
        height=height,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"canvas_{version}",
    )
    st.button("Clear canvas", key="clear_canvas", on_click=clear_canvas)
    image = drawn.image_data if drawn is not None else None
    if image is None or not (np.asarray(image)[..., :3] < 128).any():
        return None
    rgba = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    data = encode_png(rgba)
    return Source("canvas drawing", data, hashlib.sha256(data).hexdigest())


def clear_canvas() -> None:
    """Button callback: a fresh, empty canvas."""
    st.session_state["canvas_version"] = st.session_state.get("canvas_version", 0) + 1


def params_to_state(params: PipelineParams) -> None:
    """Move the sidebar's controls to ``params`` (one half of the params <-> widgets pair)."""
    for spec in PARAM_SPECS:
        value = getattr(params, spec.name)
        if spec.optional:
            st.session_state[f"param_{spec.name}_auto"] = value is None
            if value is None:
                continue  # the slider keeps its place, greyed out
        st.session_state[f"param_{spec.name}"] = spec.kind(value)


def params_from_state() -> PipelineParams:
    """Return the parameters the sidebar holds (the other half; defaults where not drawn)."""
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


def fit_to(source: Source | None) -> None:
    """Fit the parameters to the image and move the sliders there (also a button callback)."""
    if source is None:
        return
    base = params_from_state()
    fit = fitted(source.digest, source.data, source.name, base)
    st.session_state["fit_base"] = (source.digest, base)
    params_to_state(fit.params)
    if fit.stats is None:
        st.session_state["fit_note"] = "Auto-fit found no ink on this image; nothing changed."
    else:
        stats = fit.stats
        st.session_state["fit_note"] = (
            f"Auto-fit for {source.name}: digits about {stats.digit_height:.0f} px tall, "
            f"strokes about {stats.stroke_width:.0f} px, ink {stats.contrast:.0f} grey "
            "levels darker than the paper."
        )


def auto_fit_new_image(source: Source | None) -> None:
    """Fit each new image when *Auto-fit each new image* is on (canvas drawings excepted)."""
    st.session_state.setdefault("autofit_new", True)
    if (
        source is not None
        and st.session_state["autofit_new"]
        and st.session_state.get("source") != CANVAS_CHOICE
        and st.session_state.get("fitted_digest") != source.digest
    ):
        st.session_state["fitted_digest"] = source.digest
        fit_to(source)


def reset_params() -> None:
    """Button callback: put every parameter back to its default."""
    params_to_state(PipelineParams())
    st.session_state.pop("fit_note", None)
    st.session_state.pop("fit_base", None)


def sidebar_controls(source: Source | None) -> PipelineParams:
    """Sidebar: the fit's switches and one control per pipeline parameter (PARAM_SPECS)."""
    st.sidebar.header("Stages")
    st.sidebar.toggle(
        "Auto-fit each new image",
        key="autofit_new",
        help="Fit the stages to every new sample, upload or photo as it arrives "
        "(drawings on the canvas keep their own defaults). Off: new images keep the "
        "sliders as they are.",
    )
    left, right = st.sidebar.columns(2)
    left.button(
        "Auto-fit boxes",
        key="autofit",
        type="primary",
        on_click=fit_to,
        args=(source,),
        help="Measure the digits and strokes of this image and set every stage from them.",
        disabled=source is None,
    )
    right.button(
        "Reset", key="reset", on_click=reset_params, help="Put every stage back to its default."
    )
    if st.session_state.get("fit_note"):
        st.sidebar.caption(st.session_state["fit_note"])
    for spec in PARAM_SPECS:
        parameter_control(spec)
    return params_from_state()


def parameter_control(spec: ParamSpec) -> None:
    """Draw one parameter's control; its value lives in session state (``param_<name>``)."""
    key = f"param_{spec.name}"
    # Widgets take their values from session state only, so Auto-fit and Reset can move
    # them (a widget given both a value and a state warns).
    st.session_state.setdefault(key, spec.kind(spec.default) if spec.default is not None else 128)
    if spec.kind is bool:
        st.sidebar.toggle(spec.label, key=key, help=spec.help)
    elif spec.choices:
        st.sidebar.select_slider(spec.label, options=list(spec.choices), key=key, help=spec.help)
    elif spec.optional:
        st.session_state.setdefault(f"{key}_auto", spec.default is None)
        auto = st.sidebar.checkbox(f"{spec.label}: {spec.optional}", key=f"{key}_auto")
        step = int(spec.step)
        low, high = int(spec.low), int(spec.high)
        st.sidebar.slider(spec.label, low, high, step=step, key=key, help=spec.help, disabled=auto)
    else:
        cast = spec.kind
        st.sidebar.slider(
            spec.label,
            cast(spec.low),
            cast(spec.high),
            step=cast(spec.step),
            key=key,
            help=spec.help,
        )


def model_picker() -> str:
    """Sidebar: which model reads the digits."""
    st.sidebar.header("Model")
    models = list_models()
    if not models:
        return str(MODELS_DIR / "mlp.keras")
    name = st.sidebar.selectbox("Model", list(models), key="model")
    card = load_card(models[name])
    if card:
        st.sidebar.caption(
            f"{card.get('architecture', '')} · MNIST test accuracy "
            f"{card.get('mnist_test_accuracy', float('nan')):.2%}"
        )
    return str(models[name])


def show_boxes(image: np.ndarray, scale: float, found: PipelineResult) -> None:
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


def show_stages(found: PipelineResult, image: np.ndarray, scale: float) -> None:
    """Show every stage's image side by side, in an expander."""
    ready = found.prepared
    with st.expander("Stages", expanded=False):
        boxes = [tuple(round(v * scale) for v in box) for box in found.boxes]
        panels = [
            ("Grey, lighting evened (working copy)", ready.work),
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


def show_rois(digits: np.ndarray, reading: SheetReading | None, low: float = 0.0) -> None:
    """Show the 28x28 digits, enlarged, in reading order, with any predictions.

    Digits read with confidence below ``low`` are flagged for a second look.
    """
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
                flag = " ⚠️" if d.confidence < low else ""
                caption = f"#{i + 1}: **{d.label}** ({d.confidence:.0%}){flag}"
            column.image(big, width="stretch")
            column.markdown(caption)


def show_reading(reading: SheetReading, low: float) -> list[int]:
    """Show the sheet as text and a table in which every label can be corrected.

    Returns
    -------
    list of int
        The labels after the user's corrections (the model's where untouched).
    """
    st.subheader("Reading")
    rows = [
        {
            "#": i + 1,
            "read": d.label,
            "confidence": d.confidence,
            "check": "⚠️ low" if d.confidence < low else "",
            "second choice": d.top2[1][0],
            "second confidence": d.top2[1][1],
            "line": d.line + 1,
            "correct label": d.label,
        }
        for i, d in enumerate(reading.digits)
    ]
    st.caption("Correct a label in the last column; the reading and downloads follow it.")
    edited = st.data_editor(
        rows,
        hide_index=True,
        key=f"corrections_{st.session_state.get('reading_id', 0)}",
        disabled=["#", "read", "confidence", "check", "second choice", "second confidence", "line"],
        column_config={
            "confidence": st.column_config.ProgressColumn(
                format="percent", min_value=0, max_value=1
            ),
            "second confidence": st.column_config.NumberColumn(format="percent"),
            "correct label": st.column_config.SelectboxColumn(options=list(range(10))),
        },
    )
    labels = [int(row["correct label"]) for row in edited]
    lines = [d.line for d in reading.digits]
    changed = sum(a != d.label for a, d in zip(labels, reading.digits, strict=True))
    note = f" ({changed} corrected)" if changed else ""
    st.success(f"Sheet reads: **{lines_text(labels, lines, ' / ')}**{note}")
    return labels


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
            lambda: annotated_png(decoded(source.digest, source.data, source.name), boxes, texts),
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


def save_to_dataset(source: Source, digits: np.ndarray, labels: list[int]) -> None:
    """Show the Save to my dataset button and save when it is pressed."""
    if st.button("Save to my dataset", key="save", help=f"Adds the digits to {default_dir()}"):
        try:
            saved = Dataset(default_dir()).save(digits, labels, source=source.name)
        except DatasetError as error:
            st.error(f"Not saved, and nothing in your dataset was changed. {error}")
        except OSError as error:
            st.error(f"Could not save to {default_dir()}: {error}")
        else:
            st.success(
                f"Saved to {default_dir()}: {saved.added} new, {saved.updated} relabelled, "
                f"{saved.unchanged} already there."
            )


def show_dataset(model_path: str) -> None:
    """Show the user's dataset in an expander: counts, samples, delete, fine-tuning."""
    with st.expander("My dataset", expanded=False):
        dataset = Dataset(default_dir())
        try:
            samples = dataset.samples()
        except DatasetError as error:
            st.error(f"Your dataset cannot be shown until this is mended. {error}")
            return
        st.caption(f"{len(samples)} digits saved in {default_dir()}.")
        if not samples:
            st.info("Predict a sheet, correct any label, then press Save to my dataset.")
            return
        counts = dataset.counts()
        st.bar_chart({"digits": [counts[d] for d in range(10)]}, x_label="digit 0–9")
        recent = samples[-40:][::-1]
        columns = st.columns(10)
        for k, sample in enumerate(recent):
            big = cv2.resize(
                dataset.image(sample.id), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST
            )
            columns[k % 10].image(big, caption=f"{sample.label} · {sample.id[:6]}")
        left, right = st.columns([3, 1])
        victim = left.selectbox(
            "Sample to delete",
            [s.id for s in recent],
            key="delete_id",
            format_func=lambda i: f"{i[:6]} (labelled {dict((s.id, s.label) for s in recent)[i]})",
        )
        if right.button("Delete sample", key="delete"):
            dataset.delete(victim)
            st.rerun()
        fine_tune_panel(dataset, model_path)


def fine_tune_panel(dataset: Dataset, model_path: str) -> None:
    """Fine-tune the selected model on MNIST plus the user's dataset."""
    st.markdown(
        "**Teach the model** — fine-tune the selected model on MNIST training data "
        "plus your digits; the shipped model is never overwritten."
    )
    mnist = st.text_input(
        "MNIST .npz (empty: download with keras.datasets.mnist)", key="mnist_path"
    )
    epochs = st.number_input("Epochs", 1, 20, 3, key="ft_epochs")
    if st.button("Fine-tune", key="finetune"):
        x, y = dataset.load()
        if len(x) < MIN_SAMPLES:
            st.warning(f"Save at least {MIN_SAMPLES} digits first (you have {len(x)}).")
            return
        bar = st.progress(0.0, text="Starting")
        try:
            result = fine_tune(
                model_path,
                x,
                y,
                mnist=mnist or None,
                epochs=int(epochs),
                progress=lambda fraction, text: bar.progress(min(1.0, fraction), text=text),
            )
        except (ValueError, OSError, ModelLoadError) as error:
            st.error(f"Fine-tuning failed: {error}")
            return
        before, after = result.card["before"], result.card["after"]
        st.success(
            f"New model {result.path.name} saved in {result.path.parent}; pick it under Model."
        )
        st.table(
            {
                "": ["MNIST test", "your held-back digits"],
                "before": [
                    f"{before['mnist_test_accuracy']:.2%}",
                    f"{before['user_holdout_accuracy']:.2%}",
                ],
                "after": [
                    f"{after['mnist_test_accuracy']:.2%}",
                    f"{after['user_holdout_accuracy']:.2%}",
                ],
            }
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
    auto_fit_new_image(source)  # before the sliders are drawn, so the fit can move them
    params = sidebar_controls(source)
    model_path = model_picker()
    model_future(model_path)  # loads in the background while the user looks at the boxes
    if source is None:
        st.info("Upload a photo or scan of handwritten digits, or pick a bundled sample.")
        st.stop()

    image, scale = preview(source.digest, source.data, source.name)
    ready = ready_image(source, params)
    result = stage_results(source.digest, source.name, params, None, ready).result

    signature = (source.digest, params, model_path)
    if st.session_state.get("signature") != signature:
        st.session_state["signature"] = signature
        st.session_state["extracted"] = False
        st.session_state["reading"] = None

    show_boxes(image, scale, result)
    show_stages(result, image, scale)

    left, right = st.columns(2)
    extract = left.button("Extract ROIs", key="extract", type="primary", width="stretch")
    predict = right.button("Predict", key="predict", width="stretch")
    if extract or predict:
        st.session_state["extracted"] = True
    digits = result.digits if st.session_state["extracted"] else None
    if predict and len(result.digits):
        try:
            model = get_model(model_path)
            read = stage_results(source.digest, source.name, params, model_path, ready, model)
        except ModelLoadError as error:
            st.error(str(error))
        else:
            st.session_state["reading"] = read.sheet
            st.session_state["reading_id"] = st.session_state.get("reading_id", 0) + 1

    reading: SheetReading | None = st.session_state["reading"]
    low = st.sidebar.slider(
        "Flag digits read with confidence below",
        0.0,
        1.0,
        LOW_CONFIDENCE,
        0.05,
        key="low_confidence",
    )
    if digits is not None and len(digits):
        show_rois(digits, reading, low)
    elif digits is not None:
        st.info("No digits to extract with these settings.")
    if reading is not None and digits is not None and len(digits):
        labels = show_reading(reading, low)
        save_to_dataset(source, digits, labels)
        show_downloads(source, reading, digits, labels)
    show_dataset(model_path)


main()
