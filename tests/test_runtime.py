"""Streamlit's epilogue: no Keras session cleared, no full collection, after each run."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from conftest import ROOT, sheet_reads
from streamlit.testing.v1 import AppTest

from digit_pipeline.model import DEFAULT_MODEL

APP = str(ROOT / "streamlit_app.py")


def test_a_rerun_leaves_keras_state_alone():
    # Streamlit's own hook calls keras.backend.clear_session() after every run, which
    # resets Keras' global state (its layer-name counter shows it) under the cached models.
    import keras

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    keras.layers.Dense(1)
    at.run()  # a rerun, as a slider move
    assert keras.layers.Dense(1).name != "dense"  # the counter went on: nothing cleared


def test_streamlits_hook_is_replaced_once_and_still_closes_figures():
    from streamlit.runtime.scriptrunner import script_runner

    from workbench.runtime import clean_problem_modules, keep_keras_session

    keep_keras_session()
    keep_keras_session()
    assert script_runner._clean_problem_modules is clean_problem_modules


def test_no_full_collection_after_each_run():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_the_first_image_shows_the_estimate_then_gets_the_judged_fit():
    # While the model loads, the first image is fitted by the ink's estimate (boxes drawn
    # at once); once the model is there, the next run applies the fit `read` makes.
    from conftest import sample_sheets

    from digit_pipeline.io.images import decode_image
    from digit_pipeline.model import load_model
    from digit_pipeline.reading import fit_sheet
    from digit_pipeline.reading.autofit import estimate_fit
    from workbench.cache import model_future

    image = decode_image(sample_sheets()[0].read_bytes())
    judged = fit_sheet(image, model=load_model()).params
    estimate = estimate_fit(image).params
    assert estimate != judged  # the two differ on this sheet
    model_future.clear()  # a fresh process: the model is not loaded yet
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    if not model_future(str(DEFAULT_MODEL)).done():  # the load outran the first run
        assert at.session_state["param_work_size"] == estimate.work_size
        assert any("Loading the model to check the fit" in c.value for c in at.caption)
    model_future(str(DEFAULT_MODEL)).result()
    at.run()  # the fragment's rerun, once the model is there
    assert at.slider(key="param_canny_lower").value == judged.canny_lower
    assert at.session_state["param_work_size"] == judged.work_size
    assert at.session_state["fit_pending"] is None


def test_predict_while_the_model_loads_reads_with_the_judged_fit():
    # A click on Predict during the first seconds is not lost: the run waits for the model,
    # fits the stages as `read` does, and reads the sheet with them.
    from conftest import load_truth, sample_sheets

    from workbench.cache import model_future

    model_future.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    assert at.session_state["fit_pending"] is None
    truth = load_truth(sample_sheets()[0])["text"].replace("\n", " / ")
    assert sheet_reads(at) == f"Sheet reads: **{truth}**"


def test_predict_right_after_the_fit_reads_nothing_again(monkeypatch):
    # The judged fit read the sheet to choose its parameters; Predict with those takes
    # that reading instead of reading the image once more.
    from conftest import sample_sheets

    import digit_pipeline.reading.reader as reader_module

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.selectbox(key="source").set_value(sample_sheets()[1].name).run()  # fitted, judged
    reads = []
    real = reader_module.read_sheet  # the one cached Reader reads through it
    monkeypatch.setattr(
        reader_module, "read_sheet", lambda *a, **k: reads.append(k) or real(*a, **k)
    )
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    assert at.session_state["judged"].sheet is not None
    assert [k for k in reads if k.get("model") is not None] == []  # no second reading
    at.slider(key="param_canny_lower").set_value(at.slider(key="param_canny_lower").value + 1)
    at.run()
    at.button(key="predict").click().run()
    assert [k for k in reads if k.get("model") is not None]  # other sliders: read anew


CHURN = """
import sys, threading, numpy as np
sys.path.insert(0, {root!r})
def rss():
    lines = open('/proc/self/status').read().splitlines()
    return next(int(l.split()[1]) / 1024 for l in lines if l.startswith('VmRSS:'))
if {bound}:
    from workbench.runtime import bound_allocator
    assert bound_allocator()
base = rss()
def run():  # a session's rerun: big temporaries freed, small things kept
    for k in range(30):
        big = np.ones(6_000_000, np.uint8)
        run.kept.append(np.ones(1000 + k, np.uint8))
        del big
run.kept = []
for _ in range(6):  # six sessions, each script in its own thread
    t = threading.Thread(target=run)
    t.start()
    t.join()
print(rss() - base)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_arrays_go_back_to_the_system_once_the_allocator_is_bound():
    # Without it, glibc keeps 6 MB blocks freed by threads in their arenas: this churn
    # left 14.6 MB more resident here; with it, the memory is returned.
    def grown(bound: bool) -> float:
        code = CHURN.format(root=str(ROOT), bound=bound)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return float(done.stdout)

    assert grown(True) < 3.0, grown(False)


def test_a_new_session_collects_the_sessions_streamlit_let_go_once():
    # Streamlit drops a closed tab's session after its TTL; the session hands back its
    # upload only when collected, and it sits in a reference cycle. With postScriptGC off
    # a full collection may not come for hours (benchmarks/bench_feel.py --pause 125).
    import gc

    from workbench.runtime import collect_closed_sessions

    shut = []

    class Dropped:  # as a dropped AppSession: in a cycle, shut down when collected
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            shut.append(1)

    gc.collect()
    gc.disable()
    try:
        Dropped()
        state: dict = {}
        assert collect_closed_sessions(state) and shut == [1]  # the session's first run
        Dropped()
        assert not collect_closed_sessions(state) and shut == [1]  # a slider move: no pass
        assert collect_closed_sessions({}) and shut == [1, 1]  # the next new session
    finally:
        gc.enable()


def test_streamlit_still_frees_a_dropped_sessions_upload_when_it_is_collected():
    # What collect_closed_sessions relies on: a collected AppSession shuts down, and its
    # shutdown removes the session's uploaded files and its media.
    import inspect

    from streamlit.runtime.app_session import AppSession

    assert "self.shutdown()" in inspect.getsource(AppSession.__del__)
    shutdown = inspect.getsource(AppSession.shutdown)
    assert "remove_session_files" in shutdown and "clear_session_refs" in shutdown


def test_the_apps_first_run_marks_its_session_started():
    from workbench.runtime import STARTED

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception and at.session_state[STARTED] is True
