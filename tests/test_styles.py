"""Writing styles MNIST lacks: flagged and footed 1s, and the model taught them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import FIXTURES, ROOT

from digit_pipeline.model import predict_proba
from digit_pipeline.training.styles import writing_styles


@pytest.fixture(scope="module")
def test_digits():
    with np.load(FIXTURES / "mnist_small.npz") as data:
        return data["x_test"], data["y_test"]


def test_styled_ones_are_mnist_style_and_carry_a_flag(test_digits):
    x, y = test_digits
    styled = writing_styles(x, y, 20, 10, seed=1)
    assert styled.shape == (30, 28, 28) and styled.dtype == np.uint8
    plain = x[y == 1]

    # A flag reaches left of the stroke: the ink spreads wider than a bare 1's.
    def spread(d):
        return np.ptp(np.nonzero(d > 127)[1])

    assert np.median([spread(d) for d in styled]) > np.median([spread(d) for d in plain]) + 3
    with pytest.raises(ValueError, match="hold none"):
        writing_styles(x[y != 1], y[y != 1], 5, 5)


def test_the_shipped_model_reads_flagged_ones_as_1_and_sevens_as_7(model, test_digits):
    # Made from MNIST *test* 1s: the model was taught styled training 1s, never these.
    x, y = test_digits
    styled = writing_styles(x, y, 150, 50, seed=5)
    assert np.mean(predict_proba(model, styled).argmax(axis=1) == 1) >= 0.9
    sevens = x[y == 7]
    assert np.mean(predict_proba(model, sevens).argmax(axis=1) == 7) >= 0.95


def test_teach_styles_writes_a_new_model_with_its_card(tmp_path):
    out = tmp_path / "styled.keras"
    args = [sys.executable, "-m", "digit_pipeline", "teach-styles", "--model", "models/mlp.keras"]
    args += ["--out", str(out), "--data", str(FIXTURES / "mnist_small.npz")]
    done = subprocess.run(
        [*args, "--flagged", "40", "--footed", "10", "--epochs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "MNIST test" in done.stdout and out.is_file()
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["styles"]["flagged_ones"] == 40 and card["styles"]["epochs"] == 1
    assert "teach-styles --model models/mlp.keras" in card["command"]
    assert 0.0 <= card["mnist_test_accuracy"] <= 1.0
    again = subprocess.run(
        [*args, "--flagged", "40"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 1 and "exists" in again.stderr and "Traceback" not in again.stderr
