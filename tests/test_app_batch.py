"""The Batch page through AppTest: three files, one bad, read with the sidebar's settings."""

from __future__ import annotations

import io
import zipfile

from conftest import sample_sheets
from streamlit.testing.v1 import AppTest


def batch_page():
    from workbench.pages import batch as batch_page

    batch_page.render()


def start(monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("DIGIT_WORKBENCH_DATA", str(tmp_path / "dataset"))
    monkeypatch.setenv("DIGIT_WORKBENCH_MODELS", str(tmp_path / "models"))
    at = AppTest.from_function(batch_page, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_batch_page_is_in_the_apps_navigation():
    from workbench.pages import PAGES

    assert ("workbench.pages.batch", "Read a batch", "🗂️", "batch") in PAGES


def test_three_files_one_bad_read_to_a_table_with_downloads(monkeypatch, tmp_path):
    at = start(monkeypatch, tmp_path)
    assert at.info  # asks for files
    first, second = sample_sheets()[:2]
    at.file_uploader(key="batch_upload").set_value(
        [
            (first.name, first.read_bytes(), "image/jpeg"),
            (second.name, second.read_bytes(), "image/jpeg"),
            ("broken.png", b"not an image at all", "image/png"),
        ]
    ).run()
    at.button(key="batch_read").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["file"]) == [first.name, second.name, "broken.png"]
    assert all(table["digits"][:2] > 0) and table["digits"][2] == 0
    assert "broken.png" in table["error"][2] and table["error"][0] == ""
    assert any("broken.png" in e.value for e in at.error)
    assert "2 of 3 sheets read; 1 could not be read (below)." in " ".join(
        c.value for c in at.caption
    )
    assert at.get("download_button")  # JSONL and CSV


def test_a_zip_with_a_hostile_member_is_a_row_not_a_traceback(monkeypatch, tmp_path):
    at = start(monkeypatch, tmp_path)
    sheet = sample_sheets()[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(f"scans/{sheet.name}", sheet.read_bytes())
        z.writestr("../escape.png", sheet.read_bytes())
    at.file_uploader(key="batch_upload").set_value(
        [("sheets.zip", buffer.getvalue(), "application/zip")]
    ).run()
    at.button(key="batch_read").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["file"]) == [f"sheets.zip!scans/{sheet.name}", "sheets.zip!../escape.png"]
    assert "refused" in table["error"][1]
