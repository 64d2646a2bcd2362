"""Two users at once: separate images, separate results; the shared model never changes."""

from __future__ import annotations

import numpy as np
from conftest import ROOT, sample_sheets
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "streamlit_app.py")


def reading(at: AppTest) -> str | None:
    return at.success[0].value if at.success else None


def test_two_sessions_do_not_see_each_other(model):
    first, second = sample_sheets()[:2]
    alice = AppTest.from_file(APP, default_timeout=120)
    bob = AppTest.from_file(APP, default_timeout=120)
    alice.run()
    bob.run()
    alice.selectbox(key="source").set_value(first.name).run()
    bob.selectbox(key="source").set_value("Upload your own…").run()
    bob.file_uploader(key="upload").set_value((second.name, second.read_bytes(), "image/jpeg"))
    bob.run()
    weights_before = [w.copy() for w in model.get_weights()]

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

    from digit_pipeline.model import load_model

    fresh = load_model()
    for before, now, shipped in zip(
        weights_before, model.get_weights(), fresh.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(before, now)
        np.testing.assert_array_equal(now, shipped)
