"""Training in a background thread: one job per session, watched through its TrainingLog.

No Streamlit here: the page keeps the :class:`TrainingJob` in ``st.session_state`` (so it
survives reruns) and draws ``job.log`` from a fragment.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digit_pipeline.model import ModelLoadError
from digit_pipeline.training.progress import TrainingLog


@dataclass(frozen=True)
class TrainSettings:
    """What the Train form chose (see :func:`digit_pipeline.training.train.train`)."""

    arch: str = "mlp"
    hidden: tuple[int, ...] = (128,)
    dropout: float = 0.2
    filters: int = 16
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 1e-3
    augment: bool = False
    train_size: int | None = 5000
    teacher: str | None = None
    teacher_weight: float = 0.5
    add_mine: bool = False
    name: str = "my-model"

    def kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of ``train`` these settings stand for."""
        return {
            "arch": self.arch,
            "hidden": list(self.hidden) if self.arch == "mlp" else self.hidden[0],
            "dropout": self.dropout,
            "filters": self.filters,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "augment": self.augment,
            "train_size": self.train_size,
            "teacher": self.teacher,
            "teacher_weight": self.teacher_weight,
            # A slice validates on a fifth of its size (at least 100), so a demo stays quick.
            "validation_size": 6000 if not self.train_size else max(100, self.train_size // 5),
            "patience": max(self.epochs, 1),  # the lab runs every epoch asked for
        }


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
    data: str | None,
    extra: tuple[Any, Any] | None = None,
) -> TrainingJob:
    """Start training ``settings`` in a daemon thread, into a new model file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    job = TrainingJob(settings, new_model_path(folder, settings.name))

    def work() -> None:
        from digit_pipeline.training.train import train

        try:
            result = train(
                job.out, data=data, extra=extra, log=job.log, verbose=0, **settings.kwargs()
            )
            job.card = result.card
        except (ValueError, OSError, ModelLoadError) as error:
            job.error = f"Training stopped with an error: {error}"
        except Exception as error:  # a sentence, never a traceback, on the page
            job.error = f"Training failed ({type(error).__name__}: {error})."

    job.thread = threading.Thread(target=work, name=f"train-{job.out.stem}", daemon=True)
    job.thread.start()
    return job
