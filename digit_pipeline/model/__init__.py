"""The model contract: what a model takes and gives, where the shipped ones live, loading.

Contract: 10 classes; input ``(N, 28, 28)`` float32 in [0, 1], white digit on black
(MNIST's own convention); output ``(N, 10)`` class probabilities. Models are ``.keras``
files loaded with :func:`keras.saving.load_model` in safe mode, each with a JSON card
beside it (same stem, ``.json``). Nothing is ever unpickled. Building and training models
is :mod:`digit_pipeline.training`'s business. The constant the image stages share with the
model side, :data:`~digit_pipeline.model.contract.MNIST_SIZE`, lives in
:mod:`digit_pipeline.model.contract`, which imports nothing.

TensorFlow/Keras is imported lazily, so the stages and the app's box drawing start fast;
reading needs no TensorFlow at all: :func:`load_reader` runs a plain Sequential model's
forward pass in NumPy (:mod:`digit_pipeline.model.arrays`), and only training, fine-tuning
and the lab's model summary load Keras (:func:`load_model`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..aliases import DigitBatch
from .contract import MNIST_SIZE

if TYPE_CHECKING:  # pragma: no cover
    import keras

NUM_CLASSES = 10
"""Digits 0-9."""

INPUT_SHAPE = (MNIST_SIZE, MNIST_SIZE)
"""Model input: one 28x28 grey image per digit."""

SHIPPED_MODELS_ENV = "DIGIT_WORKBENCH_SHIPPED_MODELS"
"""Environment variable naming the folder of the shipped models (overrides the search)."""


def shipped_models_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Return the folder of the shipped models (``mlp.keras`` and the others, with cards).

    In order: the folder named by ``$DIGIT_WORKBENCH_SHIPPED_MODELS`` (used as given);
    ``digit_pipeline/models/`` inside the installed package (where the wheel puts the
    checkout's ``models/``); the checkout's ``models/`` beside the package. When neither
    folder exists the checkout's path is returned, and :func:`load_model` names the setting
    in its error.

    Parameters
    ----------
    environ : mapping, optional
        The environment to read; ``None`` = :data:`os.environ`.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> str(shipped_models_dir({SHIPPED_MODELS_ENV: "/opt/models"}))
    '/opt/models'
    >>> (shipped_models_dir({}) / "mlp.keras").is_file()
    True
    """
    environ = os.environ if environ is None else environ
    if environ.get(SHIPPED_MODELS_ENV):
        return Path(environ[SHIPPED_MODELS_ENV]).expanduser()
    package = Path(__file__).resolve().parent.parent  # digit_pipeline/, above model/
    installed, checkout = package / "models", package.parent / "models"
    return installed if installed.is_dir() else checkout


MODELS_DIR = shipped_models_dir()
"""Where the shipped models live (see :func:`shipped_models_dir`; read once, at import)."""

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
        raise ModelLoadError(f"Model file {path} is missing. {fix}{_where_shipped(path)}")
    model = read_keras(path, fix)
    if not _fits_contract(model):
        in_shape, out_shape = _shapes(model)
        raise ModelLoadError(
            f"Model {path} takes {in_shape} and gives {out_shape}; the workbench needs "
            f"{INPUT_SHAPE} -> ({NUM_CLASSES},). {fix}"
        )
    return model


def load_reader(path: str | os.PathLike[str] = DEFAULT_MODEL) -> Any:
    """Load a model to read with: without TensorFlow when its layers allow, else with Keras.

    As :func:`load_model` (the same checks, the same errors), but a plain Sequential model
    of the layers :data:`~digit_pipeline.model.arrays.LAYERS` names is run in NumPy
    (:class:`~digit_pipeline.model.arrays.ArrayModel`: Keras's outputs to float32
    rounding, without importing TensorFlow). Reading needs only the forward pass;
    training, fine-tuning and saving take :func:`load_model`'s Keras model.

    Returns
    -------
    ArrayModel or keras.Model
        Either is called as ``model(x, training=False)``.
    """
    path = Path(path)
    if path.suffix == ".keras" and path.is_file():
        model = read_arrays(path)
        if model is not None and _fits_contract(model):
            return model
    return load_model(path)


def read_arrays(path: Path) -> Any:
    """:func:`~digit_pipeline.model.arrays.load_arrays`, or None for a file it cannot read."""
    import zipfile

    from .arrays import load_arrays

    try:
        return load_arrays(path)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None  # Keras then says what is wrong with it, and how to rebuild it


def _shapes(model: Any) -> tuple[tuple | None, tuple | None]:
    """Return a model's input and output shapes without the batch axis (None: it has none)."""
    in_shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    out_shape = tuple(model.output_shape[1:]) if hasattr(model, "output_shape") else None
    return in_shape, out_shape


def _fits_contract(model: Any) -> bool:
    """Whether ``model`` takes 28×28 digits and gives 10 probabilities."""
    in_shape, out_shape = _shapes(model)
    return in_shape in (INPUT_SHAPE, (*INPUT_SHAPE, 1)) and out_shape == (NUM_CLASSES,)


def read_keras(path: Path, fix: str) -> keras.Model:
    """Load a ``.keras`` file in safe mode; a file that cannot be read says so and ``fix``.

    Raises
    ------
    ModelLoadError
        Naming the file, what Keras raised and ``fix`` (how to rebuild it).
    """
    try:
        return _keras().saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a corrupt zip.
        raise ModelLoadError(
            f"Model file {path} could not be read ({type(error).__name__}). {fix}"
        ) from error


def _where_shipped(path: Path) -> str:
    """Say where shipped models are looked for, when ``path`` is one of them."""
    if path.resolve().parent != MODELS_DIR.resolve():
        return ""
    return (
        f" — shipped models are looked for in ${SHIPPED_MODELS_ENV} if set, else in the "
        f"installed package's digit_pipeline/models/, else in the checkout's models/ "
        f"(now {MODELS_DIR}); set {SHIPPED_MODELS_ENV} to the folder holding the .keras files."
    )


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
