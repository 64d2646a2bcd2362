"""The lab's Train tab: the form, the background job, live progress and curves, Stop."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from digit_pipeline.training.finetune import user_models_dir
from digit_pipeline.userdata import Dataset, DatasetError, default_dir
from workbench.pages.lab.charts import curve_chart
from workbench.pages.lab.jobs import (
    LOW_SCORE,
    TrainingJob,
    TrainSettings,
    epoch_times,
    low_score_reasons,
    start_job,
)

ARCH_CHOICES = {"Flatten-Dense": "mlp", "CNN": "cnn"}
SIZES = {"1 000 digits": 1000, "5 000 digits": 5000, "20 000 digits": 20000, "all (54 000)": None}
# Redraw period while training, s. Each redraw takes the GIL from the training thread; at 1 s
# on the 2 shared cores a first batch took ~115 s against ~15 s at 5 s (see BENCHMARKS.md).
REFRESH_SECONDS = float(os.environ.get("DIGIT_WORKBENCH_LAB_REFRESH", "3.0"))
JOB = "lab_job"  # session_state key of this session's training job


def settings_form(models: dict[str, Path]) -> TrainSettings:
    """Draw the training settings; return what they say."""
    arch = ARCH_CHOICES[
        st.radio("Architecture", list(ARCH_CHOICES), horizontal=True, key="lab_arch")
    ]
    left, middle, right = st.columns(3)
    if arch == "mlp":
        layers = left.number_input("Hidden layers", 1, 3, 1, key="lab_layers")
        hidden = tuple(
            int(
                middle.number_input(
                    f"Units, layer {k + 1}", 8, 4096, 128, step=32, key=f"lab_units_{k}"
                )
            )
            for k in range(int(layers))
        )
        filters = 16
    else:
        hidden = (int(middle.number_input("Dense units", 8, 1024, 64, step=32, key="lab_units_0")),)
        filters = int(
            left.number_input("Filters (first block)", 4, 64, 16, step=4, key="lab_filters")
        )
    dropout = right.slider("Dropout", 0.0, 0.7, 0.2, 0.05, key="lab_dropout")
    epochs = int(left.number_input("Epochs", 1, 50, 3, key="lab_epochs"))
    batch = int(middle.selectbox("Batch size", [32, 64, 128, 256, 512], index=2, key="lab_batch"))
    rate = float(
        right.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], 1e-3, key="lab_lr")
    )
    size = SIZES[left.selectbox("Training images", list(SIZES), index=1, key="lab_size")]
    augment = middle.checkbox(
        "Augmentation",
        False,
        key="lab_augment",
        help="Shifts, rotations, zoom, stroke width, elastic distortion",
    )
    mine = right.checkbox(
        "Add my dataset", False, key="lab_add_mine", help=f"Your saved digits in {default_dir()}"
    )
    teacher_name = left.selectbox("Teacher (distillation)", ["none", *models], key="lab_teacher")
    weight = middle.slider(
        "Teacher's share",
        0.0,
        1.0,
        0.5,
        0.1,
        key="lab_teacher_weight",
        disabled=teacher_name == "none",
    )
    name = right.text_input("Name of the new model", "my-model", key="lab_name")
    return TrainSettings(
        arch=arch,
        hidden=hidden,
        dropout=float(dropout),
        filters=filters,
        epochs=epochs,
        batch_size=batch,
        learning_rate=rate,
        augment=augment,
        train_size=size,
        teacher=None if teacher_name == "none" else str(models[teacher_name]),
        teacher_weight=float(weight),
        add_mine=mine,
        name=name,
    )


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


def start(settings: TrainSettings, data: str) -> None:
    """Start a training job for this session, unless one is already running."""
    job: TrainingJob | None = st.session_state.get(JOB)
    if job is not None and job.running:
        st.warning("A training is already running in this session; stop it or wait for it to end.")
        return
    extra = own_digits() if settings.add_mine else None
    st.session_state[JOB] = start_job(settings, user_models_dir(), data=data or None, extra=extra)
    st.session_state.lab_was_running = True


def train_tab(models: dict[str, Path], data: str) -> None:
    """Draw the Train tab: settings, Train button, then the live view of this session's job."""
    settings = settings_form(models)
    if st.button("Train", key="lab_train", type="primary"):
        start(settings, data)
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
