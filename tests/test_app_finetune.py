"""Fine-tuning on the reading page (My dataset → Fine-tune): a new model that does worse than
the one it started from says so and is not selected; one that does not is offered with
"Use it now". Driven through AppTest with the real package, the committed MNIST fixture and
a temporary home (``home``: conftest's autouse fixture)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import FIXTURES, ROOT
from streamlit.testing.v1 import AppTest

from digit_pipeline.model import MODELS_DIR, load_model
from digit_pipeline.training.finetune import MEASURES, worse_than_base
from digit_pipeline.userdata import Dataset

APP = str(ROOT / "streamlit_app.py")
SMALL = FIXTURES / "mnist_small.npz"


@pytest.mark.parametrize(
    ("before", "after", "fell"),
    [
        ((0.98, 1.0), (0.98, 2 / 3), ["user_holdout_accuracy"]),  # the 100 % → 66.7 %
        ((0.98, 0.5), (0.97, 0.5), ["mnist_test_accuracy"]),
        ((0.98, 1.0), (0.97, 0.8), ["mnist_test_accuracy", "user_holdout_accuracy"]),
        ((0.98, 0.5), (0.98, 0.5), []),  # the same is not worse
        ((0.98, 0.5), (0.99, 0.75), []),
    ],
    ids=["held-back", "mnist", "both", "same", "better"],
)
def test_worse_than_base_lists_the_measures_that_fell(before, after, fell):
    card = {
        "before": dict(zip(MEASURES, before, strict=True)),
        "after": dict(zip(MEASURES, after, strict=True)),
    }
    assert worse_than_base(card) == fell


def test_worse_than_base_of_a_card_without_figures_is_empty():
    assert worse_than_base(json.loads((MODELS_DIR / "mlp.json").read_text())) == []


def own_digits(home, count: int = 50) -> None:
    """Save ``count`` real MNIST training digits, rightly labelled, as the user's dataset."""
    with np.load(SMALL) as data:
        x, y = data["x_train"][-count:], data["y_train"][-count:]
    Dataset(home / "dataset").save(x, [int(v) for v in y], source="test")


def fragile_base(home) -> str:
    """The shipped model with its output layer scaled down 1000 times: the same answers
    (100 % on the fixture's test digits), but with next to no margin, so a short fine-tune
    at Adam 1e-4 knocks many of them over (100 % → about 79 % on MNIST test)."""
    model = load_model(MODELS_DIR / "mlp.keras")
    last = model.layers[-1]
    last.set_weights([w * 1e-3 for w in last.get_weights()])
    (home / "models").mkdir(parents=True, exist_ok=True)
    model.save(home / "models" / "fragile.keras")
    return "fragile.keras (yours)"


def start(base: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["show_dataset"] = True  # the My dataset expander, opened
    at.run()
    if base is not None:
        at.selectbox(key="model").set_value(base).run()
    assert not at.exception, at.exception
    at.text_input(key="mnist_path").set_value(str(SMALL))
    return at


def fine_tune(at: AppTest, epochs: int) -> dict:
    """Press Fine-tune; return the new model's card (read from its file)."""
    at.number_input(key="ft_epochs").set_value(epochs)
    at.button(key="finetune").click().run(timeout=300)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    result = at.session_state["finetune_result"]
    assert result.path.is_file()
    return json.loads(result.path.with_suffix(".json").read_text())


def test_a_fine_tune_that_does_worse_says_so_is_not_selected_and_can_be_deleted(home):
    own_digits(home)
    base = fragile_base(home)
    at = start(base)
    card = fine_tune(at, epochs=2)
    path = at.session_state["finetune_result"].path
    mine = f"{path.name} (yours)"
    fell = card["worse_than_base"]
    assert "mnist_test_accuracy" in fell  # the fixture's test digits: 100 % before, fewer after
    assert fell == worse_than_base(card)

    for _ in range(2):  # as drawn after Fine-tune, and after a rerun (another button's)
        assert not any("New model" in s.value for s in at.success)
        warning = next(w.value for w in at.warning if "does worse" in w.value)
        before, after = card["before"]["mnist_test_accuracy"], card["after"]["mnist_test_accuracy"]
        assert f"MNIST test {before:.2%} before, {after:.2%} after" in warning
        if "user_holdout_accuracy" in fell:
            assert "your held-back digits" in warning
        held = card["data"]["user_samples_held_back"]
        assert held == 10 and f"rests on only {held} of your digits" in warning
        assert "fragile.keras" in warning and "not selected" in warning
        assert not [b for b in at.button if b.key == "ft_use"]
        at.run()
        assert not at.exception, at.exception
        assert at.selectbox(key="model").value == base  # kept as it was
        assert mine in at.selectbox(key="model").options  # but there to pick

    at.button(key="ft_delete").click().run()
    assert not at.exception, at.exception
    assert not path.exists() and not path.with_suffix(".json").exists()
    assert mine not in at.selectbox(key="model").options
    assert any(f"Deleted {path.name}" in i.value for i in at.info)
    assert "finetune_result" not in at.session_state
    assert not any("does worse" in w.value for w in at.warning)


def test_a_fine_tune_that_is_no_worse_is_offered_with_use_it_now(home):
    own_digits(home)
    at = start()
    card = fine_tune(at, epochs=1)
    assert card["worse_than_base"] == []
    path = at.session_state["finetune_result"].path
    mine = f"{path.name} (yours)"
    assert any(f"New model {path.name}" in s.value for s in at.success)
    assert not any("does worse" in w.value for w in at.warning)
    assert at.selectbox(key="model").value == "mlp.keras"  # not picked by itself

    at.button(key="ft_use").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="model").value == mine
    assert at.session_state["model"] == mine
    assert any(f"New model {path.name}" in s.value for s in at.success)  # still shown
    assert any("is selected under Model" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "ft_use"]
    assert path.is_file()


def test_the_dataset_counts_chart_has_upright_digit_labels(home):
    own_digits(home, count=30)
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["show_dataset"] = True  # the My dataset expander, opened
    at.run()
    assert not at.exception, at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    chart = next(s for s in specs if s.get("title") == "Your digits per class")
    x = chart["encoding"]["x"]
    assert x["field"] == "digit" and x["axis"]["labelAngle"] == 0
