"""MNIST, as training, fine-tuning and the benchmarks read it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..model import INPUT_SHAPE, _keras

__all__ = ["MnistUnavailableError", "default_mnist", "load_mnist", "validation_split"]

MNIST_ENV = "DIGIT_WORKBENCH_MNIST"
"""Environment variable naming the MNIST ``.npz`` every page of the app uses by default."""

SHARED_MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist.npz"
"""``../shared/data/mnist.npz`` beside the checkout, where the team keeps a copy."""


class MnistUnavailableError(OSError):
    """Keras' standard loader could not download MNIST (no connection, a blocked host)."""


def default_mnist() -> str:
    """Return the MNIST file the app uses unless told otherwise.

    ``$DIGIT_WORKBENCH_MNIST`` if set, else ``../shared/data/mnist.npz`` beside the checkout
    when it exists, else ``""``: Keras' standard loader (``load_mnist(None)``), which
    downloads once. Every page of the app starts from this one default.
    """
    if os.environ.get(MNIST_ENV):
        return os.environ[MNIST_ENV]
    return str(SHARED_MNIST) if SHARED_MNIST.is_file() else ""


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
    MnistUnavailableError
        If ``path`` is None and the standard loader cannot download MNIST; the message
        says what to do (give a local file, or connect).
    OSError
        If the file cannot be read.
    """
    if path is None:
        try:
            return _keras().datasets.mnist.load_data()
        except Exception as error:  # Keras raises a bare Exception ("URL fetch failure")
            raise MnistUnavailableError(  # the cause stays chained, for the logs
                "MNIST could not be downloaded (no internet connection?): give the path of a "
                f"local mnist.npz (keras.datasets layout), or set ${MNIST_ENV} to one, or "
                "connect to the internet and try again."
            ) from error
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


def validation_split(count: int, seed: int = 0, size: int = 6000) -> tuple[np.ndarray, np.ndarray]:
    """Return the indices of the validation split and of the rest of ``count`` images.

    The split training cuts (seeded, at most a fifth of the images), so a fine-tuned
    model's validation accuracy compares with its base model's card.

    Examples
    --------
    >>> val, fit = validation_split(100, seed=0, size=30)
    >>> len(val), len(fit), len(set(val) | set(fit))
    (20, 80, 100)
    """
    order = np.random.default_rng(seed).permutation(count)
    size = min(size, count // 5)
    return order[:size], order[size:]
