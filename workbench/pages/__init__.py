"""The app's pages, one module (or a folder with its parts) each, registered one way.

- :mod:`workbench.pages.reading`: read a sheet (the first page): image, corners, stages,
  digits, reading, corrections, downloads, the user's dataset;
- :mod:`workbench.pages.lab`: the Model lab: train, evaluate, compare;
- :mod:`workbench.pages.batch`: read a batch of sheets with the reading page's settings.

Each page is a module with a ``render()`` function; :func:`navigation` registers them all
alike, and a page's module is imported the first time the page is shown: the lab's charts
(pandas, Altair) take seconds to import, which a first visit to the reading page need not
wait for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import streamlit as st
from streamlit.navigation.page import StreamlitPage

PAGES = (
    ("workbench.pages.reading", "Read a sheet", "🔢", None),
    ("workbench.pages.lab", "Model lab", "🧪", "lab"),
    ("workbench.pages.batch", "Read a batch", "🗂️", "batch"),
)
"""Every page: its module, title, icon and URL path (None: the default page)."""


def page_render(module: str) -> Callable[[], None]:
    """Return a function that imports the page's ``module`` and runs its ``render()``."""

    def render() -> None:
        importlib.import_module(module).render()

    return render


def navigation() -> StreamlitPage:
    """Register every page of :data:`PAGES` with ``st.navigation``; return the current one."""
    return st.navigation(
        [
            st.Page(page_render(module), title=title, icon=icon, url_path=path, default=not path)
            for module, title, icon, path in PAGES
        ]
    )
