"""MNIST with no network: one default on every page, and a sentence instead of a traceback.

These run for real: the machines the project runs on reach no dataset host, so Keras'
standard loader fails as it does for a user offline (a test is skipped where it downloads).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FIXTURES, ROOT, goto
from streamlit.testing.v1 import AppTest

from digit_pipeline.training.data import (
    MNIST_ENV,
    SHARED_MNIST,
    MnistUnavailableError,
    default_mnist,
    load_mnist,
)
from digit_pipeline.userdata import Dataset

APP = str(ROOT / "streamlit_app.py")


def offline_or_skip() -> None:
    """Skip where Keras can download MNIST (its cache is in the test's temporary home)."""
    try:
        load_mnist(None)
    except MnistUnavailableError:
        return
    pytest.skip("MNIST downloads here: the offline path cannot be shown")


def test_the_default_is_the_variable_then_the_shared_copy_then_keras(monkeypatch):
    monkeypatch.setenv(MNIST_ENV, str(FIXTURES / "mnist_small.npz"))
    assert default_mnist() == str(FIXTURES / "mnist_small.npz")
    monkeypatch.delenv(MNIST_ENV)
    assert default_mnist() == (str(SHARED_MNIST) if SHARED_MNIST.is_file() else "")
    monkeypatch.setattr("digit_pipeline.training.data.SHARED_MNIST", ROOT / "no" / "mnist.npz")
    assert default_mnist() == ""


def test_no_network_is_one_sentence_saying_what_to_do():
    offline_or_skip()
    with pytest.raises(MnistUnavailableError) as caught:
        load_mnist(None)
    message = str(caught.value)
    assert message.startswith("MNIST could not be downloaded")
    assert "mnist.npz" in message and MNIST_ENV in message and "connect" in message
    assert isinstance(caught.value, OSError)  # the pages' and the CLI's handlers catch it


def save_digits(home, count: int = 12) -> None:
    rng = np.random.default_rng(0)
    digits = (rng.random((count, 28, 28)) * 255).astype(np.uint8)
    Dataset(home / "dataset").save(digits, [k % 10 for k in range(count)], source="test")


def test_both_pages_start_from_the_same_mnist(monkeypatch, home):
    monkeypatch.setenv(MNIST_ENV, str(FIXTURES / "mnist_small.npz"))
    save_digits(home)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["show_dataset"] = True  # the My dataset expander, opened
    at.run()
    assert not at.exception
    assert at.text_input(key="mnist_path").value == str(FIXTURES / "mnist_small.npz")
    goto(at, "lab")
    assert at.text_input(key="lab_data").value == str(FIXTURES / "mnist_small.npz")


def test_fine_tune_offline_says_what_to_do_and_shows_no_traceback(monkeypatch, home):
    offline_or_skip()
    monkeypatch.delenv(MNIST_ENV, raising=False)
    save_digits(home)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["show_dataset"] = True  # the My dataset expander, opened
    at.run()
    at.text_input(key="mnist_path").set_value("")
    at.number_input(key="ft_epochs").set_value(1)
    at.button(key="finetune").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "MNIST could not be downloaded" in errors[0], errors
    assert not list((home / "models").glob("*.keras"))  # nothing half-made
