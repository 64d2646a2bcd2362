"""Cached work: the decoded image, the one cached reader (fits, readings), pictures; the model."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import cv2
import numpy as np
import streamlit as st

from digit_pipeline import PipelineParams, PipelineResult, draw_boxes
from digit_pipeline.io.images import decode_image, encode_jpeg, encode_png
from digit_pipeline.model import load_model, load_reader, predict_proba
from digit_pipeline.model.contract import MNIST_SIZE
from digit_pipeline.reading import Reader, Reading
from digit_pipeline.reading.autofit import AutoFit
from digit_pipeline.reading.judge import load_verifier, verdicts
from digit_pipeline.reading.orientation import turn_image
from digit_pipeline.reading.pipeline import STAGE_VIEWS
from digit_pipeline.stages import draw_outline, page_corners
from workbench.common import PREVIEW_WIDTH, ROI_ZOOM, SET_ASIDE_COLOR, Source, thumbnail

# Images and stage results are cached with st.cache_resource rather than st.cache_data:
# cache_data would pickle a copy of a 12 MP image (36 MB) on every rerun. Sharing is safe:
# every array handed out is made read-only, and the package's stages never mutate input.


@st.cache_resource(show_spinner=False)
def loader() -> ThreadPoolExecutor:
    """One background thread per process that loads and warms models."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")


def _load_and_warm(path: str) -> Any:
    model = load_reader(path)  # in NumPy when it can: reading never imports TensorFlow
    blank = np.zeros((1, MNIST_SIZE, MNIST_SIZE), np.uint8)
    predict_proba(model, blank)  # builds the graph
    verdicts(load_verifier(), blank)  # the judge's verifier, loaded once per process
    return model


@st.cache_resource(show_spinner=False)
def model_future(path: str) -> Future[Any]:
    """Start loading a model in the background; the same future for every session."""
    return loader().submit(_load_and_warm, path)


@st.cache_resource(max_entries=4, show_spinner="Loading the model with Keras…")
def keras_model(path: str) -> Any:
    """Return the model as Keras loads it (its layers, its summary), once per file.

    Reading uses :func:`get_model` (in NumPy when it can, without TensorFlow); the lab's
    model summary needs Keras's own layers.
    """
    return load_model(path)


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
def decoded(digest: str, _data: bytes, name: str, turns: int = 0) -> np.ndarray:
    """Decode an image once per process (keyed by its bytes' digest), turned ``turns``."""
    return _read_only(turn_image(decode_image(_data, name), turns))


def pixels(source: Source) -> np.ndarray:
    """Return the source's decoded image, turned as it says (kept: never mutate it)."""
    return decoded(source.digest, source.data, source.name, source.turns)


@st.cache_resource(show_spinner=False)
def reader() -> Reader:
    """Return the one cached reader, shared by every session.

    It keeps each step once per image read, parameters and model
    (:class:`~digit_pipeline.reading.reader.Reader`).
    """
    return Reader()


def source_image(source: Source) -> np.ndarray:
    """Return the image read: the decoded file, or the page flattened out of it (``corners``)."""
    return reader().image(source.pixels_key, pixels(source), source.corners)


def fitted(source: Source, base: PipelineParams, model_path: str | None = None) -> AutoFit:
    """Fit the parameters to the image read, once per image, base and model.

    With a model the fit is the one ``read`` uses: the reading judges the candidates, and
    :func:`read_source` with the parameters it chose returns that reading itself.
    """
    model = get_model(model_path) if model_path else None
    return reader().fit(source.pixels_key, pixels(source), base, model, source.corners)


def read_source(source: Source, params: PipelineParams, model: Any = None) -> Reading:
    """Read the image read with ``params`` (and ``model``), once per image, parameters, model.

    Without a model the boxes and digits only; each step the reader kept is reused (a
    fit's reading, its prepared image), so a slider move segments and nothing else.
    """
    return reader().read(source.pixels_key, pixels(source), params, model, source.corners)


@st.cache_resource(max_entries=8, show_spinner=False)
def found_page(key: str, _source: Source) -> tuple[tuple[float, float], ...] | None:
    """Return the corners of the page found in the picked photo, once per file and turn."""
    corners = page_corners(pixels(_source))
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


@dataclass(frozen=True)
class Pictures:
    """The picked image with the reading's boxes drawn on: the JPEG shown, and how to redraw it.

    Only the JPEG is kept, not the drawn array: 32 of these are cached, and a 1400-px
    drawing would hold 8 MB each. ``draw()`` draws the array again (from the shared
    preview) for the one place that needs it, the *Stages* panel, which is cached itself.
    """

    boxes: bytes
    draw: Callable[[], np.ndarray]


def _draw_pictured(
    image: np.ndarray,
    boxes: list[tuple[int, ...]],
    aside: tuple[tuple[tuple[int, ...], str], ...],
) -> np.ndarray:
    """Draw ``boxes`` on the preview ``image``, and the set-aside boxes in grey, labelled."""
    drawn = draw_boxes(image, boxes)
    if aside:
        grey = [box for box, _ in aside]
        drawn = draw_boxes(drawn, grey, [label for _, label in aside], color=SET_ASIDE_COLOR)
    return drawn


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
    grey = tuple((tuple(round(v * _scale) for v in box), label) for box, label in aside)
    draw = partial(_draw_pictured, _image, boxes, grey)
    return Pictures(encode_jpeg(draw(), 90), draw)


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

    The package's stage views (:data:`~digit_pipeline.reading.pipeline.STAGE_VIEWS`), each
    drawn once per image and what it depends on (a slider move redraws the last ones
    only), then the boxes drawn on the image (``_shown``).
    """
    panels = tuple(
        (view.title, _panel(digest, (view.title, view.key(params)), partial(view.picture, _result)))
        for view in STAGE_VIEWS
    )
    return (*panels, ("Boxes", _encode_panel(_shown.draw())))


@st.cache_resource(max_entries=8, show_spinner=False)
def page_panels(key: str, _source: Source) -> tuple[tuple[str, bytes], ...]:
    """Return the photo with the flattened page outlined, as a stage panel (or none)."""
    if _source.corners is None:
        return ()
    photo = pixels(_source)
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
