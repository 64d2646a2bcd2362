"""Tests for digit_pipeline.stages: purity, known answers, validation and properties."""

from __future__ import annotations

import math
import re

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from digit_pipeline.reading.params import PARAM_SPECS, PipelineParams
from digit_pipeline.reading.pipeline import run_pipeline
from digit_pipeline.stages import (
    MIN_INK_CONTRAST,
    THIN_STROKE,
    blur_image,
    dilate_image,
    draw_boxes,
    drop_nested,
    edges_canny,
    extract_roi_black_white,
    find_contours_and_boxes,
    flatten_lighting,
    reading_order,
    reading_order_indices,
    remove_lines,
    resize_rois,
    scale_boxes,
    stroke_width,
    to_gray,
    working_copy,
)

PAPER, INK = 225, 25


# ---- helpers -----------------------------------------------------------------------------


def _page(seed: int = 0, shape: tuple[int, int] = (90, 140)) -> np.ndarray:
    """A noisy grey page with a ruled line, a thick stroke and a ring: every stage has work."""
    rng = np.random.default_rng(seed)
    page = np.clip(rng.normal(PAPER, 4, shape), 0, 255).astype(np.uint8)
    page[40:42, :] = 110
    page[20:70, 30:38] = INK
    cv2.circle(page, (95, 45), 22, INK, 4)
    return page


def _rgb(seed: int = 0) -> np.ndarray:
    gray = _page(seed)
    rgb = np.dstack([gray, gray, gray]).copy()
    rgb[5:15, 5:25] = (200, 30, 30)
    return rgb


def _rgba(seed: int = 0) -> np.ndarray:
    rgb = _rgb(seed)
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :10] = 0
    alpha[:, 10:20] = 128
    return np.dstack([rgb, alpha]).copy()


def _edges(seed: int = 0) -> np.ndarray:
    return edges_canny(_page(seed), 30, 3.0, 3)


def _binary(seed: int = 0) -> np.ndarray:
    return dilate_image(_edges(seed), 3, 1)


def _ink_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1), inclusive, of the non-zero pixels."""
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _center_of_mass(digit: np.ndarray) -> tuple[float, float]:
    mass = digit.astype(np.float64)
    rows, cols = np.indices(digit.shape)
    total = mass.sum()
    return float((rows * mass).sum() / total), float((cols * mass).sum() / total)


def _ellipse(h: int, w: int, ring: float | None = None) -> np.ndarray:
    """A filled ellipse (or a ring ``ring`` of the radius thick) exactly mirror-symmetric."""
    rows, cols = np.indices((h, w))
    d = ((rows - (h - 1) / 2) / (h / 2)) ** 2 + ((cols - (w - 1) / 2) / (w / 2)) ** 2
    mask = d <= 1 if ring is None else (d <= 1) & (d >= (1 - ring) ** 2)
    return mask.astype(np.uint8) * 255


def _plus(side: int, bar: int) -> np.ndarray:
    shape = np.zeros((side, side), np.uint8)
    start = (side - bar) // 2
    shape[start : start + bar, :] = 255
    shape[:, start : start + bar] = 255
    return shape


# ---- purity ------------------------------------------------------------------------------

# (callable, input maker). Each callable takes the input as its only argument.
PURE_CASES = [
    (to_gray, lambda: _page(1)),
    (to_gray, lambda: _rgb(1)),
    (to_gray, lambda: _rgba(1)),
    (lambda a: working_copy(a, 500)[0], lambda: _page(2)),
    (lambda a: working_copy(a, 40)[0], lambda: _page(2)),
    (lambda a: remove_lines(a, 60), lambda: _page(3)),
    (lambda a: remove_lines(a, 60, 1), lambda: _page(3)),
    (lambda a: blur_image(a, 5), lambda: _page(4)),
    (lambda a: blur_image(a, 1), lambda: _page(4)),
    (lambda a: edges_canny(a, 30, 3.0, 3), lambda: _page(5)),
    (lambda a: edges_canny(a, 10, 2.0, 7), lambda: _page(5)),
    (lambda a: dilate_image(a, 5, 2), _edges),
    (lambda a: dilate_image(a, 5, 0), _edges),
    (lambda a: dilate_image(a, 1, 3), _edges),
    (lambda a: find_contours_and_boxes(a, 0), _binary),
    (lambda a: find_contours_and_boxes(a, 50), _binary),
    (lambda a: extract_roi_black_white(a, [(20, 10, 30, 70), (60, 10, 70, 70)]), _page),
    (lambda a: extract_roi_black_white(a, [(20, 10, 30, 70)], 100), _page),
    (lambda a: extract_roi_black_white(a, [(20, 10, 30, 70)], remove_lines=True), _page),
    (lambda a: extract_roi_black_white(a, [(0, 0, 140, 90)], max_side=40), _page),
    (lambda a: resize_rois([a]), lambda: 255 - _page(6)),
    (lambda a: draw_boxes(a, [(2, 2, 30, 30)]), lambda: _page(7)),
    (lambda a: draw_boxes(a, [(2, 2, 30, 30)], ["7"], thickness=2), _rgb),
    (lambda a: draw_boxes(a, [(2, 2, 30, 30)]), _rgba),
    (flatten_lighting, lambda: _page(7)),
]
PURE_IDS = [
    "to_gray-gray",
    "to_gray-rgb",
    "to_gray-rgba",
    "working_copy-unscaled",
    "working_copy-scaled",
    "remove_lines",
    "remove_lines-thickness",
    "blur_image",
    "blur_image-mask1",
    "edges_canny",
    "edges_canny-aperture7",
    "dilate_image",
    "dilate_image-iter0",
    "dilate_image-kernel1",
    "find_contours_and_boxes",
    "find_contours_and_boxes-min_area",
    "extract_roi-otsu",
    "extract_roi-threshold",
    "extract_roi-remove_lines",
    "extract_roi-max_side",
    "resize_rois",
    "draw_boxes-gray",
    "draw_boxes-rgb-labels",
    "draw_boxes-rgba",
    "flatten_lighting",
]


def _arrays(out: object) -> list[np.ndarray]:
    if isinstance(out, np.ndarray):
        return [out]
    return [item for item in out if isinstance(item, np.ndarray)]


@pytest.mark.parametrize(("stage", "make"), PURE_CASES, ids=PURE_IDS)
def test_stage_never_mutates_input_and_returns_new_arrays(stage, make):
    image = make()
    before = image.copy()
    flags = image.flags.writeable
    out = stage(image)
    assert np.array_equal(image, before)
    assert image.flags.writeable == flags
    outputs = _arrays(out)
    if isinstance(out, list) and out and not outputs:  # boxes: a list of tuples
        assert all(isinstance(box, tuple) for box in out)
    for array in outputs:
        assert array is not image
        assert not np.shares_memory(array, image)
    # Writing into every output must not reach the input.
    for array in outputs:
        array[...] = 77
    assert np.array_equal(image, before)


def test_resize_rois_leaves_every_roi_untouched():
    rng = np.random.default_rng(8)
    rois = [rng.integers(0, 256, (h, w), dtype=np.uint8) for h, w in [(5, 9), (40, 12), (1, 1)]]
    copies = [roi.copy() for roi in rois]
    out = resize_rois(rois)
    for roi, copy in zip(rois, copies, strict=True):
        assert np.array_equal(roi, copy)
        assert not np.shares_memory(out, roi)


def test_extract_roi_outputs_do_not_share_memory_with_each_other():
    page = _page(9)
    rois = extract_roi_black_white(page, [(0, 0, 50, 50), (0, 0, 50, 50)])
    assert rois[0] is not rois[1]
    assert not np.shares_memory(rois[0], rois[1])


# ---- to_gray, working_copy ---------------------------------------------------------------


def test_to_gray_known_values():
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[0, 1] = (0, 255, 0)
    rgb[0, 2] = (0, 0, 255)
    rgb[1] = 255
    gray = to_gray(rgb)
    assert gray.shape == (2, 3)
    assert gray.dtype == np.uint8
    assert gray[0].tolist() == [76, 150, 29]  # 0.299, 0.587, 0.114 of 255
    assert gray[1].tolist() == [255, 255, 255]


def test_to_gray_transparent_is_white_paper():
    rgba = np.zeros((3, 4, 4), np.uint8)  # black, fully transparent
    rgba[1, 1] = (0, 0, 0, 255)  # one opaque black pixel
    rgba[2, 2] = (0, 0, 0, 128)  # half-transparent black
    gray = to_gray(rgba)
    assert gray[0, 0] == 255
    assert gray[1, 1] == 0
    assert gray[2, 2] == 127


@pytest.mark.parametrize(
    ("shape", "work_size", "small_shape", "scale"),
    [
        ((100, 400), 200, (50, 200), 0.5),
        ((1000, 700), 300, (300, 210), 0.3),
        ((120, 80), 120, (120, 80), 1.0),
        ((30, 30), 500, (30, 30), 1.0),
    ],
    ids=["wide-half", "tall-0.3", "exactly-work-size", "smaller-than-work-size"],
)
def test_working_copy_shape_and_scale(shape, work_size, small_shape, scale):
    gray = np.random.default_rng(10).integers(0, 256, shape, dtype=np.uint8)
    small, got_scale = working_copy(gray, work_size)
    assert small.shape == small_shape
    assert got_scale == pytest.approx(scale)
    if scale == 1.0:
        assert np.array_equal(small, gray)


# ---- remove_lines ------------------------------------------------------------------------


def test_remove_lines_removes_ruled_line_keeps_stroke_and_circle():
    height, width = 200, 600
    page = np.full((height, width), 230, np.uint8)
    line = np.zeros((height, width), bool)
    line[99:101, :] = True  # a 2-px ruled line across the page
    stroke = np.zeros((height, width), bool)
    stroke[75:125, 100:108] = True  # a thick, short, digit-like stroke crossing it
    circle = np.zeros((height, width), np.uint8)
    cv2.circle(circle, (300, 100), 30, 255, 4)  # a "0" crossing it
    circle = circle > 0
    page[line] = 110
    page[stroke] = 30
    page[circle] = 30

    out = remove_lines(page, 150)

    only_line = line & ~stroke & ~circle
    assert (out[only_line] >= 225).all()  # the line is gone where it is alone
    assert (out[stroke] <= 60).mean() >= 0.95  # the stroke keeps its ink
    assert (out[circle] <= 60).mean() >= 0.95  # the circle too
    # Away from the line nothing changes.
    assert np.array_equal(out[~line], page[~line])


def test_remove_lines_removes_vertical_line_too():
    page = np.full((200, 120), 230, np.uint8)
    page[:, 60:62] = 100
    page[90:110, 20:40] = 30  # a blob
    out = remove_lines(page, 150)
    assert (out[:, 60:62] >= 225).all()
    assert (out[90:110, 20:40] == 30).all()


def test_remove_lines_keeps_lines_shorter_than_min_length():
    page = np.full((60, 300), 230, np.uint8)
    page[30:32, 50:150] = 100  # 100 px long
    assert np.array_equal(remove_lines(page, 150), page)
    assert np.array_equal(remove_lines(page, 101), page)


@pytest.mark.parametrize("vertical", [False, True], ids=["horizontal", "vertical"])
@pytest.mark.parametrize(
    "min_length",
    [31, 61, 99, 30, 80],
    ids=lambda n: f"len{n}",
)
def test_remove_lines_removes_a_line_end_to_end_and_nothing_else(min_length, vertical):
    page = np.full((60, 300), 230, np.uint8)
    page[30:32, 50:150] = 100  # a 2-px line, 100 px long, ending inside the page
    expected = np.full_like(page, 230)
    if vertical:
        page, expected = page.T.copy(), expected.T.copy()
    assert np.array_equal(remove_lines(page, min_length), expected)


# ---- blur --------------------------------------------------------------------------------


@pytest.mark.parametrize("mask_size", [1, 3, 5, 9, 15, 31], ids=lambda m: f"mask{m}")
@pytest.mark.parametrize("value", [0, 7, 128, 255], ids=lambda v: f"value{v}")
def test_blur_of_constant_is_constant(mask_size, value):
    gray = np.full((23, 37), value, np.uint8)
    out = blur_image(gray, mask_size)
    assert out.dtype == np.uint8
    assert out.shape == gray.shape
    assert (out == value).all()


def test_blur_mask_one_is_identity():
    gray = np.random.default_rng(11).integers(0, 256, (31, 17), dtype=np.uint8)
    assert np.array_equal(blur_image(gray, 1), gray)


def test_blur_smooths_noise():
    gray = np.random.default_rng(12).integers(0, 256, (64, 64), dtype=np.uint8)
    out = blur_image(gray, 7)
    assert out.astype(float).std() < 0.5 * gray.astype(float).std()
    assert abs(out.astype(float).mean() - gray.astype(float).mean()) < 3


# ---- Canny -------------------------------------------------------------------------------


@pytest.mark.parametrize("aperture", [3, 5, 7], ids=lambda a: f"aperture{a}")
@pytest.mark.parametrize(
    ("rect", "fg", "bg"),
    [((20, 15, 45, 25), 220, 30), ((5, 30, 10, 12), 10, 240), ((30, 5, 30, 40), 255, 0)],
    ids=["bright-on-dark", "dark-small", "tall"],
)
def test_canny_edges_of_rectangle_lie_on_its_border(rect, fg, bg, aperture):
    x, y, w, h = rect
    img = np.full((60, 80), bg, np.uint8)
    img[y : y + h, x : x + w] = fg
    edges = edges_canny(img, 30, 3.0, aperture)
    assert set(np.unique(edges).tolist()) == {0, 255}
    border = np.zeros_like(img)
    cv2.rectangle(border, (x, y), (x + w - 1, y + h - 1), 255, 1)
    # Chebyshev distance of every pixel to the border, and to the nearest edge pixel.
    to_border = cv2.distanceTransform((border == 0).astype(np.uint8), cv2.DIST_C, 3)
    to_edge = cv2.distanceTransform((edges == 0).astype(np.uint8), cv2.DIST_C, 3)
    assert to_border[edges > 0].max() <= 1  # edges only on/next to the border
    assert to_edge[border > 0].max() <= 1  # and all around it


def test_canny_of_constant_image_has_no_edges():
    assert not edges_canny(np.full((30, 30), 128, np.uint8)).any()


def test_canny_lower_threshold_above_contrast_finds_nothing():
    img = np.full((40, 40), 100, np.uint8)
    img[10:30, 10:30] = 104  # a faint square
    assert not edges_canny(img, 200, 1.0, 3).any()
    assert edges_canny(img, 1, 1.0, 3).any()


# ---- dilation ----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 4, 5, 7, 9], ids=lambda k: f"k{k}")
def test_dilating_one_pixel_adds_k_squared_minus_one(k):
    dot = np.zeros((31, 31), np.uint8)
    dot[15, 15] = 255
    out = dilate_image(dot, k, 1)
    added = int((out > 0).sum()) - 1
    assert added == k * k - 1
    rows, cols = np.nonzero(out)
    assert np.ptp(rows) + 1 == k
    assert np.ptp(cols) + 1 == k


def test_two_iterations_of_3x3_give_5x5_square():
    dot = np.zeros((21, 21), np.uint8)
    dot[10, 10] = 255
    out = dilate_image(dot, 3, 2)
    expected = np.zeros_like(dot)
    expected[8:13, 8:13] = 255
    assert np.array_equal(out, expected)


@pytest.mark.parametrize(("k", "iterations"), [(5, 0), (1, 4)], ids=["iter0", "kernel1"])
def test_dilation_that_does_nothing_returns_a_copy(k, iterations):
    edges = _edges(13)
    out = dilate_image(edges, k, iterations)
    assert np.array_equal(out, edges)
    assert out is not edges


# ---- contours and boxes ------------------------------------------------------------------


def test_boxes_of_drawn_rectangles_are_exact():
    img = np.zeros((80, 120), np.uint8)
    rects = [(0, 0, 10, 12), (30, 5, 20, 30), (70, 8, 15, 25), (100, 60, 20, 20), (10, 50, 8, 8)]
    for x, y, w, h in rects:
        img[y : y + h, x : x + w] = 255
    boxes = find_contours_and_boxes(img)
    assert sorted(boxes) == sorted(rects)
    assert all(isinstance(v, int) for box in boxes for v in box)


def test_nested_rectangle_gives_only_outer_box():
    img = np.zeros((60, 60), np.uint8)
    img[5:55, 5:55] = 255
    img[10:50, 10:50] = 0  # the hole
    img[20:30, 20:35] = 255  # a rectangle inside the hole
    assert find_contours_and_boxes(img) == [(5, 5, 50, 50)]


def test_blob_inside_another_blobs_box_is_dropped():
    img = np.zeros((60, 60), np.uint8)
    img[5:55, 5:12] = 255  # an "L": vertical bar
    img[48:55, 5:55] = 255  # and its foot
    img[30:36, 30:36] = 255  # a separate speck inside the L's box
    assert find_contours_and_boxes(img) == [(5, 5, 50, 50)]


def test_boxes_below_min_area_are_dropped():
    img = np.zeros((40, 100), np.uint8)
    img[5:15, 5:15] = 255  # area 100
    img[5:14, 30:40] = 255  # area 90
    img[5:7, 60:62] = 255  # area 4
    assert find_contours_and_boxes(img, 0) == [(5, 5, 10, 10), (30, 5, 10, 9), (60, 5, 2, 2)]
    assert find_contours_and_boxes(img, 90) == [(5, 5, 10, 10), (30, 5, 10, 9)]
    assert find_contours_and_boxes(img, 91) == [(5, 5, 10, 10)]
    assert find_contours_and_boxes(img, 101) == []


def test_blank_image_has_no_boxes():
    assert find_contours_and_boxes(np.zeros((30, 30), np.uint8)) == []


def test_reading_order_of_2x3_grid():
    img = np.zeros((120, 200), np.uint8)
    grid = []
    for row, y in enumerate((10, 70)):
        for col, x in enumerate((20, 90, 160)):
            dy = 3 * ((col + row) % 2)  # jitter the heights a little
            img[y + dy : y + dy + 30, x : x + 20] = 255
            grid.append((x, y + dy, 20, 30))
    assert find_contours_and_boxes(img) == grid
    shuffled = [grid[i] for i in np.random.default_rng(14).permutation(len(grid))]
    ordered, lines = reading_order(shuffled)
    assert ordered == grid
    assert lines == [0, 0, 0, 1, 1, 1]


def _sloping_lines(slope_deg: float = 5.0) -> list[tuple[int, int, int, int]]:
    boxes = []
    for y0 in (20, 50):
        for k in range(10):
            x = 10 + 45 * k
            y = round(y0 + 45 * k * math.tan(math.radians(slope_deg)))
            boxes.append((x, y, 16, 24))
    return boxes


def test_reading_order_follows_gently_sloping_lines():
    truth = _sloping_lines()
    # The test means something: the end of line 1 is lower than the start of line 2.
    assert truth[9][1] > truth[10][1]
    img = np.zeros((140, 500), np.uint8)
    for x, y, w, h in truth:
        img[y : y + h, x : x + w] = 255
    assert find_contours_and_boxes(img) == truth
    shuffled = [truth[i] for i in np.random.default_rng(15).permutation(len(truth))]
    order, lines = reading_order_indices(shuffled)
    assert [shuffled[i] for i in order] == truth
    assert lines == [0] * 10 + [1] * 10


def test_reading_order_of_nothing():
    assert reading_order_indices([]) == ([], [])
    assert reading_order([]) == ([], [])


@pytest.mark.parametrize(
    ("boxes", "kept"),
    [
        ([], []),
        ([(1, 2, 3, 4)], [(1, 2, 3, 4)]),
        ([(0, 0, 10, 10), (2, 2, 3, 3), (20, 0, 5, 5)], [(0, 0, 10, 10), (20, 0, 5, 5)]),
        ([(2, 2, 3, 3), (0, 0, 10, 10)], [(0, 0, 10, 10)]),
        ([(0, 0, 10, 10), (0, 0, 10, 10), (0, 0, 10, 10)], [(0, 0, 10, 10)]),
        ([(0, 0, 10, 10), (5, 5, 10, 10)], [(0, 0, 10, 10), (5, 5, 10, 10)]),
        ([(0, 0, 30, 30), (1, 1, 20, 20), (2, 2, 5, 5)], [(0, 0, 30, 30)]),
        ([(0, 0, 10, 10), (0, 0, 10, 11)], [(0, 0, 10, 11)]),
    ],
    ids=["empty", "one", "inner", "inner-first", "triplicate", "overlap", "chain", "shared-edge"],
)
def test_drop_nested(boxes, kept):
    assert drop_nested(boxes) == kept


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(1, 30), st.integers(1, 30)),
        max_size=12,
    )
)
def test_drop_nested_and_reading_order_properties(boxes):
    def inside(a, b):
        return (
            a[0] >= b[0]
            and a[1] >= b[1]
            and a[0] + a[2] <= b[0] + b[2]
            and a[1] + a[3] <= b[1] + b[3]
        )

    kept = drop_nested(boxes)
    assert set(kept) <= set(boxes)
    assert len(set(kept)) == len(kept)
    for i, a in enumerate(kept):
        assert not any(inside(a, b) for j, b in enumerate(kept) if j != i)
    for box in boxes:
        assert box in kept or any(inside(box, b) for b in kept)

    order, lines = reading_order_indices(boxes)
    assert sorted(order) == list(range(len(boxes)))
    assert lines == sorted(lines)
    assert len(lines) == len(boxes)
    if boxes:
        assert set(lines) == set(range(max(lines) + 1))
    for n in set(lines):
        xs = [boxes[i][0] for i, line in zip(order, lines, strict=True) if line == n]
        assert xs == sorted(xs)


# ---- scale_boxes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "work_size", "rect"),
    [
        ((1000, 700), 300, (101, 203, 57, 91)),
        ((613, 1237), 400, (0, 0, 33, 40)),
        ((900, 900), 256, (850, 853, 50, 47)),
        ((333, 2000), 500, (1500, 17, 3, 300)),
        ((2000, 333), 500, (17, 1500, 300, 3)),
        ((2000, 53), 400, (10, 1480, 33, 40)),
    ],
    ids=["interior", "top-left-corner", "bottom-right-corner", "wide", "tall", "tall-narrow"],
)
def test_scale_boxes_maps_working_box_back_over_the_original(shape, work_size, rect):
    x, y, w, h = rect
    original = np.full(shape, 230, np.uint8)
    original[y : y + h, x : x + w] = 20
    small, scale = working_copy(original, work_size)
    assert scale < 1
    found = find_contours_and_boxes((small < 225).astype(np.uint8) * 255)
    assert len(found) == 1
    scales = (small.shape[1] / shape[1], small.shape[0] / shape[0])  # per axis
    [(bx, by, bw, bh)] = scale_boxes(found, scales, shape)
    # The mapped box contains the rectangle ...
    assert bx <= x and by <= y
    assert bx + bw >= x + w and by + bh >= y + h
    # ... stays inside the image, and is at most a few pixels bigger on each side.
    assert bx >= 0 and by >= 0 and bx + bw <= shape[1] and by + bh <= shape[0]
    slack = math.ceil(2 / min(scales))
    assert x - bx <= slack and y - by <= slack
    assert (bx + bw) - (x + w) <= slack and (by + bh) - (y + h) <= slack


def test_scale_boxes_identity_and_clipping():
    assert scale_boxes([(3, 4, 5, 6)], 1.0, (100, 100)) == [(3, 4, 5, 6)]
    assert scale_boxes([(10, 5, 4, 4)], 0.5, (100, 100)) == [(20, 10, 8, 8)]
    assert scale_boxes([(45, 45, 10, 10)], 0.5, (100, 95)) == [(90, 90, 5, 10)]
    assert scale_boxes([], 0.5, (10, 10)) == []


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 1500),
    st.integers(1, 1500),
    st.integers(16, 200),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_scale_boxes_property_along_x(height, width, work_size, fx, fy, fw, fh):
    # Along x (where the returned scale is exact) every working box maps inside the image
    # and over every original column it covers.
    small, scale = working_copy(np.zeros((height, width), np.uint8), work_size)
    sh, sw = small.shape
    assert max(sh, sw) == min(work_size, max(height, width))
    assert sw == round(width * scale)
    x, y = int(fx * (sw - 1)), int(fy * (sh - 1))
    w, h = 1 + int(fw * (sw - x - 1)), 1 + int(fh * (sh - y - 1))
    [(bx, by, bw, bh)] = scale_boxes([(x, y, w, h)], scale, (height, width))
    assert 0 <= bx and 0 <= by and bw >= 1 and bh >= 1
    assert bx + bw <= width
    assert bx <= x / scale + 1e-9
    assert bx + bw >= min(width, (x + w) / scale - 1e-9)


def test_scale_boxes_bottom_row_stays_inside_image():
    small, scale = working_copy(np.zeros((18, 5), np.uint8), 16)
    assert small.shape == (16, 4)  # scale = 4 / 5 = 0.8, but vertically 16 / 18
    [(_, y, _, h)] = scale_boxes([(0, 15, 4, 1)], scale, (18, 5))  # the bottom working row
    assert y + h <= 18


def test_run_pipeline_box_covers_digit_on_tall_narrow_strip():
    page = np.full((2000, 53), 235, np.uint8)
    cv2.circle(page, (26, 1500), 15, 30, 4)  # a "0": rows 1483..1517
    # At work_size 400 the "0" is 7 working pixels tall: no speck filter, it is the only ink.
    result = run_pipeline(page, PipelineParams(work_size=400, min_box_area=0))
    assert len(result.boxes) == 1
    _, y, _, h = result.boxes[0]
    assert y <= 1483 and y + h >= 1518
    assert result.rois[0].any()


# ---- extract_roi_black_white -------------------------------------------------------------


def _uneven_page() -> tuple[np.ndarray, np.ndarray]:
    """Paper lit unevenly (a 140..250 left-to-right gradient) with a "0" with a bar."""
    height, width = 120, 200
    page = np.tile(np.linspace(140, 250, width), (height, 1)).astype(np.uint8)
    shape = np.zeros((height, width), np.uint8)
    cv2.circle(shape, (60, 60), 20, 255, 5)
    cv2.line(shape, (60, 40), (60, 80), 255, 3)
    return page, shape


SHAPE_BOX = (30, 30, 61, 61)


@pytest.mark.parametrize("threshold", [None, 60, 100, 135], ids=["otsu", "t60", "t100", "t135"])
def test_extract_roi_gives_exactly_the_ink_on_uneven_paper(threshold):
    page, shape = _uneven_page()
    page[shape > 0] = INK
    x, y, w, h = SHAPE_BOX
    [roi] = extract_roi_black_white(page, [SHAPE_BOX], threshold)
    assert roi.shape == (h, w)
    assert roi.dtype == np.uint8
    assert np.array_equal(roi, shape[y : y + h, x : x + w])


@pytest.mark.parametrize("threshold", [None, 100], ids=["otsu", "t100"])
@pytest.mark.parametrize(
    "box", [(150, 10, 40, 40), (10, 10, 30, 100), (0, 0, 1, 1)], ids=["right", "left", "1px"]
)
def test_extract_roi_of_blank_paper_is_empty(box, threshold):
    page, _ = _uneven_page()
    noise = np.random.default_rng(16).normal(0, 2, page.shape)
    page = np.clip(page + noise, 0, 255).astype(np.uint8)
    [roi] = extract_roi_black_white(page, [box], threshold)
    assert roi.shape == (box[3], box[2])
    assert not roi.any()


def test_extract_roi_low_contrast_box_is_empty():
    page = np.full((40, 40), 200, np.uint8)
    page[10:30, 18:22] = 200 - (MIN_INK_CONTRAST - 2)  # fainter than MIN_INK_CONTRAST
    assert not extract_roi_black_white(page, [(0, 0, 40, 40)])[0].any()
    page[10:30, 18:22] = 200 - (MIN_INK_CONTRAST + 2)  # a webcam's faint pen
    assert extract_roi_black_white(page, [(0, 0, 40, 40)])[0].any()


@pytest.mark.parametrize("threshold", [None, 100], ids=["otsu", "t100"])
@pytest.mark.parametrize("line_level", [40, 90], ids=["dark-line", "grey-line"])
def test_extract_roi_remove_lines_drops_line_keeps_digit(line_level, threshold):
    page, shape = _uneven_page()
    page[59:61, :] = line_level  # a ruled line through the box and across the page
    page[shape > 0] = INK
    x, y, w, h = SHAPE_BOX
    digit = shape[y : y + h, x : x + w] > 0
    line = np.zeros(page.shape, bool)
    line[59:61, :] = True
    line = line[y : y + h, x : x + w] & ~digit

    [kept] = extract_roi_black_white(page, [SHAPE_BOX], threshold, remove_lines=False)
    assert (kept[line] > 0).all()  # without removal the line is ink

    [roi] = extract_roi_black_white(page, [SHAPE_BOX], threshold, remove_lines=True)
    assert not roi[line].any()  # the line is gone
    assert not roi[~digit].any()  # nothing else appears
    assert (roi[digit] > 0).mean() >= 0.95  # the digit stays


def test_extract_roi_max_side_shrinks():
    page, shape = _uneven_page()
    page[shape > 0] = INK
    [roi] = extract_roi_black_white(page, [(0, 0, 200, 120)], max_side=50)
    assert roi.shape == (30, 50)
    assert roi.any()
    assert set(np.unique(roi).tolist()) <= {0, 255}


def test_extract_roi_without_rules_equals_with_rules_on_clean_page():
    rng = np.random.default_rng(18)
    page = np.clip(rng.normal(PAPER, 3, (120, 200)), 0, 255).astype(np.uint8)
    _, shape = _uneven_page()
    page[shape > 0] = INK
    for box in [SHAPE_BOX, (0, 0, 200, 120), (150, 90, 60, 60), (10, 10, 120, 40)]:
        [plain] = extract_roi_black_white(page, [box])
        [cleaned] = extract_roi_black_white(page, [box], remove_lines=True)
        assert np.array_equal(plain, cleaned)


@pytest.mark.parametrize(
    "box", [(-10, -10, 50, 50), (-30, 20, 60, 41), (20, -5, 41, 30)], ids=["tl", "left", "top"]
)
def test_extract_roi_remove_lines_clips_boxes_like_plain_crop(box):
    page = np.full((80, 100), 210, np.uint8)
    cv2.circle(page, (40, 40), 15, 20, 4)
    [plain] = extract_roi_black_white(page, [box])
    [cleaned] = extract_roi_black_white(page, [box], remove_lines=True)
    assert cleaned.shape == plain.shape
    assert np.array_equal(cleaned, plain)


def test_extract_roi_remove_lines_box_outside_image_is_empty():
    page = np.full((50, 60), 200, np.uint8)
    [plain] = extract_roi_black_white(page, [(70, 10, 5, 5)])
    assert not plain.any()
    [cleaned] = extract_roi_black_white(page, [(70, 10, 5, 5)], remove_lines=True)
    assert not cleaned.any()


# ---- resize_rois -------------------------------------------------------------------------

SYMMETRIC = {
    "disc": _ellipse(61, 61),
    "disc-even": _ellipse(40, 40),
    "ring": _ellipse(101, 101, ring=0.3),
    "plus": _plus(61, 11),
    "tall-bar": np.full((100, 5), 255, np.uint8),
    "wide-bar": np.full((5, 100), 255, np.uint8),
    "tiny-3x3": np.full((3, 3), 255, np.uint8),
    "single-pixel": np.full((1, 1), 255, np.uint8),
    "huge-800x500": _ellipse(800, 500),
    "huge-ring-800x500": _ellipse(800, 500, ring=0.1),
    "tall-ellipse": _ellipse(90, 30),
    "wide-ring": _ellipse(30, 90, ring=0.3),
}
PADS = {"tight": ((0, 0), (0, 0)), "off-centre": ((3, 11), (7, 0))}


@pytest.mark.parametrize("pad", list(PADS.values()), ids=list(PADS))
@pytest.mark.parametrize("shape", list(SYMMETRIC.values()), ids=list(SYMMETRIC))
def test_resize_rois_symmetric_shape_is_centred_in_20x20(shape, pad):
    roi = np.pad(shape, pad)
    out = resize_rois([roi])
    assert out.shape == (1, 28, 28)
    assert out.dtype == np.uint8
    digit = out[0]
    r0, r1, c0, c1 = _ink_bbox(digit)
    assert 4 <= r0 and r1 <= 23 and 4 <= c0 and c1 <= 23  # inside the central 20x20
    height, width = r1 - r0 + 1, c1 - c0 + 1
    assert max(height, width) in (19, 20)
    # The aspect ratio is kept (to a pixel of rounding).
    h, w = shape.shape
    assert min(height, width) == pytest.approx(20 * min(h, w) / max(h, w), abs=1.01)
    cy, cx = _center_of_mass(digit)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


def _ell() -> np.ndarray:
    shape = np.zeros((60, 40), np.uint8)
    shape[:, :8] = 255
    shape[-8:, :] = 255
    return shape


def _seven() -> np.ndarray:
    shape = np.zeros((60, 40), np.uint8)
    shape[:8, :] = 255
    cv2.line(shape, (37, 4), (10, 59), 255, 7)
    return shape


def _four() -> np.ndarray:
    shape = np.zeros((70, 50), np.uint8)
    cv2.line(shape, (30, 0), (2, 45), 255, 5)
    cv2.line(shape, (2, 45), (49, 45), 255, 5)
    cv2.line(shape, (36, 20), (36, 69), 255, 6)
    return shape


@pytest.mark.parametrize(
    "shape", [_ell(), _seven(), _four(), _ell()[::-1, ::-1]], ids=["L", "7", "4", "L-rotated"]
)
def test_resize_rois_asymmetric_shape_centre_of_mass(shape):
    digit = resize_rois([np.pad(shape, ((5, 2), (0, 9)))])[0]
    cy, cx = _center_of_mass(digit)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    r0, r1, c0, c1 = _ink_bbox(digit)
    assert max(r1 - r0 + 1, c1 - c0 + 1) in (19, 20)


def test_resize_rois_keeps_grey_ink_and_many_rois():
    rng = np.random.default_rng(17)
    rois = [np.zeros((10, 10), np.uint8)]
    for _ in range(4):
        h, w = rng.integers(5, 80, 2)
        roi = np.zeros((h, w), np.uint8)
        roi[h // 4 : 3 * h // 4 + 1, w // 4 : 3 * w // 4 + 1] = rng.integers(1, 256)
        rois.append(roi)
    out = resize_rois(rois)
    assert out.shape == (5, 28, 28)
    assert not out[0].any()
    assert all(out[i].any() for i in range(1, 5))


def test_resize_rois_empty_roi_gives_blank_digit():
    out = resize_rois([np.zeros((30, 20), np.uint8), np.zeros((1, 1), np.uint8)])
    assert out.shape == (2, 28, 28)
    assert not out.any()


def test_resize_rois_of_no_rois():
    out = resize_rois([])
    assert out.shape == (0, 28, 28)
    assert out.dtype == np.uint8


# ---- validation --------------------------------------------------------------------------

G = np.full((20, 20), 200, np.uint8)
RGB = np.full((20, 20, 3), 200, np.uint8)

BAD_CALLS = [
    ("to_gray-float", lambda: to_gray(G.astype(np.float32)), "image"),
    ("to_gray-list", lambda: to_gray([[1, 2], [3, 4]]), "image"),
    ("to_gray-empty", lambda: to_gray(np.zeros((0, 5), np.uint8)), "image"),
    ("to_gray-2-channels", lambda: to_gray(np.zeros((4, 4, 2), np.uint8)), "image"),
    ("to_gray-4d", lambda: to_gray(np.zeros((2, 2, 3, 1), np.uint8)), "image"),
    ("to_gray-1d", lambda: to_gray(np.zeros(5, np.uint8)), "image"),
    ("working_copy-rgb", lambda: working_copy(RGB, 100), "gray"),
    ("working_copy-small", lambda: working_copy(G, 15), "work_size"),
    ("working_copy-float-size", lambda: working_copy(G, 100.0), "work_size"),
    ("remove_lines-rgb", lambda: remove_lines(RGB, 10), "gray"),
    ("remove_lines-min_length", lambda: remove_lines(G, 2), "min_length"),
    ("remove_lines-max_thickness", lambda: remove_lines(G, 10, 0), "max_thickness"),
    ("blur-rgb", lambda: blur_image(RGB, 3), "gray"),
    ("blur-int16", lambda: blur_image(G.astype(np.int16), 3), "gray"),
    ("blur-even", lambda: blur_image(G, 4), "mask_size"),
    ("blur-zero", lambda: blur_image(G, 0), "mask_size"),
    ("blur-negative", lambda: blur_image(G, -3), "mask_size"),
    ("blur-float", lambda: blur_image(G, 5.0), "mask_size"),
    ("blur-bool", lambda: blur_image(G, True), "mask_size"),
    ("canny-rgb", lambda: edges_canny(RGB), "blurred"),
    ("canny-lower-negative", lambda: edges_canny(G, -1), "lower"),
    ("canny-lower-256", lambda: edges_canny(G, 256), "lower"),
    ("canny-multiplier", lambda: edges_canny(G, 30, 0.5), "multiplier"),
    ("canny-multiplier-nan", lambda: edges_canny(G, 30, float("nan")), "multiplier"),
    ("canny-multiplier-str", lambda: edges_canny(G, 30, "3"), "multiplier"),
    ("canny-aperture-4", lambda: edges_canny(G, 30, 3.0, 4), "aperture"),
    ("canny-aperture-1", lambda: edges_canny(G, 30, 3.0, 1), "aperture"),
    ("dilate-rgb", lambda: dilate_image(RGB), "edges"),
    ("dilate-kernel-0", lambda: dilate_image(G, 0, 1), "kernel_size"),
    ("dilate-iterations--1", lambda: dilate_image(G, 3, -1), "iterations"),
    ("dilate-iterations-float", lambda: dilate_image(G, 3, 1.5), "iterations"),
    ("contours-rgb", lambda: find_contours_and_boxes(RGB), "dilated"),
    ("contours-float", lambda: find_contours_and_boxes(G.astype(float)), "dilated"),
    ("contours-min_area", lambda: find_contours_and_boxes(G, -1), "min_area"),
    ("roi-rgb", lambda: extract_roi_black_white(RGB, [(0, 0, 5, 5)]), "gray"),
    ("roi-none", lambda: extract_roi_black_white(None, [(0, 0, 5, 5)]), "gray"),
    ("roi-threshold-256", lambda: extract_roi_black_white(G, [(0, 0, 5, 5)], 256), "threshold"),
    ("roi-threshold--1", lambda: extract_roi_black_white(G, [(0, 0, 5, 5)], -1), "threshold"),
    ("roi-threshold-float", lambda: extract_roi_black_white(G, [], 100.5), "threshold"),
    ("roi-max_side", lambda: extract_roi_black_white(G, [(0, 0, 5, 5)], max_side=19), "max_side"),
    ("resize-float", lambda: resize_rois([G, G.astype(np.float32)]), "rois[1]"),
    ("resize-rgb", lambda: resize_rois([RGB]), "rois[0]"),
    ("resize-empty", lambda: resize_rois([np.zeros((5, 0), np.uint8)]), "rois[0]"),
    ("draw-float", lambda: draw_boxes(G.astype(np.float64), []), "image"),
    ("draw-thickness", lambda: draw_boxes(G, [(0, 0, 5, 5)], thickness=0), "thickness"),
    ("draw-labels", lambda: draw_boxes(G, [(0, 0, 5, 5)], ["1", "2"]), "labels"),
]


@pytest.mark.parametrize(
    ("call", "name"), [(c, n) for _, c, n in BAD_CALLS], ids=[i for i, _, _ in BAD_CALLS]
)
def test_bad_parameter_raises_value_error_naming_it(call, name):
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must"):
        call()


# ---- pipeline properties -----------------------------------------------------------------


def _param_strategy(spec) -> st.SearchStrategy:
    if spec.kind is bool:
        base = st.booleans()
    elif spec.choices:
        base = st.sampled_from(spec.choices)
    elif spec.kind is float:
        base = st.floats(spec.low, spec.high, allow_nan=False, allow_infinity=False)
    else:
        low, high = int(spec.low), int(spec.high)
        base = st.integers(low, high)
        if spec.odd:
            first = low if low % 2 else low + 1
            base = st.integers(0, (high - first) // 2).map(lambda k, first=first: first + 2 * k)
    return st.none() | base if spec.optional else base


PARAMS = st.builds(PipelineParams, **{spec.name: _param_strategy(spec) for spec in PARAM_SPECS})


@st.composite
def _images(draw) -> np.ndarray:
    height, width = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    channels = draw(st.sampled_from([None, 3, 4]))
    shape = (height, width) if channels is None else (height, width, channels)
    if draw(st.booleans()):
        return draw(hnp.arrays(np.uint8, shape))
    # A page with a few dark rectangles: something for the pipeline to find.
    image = np.full(shape, draw(st.integers(120, 255)), np.uint8)
    for _ in range(draw(st.integers(0, 4))):
        y, x = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
        h, w = draw(st.integers(1, 30)), draw(st.integers(1, 30))
        image[y : y + h, x : x + w] = draw(st.integers(0, 110))
    return image


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_images(), PARAMS)
def test_run_pipeline_on_any_image_and_params(image, params):
    before = image.copy()
    result = run_pipeline(image, params)
    assert np.array_equal(image, before)
    height, width = image.shape[:2]
    for x, y, w, h in result.boxes:
        assert 0 <= x and 0 <= y and w >= 1 and h >= 1
        assert x + w <= width and y + h <= height
    assert result.digits.shape == (len(result.boxes), 28, 28)
    assert result.digits.dtype == np.uint8
    assert len(result.lines) == len(result.boxes)
    assert len(result.rois) == len(result.boxes)
    assert result.params == params


def test_resize_rois_thickens_a_ballpoint_stroke_to_mnist_width():
    # A "7" drawn 1 px wide in a 110 px tall ROI: a hairline (0.2 px) once in 20x20.
    roi = np.zeros((110, 80), np.uint8)
    cv2.polylines(roi, [np.array([[5, 5], [75, 5], [30, 105]], np.int32)], False, 255, 1)
    digit = resize_rois([roi])[0]
    assert stroke_width(digit) >= THIN_STROKE
    assert digit.max() == 255  # solid ink, not a faint grey trace


def test_resize_rois_leaves_mnist_strokes_mostly_alone(mnist):
    from digit_pipeline.stages import _thicken_thin_strokes

    x_test, _ = mnist
    touched = 0
    for digit in x_test:
        rows, cols = np.nonzero(digit.any(1))[0], np.nonzero(digit.any(0))[0]
        crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        roi = cv2.resize(crop, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
        touched += _thicken_thin_strokes(roi) is not roi
    assert touched <= 0.05 * len(x_test), touched  # 2 of these 200


def test_extract_roi_keeps_lines_unless_asked_and_takes_threshold_zero():
    """Survivors of mutation testing: the default leaves a ruled line in the ROI (removal is
    opt-in), and 0 is a valid threshold (only pure black is ink)."""
    page = np.full((60, 200), 220, np.uint8)
    page[30:32, :] = 90  # a ruled line running through the box and far past it
    page[10:50, 95:101] = 0  # a "1"
    box = [(80, 5, 36, 50)]
    default = extract_roi_black_white(page, box)[0]
    assert (default[25:27, :] == 255).all()  # the line is ink by default
    np.testing.assert_array_equal(
        default, extract_roi_black_white(page, box, remove_lines=False)[0]
    )
    cleaned = extract_roi_black_white(page, box, remove_lines=True)[0]
    assert not (cleaned[25:27, :5] == 255).any()  # ...and gone when asked
    only_black = extract_roi_black_white(page, box, threshold=0)[0]
    assert (only_black > 0).sum() == 40 * 6  # the "1" alone: the grey line is above 0


def _golden_rois() -> list[np.ndarray]:
    """Seeded polylines: small and big, thick and hair-thin, wide and tall, one pixel."""
    rng = np.random.default_rng(7)
    rois = []
    for h, w, thick in [(12, 8, 3), (40, 25, 6), (300, 120, 30), (200, 200, 2), (90, 30, 1)]:
        roi = np.zeros((h, w), np.uint8)
        pts = (rng.random((6, 2)) * [w - 1, h - 1]).astype(np.int32)
        cv2.polylines(roi, [pts], False, 255, thick)
        rois.append(roi)
    for h, w, thick in [(5, 60, 3), (1, 1, 1)]:
        roi = np.zeros((h, w), np.uint8)
        pts = (rng.random((6, 2)) * [w - 1, h - 1]).astype(np.int32)
        cv2.polylines(roi, [pts], False, 255, thick)
        rois.append(roi)
    return rois


def test_resize_rois_matches_its_recorded_mnist_cut():
    """The whole MNIST cut (crop to ink, scale into 20×20 with area or linear interpolation,
    thicken hair-thin strokes, centre by mass) pinned on seeded shapes: any change to it
    shows here (recorded with the locked OpenCV; if OpenCV changes, look, then re-record)."""
    import hashlib

    digits = resize_rois(_golden_rois())
    assert digits.dtype == np.uint8 and digits.shape == (7, 28, 28)
    got = [(hashlib.sha256(d.tobytes()).hexdigest()[:16], int((d > 0).sum())) for d in digits]
    assert got == [
        ("c2d298958db960bc", 228),
        ("db4dac00f915f782", 142),
        ("ce37b1c0499a75fe", 118),
        ("2c5117376f5fc416", 155),
        ("4e6ea44c8915fb03", 107),
        ("ef9d7c3487774390", 48),
        ("f20ff4378f68b352", 400),
    ]


def test_stroke_width_is_twice_the_ink_over_every_contour():
    bar = np.zeros((60, 40), np.uint8)
    bar[10:50, 15:25] = 255  # 10 × 40: area 400, pixel-contour perimeter 2 × (9 + 39)
    assert stroke_width(bar) == pytest.approx(2 * 400 / 96)
    bar[0, 0] = 127  # not ink (the cut is > 127)
    bar[10:50, 15] = 128  # ink
    assert stroke_width(bar) == pytest.approx(2 * 400 / 96)
    ring = np.zeros((50, 50), np.uint8)
    ring[10:40, 10:40] = 255
    ring[20:30, 20:30] = 0  # a hole: its contour counts too
    # 800 ink pixels; perimeters 116 outside, 41.66 around the hole (corners cut at 45°)
    assert stroke_width(ring) == pytest.approx(10.1486, abs=1e-4)
    assert stroke_width(np.zeros((10, 10), np.uint8)) == 0.0


def test_extract_roi_max_side_shrinks_the_longer_side_with_or_without_line_removal():
    page = np.full((100, 100), 220, np.uint8)
    page[20:80, 45:55] = 0
    for remove in (False, True):
        roi = extract_roi_black_white(page, [(40, 10, 20, 80)], max_side=40, remove_lines=remove)
        assert roi[0].shape == (40, 10), remove
