"""The models' architectures: the Flatten-Dense model (the default) and the small CNN."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..model import INPUT_SHAPE, NUM_CLASSES, _keras

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_DROPOUT",
    "DEFAULT_HIDDEN",
    "build_cnn",
    "build_mlp",
    "describe",
]


def build_mlp(hidden: int | Sequence[int] = 1024, dropout: float = 0.2) -> keras.Model:
    """Build the Flatten-Dense model: Flatten -> [Dense(relu) -> Dropout] x k -> Dense(softmax).

    Parameters
    ----------
    hidden : int or sequence of int
        Units of the hidden layer, or of each hidden layer in order.
    dropout : float
        Dropout rate after each.

    Returns
    -------
    keras.Model
        Uncompiled.
    """
    keras = _keras()
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            keras.layers.Flatten(),
            *[
                layer
                for units in _layers(hidden)
                for layer in (
                    keras.layers.Dense(units, activation="relu"),
                    keras.layers.Dropout(dropout),
                )
            ],
            keras.layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="mlp",
    )


def build_cnn(filters: int = 32, hidden: int = 128, dropout: float = 0.3) -> keras.Model:
    """Build the small CNN: two blocks of two Conv-BN-ReLU and a max-pool, then Dense.

    ``Reshape(28, 28, 1) -> [Conv(f, 3x3)-BN-ReLU] x2 -> MaxPool(2) -> [Conv(2f, 3x3)-BN-ReLU]
    x2 -> MaxPool(2) -> Flatten -> Dense(hidden, relu) -> Dropout -> Dense(10, softmax)``,
    convolutions unpadded (28 -> 24 -> 12 -> 8 -> 4). The input stays ``(N, 28, 28)``.

    Parameters
    ----------
    filters : int
        Filters of the first block; the second block has twice as many.
    hidden : int
        Units of the dense layer.
    dropout : float
        Dropout rate after it.

    Returns
    -------
    keras.Model
        Uncompiled.
    """
    keras = _keras()
    layers = keras.layers

    def conv_bn_relu(n: int) -> list:
        return [layers.Conv2D(n, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU()]

    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Reshape((*INPUT_SHAPE, 1)),
            *conv_bn_relu(filters),
            *conv_bn_relu(filters),
            layers.MaxPooling2D(2),
            *conv_bn_relu(2 * filters),
            *conv_bn_relu(2 * filters),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(hidden, activation="relu"),
            layers.Dropout(dropout),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="cnn",
    )


ARCHITECTURES = ("mlp", "cnn")
"""What :func:`train` can build: the Flatten-Dense model (the default) or the small CNN."""

DEFAULT_HIDDEN = {"mlp": 1024, "cnn": 128}
"""Hidden units of each architecture's dense layer unless told otherwise."""

DEFAULT_DROPOUT = {"mlp": 0.2, "cnn": 0.3}
"""Dropout after each architecture's dense layer unless told otherwise."""


def _layers(hidden: int | Sequence[int]) -> list[int]:
    return [int(hidden)] if isinstance(hidden, int) else [int(h) for h in hidden]


def describe(arch: str, hidden: int | Sequence[int], dropout: float, filters: int = 32) -> str:
    """Return the one-line architecture of a model, as the card shows it.

    Examples
    --------
    >>> describe("mlp", 1024, 0.2)
    'Flatten(28x28) -> Dense(1024, relu) -> Dropout(0.2) -> Dense(10, softmax)'
    >>> describe("mlp", [256, 128], 0.1).count("Dense(")
    3
    """
    layers = " -> ".join(f"Dense({u}, relu) -> Dropout({dropout})" for u in _layers(hidden))
    head = f"{layers} -> Dense(10, softmax)"
    if arch == "mlp":
        return f"Flatten(28x28) -> {head}"
    return (
        f"Reshape(28x28x1) -> [Conv({filters}, 3x3)-BN-ReLU] x2 -> MaxPool(2) -> "
        f"[Conv({2 * filters}, 3x3)-BN-ReLU] x2 -> MaxPool(2) -> Flatten -> {head}"
    )
