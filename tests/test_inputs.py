"""Any image a user brings: read upright, or refused with one sentence — loader, CLI, app."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT
from odd_files import corpus
from streamlit.testing.v1 import AppTest

from digit_pipeline import PipelineParams
from digit_pipeline.io.images import ImageReadError, decode_image, page_count
from digit_pipeline.reading import fit_sheet
from digit_pipeline.reading.autofit import auto_fit
from digit_pipeline.reading.pipeline import MAX_BOXES, run_pipeline


@pytest.fixture(scope="module")
def files(mnist):
    return corpus(mnist)


def test_the_corpus_has_both_kinds(files):
    kinds = {f.expect for f in files}
    assert kinds == {"read", "refused"} and len(files) >= 20


def test_loader_reads_or_refuses_every_file(files):
    for odd in files:
        if odd.expect == "read":
            image = decode_image(odd.data, odd.name)
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, odd.name
        else:
            start = time.perf_counter()
            with pytest.raises(ImageReadError) as info:
                decode_image(odd.data, odd.name)
            assert odd.name in str(info.value)
            assert "\n" not in str(info.value)
            assert time.perf_counter() - start < 5, f"{odd.name} took too long to refuse"


def test_pipeline_finds_the_expected_digits(files):
    for odd in files:
        if odd.expect != "read":
            continue
        image = decode_image(odd.data, odd.name)
        params = auto_fit(image).params
        result = run_pipeline(image, params)
        assert result.digits.shape == (len(result.boxes), 28, 28), odd.name
        h, w = image.shape[:2]
        assert all(
            0 <= x and 0 <= y and x + bw <= w and y + bh <= h for x, y, bw, bh in result.boxes
        ), odd.name
        if odd.digits is not None:
            assert len(result.boxes) == odd.digits, (odd.name, result.boxes)


def test_exif_orientation_is_applied(files):
    by_name = {f.name: f for f in files}
    upright = decode_image(by_name["rgb.png"].data)
    rotated = decode_image(by_name["exif_rotated.jpg"].data)
    assert rotated.shape == upright.shape


def test_transparent_background_is_paper(files):
    image = decode_image(next(f for f in files if f.name == "transparent.png").data)
    assert np.median(image) == 255


def test_multipage_tiff_reads_the_first_page(files):
    tiff = next(f for f in files if f.name == "two_pages.tiff")
    assert page_count(tiff.data) == 2
    first = decode_image(tiff.data)
    assert first.shape[0] < first.shape[1]  # the second page is the rotated one


def test_dark_paper_is_detected_and_read(files, mnist):
    dark = decode_image(next(f for f in files if f.name == "dark_paper.png").data)
    fit = auto_fit(dark)
    assert fit.params.invert
    assert len(run_pipeline(dark, fit.params).boxes) == 3
    assert len(run_pipeline(dark, PipelineParams(invert=True)).boxes) == 3


@pytest.mark.parametrize("name", ["pencil_three_lines.jpg", "pen_ruled.jpg", "scan_small_many.jpg"])
def test_an_underexposed_photo_of_white_paper_is_not_taken_for_dark_paper(name, model):
    # A third of the light: the whole sheet is darker than DARK_PAPER, but its strokes are
    # still darker than its paper, so it is read as dark ink on (dim) white paper.
    from conftest import SAMPLES, load_truth

    from digit_pipeline.reading import read_sheet
    from digit_pipeline.reading.autofit import DARK_PAPER, is_dark_paper

    sheet = SAMPLES / name
    dim = (decode_image(sheet.read_bytes()).astype(np.float32) * 0.3).astype(np.uint8)
    assert np.median(dim) < DARK_PAPER
    assert not is_dark_paper(dim.mean(axis=2).astype(np.uint8))
    fit = fit_sheet(dim, model=model)
    assert not fit.params.invert
    truth = [d["label"] for d in load_truth(sheet)["digits"]]
    read = [d.label for d in read_sheet(dim, fit.params, model=model).sheet.digits]
    assert len(read) == len(truth)


def _ringed_small_digits(mnist) -> np.ndarray:
    """An 11 MP photo of small digits, each ringed, lit from one side: the light splits the
    paper in two grey classes, so Otsu cannot tell ink from paper, and the strokes must."""
    import cv2
    from conftest import paste

    digits, _ = mnist
    page = np.tile(np.linspace(150, 235, 4400), (2500, 1)).astype(np.uint8)
    for k in range(16):
        left, top = 1000 + 300 * (k % 8), 1000 + 260 * (k // 8)
        paste(page, digits[k], left, top, 60)
        cv2.ellipse(page, (left + 25, top + 30), (60, 55), 0, 0, 360, 110, 5, cv2.LINE_AA)
    return page


def test_small_ringed_digits_under_uneven_light_are_dark_ink(mnist):
    # The paper inside each small ring stands above the ring as a light stroke would; it
    # does not stand above the paper.
    from digit_pipeline.reading.autofit import is_dark_paper

    page = _ringed_small_digits(mnist)
    assert not is_dark_paper(page)
    assert is_dark_paper(255 - page)


def test_noise_is_capped_and_fast(files):
    noise = decode_image(next(f for f in files if f.name == "noise.png").data)
    params = PipelineParams(min_box_area=0, blur_size=1, canny_lower=0, dilate_iterations=0)
    start = time.perf_counter()
    result = run_pipeline(noise, params)
    assert time.perf_counter() - start < 30
    assert len(result.boxes) <= MAX_BOXES


def test_cli_reads_the_good_and_refuses_the_bad(files, tmp_path):
    paths = []
    for odd in files:
        path = tmp_path / odd.name
        path.write_bytes(odd.data)
        paths.append(path)
    done = subprocess.run(
        [sys.executable, "-m", "digit_pipeline", "read", "--json", "--auto", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["image"] for r in records] == [str(p) for p in paths]
    for odd, record in zip(files, records, strict=True):
        assert ("error" in record) == (odd.expect == "refused"), odd.name
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == sum(f.expect == "refused" for f in files)
    assert "two_pages.tiff has 2 pages" in done.stderr


def test_app_takes_every_file_without_a_traceback(files):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.selectbox(key="source").set_value("Upload your own…").run()
    good = next(f for f in files if f.name == "rgb.png")
    at.file_uploader(key="upload").set_value((good.name, good.data, "image/png")).run()
    assert not at.exception and not at.error
    for odd in files:
        at.file_uploader(key="upload").set_value((odd.name, odd.data, "image/png")).run()
        assert not at.exception, (odd.name, at.exception)
        if odd.expect == "refused":
            assert any(odd.name in e.value for e in at.error), odd.name
            # The last good image stays, and so does the work on it.
            assert "previous image" in " ".join(c.value for c in at.caption), odd.name
        else:
            assert not at.error, (odd.name, [e.value for e in at.error])
        at.button(key="predict").click().run()
        assert not at.exception, (odd.name, at.exception)
