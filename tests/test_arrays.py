"""Reading without TensorFlow: the NumPy forward pass gives what Keras gives."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from digit_pipeline.model import MODELS_DIR, load_model, load_reader, predict_proba
from digit_pipeline.model.arrays import ArrayModel, load_arrays

SHIPPED = sorted(p.relative_to(MODELS_DIR).as_posix() for p in MODELS_DIR.rglob("*.keras"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_model_runs_in_numpy_as_keras_runs_it(name, mnist):
    digits, _ = mnist
    path = MODELS_DIR / name
    arrays = load_arrays(path)
    assert isinstance(arrays, ArrayModel)
    keras_model = load_model(path) if "/" not in name else None
    if keras_model is None:  # the judge's models give 3, 4 or 101 classes: load them plainly
        import keras

        keras_model = keras.saving.load_model(path, compile=False, safe_mode=True)
    x = digits[:64].astype(np.float32) / 255.0
    if keras_model.input_shape[1:] == (28, 28, 1):
        x = x[..., None]
    if keras_model.input_shape[1:] == (28, 56):  # the pair reader: two digits side by side
        x = np.concatenate([x, x[::-1]], axis=2)
    want = np.asarray(keras_model(x, training=False))
    got = arrays(x)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.abs(got - want).max() < 1e-5
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()
    assert arrays.output_shape == keras_model.output_shape


def test_load_reader_gives_numpy_for_the_shipped_and_keras_for_the_rest(tmp_path, mnist):
    reader = load_reader()
    assert isinstance(reader, ArrayModel)
    digits, labels = mnist
    assert (predict_proba(reader, digits).argmax(axis=1) == labels).mean() > 0.97
    # a model with a layer the NumPy pass lacks is read by Keras, as before
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(16, activation="tanh"),  # tanh: not among the NumPy ones
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path / "tanh.keras"
    model.save(path)
    assert load_arrays(path) is None
    assert not isinstance(load_reader(path), ArrayModel)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    from digit_pipeline.model import ModelLoadError

    with pytest.raises(ModelLoadError, match="could not be read"):
        load_reader(broken)


def test_a_model_made_after_others_in_one_process_loads_right(tmp_path, mnist):
    # Keras names the weights in the file by class within the model (dense, dense_1), not
    # by the layers' own names (dense_7, dense_8 when other models came first: the lab).
    import keras

    digits, _ = mnist
    x = digits[:16].astype(np.float32) / 255.0
    for i in range(3):
        model = keras.Sequential(
            [
                keras.Input(shape=(28, 28)),
                keras.layers.Reshape((28, 28, 1)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.MaxPooling2D(2),
                keras.layers.Flatten(),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        path = tmp_path / f"m{i}.keras"
        model.save(path)
        arrays = load_arrays(path)
        assert isinstance(arrays, ArrayModel), i
        assert np.abs(arrays(x) - np.asarray(model(x, training=False))).max() < 1e-5
        kept = [w.copy() for w in model.get_weights()]
        assert all(np.array_equal(a, b) for a, b in zip(arrays.get_weights(), kept, strict=True))


def test_a_sheet_is_read_without_importing_tensorflow():
    # A fresh process reads a sample with the shipped model and the judge's models, and
    # TensorFlow is never imported: the reading page's Predict waits for no TF import.
    code = (
        "import sys\n"
        "from digit_pipeline.io.images import read_image\n"
        "from digit_pipeline.model import load_reader\n"
        "from digit_pipeline.reading import read_sheet\n"
        "r = read_sheet(read_image(sys.argv[1]), model=load_reader(), auto=True, orient=True)\n"
        "print(r.text.replace(chr(10), '/'), 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    sample = ROOT / "sample_images" / "pen_ruled.jpg"
    done = subprocess.run(
        [sys.executable, "-c", code, str(sample)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    text, tf, keras = done.stdout.split()
    assert (tf, keras) == ("False", "False")
    import json

    truth = json.loads(sample.with_suffix(".json").read_text())["text"]
    assert text == truth.replace("\n", "/")
