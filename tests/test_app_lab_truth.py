"""The Model lab tells the truth about a run and lets a clicked matrix cell go (issue 19, item
7 and the confusion matrix): every epoch's time, whole epochs on the axis, why a small run
scores low, what the run does after its last epoch, and a Clear button for the clicked cell.
AppTest drives the real app on the committed MNIST fixture (see tests/test_app_lab.py)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from conftest import FIXTURES
from streamlit.testing.v1 import AppTest
from test_app_lab import open_lab, small_settings, wait_for, weak_model

from digit_pipeline.training.train import FINISHING, train
from workbench.pages.lab.charts import curve_chart
from workbench.pages.lab.jobs import LOW_SCORE, TrainingJob, lab_settings, low_score_reasons

SMALL = FIXTURES / "mnist_small.npz"


@pytest.fixture(autouse=True)
def tmp_homes(tmp_path, monkeypatch):
    """Every lab test writes to tmp dirs and reads the committed fixture as MNIST."""
    monkeypatch.setenv("DIGIT_WORKBENCH_DATA", str(tmp_path / "dataset"))
    monkeypatch.setenv("DIGIT_WORKBENCH_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("DIGIT_WORKBENCH_MNIST", str(SMALL))
    return tmp_path


def chart_specs(at: AppTest, title: str) -> list[dict]:
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    return [s for s in specs if s.get("title") == title]


# --- pure parts -----------------------------------------------------------------------------


def card(**changes) -> dict:
    """A card of a default-sized run (128 units, 54 000 digits, 10 epochs) with ``changes``."""
    base = {"mnist_test_accuracy": 0.5, "hidden": 128, "dropout": 0.2, "epochs_run": 10,
            "batch_size": 128, "data": {"train_images": 54_000}}  # fmt: skip
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"hidden": 8}, ["8 hidden units"]),
        ({"hidden": [256, 16]}, ["16 hidden units"]),  # the narrowest layer counts
        ({"data": {"train_images": 1000}}, ["1,000 training digits", "70 weight updates"]),
        ({"epochs_run": 1}, ["only 1 epoch", "421 weight updates"]),
        ({"dropout": 0.6}, ["high dropout (0.6)"]),
        (
            {"data": {"train_images": 1000}, "batch_size": 512, "epochs_run": 5},
            ["1,000 training digits", "only 5 weight updates"],
        ),
        ({}, []),  # nothing small: the page points at the learning rate instead
    ],
    ids=["units", "layers", "digits", "epochs", "dropout", "updates", "none"],
)
def test_low_score_reasons_name_the_small_settings(changes, named):
    reasons = low_score_reasons(card(**changes))
    assert len(reasons) == len(named)
    for reason, words in zip(reasons, named, strict=True):
        assert words in reason


def test_low_score_reasons_stay_quiet_for_a_good_score_and_can_be_switched_off():
    small = card(hidden=8, dropout=0.6)
    assert low_score_reasons({**small, "mnist_test_accuracy": LOW_SCORE}) == []
    assert low_score_reasons({**small, "mnist_test_accuracy": None}) == []
    assert len(low_score_reasons(small)) == 2
    assert low_score_reasons(small, off={"hidden units", "dropout"}) == []


@pytest.mark.parametrize("epochs", [1, 3, 50], ids=["one", "three", "fifty"])
def test_curve_axis_shows_whole_epochs(epochs):
    history = [{"epoch": e, "loss": 1.0 / e, "val_loss": 1.2 / e} for e in range(1, epochs + 1)]
    spec = curve_chart(history, "loss").to_dict()
    axis = spec["encoding"]["x"]["axis"]
    assert axis["format"] == "d"  # never "1.000000"
    assert axis["values"][0] == 1 and all(isinstance(v, int) for v in axis["values"])
    assert axis["values"][-1] <= epochs and len(axis["values"]) <= 12
    low, high = spec["encoding"]["x"]["scale"]["domain"]
    assert low < 1 and high > epochs  # one epoch alone still has room either side


# --- the Train tab --------------------------------------------------------------------------


def test_a_small_run_lists_every_epoch_and_says_why_it_scores_low():
    at = open_lab()
    small_settings(at, epochs=6)
    at.number_input(key="lab_units_0").set_value(8)
    at.slider(key="lab_dropout").set_value(0.6)
    at.button(key="lab_train").click().run()
    assert not at.exception, at.exception
    wait_for(at, lambda job: not job.running)
    job = at.session_state["lab_job"]
    assert job.error is None, job.error
    assert job.card["epochs_run"] == 6 and not job.card["stopped_by_user"]
    assert "(done)" in at.success[0].value

    times = next(c.value for c in at.caption if c.value.startswith("Time per epoch"))
    assert "mean" in times
    for h in job.card["history"]:  # all six, the first ones too
        assert f"{h['epoch']}: {h['seconds']:.1f}" in times

    [loss] = chart_specs(at, "Loss")
    assert loss["encoding"]["x"]["axis"]["format"] == "d"
    assert loss["encoding"]["x"]["axis"]["values"] == [1, 2, 3, 4, 5, 6]

    accuracy = job.card["mnist_test_accuracy"]
    assert accuracy < LOW_SCORE  # 8 units on 200 digits
    why = next(i.value for i in at.info if i.value.startswith("Why only"))
    assert f"{accuracy:.1%}" in why
    assert "only 8 hidden units" in why
    assert f"only {job.card['data']['train_images']:,} training digits" in why
    assert "high dropout (0.6)" in why
    assert "only 6 epochs" not in why  # six epochs are not few


def test_the_bar_says_what_the_run_does_after_its_last_epoch(tmp_homes):
    """A real run held (by its ``on_update``) in the phase after its last epoch: the page
    shows that phase, not the last batch, and no Stop; let go, it shows the outcome."""
    at = open_lab()
    job = TrainingJob(lab_settings(hidden=(16,), epochs=1, batch_size=32, train_size=200),
                      tmp_homes / "models" / "held.keras")  # fmt: skip
    release = threading.Event()

    def hold(log, end_of_epoch):
        if log.phase:
            release.wait(120)

    def work():
        job.card = train(job.out, job.settings, data=str(SMALL), log=job.log, on_update=hold,
                         verbose=0).card  # fmt: skip

    job.thread = threading.Thread(target=work, daemon=True)
    job.thread.start()
    try:
        end = time.monotonic() + 120
        while not job.log.phase:
            assert job.thread.is_alive() and time.monotonic() < end, "no phase reported"
            time.sleep(0.2)
        at.session_state["lab_job"] = job
        at.run()
        assert not at.exception, at.exception
        assert [p.proto.text for p in at.get("progress")] == [FINISHING]
        assert not [b for b in at.button if b.key == "lab_stop"]
        assert not job.out.exists()
    finally:
        release.set()
        job.thread.join(120)
    at.run()
    assert not at.exception, at.exception
    assert [p.proto.text for p in at.get("progress")] == ["Training finished"]
    assert "held.keras" in at.success[0].value and job.out.is_file()


# --- the confusion matrix -------------------------------------------------------------------


def matrix_key(at: AppTest) -> str:
    [key] = [c.key for c in at.get("vega_lite_chart") if c.key and c.key.startswith("lab_cm")]
    return key


def click(at: AppTest, cell: tuple[int, int] | None) -> None:
    """Click a matrix cell (``None``: empty the selection, as a double-click does).

    AppTest has no API for a Vega chart's selection, so this sends the chart's widget state
    with the next run, in the form the browser sends it.
    """
    [chart] = [c for c in at.get("vega_lite_chart") if c.key == matrix_key(at)]
    points = [] if cell is None else [{"true": cell[0], "predicted": cell[1]}]
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {"cell": points}})
    at._run(states)
    assert not at.exception, at.exception


def worst(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Worst mistakes**"))


def test_a_clicked_cell_sets_the_selectboxes_and_clear_lets_it_go(tmp_homes):
    name = weak_model(tmp_homes / "models")
    at = open_lab()
    at.selectbox(key="lab_eval_model").set_value(name)
    at.button(key="lab_evaluate").click().run()
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("Rows: the true digit"))
    assert "Clear the cell" in caption and "follow it" in caption
    assert at.button(key="lab_cm_clear").disabled  # nothing to clear yet
    first = matrix_key(at)

    click(at, (3, 5))
    assert at.selectbox(key="lab_true").value == 3  # still there, showing the cell
    assert at.selectbox(key="lab_pred").value == 5
    assert "true 3 read as 5" in worst(at)
    assert not at.button(key="lab_cm_clear").disabled
    at.run()  # a rerun keeps the cell
    assert "true 3 read as 5" in worst(at)

    at.button(key="lab_cm_clear").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="lab_true").value == "any"
    assert at.selectbox(key="lab_pred").value == "any"
    assert "(all:" in worst(at)
    assert matrix_key(at) != first  # a fresh chart: the clicked cell is gone from it
    at.run()  # and does not come back
    assert "(all:" in worst(at)

    click(at, (7, 1))  # a click, then a selectbox changed by hand: the selectbox wins
    assert "true 7 read as 1" in worst(at)
    clicked = matrix_key(at)
    at.selectbox(key="lab_pred").set_value(2).run()
    assert not at.exception, at.exception
    assert "true 7 read as 2" in worst(at) and matrix_key(at) != clicked
    at.run()
    assert "true 7 read as 2" in worst(at)

    click(at, (4, 9))
    assert "true 4 read as 9" in worst(at)
    click(at, None)  # undone in the chart (a double-click): all mistakes again
    assert at.selectbox(key="lab_true").value == "any" and "(all:" in worst(at)
