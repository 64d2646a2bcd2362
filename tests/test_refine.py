"""The refine steps at their thresholds: join, split, shrink to ink, open enclosures, merge.

Pure numpy and OpenCV, no model: boxes are plain tuples and pages are small synthetic images
(paper 228, ink 40) drawn with numpy slices, so every expected box is known exactly. Most
tests give the typical digit height as 40 px, so a threshold of t digits is 40·t px and each
one is probed just inside and just outside.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import INK, PAPER, blank

from digit_pipeline.stages import MIN_INK_CONTRAST
from digit_pipeline.stages.refine import (
    _cut_columns,
    _gap,
    _typical_width,
    _union,
    ink_box,
    join_fragments,
    merge_overlapping,
    open_enclosures,
    split_wide_boxes,
    typical_height,
)

DIGIT = 40  # the typical digit height given to the steps


def bars(xs, width=120, height=60, top=10, tall=40, thick=6):
    """A page with vertical bars ("1"s) of ``thick`` px starting at each x."""
    page = blank(width, height)
    for x in xs:
        page[top : top + tall, x : x + thick] = INK
    return page


def hollow(page, x, y, w, h):
    """A 1 px rectangle outline filling the box (x, y, w, h)."""
    page[y, x : x + w] = INK
    page[y + h - 1, x : x + w] = INK
    page[y : y + h, x] = INK
    page[y : y + h, x + w - 1] = INK
    return page


def all_ints(boxes):
    return all(type(v) is int for box in boxes for v in box)


# --- typical_height, _union, _gap -------------------------------------------------------


@pytest.mark.parametrize(
    ("heights", "expected"),
    [
        ([40, 44, 6, 4], 42.0),  # the taller half: 40 and 44
        ([10, 20, 30], 25.0),  # odd count: the taller half holds the middle one
        ([44, 6, 40, 4, 10], 40.0),  # unsorted: 10, 40, 44
        ([7], 7.0),
        ([], 0.0),
    ],
    ids=["even", "odd", "unsorted", "one", "none"],
)
def test_typical_height_is_the_median_of_the_taller_half(heights, expected):
    boxes = [(3 * i, 0, 30 - i, h) for i, h in enumerate(heights)]  # widths do not count
    result = typical_height(boxes)
    assert result == expected and type(result) is float


@pytest.mark.parametrize(
    ("a", "b", "union", "gap"),
    [
        ((0, 0, 10, 12), (13, 16, 5, 5), (0, 0, 18, 21), 5.0),  # 3 across, 4 down
        ((13, 16, 5, 5), (0, 0, 10, 12), (0, 0, 18, 21), 5.0),
        ((0, 0, 10, 10), (0, 12, 10, 4), (0, 0, 10, 16), 2.0),
        ((0, 0, 10, 10), (10, 0, 4, 4), (0, 0, 14, 10), 0.0),  # touching
        ((0, 0, 10, 10), (2, 3, 4, 4), (0, 0, 10, 10), 0.0),  # nested
        ((5, 5, 10, 10), (0, 0, 8, 30), (0, 0, 15, 30), 0.0),  # overlapping
    ],
    ids=["diagonal", "diagonal-swapped", "below", "touching", "nested", "overlapping"],
)
def test_union_and_gap_of_two_boxes(a, b, union, gap):
    assert _union(a, b) == union
    assert _gap(a, b) == gap


# --- join_fragments --------------------------------------------------------------------

BODY = (0, 0, 20, 40)  # one whole digit, as tall as the typical digit


@pytest.mark.parametrize(
    ("piece", "joined"),
    [
        ((0, 5, 20, 33), True),  # under 0.85 x 40 = 34: a fragment
        ((0, 5, 20, 34), False),  # exactly 0.85 digits: a digit of its own
        ((0, 40, 20, 12), True),  # below it: the union 52 = 1.3 x 40 tall
        ((0, 40, 20, 13), False),  # 53 tall
        ((20, 0, 18, 20), True),  # beside it: the union 38 = 0.95 x 40 wide
        ((20, 0, 19, 20), False),  # 39 wide
        ((10, 40, 38, 10), True),  # under it, overlapping in x: 48 = 1.2 x 40 wide
        ((10, 40, 39, 10), False),  # 49 wide
        ((19, 40, 20, 10), True),  # one column in common: stacked, 39 wide is fine
        ((20, 40, 20, 10), False),  # corner to corner: side by side, 40 wide is not
        ((0, 50, 20, 2), True),  # 10 = 0.25 x 40 below
        ((0, 51, 20, 1), False),  # 11 below
        ((26, 48, 4, 4), True),  # 6 across and 8 down: 10 away
        ((26, 49, 4, 3), False),  # 6 across and 9 down: 10.8 away
    ],
    ids=[
        "fragment",
        "low-edge",
        "tall",
        "too-tall",
        "wide",
        "too-wide",
        "stacked-wide",
        "stacked-too-wide",
        "stacked-one-column",
        "side-by-side-corner",
        "near",
        "too-far",
        "near-diagonal",
        "too-far-diagonal",
    ],
)
def test_join_fragments_at_each_threshold(piece, joined):
    result = join_fragments([BODY, piece], height=DIGIT)
    assert result == ([_union(BODY, piece)] if joined else [BODY, piece])


@pytest.mark.parametrize(
    "order", [(0, 1, 2), (2, 1, 0), (1, 0, 2)], ids=["left-first", "right-first", "piece-first"]
)
def test_a_fragment_joins_the_nearest_box(order):
    left, piece, right = (0, 0, 20, 40), (23, 0, 12, 10), (40, 0, 20, 40)  # 3 and 5 apart
    boxes = [(left, piece, right)[k] for k in order]
    result = join_fragments(boxes, height=DIGIT)
    assert sorted(result) == [(0, 0, 35, 40), right]
    assert result.index(right) == [k for k in order if k != 1].index(2)  # the places stay


@pytest.mark.parametrize(
    ("small", "large", "small_first"),
    [
        ((40, 10, 8, 8), (4, 0, 16, 20), True),
        ((40, 10, 4, 16), (4, 0, 16, 12), True),
        ((40, 10, 8, 8), (4, 0, 16, 20), False),
    ],
    ids=["smaller-though-squarer", "smaller-though-taller", "smaller-though-later"],
)
def test_the_smaller_fragment_joins_first(small, large, small_first):
    # either piece fits beside the body, not both: the smaller one joins
    body = (20, 0, 20, 40)
    boxes = [body, small, large] if small_first else [body, large, small]
    assert join_fragments(boxes, height=DIGIT) == [_union(body, small), large]


def test_fragments_join_repeatedly():
    # three strokes of one digit, 2 px apart: the first two join, then the third joins them
    strokes = [(0, 0, 10, 10), (0, 12, 10, 10), (0, 24, 10, 10)]
    assert join_fragments(strokes, height=DIGIT) == [(0, 0, 10, 34)]
    # two pieces with no whole digit about them find each other
    assert join_fragments([(0, 0, 10, 20), (12, 10, 10, 20)], height=DIGIT) == [(0, 0, 22, 30)]


@pytest.mark.parametrize(
    ("body", "piece"),
    [((0, 30, 20, 40), (20, 20, 20, 10)), ((20, 30, 20, 40), (0, 20, 20, 10))],
    ids=["right", "left"],
)
def test_a_piece_corner_to_corner_with_a_digit_is_beside_it(body, piece):
    # no column in common: side by side, so the union's 40 px are over 0.95 digits (38),
    # though stacked pieces may make 1.2 (48)
    assert join_fragments([body, piece], height=DIGIT) == [body, piece]


def test_a_fragment_is_low_not_small():
    # a "1" (4x40, the smallest box) is a digit; the bar below the next digit still joins it
    one, body, bar = (0, 0, 4, 40), (50, 0, 20, 40), (50, 40, 20, 10)
    assert join_fragments([one, body, bar], height=DIGIT) == [one, (50, 0, 20, 50)]


def test_join_fragments_defaults_to_the_typical_height():
    body, bar, other = (10, 20, 30, 30), (14, 4, 28, 6), (60, 0, 28, 50)
    assert join_fragments([body, bar, other]) == [(10, 4, 32, 46), other]
    # the typical height of these is 50; given as 30, the bar's union with the body (46
    # tall) is over 1.3 x 30 = 39
    assert join_fragments([body, bar, other], height=30) == [body, bar, other]


@pytest.mark.parametrize(
    ("boxes", "height", "expected"),
    [
        ([], None, []),
        ([(0, 0, 5, 5)], DIGIT, [(0, 0, 5, 5)]),
        ([(0, 0, 20, 40), (0, 40, 20, 5)], 0, [(0, 0, 20, 40), (0, 40, 20, 5)]),
        ([(0, 0, 20, 40), (0, 40, 20, 5)], -40, [(0, 0, 20, 40), (0, 40, 20, 5)]),
        ([(0, 0, 20, 40), (0, 40, 20, 5)], None, [(0, 0, 20, 45)]),  # two boxes are enough
    ],
    ids=["none", "one", "zero-height", "negative-height", "two"],
)
def test_join_fragments_with_too_little_to_join(boxes, height, expected):
    assert join_fragments(boxes, height=height) == expected


def test_join_fragments_returns_int_tuples_and_leaves_its_input_alone():
    boxes = [np.array([0, 0, 20, 40]), [0.0, 40.0, 20.0, 5.0], (np.int32(60), 0, 20, 40)]
    before = [list(b) for b in boxes]
    result = join_fragments(boxes, height=DIGIT)
    assert result == [(0, 0, 20, 45), (60, 0, 20, 40)] and all_ints(result)
    assert all(isinstance(b, tuple) for b in result)
    assert [list(b) for b in boxes] == before
    alone = join_fragments([np.array([1, 2, 3, 4])])
    assert alone == [(1, 2, 3, 4)] and all_ints(alone)


# --- _typical_width, split_wide_boxes ---------------------------------------------------


@pytest.mark.parametrize(
    ("widths_heights", "expected"),
    [
        ([(30, 30)], 30.0),  # no wider than tall
        ([(31, 30)], 28.0),  # wider: none counted, 0.7 x 40
        ([(12, 30)], 24.0),  # exactly 0.4 of its height (12), kept to 0.6 x 40
        ([(11, 30)], 28.0),  # as narrow as a "1": not counted
        ([(25, 40), (30, 40), (35, 40), (100, 40), (4, 40)], 30.0),  # median of 25, 30, 35
        ([(40, 40)], 36.0),  # kept to 0.9 x 40
        ([], 28.0),
    ],
    ids=["square", "wide", "narrow-edge", "a-one", "median", "clipped", "none"],
)
def test_the_typical_width(widths_heights, expected):
    boxes = [(0, 0, w, h) for w, h in widths_heights]
    assert _typical_width(boxes, DIGIT) == expected


@pytest.mark.parametrize(
    ("box", "split"),
    [
        ((0, 10, 53, 40), True),  # wider than 1.3 x its height (52)
        ((0, 10, 52, 40), False),  # exactly 1.3 x its height
    ],
    ids=["wide", "ratio-edge"],
)
def test_a_box_wider_than_1_3_times_its_height_is_split(box, split):
    page = bars([5, 40])  # two "1"s 40 tall at x 5 and 40, 6 px thick
    expected = [(5, 10, 6, 40), (40, 10, 6, 40)] if split else [box]
    assert split_wide_boxes(page, [box], height=DIGIT) == expected


@pytest.mark.parametrize(
    ("w", "split"),
    [(45, True), (44, False)],
    ids=["one-and-a-half-widths", "under-one-and-a-half"],
)
def test_a_box_is_split_into_its_rounded_number_of_widths(w, split):
    # the typical width is 30 (the second box): 44 px is over 1.4 widths (42) but rounds to
    # one part, so it takes 1.5 widths (45 px, rounded to two parts) to split a box
    page = bars([2, 32], tall=30)
    single = (80, 10, 30, 40)
    result = split_wide_boxes(page, [(0, 10, w, 30), single], height=DIGIT)
    expected = [(2, 10, 6, 30), (32, 10, 6, 30)] if split else [(0, 10, w, 30)]
    assert result == [*expected, single]


@pytest.mark.parametrize(
    ("tall", "split"), [(24, True), (23, False)], ids=["parts-tall-edge", "part-too-low"]
)
def test_every_part_must_be_at_least_0_6_digits_tall(tall, split):
    page = bars([5, 40], tall=tall)  # 0.6 x 40 = 24
    expected = [(5, 10, 6, tall), (40, 10, 6, tall)] if split else [(0, 10, 53, 40)]
    assert split_wide_boxes(page, [(0, 10, 53, 40)], height=DIGIT) == expected


def test_a_box_with_one_part_of_ink_stays_whole():
    # the right half holds no ink: one part is no split
    assert split_wide_boxes(bars([5]), [(0, 10, 60, 40)], height=DIGIT) == [(0, 10, 60, 40)]


def test_a_box_is_split_into_as_many_digits_as_it_holds_at_most_max_parts():
    page = bars([4, 32, 60, 88])  # four "1"s 28 px apart; typical width 28 (0.7 x 40)
    box = (0, 10, 112, 40)
    four = [(4, 10, 6, 40), (32, 10, 6, 40), (60, 10, 6, 40), (88, 10, 6, 40)]
    assert split_wide_boxes(page, [box], height=DIGIT) == four
    assert split_wide_boxes(page, [box], height=DIGIT, max_parts=4) == four
    assert split_wide_boxes(page, [box], height=DIGIT, max_parts=2) == [
        (4, 10, 34, 40),
        (60, 10, 34, 40),
    ]
    assert split_wide_boxes(page, [box], height=DIGIT, max_parts=1) == [box]


@pytest.mark.parametrize(("w", "split"), [(51, True), (50, False)], ids=["wide-edge", "narrow"])
def test_a_box_1_8_widths_wide_is_cut_through_two_strokes(w, split):
    # an outline 30 px tall: every column crosses two strokes; 1.8 x 28 = 50.4
    page = hollow(blank(80, 50), 0, 10, w, 30)
    expected = [(0, 10, 25, 30), (25, 10, w - 25, 30)] if split else [(0, 10, w, 30)]
    assert split_wide_boxes(page, [(0, 10, w, 30)], height=DIGIT) == expected


def test_at_most_six_parts_by_default():
    page = bars([4 + 28 * k for k in range(7)], width=220)  # seven "1"s, 28 px apart
    ones = [(4 + 28 * k, 10, 6, 40) for k in range(7)]
    six = split_wide_boxes(page, [(0, 10, 196, 40)], height=DIGIT)
    assert six == [ones[0], _union(ones[1], ones[2]), *ones[3:]]
    assert split_wide_boxes(page, [(0, 10, 196, 40)], height=DIGIT, max_parts=7) == ones


def test_split_wide_boxes_on_two_touching_zeros():
    page = np.full((60, 140), 230, np.uint8)
    cv2.ellipse(page, (25, 30), (14, 20), 0, 0, 360, 20, 4)
    cv2.ellipse(page, (54, 30), (14, 20), 0, 0, 360, 20, 4)
    cv2.line(page, (110, 8), (110, 52), 20, 5)
    boxes = [(9, 8, 62, 45), (107, 5, 7, 50)]
    expected = [(9, 8, 31, 45), (40, 8, 31, 45), (107, 5, 7, 50)]
    assert split_wide_boxes(page, boxes) == expected  # the typical height: 47.5


def test_split_wide_boxes_with_nothing_to_split():
    page = bars([5, 40])
    assert split_wide_boxes(page, []) == []
    # no typical digit: no typical width, nothing is cut
    assert split_wide_boxes(page, [(0, 10, 53, 40)], height=0) == [(0, 10, 53, 40)]
    result = split_wide_boxes(page, [np.array([0, 10, 52, 40]), [80.0, 0.0, 20.0, 40.0]])
    assert result == [(0, 10, 52, 40), (80, 0, 20, 40)] and all_ints(result)


def test_split_wide_boxes_leaves_its_inputs_alone():
    page, boxes = bars([5, 40]), [[0, 10, 53, 40]]
    before = page.copy()
    assert split_wide_boxes(page, boxes, height=DIGIT) == [(5, 10, 6, 40), (40, 10, 6, 40)]
    assert np.array_equal(page, before) and boxes == [[0, 10, 53, 40]]


# --- _cut_columns ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paper", "cut"),
    [(20, 20), (19, 30), (39, 39), (40, 30), (33, 33)],
    ids=["window-left", "left-of-window", "window-right", "right-of-window", "inside"],
)
def test_the_cut_is_sought_within_0_35_parts_of_its_place(paper, cut):
    # all ink but one column of paper; two parts of 30 px: the window is columns 20-39
    # (30 -/+ 10.5, rounded), and with no paper column in it the cut falls in the middle
    page = np.full((40, 60), INK, np.uint8)
    page[:, paper] = PAPER
    assert _cut_columns(page, (0, 0, 60, 40), 30.0, 2) == [0, cut, 60]


@pytest.mark.parametrize(
    ("w", "gap", "cuts"),
    [
        (54, None, [0, 27, 54]),  # 1.8 typical widths: cut through two strokes
        (53, None, [0, 53]),  # narrower: not cut
        (53, 20, [0, 20, 53]),  # a column crossing one stroke is cut
    ],
    ids=["wide-edge", "narrow", "one-stroke"],
)
def test_a_cut_through_two_strokes_needs_a_box_1_8_widths_wide(w, gap, cuts):
    page = blank(60, 40)
    page[0:2, :] = INK  # a stroke along the top (from row 0) and one along the bottom
    page[37:39, :] = INK
    if gap is not None:
        page[0:2, gap] = PAPER
    assert _cut_columns(page, (0, 0, w, 40), 30.0, 2) == cuts


@pytest.mark.parametrize(
    ("thin", "cut"), [(33, 33), (27, 27), (34, 30), (26, 30)], ids=["3-right", "3-left", "4", "-4"]
)
def test_the_cut_prefers_less_ink_over_a_few_columns(thin, cut):
    # one stroke 4 rows thick, 2 at one column: 0.5 x 2/40 less ink outweighs 0.2 x 3/30
    # parts away from the middle, not 0.2 x 4/30
    page = blank(60, 40)
    page[18:22, :] = INK
    page[18, thin] = page[21, thin] = PAPER
    assert _cut_columns(page, (0, 0, 60, 40), 30.0, 2) == [0, cut, 60]


def test_the_cut_prefers_one_stroke_to_two():
    # two thin strokes everywhere, and one column of solid ink 5 from the middle: it crosses
    # one stroke (all ink) where the others cross two
    page = blank(60, 40)
    page[10, :] = page[30, :] = INK
    page[:, 25] = INK
    assert _cut_columns(page, (0, 0, 60, 40), 30.0, 2) == [0, 25, 60]


def test_cut_columns_in_a_box_placed_on_a_page():
    page = blank(200, 100)
    page[30:70, 50:110] = INK
    page[30:70, 72] = PAPER
    page[30:70, 95] = PAPER
    # three parts of 20 px: windows 13-26 and 33-46 (relative), the paper at 22 and 45
    assert _cut_columns(page, (50, 30, 60, 40), 20.0, 3) == [0, 22, 45, 60]
    # too narrow for its parts: no window holds a column
    assert _cut_columns(page, (50, 30, 3, 40), 1.0, 3) == [0, 3]


# --- ink_box ---------------------------------------------------------------------------


def small_page():
    page = np.full((20, 20), 220, np.uint8)
    page[5:15, 8:11] = 20
    return page


@pytest.mark.parametrize(
    ("box", "margin", "expected"),
    [
        ((4, 2, 12, 16), 0, (8, 5, 3, 10)),
        ((4, 2, 12, 16), 2, (6, 3, 7, 14)),
        ((4, 2, 12, 16), 10, (0, 0, 20, 20)),  # clipped to the page
        ((-3, -4, 15, 22), 0, (8, 5, 3, 10)),  # a box past the page's top left corner
        ((9, 6, 20, 20), 0, (9, 6, 2, 9)),  # the ink in the box only
        ((9, 6, 20, 20), 1, (8, 5, 4, 11)),
        ((0, 0, 9, 6), 0, (8, 5, 1, 1)),  # one pixel of ink
        ((12, 0, 8, 4), 0, None),
        ((8, 5, 3, 10), 0, None),  # all ink, no paper: nothing to tell apart
        ((0, 0, 0, 0), 0, None),
    ],
    ids=[
        "shrink",
        "margin",
        "margin-clipped",
        "past-the-corner",
        "part",
        "part-margin",
        "one-pixel",
        "paper",
        "all-ink",
        "empty",
    ],
)
def test_ink_box(box, margin, expected):
    assert ink_box(small_page(), box, margin=margin) == expected


def test_ink_box_at_the_page_edges():
    page = blank(30, 20)
    page[0:3, 0:2] = INK
    page[17:20, 27:30] = INK
    assert ink_box(page, (0, 0, 10, 10), margin=1) == (0, 0, 3, 4)
    assert ink_box(page, (20, 10, 10, 10), margin=1) == (26, 16, 4, 4)
    assert ink_box(page, (20, 10, 10, 10), margin=0) == (27, 17, 3, 3)
    assert ink_box(page, (0, 0, 30, 20)) == (0, 0, 30, 20)


def test_ink_box_ignores_ink_too_faint_and_leaves_the_page_alone():
    page = blank(20, 20)
    page[5:15, 5:10] = PAPER - (MIN_INK_CONTRAST - 2)  # under it darker than the paper
    before = page.copy()
    assert ink_box(page, (0, 0, 20, 20)) is None
    assert np.array_equal(page, before)
    assert ink_box(small_page(), np.array([4, 2, 12, 16])) == (8, 5, 3, 10)


# --- the page must be one uint8 channel -------------------------------------------------


def call(step, page):
    if step == "split":
        return split_wide_boxes(page, [(0, 0, 5, 5)])
    if step == "ink_box":
        return ink_box(page, (0, 0, 5, 5))
    return open_enclosures(page, [(0, 0, 5, 5)])


@pytest.mark.parametrize("step", ["split", "ink_box", "open"])
@pytest.mark.parametrize(
    ("page", "message"),
    [
        (np.full((20, 20), 0.9, np.float32), "^gray must be uint8"),
        (np.full((20, 20, 3), 228, np.uint8), r"^gray must have shape \(H, W\)"),
    ],
    ids=["float", "color"],
)
def test_the_steps_on_a_page_want_a_gray_image(step, page, message):
    with pytest.raises(ValueError, match=message):
        call(step, page)


# --- open_enclosures -------------------------------------------------------------------


def circled_one():
    page = np.full((120, 120), 230, np.uint8)
    cv2.circle(page, (60, 60), 50, 30, 2)
    cv2.line(page, (60, 35), (60, 85), 30, 4)
    return page


def test_a_circle_around_a_digit_gives_way_to_the_digit():
    page = circled_one()
    before = page.copy()
    boxes = [[8, 8, 105, 105]]
    assert open_enclosures(page, boxes) == [(58, 33, 5, 55)]
    assert open_enclosures(page, [(50, 30, 20, 60)]) == [(50, 30, 20, 60)]  # the "1" alone
    assert np.array_equal(page, before) and boxes == [[8, 8, 105, 105]]


def test_enclosures_are_opened_in_place():
    page = blank(200, 60)
    hollow(page, 60, 0, 50, 50)
    page[10:40, 80:84] = INK
    page[10:40, 10:14] = INK
    page[10:40, 150:154] = INK
    boxes = [(5, 5, 15, 40), (60, 0, 50, 50), (np.int64(145), 5, 15, 40)]
    result = open_enclosures(page, boxes)
    assert result == [(5, 5, 15, 40), (80, 10, 4, 30), (145, 5, 15, 40)] and all_ints(result)
    assert open_enclosures(page, []) == []


def test_a_digits_own_loop_is_no_enclosure():
    page = blank(60, 60)
    cv2.ellipse(page, (30, 30), (14, 22), 0, 0, 360, INK, 4)  # a "0": nothing inside
    assert open_enclosures(page, [(14, 6, 33, 49)]) == [(14, 6, 33, 49)]


def framed_bar(frame=(0, 0, 50, 50), size=(60, 60)):
    """A thin frame with a bar (4 x 25, at x 20, y 10) inside."""
    page = blank(*size)
    hollow(page, *frame)
    page[10:35, 20:24] = INK
    return page


@pytest.mark.parametrize(
    ("frame", "opened"),
    [
        ((0, 0, 45, 50), True),  # spans 0.9 of the box's 50 px width
        ((0, 0, 44, 50), False),
        ((0, 0, 50, 45), True),  # and of its height
        ((0, 0, 50, 44), False),
    ],
    ids=["width-edge", "too-narrow", "height-edge", "too-low"],
)
def test_the_enclosure_spans_nine_tenths_of_the_box(frame, opened):
    page = framed_bar(frame)
    expected = [(20, 10, 4, 25)] if opened else [(0, 0, 50, 50)]
    assert open_enclosures(page, [(0, 0, 50, 50)]) == expected


@pytest.mark.parametrize(
    ("extra", "opened"), [(16, True), (17, False)], ids=["quarter-edge", "too-much-ink"]
)
def test_the_enclosure_is_thin(extra, opened):
    # a 40 x 40 outline (156 px) with ink along its inside top (228 + extra px): a quarter
    # of its box is 400 px
    page = blank(60, 60)
    hollow(page, 10, 10, 40, 40)
    page[11:17, 11:49] = INK
    page[17, 11 : 11 + extra] = INK
    page[25:46, 28:32] = INK
    expected = [(28, 25, 4, 21)] if opened else [(10, 10, 40, 40)]
    assert open_enclosures(page, [(10, 10, 40, 40)]) == expected


@pytest.mark.parametrize(
    ("size", "opened"),
    [((12, 60), True), ((11, 60), False), ((60, 12), True), ((60, 11), False)],
    ids=["narrow-edge", "too-narrow", "low-edge", "too-low"],
)
def test_an_enclosure_is_at_least_12_px_each_way(size, opened):
    w, h = size
    page = blank(70, 70)
    hollow(page, 0, 0, w, h)
    if w < h:
        page[10:50, 4:7] = INK  # a bar inside the tall narrow frame
        inner = (4, 10, 3, 40)
    else:
        page[4:8, 10:50] = INK  # and inside the wide low one
        inner = (10, 4, 40, 4)
    assert open_enclosures(page, [(0, 0, w, h)]) == ([inner] if opened else [(0, 0, w, h)])


@pytest.mark.parametrize(
    ("tall", "min_height", "opened"),
    [(15, 0.3, True), (14, 0.3, False), (25, 0.5, True), (24, 0.5, False)],
    ids=["edge", "too-low", "half-edge", "under-half"],
)
def test_the_enclosed_ink_is_at_least_min_height_of_the_shape(tall, min_height, opened):
    page = blank(60, 60)
    hollow(page, 0, 0, 50, 50)
    page[10 : 10 + tall, 20:24] = INK
    expected = [(20, 10, 4, tall)] if opened else [(0, 0, 50, 50)]
    assert open_enclosures(page, [(0, 0, 50, 50)], min_height=min_height) == expected


@pytest.mark.parametrize(
    ("speck", "kept"),
    [((5, 5), True), ((4, 4), False), ((5, 1), True), ((1, 5), True), ((4, 1), False)],
    ids=["edge", "speck", "flat-edge", "thin-edge", "flat-speck"],
)
def test_specks_inside_an_enclosure_are_dropped(speck, kept):
    # a speck is under 0.1 of the shape's 50 px height in both directions
    w, h = speck
    page = framed_bar()
    page[3 : 3 + h, 35 : 35 + w] = INK  # above the bar: first in reading order
    expected = ([(35, 3, w, h)] if kept else []) + [(20, 10, 4, 25)]
    assert open_enclosures(page, [(0, 0, 50, 50)]) == expected


def test_one_tall_part_inside_opens_the_enclosure_with_the_others():
    page = blank(60, 60)
    hollow(page, 0, 0, 50, 50)
    page[5:30, 10:14] = INK  # tall, first in reading order
    page[35:41, 25:45] = INK  # low and wide (20 x 6)
    assert open_enclosures(page, [(0, 0, 50, 50)]) == [(10, 5, 4, 25), (25, 35, 20, 6)]


def test_ink_in_the_box_outside_the_shape_is_not_enclosed():
    page = framed_bar((0, 5, 55, 55))
    page[20:40, 57:59] = INK  # in the box, right of the shape
    page[0:3, 30:40] = INK  # and above it: the first ink in reading order
    assert open_enclosures(page, [(0, 0, 60, 60)]) == [(20, 10, 4, 25)]
    # a box past the page's corner sees the same
    assert open_enclosures(page, [(-4, -4, 64, 64)]) == [(20, 10, 4, 25)]


# --- merge_overlapping -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("boxes", "min_overlap", "expected"),
    [
        ([(0, 0, 10, 10), (7, 0, 10, 10)], 0.3, [(0, 0, 17, 10)]),  # 30 of 100: 0.3
        ([(0, 0, 10, 10), (8, 0, 10, 10)], 0.3, [(0, 0, 10, 10), (8, 0, 10, 10)]),
        ([(0, 0, 10, 10), (8, 0, 10, 10)], 0.2, [(0, 0, 18, 10)]),
        ([(0, 0, 10, 10), (0, 7, 10, 10)], 0.3, [(0, 0, 10, 17)]),
        ([(0, 0, 10, 10), (0, 8, 10, 10)], 0.3, [(0, 0, 10, 10), (0, 8, 10, 10)]),
        # boxes off the origin, neither square: 3 x 12 = 36 of the smaller's 120
        ([(5, 3, 10, 20), (12, 7, 10, 12)], 0.3, [(5, 3, 17, 20)]),
        ([(12, 7, 10, 12), (5, 3, 10, 20)], 0.3, [(5, 3, 17, 20)]),
        ([(5, 3, 10, 20), (13, 7, 10, 12)], 0.3, [(5, 3, 10, 20), (13, 7, 10, 12)]),
        ([(13, 7, 10, 12), (5, 3, 10, 20)], 0.3, [(13, 7, 10, 12), (5, 3, 10, 20)]),
        # of the smaller box (20 x 10 = 200): 60 px is enough, 50 is not
        ([(0, 0, 100, 100), (94, 0, 20, 10)], 0.3, [(0, 0, 114, 100)]),
        ([(0, 0, 100, 100), (95, 0, 20, 10)], 0.3, [(0, 0, 100, 100), (95, 0, 20, 10)]),
        ([(95, 0, 20, 10), (0, 0, 100, 100)], 0.3, [(95, 0, 20, 10), (0, 0, 100, 100)]),
        ([(0, 0, 10, 10), (7, 7, 4, 4), (30, 0, 5, 5)], 0.3, [(0, 0, 11, 11), (30, 0, 5, 5)]),
        ([(2, 2, 3, 3), (0, 0, 10, 10)], 1.0, [(0, 0, 10, 10)]),  # nested
        # touching boxes share no area, even when any overlap would do
        ([(0, 0, 10, 10), (10, 0, 10, 10)], 0.0, [(0, 0, 10, 10), (10, 0, 10, 10)]),
        ([(0, 0, 10, 10), (0, 10, 10, 10)], 0.0, [(0, 0, 10, 10), (0, 10, 10, 10)]),
        ([(0, 0, 10, 10), (9, 9, 10, 10)], 0.0, [(0, 0, 19, 19)]),
        ([], 0.3, []),
    ],
    ids=[
        "edge",
        "too-little",
        "lower-share",
        "vertical-edge",
        "vertical-too-little",
        "offset-edge",
        "offset-edge-swapped",
        "offset-too-little",
        "offset-too-little-swapped",
        "smaller-edge",
        "smaller-too-little",
        "smaller-first",
        "fragment",
        "nested",
        "touching-side",
        "touching-top",
        "one-pixel",
        "none",
    ],
)
def test_merge_overlapping(boxes, min_overlap, expected):
    assert merge_overlapping(boxes, min_overlap=min_overlap) == expected


def test_merging_repeats_until_nothing_merges_and_keeps_the_order():
    # c overlaps neither a nor b, only their union; the union takes a's place
    c, x, a, b = (10, 0, 4, 4), (50, 50, 5, 5), (0, 0, 10, 10), (4, 4, 10, 10)
    assert merge_overlapping([c, x, a, b]) == [(0, 0, 14, 14), x]
    assert merge_overlapping([x, a, c, b]) == [x, (0, 0, 14, 14)]
    assert merge_overlapping([a, x, b]) == [(0, 0, 14, 14), x]


def test_merge_overlapping_returns_int_tuples_and_leaves_its_input_alone():
    boxes = [np.array([0, 0, 10, 10]), [7.0, 0.0, 10.0, 10.0], (np.int32(30), 0, 5, 5)]
    before = [list(b) for b in boxes]
    result = merge_overlapping(boxes)
    assert result == [(0, 0, 17, 10), (30, 0, 5, 5)] and all_ints(result)
    assert [list(b) for b in boxes] == before
