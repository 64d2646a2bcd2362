"""Digit Workbench: a thin Streamlit layer over the ``digit_pipeline`` package.

Run with ``streamlit run streamlit_app.py``. The pages live in :mod:`workbench`; the
reading page is the first, then the Model lab and Read a batch.
"""

import streamlit as st

from workbench import batch_page, reading_page

st.set_page_config(page_title="Digit Workbench", layout="wide")
page = st.navigation(
    [
        st.Page(reading_page.render, title="Read a sheet", icon="🔢", default=True),
        st.Page("workbench/lab_app.py", title="Model lab", icon="🧪", url_path="lab"),
        st.Page(batch_page.render, title="Read a batch", icon="🗂️", url_path="batch"),
    ]
)
page.run()
