"""The model contract, the shipped model's card, training and loading."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import tensorflow as tf
from conftest import FIXTURES, ROOT

from digit_pipeline.model import (
    DEFAULT_MODEL,
    MODELS_DIR,
    ModelLoadError,
    load_card,
    load_model,
    predict_proba,
)
from digit_pipeline.training.augment import (
    AugmentConfig,
    affine_source,
    augment_batch,
    augmented_batches,
    thicken,
    thin,
    warp,
)
from digit_pipeline.training.data import load_mnist

SMALL = FIXTURES / "mnist_small.npz"


def test_shipped_model_card_meets_the_bar():
    card = load_card(DEFAULT_MODEL)
    assert card["mnist_test_accuracy"] >= 0.985
    assert card["arch"] == "mlp"
    assert card["data"]["test_images"] == 10000
    assert card["data"]["train_images"] + card["data"]["validation_images"] == 60000
    assert card["data"]["augmentation"]["rotation"] > 0
    assert "Flatten" in card["architecture"] and "Dense" in card["architecture"]
    assert "Conv" not in card["architecture"]
    for key in ("epochs_run", "seed", "date", "best_val_accuracy", "train_seconds"):
        assert key in card


def test_shipped_default_is_a_plain_flatten_dense_model(model):
    kinds = {type(layer).__name__ for layer in model.layers}
    assert kinds == {"Flatten", "Dense", "Dropout"}  # no augmentation layers shipped


def test_plain_model_stays_for_comparison():
    card = load_card(MODELS_DIR / "mlp_plain.keras")
    assert card["name"] == "mlp_plain" and card["data"]["augmentation"] is None
    assert card["mnist_test_accuracy"] >= 0.98
    assert load_model(MODELS_DIR / "mlp_plain.keras").output_shape == (None, 10)


def test_cnn_card_and_contract():
    path = MODELS_DIR / "cnn.keras"
    card = load_card(path)
    assert card["arch"] == "cnn" and card["mnist_test_accuracy"] >= 0.993
    assert card["data"]["train_images"] + card["data"]["validation_images"] == 60000
    cnn = load_model(path)
    assert cnn.input_shape == (None, 28, 28)
    assert any("Conv" in type(layer).__name__ for layer in cnn.layers)
    (_, _), (x_test, y_test) = load_mnist(SMALL)
    assert np.mean(predict_proba(cnn, x_test).argmax(axis=1) == y_test) >= 0.97


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
    assert card["arch"] == "mlp" and card["data"]["augmentation"] is not None  # the default
    assert card["data"]["train_images"] + card["data"]["validation_images"] == 300
    model = load_model(out)
    assert model.output_shape == (None, 10)


def test_distillation_learns_from_a_teacher(tmp_path):
    from digit_pipeline.training.settings import TrainSettings
    from digit_pipeline.training.train import train

    small = TrainSettings(epochs=1, hidden=(16,))
    teacher = str(train(tmp_path / "teacher.keras", small, data=SMALL, verbose=0).path)
    taught = small.replace(epochs=2, teacher=teacher, teacher_weight=0.7)
    result = train(tmp_path / "student.keras", taught, data=SMALL, verbose=0)
    card = result.card
    assert card["data"]["teacher"] == {"model": teacher, "weight": 0.7}
    assert f"--teacher {teacher} --teacher-weight 0.7" in card["command"]
    assert 0.0 <= card["best_val_accuracy"] <= 1.0 and card["epochs_run"] <= 2
    assert load_model(result.path).output_shape == (None, 10)
    with pytest.raises(ValueError, match="teacher_weight"):
        train(tmp_path / "x.keras", small.replace(teacher=teacher, teacher_weight=2), data=SMALL)


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


def test_rebuild_hint_comes_from_the_card(tmp_path):
    path = tmp_path / "cnn.keras"
    path.write_bytes(b"garbage")
    path.with_suffix(".json").write_text(json.dumps({"command": "train --arch cnn --xyz"}))
    with pytest.raises(ModelLoadError, match="train --arch cnn --xyz"):
        load_model(path)


def test_train_cnn_with_augmentation(tmp_path):
    out = tmp_path / "tiny_cnn.keras"
    args = ["--arch", "cnn", "--augment", "--epochs", "1", "--filters", "4", "--hidden", "8"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "digit_pipeline",
            "train",
            "--data",
            str(SMALL),
            *args,
            "--out",
            out,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["arch"] == "cnn" and card["epochs_run"] == 1
    assert card["data"]["augmentation"] == AugmentConfig().to_dict()
    assert "--arch cnn" in card["command"] and "--filters 4" in card["command"]
    tiny = load_model(out)
    assert tiny.input_shape == (None, 28, 28)
    assert any("Conv" in type(layer).__name__ for layer in tiny.layers)
    assert predict_proba(tiny, np.zeros((2, 28, 28), np.uint8)).shape == (2, 10)


# --- augmentation -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    (x_train, y_train), _ = load_mnist(SMALL)
    return x_train[:64].astype(np.float32) / 255.0, y_train[:64]


def centre_of_mass(images):
    images = np.asarray(images)
    axis = np.arange(images.shape[1])
    mass = images.sum(axis=(1, 2))
    rows = (images.sum(axis=2) * axis).sum(axis=1) / mass
    cols = (images.sum(axis=1) * axis).sum(axis=1) / mass
    return np.stack([rows, cols], axis=1)


def test_augment_keeps_shape_dtype_and_range(digits):
    images, _ = digits
    out = augment_batch(images, seed=[0, 1])
    assert out.shape == images.shape and out.dtype == tf.float32
    assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 1.0
    assert not np.allclose(out, images)


def test_augment_is_deterministic_for_a_seed(digits):
    images, _ = digits
    first = augment_batch(images, seed=[7, 3]).numpy()
    np.testing.assert_array_equal(first, augment_batch(images, seed=[7, 3]).numpy())
    assert not np.allclose(first, augment_batch(images, seed=[7, 4]).numpy())


def test_thickening_adds_ink_and_thinning_removes_it(digits):
    images, _ = digits
    ink = images.sum(axis=(1, 2))
    assert np.all(np.asarray(thicken(images)).sum(axis=(1, 2)) > ink)
    assert np.all(np.asarray(thin(images)).sum(axis=(1, 2)) < ink)
    assert np.all(
        thicken(images, 3).numpy().sum(axis=(1, 2)) > thicken(images).numpy().sum(axis=(1, 2))
    )


def test_a_shift_moves_the_centre_of_mass_by_the_shift(digits):
    images, _ = digits
    inside = images[:, 3:-3, 3:-3].sum(axis=(1, 2)) == images.sum(axis=(1, 2))
    images = images[inside]  # no ink within 3 px of the border: nothing shifts out
    n = len(images)
    assert n >= 20
    shift = np.tile(np.float32([[2.0, -3.0]]), (n, 1))
    source = affine_source(tf.zeros(n), tf.ones(n), tf.constant(shift))
    moved = warp(images, source)
    np.testing.assert_allclose(centre_of_mass(moved) - centre_of_mass(images), shift, atol=0.25)


def test_a_shear_slants_a_digit_like_italics():
    bar = np.zeros((1, 28, 28), np.float32)
    bar[0, 4:24, 13:15] = 1.0  # an upright "1", its centre at row 13.5
    source = affine_source(tf.zeros(1), tf.ones(1), tf.zeros((1, 2)), shear=tf.constant([0.3]))
    leaned = warp(bar, source).numpy()[0]
    cols = np.arange(28)

    def column(rows):
        return float((rows.sum(axis=0) * cols).sum() / rows.sum())

    # 16 rows apart, 0.3 px per row: the top leans ~4.8 px right of the bottom.
    assert 4.0 <= column(leaned[4:8]) - column(leaned[20:24]) <= 5.6
    assert abs(centre_of_mass(leaned[None])[0, 1] - centre_of_mass(bar)[0, 1]) < 0.3


def test_random_slants_stay_within_the_limit(digits):
    images, _ = digits
    config = AugmentConfig(shift=0, rotation=0, zoom=0, elastic_sigma=0, stroke_prob=0, shear=0.3)
    out = augment_batch(images, seed=[3, 9], config=config).numpy()
    assert not np.allclose(out, images)
    # A slant moves no ink up or down: every row keeps its ink (up to resampling).
    np.testing.assert_allclose(out.sum(axis=2), images.sum(axis=2), atol=0.35)


def test_random_shifts_stay_within_the_limit(digits):
    images, _ = digits
    config = AugmentConfig(rotation=0, shear=0, zoom=0, elastic_sigma=0, stroke_prob=0, shift=2.0)
    moved = augment_batch(images, seed=[1, 2], config=config)
    delta = np.abs(centre_of_mass(moved) - centre_of_mass(images))
    assert delta.max() <= 2.0 + 0.25 and delta.max() > 0.5


def test_batches_keep_each_image_with_its_label(digits):
    images, labels = digits
    x = np.round(images * 255).astype(np.uint8)
    index = np.arange(len(x))  # "labels" that name the source image
    still = AugmentConfig(shift=0, rotation=0, shear=0, zoom=0, elastic_sigma=0, stroke_prob=0)
    batches = augmented_batches(x, index, batch_size=16, seed=5, config=still)
    got, names = next(iter(batches))
    np.testing.assert_array_equal(np.round(got.numpy() * 255), x[names.numpy()])
    batches = augmented_batches(x, index, batch_size=16, seed=5, config=AugmentConfig())
    got, names = next(iter(batches))  # batch 0 is augmented with the seed (5, 0)
    expected = augment_batch(x[names.numpy()].astype(np.float32) / 255.0, seed=[5, 0])
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-5)
    batches = augmented_batches(x, labels, batch_size=16, seed=5, config=AugmentConfig())
    _, passed = next(iter(batches))
    assert passed.dtype == labels.dtype and set(passed.numpy()) <= set(labels)


def test_the_readme_quotes_each_shipped_models_card():
    # The app shows the card's MNIST test accuracy; the README's table must say the same.
    import json
    import re

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    for card in sorted((ROOT / "models").glob("*.json")):
        accuracy = json.loads(card.read_text())["mnist_test_accuracy"]
        row = next(
            line for line in readme.splitlines() if line.startswith(f"| `{card.stem}.keras`")
        )
        quoted = float(re.search(r"(\d+\.\d+) %", row).group(1))
        assert quoted == round(100 * accuracy, 2), (card.name, quoted, accuracy)
