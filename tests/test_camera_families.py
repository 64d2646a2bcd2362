"""The camera's families: out of focus with dark corners, and webcam frames (issue 22)."""

from __future__ import annotations

import numpy as np
import pytest

from digit_pipeline.benchmarking.camera import _defocus
from digit_pipeline.benchmarking.families import WEBCAM_FRAMES, out_of_focus, through_a_webcam
from digit_pipeline.benchmarking.plan import make_plan
from digit_pipeline.benchmarking.sheets import make_sheet
from digit_pipeline.benchmarking.styles import SheetStyle


def test_defocus_spreads_a_line_over_its_disk_and_keeps_the_ink():
    image = np.full((41, 41, 3), 255, np.uint8)
    image[:, 20] = 0  # a one-pixel dark line
    blurred = _defocus(image, 4.0)
    row = blurred[20, :, 0].astype(int)
    assert row[20] > 150 and row[16] < 255 and row[24] < 255  # spread to the disk's edge
    assert row[14] == 255 and row[26] == 255  # and no further
    assert abs((255 - row).sum() - 255) < 8  # the ink is kept, only spread


def test_vignette_darkens_the_corners_not_the_centre():
    flat = dict(lighting=0.0, paper_mottle=0.0, noise_sigma=0.0, blur_sigma=0.0)
    digits = np.zeros((1, 28, 28), np.uint8)
    digits[0, 10:18, 12:16] = 255
    plain, _ = make_sheet(digits, [1], [1], (400, 300), SheetStyle(**flat), rng=0)
    dark, _ = make_sheet(digits, [1], [1], (400, 300), SheetStyle(**flat, vignette=0.6), rng=0)
    corner = (slice(0, 10), slice(0, 10))
    assert dark[corner].mean() < 0.55 * plain[corner].mean()
    assert abs(float(dark[145:155, 195:205].mean()) - float(plain[145:155, 195:205].mean())) < 3


@pytest.mark.parametrize("bad", [{"vignette": 0.95}, {"defocus_px": -1.0}])
def test_camera_settings_out_of_range_are_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        SheetStyle(**bad)


def test_the_defocus_family_blurs_every_sheet_by_its_digits_size():
    for case in make_plan(12, 0):
        blurred = out_of_focus(case)
        lo, hi = case.style.digit_height
        assert 0.03 * (lo + hi) / 2 - 0.1 <= blurred.style.defocus_px <= 0.06 * (lo + hi) / 2 + 0.1
        assert 0.3 <= blurred.style.vignette <= 0.6
        assert blurred.indices == case.indices and blurred.lines == case.lines


def test_the_webcam_family_fits_small_faint_digits_in_a_frame():
    for case in make_plan(12, 0):
        frame = through_a_webcam(case)
        width, height = frame.size
        assert (width, height) in WEBCAM_FRAMES or width * height > 640 * 480  # rarely grown
        lo, hi = frame.style.digit_height
        assert 0.035 * height <= lo <= 0.065 * height and hi >= lo
        assert frame.style.ink_opacity <= 0.6 and frame.style.jpeg_quality <= 70
        assert frame.indices == case.indices[: sum(frame.lines)]


def _webcam_frame(mnist, ink: float = 0.4) -> tuple[np.ndarray, str]:
    """A 640 x 480 webcam frame of six small faint digits (ink at 40 % of its contrast)."""
    x_test, y_test = mnist
    style = SheetStyle(
        digit_height=(24, 28), stroke_px=0, ink_opacity=ink, lighting=0.3, shadow=0.0,
        noise_sigma=5.0, blur_sigma=0.8, jpeg_quality=55,
    )  # fmt: skip
    frame, truth = make_sheet(x_test[:6], y_test[:6].tolist(), [6], (640, 480), style, rng=3)
    return frame, truth["text"]


def test_faint_ink_on_a_webcam_frame_is_measured_and_read(mnist, reader):
    """Ink 10-30 levels dark on a grey, noisy frame is ink (issue 22): the fit measures it
    (Otsu's split alone falls in the paper's grain) and the boxes keep it."""
    from digit_pipeline.reading import read_sheet
    from digit_pipeline.reading.autofit import measure_sheet

    frame, text = _webcam_frame(mnist)
    stats = measure_sheet(frame[..., 0])
    assert stats is not None and 20 <= stats.digit_height <= 34, stats
    reading = read_sheet(frame, model=reader, auto=True)
    assert len(reading.result.boxes) == len(text), reading.text
    assert sum(a == b for a, b in zip(reading.text, text, strict=True)) >= len(text) - 1
    blank, _ = _webcam_frame(mnist, ink=0.01)  # the same frame, grain and all, no ink
    assert measure_sheet(blank[..., 0]) is None
    assert read_sheet(blank, model=reader, auto=True).text == ""


def test_a_box_needs_ink_as_dark_as_its_sheets_own(mnist):
    """A mark 24 levels dark is ink on a sheet whose digits are all that faint, and paper
    grain beside digits 190 levels dark (stages.ink_floor)."""
    from conftest import INK, PAPER, paste

    from digit_pipeline.reading.autofit import auto_fit
    from digit_pipeline.reading.pipeline import run_pipeline

    def boxes(image):  # fitted: Canny's default thresholds see no ink 24 levels dark
        return run_pipeline(image, auto_fit(image).params).boxes

    x_test, _ = mnist
    page = np.full((200, 400), PAPER, np.uint8)
    paste(page, x_test[0], 60, 60, 80)
    paste(page, x_test[1], 260, 60, 80)
    dark = (PAPER - page.astype(np.float64)) / (PAPER - INK)  # 0 paper .. 1 ink
    faint = np.round(PAPER - 24 * dark).astype(np.uint8)  # both digits 24 levels dark
    assert len(boxes(faint)) == 2
    mixed = faint.copy()
    mixed[:, :200] = page[:, :200]  # the first digit in dark ink: the faint one is no ink
    assert [box[0] < 200 for box in boxes(mixed)] == [True]
