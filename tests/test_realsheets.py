"""The lab reads a folder of real sheets as ``bench --real`` does (scoring: test_bench_real)."""

from __future__ import annotations

import json
import shutil

from conftest import FIXTURES, ROOT, load_truth
from test_app_lab import open_lab

SHEET = ROOT / "sample_images" / "pen_ruled.jpg"


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
