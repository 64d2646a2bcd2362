"""The model contract, the models (Flatten-Dense, small CNN), their training and loading.

Contract: 10 classes; input ``(N, 28, 28)`` float32 in [0, 1], white digit on black
(MNIST's own convention); output ``(N, 10)`` class probabilities. Models are ``.keras``
files loaded with :func:`keras.saving.load_model` in safe mode, each with a JSON card
beside it (same stem, ``.json``). Nothing is ever unpickled.

TensorFlow/Keras is imported lazily, so the stages and the app's box drawing start fast.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .aliases import DigitBatch
from .contract import MNIST_SIZE

if TYPE_CHECKING:  # pragma: no cover
    import keras

NUM_CLASSES = 10
"""Digits 0-9."""

INPUT_SHAPE = (MNIST_SIZE, MNIST_SIZE)
"""Model input: one 28x28 grey image per digit."""

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
"""Where the shipped models live."""

DEFAULT_MODEL = MODELS_DIR / "mlp.keras"
"""The product's default model: Flatten-Dense."""

RETRAIN_COMMAND = "python -m digit_pipeline train --out {path}"
"""How to rebuild a model file; shown in error messages when its card has no ``command``."""


class ModelLoadError(RuntimeError):
    """A model file is missing, unreadable or does not fit the contract."""


def _keras() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def load_mnist(path: str | os.PathLike[str] | None = None) -> tuple[tuple, tuple]:
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    Parameters
    ----------
    path : path-like, optional
        An ``.npz`` in the layout of ``keras.datasets.mnist.load_data()`` (keys
        ``x_train, y_train, x_test, y_test``). ``None`` uses that standard loader, which
        downloads the data once.

    Returns
    -------
    tuple
        ``(x_train, y_train), (x_test, y_test)``, uint8 arrays.

    Raises
    ------
    ValueError
        If the file lacks a key or has the wrong shapes.
    """
    if path is None:
        return _keras().datasets.mnist.load_data()
    with np.load(path, allow_pickle=False) as data:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(data.files)
        if missing:
            raise ValueError(f"{path} lacks the MNIST keys {sorted(missing)}")
        arrays = {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != INPUT_SHAPE or len(x) != len(y):
            raise ValueError(f"{path}: x_{split} must be (N, 28, 28) with N labels, got {x.shape}")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def to_model_input(digits: DigitBatch) -> np.ndarray:
    """Scale uint8 digits ``(N, 28, 28)`` to the model's float32 [0, 1] input.

    Examples
    --------
    >>> import numpy as np
    >>> to_model_input(np.full((1, 28, 28), 255, np.uint8)).max()
    np.float32(1.0)
    """
    digits = np.asarray(digits)
    if digits.ndim != 3 or digits.shape[1:] != INPUT_SHAPE:
        raise ValueError(f"digits must have shape (N, 28, 28), got {digits.shape}")
    return digits.astype(np.float32) / 255.0


def build_mlp(hidden: int = 1024, dropout: float = 0.2) -> keras.Model:
    """Build the Flatten-Dense model: Flatten -> Dense(relu) -> Dropout -> Dense(softmax).

    Parameters
    ----------
    hidden : int
        Units of the hidden layer.
    dropout : float
        Dropout rate after it.

    Returns
    -------
    keras.Model
        Uncompiled.
    """
    keras = _keras()
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            keras.layers.Flatten(),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mlp",
    )


def build_cnn(filters: int = 32, hidden: int = 128, dropout: float = 0.3) -> keras.Model:
    """Build the small CNN: two blocks of two Conv-BN-ReLU and a max-pool, then Dense.

    ``Reshape(28, 28, 1) -> [Conv(f, 3x3)-BN-ReLU] x2 -> MaxPool(2) -> [Conv(2f, 3x3)-BN-ReLU]
    x2 -> MaxPool(2) -> Flatten -> Dense(hidden, relu) -> Dropout -> Dense(10, softmax)``,
    convolutions unpadded (28 -> 24 -> 12 -> 8 -> 4). The input stays ``(N, 28, 28)``.

    Parameters
    ----------
    filters : int
        Filters of the first block; the second block has twice as many.
    hidden : int
        Units of the dense layer.
    dropout : float
        Dropout rate after it.

    Returns
    -------
    keras.Model
        Uncompiled.
    """
    keras = _keras()
    layers = keras.layers

    def conv_bn_relu(n: int) -> list:
        return [layers.Conv2D(n, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU()]

    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Reshape((*INPUT_SHAPE, 1)),
            *conv_bn_relu(filters),
            *conv_bn_relu(filters),
            layers.MaxPooling2D(2),
            *conv_bn_relu(2 * filters),
            *conv_bn_relu(2 * filters),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(hidden, activation="relu"),
            layers.Dropout(dropout),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="cnn",
    )


ARCHITECTURES = ("mlp", "cnn")
"""What :func:`train` can build: the Flatten-Dense model (the default) or the small CNN."""

DEFAULT_HIDDEN = {"mlp": 1024, "cnn": 128}
"""Hidden units of each architecture's dense layer unless told otherwise."""

DEFAULT_DROPOUT = {"mlp": 0.2, "cnn": 0.3}
"""Dropout after each architecture's dense layer unless told otherwise."""


def describe(arch: str, hidden: int, dropout: float, filters: int = 32) -> str:
    """Return the one-line architecture of a model, as the card shows it.

    Examples
    --------
    >>> describe("mlp", 1024, 0.2)
    'Flatten(28x28) -> Dense(1024, relu) -> Dropout(0.2) -> Dense(10, softmax)'
    """
    head = f"Dense({hidden}, relu) -> Dropout({dropout}) -> Dense(10, softmax)"
    if arch == "mlp":
        return f"Flatten(28x28) -> {head}"
    return (
        f"Reshape(28x28x1) -> [Conv({filters}, 3x3)-BN-ReLU] x2 -> MaxPool(2) -> "
        f"[Conv({2 * filters}, 3x3)-BN-ReLU] x2 -> MaxPool(2) -> Flatten -> {head}"
    )


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` did."""

    path: Path
    card: dict[str, Any]


def train(
    out: str | os.PathLike[str] = DEFAULT_MODEL,
    *,
    data: str | os.PathLike[str] | None = None,
    arch: str = "mlp",
    augment: bool = True,
    epochs: int = 30,
    seed: int = 0,
    hidden: int | None = None,
    dropout: float | None = None,
    filters: int = 32,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    validation_size: int = 6000,
    patience: int = 8,
    teacher: str | os.PathLike[str] | None = None,
    teacher_weight: float = 0.5,
    verbose: int = 2,
) -> TrainResult:
    """Train a model on MNIST's training images and save it with its card.

    Early stopping watches a validation split cut (seeded) from the 60 000 training
    images, which is never augmented; the best weights are restored. The learning rate
    follows a cosine decay from ``learning_rate`` to 1 % of it over ``epochs``. The test set
    is only measured, once, at the end. Augmentation happens in the input pipeline
    (:mod:`digit_pipeline.augment`), so the saved model is the bare architecture.

    Parameters
    ----------
    out : path-like
        Where to write the ``.keras`` file; the card goes beside it as ``.json``.
    data : path-like, optional
        MNIST ``.npz`` (see :func:`load_mnist`); ``None`` = the standard Keras loader.
    arch : {"mlp", "cnn"}
        :func:`build_mlp` (Flatten-Dense) or :func:`build_cnn`.
    augment : bool
        Augment the training batches with :class:`~digit_pipeline.augment.AugmentConfig`'s
        defaults.
    epochs : int
        Most epochs to run (one epoch = one pass over the training images).
    seed : int
        Seeds Keras, NumPy, the validation split, the shuffle and the augmentation.
    hidden : int, optional
        Units of the dense hidden layer; ``None`` = :data:`DEFAULT_HIDDEN` for ``arch``.
    dropout : float, optional
        Dropout after it; ``None`` = :data:`DEFAULT_DROPOUT` for ``arch``.
    filters : int
        Filters of the CNN's first block (``arch="cnn"`` only).
    batch_size : int
        Mini-batch size.
    learning_rate : float
        Adam's initial learning rate.
    validation_size : int
        Training images held out for early stopping (at most a fifth of them).
    patience : int
        Epochs without validation improvement before stopping.
    teacher : path-like, optional
        A trained ``.keras`` model to learn from as well (knowledge distillation): each
        augmented training batch's target is ``teacher_weight`` x the teacher's
        probabilities for it plus the rest x the true label. A small CNN teaches the
        Flatten-Dense model which shapes are alike, which hard labels alone do not.
    teacher_weight : float
        Share of the teacher in the targets, 0-1.
    verbose : int
        Keras verbosity.

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        For an unknown ``arch``, an ``out`` that is not ``.keras``, or bad data.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    out = Path(out)
    if out.suffix != ".keras":
        raise ValueError(f"out must end in .keras, got {out}")
    hidden = DEFAULT_HIDDEN[arch] if hidden is None else hidden
    dropout = DEFAULT_DROPOUT[arch] if dropout is None else dropout
    keras = _keras()
    from .augment import AugmentConfig, augmented_batches

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(data)
    order = np.random.default_rng(seed).permutation(len(x_train))
    validation_size = min(validation_size, len(x_train) // 5)
    val_idx, fit_idx = order[:validation_size], order[validation_size:]
    x_val, y_val = to_model_input(x_train[val_idx]), y_train[val_idx]
    config = AugmentConfig() if augment else None
    batch_size = min(batch_size, len(fit_idx))
    batches = augmented_batches(
        x_train[fit_idx], y_train[fit_idx], batch_size=batch_size, seed=seed, config=config
    )
    steps = len(fit_idx) // batch_size
    if teacher is not None:
        if not 0.0 <= teacher_weight <= 1.0:
            raise ValueError(f"teacher_weight must be in [0, 1], got {teacher_weight}")
        batches = _distilled(batches, load_model(teacher), teacher_weight)
        y_val = keras.utils.to_categorical(y_val, NUM_CLASSES)

    model = build_mlp(hidden, dropout) if arch == "mlp" else build_cnn(filters, hidden, dropout)
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=epochs * steps, alpha=0.01
    )
    # With a teacher the targets are distributions; the metric keeps the name "accuracy"
    # for the early-stopping monitor and the card either way.
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy" if teacher is None else "categorical_crossentropy",
        metrics=[
            "accuracy" if teacher is None else keras.metrics.CategoricalAccuracy(name="accuracy")
        ],
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=patience, restore_best_weights=True
    )
    start = time.perf_counter()
    history = model.fit(
        batches,
        steps_per_epoch=steps,
        validation_data=(x_val, y_val),
        validation_batch_size=1000,
        epochs=epochs,
        callbacks=[stop],
        verbose=verbose,
        shuffle=False,  # the dataset shuffles itself
    )
    seconds = time.perf_counter() - start
    test_accuracy = float(np.mean(predict_proba(model, x_test).argmax(axis=1) == y_test))
    source = str(data) if data is not None else "keras.datasets.mnist.load_data()"
    command = (
        f"python -m digit_pipeline train --arch {arch} "
        f"--{'' if augment else 'no-'}augment --hidden {hidden} "
        + (f"--filters {filters} " if arch == "cnn" else "")
        + f"--epochs {epochs} --patience {patience} --seed {seed} --out {out}"
        + (f" --teacher {teacher} --teacher-weight {teacher_weight:g}" if teacher else "")
        + (f" --data {data}" if data is not None else "")
    )
    card = {
        "name": out.stem,
        "arch": arch,
        "architecture": describe(arch, hidden, dropout, filters),
        "parameters": int(model.count_params()),
        "input": "(N, 28, 28) float32 in [0, 1], white digit on black",
        "data": {
            "source": source,
            "train_images": len(fit_idx),
            "validation_images": len(val_idx),
            "test_images": len(x_test),
            "augmentation": config.to_dict() if config else None,
            "teacher": (
                {"model": str(teacher), "weight": teacher_weight} if teacher is not None else None
            ),
        },
        "optimizer": (
            f"Adam, cosine decay {learning_rate:g} -> {learning_rate / 100:g} over "
            f"{epochs} epochs; "
            + (
                "sparse categorical cross-entropy"
                if teacher is None
                else "categorical cross-entropy on the label mixed with the teacher's output"
            )
        ),
        "batch_size": batch_size,
        "epochs_run": len(history.history["loss"]),
        "epochs_max": epochs,
        "early_stopping": f"val_accuracy, patience {patience}, best weights restored",
        "best_val_accuracy": float(max(history.history["val_accuracy"])),
        "best_epoch": int(np.argmax(history.history["val_accuracy"])) + 1,
        "seed": seed,
        "mnist_test_accuracy": test_accuracy,
        "train_seconds": round(seconds, 1),
        "command": command,
        "keras_version": keras.__version__,
        "date": _dt.date.today().isoformat(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_inference_copy(model, out)
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return TrainResult(out, card)


def _distilled(batches: Any, teacher: keras.Model, weight: float) -> Any:
    """Replace each batch's labels by ``weight`` x the teacher's output + the rest x one-hot."""
    import tensorflow as tf

    def targets(images: Any, labels: Any) -> tuple[Any, Any]:
        seen = teacher(_with_channel(teacher, images), training=False)
        hard = tf.one_hot(tf.cast(labels, tf.int32), NUM_CLASSES)
        return images, weight * tf.cast(seen, tf.float32) + (1.0 - weight) * hard

    return batches.map(targets)


def _save_inference_copy(model: keras.Model, out: Path) -> None:
    """Save ``model`` without optimizer state (smaller file, same predictions)."""
    keras = _keras()
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    tmp = out.with_name(out.stem + ".tmp.keras")
    clone.save(tmp)
    os.replace(tmp, out)


def load_model(path: str | os.PathLike[str] = DEFAULT_MODEL) -> keras.Model:
    """Load a ``.keras`` model in safe mode and check it fits the contract.

    Parameters
    ----------
    path : path-like
        A ``.keras`` file.

    Returns
    -------
    keras.Model

    Raises
    ------
    ModelLoadError
        With a sentence naming the file and the command that rebuilds it.
    """
    path = Path(path)
    card = load_card(path)
    command = card.get("command") if isinstance(card, dict) else None
    fix = "Rebuild it with: " + (command or RETRAIN_COMMAND.format(path=path))
    if path.suffix != ".keras":
        raise ModelLoadError(f"Model {path} is not a .keras file; only .keras models load.")
    if not path.is_file():
        raise ModelLoadError(f"Model file {path} is missing. {fix}")
    keras = _keras()
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a corrupt zip.
        raise ModelLoadError(
            f"Model file {path} could not be read ({type(error).__name__}). {fix}"
        ) from error
    in_shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    out_shape = tuple(model.output_shape[1:]) if hasattr(model, "output_shape") else None
    if in_shape not in (INPUT_SHAPE, (*INPUT_SHAPE, 1)) or out_shape != (NUM_CLASSES,):
        raise ModelLoadError(
            f"Model {path} takes {in_shape} and gives {out_shape}; the workbench needs "
            f"{INPUT_SHAPE} -> ({NUM_CLASSES},). {fix}"
        )
    return model


def load_card(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the JSON card beside a model file, or an empty dict if there is none."""
    card = Path(path).with_suffix(".json")
    try:
        return json.loads(card.read_text())
    except (OSError, ValueError):
        return {}


def _with_channel(model: keras.Model, x: Any) -> Any:
    """Add the trailing channel axis to ``(N, 28, 28)`` input if ``model`` expects one."""
    return x[..., None] if model.input_shape[1:] == (*INPUT_SHAPE, 1) else x


def predict_proba(model: keras.Model, digits: DigitBatch, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities ``(N, 10)`` for uint8 digits ``(N, 28, 28)``.

    Calls the model directly (``model(x, training=False)``), which for a handful of
    digits is several times faster than ``model.predict``.
    """
    x = to_model_input(digits)
    if len(x) == 0:
        return np.zeros((0, NUM_CLASSES), np.float32)
    x = _with_channel(model, x)
    parts = [
        np.asarray(model(x[i : i + batch_size], training=False))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(parts).astype(np.float32)
