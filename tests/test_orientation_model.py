"""The judge's orientation model: a digit upright or turned — its examples, training, use."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FIXTURES, ROOT

from digit_pipeline.reading.judge.verdicts import ORIENTATION, load_orientation
from digit_pipeline.reading.orientation import orientation_evidence, shown_turn, turn_image
from digit_pipeline.stages import resize_rois
from digit_pipeline.training.orientation import CLASSES, make_set


def test_make_set_is_balanced_deterministic_and_turned_before_it_is_cut(mnist):
    digits, _ = mnist
    x, y = make_set(digits, 80, seed=3)
    again, labels = make_set(digits, 80, seed=3)
    assert x.shape == (80, 28, 28) and x.dtype == np.uint8 and len(CLASSES) == 4
    assert np.array_equal(x, again) and np.array_equal(y, labels)
    assert np.bincount(y).tolist() == [20, 20, 20, 20]
    rows = x.any(axis=2).sum(axis=1)
    cols = x.any(axis=1).sum(axis=1)
    assert (np.maximum(rows, cols) <= 22).all()  # cut as resize_rois cuts
    # a turned example's ink lies as the turn says: a quarter turn makes a tall 1 wide
    one = np.zeros((28, 28), np.uint8)
    one[4:24, 13:16] = 255
    xs, ys = make_set(one[None], 40, seed=0)
    tall = xs.any(axis=2).sum(axis=1) > xs.any(axis=1).sum(axis=1)
    assert (tall == (ys % 2 == 0)).all()


@pytest.fixture(scope="module")
def orientation():
    found = load_orientation()
    assert found is not None, "models/judge/orientation.keras is shipped with the project"
    return found


def test_the_shipped_model_tells_turns_apart_on_digits_it_never_saw(orientation, mnist):
    # Made from MNIST test digits (the fixture); trained on training digits only.
    digits, _ = mnist
    x, y = make_set(digits, 400, seed=11)
    said = np.asarray(orientation(x.astype(np.float32) / 255.0)).argmax(axis=1)
    assert (said == y).mean() >= 0.8  # chance: a quarter; 0, 1 and 8 turned over look alike
    for turns in range(4):
        assert (said[y == turns] == turns).mean() >= 0.7, turns


def test_a_dozen_digits_say_their_turn_clearly(orientation, mnist):
    digits, labels = mnist
    picks = [int(np.flatnonzero(labels == d)[0]) for d in range(10)] + [11, 12]
    for turns in range(4):
        shown = resize_rois([turn_image(digits[i], turns) for i in picks])
        evidence = orientation_evidence(orientation, shown)
        assert shown_turn(evidence) == turns, (turns, evidence)


def test_train_orientation_writes_a_model_it_can_load(tmp_path):
    from digit_pipeline.cli import main

    out = tmp_path / "o.keras"
    code = main(
        [
            "train-orientation",
            "--data",
            str(FIXTURES / "mnist_small.npz"),
            "--out",
            str(out),
            "--count",
            "120",
            "--epochs",
            "1",
        ]
    )
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["classes"] == list(CLASSES) and card["train_examples"] == 120
    assert card["command"].startswith("python -m digit_pipeline train-orientation")
    import keras

    model = keras.saving.load_model(out, compile=False, safe_mode=True)
    assert orientation_evidence(model, np.zeros((2, 28, 28), np.uint8)).shape == (4,)


def test_train_orientation_refuses_nonsense_counts(tmp_path, capsys):
    from digit_pipeline.cli import main

    assert main(["train-orientation", "--out", str(tmp_path / "o.keras"), "--epochs", "0"]) == 1
    assert "--epochs" in capsys.readouterr().err
    assert not (tmp_path / "o.keras").exists()


def test_the_shipped_card_names_the_command_that_rebuilds_it():
    card = json.loads((ROOT / "models" / "judge" / "orientation.json").read_text())
    assert card["command"].startswith("python -m digit_pipeline train-orientation")


def test_a_corrupt_orientation_model_says_which_file_and_how_to_rebuild_it(tmp_path, monkeypatch):
    import digit_pipeline.model
    from digit_pipeline.model import ModelLoadError

    broken = tmp_path / ORIENTATION
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PK\x03\x04 not a zip at all")
    monkeypatch.setattr(digit_pipeline.model, "MODELS_DIR", tmp_path)
    load_orientation.cache_clear()
    try:
        with pytest.raises(ModelLoadError, match="could not be read") as caught:
            load_orientation()
        assert str(broken) in str(caught.value) and "train-orientation" in str(caught.value)
    finally:
        load_orientation.cache_clear()
