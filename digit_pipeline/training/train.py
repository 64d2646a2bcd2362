"""Train a model on MNIST and save it with its JSON card (optionally distilled from a teacher)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model import (
    DEFAULT_MODEL,
    NUM_CLASSES,
    _keras,
    _with_channel,
    load_model,
    predict_proba,
    to_model_input,
)
from .architectures import (
    ARCHITECTURES,
    DEFAULT_DROPOUT,
    DEFAULT_HIDDEN,
    build_cnn,
    build_mlp,
    describe,
)
from .data import load_mnist, validation_split
from .progress import TrainingLog, monitor

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from .augment import AugmentConfig

__all__ = ["FINISHING", "TrainResult", "train"]

FINISHING = "Measuring on the test digits and saving…"
"""The log's phase (:attr:`~.progress.TrainingLog.phase`) from the last epoch to the card."""


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` did."""

    path: Path
    card: dict[str, Any]


def train(  # Long: 56-line docstring, 18-line signature (16 knobs); body ~60, one run in order
    out: str | os.PathLike[str] = DEFAULT_MODEL,
    *,
    data: str | os.PathLike[str] | None = None,
    arch: str = "mlp",
    augment: bool = True,
    epochs: int = 30,
    seed: int = 0,
    hidden: int | Sequence[int] | None = None,
    dropout: float | None = None,
    filters: int = 32,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    validation_size: int = 6000,
    patience: int = 8,
    teacher: str | os.PathLike[str] | None = None,
    teacher_weight: float = 0.5,
    train_size: int | None = None,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
    log: TrainingLog | None = None,
    on_update: Callable[[TrainingLog, bool], None] | None = None,
    verbose: int = 2,
) -> TrainResult:
    """Train a model on MNIST's training images and save it with its card.

    Early stopping watches a validation split cut (seeded) from the 60 000 training
    images, which is never augmented; the best weights are restored. The learning rate
    follows a cosine decay from ``learning_rate`` to 1 % of it over ``epochs``. The test set
    is only measured, once, at the end. Augmentation happens in the input pipeline
    (:mod:`digit_pipeline.training.augment`), so the saved model is the bare architecture.

    Parameters
    ----------
    out : path-like
        Where to write the ``.keras`` file; the card goes beside it as ``.json``.
    data : path-like, optional
        MNIST ``.npz`` (see :func:`load_mnist`); ``None`` = the standard Keras loader.
    arch : {"mlp", "cnn"}
        :func:`build_mlp` (Flatten-Dense) or :func:`build_cnn`.
    augment : bool
        Augment the training batches with :class:`~digit_pipeline.training.augment.AugmentConfig`'s
        defaults.
    epochs : int
        Most epochs to run (one epoch = one pass over the training images).
    seed : int
        Seeds Keras, NumPy, the validation split, the shuffle and the augmentation.
    hidden : int or sequence of int, optional
        Units of the dense hidden layer(s); ``None`` = :data:`DEFAULT_HIDDEN` for ``arch``.
        The Flatten-Dense model takes 1-3 layers; the CNN one (the first is used).
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
    train_size : int, optional
        Train on only this many (seeded, random) training images — a class demo in seconds.
        The validation split is still cut from the rest of the training images.
    extra : (ndarray, ndarray), optional
        More training digits ``(M, 28, 28)`` uint8 and labels (the user's own dataset),
        added to the training images only (never to validation).
    log : TrainingLog, optional
        Filled with per-batch and per-epoch figures as training goes; its
        :meth:`~.progress.TrainingLog.request_stop` ends training after the current batch
        (the best weights so far are kept and saved; the card's ``stopped_by_user`` says
        whether the stop cut the run short). After the epochs its phase is
        :data:`FINISHING` until the model and its card are saved.
    on_update : callable, optional
        ``on_update(log, end_of_epoch)`` after each batch and epoch, and once when the phase
        becomes :data:`FINISHING` (see :func:`~.progress.text_bar`).
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
    hidden = _checked_hidden(arch, DEFAULT_HIDDEN[arch] if hidden is None else hidden)
    dropout = DEFAULT_DROPOUT[arch] if dropout is None else dropout
    keras = _keras()
    from .augment import AugmentConfig

    keras.utils.set_random_seed(seed)
    config = AugmentConfig() if augment else None
    (x_test, y_test), (batches, steps, batch_size), (x_val, y_val), sizes = _training_data(
        data, seed, validation_size, batch_size, config, teacher, teacher_weight,
        train_size=train_size, extra=extra,
    )  # fmt: skip

    model = build_mlp(hidden, dropout) if arch == "mlp" else build_cnn(filters, hidden, dropout)
    _compile(model, learning_rate, epochs * steps, distilled=teacher is not None)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=patience, restore_best_weights=True
    )
    log = TrainingLog() if log is None else log
    start = time.perf_counter()
    model.fit(
        batches,
        steps_per_epoch=steps,
        validation_data=(x_val, y_val),
        validation_batch_size=1000,
        epochs=epochs,
        callbacks=[stop, monitor(log, on_update)],
        verbose=verbose,
        shuffle=False,  # the dataset shuffles itself
    )
    seconds = time.perf_counter() - start
    log.set_phase(FINISHING)
    if on_update is not None:
        on_update(log, False)
    test_accuracy = float(np.mean(predict_proba(model, x_test).argmax(axis=1) == y_test))
    card = _card(
        out,
        model,
        log.history,
        settings={
            "data": data,
            "arch": arch,
            "augment": config,
            "epochs": epochs,
            "seed": seed,
            "hidden": hidden,
            "dropout": dropout,
            "filters": filters,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "patience": patience,
            "teacher": teacher,
            "teacher_weight": teacher_weight,
            "train_size": train_size,
            "stopped": log.cut_short,
        },
        sizes=sizes,
        test_accuracy=test_accuracy,
        seconds=seconds,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    _save_inference_copy(model, out)
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    return TrainResult(out, card)


def _training_data(
    data: str | os.PathLike[str] | None,
    seed: int,
    validation_size: int,
    batch_size: int,
    config: AugmentConfig | None,
    teacher: str | os.PathLike[str] | None,
    teacher_weight: float,
    *,
    train_size: int | None = None,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[tuple, tuple, tuple, tuple[int, int, int]]:
    """Load MNIST, cut the seeded validation split and build the (augmented) batches.

    Returns ``(x_test, y_test)``, ``(batches, steps per epoch, batch size)``,
    ``(x_val, y_val)`` and the training, validation and test image counts. With a
    ``teacher`` the batches' targets (and ``y_val``) are distributions.
    """
    from .augment import augmented_batches

    (x_train, y_train), (x_test, y_test) = load_mnist(data)
    val_idx, fit_idx = validation_split(len(x_train), seed, validation_size)
    if train_size is not None:
        if train_size < 1:
            raise ValueError(f"train_size must be at least 1, got {train_size}")
        fit_idx = fit_idx[:train_size]
    x_val, y_val = to_model_input(x_train[val_idx]), y_train[val_idx]
    x_fit, y_fit = x_train[fit_idx], y_train[fit_idx]
    if extra is not None and len(extra[0]):
        x_fit = np.concatenate([x_fit, np.asarray(extra[0], np.uint8)])
        y_fit = np.concatenate([y_fit, np.asarray(extra[1]).astype(y_fit.dtype)])
    batch_size = min(batch_size, len(x_fit))
    batches = augmented_batches(x_fit, y_fit, batch_size=batch_size, seed=seed, config=config)
    steps = len(x_fit) // batch_size
    if teacher is not None:
        if not 0.0 <= teacher_weight <= 1.0:
            raise ValueError(f"teacher_weight must be in [0, 1], got {teacher_weight}")
        batches = _distilled(batches, load_model(teacher), teacher_weight)
        y_val = _keras().utils.to_categorical(y_val, NUM_CLASSES)
    sizes = (len(x_fit), len(val_idx), len(x_test))
    return (x_test, y_test), (batches, steps, batch_size), (x_val, y_val), sizes


def _compile(
    model: keras.Model, learning_rate: float, decay_steps: int, *, distilled: bool
) -> None:
    """Compile with Adam on a cosine decay to 1 % of ``learning_rate`` over ``decay_steps``.

    With a teacher (``distilled``) the targets are distributions; the metric keeps the name
    "accuracy" for the early-stopping monitor and the card either way.
    """
    keras = _keras()
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, decay_steps=decay_steps, alpha=0.01
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy" if not distilled else "categorical_crossentropy",
        metrics=[
            "accuracy" if not distilled else keras.metrics.CategoricalAccuracy(name="accuracy")
        ],
    )


def _command(out: Path, s: dict[str, Any]) -> str:
    """Return the ``python -m digit_pipeline train`` command that makes this model again."""
    arch, augment, teacher, data = s["arch"], s["augment"] is not None, s["teacher"], s["data"]
    return (
        f"python -m digit_pipeline train --arch {arch} "
        f"--{'' if augment else 'no-'}augment --hidden {_units(s['hidden'])} "
        + (f"--filters {s['filters']} " if arch == "cnn" else "")
        + f"--epochs {s['epochs']} --patience {s['patience']} --seed {s['seed']} --out {out}"
        + (f" --teacher {teacher} --teacher-weight {s['teacher_weight']:g}" if teacher else "")
        + (f" --train-size {s['train_size']}" if s["train_size"] else "")
        + (f" --data {data}" if data is not None else "")
    )


def _units(hidden: int | list[int]) -> str:
    return " ".join(str(h) for h in hidden) if isinstance(hidden, list) else str(hidden)


def _checked_hidden(arch: str, hidden: int | Sequence[int]) -> int | list[int]:
    """Return one layer's units as an int, several as a list; the CNN takes one."""
    units = [int(hidden)] if isinstance(hidden, int | np.integer) else [int(h) for h in hidden]
    if not 1 <= len(units) <= 3 or min(units) < 1:
        raise ValueError(f"hidden must be 1-3 layer sizes of at least 1 unit, got {hidden}")
    if arch == "cnn" and len(units) > 1:
        raise ValueError(f"the CNN has one hidden dense layer, got {units}")
    return units[0] if len(units) == 1 else units


def _card(  # Long: one flat dict literal, the card's fields in the order the file shows them
    out: Path,
    model: keras.Model,
    history: list[dict[str, Any]],
    *,
    settings: dict[str, Any],
    sizes: tuple[int, int, int],
    test_accuracy: float,
    seconds: float,
) -> dict[str, Any]:
    """Return the JSON card of a trained model.

    ``settings`` holds :func:`train`'s arguments (``augment`` as the
    :class:`~digit_pipeline.training.augment.AugmentConfig` used, or None); ``sizes`` the
    training, validation and test image counts.
    """
    s = settings
    val = [h["val_accuracy"] or 0.0 for h in history]
    data, teacher, lr, config = s["data"], s["teacher"], s["learning_rate"], s["augment"]
    keras = _keras()
    source = str(data) if data is not None else "keras.datasets.mnist.load_data()"
    return {
        "name": out.stem,
        "arch": s["arch"],
        "architecture": describe(s["arch"], s["hidden"], s["dropout"], s["filters"]),
        "hidden": s["hidden"],
        "dropout": s["dropout"],
        "parameters": int(model.count_params()),
        "input": "(N, 28, 28) float32 in [0, 1], white digit on black",
        "data": {
            "source": source,
            "train_images": sizes[0],
            "train_size": s["train_size"],
            "validation_images": sizes[1],
            "test_images": sizes[2],
            "augmentation": config.to_dict() if config else None,
            "teacher": (
                {"model": str(teacher), "weight": s["teacher_weight"]}
                if teacher is not None
                else None
            ),
        },
        "optimizer": (
            f"Adam, cosine decay {lr:g} -> {lr / 100:g} over {s['epochs']} epochs; "
            + (
                "sparse categorical cross-entropy"
                if teacher is None
                else "categorical cross-entropy on the label mixed with the teacher's output"
            )
        ),
        "batch_size": s["batch_size"],
        "epochs_run": len(history),
        "epochs_max": s["epochs"],
        "early_stopping": f"val_accuracy, patience {s['patience']}, best weights restored",
        "best_val_accuracy": float(max(val)) if val else None,
        "best_epoch": int(np.argmax(val)) + 1 if val else None,
        "stopped_by_user": s["stopped"],
        "seed": s["seed"],
        "mnist_test_accuracy": test_accuracy,
        "train_seconds": round(seconds, 1),
        "learning_rate": lr,
        "history": history,
        "command": _command(out, s),
        "keras_version": keras.__version__,
        "date": _dt.date.today().isoformat(),
    }


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
