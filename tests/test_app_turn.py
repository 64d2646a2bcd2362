"""A photo stored sideways: the reading page turns it, and the user can turn it by hand."""

from __future__ import annotations

from pathlib import Path

from conftest import load_truth, sheet_reads
from streamlit.testing.v1 import AppTest

from digit_pipeline.io.images import encode_png, read_image
from digit_pipeline.reading.orientation import turn_image

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
SHEET = ROOT / "sample_images" / "pen_ruled.jpg"


def _digits_read(at: AppTest) -> str:
    """The digits of the page's "Sheet reads" message, nothing else."""
    return "".join(c for c in (sheet_reads(at) or "") if c.isdigit())


def _upload(at: AppTest, name: str, data: bytes) -> None:
    at.selectbox(key="source").set_value("Upload your own…").run()
    at.file_uploader(key="upload").set_value((name, data, "image/png")).run()


def test_a_sideways_upload_is_turned_and_read_and_can_be_turned_by_hand(model):
    truth = load_truth(SHEET)["text"].replace("\n", "")
    sideways = encode_png(turn_image(read_image(SHEET), 1))  # stored a quarter turn clockwise
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    _upload(at, "sideways.png", sideways)
    at.button(key="predict").click().run()  # the model is there by now: the judged fit
    assert not at.exception, at.exception
    digest = at.session_state["last_good_upload"].digest
    assert at.session_state["turns_of"][digest] == 3  # three quarters more: upright again
    notes = [c.value for c in at.sidebar.caption]
    assert any(n.startswith("Turned 270°: its digits say this way is up") for n in notes), notes
    assert _digits_read(at) == truth
    at.button(key="turn").click().run()  # by hand: a quarter turn more, back as stored
    assert at.session_state["turns_of"][digest] == 0
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    assert _digits_read(at) != truth
    at.button(key="turn").click().run()
    at.button(key="turn").click().run()
    at.button(key="turn").click().run()  # turned by hand to the way up: not turned again
    at.button(key="predict").click().run()
    assert at.session_state["turns_of"][digest] == 3
    assert any(c.value == "Turned 270° by you." for c in at.sidebar.caption)
    assert _digits_read(at) == truth


def test_an_upright_upload_is_not_turned(model):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    _upload(at, "upright.png", encode_png(read_image(SHEET)))
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    assert "turns_of" not in at.session_state  # nothing turned it
    assert at.session_state["last_good_upload"].digest in at.session_state["oriented"]
