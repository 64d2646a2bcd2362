"""The lab's Altair charts: learning curves, a confusion-matrix heatmap, its difference."""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd

CELL = "cell"  # name of the confusion matrix's click selection
MOST_TICKS = 12  # most epochs labelled on a curve's axis


def curves_frame(history: list[dict[str, Any]]) -> pd.DataFrame:
    """Long-form per-epoch figures: epoch, metric (loss/accuracy), split (training/validation)."""
    rows = []
    for h in history:
        for metric in ("loss", "accuracy"):
            for split, key in (("training", metric), ("validation", f"val_{metric}")):
                if h.get(key) is not None:
                    rows.append(
                        {"epoch": h["epoch"], "metric": metric, "split": split, "value": h[key]}
                    )
    return pd.DataFrame(rows, columns=["epoch", "metric", "split", "value"])


def epoch_ticks(last: int, most: int = MOST_TICKS) -> list[int]:
    """Whole epochs to label on an axis running to epoch ``last``: at most ``most`` of them.

    Examples
    --------
    >>> epoch_ticks(1)
    [1]
    >>> epoch_ticks(25)
    [1, 4, 7, 10, 13, 16, 19, 22, 25]
    """
    step = max(1, -(-(last - 1) // max(1, most - 1)))
    return list(range(1, last + 1, step))


def curve_chart(history: list[dict[str, Any]], metric: str) -> alt.Chart:
    """Line chart of one metric per epoch, training and validation.

    Epochs are labelled as whole numbers (one epoch alone reads "1", not "1.000000").
    """
    frame = curves_frame(history)
    frame = frame[frame["metric"] == metric]
    last = max([int(h["epoch"]) for h in history], default=1)
    epochs = alt.X(
        "epoch:Q",
        title="epoch",
        scale=alt.Scale(domain=[0.5, last + 0.5], nice=False, zero=False),
        axis=alt.Axis(values=epoch_ticks(last), format="d"),
    )
    return (
        alt.Chart(frame, title=metric.capitalize())
        .mark_line(point=True)
        .encode(
            x=epochs,
            y=alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False)),
            color=alt.Color("split:N", title=None),
            tooltip=["epoch", "split", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(height=240)
    )


def matrix_frame(matrix: np.ndarray) -> pd.DataFrame:
    """Long-form matrix: one row per (true, predicted) cell with its count."""
    size = matrix.shape[0]
    true, predicted = np.divmod(np.arange(size * size), size)
    return pd.DataFrame(
        {"true": true, "predicted": predicted, "count": np.asarray(matrix).ravel().astype(int)}
    )


def confusion_chart(matrix: np.ndarray, title: str = "Confusion matrix") -> alt.LayerChart:
    """Heatmap with counts: right answers (the diagonal) pale green, mistakes in orange.

    Clicking a cell selects it (selection ``cell`` with fields ``true`` and ``predicted``).
    """
    frame = matrix_frame(matrix)
    frame["diagonal"] = frame["true"] == frame["predicted"]
    most = max(1, int(frame.loc[~frame["diagonal"], "count"].max()))
    pick = alt.selection_point(name=CELL, fields=["true", "predicted"], on="click")
    base = alt.Chart(frame, title=title).encode(
        x=alt.X("predicted:O", title="predicted digit", axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("true:O", title="true digit"),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.condition(
            "datum.diagonal",
            alt.value("#d9f0d3"),
            alt.Color(
                "count:Q",
                title="mistakes",
                scale=alt.Scale(scheme="oranges", domain=[0, most]),
            ),
        ),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
        tooltip=["true", "predicted", "count"],
    )
    text = (
        base.mark_text(fontSize=11)
        .encode(
            text="count:Q",
            color=alt.condition(
                f"!datum.diagonal && datum.count > {most / 2}",
                alt.value("white"),
                alt.value("black"),
            ),
        )
        .transform_filter("datum.count > 0")
    )
    return (cells.add_params(pick) + text).properties(width=420, height=420)


def difference_chart(diff: np.ndarray, title: str) -> alt.LayerChart:
    """Heatmap of B − A counts: blue where B has more, red where A has more."""
    frame = matrix_frame(diff)
    limit = max(1, int(np.abs(diff).max()))
    base = alt.Chart(frame, title=title).encode(
        x=alt.X("predicted:O", title="predicted digit", axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("true:O", title="true digit"),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "count:Q", title="B − A", scale=alt.Scale(scheme="redblue", domain=[-limit, limit])
        ),
        tooltip=["true", "predicted", "count"],
    )
    text = base.mark_text(fontSize=11).encode(text="count:Q")
    return (cells + text).properties(width=420, height=420)


def picked_cell(event: Any) -> tuple[int | None, int | None]:
    """Return (true, predicted) of the clicked matrix cell, or (None, None)."""
    try:
        points = event["selection"][CELL]
    except (KeyError, TypeError):
        return None, None
    if not points:
        return None, None
    point = points[0]
    return int(point["true"]), int(point["predicted"])
