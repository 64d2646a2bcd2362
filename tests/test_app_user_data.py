"""The app with the user's own digits: camera, corrections, saving, the dataset, fine-tuning
and downloads — driven through AppTest with the real package and a temporary home
(``home``: conftest's autouse fixture, with ``home / "dataset"`` and ``home / "models"``)."""

from __future__ import annotations

from conftest import FIXTURES, ROOT, load_truth, sample_sheets
from streamlit.testing.v1 import AppTest

from digit_pipeline.userdata import Dataset

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
    return next(s.value for s in at.success if s.value.startswith("Sheet reads"))


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
    assert sheet_text(at).count(" / ") == load_truth(sheet)["text"].count("\n")


def test_correct_a_label_then_save_twice_and_from_two_sessions(home):
    sheet = sample_sheets()[0]
    at = predict(start(sheet.name))
    before = sheet_text(at)
    first = before.split("**")[1][0]
    fixed = (int(first) + 1) % 10
    key = f"corrections_{at.session_state['reading_id']}"
    at.session_state[key] = {
        "edited_rows": {0: {"correct label": fixed}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    after = sheet_text(at)
    assert after.split("**")[1][0] == str(fixed) and "(1 corrected)" in after

    at.button(key="save").click().run()
    assert not at.exception
    dataset = Dataset(home / "dataset")
    count = len(load_truth(sheet)["digits"])
    assert len(dataset.samples()) == count
    assert dataset.samples()[0].label == fixed or fixed in [s.label for s in dataset.samples()]
    at.button(key="save").click().run()  # the same sheet again: nothing duplicated
    assert len(Dataset(home / "dataset").samples()) == count

    other = predict(start(sheet.name))  # a second session saves the same sheet
    other.button(key="save").click().run()
    assert not other.exception
    assert len(Dataset(home / "dataset").samples()) == count


def test_downloads_are_offered_after_predict(home):
    at = predict(start(sample_sheets()[0].name))
    labels = {b.label for b in at.get("download_button")}
    assert {
        "Reading (CSV)",
        "Reading (JSON)",
        "ROIs (ZIP of PNGs)",
        "Annotated image (PNG)",
    } <= labels


def test_dataset_view_delete_and_fine_tune(home):
    sheets = sorted(sample_sheets(), key=lambda p: -len(load_truth(p)["digits"]))[:2]
    for sheet in sheets:  # enough digits to fine-tune on
        at = predict(start(sheet.name))
        at.button(key="save").click().run()
    total = sum(len(load_truth(s)["digits"]) for s in sheets)
    assert len(Dataset(home / "dataset").samples()) == total
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
    assert f"{new_models[0].name} (yours)" in at.selectbox(key="model").options


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
