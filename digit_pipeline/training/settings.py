"""The single declaration of a training run's settings: default, label, help, range.

:class:`TrainSettings` is what :func:`~digit_pipeline.training.train.train` takes; the
``train`` command's options (:mod:`digit_pipeline.cli.train`), the command written in a
model's card and the Model lab's form are all made from :data:`TRAIN_SPECS`, so a new
setting is written here once. Ranges (``low``, ``high``, ``step``, ``offered``) are what
the app's form offers; :func:`~digit_pipeline.training.train.train` checks only what
cannot work (an unknown architecture, four hidden layers, a teacher's share above 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .architectures import ARCHITECTURES, DEFAULT_DROPOUT, DEFAULT_HIDDEN


def _per_arch(defaults: dict[str, Any]) -> str:
    """Say what ``None`` stands for, per architecture: ``"mlp 1024, cnn 128"``."""
    return ", ".join(f"{arch} {value}" for arch, value in defaults.items())


def _setting(
    default: Any,
    label: str,
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    step: float | None = None,
    choices: tuple[Any, ...] | None = None,
    offered: tuple[Any, ...] | None = None,
    unset: str | None = None,
    metavar: str | None = None,
) -> Any:
    return field(
        default=default,
        metadata={
            "label": label,
            "help": help,
            "low": low,
            "high": high,
            "step": step,
            "choices": choices,
            "offered": offered,
            "unset": unset,
            "metavar": metavar,
        },
    )


@dataclass(frozen=True)
class TrainSettings:
    """Every knob of one training run; the defaults are the ``train`` command's.

    Parameters
    ----------
    arch : {"mlp", "cnn"}
        Flatten-Dense or the small CNN.
    augment : bool
        Augment the training batches (:class:`~.augment.AugmentConfig`'s defaults).
    epochs : int
        Most epochs to run (one epoch = one pass over the training images).
    seed : int
        Seeds Keras, NumPy, the validation split, the shuffle and the augmentation.
    hidden : tuple of int, optional
        Units of the dense hidden layer(s); ``None`` = the architecture's default. The
        Flatten-Dense model takes 1-3 layers; the CNN one.
    dropout : float, optional
        Dropout after them; ``None`` = the architecture's default.
    batch_size : int
        Mini-batch size.
    learning_rate : float
        Adam's initial learning rate (a cosine decay takes it to 1 % of itself).
    train_size : int, optional
        Train on only this many (seeded, random) training images; ``None`` = all of them
        but the validation split.
    filters : int
        Filters of the CNN's first block (``arch="cnn"`` only).
    patience : int
        Epochs without validation improvement before stopping.
    teacher : str, optional
        A trained ``.keras`` model to learn from as well (knowledge distillation).
    teacher_weight : float
        Share of the teacher in the training targets, 0-1.
    validation_size : int
        Training images held out for early stopping (at most a fifth of them).

    Examples
    --------
    >>> TrainSettings(epochs=3).replace(arch="cnn").arch
    'cnn'
    >>> [spec.name for spec in TRAIN_SPECS][:3]
    ['arch', 'augment', 'epochs']
    """

    arch: str = _setting(
        "mlp", "Architecture", "mlp = Flatten-Dense, cnn = small CNN", choices=ARCHITECTURES
    )
    augment: bool = _setting(
        True,
        "Augmentation",
        "augment the training batches: shifts, rotations, zoom, stroke width, elastic distortion",
    )
    epochs: int = _setting(30, "Epochs", "most epochs", low=1, high=50, step=1)
    seed: int = _setting(0, "Seed", "random seed")
    hidden: tuple[int, ...] | None = _setting(
        None,
        "Hidden units",
        "dense hidden units; mlp takes 1-3 layers, e.g. --hidden 256 128",
        low=8,
        high=4096,
        step=32,
        unset=_per_arch(DEFAULT_HIDDEN),
        metavar="UNITS",
    )
    dropout: float | None = _setting(
        None,
        "Dropout",
        "share of the hidden units switched off at each training step",
        low=0.0,
        high=0.7,
        step=0.05,
        unset=_per_arch(DEFAULT_DROPOUT),
    )
    batch_size: int = _setting(
        128, "Batch size", "training images per weight update", offered=(32, 64, 128, 256, 512)
    )
    learning_rate: float = _setting(
        1e-3, "Learning rate", "Adam's initial rate", offered=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
    )
    train_size: int | None = _setting(
        None,
        "Training images",
        "train on only N training images (a quick demo)",
        offered=(1000, 5000, 20000, None),
        unset="all but the validation split",
        metavar="N",
    )
    filters: int = _setting(
        32, "Filters (first block)", "CNN filters of the first block", low=4, high=64, step=4
    )
    patience: int = _setting(8, "Patience", "epochs without validation gain before stopping", low=1)
    teacher: str | None = _setting(
        None,
        "Teacher (distillation)",
        "a trained .keras model to learn from as well (distillation), e.g. models/cnn.keras",
        unset="none",
        metavar="MODEL",
    )
    teacher_weight: float = _setting(
        0.5,
        "Teacher's share",
        "share of the teacher's output in the training targets",
        low=0.0,
        high=1.0,
        step=0.1,
    )
    validation_size: int = _setting(
        6000,
        "Validation images",
        "training images held out for early stopping (at most a fifth of them)",
        low=1,
        metavar="N",
    )

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a plain JSON-ready dict (``hidden`` as a list)."""
        values = dataclasses.asdict(self)
        if values["hidden"] is not None:
            values["hidden"] = list(values["hidden"])
        return values

    def replace(self, **changes: Any) -> TrainSettings:
        """Return a copy with ``changes`` applied (names of fields; others raise TypeError)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class SettingSpec:
    """How one field of :class:`TrainSettings` is named, explained and bounded.

    ``choices`` are the only values that work; ``offered`` the values the app's form lets
    one pick (the command line takes any); ``unset`` says what ``None`` stands for.
    """

    name: str
    kind: type
    default: Any
    label: str
    help: str
    low: float | None
    high: float | None
    step: float | None
    choices: tuple[Any, ...] | None
    offered: tuple[Any, ...] | None
    unset: str | None
    metavar: str | None
    many: bool
    """A tuple of ``kind`` (``hidden``: one number per layer)."""

    @property
    def option(self) -> str:
        """The command-line spelling, ``--batch-size`` for ``batch_size``."""
        return "--" + self.name.replace("_", "-")


def _kind(annotation: str) -> type:
    for kind in (bool, float, str):
        if annotation.startswith(kind.__name__):
            return kind
    return int


TRAIN_SPECS: tuple[SettingSpec, ...] = tuple(
    SettingSpec(
        name=f.name,
        kind=_kind(str(f.type)),
        default=f.default,
        many=str(f.type).startswith("tuple"),
        **f.metadata,
    )
    for f in dataclasses.fields(TrainSettings)
)
"""One :class:`SettingSpec` per field of :class:`TrainSettings`, in declaration order."""


def setting_spec(name: str) -> SettingSpec:
    """Return the :class:`SettingSpec` of the field ``name``.

    Examples
    --------
    >>> setting_spec("epochs").label
    'Epochs'
    """
    [spec] = [s for s in TRAIN_SPECS if s.name == name]
    return spec


def command_line(settings: TrainSettings, out: str, data: str | None = None) -> str:
    """Return the ``python -m digit_pipeline train`` command that runs ``settings`` again.

    Every setting is written out (so a later change of a default does not change what the
    command makes); a setting left ``None`` takes its default, so it is left out.

    Parameters
    ----------
    settings : TrainSettings
        What was trained (``hidden`` and ``dropout`` as they were resolved, ideally).
    out : str
        The model file.
    data : str, optional
        The MNIST ``.npz``; ``None`` = Keras' loader.

    Returns
    -------
    str

    Examples
    --------
    >>> line = command_line(TrainSettings(hidden=(256, 128), dropout=0.2), "m.keras")
    >>> line.startswith("python -m digit_pipeline train --arch mlp --augment --epochs 30")
    True
    >>> "--hidden 256 128 --dropout 0.2 --batch-size 128 --learning-rate 0.001" in line
    True
    >>> line.endswith("--validation-size 6000 --out m.keras")
    True
    """
    words = ["python -m digit_pipeline train"]
    for spec in TRAIN_SPECS:
        value = getattr(settings, spec.name)
        if spec.kind is bool:
            words.append(spec.option if value else "--no-" + spec.option[2:])
        elif value is not None:
            words += [spec.option, _word(value)]
    words += ["--out", str(out)] + (["--data", str(data)] if data is not None else [])
    return " ".join(words)


def _word(value: Any) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return " ".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)
