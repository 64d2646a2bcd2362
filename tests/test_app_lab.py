"""The Model lab through AppTest: train (and stop) on the small fixture, evaluate, compare."""

from __future__ import annotations

import json
import time

import pytest
from conftest import FIXTURES, ROOT, goto
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "streamlit_app.py")


@pytest.fixture(autouse=True)
def tmp_homes(tmp_path, monkeypatch):
    """Every lab test writes to tmp dirs and reads the committed fixture as MNIST."""
    monkeypatch.setenv("DIGIT_WORKBENCH_DATA", str(tmp_path / "dataset"))
    monkeypatch.setenv("DIGIT_WORKBENCH_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("DIGIT_WORKBENCH_MNIST", str(FIXTURES / "mnist_small.npz"))
    return tmp_path


def open_lab() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    goto(at, "lab")
    assert at.title[0].value == "Model lab"
    return at


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        layers = [spec, *spec.get("layer", [])]
        titles += [layer["title"] for layer in layers if isinstance(layer.get("title"), str)]
    return titles


def small_settings(at: AppTest, epochs: int) -> None:
    at.number_input(key="lab_units_0").set_value(32)
    at.number_input(key="lab_epochs").set_value(epochs)
    at.selectbox(key="lab_batch").set_value(32)
    at.selectbox(key="lab_size").set_value("1 000 digits")  # the fixture holds 300


def wait_for(at: AppTest, done, seconds: float = 180) -> None:
    end = time.monotonic() + seconds
    while not done(at.session_state["lab_job"]):
        assert time.monotonic() < end, "training did not get there in time"
        time.sleep(0.5)
        at.run()
        assert not at.exception, at.exception
    at.run()  # the job may have ended during the last run: draw its final state
    assert not at.exception, at.exception


def weak_model(folder, name: str = "weak.keras"):
    """An untrained Flatten-Dense model: it makes plenty of mistakes to show."""
    from digit_pipeline.training.architectures import build_mlp

    folder.mkdir(parents=True, exist_ok=True)
    build_mlp(16).save(folder / name)
    return f"{name} (yours)"


def test_train_one_epoch_shows_progress_and_curves_and_the_model_reaches_the_reading_page(
    tmp_homes,
):
    at = open_lab()
    small_settings(at, epochs=1)
    at.text_input(key="lab_name").set_value("class demo")
    at.button(key="lab_train").click().run()
    assert not at.exception, at.exception
    assert at.get("progress"), "no progress bar while training"
    wait_for(at, lambda job: not job.running)
    job = at.session_state["lab_job"]
    assert job.error is None, job.error
    assert {"Loss", "Accuracy"} <= set(chart_titles(at))
    assert any(p.proto.text == "Training finished" for p in at.get("progress"))
    assert any(c.value.startswith("Time per epoch") and "— 1: " in c.value for c in at.caption)
    assert "class-demo-" in at.success[0].value
    card = json.loads(job.out.with_suffix(".json").read_text())
    assert card["epochs_run"] == 1 and len(card["history"]) == 1
    assert job.out.parent == tmp_homes / "models"

    reading = AppTest.from_file(APP, default_timeout=120)
    reading.run()
    assert not reading.exception
    assert f"{job.out.name} (yours)" in reading.selectbox(key="model").options


def test_stop_ends_training_mid_run_keeps_the_best_weights_and_refuses_a_second_start():
    at = open_lab()
    small_settings(at, epochs=50)
    at.button(key="lab_train").click().run()
    wait_for(at, lambda job: job.log.batch > 0 or job.log.history)
    at.button(key="lab_train").click().run()
    assert any("already running" in w.value for w in at.warning)
    at.button(key="lab_stop").click().run()
    assert not at.exception, at.exception
    wait_for(at, lambda job: not job.running, seconds=120)
    job = at.session_state["lab_job"]
    assert job.error is None, job.error
    assert job.card["stopped_by_user"] and job.card["epochs_run"] < 50
    assert job.out.is_file() and "stopped by you" in at.success[0].value


def test_evaluation_shows_the_matrix_the_table_and_the_mistakes(tmp_homes):
    name = weak_model(tmp_homes / "models")
    at = open_lab()
    at.selectbox(key="lab_eval_model").set_value(name)
    at.button(key="lab_evaluate").click().run()
    assert not at.exception, at.exception
    assert any(title.startswith("Confusion matrix") for title in chart_titles(at))
    assert any(m.label == "MNIST test accuracy" for m in at.metric)
    assert at.dataframe, "no per-class table"
    gallery = [m.value for m in at.markdown if m.value.startswith("**Worst mistakes**")]
    assert gallery and "(all: 0 shown" not in gallery[0]
    assert at.get("image"), "no mistake gallery"

    at.selectbox(key="lab_true").set_value(7).run()
    assert not at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("**Worst mistakes**")]
    assert "true 7" in shown[0]


def test_compare_shows_both_models_and_mcnemar(tmp_homes):
    weak = weak_model(tmp_homes / "models")
    at = open_lab()
    at.selectbox(key="lab_cmp_a").set_value("mlp.keras")
    at.selectbox(key="lab_cmp_b").set_value(weak)
    at.button(key="lab_compare").click().run()
    assert not at.exception, at.exception
    labels = [m.label for m in at.metric]
    assert "A: mlp.keras" in labels and f"B: {weak}" in labels
    text = " ".join(m.value for m in at.markdown)
    assert "McNemar's test" in text and "p = " in text and "a real difference" in text
    assert "Confusion matrix B − A" in chart_titles(at)
    assert "**A right, B wrong**" in text


def test_a_broken_model_file_is_a_sentence_not_a_traceback(tmp_homes):
    (tmp_homes / "models").mkdir(parents=True)
    (tmp_homes / "models" / "broken.keras").write_bytes(b"not a zip")
    at = open_lab()
    at.selectbox(key="lab_eval_model").set_value("broken.keras (yours)")
    at.button(key="lab_evaluate").click().run()
    assert not at.exception, at.exception
    assert "could not be read" in at.error[0].value


USPS = ROOT.parent / "shared" / "data" / "usps_train.npz"


@pytest.mark.skipif(not USPS.is_file(), reason="usps_train.npz is not on this machine")
def test_evaluate_measures_on_other_writers_digits_as_the_cli_does():
    import subprocess
    import sys

    at = open_lab()
    sticks = at.selectbox(key="lab_yardstick")
    usps = next(o for o in sticks.options if o.startswith("USPS"))
    assert sticks.value == "MNIST test"
    sticks.set_value(usps).run()
    at.selectbox(key="lab_eval_model").set_value("mlp.keras").run()
    at.button(key="lab_evaluate").click().run()
    assert not at.exception, at.exception
    shown = next(m.value for m in at.metric if m.label == "USPS accuracy")
    done = subprocess.run(
        [sys.executable, "-m", "digit_pipeline", "evaluate", "--data", str(USPS), "--json",
         "--model", str(ROOT / "models" / "mlp.keras")],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert shown == f"{json.loads(done.stdout)['accuracy']:.2%}"
    assert not [m for m in at.metric if m.label == "Card says"]  # the card is MNIST's


def test_the_pair_reader_tab_measures_the_shipped_reader_on_held_out_pairs(tmp_homes):
    at = open_lab()
    assert at.selectbox(key="lab_pair_model").value == "pairs.keras (shipped)"
    assert not [m for m in at.metric if m.label == "Pairs read whole"]  # only when asked
    at.select_slider(key="lab_pair_count").set_value(500)
    at.button(key="lab_pair_go").click().run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    whole = float(shown["Pairs read whole"].rstrip("%"))
    assert 50 < whole <= 100 and float(shown["First digit"].rstrip("%")) >= whole
    assert {"First digit", "Second digit"} <= set(chart_titles(at))
    assert any(c.value.endswith("boxes read wrong.") and " of 500 " in c.value for c in at.caption)
    at.select_slider(key="lab_pair_count").set_value(2000).run()  # another count: asked again
    assert not [m for m in at.metric if m.label == "Pairs read whole"]


def test_a_broken_pair_reader_of_yours_is_a_sentence_not_a_traceback(tmp_homes):
    from digit_pipeline.training.pairs import CLASSES

    folder = tmp_homes / "models"
    folder.mkdir(parents=True)
    (folder / "mine.keras").write_bytes(b"not a zip")
    (folder / "mine.json").write_text(json.dumps({"classes": list(CLASSES)}))
    at = open_lab()
    at.selectbox(key="lab_pair_model").set_value("mine.keras (yours)")
    at.button(key="lab_pair_go").click().run()
    assert not at.exception, at.exception
    assert any("mine.keras" in e.value for e in at.error), [e.value for e in at.error]
