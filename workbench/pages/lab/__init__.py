"""The Model lab page: train a model and watch it learn, evaluate one, compare two.

Its fourth tab measures the judge's pair reader on held-out generated pairs.
"""

from __future__ import annotations

import streamlit as st

from digit_pipeline.training.data import default_mnist
from digit_pipeline.training.yardsticks import available
from workbench.common import list_models
from workbench.pages.lab.evaluate import compare_tab, evaluate_tab
from workbench.pages.lab.pairs import pair_tab
from workbench.pages.lab.train import train_tab


def data_source() -> str:
    """Return the MNIST file the lab trains and measures on ("" = Keras' standard loader)."""
    st.session_state.setdefault("lab_data", default_mnist())
    with st.sidebar:
        path = st.text_input(
            "MNIST .npz",
            key="lab_data",
            help="keras.datasets layout (x_train, y_train, x_test, y_test). Empty: "
            "keras.datasets.mnist.load_data(), which downloads once. Validation is cut "
            "from the training images; the test digits are only measured.",
        ).strip()
    return path


def yardstick(data: str) -> tuple[str, str, str]:
    """Return the digits Evaluate and Compare measure on: (label, kind, path).

    MNIST's test digits, or (when ``../shared/data`` holds them) USPS's real digits by
    other writers, or real_dev's photos' digits cut at their true boxes.
    """
    sticks = available(data)
    with st.sidebar:
        label = st.selectbox(
            "Measure models on",
            list(sticks),
            key="lab_yardstick",
            help="MNIST's test digits; USPS: 7 291 zip-code digits by other writers, cut to "
            "28x28 as a sheet's box is; real_dev: the 217 digits of the real photos, cut at "
            "their true boxes. For measuring only: never trained on.",
        )
    return (label, *sticks.get(label, sticks["MNIST test"]))


def render() -> None:
    """Draw the Model lab."""
    st.title("Model lab")
    st.caption(
        "Train a Flatten-Dense network (or the small CNN) on MNIST and watch its curves; "
        "look at a model's confusion matrix and the digits it gets wrong; compare two models; "
        "measure the judge's pair reader."
    )
    data = data_source()
    models = list_models()
    if not models:
        st.error("No models found: the shipped models folder is empty.")
        return
    train, evaluate, compare, pairs = st.tabs(["Train", "Evaluate", "Compare", "Pair reader"])
    with train:
        train_tab(models, data)
    stick = yardstick(data)
    with evaluate:
        evaluate_tab(models, stick)
    with compare:
        compare_tab(models, stick)
    with pairs:
        pair_tab(data)
