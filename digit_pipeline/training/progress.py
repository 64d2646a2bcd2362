"""Watch a training run: per-batch and per-epoch figures, a stop request, a text progress bar.

:class:`TrainingLog` is plain, thread-safe state that a training thread writes and anyone
(the app's page, the command line) reads; :func:`monitor` makes the Keras callback that fills
it and turns a stop request into ``model.stop_training`` after the current batch.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["EPOCH_FIELDS", "TrainingLog", "monitor", "text_bar"]

EPOCH_FIELDS = ("loss", "accuracy", "val_loss", "val_accuracy")
"""Keras' per-epoch figures kept in the log and the card's ``history`` (plus ``seconds``)."""


@dataclass
class TrainingLog:
    """What a training run has done so far; written by one thread, read by others.

    Attributes
    ----------
    epochs : int
        Most epochs the run will do (known once training starts).
    steps : int
        Batches per epoch.
    epoch : int
        The epoch under way, 0-based.
    batch : int
        Batches done in this epoch.
    batch_loss, batch_accuracy : float or None
        Running training figures of the epoch under way.
    history : list of dict
        One dict per finished epoch: ``epoch`` (1-based), :data:`EPOCH_FIELDS`, ``seconds``.
    phase : str
        What the run does after its epochs, in words (``""`` while it trains): the last
        seconds, measuring and saving, would otherwise look like a frozen last batch.
    cut_short : bool
        Whether a stop request ended training before its last planned batch (a stop that
        comes after it, while the run measures and saves, cuts nothing).
    """

    epochs: int = 0
    steps: int = 0
    epoch: int = 0
    batch: int = 0
    batch_loss: float | None = None
    batch_accuracy: float | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    phase: str = ""
    cut_short: bool = False
    started: float = field(default_factory=time.perf_counter)
    stop_event: threading.Event = field(default_factory=threading.Event, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def request_stop(self) -> None:
        """Ask the run to stop after the current batch (it keeps its best weights)."""
        self.stop_event.set()

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`request_stop` was called."""
        return self.stop_event.is_set()

    def set_phase(self, text: str) -> None:
        """Say what the run does now that its epochs are over (``""``: it trains)."""
        with self.lock:
            self.phase = text

    def last_batch_done(self) -> bool:
        """Whether the last planned batch of the last planned epoch has run.

        Examples
        --------
        >>> TrainingLog(epochs=2, steps=10, epoch=1, batch=10).last_batch_done()
        True
        >>> TrainingLog(epochs=2, steps=10, epoch=0, batch=10).last_batch_done()
        False
        """
        with self.lock:
            return bool(self.steps) and (self.epoch + 1, self.batch) >= (self.epochs, self.steps)

    def fraction(self) -> float:
        """Share of all planned batches done, in [0, 1].

        Examples
        --------
        >>> log = TrainingLog(epochs=2, steps=10, epoch=1, batch=5)
        >>> log.fraction()
        0.75
        """
        with self.lock:
            if not self.epochs or not self.steps:
                return 0.0
            return min(1.0, (self.epoch * self.steps + self.batch) / (self.epochs * self.steps))

    def snapshot(self) -> dict[str, Any]:
        """Return a consistent copy of the figures (for drawing)."""
        with self.lock:
            return {
                "epochs": self.epochs,
                "steps": self.steps,
                "epoch": self.epoch,
                "batch": self.batch,
                "batch_loss": self.batch_loss,
                "batch_accuracy": self.batch_accuracy,
                "history": [dict(h) for h in self.history],
                "phase": self.phase,
                "seconds": time.perf_counter() - self.started,
            }


def monitor(log: TrainingLog, on_update: Any = None) -> Any:
    """Return a Keras callback that fills ``log`` and honours its stop request.

    Parameters
    ----------
    log : TrainingLog
    on_update : callable, optional
        Called as ``on_update(log, end_of_epoch)`` after every batch and every epoch (the
        command line's progress bar).

    Notes
    -----
    A stop request is honoured after the current batch unless that batch was the run's
    last; ``log.cut_short`` then says whether it ended training early.

    Returns
    -------
    keras.callbacks.Callback
    """
    import keras

    class _Monitor(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            with log.lock:
                log.epochs = int(self.params.get("epochs") or 0)
                log.steps = int(self.params.get("steps") or 0)
                log.started = time.perf_counter()
            self._tick = time.perf_counter()

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            with log.lock:
                log.epoch, log.batch = epoch, 0
            self._tick = time.perf_counter()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            with log.lock:
                log.batch = batch + 1
                log.batch_loss = _number(logs.get("loss"))
                log.batch_accuracy = _number(logs.get("accuracy"))
            if log.stop_requested and not self.model.stop_training and not log.last_batch_done():
                self.model.stop_training = True
                with log.lock:
                    log.cut_short = True
            if on_update is not None:
                on_update(log, False)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            record = {"epoch": epoch + 1}
            record.update({k: _number(logs.get(k)) for k in EPOCH_FIELDS})
            record["seconds"] = round(time.perf_counter() - self._tick, 3)
            with log.lock:
                log.history.append(record)
            if on_update is not None:
                on_update(log, True)

    return _Monitor()


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def text_bar(stream: TextIO | None = None, width: int = 30, every: float = 0.25) -> Any:
    """Return an ``on_update`` for :func:`monitor` that draws a text progress bar.

    The bar is redrawn in place at most every ``every`` seconds; each finished epoch
    prints one line with its figures and time, and the phase after the epochs
    (:attr:`TrainingLog.phase`) one line of its own.
    """
    out = stream if stream is not None else sys.stdout
    last = [0.0]

    def update(log: TrainingLog, end_of_epoch: bool) -> None:
        now = time.perf_counter()
        if log.phase:
            print(log.phase, file=out, flush=True)
            return
        if end_of_epoch:
            h = log.history[-1]
            print(
                f"\repoch {h['epoch']}/{log.epochs}: "
                + " ".join(f"{k} {h[k]:.4f}" for k in EPOCH_FIELDS if h[k] is not None)
                + f" ({h['seconds']:.1f} s)"
                + " " * 10,
                file=out,
                flush=True,
            )
            return
        if now - last[0] < every and log.batch != log.steps:
            return
        last[0] = now
        done = round(width * log.batch / max(log.steps, 1))
        loss = f" loss {log.batch_loss:.4f}" if log.batch_loss is not None else ""
        print(
            f"\repoch {log.epoch + 1}/{log.epochs} [{'#' * done}{'.' * (width - done)}] "
            f"{log.batch}/{log.steps}{loss}",
            end="",
            file=out,
            flush=True,
        )

    return update
