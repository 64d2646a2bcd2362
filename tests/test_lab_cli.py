"""The lab's command line: ``evaluate`` and the figures ``train`` prints and keeps."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import FIXTURES, ROOT
from test_cli import run_cli

from digit_pipeline.training.progress import TrainingLog
from digit_pipeline.training.settings import TrainSettings
from digit_pipeline.training.train import FINISHING, train

MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
SMALL = FIXTURES / "mnist_small.npz"


@pytest.mark.skipif(not MNIST.is_file(), reason="the full MNIST file is not on this machine")
def test_evaluate_json_on_the_shipped_model_matches_its_card_and_the_printout():
    model = ROOT / "models" / "mlp.keras"
    done = run_cli("evaluate", "--model", str(model), "--data", str(MNIST), "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert set(record) == {"model", "n", "accuracy", "confusion", "per_class", "data"}
    assert record["data"] == "MNIST test"
    confusion = np.array(record["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == record["n"] == 10_000
    assert np.trace(confusion) / record["n"] == pytest.approx(record["accuracy"], abs=1e-12)
    card = json.loads(model.with_suffix(".json").read_text())
    assert record["accuracy"] == pytest.approx(card["mnist_test_accuracy"], abs=1e-9)
    assert [c["digit"] for c in record["per_class"]] == list(range(10))
    assert {"precision", "recall", "f1", "support"} <= set(record["per_class"][0])

    plain = run_cli("evaluate", "--model", str(model), "--data", str(MNIST))
    assert plain.returncode == 0, plain.stderr
    printed = float(re.search(r"accuracy (0\.\d+)", plain.stdout).group(1))
    assert printed == pytest.approx(record["accuracy"], abs=5e-5)
    assert "rows = true digit" in plain.stdout and "precision" in plain.stdout


def test_evaluate_on_the_fixture_and_a_missing_model(tmp_path):
    done = run_cli("evaluate", "--model", str(ROOT / "models" / "mlp_plain.keras"),
                   "--data", str(SMALL), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n"] == 200
    missing = run_cli("evaluate", "--model", str(tmp_path / "none.keras"), "--data", str(SMALL))
    assert missing.returncode == 2 and "none.keras is missing" in missing.stderr
    assert "Traceback" not in missing.stderr


USPS = ROOT.parent / "shared" / "data" / "usps_train.npz"
REAL_DEV = ROOT.parent / "shared" / "data" / "real_dev"


def _own_count(model_path, x, y) -> int:
    """Digits the model reads right, counted here: its own predict and argmax."""
    from digit_pipeline.model import load_model, predict_proba

    return int(np.sum(predict_proba(load_model(model_path), x).argmax(axis=1) == y))


def test_evaluate_other_digits_through_the_readers_cut(tmp_path):
    """Digits given as x, y of another size are cut to 28x28 as a sheet's box is."""
    import cv2

    from digit_pipeline.stages import resize_rois

    with np.load(SMALL) as data:
        x, y = data["x_test"][:60], data["y_test"][:60]
    small = np.stack([cv2.resize(d, (16, 16), interpolation=cv2.INTER_AREA) for d in x])
    path = tmp_path / "sixteen.npz"
    np.savez(path, x=small, y=y)
    model = ROOT / "models" / "mlp.keras"
    done = run_cli("evaluate", "--model", str(model), "--data", str(path), "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["data"] == "sixteen" and record["n"] == 60
    right = _own_count(model, resize_rois(list(small)), y)
    assert np.trace(np.array(record["confusion"])) == right
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=small)
    failed = run_cli("evaluate", "--model", str(model), "--data", str(bad))
    assert (
        failed.returncode == 1 and "neither" in failed.stderr and "Traceback" not in failed.stderr
    )


@pytest.mark.skipif(not USPS.is_file(), reason="usps_train.npz is not on this machine")
def test_evaluate_on_usps_agrees_with_a_count_of_our_own():
    from digit_pipeline.stages import resize_rois

    model = ROOT / "models" / "mlp.keras"
    done = run_cli("evaluate", "--model", str(model), "--data", str(USPS), "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    with np.load(USPS) as data:
        x, y = data["x"], data["y"]
    assert record["n"] == len(y) == 7291 and record["data"] == "usps_train"
    right = _own_count(model, resize_rois(list(x)), y.astype(np.int64))
    assert record["accuracy"] == pytest.approx(right / len(y), abs=1e-12)
    assert record["accuracy"] > 0.95  # real ink by other writers, read mostly right


def test_train_prints_progress_and_keeps_the_history_in_the_card(tmp_path):
    out = tmp_path / "deep.keras"
    done = run_cli(
        "train", "--data", str(SMALL), "--epochs", "2", "--patience", "5", "--hidden", "32",
        "16", "--no-augment", "--batch-size", "32", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "epoch 1/2 [" in done.stdout and "#" in done.stdout
    assert re.search(r"epoch 2/2: loss \d\.\d+ accuracy .* val_accuracy \d\.\d+", done.stdout)
    # After the last epoch, while it measures and saves, the bar says so rather than freeze.
    last_epoch, finishing = done.stdout.index("epoch 2/2:"), done.stdout.index(FINISHING)
    assert last_epoch < finishing < done.stdout.index("MNIST test accuracy")
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["architecture"].count("Dense(") == 3 and card["hidden"] == [32, 16]
    history = card["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    for entry in history:
        assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(entry)
        assert entry["seconds"] > 0
    assert "--hidden 32 16" in card["command"]


def test_train_refuses_four_hidden_layers(tmp_path):
    done = run_cli("train", "--data", str(SMALL), "--hidden", "8", "8", "8", "8",
                   "--out", str(tmp_path / "x.keras"))  # fmt: skip
    assert done.returncode == 1 and "1-3 layer sizes" in done.stderr


def test_train_without_out_writes_a_new_model_in_the_users_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_WORKBENCH_MODELS", str(tmp_path / "mine"))
    shipped = {p: p.stat().st_mtime_ns for p in (ROOT / "models").glob("*.keras")}
    done = run_cli("train", "--data", str(SMALL), "--epochs", "1", "--hidden", "8",
                   "--no-augment", "--train-size", "200")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [made] = (tmp_path / "mine").glob("mlp-*.keras")
    assert made.with_suffix(".json").is_file()
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "models").glob("*.keras")} == shipped


@pytest.mark.parametrize(
    ("epochs", "stop_at", "cut_short"),
    [
        (2, "end of the last epoch", False),  # the issue: all epochs done, then Stop
        (1, "first batch", True),  # the only epoch cut after its first of 6 batches
        (3, "first batch", True),
    ],
    ids=["after-the-last-epoch", "in-the-last-epoch", "mid-run"],
)
def test_stopped_by_user_only_when_the_stop_cut_the_run_short(tmp_path, epochs, stop_at, cut_short):
    """The card's ``stopped_by_user`` says whether the stop ended training early; the log
    reports the measuring-and-saving phase after the epochs, before the files exist."""
    out = tmp_path / "m.keras"
    seen: list[tuple[str, bool, bool]] = []

    def on_update(log: TrainingLog, end_of_epoch: bool) -> None:
        if log.phase:
            seen.append((log.phase, out.exists(), out.with_suffix(".json").exists()))
        elif stop_at == "first batch" or (end_of_epoch and len(log.history) == log.epochs):
            log.request_stop()

    log = TrainingLog()
    settings = TrainSettings(epochs=epochs, hidden=(8,), augment=False, batch_size=32,
                             train_size=200, patience=epochs)  # fmt: skip
    card = train(out, settings, data=SMALL, log=log, on_update=on_update, verbose=0).card
    assert log.stop_requested
    assert card["stopped_by_user"] is cut_short and log.cut_short is cut_short
    assert card["epochs_run"] == (epochs if not cut_short else 1)
    assert len(log.history) == card["epochs_run"]
    assert seen == [(FINISHING, False, False)]  # once, before the model and card were written
    assert log.snapshot()["phase"] == FINISHING


def _train_parser():
    import argparse

    from digit_pipeline.cli import train as train_command

    parser = argparse.ArgumentParser()
    train_command.add_setting_options(parser)
    return parser


def test_the_train_options_are_the_settings_declared_once():
    from digit_pipeline.cli.train import settings_from_args
    from digit_pipeline.training.settings import TRAIN_SPECS

    parser = _train_parser()
    options = {action.dest: action for action in parser._actions if action.dest != "help"}
    assert list(options) == [spec.name for spec in TRAIN_SPECS]
    for spec in TRAIN_SPECS:
        assert options[spec.name].default == spec.default, spec.name
        assert spec.help in options[spec.name].help, spec.name
    assert settings_from_args(parser.parse_args([])) == TrainSettings()


@pytest.mark.parametrize(
    "settings",
    [
        TrainSettings(),
        TrainSettings(arch="cnn", hidden=(64,), filters=8, augment=False, dropout=0.25),
        TrainSettings(
            hidden=(256, 128),
            train_size=1000,
            teacher="models/cnn.keras",
            teacher_weight=0.7,
            learning_rate=3e-4,
            validation_size=200,
        ),
    ],
    ids=["defaults", "cnn", "mlp-distilled-slice"],
)
def test_the_cards_command_gives_back_the_same_settings(settings):
    from digit_pipeline.cli.train import settings_from_args
    from digit_pipeline.training.settings import command_line

    words = command_line(settings, "m.keras", data="mnist.npz").split()
    assert words[:4] == ["python", "-m", "digit_pipeline", "train"]
    assert words[-4:] == ["--out", "m.keras", "--data", "mnist.npz"]
    assert settings_from_args(_train_parser().parse_args(words[4:-4])) == settings


def test_the_real_dev_boxes_hold_one_box_per_truth_digit():
    """The boxes file is small, and its labels are real_dev's truth texts, digit by digit."""
    from digit_pipeline.training.yardsticks import REAL_DEV_BOXES

    entries = json.loads(REAL_DEV_BOXES.read_text())
    assert REAL_DEV_BOXES.stat().st_size < 50_000
    assert len(entries) == 21 and sum(len(e["digits"]) for e in entries) == 217
    for entry in entries:
        for digit in entry["digits"]:
            x, y, w, h = digit["box"]
            assert min(x, y) >= 0 and w > 0 and h > 0 and 0 <= digit["label"] <= 9
    if (REAL_DEV / "truth.json").is_file():
        truth = {e["file"]: e["text"] for e in json.loads((REAL_DEV / "truth.json").read_text())}
        for entry in entries:
            digits = "".join(c for c in truth[entry["file"]] if c.isdigit())
            assert "".join(str(d["label"]) for d in entry["digits"]) == digits, entry["file"]


@pytest.mark.skipif(not (REAL_DEV / "truth.json").is_file(), reason="real_dev is not here")
def test_evaluate_on_real_photos_at_their_true_boxes_agrees_with_our_own_cut():
    from digit_pipeline.io.images import read_image
    from digit_pipeline.reading.pipeline import cut_digits
    from digit_pipeline.reading.prepared import prepare
    from digit_pipeline.training.yardsticks import REAL_DEV_BOXES

    model = ROOT / "models" / "mlp.keras"
    done = run_cli("evaluate", "--model", str(model), "--real", str(REAL_DEV), "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["n"] == 217 and record["data"] == "real_dev (true boxes)"
    xs, ys = [], []
    for entry in json.loads(REAL_DEV_BOXES.read_text()):  # each photo cut here, box by box
        boxes = [tuple(d["box"]) for d in entry["digits"]]
        xs.append(cut_digits(prepare(read_image(REAL_DEV / entry["file"])), boxes)[1])
        ys += [d["label"] for d in entry["digits"]]
    right = _own_count(model, np.concatenate(xs), np.array(ys))
    assert np.trace(np.array(record["confusion"])) == right
    assert record["accuracy"] == pytest.approx(right / 217, abs=1e-12) and right >= 200
    usage = run_cli("evaluate", "--boxes", "x.json")
    assert usage.returncode == 2 and "--boxes goes with --real" in usage.stderr
