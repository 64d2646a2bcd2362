"""The model contract, the shipped model's card, training and loading."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import FIXTURES, ROOT

from digit_pipeline.model import (
    DEFAULT_MODEL,
    ModelLoadError,
    load_card,
    load_mnist,
    load_model,
    predict_proba,
)

SMALL = FIXTURES / "mnist_small.npz"


def test_shipped_model_card_meets_the_bar():
    card = load_card(DEFAULT_MODEL)
    assert card["mnist_test_accuracy"] >= 0.98
    assert card["data"]["test_images"] == 10000
    assert card["data"]["train_images"] + card["data"]["validation_images"] == 60000
    assert "Flatten" in card["architecture"] and "Dense" in card["architecture"]
    for key in ("epochs_run", "seed", "date"):
        assert key in card


def test_shipped_model_reads_mnist_fixture(model):
    (_, _), (x_test, y_test) = load_mnist(SMALL)
    proba = predict_proba(model, x_test)
    assert proba.shape == (len(x_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    assert np.mean(proba.argmax(axis=1) == y_test) >= 0.95


def test_predict_on_no_digits(model):
    assert predict_proba(model, np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)


def test_train_command_writes_model_and_card(tmp_path):
    out = tmp_path / "tiny.keras"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "digit_pipeline",
            "train",
            "--data",
            str(SMALL),
            "--epochs",
            "2",
            "--seed",
            "3",
            "--hidden",
            "32",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "MNIST test accuracy" in done.stdout
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["seed"] == 3 and card["epochs_run"] <= 2
    assert card["data"]["train_images"] + card["data"]["validation_images"] == 300
    model = load_model(out)
    assert model.output_shape == (None, 10)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "is missing"),
        (b"not a zip at all", "could not be read"),
        (b"", "could not be read"),
    ],
    ids=["missing", "garbage", "empty"],
)
def test_bad_model_files_give_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.keras"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value) and "train" in str(info.value)


def test_wrong_shaped_model_is_refused(tmp_path):
    import keras

    wrong = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3)])
    path = tmp_path / "wrong.keras"
    wrong.save(path)
    with pytest.raises(ModelLoadError, match="needs"):
        load_model(path)


def test_only_keras_files_load(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match=r"\.keras"):
        load_model(path)


def test_shipped_model_is_a_plain_keras_zip():
    with zipfile.ZipFile(DEFAULT_MODEL) as archive:
        names = set(archive.namelist())
    assert {"config.json", "metadata.json"} <= names
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)


def test_local_npz_layout_is_checked(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="lacks"):
        load_mnist(path)
