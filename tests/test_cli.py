"""The command line, run as a user would: in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, load_truth, sample_sheets

DIGIT_KEYS = {"box", "label", "confidence", "top2", "line", "number", "pair"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "digit_pipeline", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_read_json_turns_a_sideways_photo_and_says_so(tmp_path):
    from digit_pipeline.io.images import encode_png, read_image
    from digit_pipeline.reading.orientation import turn_boxes, turn_image

    sheet = ROOT / "sample_images" / "pen_ruled.jpg"
    truth = load_truth(sheet)
    image = read_image(sheet)
    sideways = tmp_path / "sideways.png"
    sideways.write_bytes(encode_png(turn_image(image, 1)))  # stored a quarter turn clockwise
    done = run_cli("read", str(sideways), "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["rotation"] == 270 and record["text"] == truth["text"]
    assert (record["width"], record["height"]) == (image.shape[0], image.shape[1])
    assert "orient" in record["timings_ms"]
    # the boxes are the stored file's pixels: the truth's boxes turned as the file is
    found = [d["box"] for d in record["digits"]]
    want = turn_boxes([d["box"] for d in truth["digits"]], 1, image.shape)
    for box in want:
        off = [max(abs(a - b) for a, b in zip(f, box, strict=True)) for f in found]
        assert min(off) <= 6, (box, found)


def test_read_json_matches_schema_and_truth(tmp_path):
    sheet = sample_sheets()[0]
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image")
    done = run_cli("read", str(sheet), str(junk), "--json", "--blur-size", "5")
    assert done.returncode == 1  # one image failed
    assert "junk.png" in done.stderr and "Traceback" not in done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 2
    good, bad = records
    assert set(good) == {
        "image",
        "width",
        "height",
        "page",
        "params",
        "text",
        "digits",
        "set_aside",
        "timings_ms",
        "rotation",
    }
    assert good["rotation"] == 0  # upright, read surely: not turned
    assert good["page"] is None  # a generated scan: no desk, no page to flatten
    truth = load_truth(sheet)
    assert (good["width"], good["height"]) == (truth["width"], truth["height"])
    assert good["params"]["blur_size"] == 5
    # no fit: the page search (none found), then the reading
    assert set(good["timings_ms"]) == {"load", "page", "prepare", "segment", "cut", "predict"}
    assert len(good["digits"]) == len(truth["digits"])
    for digit in good["digits"]:
        assert set(digit) == DIGIT_KEYS
        x, y, w, h = digit["box"]
        assert 0 <= x < x + w <= good["width"] and 0 <= y < y + h <= good["height"]
        assert 0 <= digit["label"] <= 9 and 0.0 <= digit["confidence"] <= 1.0
        assert digit["top2"][0] == [digit["label"], digit["confidence"]]
    assert good["text"].replace("\n", "") == "".join(str(d["label"]) for d in good["digits"])
    # ...and the reading is the sheet's truth: text, every label, line and box
    assert good["text"] == truth["text"]
    assert [d["label"] for d in good["digits"]] == [d["label"] for d in truth["digits"]]
    assert [d["line"] for d in good["digits"]] == [d["line"] for d in truth["digits"]]
    for digit, true in zip(good["digits"], truth["digits"], strict=True):
        assert max(abs(a - b) for a, b in zip(digit["box"], true["box"], strict=True)) <= 8
    assert set(bad) == {"image", "error"} and bad["image"].endswith("junk.png")


def test_read_plain_prints_text_and_succeeds():
    sheets = sample_sheets()[:2]
    done = run_cli("read", *map(str, sheets))
    assert done.returncode == 0, done.stderr
    for sheet in sheets:
        assert f"==> {sheet} <==" in done.stdout


def test_bad_parameter_is_a_usage_error():
    done = run_cli("read", str(sample_sheets()[0]), "--blur-size", "4")
    assert done.returncode == 2
    assert "blur_size must be odd" in done.stderr and "Traceback" not in done.stderr


def test_missing_model_is_one_clear_line(tmp_path):
    done = run_cli("read", str(sample_sheets()[0]), "--model", str(tmp_path / "none.keras"))
    assert done.returncode == 2
    assert "none.keras is missing" in done.stderr and "train" in done.stderr
    assert "Traceback" not in done.stderr


FIXTURE = ROOT / "tests" / "fixtures" / "mnist_small.npz"


def test_bench_command_prints_the_tables(tmp_path):
    out = tmp_path / "bench"
    done = run_cli(
        "bench", "--sheets", "2", "--data", str(FIXTURE), "--max-mp", "0.6",
        "--modes", "auto", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "### mlp / auto" in done.stdout and "| **overall** |" in done.stdout
    assert "[2/2]" in done.stderr
    results = json.loads((out / "results.json").read_text())
    assert [r["mode"] for r in results["sheets"]] == ["auto", "auto"]


def test_bench_command_refuses_a_bad_mode():
    done = run_cli("bench", "--sheets", "1", "--data", str(FIXTURE), "--modes", "best")
    assert done.returncode == 1
    assert "unknown modes" in done.stderr and "Traceback" not in done.stderr


def _saved_dataset(folder, n=20):
    import numpy as np

    from digit_pipeline.userdata import Dataset

    data = np.load(FIXTURE)
    Dataset(folder).save(data["x_train"][:n], [int(v) for v in data["y_train"][:n]], "test")


def test_finetune_command_writes_a_new_model_and_reports(tmp_path):
    from digit_pipeline.model import load_card

    _saved_dataset(tmp_path / "dataset")
    out = tmp_path / "models" / "mine.keras"
    done = run_cli(
        "finetune", "--dataset", str(tmp_path / "dataset"), "--data", str(FIXTURE),
        "--epochs", "1", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.is_file() and out.with_suffix(".json").is_file()
    card = load_card(out)
    assert card["base_model"] == "mlp.keras" and card["epochs_run"] == 1
    assert card["data"]["user_samples_trained"] + card["data"]["user_samples_held_back"] == 20
    for when in ("before", "after"):
        assert f"{when:6}: MNIST test {card[when]['mnist_test_accuracy']:.4f}" in done.stdout
    assert "[100%] Saved" in done.stderr

    # It never overwrites: the same --out again is refused with a sentence.
    again = run_cli(
        "finetune", "--dataset", str(tmp_path / "dataset"), "--data", str(FIXTURE),
        "--epochs", "1", "--out", str(out),
    )  # fmt: skip
    assert again.returncode == 1
    assert "never overwrites" in again.stderr and "Traceback" not in again.stderr


def test_finetune_command_refuses_too_small_a_dataset(tmp_path):
    _saved_dataset(tmp_path / "dataset", n=3)
    done = run_cli(
        "finetune", "--dataset", str(tmp_path / "dataset"), "--data", str(FIXTURE),
        "--out", str(tmp_path / "x.keras"),
    )  # fmt: skip
    assert done.returncode == 1
    assert "at least" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.keras").exists()


def test_finetune_command_names_a_missing_model(tmp_path):
    _saved_dataset(tmp_path / "dataset")
    done = run_cli(
        "finetune", "--dataset", str(tmp_path / "dataset"), "--data", str(FIXTURE),
        "--model", str(tmp_path / "nope.keras"), "--out", str(tmp_path / "x.keras"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "nope.keras" in done.stderr and "Traceback" not in done.stderr


def test_read_fits_each_image_unless_told_otherwise():
    # No fiddling: plain `read` fits each image, as the app does; --no-auto, or an option
    # the fit would set, keeps the defaults and the options as given.
    # With the model the fit lets the reading judge its estimate against the parameters
    # given (fit_sheet(image, base, model)); `read` must pick what that one function picks.
    from digit_pipeline.io.images import read_image
    from digit_pipeline.model import load_model
    from digit_pipeline.reading import fit_sheet
    from digit_pipeline.reading.autofit import estimate_fit
    from digit_pipeline.reading.params import PipelineParams

    sheet = sample_sheets()[0]
    image, model = read_image(sheet), load_model()
    assert estimate_fit(image).params != PipelineParams()

    def fitted(**given):
        return fit_sheet(image, PipelineParams(**given), model=model).params.to_dict()

    runs = {
        "plain": run_cli("read", str(sheet), "--json"),
        "no-auto": run_cli("read", str(sheet), "--json", "--no-auto"),
        "option": run_cli("read", str(sheet), "--json", "--canny-lower", "41"),
        "auto+option": run_cli("read", str(sheet), "--json", "--auto", "--canny-lower", "41"),
        "unfitted option": run_cli("read", str(sheet), "--json", "--roi-threshold", "120"),
    }
    params = {}
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stderr)
        params[name] = json.loads(done.stdout)["params"]
    assert params["plain"] == fitted()
    assert params["no-auto"] == PipelineParams().to_dict()
    assert params["option"] == PipelineParams(canny_lower=41).to_dict()
    assert params["auto+option"] == fitted(canny_lower=41)
    assert params["unfitted option"] == fitted(roi_threshold=120)
    assert params["unfitted option"]["roi_threshold"] == 120
