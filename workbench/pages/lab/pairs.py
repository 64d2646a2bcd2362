"""The lab's Pair reader tab: the judge's pair reader measured on held-out generated pairs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import streamlit as st

from digit_pipeline.model import MODELS_DIR, ModelLoadError, load_card
from digit_pipeline.reading.judge import PAIRS
from digit_pipeline.reading.judge.verdicts import read_judge_model
from digit_pipeline.training.finetune import user_models_dir
from digit_pipeline.training.pairs import (
    CLASSES,
    PairEvaluation,
    evaluate_pair_reader,
    held_out_pairs,
)
from workbench.pages.lab.cache import data_key, model_digest
from workbench.pages.lab.charts import confusion_chart

COUNTS = (500, 2000, 5000, 20000)
"""How many held-out boxes the tab can make (``train-pairs`` measures on 20 000)."""
ASKED = "lab_pair_asked"  # (reader, count, data) last measured: the result stays shown
MISTAKES = 20  # most wrong reads shown


def pair_readers() -> dict[str, Path]:
    """Map names to pair readers: the shipped one, then the user's own (101-class cards)."""
    found = {}
    shipped = MODELS_DIR / PAIRS
    if shipped.is_file():
        found[f"{shipped.name} (shipped)"] = shipped
    folder = user_models_dir()
    for path in sorted(folder.glob("*.keras")) if folder.is_dir() else []:
        if load_card(path).get("classes") == list(CLASSES):
            found[f"{path.name} (yours)"] = path
    return found


@st.cache_data(max_entries=8, show_spinner="Making held-out pairs and reading them…")
def pair_evaluation(
    model_hash: str, path: str, data: str, data_id: str, count: int
) -> PairEvaluation:
    """Measure the reader (keyed by its content hash) on ``count`` held-out boxes."""
    model = read_judge_model(Path(path), "train-pairs")
    x, y = held_out_pairs(data or None, count)
    return evaluate_pair_reader(model, x, y)


def figures_row(result: PairEvaluation) -> None:
    """Show the four held-out figures side by side."""
    figures = result.figures
    for column, (label, key, help_text) in zip(
        st.columns(4),
        (
            ("Pairs read whole", "pair_accuracy", "both digits right, in order"),
            ("First digit", "first_digit_accuracy", "the pair's left digit right"),
            ("Second digit", "second_digit_accuracy", "the pair's right digit right"),
            ("One digit read as a pair", "one_digit_read_as_pair", "lower is better"),
        ),
        strict=True,
    ):
        column.metric(label, f"{figures[key]:.1%}", help=help_text)


def mistakes_gallery(result: PairEvaluation, per_row: int = 5) -> None:
    """Show the surest wrong reads, each box enlarged, captioned "true → read (confidence)"."""
    wrong = result.mistakes(MISTAKES)
    if not wrong:
        st.success("No box was read wrong.")
        return
    columns = st.columns(per_row)
    for k, (index, true, read, confidence) in enumerate(wrong):
        big = cv2.resize(result.x[index], None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
        columns[k % per_row].image(big, caption=f"{true} → {read} ({confidence:.0%})")


def pair_tab(data: str) -> None:
    """Draw the Pair reader tab: pick a reader, measure it, show its figures and mistakes."""
    readers = pair_readers()
    if not readers:
        st.info(
            "No pair reader found. Train one with "
            "`python -m digit_pipeline train-pairs --data ../shared/data/mnist.npz`."
        )
        return
    st.caption(
        "The judge's pair reader reads a box of two touching digits whole (00–99, or "
        "'one digit'). It is measured here on pairs made from the MNIST training digits it "
        "never trained on (the last 6 000), run into each other as on paper."
    )
    name = st.selectbox("Pair reader", list(readers), key="lab_pair_model")
    path = readers[name]
    card = load_card(path)
    if "pair_accuracy" in card:
        st.caption(
            f"Its card (held-out pairs when trained): {card['pair_accuracy']:.1%} of pairs "
            f"read whole, {card.get('one_digit_read_as_pair', 0):.1%} of single digits read "
            f"as a pair. Rebuilt by `{card.get('command', 'train-pairs')}`."
        )
    count = st.select_slider("Held-out boxes", COUNTS, value=2000, key="lab_pair_count")
    asked = (name, count, data)
    if st.button("Measure on held-out pairs", key="lab_pair_go"):
        st.session_state[ASKED] = asked
    if st.session_state.get(ASKED) != asked:
        st.caption("Press the button to make the pairs and read them (a few seconds).")
        return
    try:
        result = pair_evaluation(model_digest(path), str(path), data, data_key(data), count)
    except ModelLoadError as error:
        st.error(str(error))
        return
    except (OSError, ValueError) as error:
        st.error(f"The pairs could not be made or read: {error}")
        return
    figures_row(result)
    first, second = st.columns(2)
    first.altair_chart(confusion_chart(result.digit(0).confusion, "First digit"))
    second.altair_chart(confusion_chart(result.digit(1).confusion, "Second digit"))
    st.caption(
        "A digit's row counts the pairs that have it there; the reader's answer for it is "
        "its probabilities summed over the other digit."
    )
    st.subheader("Surest wrong reads")
    mistakes_gallery(result)
    st.caption(f"{int(np.sum(result.guess != result.y))} of {len(result.y)} boxes read wrong.")
