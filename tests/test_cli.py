"""The command line, run as a user would: in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, load_truth, sample_sheets

DIGIT_KEYS = {"box", "label", "confidence", "top2", "line"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digit_pipeline", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_read_json_matches_schema_and_truth(tmp_path):
    sheet = sample_sheets()[0]
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image")
    done = run_cli("read", str(sheet), str(junk), "--json", "--blur-size", "5")
    assert done.returncode == 1  # one image failed
    assert "junk.png" in done.stderr and "Traceback" not in done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 2
    good, bad = records
    assert set(good) == {"image", "width", "height", "params", "text", "digits", "timings_ms"}
    truth = load_truth(sheet)
    assert (good["width"], good["height"]) == (truth["width"], truth["height"])
    assert good["params"]["blur_size"] == 5
    assert set(good["timings_ms"]) == {"load", "segment", "predict"}
    assert len(good["digits"]) == len(truth["digits"])
    for digit in good["digits"]:
        assert set(digit) == DIGIT_KEYS
        x, y, w, h = digit["box"]
        assert 0 <= x < x + w <= good["width"] and 0 <= y < y + h <= good["height"]
        assert 0 <= digit["label"] <= 9 and 0.0 <= digit["confidence"] <= 1.0
        assert digit["top2"][0] == [digit["label"], digit["confidence"]]
    assert good["text"].replace("\n", "") == "".join(str(d["label"]) for d in good["digits"])
    assert set(bad) == {"image", "error"} and bad["image"].endswith("junk.png")


def test_read_plain_prints_text_and_succeeds():
    sheets = sample_sheets()[:2]
    done = run_cli("read", *map(str, sheets))
    assert done.returncode == 0, done.stderr
    for sheet in sheets:
        assert f"==> {sheet} <==" in done.stdout


def test_bad_parameter_is_a_usage_error():
    done = run_cli("read", str(sample_sheets()[0]), "--blur-size", "4")
    assert done.returncode == 2
    assert "blur_size must be odd" in done.stderr and "Traceback" not in done.stderr


def test_missing_model_is_one_clear_line(tmp_path):
    done = run_cli("read", str(sample_sheets()[0]), "--model", str(tmp_path / "none.keras"))
    assert done.returncode == 2
    assert "none.keras is missing" in done.stderr and "train" in done.stderr
    assert "Traceback" not in done.stderr
