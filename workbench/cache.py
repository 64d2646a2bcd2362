"""Cached work: the decoded image, the fit, the prepared image, readings; the model."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import streamlit as st

from digit_pipeline import PipelineParams, PipelineResult, draw_boxes
from digit_pipeline.io.images import decode_image, encode_jpeg, encode_png
from digit_pipeline.model import load_model, predict_proba
from digit_pipeline.model.contract import MNIST_SIZE
from digit_pipeline.reading import Reading, fit_sheet, read_sheet
from digit_pipeline.reading.autofit import AutoFit
from digit_pipeline.reading.judge import load_verifier, verdicts
from digit_pipeline.reading.prepared import PREPARE_FIELDS, Prepared, prepare, prepare_key
from digit_pipeline.stages import draw_outline, flatten_page, page_corners, shade_outside
from workbench.common import PREVIEW_WIDTH, ROI_ZOOM, SET_ASIDE_COLOR, Source, thumbnail

# Images and stage results are cached with st.cache_resource rather than st.cache_data:
# cache_data would pickle a copy of a 12 MP image (36 MB) on every rerun. Sharing is safe:
# every array handed out is made read-only, and the package's stages never mutate input.


@st.cache_resource(show_spinner=False)
def loader() -> ThreadPoolExecutor:
    """One background thread per process that loads and warms models."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")


def _load_and_warm(path: str) -> Any:
    model = load_model(path)
    blank = np.zeros((1, MNIST_SIZE, MNIST_SIZE), np.uint8)
    predict_proba(model, blank)  # builds the graph
    verdicts(load_verifier(), blank)  # the judge's verifier, loaded once per process
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
def _flattened(key: str, _image: np.ndarray, corners: tuple[tuple[float, float], ...]):
    return _read_only(flatten_page(_image, corners))


def source_image(source: Source) -> np.ndarray:
    """Return the image read: the decoded file, or the page flattened out of it (``corners``)."""
    image = decoded(source.digest, source.data, source.name)
    if source.corners is None:
        return image
    return _flattened(source.key, image, source.corners)


@st.cache_resource(max_entries=8, show_spinner=False)
def found_page(digest: str, _data: bytes, name: str) -> tuple[tuple[float, float], ...] | None:
    """Return the corners of the page found in the picked photo, once per file (or None)."""
    corners = page_corners(decoded(digest, _data, name))
    return None if corners is None else tuple((float(x), float(y)) for x, y in corners)


@st.cache_resource(max_entries=4, show_spinner=False)
def preview(key: str, _source: Source) -> tuple[np.ndarray, float]:
    """Return a copy of the image read at most PREVIEW_WIDTH wide for display, and its scale.

    Boxes are drawn on it, so a 12 MP photo is never copied or re-encoded on a slider move.
    """
    image = source_image(_source)
    scale = min(1.0, PREVIEW_WIDTH / image.shape[1])
    if scale == 1.0:
        return image, 1.0
    size = (PREVIEW_WIDTH, max(1, round(image.shape[0] * scale)))
    return _read_only(cv2.resize(image, size, interpolation=cv2.INTER_AREA)), scale


@st.cache_resource(max_entries=8, show_spinner=False)
def fitted(
    key: str, _source: Source, base: PipelineParams, model_path: str | None = None
) -> AutoFit:
    """Fit the parameters to an image, once per image read (``Source.key``), base and model.

    With a model the fit is the one ``read`` uses: the reading judges the candidates.
    """
    model = get_model(model_path) if model_path else None
    return fit_sheet(source_image(_source), base=base, model=model)


@st.cache_resource(max_entries=8, show_spinner=False)
def prepared(key: str, _source: Source, settings: tuple[object, ...]) -> Prepared:
    """Prepare an image once per image read and prepare settings (``prepare_key``)."""
    params = PipelineParams(**dict(zip(PREPARE_FIELDS, settings, strict=True)))
    return prepare(source_image(_source), params)


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
    # ``_ready`` always fits ``params`` (ready_image), so read_sheet never prepares again
    # and the image argument is not used; the prepared grey stands in for it.
    return read_sheet(_ready.gray, params, model=_model, prepared=_ready, page=None)


def read_with_model(
    source: Source, params: PipelineParams, model_path: str, ready: Prepared, model: Any
) -> Reading:
    """Return the reading of the image with ``params`` and the model, reading it once.

    The judged fit read the image to choose its parameters: with exactly those, its
    reading is the one (Predict right after a fit reads nothing again); else
    :func:`stage_results`.
    """
    fit_base = st.session_state.get("fit_base")
    if fit_base is not None and fit_base[0] == source.key and fit_base[2] == model_path:
        fit = fitted(source.key, source, *fit_base[1:])
        if fit.reading is not None and fit.reading.params == params:
            return fit.reading
    return stage_results(source.key, source.name, params, model_path, ready, model)


def ready_image(source: Source, params: PipelineParams) -> Prepared:
    """Return the prepared image for ``params``: the fit's own when it fits, else cached."""
    fit_base = st.session_state.get("fit_base")
    if fit_base is not None and fit_base[0] == source.key:
        fit = fitted(source.key, source, *fit_base[1:])
        if fit.prepared is not None and fit.prepared.fits(params):
            return fit.prepared
    return prepared(source.key, source, prepare_key(params))


@dataclass(frozen=True)
class Pictures:
    """The picked image with the reading's boxes drawn on: the array and its JPEG bytes."""

    drawn: np.ndarray
    boxes: bytes


@st.cache_resource(max_entries=32, show_spinner=False)
def pictures(
    digest: str,
    name: str,
    params: PipelineParams,
    version: object,
    _result: PipelineResult,
    _image: np.ndarray,
    _scale: float,
    aside: tuple[tuple[tuple[int, int, int, int], str], ...] = (),
) -> Pictures:
    """Draw and encode the boxes once per image and parameters.

    A rerun that changes neither (a confidence threshold, a correction) sends the same
    JPEG bytes again instead of drawing and encoding them anew. ``version``: None for the
    plain segmentation's boxes, else what made the reading's (the model, the set-aside
    boxes kept). ``aside``: boxes set aside as no digit and their labels, drawn in grey.
    """
    boxes = [tuple(round(v * _scale) for v in box) for box in _result.boxes]
    drawn = draw_boxes(_image, boxes)
    if aside:
        grey = [tuple(round(v * _scale) for v in box) for box, _ in aside]
        drawn = draw_boxes(drawn, grey, [label for _, label in aside], color=SET_ASIDE_COLOR)
    drawn = _read_only(drawn)
    return Pictures(drawn, encode_jpeg(drawn, 90))


@st.cache_resource(max_entries=32, show_spinner=False)
def stage_pictures(
    digest: str,
    name: str,
    params: PipelineParams,
    version: object,
    _result: PipelineResult,
    _shown: Pictures,
) -> tuple[tuple[str, bytes], ...]:
    """Each stage's image, small, as (title, JPEG bytes): drawn only while they are shown.

    A slider move changes the last panels only; the first ones are encoded once per
    prepared image (and blur) and shared.
    """
    ready = _result.prepared
    key = prepare_key(params)
    return (
        ("Grey, lighting evened (working copy)", _panel(digest, ("work", key), lambda: ready.work)),
        (
            "Page found (the desk around it shaded)",
            _panel(digest, ("page", key), lambda: shade_outside(ready.work, ready.surround)),
        ),
        ("Lines removed", _panel(digest, ("cleaned", key), lambda: ready.cleaned)),
        ("Blurred", _panel(digest, ("blurred", key, params.blur_size), lambda: _result.blurred)),
        ("Edges", _encode_panel(_result.edges)),
        ("Dilated", _encode_panel(_result.dilated)),
        ("Boxes", _encode_panel(_shown.drawn)),
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def page_panels(key: str, _source: Source) -> tuple[tuple[str, bytes], ...]:
    """Return the photo with the flattened page outlined, as a stage panel (or none)."""
    if _source.corners is None:
        return ()
    photo = decoded(_source.digest, _source.data, _source.name)
    small = thumbnail(photo)
    scale = small.shape[1] / photo.shape[1]
    corners = [(x * scale, y * scale) for x, y in _source.corners]
    outlined = _encode_panel(draw_outline(small, corners))
    return (("Page found in the photo (flattened from here)", outlined),)


def _encode_panel(panel: np.ndarray) -> bytes:
    return encode_jpeg(thumbnail(panel), 90)


@st.cache_resource(max_entries=32, show_spinner=False)
def _panel(digest: str, key: tuple[object, ...], _draw: Callable[[], np.ndarray]) -> bytes:
    """One stage panel as JPEG bytes, once per image and ``key`` (what made the panel).

    ``_draw`` makes the panel's image; it runs only when the panel is not cached yet.
    """
    return _encode_panel(_draw())


@st.cache_resource(max_entries=32, show_spinner=False)
def digit_pictures(
    digest: str, name: str, params: PipelineParams, version: object, _digits: np.ndarray
) -> tuple:
    """Return each 28×28 digit enlarged ROI_ZOOM times as PNG bytes, once per reading.

    ``version``: as :func:`pictures` (None: the plain segmentation's digits).
    """
    return tuple(
        encode_png(
            cv2.resize(digit, None, fx=ROI_ZOOM, fy=ROI_ZOOM, interpolation=cv2.INTER_NEAREST)
        )
        for digit in _digits
    )
