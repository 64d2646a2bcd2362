"""The reading page keeps the user's work while they visit the other pages (AppTest).

Streamlit drops a widget's state at the end of a run that did not draw it; these tests go
to the Model lab and the batch page and back, as a user does from the sidebar.
"""

from __future__ import annotations

from conftest import ROOT, SAMPLES, goto, load_truth, on_desk, sheet_reads
from streamlit.testing.v1 import AppTest

from digit_pipeline.io.images import encode_png, read_image

APP = str(ROOT / "streamlit_app.py")


def sheet_text(at: AppTest) -> str:
    return sheet_reads(at)


def test_the_reading_page_keeps_its_work_across_the_other_pages():
    photo, _ = on_desk(read_image(SAMPLES / "pencil_three_lines.jpg"))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.selectbox(key="source").set_value("Upload your own…").run()
    at.file_uploader(key="upload").set_value(("desk.png", encode_png(photo), "image/png")).run()
    assert not at.exception, at.exception
    # The user's own hand: a corner nudged, a slider and the flag threshold moved.
    at.session_state["show_corners"] = True
    at.run()
    at.slider(key="page_x0").set_value(at.slider(key="page_x0").value + 0.5)
    at.slider(key="param_canny_lower").set_value(at.slider(key="param_canny_lower").value + 3)
    at.slider(key="low_confidence").set_value(0.95)
    at.run()
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    reading = at.session_state["reading"]
    assert len(reading.digits) == len(load_truth(SAMPLES / "pencil_three_lines.jpg")["digits"])
    table = f"corrections_{at.session_state['reading_id']}"
    label = (reading.digits[0].label + 1) % 10
    at.session_state[table] = {
        "edited_rows": {0: {"correct label": str(label)}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    before = {
        "text": sheet_text(at),
        "sliders": {s.key: s.value for s in at.sidebar.slider},
        "toggles": {t.key: t.value for t in at.sidebar.toggle},
        "reading_id": at.session_state["reading_id"],
    }
    assert "(1 corrected)" in before["text"]

    goto(at, "lab")
    assert table not in at.session_state  # Streamlit dropped the table's edits with its page
    goto(at, "batch")
    # The batch page reads with the reading page's settings, fits each sheet by default
    # and says where its sidebar came from; no leftover fit caption of the reading page.
    assert at.slider(key="param_canny_lower").value == before["sliders"]["param_canny_lower"]
    assert at.toggle(key="batch_autofit").value is True
    notes = " ".join(c.value for c in at.main.caption)
    assert "as set on *Read a sheet* (fitted there to desk.png)" in notes
    assert not any(c.value.startswith("Auto-fit for") for c in at.sidebar.caption)

    goto(at, "")
    assert at.selectbox(key="source").value == "Upload your own…"
    assert any("**desk.png**, uploaded earlier" in c.value for c in at.sidebar.caption)
    assert {s.key: s.value for s in at.sidebar.slider} == before["sliders"]
    assert {t.key: t.value for t in at.sidebar.toggle} == before["toggles"]
    assert at.session_state["reading_id"] == before["reading_id"]  # not read again
    assert sheet_text(at) == before["text"]  # the reading and its correction


def test_each_page_visit_leaves_the_batch_fit_switch_as_the_user_set_it():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    goto(at, "batch")
    at.toggle(key="batch_autofit").set_value(False).run()
    goto(at, "")
    goto(at, "batch")
    assert at.toggle(key="batch_autofit").value is False
    assert "read with the sidebar's stages as they are" in " ".join(
        c.value for c in at.main.caption
    )


def fitted_sliders(*uploads: str) -> dict[str, float]:
    """Upload the bundled sheets one after another in one session; the sliders after the last."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.selectbox(key="source").set_value("Upload your own…").run()
    for name in uploads:
        data = (SAMPLES / name).read_bytes()
        at.file_uploader(key="upload").set_value((name, data, "image/jpeg")).run()
        assert not at.exception, at.exception
        notes = [c.value for c in at.sidebar.caption]
        assert any(note.startswith(f"Auto-fit for {name}") for note in notes), (name, notes)
    sliders = {s.key: s.value for s in at.sidebar.slider if s.key.startswith("param_")}
    at.button(key="autofit").click().run()  # pressed again: the same fit
    assert {s.key: s.value for s in at.sidebar.slider if s.key.startswith("param_")} == sliders
    return sliders


def test_the_fit_of_an_image_does_not_depend_on_the_image_before():
    # The small dense scan fits far from the defaults; the marker sheet's judged fit keeps
    # the defaults. Fitted from the scan's sliders, the marker sheet kept the scan's.
    after = fitted_sliders("scan_small_many.jpg", "marker_thick_shadow.jpg")
    alone = fitted_sliders("marker_thick_shadow.jpg")
    assert after == alone


def test_an_upload_is_hashed_once_and_a_new_file_of_the_same_name_is_read_anew():
    import hashlib

    first, second = (read_image(path) for path in sorted(SAMPLES.glob("*.jpg"))[:2])
    data = [encode_png(first), encode_png(second)]
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.selectbox(key="source").set_value("Upload your own…").run()
    at.file_uploader(key="upload").set_value(("sheet.png", data[0], "image/png")).run()
    kept = at.session_state["last_good_upload"]
    assert kept.digest == hashlib.sha256(data[0]).hexdigest()
    slider = at.slider(key="param_canny_lower")
    slider.set_value(slider.value + 1).run()  # a slider move: the same file, not hashed again
    assert at.session_state["last_good_upload"] is kept
    at.file_uploader(key="upload").set_value(("sheet.png", data[1], "image/png")).run()
    assert not at.exception, at.exception
    assert at.session_state["last_good_upload"].digest == hashlib.sha256(data[1]).hexdigest()
