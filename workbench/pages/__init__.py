"""The app's pages, one module (or a folder with its parts) each, registered one way.

- :mod:`workbench.pages.reading`: read a sheet (the first page): image, corners, stages,
  digits, reading, corrections, downloads, the user's dataset;
- :mod:`workbench.pages.lab`: the Model lab: train, evaluate, compare;
- :mod:`workbench.pages.batch`: read a batch of sheets with the reading page's settings.

Each page is a ``render()`` function; :func:`navigation` registers them all alike.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from workbench.pages import batch, lab, reading

PAGES = (
    (reading.render, "Read a sheet", "🔢", None),
    (lab.render, "Model lab", "🧪", "lab"),
    (batch.render, "Read a batch", "🗂️", "batch"),
)
"""Every page: its render function, title, icon and URL path (None: the default page)."""


def navigation() -> StreamlitPage:
    """Register every page of :data:`PAGES` with ``st.navigation``; return the current one."""
    return st.navigation(
        [
            st.Page(render, title=title, icon=icon, url_path=path, default=path is None)
            for render, title, icon, path in PAGES
        ]
    )
