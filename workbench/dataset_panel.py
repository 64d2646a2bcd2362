"""The user's dataset: save the digits, show and delete samples, fine-tune a model."""

from __future__ import annotations

import cv2
import numpy as np
import streamlit as st

from digit_pipeline.model import ModelLoadError
from digit_pipeline.training.data import MNIST_ENV, default_mnist
from digit_pipeline.training.finetune import MIN_SAMPLES, fine_tune
from digit_pipeline.userdata import Dataset, DatasetError, default_dir
from workbench.common import Source


def save_to_dataset(source: Source, digits: np.ndarray, labels: list[int]) -> None:
    """Show the Save to my dataset button and save when it is pressed."""
    if st.button("Save to my dataset", key="save", help=f"Adds the digits to {default_dir()}"):
        try:
            saved = Dataset(default_dir()).save(digits, labels, source=source.name)
        except DatasetError as error:
            st.error(f"Not saved, and nothing in your dataset was changed. {error}")
        except OSError as error:
            st.error(f"Could not save to {default_dir()}: {error}")
        else:
            st.success(
                f"Saved to {default_dir()}: {saved.added} new, {saved.updated} relabelled, "
                f"{saved.unchanged} already there."
            )


def show_dataset(model_path: str) -> None:
    """Show the user's dataset in an expander: counts, samples, delete, fine-tuning."""
    with st.expander("My dataset", expanded=False):
        dataset = Dataset(default_dir())
        try:
            samples = dataset.samples()
        except DatasetError as error:
            st.error(f"Your dataset cannot be shown until this is mended. {error}")
            return
        st.caption(f"{len(samples)} digits saved in {default_dir()}.")
        if not samples:
            st.info("Predict a sheet, correct any label, then press Save to my dataset.")
            return
        counts = dataset.counts()
        st.bar_chart({"digits": [counts[d] for d in range(10)]}, x_label="digit 0–9")
        recent = samples[-40:][::-1]
        columns = st.columns(10)
        for k, sample in enumerate(recent):
            big = cv2.resize(
                dataset.image(sample.id), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST
            )
            columns[k % 10].image(big, caption=f"{sample.label} · {sample.id[:6]}")
        left, right = st.columns([3, 1])
        victim = left.selectbox(
            "Sample to delete",
            [s.id for s in recent],
            key="delete_id",
            format_func=lambda i: f"{i[:6]} (labelled {dict((s.id, s.label) for s in recent)[i]})",
        )
        if right.button("Delete sample", key="delete"):
            dataset.delete(victim)
            st.rerun()
        fine_tune_panel(dataset, model_path)


def fine_tune_panel(dataset: Dataset, model_path: str) -> None:
    """Fine-tune the selected model on MNIST plus the user's dataset."""
    st.markdown(
        "**Teach the model** — fine-tune the selected model on MNIST training data "
        "plus your digits; the shipped model is never overwritten."
    )
    st.session_state.setdefault("mnist_path", default_mnist())  # the lab's default too
    mnist = st.text_input(
        "MNIST .npz",
        key="mnist_path",
        help=f"keras.datasets layout. Starts at ${MNIST_ENV}, else ../shared/data/mnist.npz "
        "beside the checkout; empty: keras.datasets.mnist.load_data(), which downloads once.",
    ).strip()
    st.session_state.setdefault("ft_epochs", 3)
    epochs = st.number_input("Epochs", 1, 20, key="ft_epochs")
    if st.button("Fine-tune", key="finetune"):
        x, y = dataset.load()
        if len(x) < MIN_SAMPLES:
            st.warning(f"Save at least {MIN_SAMPLES} digits first (you have {len(x)}).")
            return
        bar = st.progress(0.0, text="Starting")
        try:
            result = fine_tune(
                model_path,
                x,
                y,
                mnist=mnist or None,
                epochs=int(epochs),
                progress=lambda fraction, text: bar.progress(min(1.0, fraction), text=text),
            )
        except (ValueError, OSError, ModelLoadError) as error:
            st.error(f"Fine-tuning failed: {error}")
            return
        before, after = result.card["before"], result.card["after"]
        st.success(
            f"New model {result.path.name} saved in {result.path.parent}; pick it under Model."
        )
        st.table(
            {
                "": ["MNIST test", "your held-back digits"],
                "before": [
                    f"{before['mnist_test_accuracy']:.2%}",
                    f"{before['user_holdout_accuracy']:.2%}",
                ],
                "after": [
                    f"{after['mnist_test_accuracy']:.2%}",
                    f"{after['user_holdout_accuracy']:.2%}",
                ],
            }
        )
