"""The lab's cached heavy numbers: test digits once per yardstick, evaluations per model hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from digit_pipeline.training.data import load_mnist
from digit_pipeline.training.evaluation import Evaluation, evaluate, file_digest
from digit_pipeline.training.yardsticks import REAL_DEV_BOXES, yardstick_of
from workbench.cache import model_future


def data_key(path: str) -> str:
    """Key a data source by path, size and modification time ("" = Keras' loader).

    A folder of photos is keyed by its true boxes' file (what decides its digits).
    """
    if not path:
        return "keras.datasets.mnist"
    file = REAL_DEV_BOXES if Path(path).is_dir() else Path(path)
    stat = file.stat()
    return f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


@st.cache_resource(max_entries=2, show_spinner="Loading MNIST…")
def mnist(key: str, path: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, ...]]:
    """Load MNIST once per file (read-only arrays shared by every session)."""
    (x_train, y_train), (x_test, y_test) = load_mnist(path or None)
    for array in (x_train, y_train, x_test, y_test):
        array.setflags(write=False)
    return (x_train, y_train), (x_test, y_test)


@st.cache_resource(max_entries=4, show_spinner="Cutting the yardstick's digits…")
def _yardstick(kind: str, key: str, path: str) -> tuple[np.ndarray, np.ndarray]:
    stick = yardstick_of(kind, path)
    for array in (stick.x, stick.y):
        array.setflags(write=False)
    return stick.x, stick.y


def test_digits(path: str, kind: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """Return the digits and labels measured on (read-only, cached).

    MNIST's test split from ``path`` ("" = Keras' loader), or another yardstick
    (:func:`~digit_pipeline.training.yardsticks.yardstick_of`).
    """
    if kind == "mnist":
        return mnist(data_key(path), path)[1]
    return _yardstick(kind, data_key(path), path)


@st.cache_data(max_entries=64, show_spinner=False)
def digest(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a model file, recomputed only when its size or time changes."""
    return file_digest(path)


def model_digest(path: Path) -> str:
    """Return the content hash of the model file at ``path``."""
    stat = path.stat()
    return digest(str(path), stat.st_size, stat.st_mtime_ns)


@st.cache_data(max_entries=32, show_spinner="Evaluating the model on the test digits…")
def evaluation(model_hash: str, path: str, data: str, data_id: str, kind: str) -> Evaluation:
    """Evaluate the model (keyed by its content hash) on the digits of ``data``."""
    x, y = test_digits(data, kind)
    return evaluate(model_future(path).result(), x, y)


def evaluate_path(path: Path, data: str, kind: str = "mnist") -> Evaluation:
    """Return the cached evaluation of the model file at ``path`` on ``data``'s digits."""
    return evaluation(model_digest(path), str(path), data, data_key(data), kind)
