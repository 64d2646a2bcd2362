"""The page in a photo: found, flattened, and its four corners nudged by hand."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from digit_pipeline.stages import order_corners
from digit_pipeline.validation import check_corners
from workbench.cache import found_page, pixels
from workbench.common import CANVAS_CHOICE, Source

CORNER_NAMES = ("↖ top left", "↗ top right", "↘ bottom right", "↙ bottom left")
# Sliders move a corner in steps of this share of the image's side (percent): a key press
# moves it visibly (20 px on a 4000 px photo), a drag reaches any corner of a sheet.
CORNER_STEP = 0.5
MIN_PAGE = 0.05  # corners enclosing less than this share of the image are not a page


def page_picker(source: Source | None) -> Source | None:
    """Sidebar: the page found in a photo and its corners; return the image to read.

    With *Flatten the page* on (the ``flatten_page`` stage switch), a photo of a sheet on
    a darker desk is read flattened, as ``read`` reads it. The corners start where the
    page was found (or at the image's corners when none was) and can be moved; corners
    at the image's own corners read the image as it is. Drawings on the canvas have none.
    """
    drawn = st.session_state.get("source") == CANVAS_CHOICE  # a drawing has no page
    if source is None or drawn or not st.session_state.get("param_flatten_page", True):
        return source
    height, width = pixels(source).shape[:2]
    found = found_page(source.pixels_key, source)
    frame = ((0.0, 0.0), (width - 1.0, 0.0), (width - 1.0, height - 1.0), (0.0, height - 1.0))
    start = found or frame
    if st.session_state.get("page_of") != source.pixels_key:
        st.session_state["page_of"] = source.pixels_key
        corners_to_state(start, width, height)
    percents = state_percents()
    if found and percents == to_percents(found, width, height):
        corners = found  # untouched: exactly what ``read`` flattens
    else:
        corners = tuple((x * (width - 1) / 100, y * (height - 1) / 100) for x, y in percents)
    whole = percents == to_percents(frame, width, height)
    problem = "" if whole else corners_problem(corners, width, height)
    by_hand = not whole and not problem and percents != to_percents(start, width, height)
    st.sidebar.caption(corners_note(bool(found), by_hand))
    panel = st.sidebar.expander(
        "Page corners", expanded=False, key="show_corners", on_change="rerun"
    )
    if panel.open:  # drawn only while open: a slider move elsewhere does not pay for them
        corner_sliders(panel, found, (start, width, height))
    if whole:
        return source
    if problem:
        st.sidebar.warning(f"{problem} The image is read as it is.")
        return source
    return replace(source, corners=corners)


def corner_sliders(panel, found: tuple | None, reset: tuple[tuple, int, int]) -> None:
    """Inside ``panel``: a slider per corner coordinate, and a button back to ``reset``.

    Their values live in session state (``page_x*``, ``page_y*``, kept across pages by
    :mod:`workbench.state`), so a closed panel keeps the corners the user set.
    """
    with panel:
        for index, name in enumerate(CORNER_NAMES):
            arrow, where = name.split(" ", 1)
            st.slider(  # one per row: the sidebar's width, not half of it
                f"{arrow} {where}: across %",
                0.0,
                100.0,
                step=CORNER_STEP,
                key=f"page_x{index}",
                help=f"The page's {where} corner: how far across the photo, in percent.",
            )
            st.slider(
                f"{arrow} {where}: down %",
                0.0,
                100.0,
                step=CORNER_STEP,
                key=f"page_y{index}",
                help=f"The page's {where} corner: how far down the photo, in percent.",
            )
        st.button(
            "Back to the page found" if found else "Back to the whole image",
            key="page_reset",
            on_click=corners_to_state,
            args=reset,
        )


def corners_note(found: bool, by_hand: bool) -> str:
    """Say where the page's corners come from: found in the photo, moved by hand, or none.

    Examples
    --------
    >>> corners_note(False, True)
    'Flattened by hand: the page is the four corners you set.'
    """
    if by_hand:
        return "Flattened by hand: the page is the four corners you set."
    if found:
        return (
            "A page was found in this photo: it is flattened before reading. Move its "
            "corners if they miss the sheet's corners."
        )
    return (
        "No page edge found: the image is read as it is. Move the corners onto a "
        "sheet's corners to flatten it by hand."
    )


def to_percents(
    corners: tuple[tuple[float, float], ...], width: int, height: int
) -> tuple[tuple[float, float], ...]:
    """Corners in pixels to the sliders' percents of the image's width and height."""

    def percent(value: float, side: int) -> float:
        share = min(100.0, max(0.0, 100 * value / max(1, side - 1)))
        return round(round(share / CORNER_STEP) * CORNER_STEP, 1)  # on the sliders' steps

    return tuple((percent(x, width), percent(y, height)) for x, y in corners)


def corners_to_state(corners: tuple[tuple[float, float], ...], width: int, height: int) -> None:
    """Move the corner sliders to ``corners`` (pixels); also the reset button's callback."""
    for index, (x, y) in enumerate(to_percents(corners, width, height)):
        st.session_state[f"page_x{index}"] = x
        st.session_state[f"page_y{index}"] = y


def state_percents() -> tuple[tuple[float, float], ...]:
    """Return the corner sliders' values, in percents."""
    return tuple(
        (
            round(float(st.session_state[f"page_x{index}"]), 1),
            round(float(st.session_state[f"page_y{index}"]), 1),
        )
        for index in range(len(CORNER_NAMES))
    )


def corners_problem(corners: tuple[tuple[float, float], ...], width: int, height: int) -> str:
    """Why ``corners`` cannot be a page (they enclose almost nothing), or ""."""
    try:
        ring = order_corners(corners)  # any order: the page is the ring they make
    except ValueError:
        return "These corners enclose no page."
    try:
        check_corners(ring, min_area=MIN_PAGE * width * height)
    except ValueError:
        return "These corners enclose almost nothing."
    return ""
