"""Sidebar controls: parameters <-> widget state, the auto-fit step, the model picker."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from digit_pipeline import PARAM_SPECS, ParamSpec, PipelineParams
from digit_pipeline.model import MODELS_DIR, ModelLoadError, load_card
from digit_pipeline.reading.autofit import fit_base
from workbench.cache import fitted, model_future
from workbench.common import CANVAS_CHOICE, Source, list_models

TUNED = frozenset(
    {"blur_size", "canny_lower", "canny_multiplier", "dilate_size", "dilate_iterations"}
)
"""The stages a user tunes until the boxes fit (blur, Canny, dilation): always in the
sidebar. The rest (working size, aperture, smallest box, the switches, the ROI threshold)
are in *More settings*, drawn only while it is open, so a slider move does not redraw
them (each element a rerun sends costs the browser time: BENCHMARKS.md, bench_feel)."""


def params_to_state(params: PipelineParams) -> None:
    """Move the sidebar's controls to ``params`` (one half of the params <-> widgets pair)."""
    for spec in PARAM_SPECS:
        value = getattr(params, spec.name)
        if spec.optional:
            st.session_state[f"param_{spec.name}_auto"] = value is None
            if value is None:
                continue  # the slider keeps its place, greyed out
        st.session_state[f"param_{spec.name}"] = spec.kind(value)


def params_from_state() -> PipelineParams:
    """Return the parameters the sidebar holds (the other half; defaults where not drawn)."""
    values = {}
    for spec in PARAM_SPECS:
        value = st.session_state.get(f"param_{spec.name}", spec.default)
        if spec.optional and st.session_state.get(f"param_{spec.name}_auto", True):
            value = None
        values[spec.name] = value
    try:
        return PipelineParams(**values)
    except ValueError:
        return PipelineParams()


def fit_to(source: Source | None, judged: bool = True) -> None:
    """Fit the parameters to the image and move the sliders there (also a button callback).

    ``judged``: the fit ``read`` makes, the reading judging its candidates with the model
    (which waits for the model); else the estimate from the ink alone, at once.
    """
    if source is None:
        return
    base = fit_base(params_from_state())  # the image and the switches; not the last sliders
    model_path = selected_model_path() if judged else None
    fit = fitted(source, base, model_path)  # the reader keeps it: Predict reuses its reading
    params_to_state(fit.params)
    st.session_state["fit_name"] = source.name
    if fit.stats is None:
        st.session_state["fit_note"] = "Auto-fit found no ink on this image; nothing changed."
    else:
        stats = fit.stats
        st.session_state["fit_note"] = (
            f"Auto-fit for {source.name}: digits about {stats.digit_height:.0f} px tall, "
            f"strokes about {stats.stroke_width:.0f} px, ink {stats.contrast:.0f} grey "
            "levels darker than the paper."
        )


def auto_fit_new_image(source: Source | None) -> None:
    """Fit each new image when *Auto-fit each new image* is on (canvas drawings excepted)."""
    st.session_state.setdefault("autofit_new", True)
    if (
        source is not None
        and st.session_state["autofit_new"]
        and st.session_state.get("source") != CANVAS_CHOICE
        and st.session_state.get("fitted_digest") != source.key
    ):
        # While the model still loads (the app's first seconds), the ink's estimate draws
        # the boxes at once; the judged fit follows when the model is there.
        judged = model_future(selected_model_path()).done()
        fit_to(source, judged)
        # Marked fitted only once the sliders moved: a click while the fit runs stops this
        # run, and the next one must fit again rather than keep the last image's sliders.
        st.session_state["fitted_digest"] = source.key
        st.session_state["fit_pending"] = None if judged else (source.key, params_from_state())
    elif pending_fit(source) and (model_future(selected_model_path()).done() or wants_digits()):
        # The judged fit, now that the model is loaded — or at once (waiting for the model)
        # when the user asks for the digits: they are cut and read with the final sliders.
        try:
            with st.spinner("Loading the model to fit the stages…"):
                fit_to(source)
        except ModelLoadError:  # the estimate stays; Predict says why the model cannot load
            pass
        # Cleared only once fitted: a click that stops this run leaves it for the next one.
        st.session_state["fit_pending"] = None


def wants_digits() -> bool:
    """Whether this run was started by *Extract ROIs* or *Predict*."""
    return bool(st.session_state.get("extract") or st.session_state.get("predict"))


def pending_fit(source: Source | None) -> bool:
    """Whether ``source`` was fitted by the estimate alone and awaits the judged fit.

    Not once the user moved a slider since: their values are kept.
    """
    pending = st.session_state.get("fit_pending")
    if source is None or not pending or pending[0] != source.key:
        return False
    if pending[1] != params_from_state():
        st.session_state["fit_pending"] = None
        return False
    return True


def finish_pending_fit(source: Source | None) -> None:
    """After the page is drawn: rerun for the judged fit once the model is loaded.

    A fragment polls the model's background load, so the page stays live meanwhile: a
    click while the model loads is a run of its own, never lost to a blocked script.
    """
    if pending_fit(source):
        _poll_model()


@st.fragment(run_every=0.5)
def _poll_model() -> None:
    future = model_future(selected_model_path())
    if not future.done():
        st.caption("Loading the model to check the fit…")
    elif future.exception() is not None:  # no judged fit; Predict says why it cannot load
        st.session_state["fit_pending"] = None
    else:
        st.rerun(scope="app")


def reset_params() -> None:
    """Button callback: put every parameter back to its default."""
    params_to_state(PipelineParams())
    for key in ("fit_note", "fit_name"):
        st.session_state.pop(key, None)


def sidebar_controls(source: Source | None, fit: bool = True) -> PipelineParams:
    """Sidebar: the fit's switches and one control per pipeline parameter (PARAM_SPECS).

    ``fit``: draw the reading page's fit controls (*Auto-fit each new image*, *Auto-fit
    boxes* and what the last fit measured); the batch page fits each sheet itself.
    """
    st.sidebar.header("Stages")
    if fit:
        fit_controls(source)
    else:
        st.sidebar.button(
            "Reset", key="reset", on_click=reset_params, help="Put every stage back to its default."
        )
    for spec in PARAM_SPECS:
        if spec.name in TUNED:
            parameter_control(spec)
    more = st.sidebar.expander(
        "More settings", expanded=False, key="show_more_stages", on_change="rerun"
    )
    for spec in PARAM_SPECS:  # drawn only while open; their values live in session state
        if spec.name in TUNED:
            continue
        if more.open:
            parameter_control(spec, more)
        else:
            parameter_default(spec)
    params = params_from_state()
    st.sidebar.download_button(
        "Download these settings",
        data=json.dumps(params.to_dict(), indent=2) + "\n",
        file_name="digit-settings.json",
        mime="application/json",
        key="download_settings",
        help="Save the stages as set here, to read a whole archive with them: "
        "python -m digit_pipeline read FOLDER --params digit-settings.json --out out.jsonl",
    )
    return params


def fit_controls(source: Source | None) -> None:
    """Sidebar: *Auto-fit each new image*, *Auto-fit boxes*, *Reset* and the last fit's note."""
    st.sidebar.toggle(
        "Auto-fit each new image",
        key="autofit_new",
        help="Fit the stages to every new sample, upload or photo as it arrives "
        "(drawings on the canvas keep their own defaults). Off: new images keep the "
        "sliders as they are.",
    )
    left, right = st.sidebar.columns(2)
    left.button(
        "Auto-fit boxes",
        key="autofit",
        type="primary",
        on_click=fit_to,
        args=(source,),
        help="Measure the digits and strokes of this image and set every stage from them.",
        disabled=source is None,
    )
    right.button(
        "Reset", key="reset", on_click=reset_params, help="Put every stage back to its default."
    )
    if st.session_state.get("fit_note"):
        st.sidebar.caption(st.session_state["fit_note"])


def parameter_default(spec: ParamSpec) -> None:
    """Give a parameter's value in session state (``param_<name>``) its default, once."""
    key = f"param_{spec.name}"
    # Widgets take their values from session state only, so Auto-fit and Reset can move
    # them (a widget given both a value and a state warns).
    st.session_state.setdefault(key, spec.kind(spec.default) if spec.default is not None else 128)
    if spec.optional:
        st.session_state.setdefault(f"{key}_auto", spec.default is None)


def parameter_control(spec: ParamSpec, where: Any = None) -> None:
    """Draw one parameter's control in ``where`` (default: the sidebar).

    Its value lives in session state (``param_<name>``, :func:`parameter_default`).
    """
    parameter_default(spec)
    key = f"param_{spec.name}"
    where = st.sidebar if where is None else where
    if spec.kind is bool:
        where.toggle(spec.label, key=key, help=spec.help)
    elif spec.choices:
        where.select_slider(spec.label, options=list(spec.choices), key=key, help=spec.help)
    elif spec.optional:
        auto = where.checkbox(f"{spec.label}: {spec.optional}", key=f"{key}_auto")
        step = int(spec.step)
        low, high = int(spec.low), int(spec.high)
        where.slider(spec.label, low, high, step=step, key=key, help=spec.help, disabled=auto)
    else:
        cast = spec.kind
        where.slider(
            spec.label,
            cast(spec.low),
            cast(spec.high),
            step=cast(spec.step),
            key=key,
            help=spec.help,
        )


def selected_model_path() -> str:
    """Return the path of the model chosen in the sidebar (the default before it is drawn)."""
    models = list_models()
    name = st.session_state.get("model")
    if name in models:
        return str(models[name])
    return str(next(iter(models.values()))) if models else str(MODELS_DIR / "mlp.keras")


def model_picker() -> str:
    """Sidebar: which model reads the digits."""
    st.sidebar.header("Model")
    models = list_models()
    if not models:
        return str(MODELS_DIR / "mlp.keras")
    name = st.sidebar.selectbox("Model", list(models), key="model")
    card = load_card(models[name])
    if card:
        st.sidebar.caption(
            f"{card.get('architecture', '')} · MNIST test accuracy "
            f"{card.get('mnist_test_accuracy', float('nan')):.2%}"
        )
    return str(models[name])
