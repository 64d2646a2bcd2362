"""The image the user picks: a bundled sample, an upload, the camera or the canvas."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import numpy as np
import streamlit as st

from digit_pipeline import CANVAS_PARAMS
from digit_pipeline.io.images import (
    UPLOAD_TYPES,
    ImageReadError,
    encode_png,
    page_count,
)
from digit_pipeline.model import ModelLoadError
from digit_pipeline.reading import orient_reading
from digit_pipeline.reading.autofit import fit_base
from workbench.cache import decoded, fitted, found_page, get_model, model_future
from workbench.common import (
    CAMERA_CHOICE,
    CANVAS_CHOICE,
    CANVAS_SIZE,
    CANVAS_STROKE,
    SAMPLES_DIR,
    UPLOAD_CHOICE,
    Source,
    sample_names,
)
from workbench.controls import (
    params_from_state,
    params_to_state,
    reset_params,
    selected_model_path,
    wants_digits,
)

TURNS = "turns_of"  # session state: quarter turns clockwise per file digest
TURN_NOTES = "turn_notes"  # session state: what turned each file (the user, or the reading)
ORIENTED = "oriented"  # session state: the files whose way up the reading checked


def turned(source: Source | None) -> Source | None:
    """Return the picked image turned as this session turned it (by hand or by the reading)."""
    if source is None:
        return None
    turns = st.session_state.get(TURNS, {}).get(source.digest, 0)
    return replace(source, turns=turns) if turns else source


def set_turns(digest: str, turns: int, note: str) -> None:
    """Turn the file ``digest`` to ``turns`` quarter turns clockwise, saying why."""
    st.session_state.setdefault(TURNS, {})[digest] = turns % 4
    st.session_state.setdefault(TURN_NOTES, {})[digest] = note


def turn_by_hand(digest: str) -> None:
    """Button callback: a quarter turn clockwise more; the reading no longer turns it."""
    turns = (st.session_state.get(TURNS, {}).get(digest, 0) + 1) % 4
    set_turns(digest, turns, f"Turned {90 * turns}° by you." if turns else "")


def turn_control(source: Source | None) -> None:
    """Sidebar: the *Turn 90°* button, and what turned the image when it is turned."""
    if source is None or st.session_state.get("source") == CANVAS_CHOICE:
        return
    st.sidebar.button(
        "Turn 90° ↻",
        key="turn",
        on_click=turn_by_hand,
        args=(source.digest,),
        help="Turn the image a quarter turn clockwise: a photo stored sideways or upside "
        "down. A photo whose digits clearly say it lies turned is turned when it arrives.",
    )
    note = st.session_state.get(TURN_NOTES, {}).get(source.digest)
    if source.turns and note:
        st.sidebar.caption(note)


def orient_new_image(source: Source | None) -> Source | None:
    """Turn a new image when it reads clearly better turned; return the image to read.

    Once per file and session, as ``read`` does: the judged fit of the page found in it
    (the fit the page makes next, so nothing is read twice) and
    :func:`~digit_pipeline.reading.orient_reading` on its reading. Not before the model
    is loaded (unless the digits are asked for), never a file the user turned by hand, a
    drawing, or while *Auto-fit each new image* is off.
    """
    state = st.session_state
    if (
        source is None
        or state.get("source") == CANVAS_CHOICE
        or not state.get("autofit_new", True)
        or source.digest in state.setdefault(ORIENTED, set())
        or source.digest in state.get(TURN_NOTES, {})  # turned by hand: left as it is
    ):
        return source
    path = selected_model_path()
    if not (model_future(path).done() or wants_digits()):
        return source  # the page shows the ink's estimate; checked once the model is there
    state[ORIENTED].add(source.digest)
    page = source
    if state.get("param_flatten_page", True):
        page = replace(source, corners=found_page(source.pixels_key, source))
    try:
        model = get_model(path)
    except ModelLoadError:  # Predict says why the model cannot load
        return source
    fit = fitted(page, fit_base(params_from_state()), path)
    if fit.reading is None or fit.reading.sheet is None:
        return source
    reading = orient_reading(fit.reading, model)
    if not reading.rotation:
        return source
    turns = (source.turns + reading.rotation // 90) % 4
    set_turns(
        source.digest,
        turns,
        f"Turned {reading.rotation}°: its digits say this way is up (*Turn 90° ↻* turns it on).",
    )
    return replace(source, turns=turns, corners=None)


def on_source_change() -> None:
    """Selectbox callback: drawn digits get the canvas defaults; leaving them, the usual.

    The sliders go back to their defaults, so whatever image comes next is fitted anew,
    even one fitted before (the same sample, then the same file uploaded).
    """
    reset_params()
    st.session_state.pop("fitted_digest", None)
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
        return sample_source(choice)
    upload = st.sidebar.file_uploader(
        "Photo or scan of handwritten digits", type=list(UPLOAD_TYPES), key="upload"
    )
    if upload is None:
        return earlier("last_good_upload", "uploaded")
    return checked_upload(upload)


@st.cache_resource(max_entries=16, show_spinner=False)
def sample_source(name: str) -> Source:
    """Read and hash a bundled sample once per process (samples do not change)."""
    data = (SAMPLES_DIR / name).read_bytes()
    return Source(name, data, hashlib.sha256(data).hexdigest())


def checked_upload(file: Any, slot: str = "last_good_upload") -> Source | None:
    """:func:`checked_source` of an uploaded file, hashed and checked once per upload.

    A slider move reruns the page; the upload's bytes (a 12 MP photo: megabytes) are not
    copied and hashed again while the widget holds the same file (its ``file_id``).
    """
    memo = st.session_state.get(f"{slot}_memo")
    if memo is not None and memo[0] == file.file_id:
        _, source, pages = memo
        _say_pages(source.name, pages)
        return source
    name = file.name or "camera photo"
    return checked_source(name, file.getvalue(), slot, file_id=file.file_id)


def earlier(slot: str, how: str) -> Source | None:
    """Return the image kept in ``slot`` (the widget forgets it on another page), saying so."""
    previous = st.session_state.get(slot)
    if previous is not None:
        st.sidebar.caption(f"Reading **{previous.name}**, {how} earlier.")
    return previous


def checked_source(
    name: str, data: bytes, slot: str = "last_good_upload", file_id: str | None = None
) -> Source | None:
    """Decode user bytes once; on failure say why and fall back to the last good image.

    The good image is kept in ``slot`` of the session state: it outlives the widget. With
    the widget's ``file_id``, :func:`checked_upload` reuses the check on the next rerun.
    """
    source = Source(name, data, hashlib.sha256(data).hexdigest())
    try:
        decoded(source.digest, source.data, source.name)
    except ImageReadError as error:
        st.error(f"Could not use **{name}**: {error}")
        previous = st.session_state.get(slot)
        if previous is not None:
            st.caption(f"Still showing the previous image, {previous.name}.")
        return previous
    st.session_state[slot] = source
    pages = page_count(data)
    _say_pages(name, pages)
    if file_id is not None:
        st.session_state[f"{slot}_memo"] = (file_id, source, pages)
    return source


def _say_pages(name: str, pages: int) -> None:
    if pages > 1:
        st.sidebar.caption(f"{name} has {pages} pages; reading the first.")


def camera_source() -> Source | None:
    """Take the image from the camera (main area)."""
    shot = st.camera_input("Take a photo of a sheet of digits", key="camera")
    if shot is None:
        return earlier("last_good_camera", "taken")
    return checked_upload(shot, "last_good_camera")


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
