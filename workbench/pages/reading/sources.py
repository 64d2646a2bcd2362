"""The image the user picks: a bundled sample, an upload, the camera or the canvas."""

from __future__ import annotations

import hashlib
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
from workbench.cache import decoded
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
from workbench.controls import params_to_state, reset_params


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
