"""Tests for the reading bench (digit_pipeline.benchmarking): the plan, and a small real run."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pytest

from digit_pipeline.benchmarking.cases import render_case
from digit_pipeline.benchmarking.fonts import GLYPH_SIDE, font_digits, installed_fonts
from digit_pipeline.benchmarking.plan import CONDITIONS, make_plan
from digit_pipeline.benchmarking.report import summarise
from digit_pipeline.benchmarking.run import run
from digit_pipeline.benchmarking.styles import SheetStyle
from digit_pipeline.cli.bench import add_arguments

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_small.npz"
N_FIXTURE_TEST = 200  # x_test in the fixture

RATES = ("precision", "recall", "f1", "accuracy", "exact_share")


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_plan_is_deterministic_and_covers_every_condition():
    plan = make_plan(20, seed=3, n_digits_available=N_FIXTURE_TEST)
    assert plan == make_plan(20, seed=3, n_digits_available=N_FIXTURE_TEST)
    assert plan != make_plan(20, seed=4, n_digits_available=N_FIXTURE_TEST)
    assert make_plan(7, seed=3, n_digits_available=N_FIXTURE_TEST) == plan[:7]
    for n in (10, 13):
        conditions = {c.condition for c in make_plan(n, 3, n_digits_available=200)}
        assert conditions == set(CONDITIONS)
    assert len({c.case_id for c in plan}) == len(plan)


def test_plan_stays_in_the_issues_ranges():
    plan = make_plan(60, seed=0)
    for case in plan:
        assert 1 <= len(case.lines) <= 6
        assert all(2 <= n <= 12 for n in case.lines)
        assert len(case.indices) == sum(case.lines)
        assert isinstance(case.style, SheetStyle)
        assert 0.4 <= case.megapixels <= 12.5
        assert SheetStyle.from_dict(case.to_dict()["style"]) == case.style
    by = {c: [k for k in plan if k.condition == c] for c in CONDITIONS}
    assert all(len(cases) == 6 for cases in by.values())
    assert sum(c.megapixels >= 11.9 for c in plan) >= 3
    assert min(c.megapixels for c in plan) < 1.0
    assert all(c.style.digit_height[0] <= 60 for c in by["small_digits"])
    assert all(c.style.digit_height[1] >= 300 for c in by["large_digits"])
    assert all(c.style.gap_frac <= 0.2 for c in by["tight_spacing"])
    assert {c.style.ruling for c in by["ruled_squared"]} == {"ruled", "squared"}
    assert all(2 <= abs(c.style.rotation_deg) <= 5 for c in by["rotated"])
    assert all(c.style.jpeg_quality <= 60 for c in by["blur_jpeg"])
    assert all(c.style.stroke_frac < 0.05 for c in by["thin_strokes"])
    assert all(c.style.ink == "pencil" for c in by["pencil_lighting"])


def test_plan_only_draws_available_digits():
    plan = make_plan(30, seed=1, n_digits_available=N_FIXTURE_TEST)
    assert max(i for c in plan for i in c.indices) < N_FIXTURE_TEST
    filtered = make_plan(4, seed=1, conditions=["rotated", "blur_jpeg"])
    assert [c.condition for c in filtered] == ["rotated", "blur_jpeg"] * 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_sheets": 0}, "sheet"),
        ({"n_sheets": 2, "conditions": ["fog"]}, "unknown"),
        ({"n_sheets": 2, "max_mp": 0.0}, "max_mp"),
    ],
)
def test_plan_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_plan(**kwargs)


def test_small_run_end_to_end(tmp_path, capsys):
    out = tmp_path / "bench"
    args = _args(
        "--sheets", "6", "--seed", "5", "--data", str(FIXTURE), "--out", str(out),
        "--max-mp", "0.6", "--save-failures",
    )  # fmt: skip
    assert run(args) == 0
    printed = capsys.readouterr()
    assert "### mlp / default" in printed.out and "### mlp / auto" in printed.out
    assert printed.out.count("| **overall** |") == 2
    assert "[6/6]" in printed.err

    results = json.loads((out / "results.json").read_text())
    report = (out / "report.md").read_text()
    assert "| condition | sheets |" in report and "mlp / auto: F1" in report
    sheets = results["sheets"]
    assert len(sheets) == 6 * 2
    assert {(r["model"], r["mode"]) for r in sheets} == {("mlp", "default"), ("mlp", "auto")}
    for r in sheets:
        assert 0 <= r["correct"] <= r["matched"] <= min(r["found"], r["truth"])
        assert r["exact"] == (r["correct"] == r["truth"] == r["found"])
        assert r["truth"] == len(r["truth_text"].replace("\n", ""))
        assert r["seconds"] > 0 and r["megapixels"] <= 0.7
        failure = out / "failures" / f"mlp-{r['mode']}" / f"{r['case_id']}.jpg"
        assert failure.is_file() == (not r["exact"])
    assert len(results["plan"]) == 6
    assert [p["case_id"] for p in results["plan"]] == [r["case_id"] for r in sheets[::2]]

    for mode in ("default", "auto"):
        table = results["summary"]["mlp"][mode]
        assert set(table) == set(CONDITIONS[:6]) | {"overall"}
        overall = table["overall"]
        mine = [r for r in sheets if r["mode"] == mode]
        assert overall["sheets"] == 6 == sum(table[c]["sheets"] for c in CONDITIONS[:6])
        for key in ("digits", "found", "matched", "correct", "exact"):
            column = "truth" if key == "digits" else key
            assert overall[key] == sum(int(r[column]) for r in mine)
            assert overall[key] == sum(table[c][key] for c in CONDITIONS[:6])
        for row in table.values():
            assert all(0.0 <= row[k] <= 1.0 for k in RATES)
            assert 0 < row["median_s"] <= row["p95_s"] + 1e-9
        # The sheets are small and clean enough that most digits are read.
        assert overall["recall"] >= 0.7


def test_run_rejects_bad_options(capsys):
    assert run(_args("--data", str(FIXTURE), "--modes", "fast")) == 1
    assert run(_args("--data", str(FIXTURE), "--conditions", "fog")) == 1
    assert "unknown" in capsys.readouterr().err


def test_summarise_pools_digits_not_sheets():
    records = [
        {"truth": 10, "found": 10, "matched": 10, "correct": 10, "exact": True,
         "seconds": 1.0, "seconds_per_mp": 0.5},
        {"truth": 2, "found": 4, "matched": 1, "correct": 0, "exact": False,
         "seconds": 3.0, "seconds_per_mp": 1.5},
    ]  # fmt: skip
    m = summarise(records)
    assert (m.digits, m.found, m.matched, m.correct, m.exact) == (12, 14, 11, 10, 1)
    assert m.precision == pytest.approx(11 / 14) and m.recall == pytest.approx(11 / 12)
    assert m.f1 == pytest.approx(2 * (11 / 14) * (11 / 12) / (11 / 14 + 11 / 12))
    assert m.accuracy == pytest.approx(10 / 12) and m.exact_share == 0.5
    assert m.median_s == 2.0 and m.median_s_per_mp == 1.0
    assert m.p95_s == pytest.approx(2.9)


def test_rendered_sheet_matches_its_case():
    with np.load(FIXTURE) as data:
        x, y = data["x_test"], data["y_test"]
    plan = make_plan(10, seed=2, n_digits_available=len(x), max_mp=0.5)
    for case in (plan[2], plan[9]):  # thin pen (PNG or JPEG), blurred low-quality JPEG
        data_bytes, truth = render_case(case, x, y)
        again, _ = render_case(case, x, y)
        assert data_bytes == again
        magic = b"\xff\xd8" if case.style.jpeg_quality else b"\x89PNG"
        assert data_bytes.startswith(magic)
        assert [d["source_index"] for d in truth["digits"]] == list(case.indices)
        assert [len(t) for t in truth["text"].split("\n")] == list(case.lines)
        assert truth["width"] >= case.size[0] and truth["height"] >= case.size[1]


def test_font_digits_without_fonts_say_what_to_install(tmp_path):
    with pytest.raises(ValueError, match="apt-get install fonts-"):
        font_digits([str(tmp_path / "*.ttf")])


@pytest.mark.skipif(
    not installed_fonts() and os.environ.get("CI") != "true",
    reason="no handwriting font installed (apt-get install fonts-dkg-handwriting; .ci/run does)",
)
def test_font_digits_are_centred_glyphs_with_labels():
    x, y = font_digits()
    assert x.shape[1:] == (GLYPH_SIDE, GLYPH_SIDE) and x.dtype == np.uint8
    assert len(x) == 10 * len(installed_fonts())
    np.testing.assert_array_equal(y[:10], np.arange(10))
    rows = np.flatnonzero(x[0].max(axis=1) > 64)
    assert abs((rows[0] + rows[-1]) / 2 - GLYPH_SIDE / 2) <= 2  # centred
    assert 0.7 * GLYPH_SIDE <= rows[-1] - rows[0] + 1 <= 0.85 * GLYPH_SIDE


def test_sheets_can_be_drawn_from_larger_glyphs():
    from digit_pipeline.benchmarking.sheets import make_sheet

    glyphs = np.zeros((3, 112, 112), np.uint8)
    glyphs[:, 16:96, 50:62] = 255  # three "1"s
    image, truth = make_sheet(glyphs, [1, 1, 1], [3], style=SheetStyle(jpeg_quality=None))
    assert truth["text"] == "111" and image.ndim == 3
    with pytest.raises(ValueError, match="S >= 28"):
        make_sheet(glyphs[:, :20, :20], [1, 1, 1], [3])


def test_judge_off_switches_rules_off_and_is_recorded(tmp_path, capsys):
    from digit_pipeline.cli import main
    from digit_pipeline.reading.judge import RULES

    common = ["bench", "--sheets", "3", "--seed", "5", "--data", str(FIXTURE), "--max-mp", "0.6"]
    common += ["--modes", "default"]
    assert main([*common, "--out", str(tmp_path / "on")]) == 0
    off = ",".join(RULES)
    assert main([*common, "--out", str(tmp_path / "off"), "--judge-off", off]) == 0
    on, without = (
        json.loads((tmp_path / name / "results.json").read_text()) for name in ("on", "off")
    )
    assert on["config"]["judge_off"] == []  # every rule and step on by default
    assert without["config"]["judge_off"] == sorted(RULES)
    # with no rule on, no box is set aside: every sheet has at least the boxes it had
    for a, b in zip(on["sheets"], without["sheets"], strict=True):
        assert b["found"] >= a["found"]
    with pytest.raises(SystemExit) as usage:
        main([*common, "--judge-off", "faint,fiant"])
    assert usage.value.code == 2 and "fiant" in capsys.readouterr().err


def test_ablation_switches_each_rule_off_and_names_the_writers_it_helps(tmp_path, capsys):
    """A stub of a rule beside three digits: the verifier's rule sets it aside; off, it is read."""
    import cv2
    from conftest import stub_sheet

    from digit_pipeline.cli import main

    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "stub_sheet_ann.png"), stub_sheet())
    (folder / "truth.json").write_text(json.dumps([{"file": "stub_sheet_ann.png", "text": "348"}]))
    out = tmp_path / "out"
    argv = ["bench", "--real", str(folder), "--ablate", "no digit,faint", "--out", str(out)]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "| all on | 3 |  | 0 |  | 1/1 |" in table
    assert "| no digit off | 3 | +0 | 1 | +1 | 0/1 | -1 | ann | — |" in table  # writer: ann
    assert "| faint off | 3 | +0 | 0 | +0 | 1/1 | +0 | — | — |" in table
    saved = json.loads((out / "ablation.json").read_text())
    assert saved["no digit off"]["extra"] == 1 and saved["all on"]["writers"] == {"ann": 3}
    assert (out / "ablation.md").read_text().startswith("# Ablation")
    assert main(["bench", "--real", str(folder), "--ablate", "fiant"]) == 1
    assert "unknown rule or step" in capsys.readouterr().err


def test_turned_and_coloured_families_are_recorded_and_read(tmp_path):
    from digit_pipeline.benchmarking.families import COLOURED_INKS, COLOURED_PAPERS
    from digit_pipeline.cli import main

    common = ["bench", "--sheets", "3", "--seed", "5", "--data", str(FIXTURE), "--max-mp", "0.6"]
    common += ["--modes", "auto"]
    assert main([*common, "--out", str(tmp_path / "plain")]) == 0
    assert main([*common, "--out", str(tmp_path / "turned"), "--turn"]) == 0
    assert main([*common, "--out", str(tmp_path / "inks"), "--inks"]) == 0
    plain, turned, inks = (
        json.loads((tmp_path / name / "results.json").read_text())
        for name in ("plain", "turned", "inks")
    )
    assert (plain["config"]["turn"], turned["config"]["turn"]) == (False, True)
    assert (plain["config"]["inks"], inks["config"]["inks"]) == (False, True)
    # a quarter turn, a half, three quarters in turn; the truth's size turns with the sheet
    assert [r["turned"] for r in turned["sheets"]] == [180, 270, 90]
    for a, b in zip(plain["sheets"], turned["sheets"], strict=True):
        assert b["truth_text"] == a["truth_text"]
        if b["turned"] != 180:
            assert (b["width"], b["height"]) == (a["height"], a["width"])
    # the way up is found on the sheet with most digits (two digits say little: 11 is 11
    # upside down, and a sideways 65 of this fixture is read as 47 and 0)
    most = max(range(3), key=lambda i: plain["sheets"][i]["truth"])
    assert plain["sheets"][most]["truth"] >= 8
    assert turned["sheets"][most]["text"] == plain["sheets"][most]["text"]
    for case in inks["plan"]:
        assert tuple(case["style"]["ink_rgb"]) in COLOURED_INKS
        assert tuple(case["style"]["paper_rgb"]) in COLOURED_PAPERS


def test_the_printed_paper_family_is_recorded_and_read(tmp_path):
    from digit_pipeline.cli import main

    argv = ["bench", "--sheets", "4", "--seed", "2", "--data", str(FIXTURE), "--max-mp", "0.6"]
    assert main([*argv, "--modes", "default", "--grids", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["config"]["grids"] is True
    styles = [case["style"] for case in results["plan"]]
    assert all(style["ruling"] in ("ruled", "squared") for style in styles)
    assert {style["rule_print"] for style in styles} >= {"dotted", "dashed"}
    for sheet in results["sheets"]:  # every digit read on its dots and dashes
        assert sheet["correct"] == sheet["truth"], sheet["case_id"]


def test_bench_families_tables_each_family_beside_another_run(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    def write(folder, family, results):
        (folder / family).mkdir(parents=True)
        (folder / family / "results.json").write_text(json.dumps(results))

    def sheet(mode, truth, found, matched, correct):
        exact = truth == found == matched == correct
        return dict(mode=mode, truth=truth, found=found, matched=matched, correct=correct,
                    exact=exact)  # fmt: skip

    now, before = tmp_path / "now", tmp_path / "before"
    sheets = [sheet("auto", 10, 11, 9, 8), sheet("auto", 5, 5, 5, 5), sheet("default", 5, 4, 4, 4)]
    write(now, "pairs", {"sheets": sheets})
    write(before, "pairs", {"sheets": [*sheets[:2], sheet("default", 5, 5, 5, 5)]})
    photo = dict(mode="auto", truth=9, correct=7, wrong=1, missed=1, extra=2, exact=False)
    write(now, "real", [photo, {**photo, "correct": 9, "wrong": 0, "missed": 0, "extra": 0,
                                "exact": True}])  # fmt: skip
    script = ROOT / "benchmarks" / "bench_families.py"
    shown = subprocess.run(
        [sys.executable, str(script), "table", str(now), str(before)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "| pairs | auto | 13/15 · 2 · 1/2 | same |" in shown  # extra: found - matched
    assert "| pairs | default | 4/5 · 0 · 0/1 | 5/5 · 0 · 1/1 |" in shown
    assert "| real | auto | 16/18 · 2 · 1/2 | - |" in shown  # a photo's own extra count
    assert "mnist" not in shown  # a family not run is not shown
