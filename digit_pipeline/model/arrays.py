"""Read with a model without TensorFlow: a Sequential model's forward pass in NumPy.

Importing TensorFlow takes seconds (about 3 s on a 2-core machine) and a large heap, and
the reading page needs none of it: reading a sheet is only the forward pass of small
models (Flatten-Dense classifiers, the judge's small CNNs). :func:`load_arrays` reads a
``.keras`` file (a zip of ``config.json`` and ``model.weights.h5``, read with h5py, in
safe mode: nothing is unpickled or executed) into an :class:`ArrayModel` whose
``model(x, training=False)`` gives what Keras gives, to float32 rounding.

Only plain Sequential models of :data:`LAYERS` (the shipped ones, and what the Model
lab trains) load this way; :func:`load_arrays` returns None for anything else, and the
caller falls back to Keras (:func:`~digit_pipeline.model.load_reader`).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["LAYERS", "ArrayModel", "load_arrays"]

Layer = Callable[[np.ndarray], np.ndarray]

CHUNK = 256
"""Rows an :class:`ArrayModel` runs at once."""

ACTIVATIONS: dict[str, Layer] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "softmax": lambda x: _softmax(x),
}
"""The activations a layer may name."""


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class ArrayModel:
    """A Sequential model as NumPy layers: ``model(x, training=False)`` as Keras calls it.

    Attributes
    ----------
    name : str
    input_shape, output_shape : tuple
        ``(None, ...)``, as Keras gives them.
    """

    def __init__(
        self,
        name: str,
        layers: list[Layer],
        input_shape: tuple,
        output_shape: tuple,
        weights: list[np.ndarray] | None = None,
    ) -> None:
        self.name = name
        self.layers = layers
        self.input_shape = input_shape
        self.output_shape = output_shape
        self._weights = weights or []

    def get_weights(self) -> list[np.ndarray]:
        """Return copies of the weights, layer by layer, in Keras's order."""
        return [w.copy() for w in self._weights]

    def __call__(self, x: Any, training: bool = False) -> np.ndarray:
        """Return the model's outputs for ``x`` (inference only: ``training`` is ignored).

        In chunks of :data:`CHUNK` rows, so a convolution's windows stay small in memory.
        """
        x = np.asarray(x, np.float32)
        parts = []
        for start in range(0, max(len(x), 1), CHUNK):
            out = x[start : start + CHUNK]
            for layer in self.layers:
                out = layer(out)
            parts.append(out.astype(np.float32, copy=False))
        return np.concatenate(parts)


def _dense(config: dict, weights: list[np.ndarray]) -> Layer:
    kernel = weights[0]
    bias = weights[1] if config.get("use_bias", True) else None
    act = ACTIVATIONS[config.get("activation", "linear")]

    def dense(x: np.ndarray) -> np.ndarray:
        y = x @ kernel
        return act(y + bias if bias is not None else y)

    return dense


def _conv2d(config: dict, weights: list[np.ndarray]) -> Layer:
    if (
        config.get("padding") != "valid"
        or tuple(config.get("strides", (1, 1))) != (1, 1)
        or tuple(config.get("dilation_rate", (1, 1))) != (1, 1)
        or config.get("groups", 1) != 1
        or config.get("data_format", "channels_last") != "channels_last"
    ):
        raise NotImplementedError("Conv2D: only valid padding, stride 1, channels last")
    kernel = weights[0]  # (kh, kw, in, out)
    bias = weights[1] if config.get("use_bias", True) else None
    act = ACTIVATIONS[config.get("activation", "linear")]
    kh, kw, _, out = kernel.shape
    matrix = np.ascontiguousarray(kernel.transpose(2, 0, 1, 3).reshape(-1, out))

    def conv(x: np.ndarray) -> np.ndarray:  # each window a row, one matrix product
        windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
        n, h, w = windows.shape[:3]
        y = (windows.reshape(n * h * w, -1) @ matrix).reshape(n, h, w, out)
        return act(y + bias if bias is not None else y)

    return conv


def _max_pool(config: dict, weights: list[np.ndarray]) -> Layer:
    pool = tuple(config.get("pool_size", (2, 2)))
    strides = tuple(config.get("strides") or pool)
    if config.get("padding") != "valid" or strides != pool:
        raise NotImplementedError("MaxPooling2D: only valid padding, strides = pool size")
    ph, pw = pool

    def max_pool(x: np.ndarray) -> np.ndarray:
        n, h, w, c = x.shape
        h, w = h // ph, w // pw
        return x[:, : h * ph, : w * pw].reshape(n, h, ph, w, pw, c).max(axis=(2, 4))

    return max_pool


def _batch_norm(config: dict, weights: list[np.ndarray]) -> Layer:
    if config.get("axis", -1) not in (-1, 3, [-1], [3]):
        raise NotImplementedError("BatchNormalization: only the last axis")
    it = iter(weights)
    gamma = next(it) if config.get("scale", True) else 1.0
    beta = next(it) if config.get("center", True) else 0.0
    mean, variance = next(it), next(it)
    factor = gamma / np.sqrt(variance + np.float32(config.get("epsilon", 1e-3)))
    shift = beta - mean * factor
    return lambda x: x * factor + shift


def _relu(config: dict, weights: list[np.ndarray]) -> Layer:
    if (
        config.get("max_value") is not None
        or config.get("negative_slope", 0)
        or config.get("threshold", 0)
    ):
        raise NotImplementedError("ReLU: only the plain one")
    return ACTIVATIONS["relu"]


LAYERS: dict[str, Callable[[dict, list[np.ndarray]], Layer]] = {
    "InputLayer": lambda c, w: lambda x: x,
    "Dropout": lambda c, w: lambda x: x,
    "Flatten": lambda c, w: lambda x: x.reshape(len(x), -1),
    "Reshape": lambda c, w: lambda x: x.reshape(len(x), *c["target_shape"]),
    "Dense": _dense,
    "Conv2D": _conv2d,
    "MaxPooling2D": _max_pool,
    "BatchNormalization": _batch_norm,
    "ReLU": _relu,
    "Activation": lambda c, w: ACTIVATIONS[c["activation"]],
}
"""The layers an :class:`ArrayModel` runs, by Keras class name."""


def _weight_paths(specs: list[dict]) -> list[str]:
    """Where each layer's weights sit in ``model.weights.h5``: ``""`` for the input layer.

    Keras names a Sequential model's layers there by class, in order, within the model
    (``dense``, ``dense_1``, ``conv2d``…), whatever names the layers were given.

    Examples
    --------
    >>> specs = [{"class_name": c} for c in ("InputLayer", "Conv2D", "ReLU", "Dense", "Dense")]
    >>> _weight_paths(specs)
    ['', 'conv2d', 're_lu', 'dense', 'dense_1']
    """
    seen: dict[str, int] = {}
    paths = []
    for spec in specs:
        if spec["class_name"] == "InputLayer":
            paths.append("")
            continue
        snake = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", spec["class_name"])
        snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", snake).lower()
        count = seen.get(snake, 0)
        seen[snake] = count + 1
        paths.append(snake if count == 0 else f"{snake}_{count}")
    return paths


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def load_arrays(path: str | Path) -> ArrayModel | None:
    """Load a ``.keras`` Sequential model of :data:`LAYERS` as an :class:`ArrayModel`.

    Returns None when the file holds anything else (another kind of model, a layer or an
    option not in :data:`LAYERS`): the caller then loads it with Keras. A file that is no
    ``.keras`` zip raises what reading it raised (:class:`OSError`, :class:`KeyError`,
    :class:`zipfile.BadZipFile`, :class:`ValueError`).
    """
    import h5py

    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        weights_file = io.BytesIO(archive.read("model.weights.h5"))
    if config.get("class_name") != "Sequential":
        return None
    specs = config["config"]["layers"]
    layers, every = [], []
    try:
        with h5py.File(weights_file, "r") as h5:
            stored = h5.get("layers")
            for spec, path in zip(specs, _weight_paths(specs), strict=True):
                group = stored.get(f"{path}/vars") if stored is not None and path else None
                weights = (
                    [_read_only(np.asarray(group[str(i)], np.float32)) for i in range(len(group))]
                    if group is not None
                    else []
                )
                every += weights
                layers.append(LAYERS[spec["class_name"]](spec["config"], weights))
    except (KeyError, IndexError, NotImplementedError, StopIteration, TypeError):
        return None
    first = specs[0]["config"] if specs and specs[0]["class_name"] == "InputLayer" else {}
    shape = first.get("batch_shape") or first.get("batch_input_shape")
    if not shape:
        return None
    name = config["config"].get("name", Path(path).stem)
    model = ArrayModel(name, layers, tuple(shape), (), every)
    probe = model(np.zeros((1, *shape[1:]), np.float32))
    model.output_shape = (None, *probe.shape[1:])
    return model
