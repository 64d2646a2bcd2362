"""MNIST, as training, fine-tuning and the benchmarks read it."""

from __future__ import annotations

import os

import numpy as np

from ..model import INPUT_SHAPE, _keras

__all__ = ["load_mnist", "validation_split"]


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
