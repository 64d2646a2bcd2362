"""The user's dataset: save the digits, show and delete samples, fine-tune a model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import streamlit as st

from digit_pipeline.model import ModelLoadError
from digit_pipeline.training.data import MNIST_ENV, default_mnist
from digit_pipeline.training.finetune import (
    MIN_SAMPLES,
    FineTuneResult,
    fine_tune,
    worse_than_base,
)
from digit_pipeline.userdata import Dataset, DatasetError, default_dir
from workbench.common import Source

if TYPE_CHECKING:  # pragma: no cover
    import altair as alt

RESULT = "finetune_result"  # session key: the last fine-tune (FineTuneResult), kept across reruns
NOTE = "finetune_note"  # session key: a sentence for the next run (what Delete did)
FEW_HELD_BACK = 30  # below this many held-back digits, one digit moves that figure > 3 points
MEASURE_WORDS = {  # how the page names finetune.MEASURES
    "mnist_test_accuracy": "MNIST test",
    "user_holdout_accuracy": "your held-back digits",
}


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


def counts_chart(counts: Mapping[int, int]) -> alt.Chart:
    """Bar chart of how many digits of each class are saved, the digits upright below."""
    import altair as alt  # here, not at the top: the reading page opens without them
    import pandas as pd

    frame = pd.DataFrame({"digit": list(range(10)), "saved": [counts.get(d, 0) for d in range(10)]})
    return (
        alt.Chart(frame, title="Your digits per class")
        .mark_bar()
        .encode(
            x=alt.X("digit:O", title="digit", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("saved:Q", title="saved", axis=alt.Axis(tickMinStep=1, format="d")),
            tooltip=["digit", "saved"],
        )
        .properties(height=200)
    )


def show_dataset(model_path: str) -> None:
    """Show the user's dataset in an expander: counts, samples, delete, fine-tuning.

    Drawn only while the expander is open (``show_dataset``): the dataset is read from
    disk and 40 samples drawn, which a slider move with it closed does not pay for.
    """
    panel = st.expander("My dataset", expanded=False, key="show_dataset", on_change="rerun")
    if not panel.open:
        return
    with panel:
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
        st.altair_chart(counts_chart(counts))
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
        run_fine_tune(dataset, model_path, mnist, int(epochs))
    show_fine_tune_result()


def run_fine_tune(dataset: Dataset, model_path: str, mnist: str, epochs: int) -> None:
    """Fine-tune with a progress bar; keep the result in the session (the buttons rerun)."""
    st.session_state.pop(RESULT, None)
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
            epochs=epochs,
            progress=lambda fraction, text: bar.progress(min(1.0, fraction), text=text),
        )
    except (ValueError, OSError, ModelLoadError) as error:
        bar.empty()  # no bar left standing at "Starting"
        st.error(f"Fine-tuning failed: {error}")
        return
    st.session_state[RESULT] = result


def show_fine_tune_result() -> None:
    """Show the last fine-tune: Use it now when it is no worse, else a warning and Delete."""
    note = st.session_state.pop(NOTE, None)
    if note:
        st.info(note)
    result: FineTuneResult | None = st.session_state.get(RESULT)
    if result is None:
        return
    if not result.path.is_file():  # deleted meanwhile
        st.session_state.pop(RESULT)
        return
    name = f"{result.path.name} (yours)"  # its name in the sidebar's model list
    fell = result.card.get("worse_than_base", worse_than_base(result.card))
    if fell:
        st.warning(worse_text(result.card, fell))
        left, right = st.columns([1, 3], vertical_alignment="center")
        left.button("Delete it", key="ft_delete", on_click=delete_model, args=(result.path,))
        right.caption(f"Or keep it: it stays under Model as “{name}”.")
    else:
        st.success(f"New model {result.path.name} saved in {result.path.parent}.")
        if st.session_state.get("model") == name:
            st.caption(f"“{name}” is selected under Model: it reads your sheets now.")
        else:
            st.button("Use it now", key="ft_use", on_click=use_model, args=(name,))
    st.table(before_after(result.card))


def worse_text(card: Mapping[str, Any], fell: list[str]) -> str:
    """Say plainly where a fine-tune does worse than its base model, and on how many digits.

    Examples
    --------
    >>> card = {"base_model": "mlp.keras", "data": {"user_samples_held_back": 3},
    ...         "before": {"user_holdout_accuracy": 1.0}, "after": {"user_holdout_accuracy": 2 / 3}}
    >>> print(worse_text(card, ["user_holdout_accuracy"]))  # doctest: +NORMALIZE_WHITESPACE
    This fine-tune does worse than mlp.keras, the model it started from: your held-back
    digits 100.00% before, 66.67% after. It was not selected. The held-back figure rests
    on only 3 of your digits: each one moves it by 33.3 points.
    """
    figures = "; ".join(
        f"{MEASURE_WORDS[m]} {card['before'][m]:.2%} before, {card['after'][m]:.2%} after"
        for m in fell
    )
    text = (
        f"This fine-tune does worse than {card.get('base_model', 'its base')}, the model it "
        f"started from: {figures}. It was not selected."
    )
    held = (card.get("data") or {}).get("user_samples_held_back", 0)
    if 0 < held < FEW_HELD_BACK:
        text += (
            f" The held-back figure rests on only {held} of your digits: each one moves it "
            f"by {100 / held:.1f} points."
        )
    return text


def before_after(card: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return the table of both measures, before and after."""
    before, after = card["before"], card["after"]
    return {
        "": [MEASURE_WORDS[m] for m in MEASURE_WORDS],
        "before": [f"{before[m]:.2%}" for m in MEASURE_WORDS],
        "after": [f"{after[m]:.2%}" for m in MEASURE_WORDS],
    }


def use_model(name: str) -> None:
    """Select ``name`` in the sidebar's Model list (a callback: it runs before that is drawn)."""
    st.session_state["model"] = name


def delete_model(path: Path) -> None:
    """Delete a fine-tuned model and its card; the sidebar forgets it if it was selected."""
    try:
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)
    except OSError as error:
        st.session_state[NOTE] = f"Could not delete {path}: {error}"
        return
    st.session_state.pop(RESULT, None)
    if st.session_state.get("model") == f"{path.name} (yours)":
        del st.session_state["model"]
    st.session_state[NOTE] = f"Deleted {path.name} and its card from {path.parent}."
