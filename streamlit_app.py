"""Digit Workbench: a thin Streamlit layer over the ``digit_pipeline`` package.

Run with ``streamlit run streamlit_app.py``. The pages live in :mod:`workbench`; the
reading page is the first.
"""

import streamlit as st

from workbench import batch_page, reading_page

st.set_page_config(page_title="Digit Workbench", layout="wide")
page = st.navigation(
    [
        st.Page(reading_page.render, title="Read a sheet", icon="🔢", default=True),
        st.Page(batch_page.render, title="Read a batch", icon="🗂️", url_path="batch"),
    ]
)
page.run()
