"""The judge's verifier: one digit, several, or no digit — its examples, its training, its use."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from conftest import FIXTURES, ROOT

from digit_pipeline.reading.judge import NONE, ONE, SEVERAL, load_verifier, plausible, verdicts
from digit_pipeline.training.verifier import make_set, no_digit, several_digits


def test_make_set_is_balanced_deterministic_and_cut_like_the_pipeline(mnist):
    digits, _ = mnist
    x, y = make_set(digits, 90, seed=5)
    again, labels = make_set(digits, 90, seed=5)
    assert x.shape == (90, 28, 28) and x.dtype == np.uint8
    assert np.array_equal(x, again) and np.array_equal(y, labels)
    assert np.bincount(y).tolist() == [30, 30, 30]
    assert all(d.any() for d in x)  # every example has ink
    # Cut as resize_rois cuts: the ink fits a 20x20 box, centred by mass.
    rows = x.any(axis=2).sum(axis=1)
    cols = x.any(axis=1).sum(axis=1)
    assert (np.maximum(rows, cols) <= 22).all()
    assert not np.array_equal(make_set(digits, 90, seed=6)[0], x)


def test_several_digits_are_wider_than_one_and_no_digit_is_never_empty(mnist):
    digits, _ = mnist
    rng = np.random.default_rng(0)
    pair = several_digits([digits[0], digits[1]], rng)
    assert pair.shape[1] > 0.5 * pair.shape[0] and pair.any()
    assert all(no_digit(np.random.default_rng(s)).any() for s in range(60))


@pytest.fixture(scope="module")
def verifier():
    found = load_verifier()
    assert found is not None, "models/judge/verifier.keras is shipped with the project"
    return found


def test_the_shipped_verifier_tells_the_three_apart_on_examples_it_never_saw(verifier, mnist):
    # Made from MNIST test digits (the fixture): the verifier was trained on training
    # digits only. Chance would be a third.
    digits, _ = mnist
    x, y = make_set(digits, 300, seed=123)
    said = verdicts(verifier, x).argmax(axis=1)
    assert (said == y).mean() >= 0.95
    for label in (ONE, SEVERAL, NONE):
        assert (said[y == label] == label).mean() >= 0.9, label


def test_the_shipped_verifier_calls_plain_mnist_digits_one_digit(verifier, mnist):
    from digit_pipeline.stages import resize_rois

    digits, _ = mnist
    rois = [np.where(d > 100, 255, 0).astype(np.uint8) for d in digits]
    said = verdicts(verifier, resize_rois(rois))
    assert (said[:, NONE] > 0.5).mean() <= 0.01  # the judge drops these: almost never
    assert (said.argmax(axis=1) == ONE).mean() >= 0.95


def test_without_a_verifier_every_box_is_one_digit():
    v = verdicts(None, np.zeros((3, 28, 28), np.uint8))
    assert v.tolist() == [[1.0, 0.0, 0.0]] * 3


def test_a_box_the_verifier_calls_no_digit_is_dropped():
    boxes = [(0, 0, 20, 40), (30, 0, 22, 42), (60, 0, 21, 38)]
    kept = plausible(boxes, np.ones(3), none=np.array([0.0, 0.9, 0.4]))
    assert kept.tolist() == [True, False, True]


def test_a_rule_stub_is_dropped_by_the_verifier_and_by_nothing_else(model, verifier):
    # Three digits and, beside them, a short slanted stretch of a rule: too short and
    # steep for the flat-stroke rule, digit-sized; only the verifier tells it apart.
    from digit_pipeline.model import predict_proba
    from digit_pipeline.reading import read_sheet
    from digit_pipeline.reading.judge import margins

    with np.load(FIXTURES / "mnist_small.npz") as data:
        x, y = data["x_test"], data["y_test"]
    page = np.full((200, 420), 235, np.uint8)
    picks = [int(np.flatnonzero(y == d)[0]) for d in (3, 4, 8)]
    for k, i in enumerate(picks):
        ink = cv2.resize(x[i], (84, 84), interpolation=cv2.INTER_CUBIC)
        region = page[50:134, 30 + 100 * k : 114 + 100 * k]
        np.minimum(region, 235 - (ink.astype(np.int32) * 200 // 255).astype(np.uint8), out=region)
    cv2.line(page, (335, 112), (385, 90), 40, 5)
    result = read_sheet(page, auto=True).result  # cut, not read
    stub = [b[0] > 300 for b in result.boxes]
    assert len(result.boxes) == 4 and sum(stub) == 1
    sure = margins(predict_proba(model, result.digits))
    shape, lines = result.prepared.shape, result.lines
    assert plausible(result.boxes, sure, shape, lines).all()  # the other rules keep it
    none = verdicts(verifier, result.digits)[:, NONE]
    assert (~plausible(result.boxes, sure, shape, lines, none)).tolist() == stub
    reading = read_sheet(page, model=model, auto=True)
    assert len(reading.sheet.digits) == 3 and all(d.box[0] < 300 for d in reading.sheet.digits)


def test_train_verifier_writes_a_model_the_judge_can_load(tmp_path):
    from digit_pipeline.cli import main

    out = tmp_path / "v.keras"
    code = main(
        [
            "train-verifier",
            "--data",
            str(FIXTURES / "mnist_small.npz"),
            "--out",
            str(out),
            "--count",
            "150",
            "--epochs",
            "1",
        ]
    )
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["classes"] == ["one digit", "several digits", "no digit"]
    assert card["train_examples"] == 150
    import keras

    model = keras.saving.load_model(out, compile=False, safe_mode=True)
    assert verdicts(model, np.zeros((2, 28, 28), np.uint8)).shape == (2, 3)


def test_train_verifier_refuses_nonsense_counts(tmp_path, capsys):
    from digit_pipeline.cli import main

    assert main(["train-verifier", "--out", str(tmp_path / "v.keras"), "--count", "3"]) == 1
    assert "--count" in capsys.readouterr().err
    assert not (tmp_path / "v.keras").exists()


def test_the_shipped_card_names_the_command_that_rebuilds_it():
    card = json.loads((ROOT / "models" / "judge" / "verifier.json").read_text())
    assert card["command"].startswith("python -m digit_pipeline train-verifier")


def test_a_corrupt_verifier_says_which_file_and_how_to_rebuild_it(tmp_path, monkeypatch):
    import digit_pipeline.model
    from digit_pipeline.model import ModelLoadError
    from digit_pipeline.reading.judge import VERIFIER, load_verifier

    broken = tmp_path / VERIFIER
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PK\x03\x04 not a zip at all")
    monkeypatch.setattr(digit_pipeline.model, "MODELS_DIR", tmp_path)
    load_verifier.cache_clear()
    try:
        with pytest.raises(ModelLoadError, match="could not be read") as caught:
            load_verifier()
        assert str(broken) in str(caught.value) and "train-verifier" in str(caught.value)
    finally:
        load_verifier.cache_clear()  # the shipped one again for the other tests
