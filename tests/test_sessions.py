"""Two users at once: separate images, separate results; the shared model never changes."""

from __future__ import annotations

import numpy as np
from conftest import ROOT, sample_sheets, sheet_reads
from streamlit.testing.v1 import AppTest

import workbench.pages.reading
from digit_pipeline.model import DEFAULT_MODEL, load_model
from workbench.cache import model_future

APP = str(ROOT / "streamlit_app.py")


def reading(at: AppTest) -> str | None:
    return sheet_reads(at)


def test_two_sessions_do_not_see_each_other(monkeypatch):
    first, second = sample_sheets()[:2]
    alice = AppTest.from_file(APP, default_timeout=120)
    bob = AppTest.from_file(APP, default_timeout=120)
    alice.run()
    bob.run()
    alice.selectbox(key="source").set_value(first.name).run()
    bob.selectbox(key="source").set_value("Upload your own…").run()
    bob.file_uploader(key="upload").set_value((second.name, second.read_bytes(), "image/jpeg"))
    bob.run()
    # The model the app holds in st.cache_resource (the same future for every session),
    # and every model object the page is handed when it predicts.
    held = model_future(str(DEFAULT_MODEL)).result()
    weights_before = [w.copy() for w in held.get_weights()]
    handed = []
    real_get_model = workbench.pages.reading.get_model

    def get_model(path):
        handed.append(real_get_model(path))
        return handed[-1]

    monkeypatch.setattr(workbench.pages.reading, "get_model", get_model)

    alice.button(key="predict").click().run()
    assert reading(alice) is not None
    bob.run()
    assert reading(bob) is None  # Alice's prediction is not on Bob's page
    bob.button(key="predict").click().run()
    alice.run()
    assert reading(alice) != reading(bob)
    assert alice.selectbox(key="source").value == first.name
    assert bob.session_state["last_good_upload"].name == second.name
    assert "last_good_upload" not in alice.session_state

    # Bob's slider does not move Alice's.
    bob.slider(key="param_canny_lower").set_value(60).run()
    alice.run()
    assert alice.slider(key="param_canny_lower").value != 60
    assert not alice.exception and not bob.exception

    assert len(handed) == 2 and all(m is held for m in handed)  # one model, shared
    assert model_future(str(DEFAULT_MODEL)).result() is held
    fresh = load_model()
    for before, now, shipped in zip(
        weights_before, held.get_weights(), fresh.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(before, now)
        np.testing.assert_array_equal(now, shipped)
