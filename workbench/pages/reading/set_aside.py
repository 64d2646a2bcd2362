"""The boxes the judge set aside as no digit: numbered, explained, and kept if the user says."""

from __future__ import annotations

import streamlit as st

from digit_pipeline.aliases import Box
from digit_pipeline.reading import Reading, keep_set_aside
from digit_pipeline.reading.judge import RULES, SetAside
from digit_pipeline.reading.params import PipelineParams
from workbench.pages.reading.table import keep_key


def aside_labels(set_aside: tuple[SetAside, ...]) -> tuple[tuple[Box, str], ...]:
    """Each box still set aside with its label on the image: its number and rule (A1 flat)."""
    numbers = {s: n for n, s in enumerate(st.session_state["judged"].set_aside, 1)}
    return tuple((s.box, f"A{numbers.get(s, '?')} {s.rule}") for s in set_aside)


def show_set_aside(set_aside: tuple[SetAside, ...]) -> None:
    """List the boxes the judge set aside as no digit, by rule, and let the user keep any."""
    if not set_aside:
        return
    count = len(set_aside)
    st.subheader(f"Set aside as no digit ({count})")
    st.caption(
        f"The reading took {'this box' if count == 1 else f'these {count} boxes'} for no "
        "digit; each is drawn in grey on the image with its number and rule. Keep one to "
        "read it as a digit after all."
    )
    st.markdown(
        "\n".join(f"- **A{n}** {s.rule}: {RULES[s.rule]}" for n, s in enumerate(set_aside, 1))
    )
    st.multiselect(
        "Keep as digits",
        list(range(count)),
        format_func=lambda i: f"A{i + 1} ({set_aside[i].rule})",
        key=keep_key(),
        help="The judge's decision undone: the box is cut and read with the others.",
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def kept_reading(
    key: str,
    params: PipelineParams,
    model_path: str,
    keep: tuple[int, ...],
    _judged: Reading,
    _model: object,
) -> Reading:
    """Return the reading with the set-aside boxes ``keep`` read as digits, once per choice."""
    return keep_set_aside(_judged, keep, _model)
