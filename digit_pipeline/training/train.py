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
from .settings import TrainSettings, command_line

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


def train(
    out: str | os.PathLike[str] = DEFAULT_MODEL,
    settings: TrainSettings | None = None,
    *,
    data: str | os.PathLike[str] | None = None,
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
    With a ``teacher`` (knowledge distillation) each augmented training batch's target is
    ``teacher_weight`` x the teacher's probabilities for it plus the rest x the true label:
    a small CNN teaches the Flatten-Dense model which shapes are alike, which hard labels
    alone do not.

    Parameters
    ----------
    out : path-like
        Where to write the ``.keras`` file; the card goes beside it as ``.json``.
    settings : TrainSettings, optional
        The run's settings (:class:`~digit_pipeline.training.settings.TrainSettings`, which
        says what each does); ``None`` = its defaults, the ``train`` command's.
    data : path-like, optional
        MNIST ``.npz`` (see :func:`load_mnist`); ``None`` = the standard Keras loader.
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
        For an unknown ``arch``, 0 or more than 3 hidden layers (more than 1 for the CNN),
        a teacher's share outside [0, 1], an ``out`` that is not ``.keras``, or bad data.
    """
    s = TrainSettings() if settings is None else settings
    arch = s.arch
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    out = Path(out)
    if out.suffix != ".keras":
        raise ValueError(f"out must end in .keras, got {out}")
    hidden = _checked_hidden(arch, DEFAULT_HIDDEN[arch] if s.hidden is None else s.hidden)
    s = s.replace(
        hidden=(hidden,) if isinstance(hidden, int) else tuple(hidden),
        dropout=DEFAULT_DROPOUT[arch] if s.dropout is None else s.dropout,
    )  # resolved: the card and its command say what was built
    keras = _keras()
    from .augment import AugmentConfig

    keras.utils.set_random_seed(s.seed)
    config = AugmentConfig() if s.augment else None
    (x_test, y_test), (batches, steps, batch_size), (x_val, y_val), sizes = _training_data(
        data, s.seed, s.validation_size, s.batch_size, config, s.teacher, s.teacher_weight,
        train_size=s.train_size, extra=extra,
    )  # fmt: skip

    if arch == "mlp":
        model = build_mlp(hidden, s.dropout)
    else:
        model = build_cnn(s.filters, hidden, s.dropout)
    _compile(model, s.learning_rate, s.epochs * steps, distilled=s.teacher is not None)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=s.patience, restore_best_weights=True
    )
    log = TrainingLog() if log is None else log
    start = time.perf_counter()
    model.fit(
        batches,
        steps_per_epoch=steps,
        validation_data=(x_val, y_val),
        validation_batch_size=1000,
        epochs=s.epochs,
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
        settings=s,
        run={"data": data, "augment": config, "batch_size": batch_size, "stopped": log.cut_short},
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
    settings: TrainSettings,
    run: dict[str, Any],
    sizes: tuple[int, int, int],
    test_accuracy: float,
    seconds: float,
) -> dict[str, Any]:
    """Return the JSON card of a trained model.

    ``settings`` are the run's, ``hidden`` and ``dropout`` resolved; ``run`` holds the rest
    of what happened: ``data`` (the MNIST file or None), ``augment`` (the
    :class:`~digit_pipeline.training.augment.AugmentConfig` used, or None), the
    ``batch_size`` used (at most the training images) and whether the user ``stopped`` it
    short; ``sizes`` the training, validation and test image counts.
    """
    s = settings
    val = [h["val_accuracy"] or 0.0 for h in history]
    data, config, lr = run["data"], run["augment"], s.learning_rate
    hidden = s.hidden[0] if len(s.hidden) == 1 else list(s.hidden)
    keras = _keras()
    source = str(data) if data is not None else "keras.datasets.mnist.load_data()"
    return {
        "name": out.stem,
        "arch": s.arch,
        "architecture": describe(s.arch, hidden, s.dropout, s.filters),
        "hidden": hidden,
        "dropout": s.dropout,
        "parameters": int(model.count_params()),
        "input": "(N, 28, 28) float32 in [0, 1], white digit on black",
        "data": {
            "source": source,
            "train_images": sizes[0],
            "train_size": s.train_size,
            "validation_images": sizes[1],
            "test_images": sizes[2],
            "augmentation": config.to_dict() if config else None,
            "teacher": (
                {"model": str(s.teacher), "weight": s.teacher_weight}
                if s.teacher is not None
                else None
            ),
        },
        "optimizer": (
            f"Adam, cosine decay {lr:g} -> {lr / 100:g} over {s.epochs} epochs; "
            + (
                "sparse categorical cross-entropy"
                if s.teacher is None
                else "categorical cross-entropy on the label mixed with the teacher's output"
            )
        ),
        "batch_size": run["batch_size"],
        "epochs_run": len(history),
        "epochs_max": s.epochs,
        "early_stopping": f"val_accuracy, patience {s.patience}, best weights restored",
        "best_val_accuracy": float(max(val)) if val else None,
        "best_epoch": int(np.argmax(val)) + 1 if val else None,
        "stopped_by_user": run["stopped"],
        "seed": s.seed,
        "mnist_test_accuracy": test_accuracy,
        "train_seconds": round(seconds, 1),
        "learning_rate": lr,
        "history": history,
        "command": command_line(s, str(out), None if data is None else str(data)),
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
