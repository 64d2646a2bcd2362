"""The app with the user's own digits: camera, corrections, saving, the dataset, fine-tuning
and downloads — driven through AppTest with the real package and a temporary home
(``home``: conftest's autouse fixture, with ``home / "dataset"`` and ``home / "models"``)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, ROOT, load_truth, sample_sheets, sheet_reads
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from digit_pipeline.io.exports import annotated_png
from digit_pipeline.io.images import decode_image
from digit_pipeline.model import load_model, predict_proba
from digit_pipeline.reading import SheetReading, lines_text
from digit_pipeline.userdata import Dataset, digit_id

APP = str(ROOT / "streamlit_app.py")


def start(sheet_name: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if sheet_name:
        at.selectbox(key="source").set_value(sheet_name).run()
    assert not at.exception
    return at


def predict(at: AppTest) -> AppTest:
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    return at


def sheet_text(at: AppTest) -> str:
    return sheet_reads(at)


def truth_text(sheet: Path) -> str:
    """What the app shows for a sheet read exactly: its lines joined by " / "."""
    return f"Sheet reads: **{load_truth(sheet)['text'].replace(chr(10), ' / ')}**"


@pytest.fixture
def downloads(monkeypatch) -> dict[str, Callable[[], bytes]]:
    """The app's download buttons' data, by file name: the very callables the app hands to
    ``st.download_button`` (built on click, so AppTest never runs them itself)."""
    made: dict[str, Callable[[], bytes]] = {}
    real = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, *args, **kwargs):
        made[kwargs["file_name"]] = data_callable
        return real(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


def check_downloads(
    made: dict[str, Callable[[], bytes]], sheet: Path, reading: SheetReading, labels: list[int]
) -> np.ndarray:
    """Every download carries ``labels`` (the user's) beside the model's reading; return
    the digits in the ZIP."""
    model = [d.label for d in reading.digits]
    lines, boxes = [d.line for d in reading.digits], [d.box for d in reading.digits]
    stem = sheet.stem
    ends = ("reading.csv", "reading.json", "rois.zip", "annotated.png")
    assert {f"{stem}-{end}" for end in ends} <= set(made)

    rows = list(csv.DictReader(io.StringIO(made[f"{stem}-reading.csv"]().decode("utf-8"))))
    assert [r["image"] for r in rows] == [sheet.name] * len(model)
    assert [int(r["label"]) for r in rows] == model
    assert [tuple(int(r[k]) for k in "xywh") for r in rows] == boxes
    assert [int(r["index"]) for r in rows] == list(range(1, len(model) + 1))  # the table's #
    assert [int(r["line"]) for r in rows] == [line + 1 for line in lines]  # the table's line
    if labels != model:
        assert [int(r["corrected"]) for r in rows] == labels
    else:
        assert "corrected" not in rows[0]

    record = json.loads(made[f"{stem}-reading.json"]())
    assert record["image"] == sheet.name and record["text"] == lines_text(model, lines)
    assert [d["label"] for d in record["digits"]] == model
    if labels != model:
        assert [d["corrected"] for d in record["digits"]] == labels
        assert record["corrected_text"] == lines_text(labels, lines)
    else:
        assert "corrected_text" not in record

    with zipfile.ZipFile(io.BytesIO(made[f"{stem}-rois.zip"]())) as archive:
        names = [f"{i:03d}_{label}.png" for i, label in enumerate(labels, 1)]  # as the table
        assert archive.namelist() == [*names, "labels.csv"]
        table = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode("utf-8"))))
        assert [(r["file"], int(r["label"])) for r in table] == list(
            zip(names, labels, strict=True)
        )
        digits = np.stack([np.asarray(Image.open(archive.open(n))) for n in names])
    assert digits.shape == (len(labels), 28, 28) and digits.dtype == np.uint8

    image = decode_image(sheet.read_bytes(), sheet.name)
    drawn = made[f"{stem}-annotated.png"]()
    assert drawn == annotated_png(image, boxes, [str(n) for n in labels])  # the labels drawn
    if labels != model:
        assert drawn != annotated_png(image, boxes, [str(n) for n in model])
    return digits


def test_camera_photo_is_read(home):
    sheet = sample_sheets()[0]
    at = start("Take a photo…")
    assert not any("found." in c.value for c in at.caption)  # nothing taken yet
    at.camera_input(key="camera").set_value(("photo.jpg", sheet.read_bytes(), "image/jpeg"))
    at.run()
    assert not at.exception
    count = len(load_truth(sheet)["digits"])
    assert any(c.value == f"{count} boxes found." for c in at.caption)
    predict(at)
    assert sheet_text(at) == truth_text(sheet)  # the photo read exactly


def test_correct_a_label_then_save_twice_and_from_two_sessions(home, downloads):
    """A correction reaches the page, the dataset (that digit's id exactly) and every
    download; saving again, or from a second session, duplicates nothing."""
    sheet = sample_sheets()[0]
    at = predict(start(sheet.name))
    reading = at.session_state["reading"]
    model = [d.label for d in reading.digits]
    assert model == [d["label"] for d in load_truth(sheet)["digits"]]
    fixed = 2  # the third digit is corrected to a label the model did not give it
    labels = [*model[:fixed], (model[fixed] + 1) % 10, *model[fixed + 1 :]]
    key = f"corrections_{at.session_state['reading_id']}"
    at.session_state[key] = {
        "edited_rows": {fixed: {"correct label": labels[fixed]}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    lines = [d.line for d in reading.digits]
    assert sheet_text(at) == f"Sheet reads: **{lines_text(labels, lines, ' / ')}** (1 corrected)"
    digits = check_downloads(downloads, sheet, reading, labels)

    at.button(key="save").click().run()
    assert not at.exception
    dataset = Dataset(home / "dataset")
    ids = [digit_id(d) for d in digits]
    assert {s.id: s.label for s in dataset.samples()} == dict(zip(ids, labels, strict=True))
    np.testing.assert_array_equal(dataset.load(ids)[0], digits)  # the very digits shown
    at.button(key="save").click().run()  # the same sheet again: nothing duplicated
    assert {s.id: s.label for s in dataset.samples()} == dict(zip(ids, labels, strict=True))

    other = predict(start(sheet.name))  # a second session saves the model's reading
    other.button(key="save").click().run()
    assert not other.exception
    assert {s.id: s.label for s in dataset.samples()} == dict(zip(ids, model, strict=True))


def test_a_box_marked_not_a_digit_leaves_the_reading_downloads_and_dataset(home, downloads):
    """The corrections table can say a box holds no digit: the text, every download and
    the dataset then go without it, as if it had never been read."""
    from digit_pipeline.reading import without
    from workbench.pages.reading import NOT_A_DIGIT

    sheet = sample_sheets()[0]
    at = predict(start(sheet.name))
    reading = at.session_state["reading"]
    model = [d.label for d in reading.digits]
    key = f"corrections_{at.session_state['reading_id']}"
    at.session_state[key] = {
        "edited_rows": {1: {"correct label": NOT_A_DIGIT}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    rest = without(reading, [1])
    labels = model[:1] + model[2:]
    lines = [d.line for d in rest.digits]
    assert sheet_text(at) == f"Sheet reads: **{lines_text(labels, lines, ' / ')}** (1 corrected)"
    digits = check_downloads(downloads, sheet, rest, labels)
    assert len(digits) == len(model) - 1
    at.button(key="save").click().run()
    assert not at.exception
    saved = Dataset(home / "dataset").samples()
    assert sorted(s.id for s in saved) == sorted(digit_id(d) for d in digits)


def test_downloads_carry_the_reading(downloads):
    """Without corrections every download holds the model's reading: the sheet's truth."""
    sheet = sample_sheets()[0]
    at = predict(start(sheet.name))
    labels = {b.label for b in at.get("download_button")}
    assert labels == {
        "Download these settings",  # the sidebar's, for read --params
        "Reading (CSV)",
        "Reading (JSON)",
        "ROIs (ZIP of PNGs)",
        "Annotated image (PNG)",
    }
    reading = at.session_state["reading"]
    truth = [d["label"] for d in load_truth(sheet)["digits"]]
    assert [d.label for d in reading.digits] == truth
    digits = check_downloads(downloads, sheet, reading, truth)
    # the ZIP holds the sheet's digits, in reading order: the model reads them as the truth
    assert predict_proba(load_model(), digits).argmax(axis=1).tolist() == truth


def test_dataset_view_delete_and_fine_tune(home, downloads):
    sheets = sorted(sample_sheets(), key=lambda p: -len(load_truth(p)["digits"]))[:2]
    for sheet in sheets:  # enough digits to fine-tune on
        at = predict(start(sheet.name))
        at.button(key="save").click().run()
    total = sum(len(load_truth(s)["digits"]) for s in sheets)
    before = at.session_state["reading"]  # the shipped model's reading of sheets[-1]
    assert len(Dataset(home / "dataset").samples()) == total
    at.run()  # the My dataset expander closed: nothing of it drawn, the dataset not read
    assert not any("digits saved" in c.value for c in at.caption)
    assert "delete_id" not in [box.key for box in at.selectbox]
    at.session_state["show_dataset"] = True  # opened
    at.run()
    assert any(f"{total} digits saved" in c.value for c in at.caption)

    victim = at.selectbox(key="delete_id").value
    at.button(key="delete").click().run()
    assert not at.exception
    assert victim not in {s.id for s in Dataset(home / "dataset").samples()}

    at.text_input(key="mnist_path").set_value(str(FIXTURES / "mnist_small.npz"))
    at.number_input(key="ft_epochs").set_value(1)
    at.button(key="finetune").click().run(timeout=300)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("New model" in s.value for s in at.success)
    new_models = list((home / "models").glob("*.keras"))
    assert len(new_models) == 1 and new_models[0].with_suffix(".json").is_file()
    at.run()
    mine = f"{new_models[0].name} (yours)"
    assert mine in at.selectbox(key="model").options

    # The new model is picked and reads the sheet: exactly, with its own probabilities.
    at.selectbox(key="model").set_value(mine).run()
    assert at.session_state["reading"] is None  # another model: the old reading is gone
    downloads.clear()
    predict(at)
    after = at.session_state["reading"]
    assert sheet_text(at) == truth_text(sheets[-1])
    assert [d.label for d in after.digits] == [d["label"] for d in load_truth(sheets[-1])["digits"]]
    digits = check_downloads(downloads, sheets[-1], after, [d.label for d in after.digits])
    proba = predict_proba(load_model(new_models[0]), digits)
    np.testing.assert_allclose([d.confidence for d in after.digits], proba.max(axis=1), rtol=1e-5)
    assert not np.allclose(
        [d.confidence for d in after.digits], [d.confidence for d in before.digits]
    )


def test_a_spreadsheet_resaved_labels_file_loses_nothing_in_the_app(home):
    """Save a sheet, re-save labels.csv as a spreadsheet does, save again: all kept; a line
    that cannot be read is named in the app and nothing is written or deleted."""
    sheet = sample_sheets()[0]
    at = predict(start(sheet.name))
    at.button(key="save").click().run()
    folder = home / "dataset"
    count = len(Dataset(folder).samples())
    assert count == len(load_truth(sheet)["digits"])
    csv_path = folder / "labels.csv"
    lines = csv_path.read_text().splitlines()
    csv_path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    first_id = lines[1].split(",")[0]
    # the first sample relabelled by hand in the spreadsheet
    at.session_state[f"corrections_{at.session_state['reading_id']}"] = {
        "edited_rows": {0: {"correct label": 0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="save").click().run()
    assert not at.exception
    samples = Dataset(folder).samples()
    assert len(samples) == count and len(list((folder / "images").glob("*.png"))) == count
    assert next(s.label for s in samples if s.id == first_id) == 0

    csv_path.write_bytes(csv_path.read_bytes() + b"not-an-id,4,x,y\n")
    before = sorted(p.name for p in (folder / "images").iterdir())
    at.button(key="save").click().run()
    assert not at.exception
    error = next(e.value for e in at.error)
    assert f"{csv_path}, line {count + 2}: id 'not-an-id'" in error
    assert "nothing" in error
    assert sorted(p.name for p in (folder / "images").iterdir()) == before
