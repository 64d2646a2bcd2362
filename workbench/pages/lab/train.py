"""The lab's Train tab: the form, the background job, live progress and curves, Stop."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from digit_pipeline.training.finetune import user_models_dir
from digit_pipeline.training.settings import setting_spec
from digit_pipeline.userdata import Dataset, DatasetError, default_dir
from workbench.pages.lab.charts import curve_chart
from workbench.pages.lab.jobs import (
    LAB_DEFAULTS,
    LOW_SCORE,
    TrainingJob,
    TrainRequest,
    epoch_times,
    lab_settings,
    low_score_reasons,
    start_job,
)

ARCH_CHOICES = {"Flatten-Dense": "mlp", "CNN": "cnn"}
# Redraw period while training, s. Each redraw takes the GIL from the training thread; at 1 s
# on the 2 shared cores a first batch took ~115 s against ~15 s at 5 s (see BENCHMARKS.md).
REFRESH_SECONDS = float(os.environ.get("DIGIT_WORKBENCH_LAB_REFRESH", "3.0"))
JOB = "lab_job"  # session_state key of this session's training job
CNN_UNITS = 64  # the CNN's dense layer starts smaller than the Flatten-Dense model's


def tip(name: str) -> str:
    """Return a setting's help, from its one declaration, as a widget's tip."""
    text = setting_spec(name).help
    return text[:1].upper() + text[1:] + "."


def size_label(size: int | None) -> str:
    """Name a number of training images as the form lists it.

    Examples
    --------
    >>> size_label(1000), size_label(None)
    ('1 000 digits', 'all (54 000)')
    """
    return f"{size:,} digits".replace(",", " ") if size else "all (54 000)"


def number(column: Any, name: str, value: int, key: str, label: str = "") -> int:
    """Draw a whole-number input within the setting's range (its label unless ``label``)."""
    spec = setting_spec(name)
    low, high, step = (int(v) for v in (spec.low, spec.high, spec.step))
    return int(
        column.number_input(
            label or spec.label, low, high, int(value), step=step, key=key, help=tip(name)
        )
    )


def share(column: Any, name: str, value: float, key: str, **kwargs: Any) -> float:
    """Draw a slider over the setting's range, in its steps."""
    spec = setting_spec(name)
    return float(
        column.slider(
            spec.label, spec.low, spec.high, value, spec.step, key=key, help=tip(name), **kwargs
        )
    )


def choice(column: Any, name: str, value: Any, key: str, labels: Any = None) -> Any:
    """Draw a select box of the values the setting offers (named by ``labels``, if given)."""
    offered = list(setting_spec(name).offered)
    shown = offered if labels is None else [labels(v) for v in offered]
    picked = column.selectbox(
        setting_spec(name).label, shown, index=offered.index(value), key=key, help=tip(name)
    )
    return offered[shown.index(picked)]


def model_settings(arch: str, left: Any, middle: Any, right: Any) -> dict[str, Any]:
    """Draw the model's size (hidden units, the CNN's filters, dropout); return the choices."""
    start = LAB_DEFAULTS
    if arch == "mlp":
        layers = left.number_input("Hidden layers", 1, 3, 1, key="lab_layers")
        hidden = tuple(
            number(middle, "hidden", start.hidden[0], f"lab_units_{k}", f"Units, layer {k + 1}")
            for k in range(int(layers))
        )
        sizes = {"hidden": hidden}
    else:
        sizes = {
            "hidden": (number(middle, "hidden", CNN_UNITS, "lab_units_0", "Dense units"),),
            "filters": number(left, "filters", start.filters, "lab_filters"),
        }
    return {**sizes, "dropout": share(right, "dropout", start.dropout, "lab_dropout")}


def settings_form(models: dict[str, Path]) -> TrainRequest:
    """Draw the training settings; return what they ask for.

    Labels, tips and ranges come from the settings' one declaration
    (:data:`~digit_pipeline.training.settings.TRAIN_SPECS`); the starting values are
    :data:`~workbench.pages.lab.jobs.LAB_DEFAULTS`.
    """
    start = LAB_DEFAULTS
    arch = ARCH_CHOICES[
        st.radio(
            setting_spec("arch").label, list(ARCH_CHOICES), horizontal=True, key="lab_arch",
            help=tip("arch"),
        )
    ]  # fmt: skip
    left, middle, right = st.columns(3)
    chosen = {"arch": arch, **model_settings(arch, left, middle, right)}
    chosen["epochs"] = number(left, "epochs", start.epochs, "lab_epochs")
    chosen["batch_size"] = choice(middle, "batch_size", start.batch_size, "lab_batch")
    chosen["learning_rate"] = right.select_slider(
        setting_spec("learning_rate").label, list(setting_spec("learning_rate").offered),
        start.learning_rate, key="lab_lr", help=tip("learning_rate"),
    )  # fmt: skip
    chosen["train_size"] = choice(left, "train_size", start.train_size, "lab_size", size_label)
    chosen["augment"] = middle.checkbox(
        setting_spec("augment").label, start.augment, key="lab_augment", help=tip("augment")
    )
    mine = right.checkbox(
        "Add my dataset", False, key="lab_add_mine", help=f"Your saved digits in {default_dir()}"
    )
    teacher = left.selectbox(
        setting_spec("teacher").label, ["none", *models], key="lab_teacher", help=tip("teacher")
    )
    chosen["teacher"] = None if teacher == "none" else str(models[teacher])
    chosen["teacher_weight"] = share(
        middle, "teacher_weight", start.teacher_weight, "lab_teacher_weight",
        disabled=teacher == "none",
    )  # fmt: skip
    name = right.text_input("Name of the new model", "my-model", key="lab_name")
    return TrainRequest(lab_settings(**chosen), add_mine=mine, name=name)


def own_digits() -> tuple | None:
    """Return the user's dataset as (x, y), or None with a sentence when there is nothing to add."""
    try:
        x, y = Dataset(default_dir()).load()
    except (DatasetError, OSError) as error:
        st.warning(f"Training without your dataset: it could not be read ({error}).")
        return None
    if not len(x):
        st.warning("Your dataset is empty; training on MNIST alone.")
        return None
    return x, y


def start(request: TrainRequest, data: str) -> None:
    """Start a training job for this session, unless one is already running."""
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is not None and job.running:
        st.warning("A training is already running in this session; stop it or wait for it to end.")
        return
    extra = own_digits() if request.add_mine else None
    st.session_state[JOB] = start_job(
        request.settings, user_models_dir(), name=request.name, data=data or None, extra=extra
    )
    st.session_state.lab_was_running = True


def train_tab(models: dict[str, Path], data: str) -> None:
    """Draw the Train tab: settings, Train button, then the live view of this session's job."""
    request = settings_form(models)
    if st.button("Train", key="lab_train", type="primary"):
        start(request, data)
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is None:
        st.info("Pick the settings and press Train. A small slice trains in seconds.")
        return
    run_every = REFRESH_SECONDS if job.running else None
    st.fragment(progress_view, run_every=run_every)()


def progress_view() -> None:
    """Progress bar, per-epoch curves and times, Stop; redrawn live by its fragment."""
    job: TrainingJob = st.session_state[JOB]
    snap = job.log.snapshot()
    history = snap["history"]
    if job.running:
        running_bar(job, snap)
    else:
        st.progress(
            1.0 if job.card else job.log.fraction(),
            text="Training finished" if job.card else "Training ended",
        )
    if history:
        left, right = st.columns(2)
        left.altair_chart(curve_chart(history, "loss"))
        right.altair_chart(curve_chart(history, "accuracy"))
        st.caption(epoch_times(history))
    if job.running:
        return
    if job.error:
        st.error(job.error)
    elif job.card:
        outcome(job)
    if st.session_state.get("lab_was_running"):
        st.session_state.lab_was_running = False
        st.rerun()  # the whole page: the model lists now hold the new model


def running_bar(job: TrainingJob, snap: dict) -> None:
    """Draw the bar of a run under way: epoch and batch, or what it does after its epochs."""
    if snap["phase"]:  # the epochs are over: measuring and saving, nothing left to stop
        st.progress(1.0, text=snap["phase"])
        return
    epochs, history = snap["epochs"] or job.settings.epochs, snap["history"]
    loss = f", loss {snap['batch_loss']:.4f}" if snap["batch_loss"] is not None else ""
    steps = snap["steps"] or "…"
    text = f"Epoch {snap['epoch'] + 1}/{epochs}, batch {snap['batch']}/{steps}{loss}"
    if not snap["batch"] and not history:
        text = "Loading MNIST and building the model (the first batch takes a while)…"
    if job.log.stop_requested:
        text += " — stopping after this batch…"
    st.progress(job.log.fraction(), text=text)
    if st.button("Stop", key="lab_stop", disabled=job.log.stop_requested):
        job.log.request_stop()


def outcome(job: TrainingJob) -> None:
    """Where the finished model went and how it did; why, when its score is low."""
    card = job.card or {}
    how = "stopped by you, best weights kept" if card.get("stopped_by_user") else "done"
    st.success(
        f"Saved {job.out.name} in {job.out.parent} ({how}): MNIST test accuracy "
        f"{card['mnist_test_accuracy']:.2%} after {card['epochs_run']} epoch(s). It is now "
        f"in the reading page's model list as “{job.out.name} (yours)”."
    )
    if card["mnist_test_accuracy"] >= LOW_SCORE:
        return
    reasons = low_score_reasons(card)
    why = (
        "; ".join(reasons)
        if reasons
        else ("none of its sizes is small, so look at the learning rate (too high or too low)")
    )
    st.info(f"Why only {card['mnist_test_accuracy']:.1%}? Most likely: {why}.")
