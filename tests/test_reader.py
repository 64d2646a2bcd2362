"""The one cached reader: each step once per image, parameters and model; bounded; shared."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from conftest import line_of_digits, on_desk, stub_sheet

from digit_pipeline import PipelineParams
from digit_pipeline.caching import BoundedCache
from digit_pipeline.reading import Reader, read_sheet
from digit_pipeline.reading.pipeline import STAGE_VIEWS, StageView, run_pipeline
from digit_pipeline.stages import flatten_page


@pytest.fixture(scope="module")
def sheet(mnist) -> np.ndarray:
    """Four MNIST test digits on a line (a 520×160 grey page)."""
    page, _, _ = line_of_digits(mnist, [0, 1, 2, 3], gap=30)
    return page


def test_the_same_inputs_give_the_very_same_reading(sheet, model):
    reader = Reader()
    params = PipelineParams()
    plain = reader.read("sheet", sheet, params)
    assert reader.read("sheet", sheet, params) is plain
    assert reader.read("sheet", sheet, PipelineParams()) is plain  # equal, not identical
    read = reader.read("sheet", sheet, params, model)
    assert read is not plain and read.sheet is not None and plain.sheet is None
    assert reader.read("sheet", sheet, params, model) is read
    assert read.result.prepared is plain.result.prepared  # prepared once for both


def test_the_reading_is_read_sheets(sheet, model):
    params = PipelineParams(canny_lower=40)
    read = Reader().read("sheet", sheet, params, model)
    direct = read_sheet(sheet, params, model=model, page=None)
    assert read.text == direct.text and read.text
    assert read.result.boxes == direct.result.boxes


def test_a_segment_setting_shares_the_prepared_image(sheet):
    reader = Reader()
    a = reader.read("sheet", sheet, PipelineParams(canny_lower=30))
    b = reader.read("sheet", sheet, PipelineParams(canny_lower=60))
    assert a is not b
    assert a.result.prepared is b.result.prepared
    assert reader.prepared("sheet", sheet, PipelineParams(blur_size=9)) is a.result.prepared
    other = reader.read("sheet", sheet, PipelineParams(remove_lines=False))  # a prepare setting
    assert other.result.prepared is not a.result.prepared
    assert other.result.prepared.cleaned is other.result.prepared.work  # no lines removed
    assert a.result.prepared.cleaned is not a.result.prepared.work


def test_read_with_the_fits_params_returns_the_fits_reading(model):
    image = stub_sheet()
    reader = Reader()
    fit = reader.fit("stub", image, PipelineParams(), model)
    assert fit.reading is not None
    assert reader.fit("stub", image, PipelineParams(canny_lower=99), model) is fit  # fit_base
    assert reader.read("stub", image, fit.params, model) is fit.reading
    # Without the model the boxes are read anew, on the fit's prepared image.
    boxes = reader.read("stub", image, fit.params)
    assert boxes is not fit.reading and boxes.sheet is None
    assert boxes.result.prepared is fit.prepared
    moved = reader.read("stub", image, fit.params.replace(canny_lower=fit.params.canny_lower + 1))
    assert moved.result.prepared is fit.prepared  # a slider move: the fit's prepared image


def test_the_estimate_alone_lends_its_prepared_image(sheet):
    reader = Reader()
    fit = reader.fit("sheet", sheet)  # no model: the ink's estimate
    assert fit.reading is None and fit.prepared is not None
    assert reader.read("sheet", sheet, fit.params).result.prepared is fit.prepared


def test_the_caches_are_bounded(mnist):
    reader = Reader(pages=2, prepared=2, fits=2, readings=2)
    images = [line_of_digits(mnist, [k], gap=20)[0] for k in range(3)]
    first, second, third = (reader.read(f"img{k}", im) for k, im in enumerate(images))
    assert reader.read("img1", images[1]) is second and reader.read("img2", images[2]) is third
    again = reader.read("img0", images[0])  # evicted by the third image
    assert again is not first
    assert again.result.prepared is not first.result.prepared
    assert again.result.boxes == first.result.boxes
    assert reader.read("img0", images[0]) is again


def test_a_bounded_cache_drops_the_least_recently_used():
    cache = BoundedCache(2)
    made = []
    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get_or_make(key, lambda key=key: made.append(key) or key.upper())
    assert made == ["a", "b", "c", "b"]  # "b" was dropped for "c", "a" was used since
    assert cache.keys() == ["a", "b"] and len(cache) == 2
    with pytest.raises(ValueError, match="size must be >= 1, got 0"):
        BoundedCache(0)


def test_corners_give_the_flattened_pages_reading(sheet):
    photo, corners = on_desk(cv2.cvtColor(sheet, cv2.COLOR_GRAY2RGB))
    reader = Reader()
    params = PipelineParams()
    reading = reader.read("photo", photo, params, corners=corners)
    page = flatten_page(photo, corners)
    assert reading.image.shape == page.shape
    assert reading.result.boxes == read_sheet(page, params, page=None).result.boxes
    assert len(reading.result.boxes) == 4
    flat = reader.image("photo", photo, corners.tolist())  # the same corners, as a list
    assert flat is reading.image and not flat.flags.writeable
    assert reader.image("photo", photo) is photo
    as_is = reader.read("photo", photo, params)  # no corners: the photo as it is
    assert as_is is not reading and as_is.image is photo


def test_threads_asking_at_once_get_one_reading(sheet):
    reader = Reader()
    params = PipelineParams(canny_lower=45)
    with ThreadPoolExecutor(8) as pool:
        readings = list(pool.map(lambda _: reader.read("sheet", sheet, params), range(16)))
    assert all(r is readings[0] for r in readings)


def test_the_stage_views_show_a_result():
    result = run_pipeline(stub_sheet())
    assert [v.title for v in STAGE_VIEWS] == [
        "Grey, lighting evened (working copy)",
        "Page found (the desk around it shaded)",
        "Lines removed",
        "Blurred",
        "Edges",
        "Dilated",
    ]
    for view in STAGE_VIEWS:
        picture = view.picture(result)
        assert picture.dtype == np.uint8 and picture.shape[:2] == result.prepared.work.shape


@pytest.mark.parametrize(
    ("depends", "moved", "changes"),
    [
        ("prepare", {"canny_lower": 60, "blur_size": 9}, False),
        ("prepare", {"work_size": 800}, True),
        ("blur", {"canny_lower": 60}, False),
        ("blur", {"blur_size": 9}, True),
        ("segment", {"canny_lower": 60}, True),
    ],
    ids=["prepare-move", "prepare-size", "blur-canny", "blur-blur", "segment-canny"],
)
def test_a_stage_views_key_changes_with_what_it_depends_on(depends, moved, changes):
    view = next(v for v in STAGE_VIEWS if v.depends == depends)
    params = PipelineParams()
    assert (view.key(params) != view.key(params.replace(**moved))) is changes


def test_a_stage_view_names_what_it_depends_on():
    with pytest.raises(ValueError, match="depends must be one of"):
        StageView("Odd", lambda result: result.edges, "sliders")
