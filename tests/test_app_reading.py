"""The reading page tells one story: the gallery, the text and the corners agree (AppTest)."""

from __future__ import annotations

from conftest import ROOT, SAMPLES, load_truth, on_desk, sample_sheets, set_corners
from streamlit.testing.v1 import AppTest

from digit_pipeline.io.images import encode_png, read_image

APP = str(ROOT / "streamlit_app.py")


def predicted(sheet_name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.selectbox(key="source").set_value(sheet_name).run()
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    return at


def gallery(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("#")]


def shown_as(at: AppTest) -> tuple[str, str]:
    """The sheet's text and how it is shown: ("success" or "warning", its message)."""
    for kind in ("success", "warning"):
        for element in getattr(at, kind):
            if element.value.startswith("Sheet reads"):
                return kind, element.value
    raise AssertionError("no 'Sheet reads' on the page")


def correct(at: AppTest, row: int, label: str) -> None:
    at.session_state[f"corrections_{at.session_state['reading_id']}"] = {
        "edited_rows": {row: {"correct label": label}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception


def test_a_correction_reaches_the_digit_gallery():
    sheet = sample_sheets()[0]
    at = predicted(sheet.name)
    reading = at.session_state["reading"]
    first = reading.digits[0]
    assert gallery(at)[0].startswith(f"#1: **{first.label}** (")
    other = (first.label + 1) % 10
    correct(at, 0, str(other))
    assert gallery(at)[0] == f"#1: **{other}** ✏️ (read {first.label}, {first.confidence:.0%})"
    correct(at, 0, "not a digit")
    assert gallery(at)[0] == f"#1: not a digit (read {first.label})"
    assert len(gallery(at)) == len(reading.digits)


def test_the_text_is_not_green_while_a_digit_is_flagged():
    sheet = sample_sheets()[0]
    at = predicted(sheet.name)
    assert shown_as(at)[0] == "success"  # read surely: nothing to look at
    at.slider(key="low_confidence").set_value(1.0).run()  # every digit under 100 %: flagged
    count = len(load_truth(sheet)["digits"])
    kind, message = shown_as(at)
    assert kind == "warning" and f"{count} digits flagged ⚠️ for a look" in message
    assert all(caption.endswith("⚠️") for caption in gallery(at))
    label = at.session_state["reading"].digits[0].label
    correct(at, 0, str((label + 1) % 10))  # looked at and corrected: no longer flagged
    kind, message = shown_as(at)
    assert kind == "warning" and f"{count - 1} digits flagged" in message


def test_the_corner_note_follows_a_page_flattened_by_hand():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    corner_captions = lambda: [c.value for c in at.sidebar.caption if "page" in c.value]  # noqa: E731
    assert any(c.startswith("No page edge found") for c in corner_captions())
    set_corners(at, ((5.0, 5.0), (95.0, 5.0), (95.0, 95.0), (5.0, 95.0)))
    assert not at.exception, at.exception
    assert "Flattened by hand: the page is the four corners you set." in corner_captions()
    assert not any(c.startswith("No page edge found") for c in corner_captions())
    assert at.slider(key="page_x0").step == 0.5  # a key press moves a corner visibly


def test_found_corners_sit_on_the_sliders_steps():
    photo, _ = on_desk(read_image(SAMPLES / "pencil_three_lines.jpg"))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.selectbox(key="source").set_value("Upload your own…").run()
    at.file_uploader(key="upload").set_value(("desk.png", encode_png(photo), "image/png")).run()
    at.session_state["show_corners"] = True
    at.run()
    values = [at.slider(key=f"page_{axis}{i}").value for axis in "xy" for i in range(4)]
    assert all(abs(v * 2 - round(v * 2)) < 1e-9 for v in values)
    assert any(c.value.startswith("A page was found") for c in at.sidebar.caption)


def test_closed_corners_panel_draws_no_sliders_and_keeps_the_corners():
    """A slider move elsewhere does not redraw the corner sliders; closing keeps the page."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not [s for s in at.sidebar.slider if (s.key or "").startswith("page_")]
    set_corners(at, ((5.0, 5.0), (95.0, 5.0), (95.0, 95.0), (5.0, 95.0)))
    at.session_state["show_corners"] = False
    at.run()
    at.slider(key="param_canny_lower").set_value(at.slider(key="param_canny_lower").value + 3)
    at.run()
    assert not at.exception, at.exception
    assert not [s for s in at.sidebar.slider if (s.key or "").startswith("page_")]
    assert at.session_state["page_x1"] == 95.0 and at.session_state["page_y2"] == 95.0
    notes = [c.value for c in at.sidebar.caption]
    assert "Flattened by hand: the page is the four corners you set." in notes
