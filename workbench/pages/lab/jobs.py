"""Training in a background thread: one job per session, watched through its TrainingLog.

No Streamlit here: the page keeps the :class:`TrainingJob` in ``st.session_state`` (so it
survives reruns) and draws ``job.log`` from a fragment. The words it shows about a run
(time per epoch, why a score is low) are made here too, from the log and the card.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digit_pipeline.model import ModelLoadError
from digit_pipeline.training.progress import TrainingLog
from digit_pipeline.training.settings import TrainSettings

LAB_DEFAULTS = TrainSettings(
    hidden=(128,), dropout=0.2, filters=16, epochs=3, augment=False, train_size=5000
)
"""Where the Train form starts: a demo that trains in seconds (:class:`TrainSettings`' own
defaults, the ``train`` command's, run up to 30 epochs over all of MNIST)."""


def lab_settings(**chosen: Any) -> TrainSettings:
    """Return what the form's choices train: :data:`LAB_DEFAULTS` with ``chosen``.

    The lab runs every epoch asked for (``patience`` = ``epochs``), and a slice of the
    training images validates on a fifth of its size (at least 100), so a demo stays quick.

    Parameters
    ----------
    **chosen
        Fields of :class:`TrainSettings`.

    Returns
    -------
    TrainSettings

    Examples
    --------
    >>> settings = lab_settings(epochs=4, train_size=1000)
    >>> settings.patience, settings.validation_size
    (4, 200)
    >>> lab_settings(train_size=None).validation_size == TrainSettings().validation_size
    True
    """
    settings = LAB_DEFAULTS.replace(**chosen)
    size = settings.train_size
    return settings.replace(
        patience=max(settings.epochs, 1),
        validation_size=max(100, size // 5) if size else TrainSettings().validation_size,
    )


@dataclass(frozen=True)
class TrainRequest:
    """What the Train form asked for: the run, whether to add the user's digits, a name."""

    settings: TrainSettings = field(default_factory=lab_settings)
    add_mine: bool = False
    name: str = "my-model"


@dataclass
class TrainingJob:
    """One training run in its thread, with its live log, its output and its outcome."""

    settings: TrainSettings
    out: Path
    log: TrainingLog = field(default_factory=TrainingLog)
    card: dict[str, Any] | None = None
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the thread is still at work."""
        return self.thread is not None and self.thread.is_alive()


def model_name(text: str) -> str:
    """Return a safe file stem from what the user typed.

    Examples
    --------
    >>> model_name("  My model: 2 layers! ")
    'My-model-2-layers'
    >>> model_name("../../etc")
    'etc'
    >>> model_name("")
    'model'
    """
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")
    return stem[:60] or "model"


def new_model_path(folder: Path, name: str, now: _dt.datetime | None = None) -> Path:
    """Return a path in ``folder`` that does not exist yet: ``<name>-<time>.keras``."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{model_name(name)}-{stamp}.keras"
    k = 1
    while path.exists() or path.with_suffix(".json").exists():
        k += 1
        path = folder / f"{model_name(name)}-{stamp}-{k}.keras"
    return path


def start_job(
    settings: TrainSettings,
    folder: Path,
    *,
    name: str,
    data: str | None,
    extra: tuple[Any, Any] | None = None,
) -> TrainingJob:
    """Start training ``settings`` in a daemon thread, into a new model file in ``folder``.

    The file is ``<name>-<time>.keras`` (:func:`new_model_path`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    job = TrainingJob(settings, new_model_path(folder, name))

    def work() -> None:
        from digit_pipeline.training.train import train

        try:
            result = train(job.out, settings, data=data, extra=extra, log=job.log, verbose=0)
            job.card = result.card
        except (ValueError, OSError, ModelLoadError) as error:
            job.error = f"Training stopped with an error: {error}"
        except Exception as error:  # a sentence, never a traceback, on the page
            job.error = f"Training failed ({type(error).__name__}: {error})."

    job.thread = threading.Thread(target=work, name=f"train-{job.out.stem}", daemon=True)
    job.thread.start()
    return job


def epoch_times(history: list[dict[str, Any]]) -> str:
    """Say how long every epoch took, and their mean, in one line.

    Parameters
    ----------
    history : list of dict
        The log's (or card's) per-epoch records, each with ``epoch`` and ``seconds``.

    Returns
    -------
    str

    Examples
    --------
    >>> epoch_times([{"epoch": 1, "seconds": 2.04}, {"epoch": 2, "seconds": 1.5}])
    'Time per epoch, s (mean 1.8) — 1: 2.0 · 2: 1.5'
    """
    mean = sum(h["seconds"] for h in history) / max(1, len(history))
    each = " · ".join(f"{h['epoch']}: {h['seconds']:.1f}" for h in history)
    return f"Time per epoch, s (mean {mean:.1f}) — {each}"


LOW_SCORE = 0.90
"""MNIST test accuracy under which the lab says why a finished run likely scored low
(a default Flatten-Dense model on all the training digits reaches about 0.98)."""


@dataclass(frozen=True)
class SmallSetting:
    """One likely reason for a low score: a figure of the card past a limit.

    ``figure`` reads it from the card (None: the card does not say); ``high`` means too
    much rather than too little; ``says`` is the phrase, formatted with ``value`` (and ``s``,
    a plural's ending).
    """

    name: str
    figure: Callable[[Mapping[str, Any]], float | None]
    limit: float
    says: str
    high: bool = False


def _units(card: Mapping[str, Any]) -> float | None:
    hidden = card.get("hidden")
    return min(hidden) if isinstance(hidden, list) and hidden else hidden


def _digits(card: Mapping[str, Any]) -> float | None:
    return (card.get("data") or {}).get("train_images")


def _updates(card: Mapping[str, Any]) -> float | None:
    digits, batch, epochs = _digits(card), card.get("batch_size"), card.get("epochs_run")
    if not (digits and batch and epochs):
        return None
    return max(1, digits // min(batch, digits)) * epochs


SMALL_SETTINGS = (
    SmallSetting(
        "hidden units",
        _units,
        32,
        "only {value:,} hidden units, too few to tell ten digits apart well",
    ),
    SmallSetting(
        "training digits", _digits, 10_000, "only {value:,} training digits (MNIST has 54 000)"
    ),
    SmallSetting("epochs", lambda card: card.get("epochs_run"), 5, "only {value} epoch{s}"),
    SmallSetting(
        "weight updates",
        _updates,
        500,
        "only {value:,} weight update{s} in all (training digits ÷ batch size × epochs)",
    ),
    SmallSetting(
        "dropout",
        lambda card: card.get("dropout"),
        0.5,
        "a high dropout ({value:g}), which switches off half or more of the units at each step",
        high=True,
    ),
)
"""The settings a low score is blamed on, each with its limit (switch one off by name)."""


def low_score_reasons(
    card: Mapping[str, Any], *, bar: float = LOW_SCORE, off: Collection[str] = ()
) -> list[str]:
    """Say why a trained model's MNIST test accuracy is likely low: the settings that are small.

    Parameters
    ----------
    card : mapping
        The model's card (:func:`digit_pipeline.training.train.train` writes it).
    bar : float
        Accuracies at or above it need no reason.
    off : collection of str
        Names of :data:`SMALL_SETTINGS` not to blame.

    Returns
    -------
    list of str
        One phrase per small setting, in the order of :data:`SMALL_SETTINGS`; empty when
        the accuracy is not below ``bar`` (or unknown), or when no setting is small.

    Examples
    --------
    >>> card = {"mnist_test_accuracy": 0.155, "hidden": 8, "dropout": 0.2, "epochs_run": 3,
    ...         "batch_size": 128, "data": {"train_images": 1000}}
    >>> for reason in low_score_reasons(card):
    ...     print(reason)
    only 8 hidden units, too few to tell ten digits apart well
    only 1,000 training digits (MNIST has 54 000)
    only 3 epochs
    only 21 weight updates in all (training digits ÷ batch size × epochs)
    >>> low_score_reasons({**card, "mnist_test_accuracy": 0.97})
    []
    """
    accuracy = card.get("mnist_test_accuracy")
    if accuracy is None or accuracy >= bar:
        return []
    reasons = []
    for rule in SMALL_SETTINGS:
        value = rule.figure(card)
        if rule.name in off or value is None:
            continue
        if (value >= rule.limit) if rule.high else (value < rule.limit):
            reasons.append(rule.says.format(value=value, s="" if value == 1 else "s"))
    return reasons
