"""Teach a model the user's own digits: fine-tune on MNIST training data plus their dataset.

The shipped model is never touched: the base model is loaded afresh from its file and the
result is written to a new ``.keras`` file with its own card. Accuracy is reported on the
MNIST test set (measured only: never used to fit, stop or choose) and on a held-back part of
the user's samples, before and after; the card lists the measures on which the new model
does worse than the one it started from (:func:`worse_than_base`).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..model import MODELS_DIR, _keras, load_card, load_model, predict_proba
from ..model.contract import MNIST_SIZE
from .data import load_mnist

Progress = Callable[[float, str], None]
"""Called with (fraction done in [0, 1], a short message)."""

MIN_SAMPLES = 10
"""Fewest user samples fine-tuning accepts."""

MEASURES = ("mnist_test_accuracy", "user_holdout_accuracy")
"""The figures measured before and after fine-tuning (keys of the card's ``before``/``after``)."""


@dataclass(frozen=True)
class FineTuneResult:
    """Where the new model went, and how it did before and after."""

    path: Path
    card: dict[str, Any]


def fine_tune(  # Long: a 37-line numpydoc docstring and 14-line signature; the body is ~30
    base: str | os.PathLike[str],
    user_x: np.ndarray,
    user_y: np.ndarray,
    *,
    mnist: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    epochs: int = 3,
    seed: int = 0,
    holdout: float = 0.2,
    mnist_samples: int = 20000,
    user_share: float = 0.2,
    progress: Progress | None = None,
) -> FineTuneResult:
    """Fine-tune the model in ``base`` on MNIST training images plus the user's digits.

    Parameters
    ----------
    base : path-like
        The ``.keras`` model to start from (loaded afresh; never modified).
    user_x : ndarray of shape (N, 28, 28), uint8
        The user's digits, white on black.
    user_y : ndarray of shape (N,), int
        Their labels.
    mnist : path-like, optional
        MNIST ``.npz``; ``None`` = ``keras.datasets.mnist.load_data()``.
    out : path-like, optional
        Where to write the new model; default
        ``<user_models_dir()>/<base>-ft-<timestamp>.keras``. It must not exist yet.
    epochs : int
        Passes over the mixed training set.
    seed : int
        Seeds the split, the MNIST subset and Keras.
    holdout : float
        Share of the user's samples held back to measure on.
    mnist_samples : int
        MNIST training images mixed in (so the model does not forget MNIST).
    user_share : float
        The user's samples are repeated until they are about this share of each epoch.
    progress : callable, optional
        ``progress(fraction, message)`` after every epoch.

    Returns
    -------
    FineTuneResult
        Its card's ``worse_than_base`` lists the measures that fell (:func:`worse_than_base`).

    Raises
    ------
    ValueError
        Too few samples, bad shapes or labels, or ``out`` exists / is the base model.
    """
    user_x, user_y = _checked_user_data(user_x, user_y)
    base = Path(base)
    out = _checked_out(base, out)

    _keras().utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    report = progress or (lambda fraction, message: None)
    report(0.0, "Loading data")

    order = rng.permutation(len(user_x))
    held = order[: max(1, round(holdout * len(user_x)))]
    kept = order[len(held) :]
    (x_train, y_train), (x_test, y_test) = load_mnist(mnist)
    pick = rng.choice(len(x_train), min(mnist_samples, len(x_train)), replace=False)
    repeats = max(1, round(user_share * len(pick) / max(1, len(kept)) / (1 - user_share)))

    model = load_model(base)
    before = _scores(model, x_test, y_test, user_x[held], user_y[held])
    report(0.05, "Measured the base model")
    x_fit = np.concatenate([x_train[pick], np.repeat(user_x[kept], repeats, axis=0)])
    y_fit = np.concatenate([y_train[pick], np.repeat(user_y[kept], repeats)])
    _fit(model, x_fit, y_fit, epochs, report)
    after = _scores(model, x_test, y_test, user_x[held], user_y[held])
    counts = {"mnist": len(pick), "kept": len(kept), "repeats": repeats, "held": len(held)}
    card = _card(out, base, mnist, counts, epochs, seed, before, after)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp.keras")
    model.save(tmp)
    os.replace(tmp, out)
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    report(1.0, "Saved")
    return FineTuneResult(out, card)


def worse_than_base(card: Mapping[str, Any]) -> list[str]:
    """Return the measures on which a fine-tuned model does worse than the model it started from.

    Parameters
    ----------
    card : mapping
        A fine-tuned model's card, with ``before`` and ``after`` dicts of :data:`MEASURES`.

    Returns
    -------
    list of str
        The measures, in the order of :data:`MEASURES`, whose ``after`` is below ``before``:
        any fall counts, however small. Empty when the new model is at least as good on
        every one, or when the card holds no such figures.

    Examples
    --------
    >>> card = {"before": {"mnist_test_accuracy": 0.98, "user_holdout_accuracy": 1.0},
    ...         "after": {"mnist_test_accuracy": 0.985, "user_holdout_accuracy": 2 / 3}}
    >>> worse_than_base(card)
    ['user_holdout_accuracy']
    >>> worse_than_base({"before": card["after"], "after": card["after"]})
    []
    >>> worse_than_base({"name": "trained in the lab: no before and after"})
    []
    """
    before, after = card.get("before") or {}, card.get("after") or {}
    return [m for m in MEASURES if m in before and m in after and after[m] < before[m]]


def _checked_user_data(user_x: np.ndarray, user_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the user's digits and labels as arrays, or raise ``ValueError``."""
    user_x, user_y = np.asarray(user_x), np.asarray(user_y)
    if user_x.ndim != 3 or user_x.shape[1:] != (MNIST_SIZE, MNIST_SIZE) or user_x.dtype != np.uint8:
        raise ValueError(f"user_x must be uint8 of shape (N, 28, 28), got {user_x.shape}")
    if user_y.shape != (len(user_x),) or ((user_y < 0) | (user_y > 9)).any():
        raise ValueError("user_y must hold one label 0..9 per digit")
    if len(user_x) < MIN_SAMPLES:
        raise ValueError(f"need at least {MIN_SAMPLES} saved digits, got {len(user_x)}")
    return user_x, user_y


def _checked_out(base: Path, out: str | os.PathLike[str] | None) -> Path:
    """Return where the new model goes, refusing the shipped folder and existing files."""
    out = Path(out) if out is not None else _new_path(base)
    if out.resolve().parent == MODELS_DIR.resolve():
        raise ValueError(f"out {out} is in the shipped models folder; write elsewhere")
    if out.exists() or out.resolve() == base.resolve():
        raise ValueError(f"out {out} exists; fine-tuning never overwrites a model")
    if out.suffix != ".keras":
        raise ValueError(f"out must end in .keras, got {out}")
    return out


def _fit(model: Any, x_fit: np.ndarray, y_fit: np.ndarray, epochs: int, report: Progress) -> None:
    """Train ``model`` in place (Adam 1e-4), calling ``report`` after every epoch."""
    keras = _keras()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x_in = x_fit.astype(np.float32) / 255.0
    if tuple(model.input_shape[1:]) == (MNIST_SIZE, MNIST_SIZE, 1):
        x_in = x_in[..., None]

    class _Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            accuracy = (logs or {}).get("accuracy", float("nan"))
            report(
                0.05 + 0.9 * (epoch + 1) / epochs,
                f"Epoch {epoch + 1}/{epochs}: training accuracy {accuracy:.3f}",
            )

    model.fit(
        x_in,
        y_fit,
        epochs=epochs,
        batch_size=128,
        shuffle=True,
        verbose=0,
        callbacks=[_Report()],
    )


def _card(
    out: Path,
    base: Path,
    mnist: str | os.PathLike[str] | None,
    counts: dict[str, int],
    epochs: int,
    seed: int,
    before: dict[str, float],
    after: dict[str, float],
) -> dict[str, Any]:
    """Return the new model's JSON card (``counts``: mnist, kept, repeats, held)."""
    base_card = load_card(base)
    return {
        "name": out.stem,
        "base_model": base.name,
        "architecture": base_card.get("architecture", "see base model"),
        "data": {
            "mnist": str(mnist) if mnist is not None else "keras.datasets.mnist.load_data()",
            "mnist_train_images": counts["mnist"],
            "user_samples_trained": counts["kept"],
            "user_samples_repeated": counts["repeats"],
            "user_samples_held_back": counts["held"],
        },
        "optimizer": "Adam(1e-4), sparse categorical cross-entropy",
        "epochs_run": epochs,
        "seed": seed,
        "before": before,
        "after": after,
        "worse_than_base": worse_than_base({"before": before, "after": after}),
        "mnist_test_accuracy": after["mnist_test_accuracy"],
        "date": _dt.date.today().isoformat(),
    }


def _scores(model: Any, x_test, y_test, user_x, user_y) -> dict[str, float]:
    return {
        "mnist_test_accuracy": float(np.mean(predict_proba(model, x_test).argmax(1) == y_test)),
        "user_holdout_accuracy": float(np.mean(predict_proba(model, user_x).argmax(1) == user_y)),
    }


def user_models_dir() -> Path:
    """Return the folder fine-tuned models go to (never the shipped ``models/``).

    ``$DIGIT_WORKBENCH_MODELS`` if set, else ``~/.digit_workbench/models``.
    """
    default = Path.home() / ".digit_workbench" / "models"
    return Path(os.environ.get("DIGIT_WORKBENCH_MODELS", default))


def _new_path(base: Path) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = user_models_dir()
    path = folder / f"{base.stem}-ft-{stamp}.keras"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{base.stem}-ft-{stamp}-{counter}.keras"
    return path
