"""Widget values that outlive the page they are drawn on.

Streamlit forgets a widget's value at the end of a run that did not draw the widget, so a
visit to the Model lab would put the reading page back on the bundled sample with default
sliders. :func:`keep_widget_values` runs first in every run and writes each kept widget's
value back as a value the script set, which Streamlit keeps until it changes (the pattern
Streamlit's documentation gives for widget state across pages). The widgets it keeps take
their start value from session state (``setdefault``), never from a ``value=`` argument.

What no widget can be given back (an upload, a camera shot, a table's edits) is kept
beside it by the page that draws it: ``last_good_upload``, ``last_good_camera`` and
``corrections``.
"""

from __future__ import annotations

import streamlit as st

KEPT_KEYS = frozenset(
    {
        "source",  # the sheet picked
        "autofit_new",
        "model",
        "low_confidence",
        "show_stages",
        "show_corners",
        "show_more_stages",
        "mnist_path",
        "ft_epochs",
        "batch_autofit",
        "lab_data",
    }
)
"""Widgets whose values survive a change of page."""

KEPT_PREFIXES = ("param_", "page_x", "page_y", "keep_aside_")
"""Families of kept widgets: every stage parameter, the page's corners, the set-aside boxes
the user keeps as digits."""


def is_kept(key: str) -> bool:
    """Whether the widget with ``key`` keeps its value across pages."""
    return key in KEPT_KEYS or key.startswith(KEPT_PREFIXES)


def keep_widget_values() -> None:
    """Write every kept widget's value back as the script's own (call first in each run)."""
    for key in list(st.session_state):
        if is_kept(key):
            st.session_state[key] = st.session_state[key]
