"""The whole reading path on the bundled sample sheets, with default and fitted parameters."""

from __future__ import annotations

import pytest
from conftest import load_truth, sample_sheets

from digit_pipeline.benchmarking.scoring import score_sheet
from digit_pipeline.io.images import read_image
from digit_pipeline.reading import read_sheet

SHEETS = sample_sheets()


def test_there_are_enough_samples():
    assert len(SHEETS) >= 4
    counts = [len(load_truth(p)["digits"]) for p in SHEETS]
    assert all(3 <= c <= 30 for c in counts), counts
    assert any(load_truth(p)["style"].get("ruling") == "ruled" for p in SHEETS)


@pytest.mark.parametrize("sheet", SHEETS, ids=[p.stem for p in SHEETS])
def test_defaults_find_every_digit_and_read_most(model, sheet):
    truth = load_truth(sheet)
    reading = read_sheet(read_image(sheet), model=model).sheet
    score = score_sheet(
        [d.box for d in reading.digits],
        [d.label for d in reading.digits],
        [tuple(d["box"]) for d in truth["digits"]],
        [d["label"] for d in truth["digits"]],
    )
    assert score.found == score.truth == score.matched, (
        f"found {score.found} boxes, matched {score.matched} of {score.truth} digits"
    )
    assert score.accuracy >= 0.9, f"read {reading.text!r}, truth {truth['text']!r}"


@pytest.mark.parametrize("sheet", SHEETS, ids=[p.stem for p in SHEETS])
def test_lines_come_out_in_reading_order(model, sheet):
    truth = load_truth(sheet)
    reading = read_sheet(read_image(sheet), model=model).sheet
    assert [len(line) for line in reading.text.split("\n")] == [
        len(line) for line in truth["text"].split("\n")
    ]


@pytest.mark.parametrize("sheet", SHEETS, ids=[p.stem for p in SHEETS])
def test_auto_fit_reads_every_sample_exactly(model, sheet):
    """With the automatic fit every bundled sheet reads exactly: every box, every digit."""
    truth = load_truth(sheet)
    reading = read_sheet(read_image(sheet), model=model, auto=True).sheet
    score = score_sheet(
        [d.box for d in reading.digits],
        [d.label for d in reading.digits],
        [tuple(d["box"]) for d in truth["digits"]],
        [d["label"] for d in truth["digits"]],
    )
    assert score.found == score.truth == score.matched == score.correct, reading.text
    assert reading.text == truth["text"]


@pytest.mark.parametrize("invert", [False, True], ids=["light-paper", "dark-paper"])
def test_reading_with_the_fits_prepared_image_is_the_same(model, invert):
    # `read` and the benchmark hand the fit's prepared image to the reader instead of
    # preparing it again; the reading must not change (dark paper: the fit inverts).
    from digit_pipeline.reading import fit_sheet
    from digit_pipeline.reading.autofit import auto_fit
    from digit_pipeline.reading.params import PipelineParams

    image = read_image(SHEETS[0])
    if invert:
        image = 255 - image
    fit = auto_fit(image)
    assert fit.params.invert == invert
    again = read_sheet(image, fit.params, model=model)
    reused = read_sheet(image, fit.params, model=model, prepared=fit.prepared)
    assert reused.timings_ms["prepare"] < again.timings_ms["prepare"]  # it was reused
    assert reused.text == again.text and reused.result.boxes == again.result.boxes
    assert [d.confidence for d in reused.sheet.digits] == [d.confidence for d in again.sheet.digits]
    fitted = read_sheet(image, model=model, auto=True)  # the one path, fit included
    judged = fit_sheet(image, model=model)  # with a model the reading judges the fit
    assert judged.params in (fit.params, PipelineParams())
    assert fitted.params == judged.params
    assert fitted.text == read_sheet(image, judged.params, model=model).text


@pytest.mark.parametrize(
    "sheet", [*SHEETS, "blank", "dark"], ids=[*(s.stem for s in SHEETS), "blank", "dark"]
)
def test_the_copies_the_fit_hands_on_are_the_ones_prepare_makes(model, sheet):
    """The fit measures the ink on a copy it prepared; each candidate that would be prepared
    alike (the estimate, or the plain defaults, at that copy's size) is handed that copy,
    and it must be exactly what ``prepare`` makes for it — on a page without ink too."""
    import numpy as np
    from conftest import blank

    from digit_pipeline.reading import fit_sheet
    from digit_pipeline.reading.autofit import candidates, estimate_fit
    from digit_pipeline.reading.prepared import prepare

    if sheet == "blank":
        image = blank(1200, 900)
    elif sheet == "dark":
        image = 255 - read_image(SHEETS[-1])
    else:
        image = read_image(sheet)
    fit = estimate_fit(image)
    handed = [(params, ready) for params, ready in candidates(fit) if ready is not None]
    assert handed, "no candidate was handed a prepared copy"
    for params, ready in handed:
        made = prepare(image, params)
        assert ready.fits(params) and ready.scale == made.scale
        for name in ("gray", "work", "cleaned", "surround"):
            np.testing.assert_array_equal(getattr(ready, name), getattr(made, name), name)
    assert fit_sheet(image).measured is None  # the measuring copy is not kept past the fit
    assert fit_sheet(image, model=model).measured is None


def test_a_prepared_image_of_other_settings_is_refused_or_redone(model):
    """segment() refuses a Prepared made with other prepare settings; read_sheet redoes it."""
    from digit_pipeline.reading.params import PipelineParams
    from digit_pipeline.reading.pipeline import segment
    from digit_pipeline.reading.prepared import prepare

    image = read_image(SHEETS[0])
    small = prepare(image, PipelineParams(work_size=600))
    assert small.params.work_size == 600 and small.work.shape[1] <= 600
    with pytest.raises(ValueError, match=r"work_size.: 600.*work_size.: 1200"):
        segment(small, PipelineParams())
    redone = read_sheet(image, PipelineParams(), model=model, prepared=small)
    assert redone.result.prepared.params.work_size == 1200
    assert redone.text == read_sheet(image, model=model).text
