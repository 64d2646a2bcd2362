"""The Evaluate tab's real sheets: reading accuracy on a folder of photos with their truth."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from digit_pipeline.benchmarking.real import load_truth, read_entry, score_text
from digit_pipeline.model import ModelLoadError
from workbench.cache import model_future
from workbench.pages.lab.cache import model_digest

REAL_ENV = "DIGIT_WORKBENCH_REAL"
SHARED_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_dev"


def real_folder() -> Path | None:
    """Return ``$DIGIT_WORKBENCH_REAL`` or ``../shared/data/real_dev`` if it has a truth.json."""
    folder = Path(os.environ[REAL_ENV]) if os.environ.get(REAL_ENV) else SHARED_REAL
    return folder if (folder / "truth.json").is_file() else None


@st.cache_data(max_entries=8, show_spinner="Reading the real sheets (auto-fit each)…")
def real_results(model_hash: str, path: str, folder: str) -> list[dict]:
    """Read every real sheet as ``read`` does, scored as ``bench --real`` scores it.

    Keyed by the model's content hash. A sheet that cannot be read counts 0, with its error.
    """
    model = model_future(path).result()
    rows = []
    for entry in load_truth(folder):
        try:
            _, reading, _ = read_entry(Path(folder), entry, model, auto=True)
            text, error = reading.text, None
        except (OSError, ValueError) as problem:
            text, error = "", str(problem)
        score = score_text(entry, text)
        rows.append(
            {
                "sheet": entry["file"],
                "truth": entry["text"].replace("\n", " / "),
                "read": error or text.replace("\n", " / "),
                "right": score.correct,
                "digits": score.truth,
                "extra": score.extra,
            }
        )
    return rows


def real_sheets_panel(path: Path) -> None:
    """Offer to read the real sheets with the model at ``path``; show the accuracy."""
    folder = real_folder()
    if folder is None:
        st.caption(
            f"No folder of real sheets (set {REAL_ENV} to a folder with a truth.json, "
            "like ../shared/data/real_dev)."
        )
        return
    if not st.button(f"Read the {folder.name} sheets", key="lab_real"):
        return
    try:
        results = real_results(model_digest(path), str(path), str(folder))
    except (OSError, ValueError, KeyError, ModelLoadError) as error:
        st.error(f"The real sheets could not be read: {error}")
        return
    hits, total = sum(r["right"] for r in results), sum(r["digits"] for r in results)
    st.metric(
        f"Digits read right on {len(results)} real sheets",
        f"{hits / max(total, 1):.1%}",
        help=f"{hits} of {total}",
    )
    st.dataframe(pd.DataFrame(results), hide_index=True)
