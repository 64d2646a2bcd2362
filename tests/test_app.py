"""The Streamlit app through AppTest: the real script, driven by widget keys."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import ROOT, load_truth, sample_sheets, set_corners, sheet_reads
from PIL import Image
from streamlit.testing.v1 import AppTest

from digit_pipeline import PARAM_SPECS, PipelineParams
from digit_pipeline.io.images import decode_image, encode_png
from digit_pipeline.model import load_model
from digit_pipeline.reading import fit_sheet
from digit_pipeline.reading.autofit import estimate_fit

APP = str(ROOT / "streamlit_app.py")


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def box_count(at: AppTest) -> int:
    for caption in at.caption:
        if caption.value.endswith("found."):
            return int(caption.value.split()[0])
    return 0


def test_opens_on_a_sample_with_boxes_drawn():
    at = start()
    first = sample_sheets()[0]
    assert at.selectbox(key="source").value == first.name
    assert box_count(at) == len(load_truth(first)["digits"])
    assert at.title[0].value == "Digit Workbench"


def test_the_stage_panels_are_drawn_only_while_their_expander_is_open():
    at = start()
    assert next(e.label for e in at.expander) == "Stages"
    assert len(at.main.get("image")) == 1  # the boxes only: a slider move skips the panels
    at.session_state["show_stages"] = True
    at.run()
    captions = [c for image in at.main.get("image") for c in [image.proto.imgs[0].caption]]
    assert captions[1:] == [
        "Grey, lighting evened (working copy)",
        "Page found (the desk around it shaded)",
        "Lines removed",
        "Blurred",
        "Edges",
        "Dilated",
        "Boxes",
    ]
    at.slider(key="param_canny_lower").set_value(60).run()  # still open after a move
    assert not at.exception and len(at.main.get("image")) == 8
    at.session_state["show_stages"] = False
    at.run()
    assert len(at.main.get("image")) == 1


def test_extract_then_predict_reads_the_sheet():
    at = start()
    sheet = sample_sheets()[0]
    truth = load_truth(sheet)
    at.button(key="extract").click().run()
    assert not at.exception
    assert any("28×28" in s.value for s in at.subheader)
    rois = [m.value for m in at.markdown if m.value.startswith("#")]
    assert len(rois) == len(truth["digits"])

    at.button(key="predict").click().run()
    assert not at.exception
    reading = sheet_reads(at)
    assert reading.startswith("Sheet reads:")
    text = reading.split("**")[1]
    assert text.count(" / ") == truth["text"].count("\n")
    read = text.replace(" / ", "")
    wanted = truth["text"].replace("\n", "")
    assert sum(a == b for a, b in zip(read, wanted, strict=True)) >= 0.9 * len(wanted)

    # Results stay across reruns with nothing changed...
    at.run()
    assert sheet_reads(at) == reading
    # ...and go once a parameter changes.
    at.slider(key="param_canny_lower").set_value(31).run()
    assert sheet_reads(at) is None


SLIDERS = [s for s in PARAM_SPECS if s.kind is not bool and not s.choices and not s.optional]


@pytest.mark.parametrize("spec", SLIDERS, ids=[s.name for s in SLIDERS])
def test_every_slider_moves_to_both_ends(spec):
    at = start()
    at.session_state["show_more_stages"] = True  # the rest of the stages: More settings
    at.run()
    for value in (spec.low, spec.high, spec.default):
        value = float(value) if spec.kind is float else int(value)
        at.slider(key=f"param_{spec.name}").set_value(value).run()
        assert not at.exception, (spec.name, value, at.exception)
        assert at.slider(key=f"param_{spec.name}").value == value


def test_more_settings_are_drawn_only_while_open_and_kept_when_closed():
    at = start()
    drawn = lambda: {w.key for w in (*at.sidebar.slider, *at.sidebar.toggle)}  # noqa: E731
    assert "param_canny_lower" in drawn() and "param_min_box_area" not in drawn()
    assert "param_remove_lines" not in drawn()
    at.session_state["show_more_stages"] = True
    at.run()
    assert {"param_min_box_area", "param_remove_lines", "param_work_size"} <= drawn()
    at.toggle(key="param_remove_lines").set_value(False).run()
    at.slider(key="param_min_box_area").set_value(500).run()
    at.session_state["show_more_stages"] = False
    at.run()
    at.slider(key="param_canny_lower").set_value(at.slider(key="param_canny_lower").value + 2)
    at.run()
    assert not at.exception, at.exception
    assert "param_min_box_area" not in drawn()
    assert at.session_state["param_remove_lines"] is False
    assert at.session_state["param_min_box_area"] == 500


def test_other_controls():
    at = start()
    at.session_state["show_more_stages"] = True
    at.run()
    at.select_slider(key="param_canny_aperture").set_value(5).run()
    assert not at.exception
    at.toggle(key="param_remove_lines").set_value(False).run()
    assert not at.exception
    assert at.slider(key="param_roi_threshold").disabled
    at.checkbox(key="param_roi_threshold_auto").uncheck().run()
    assert not at.slider(key="param_roi_threshold").disabled
    at.slider(key="param_roi_threshold").set_value(100).run()
    at.button(key="extract").click().run()
    assert not at.exception
    at.button(key="reset").click().run()
    assert at.toggle(key="param_remove_lines").value is True
    assert at.checkbox(key="param_roi_threshold_auto").value is True


FITTED = ("work_size", "blur_size", "canny_lower", "dilate_size", "dilate_iterations")


def slider_values(at: AppTest) -> dict[str, float]:
    """The fitted stages' values, drawn or not (the working size is in More settings)."""
    return {name: at.session_state[f"param_{name}"] for name in FITTED}


def test_new_images_are_fitted_until_switched_off():
    at = start()
    first, second = sample_sheets()[:2]
    # The app fits as `read` does: with the sidebar's model judging the candidates.
    image = decode_image(first.read_bytes())
    fitted = fit_sheet(image, model=load_model()).params
    assert slider_values(at) == {name: getattr(fitted, name) for name in FITTED}
    assert f"Auto-fit for {first.name}" in captions(at)
    estimate = estimate_fit(image).params
    assert estimate.work_size != PipelineParams().work_size  # the fit really measured

    # The same image is not fitted again: a slider the user moves stays where it is.
    at.slider(key="param_canny_lower").set_value(77).run()
    at.run()
    assert at.slider(key="param_canny_lower").value == 77

    # Switched off, a new image keeps the usual defaults.
    at.toggle(key="autofit_new").set_value(False).run()
    at.selectbox(key="source").set_value(second.name).run()
    assert not at.exception
    defaults = PipelineParams()
    assert slider_values(at) == {name: getattr(defaults, name) for name in FITTED}
    assert box_count(at) == len(load_truth(second)["digits"])


def test_a_new_image_whose_fit_was_cut_short_is_fitted_on_the_next_run(monkeypatch):
    # A click while a new image is being fitted stops that run (Streamlit reruns at
    # once); the image must still be fitted on the next run, not keep the last sliders.
    import workbench.controls

    at = start()
    second = sample_sheets()[1]
    fit_to = workbench.controls.fit_to

    def cut_short(source):
        raise RuntimeError("the run was stopped while fitting")

    monkeypatch.setattr(workbench.controls, "fit_to", cut_short)
    at.selectbox(key="source").set_value(second.name).run()
    assert at.exception  # the stand-in for the stopped run
    monkeypatch.setattr(workbench.controls, "fit_to", fit_to)
    at.run()
    assert not at.exception
    assert f"Auto-fit for {second.name}" in captions(at)


def test_every_sample_can_be_picked():
    at = start()
    for sheet in sample_sheets():
        at.selectbox(key="source").set_value(sheet.name).run()
        assert not at.exception
        assert box_count(at) == len(load_truth(sheet)["digits"]), sheet.name


def test_upload_junk_shows_error_and_no_exception():
    at = start()
    at.selectbox(key="source").set_value("Upload your own…").run()
    assert at.info  # asks for a file
    at.file_uploader(key="upload").set_value(("junk.png", b"not an image", "image/png")).run()
    assert not at.exception
    assert any("junk.png" in e.value for e in at.error)


def test_upload_good_then_junk_keeps_the_good_one():
    at = start()
    at.selectbox(key="source").set_value("Upload your own…").run()
    sheet = sample_sheets()[0]
    data = sheet.read_bytes()
    at.file_uploader(key="upload").set_value((sheet.name, data, "image/jpeg")).run()
    assert not at.exception and not at.error
    boxes = box_count(at)
    assert boxes == len(load_truth(sheet)["digits"])
    at.file_uploader(key="upload").set_value(("broken.jpg", data[: len(data) // 3], "image/jpeg"))
    at.run()
    assert not at.exception
    assert any("broken.jpg" in e.value for e in at.error)
    assert box_count(at) == boxes
    assert "previous image" in captions(at)


def test_blank_upload_says_no_digits():
    at = start()
    at.selectbox(key="source").set_value("Upload your own…").run()
    blank = np.full((300, 400, 3), 240, np.uint8)
    at.file_uploader(key="upload").set_value(("blank.png", encode_png(blank), "image/png")).run()
    assert not at.exception
    assert any("No digits found" in w.value for w in at.warning)
    at.button(key="predict").click().run()
    assert not at.exception


REAL_KRAFT = ROOT.parent / "shared" / "data" / "real_dev" / "m11_bluepen_kraft_paper_exif6_jeko.jpg"


@pytest.mark.skipif(not REAL_KRAFT.is_file(), reason=f"{REAL_KRAFT} is absent (../shared)")
def test_after_predict_the_page_shows_the_judged_boxes_and_digits():
    """The judge drops specks on kraft paper: the digits row must follow the reading."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    at.run()
    at.selectbox(key="source").set_value("Upload your own…").run()
    at.file_uploader(key="upload").set_value(("kraft.jpg", REAL_KRAFT.read_bytes(), "image/jpeg"))
    at.run()
    boxes_before = int(next(c.value for c in at.caption if "found." in c.value).split()[0])
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    reading = at.session_state["reading"]
    assert len(reading.digits) < boxes_before  # the judge dropped some
    captions = [m.value for m in at.markdown if m.value.startswith("#")]
    assert len(captions) == len(reading.digits)
    shown = next(c.value for c in at.caption if " found" in c.value)
    aside = len(at.session_state["judged"].set_aside)
    assert shown == f"{len(reading.digits)} boxes found and {aside} set aside as no digit " + (
        "(grey, listed below)."
    )
    assert len(reading.digits) + aside >= boxes_before  # none vanished unseen


def test_predict_shows_the_boxes_it_set_aside_and_one_can_be_kept(shown):
    # Three digits and a short slanted stretch of a rule: the boxes show four before
    # Predict; after it the reading has three, the fourth is drawn in grey and listed
    # with the rule that set it aside, and the user can keep it as a digit after all.
    from conftest import stub_sheet

    from digit_pipeline.reading.judge import RULES
    from workbench.common import SET_ASIDE_COLOR

    page = stub_sheet()
    at = start()
    at.selectbox(key="source").set_value("Upload your own…").run()
    at.file_uploader(key="upload").set_value(("stub.png", encode_png(page), "image/png")).run()
    assert not at.exception and box_count(at) == 4
    before = last_picture(shown, (420, 200))
    at.button(key="predict").click().run()
    assert not at.exception
    assert len(sheet_reads(at).split("**")[1]) == 3
    assert "3 boxes found and 1 set aside as no digit (grey, listed below)." in captions(at)
    judged = at.session_state["judged"]
    (aside,) = judged.set_aside
    assert aside.rule in RULES
    assert f"**A1** {aside.rule}: {RULES[aside.rule]}" in " ".join(m.value for m in at.markdown)
    # Drawn in grey where it was found (the image is shown at its own size here).
    drawn = last_picture(shown, (420, 200))
    x, y, w, _ = aside.box
    edge = drawn[y, x : x + w].astype(int)
    assert (np.abs(edge - SET_ASIDE_COLOR).sum(axis=1) < 60).mean() > 0.5
    assert not np.array_equal(drawn, before)

    at.multiselect(key=f"keep_aside_{at.session_state['reading_id']}").set_value([0]).run()
    assert not at.exception, at.exception
    assert len(sheet_reads(at).split("**")[1]) == 4  # read as a digit after all
    assert "4 boxes found." in captions(at)
    assert any(d.box == aside.box for d in at.session_state["judged"].set_aside)  # undoable


@pytest.fixture
def shown(monkeypatch) -> list[bytes]:
    """Every JPEG the page hands to the browser, in order (the boxes picture is one)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    sent: list[bytes] = []
    real = MediaFileManager.add

    def add(self, data, mimetype, *args, **kwargs):
        if mimetype == "image/jpeg":
            sent.append(bytes(data))
        return real(self, data, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", add)
    return sent


def last_picture(sent: list[bytes], size: tuple[int, int]) -> np.ndarray:
    """The last picture sent of ``size`` (width, height): the boxes drawn on the sheet."""
    images = [Image.open(io.BytesIO(data)) for data in sent]
    return np.asarray(next(i for i in reversed(images) if i.size == size).convert("RGB"))


def test_a_photographed_page_is_flattened_and_its_corners_can_be_moved():
    from conftest import SAMPLES, on_desk

    from digit_pipeline.io.images import read_image

    card = SAMPLES / "pencil_three_lines.jpg"
    truth = load_truth(card)
    photo, _ = on_desk(read_image(card))
    at = start()
    at.selectbox(key="source").set_value("Upload your own…").run()
    at.file_uploader(key="upload").set_value(("desk.png", encode_png(photo), "image/png")).run()
    assert not at.exception, at.exception
    assert "A page was found in this photo" in captions(at)
    assert box_count(at) == len(truth["digits"])
    at.session_state["show_stages"] = True
    at.run()
    first = at.main.get("image")[1].proto.imgs[0].caption
    assert first == "Page found in the photo (flattened from here)"
    at.button(key="predict").click().run()
    assert not at.exception
    assert sheet_reads(at).split("**")[1] == truth["text"].replace("\n", " / ")

    # Corners pulled together: no page; a clear warning and the photo read as it is.
    set_corners(at, ((50.0, 50.0), (52.0, 50.0), (52.0, 52.0), (50.0, 52.0)))
    assert not at.exception
    assert any("enclose almost nothing" in w.value for w in at.sidebar.warning)
    captions_now = [image.proto.imgs[0].caption for image in at.main.get("image")]
    assert "Page found in the photo (flattened from here)" not in captions_now

    # Back to the page found; then flattening switched off: the photo as it is.
    at.button(key="page_reset").click().run()
    assert not at.sidebar.warning
    assert at.main.get("image")[1].proto.imgs[0].caption.startswith("Page found in the photo")
    at.session_state["show_more_stages"] = True
    at.run()
    at.toggle(key="param_flatten_page").set_value(False).run()
    assert not at.exception
    assert "Page corners" not in [e.label for e in at.sidebar.expander]
    captions_now = [image.proto.imgs[0].caption for image in at.main.get("image")]
    assert "Page found in the photo (flattened from here)" not in captions_now


def test_the_reading_page_opens_without_importing_the_other_pages_or_their_charts():
    """A fresh server's first page waits for no import it does not use: the lab and batch
    pages, pandas and Altair (seconds, for the lab's charts) and TensorFlow come later."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('streamlit_app.py', default_timeout=180)\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        "print(len(at.main.get('image')), *(m in sys.modules for m in sys.argv[1:]))"
    )
    later = ["workbench.pages.lab", "workbench.pages.batch", "pandas", "altair", "tensorflow"]
    done = subprocess.run(
        [sys.executable, "-c", code, *later],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    images, *imported = done.stdout.split()
    assert int(images) >= 1  # the first sample's boxes are drawn
    assert dict(zip(later, imported, strict=True)) == dict.fromkeys(later, "False")
