"""The lab's Evaluate and Compare tabs: matrix, per-class table, mistakes, McNemar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
import streamlit as st

from digit_pipeline.model import ModelLoadError, load_card, predict_proba
from digit_pipeline.training.comparison import mcnemar
from digit_pipeline.training.evaluation import Evaluation, Mistake
from digit_pipeline.userdata import Dataset, DatasetError, default_dir
from workbench.cache import get_model, keras_model
from workbench.pages.lab.cache import evaluate_path, test_digits
from workbench.pages.lab.charts import confusion_chart, curve_chart, difference_chart, picked_cell
from workbench.pages.lab.real import real_sheets_panel

ANY = "any"  # the "no filter" choice of the true/predicted selectboxes
GALLERY = 30  # most mistakes shown at once
CM_ROUND = "lab_cm_round"  # bumped to forget the matrix's clicked cell: the chart gets a new key
CM_CELL = "lab_cm_cell"  # the clicked cell last copied into the two selectboxes
FILTERS = ("lab_true", "lab_pred")  # keys of the True digit / Predicted digit selectboxes


def measured(path: Path, stick: tuple[str, str, str]) -> Evaluation | None:
    """Return the (cached) evaluation on ``stick`` (label, kind, path), or say why not."""
    label, kind, data = stick
    try:
        return evaluate_path(path, data, kind)
    except ModelLoadError as error:
        st.error(str(error))
    except (OSError, ValueError) as error:
        st.error(f"The digits of {label} could not be read from {data or 'Keras'}: {error}")
    return None


def gallery(items: list[tuple[np.ndarray, str]], per_row: int = 10) -> None:
    """Show 28×28 digits enlarged, with a caption each."""
    columns = st.columns(per_row)
    for k, (digit, caption) in enumerate(items):
        big = cv2.resize(np.asarray(digit), None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
        columns[k % per_row].image(big, caption=caption)


def mistake_items(x: np.ndarray, mistakes: list[Mistake]) -> list[tuple[np.ndarray, str]]:
    """Pair each mistake's digit with "true → predicted (confidence)"."""
    return [(x[m.index], f"{m.true} → {m.predicted} ({m.confidence:.0%})") for m in mistakes]


def per_class_table(result: Evaluation) -> pd.DataFrame:
    """Per-digit precision, recall, F1 and support, as a table."""
    return pd.DataFrame([s.to_dict() for s in result.per_class]).set_index("digit")


def summary_table(model: Any) -> pd.DataFrame:
    """Layers, output shapes and parameter counts (what ``model.summary()`` shows)."""
    rows = []
    for layer in model.layers:
        try:
            shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):
            shape = "?"
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output shape": shape.replace("None", "N"),
                "parameters": int(layer.count_params()),
            }
        )
    return pd.DataFrame(rows)


def show_cell(cell: tuple[int, int] | None) -> None:
    """Set both selectboxes to ``cell`` (None: any), remembering it as the clicked cell."""
    st.session_state[CM_CELL] = cell
    for key, digit in zip(FILTERS, cell or (ANY, ANY), strict=True):
        st.session_state[key] = digit


def clear_cell() -> None:
    """Forget the clicked matrix cell (the chart gets a fresh key) and show every mistake."""
    st.session_state[CM_ROUND] = st.session_state.get(CM_ROUND, 0) + 1
    show_cell(None)


def filter_changed() -> None:
    """Forget a clicked cell once a selectbox is changed by hand, so the two agree."""
    if st.session_state.get(CM_CELL) is not None:
        st.session_state[CM_ROUND] = st.session_state.get(CM_ROUND, 0) + 1
        st.session_state[CM_CELL] = None


def follow_click(event: Any) -> None:
    """Copy a newly clicked cell into the selectboxes; a click undone in the chart empties them.

    Call after the chart is drawn and before the selectboxes are.
    """
    cell = picked_cell(event)
    shown = st.session_state.get(CM_CELL)
    if cell[0] is None:
        if shown is not None:  # undone in the chart itself (a double-click)
            show_cell(None)
    elif cell != shown:
        show_cell(cell)


def mistakes_panel(result: Evaluation, x: np.ndarray) -> None:
    """Filter by the two selectboxes (a clicked cell sets them); show the worst mistakes."""
    left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
    t = left.selectbox("True digit", [ANY, *range(10)], key=FILTERS[0], on_change=filter_changed)
    p = middle.selectbox(
        "Predicted digit", [ANY, *range(10)], key=FILTERS[1], on_change=filter_changed
    )
    true, predicted = (None if t == ANY else t), (None if p == ANY else p)
    right.button(
        "Clear the cell",
        key="lab_cm_clear",
        on_click=clear_cell,
        disabled=true is None and predicted is None,
        help="Show every mistake again (as a double-click on the matrix does).",
    )
    shown = result.mistakes(GALLERY, true=true, predicted=predicted)
    where = f" read as {predicted}" if predicted is not None else ""
    which = (
        f"true {true}{where}"
        if true is not None
        else (f"read as {predicted}" if predicted is not None else "all")
    )
    st.markdown(f"**Worst mistakes** ({which}: {len(shown)} shown, most confident first)")
    if not shown:
        filtered = true is not None or predicted is not None
        st.info("No mistakes in this cell." if filtered else "No mistakes: every digit read right.")
        return
    gallery(mistake_items(x, shown))


def own_digits_accuracy(path: Path) -> None:
    """Accuracy on the user's saved digits, when there are any."""
    try:
        x, y = Dataset(default_dir()).load()
    except (DatasetError, OSError) as error:
        st.caption(f"Your dataset could not be read: {error}")
        return
    if not len(x):
        st.caption("Your own dataset is empty (save digits on the reading page to measure it).")
        return
    hits = predict_proba(get_model(str(path)), x).argmax(axis=1) == y
    st.metric("Accuracy on your own digits", f"{hits.mean():.2%}", help=f"{len(x)} digits")


def evaluate_tab(models: dict[str, Path], stick: tuple[str, str, str]) -> None:
    """Pick a model; show its accuracy on ``stick``, matrix, table, mistakes, curves."""
    name = st.selectbox("Model to evaluate", list(models), key="lab_eval_model")
    if st.button("Evaluate", key="lab_evaluate", type="primary"):
        st.session_state.lab_eval_on = True
    if not st.session_state.get("lab_eval_on"):
        st.info(f"Press Evaluate to measure the model on {stick[0]}'s digits.")
        return
    path = models[name]
    result = measured(path, stick)
    if result is None:
        return
    x, _ = test_digits(stick[2], stick[1])
    card = load_card(path)
    first, second, third = st.columns(3)
    first.metric(
        f"{stick[0].split(':')[0]} accuracy", f"{result.accuracy:.2%}", help=f"{result.n} digits"
    )
    second.metric("Mistakes", f"{result.n - int(result.correct.sum())}")
    if card.get("mnist_test_accuracy") is not None and stick[1] == "mnist":
        third.metric("Card says", f"{card['mnist_test_accuracy']:.2%}")
    own_digits_accuracy(path)
    left, right = st.columns([3, 2])
    with left:
        event = st.altair_chart(
            confusion_chart(result.confusion, f"Confusion matrix — {name}"),
            on_select="rerun",
            key=f"lab_cm_{st.session_state.get(CM_ROUND, 0)}",
        )
        follow_click(event)
        st.caption(
            "Rows: the true digit; columns: what the model read. Click a cell to see those "
            "mistakes: the True digit and Predicted digit boxes below follow it. "
            "**Clear the cell** (or a double-click on the matrix) shows them all again."
        )
    with right:
        st.markdown("**Per digit**")
        st.dataframe(
            per_class_table(result).style.format("{:.4f}", subset=["precision", "recall", "f1"])
        )
    mistakes_panel(result, x)
    with st.expander("Reading accuracy on real sheets", expanded=False):
        real_sheets_panel(path)
    with st.expander("Model summary and training curves", expanded=False):
        model = keras_model(str(path))
        st.dataframe(summary_table(model), hide_index=True)
        st.caption(f"{int(model.count_params()):,} parameters · {card.get('architecture', '')}")
        history = card.get("history")
        if isinstance(history, list) and history and all(isinstance(h, dict) for h in history):
            a, b = st.columns(2)
            a.altair_chart(curve_chart(history, "loss"))
            b.altair_chart(curve_chart(history, "accuracy"))
        else:
            st.caption(
                "This model's card keeps no per-epoch history (it was trained before the lab)."
            )


def compare_tab(models: dict[str, Path], stick: tuple[str, str, str]) -> None:
    """Two models on the same digits: accuracies, matrix difference, McNemar, digits."""
    names = list(models)
    left, right = st.columns(2)
    name_a = left.selectbox("Model A", names, key="lab_cmp_a")
    name_b = right.selectbox("Model B", names, index=min(1, len(names) - 1), key="lab_cmp_b")
    if st.button("Compare", key="lab_compare", type="primary"):
        st.session_state.lab_cmp_on = True
    if not st.session_state.get("lab_cmp_on"):
        st.info("Pick two models and press Compare.")
        return
    a, b = measured(models[name_a], stick), measured(models[name_b], stick)
    if a is None or b is None:
        return
    x, _ = test_digits(stick[2], stick[1])
    st.caption(f"On {stick[0]} ({a.n} digits).")
    left.metric(f"A: {name_a}", f"{a.accuracy:.2%}")
    right.metric(
        f"B: {name_b}", f"{b.accuracy:.2%}", delta=f"{(b.accuracy - a.accuracy) * 100:+.2f} points"
    )
    test = mcnemar(a.correct, b.correct)
    verdict = "a real difference" if test.p_value < 0.05 else "no significant difference"
    kind = "exact binomial" if test.method == "exact" else "chi-square with continuity correction"
    st.markdown(
        f"**McNemar's test** ({kind}): A alone right on {test.only_a} digits, B alone right on "
        f"{test.only_b}; p = {test.p_value:.3g} — {verdict} at the 5 % level."
    )
    st.altair_chart(difference_chart(b.confusion - a.confusion, "Confusion matrix B − A"))
    st.caption(
        "Blue: B puts more digits in this cell than A; red: fewer. On the diagonal blue is good."
    )
    for title, mask, who in (
        ("A right, B wrong", a.correct & ~b.correct, b),
        ("B right, A wrong", b.correct & ~a.correct, a),
    ):
        index = np.flatnonzero(mask)[:GALLERY]
        more = f", first {len(index)} shown" if mask.sum() > len(index) else ""
        st.markdown(f"**{title}** ({int(mask.sum())} digits{more})")
        if len(index):
            gallery([(x[i], f"{int(a.y_true[i])}: wrong {int(who.predicted[i])}") for i in index])
