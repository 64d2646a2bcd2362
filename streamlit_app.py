"""Digit Workbench: a thin Streamlit layer over the ``digit_pipeline`` package.

Run with ``streamlit run streamlit_app.py``. The pages live in :mod:`workbench.pages`; the
reading page is the first, then the Model lab and Read a batch.
"""

import time

import streamlit as st

from workbench.pages import navigation
from workbench.runtime import bound_allocator, collect_closed_sessions, keep_keras_session
from workbench.state import keep_widget_values

bound_allocator()  # big freed arrays go back to the system: memory stays bounded
keep_keras_session()  # the cached models are shared: no clear_session after every run
st.set_page_config(page_title="Digit Workbench", layout="wide")
keep_widget_values()  # the reading page's image, corners and sliders outlive a visit elsewhere
collect_closed_sessions(st.session_state)  # closed tabs' sessions go, their photos with them
page = navigation()
start = time.perf_counter()
try:
    page.run()
finally:  # the script's own time for this run (benchmarks/bench_app.py reads it)
    st.session_state["run_ms"] = (time.perf_counter() - start) * 1000
