"""The Evaluate tab's real sheets: reading accuracy on a folder of photos with their truth."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from digit_pipeline.benchmarking.realsheets import SheetResult, read_folder
from digit_pipeline.model import ModelLoadError
from digit_pipeline.reading import read_sheet
from workbench.cache import model_future
from workbench.lab_cache import model_digest

REAL_ENV = "DIGIT_WORKBENCH_REAL"
SHARED_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_dev"


def real_folder() -> Path | None:
    """Return ``$DIGIT_WORKBENCH_REAL`` or ``../shared/data/real_dev`` if it has a truth.json."""
    folder = Path(os.environ[REAL_ENV]) if os.environ.get(REAL_ENV) else SHARED_REAL
    return folder if (folder / "truth.json").is_file() else None


@st.cache_data(max_entries=8, show_spinner="Reading the real sheets (auto-fit each)…")
def real_results(model_hash: str, path: str, folder: str) -> list[SheetResult]:
    """Read every real sheet with the model (keyed by its content hash)."""
    model = model_future(path).result()

    def text(image: object) -> str:
        sheet = read_sheet(image, model=model, auto=True).sheet
        return sheet.text if sheet is not None else ""

    return read_folder(folder, text)


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
    hits, total = sum(r.hits for r in results), sum(r.total for r in results)
    st.metric(
        f"Digits read right on {len(results)} real sheets",
        f"{hits / max(total, 1):.1%}",
        help=f"{hits} of {total}",
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "sheet": r.file,
                    "truth": r.truth.replace("\n", " / "),
                    "read": r.error or r.read.replace("\n", " / "),
                    "right": f"{r.hits}/{r.total}",
                }
                for r in results
            ]
        ),
        hide_index=True,
    )
