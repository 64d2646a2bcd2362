"""Tests for the real-photo benchmark (``bench --real``): the text scoring, and real_dev read."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from digit_pipeline.benchmarking.real import align_texts, score_multiset, score_text
from digit_pipeline.benchmarking.run import add_arguments, run

REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_dev"
needs_real_dev = pytest.mark.skipif(
    not (REAL_DEV / "truth.json").is_file(),
    reason=f"{REAL_DEV} is absent (the real photos live in ../shared, beside the clone)",
)


@pytest.mark.parametrize(
    ("truth", "read", "expected"),
    [
        ("462\n119\n753", "462\n119\n753", (9, 9, 0, 0, 0)),
        ("462\n119\n753", "46\n113\n753", (9, 7, 1, 1, 0)),
        ("12345", "7123457", (5, 5, 0, 0, 2)),  # a border read as 7 at both ends
        ("12345", "7\n12345\n7", (5, 5, 0, 0, 2)),  # ... or as lines of their own
        ("12345", "1245", (5, 4, 0, 1, 0)),
        ("12345", "12845", (5, 4, 1, 0, 0)),
        ("12\n34", "1234", (4, 4, 0, 0, 0)),  # lines merged: every digit still in place
        ("1234", "12\n34", (4, 4, 0, 0, 0)),  # a tilted line read as two
        ("12\n34", "34\n12", (4, 0, 4, 0, 0)),  # lines out of order: nothing read right
        ("12", "", (2, 0, 0, 2, 0)),
        ("", "55", (0, 0, 0, 0, 2)),
    ],
    ids=[
        "exact",
        "merged-and-misread",
        "extra-ends",
        "extra-lines",
        "missed",
        "wrong",
        "lines-merged",
        "line-split",
        "lines-swapped",
        "nothing-read",
        "no-truth",
    ],
)
def test_align_texts_counts_right_wrong_missed_extra(truth, read, expected):
    score = align_texts(truth, read)
    assert (score.truth, score.correct, score.wrong, score.missed, score.extra) == expected
    assert score.exact == (expected[1] == expected[0] and expected[4] == 0)


def test_multiset_ignores_order_and_lines():
    assert score_multiset("123", "3\n21").exact
    score = score_text({"text": "1\n23", "multiset": [1, 2, 3]}, "32 7")
    assert (score.correct, score.wrong, score.missed, score.extra) == (2, 1, 0, 0)


def test_bench_real_reads_a_folder_and_draws_failures(tmp_path, model):
    import cv2
    import numpy as np

    from digit_pipeline.model import DEFAULT_MODEL

    sheet = np.full((200, 300), 235, np.uint8)
    cv2.line(sheet, (80, 50), (80, 150), 20, 10)  # a 1
    cv2.imwrite(str(tmp_path / "one.png"), sheet)
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((100, 100), 235, np.uint8))
    truth = [{"file": "one.png", "text": "1"}, {"file": "blank.png", "text": "7"}]
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out = tmp_path / "out"
    args = parser.parse_args(
        ["--real", str(tmp_path), "--model", str(DEFAULT_MODEL), "--out", str(out), "--no-auto"]
    )
    assert run(args) == 0
    records = json.loads((out / "results.json").read_text())
    assert [(r["file"], r["mode"], r["text"]) for r in records] == [
        ("one.png", "default", "1"),
        ("blank.png", "default", ""),
    ]
    assert [p.name for p in (out / "failures" / "mlp-default").iterdir()] == ["blank.png"]
    assert "| mlp | default | 1/2 = 50.0% | 0 | 1/2 |" in (out / "report.md").read_text()
