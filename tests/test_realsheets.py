"""Reading accuracy on a folder of real sheets: the scorer, the folder reader, the lab panel."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import FIXTURES, ROOT, load_truth
from test_app_lab import open_lab

from digit_pipeline.benchmarking.realsheets import digits_read, read_folder

SHEET = ROOT / "sample_images" / "pen_ruled.jpg"


@pytest.mark.parametrize(
    ("read", "truth", "multiset", "hits"),
    [
        ("462\n119\n753", "462\n119\n753", False, 9),
        ("462\n118\n753", "462\n119\n753", False, 8),
        ("46\n119\n7533", "462\n119\n753", False, 8),
        ("462119753", "462\n119\n753", False, 9),  # lines lost: aligned as one line
        ("", "123", False, 0),
        ("9356 7", "9\n356\n7", True, 5),
    ],
    ids=["exact", "one-wrong", "miss-and-extra", "one-line", "nothing", "multiset"],
)
def test_digits_read(read, truth, multiset, hits):
    assert digits_read(read, truth, multiset=multiset) == hits


def real_folder(tmp_path):
    folder = tmp_path / "real"
    folder.mkdir()
    shutil.copy(SHEET, folder / SHEET.name)
    text = load_truth(SHEET)["text"]
    entries = [
        {"file": SHEET.name, "text": text, "multiset": None},
        {"file": "missing.jpg", "text": "12", "multiset": None},
    ]
    (folder / "truth.json").write_text(json.dumps(entries))
    return folder, text


def test_read_folder_scores_each_sheet_and_keeps_errors(tmp_path):
    folder, text = real_folder(tmp_path)
    results = read_folder(folder, lambda image: text[:-1])
    assert [(r.hits, r.total) for r in results] == [(len(text) - 2, len(text) - 1), (0, 2)]
    assert results[1].error and results[0].error is None


def test_the_lab_reads_the_real_sheets(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_WORKBENCH_DATA", str(tmp_path / "dataset"))
    monkeypatch.setenv("DIGIT_WORKBENCH_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("DIGIT_WORKBENCH_MNIST", str(FIXTURES / "mnist_small.npz"))
    folder, text = real_folder(tmp_path)
    monkeypatch.setenv("DIGIT_WORKBENCH_REAL", str(folder))
    at = open_lab()
    at.button(key="lab_evaluate").click().run()
    at.button(key="lab_real").click().run()
    assert not at.exception, at.exception
    metric = next(m for m in at.metric if m.label.startswith("Digits read right on 2"))
    total = len(text.replace("\n", "")) + 2
    assert metric.value == f"{(total - 2) / total:.1%}"  # the sample reads right; missing.jpg 0
