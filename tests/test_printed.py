"""Dotted and dashed paper: the print's lattice is found and painted over, digits stay."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import FIXTURES, PAPER, blank, paste

from digit_pipeline.stages import print_marks, remove_print
from digit_pipeline.stages.printed import PRINT_INK, PRINT_MEMBERS

PRINT = PAPER - 45  # a grey print, fainter than the pen


def dotted(width: int, height: int, step: int, radius: int = 1) -> np.ndarray:
    page = blank(width, height)
    for y in range(step // 2, height, step):
        for x in range(step // 2, width, step):
            cv2.circle(page, (x, y), radius, PRINT, -1, cv2.LINE_AA)
    return page


def dashed(width: int, height: int, step: int) -> np.ndarray:
    page = blank(width, height)
    dash, period = round(0.3 * step), step // 2
    for y in range(step // 2, height, step):
        for x in range(0, width, period):
            cv2.line(page, (x, y), (x + dash, y), PRINT, 1)
    for x in range(step // 2, width, step):
        for y in range(0, height, period):
            cv2.line(page, (x, y), (x, y + dash), PRINT, 1)
    return page


def digits_row(page: np.ndarray, labels: tuple[int, ...], x0: int, y: int, height: int, step: int):
    with np.load(FIXTURES / "mnist_small.npz") as data:
        x, y_ = data["x_test"], data["y_test"]
    boxes = []
    for k, label in enumerate(labels):
        digit = x[int(np.flatnonzero(y_ == label)[k % 3])]
        boxes.append(paste(page, digit, x0 + k * step, y, height))
    return boxes


def ink_left(page: np.ndarray, box: tuple) -> int:
    x, y, w, h = box
    return int((page[y : y + h, x : x + w] < PAPER - PRINT_INK).sum())


@pytest.mark.parametrize("draw", [dotted, dashed], ids=["dotted", "dashed"])
def test_a_printed_grid_is_painted_over_and_the_digits_on_it_stay(draw):
    written = blank(480, 320)
    boxes = digits_row(written, (3, 4, 8, 1, 7), 40, 120, 60, 80)
    digit_ink = written < PAPER - PRINT_INK
    printed = draw(480, 320, 24)
    page = np.minimum(printed, written)
    clean = remove_print(page)
    assert np.array_equal(clean[digit_ink], page[digit_ink])  # every digit keeps its ink
    left = (clean < PAPER - PRINT_INK) & ~digit_ink  # what is left of the print
    assert 0 < left.sum() < 0.05 * (printed < PAPER - PRINT_INK).sum()
    near = np.zeros_like(digit_ink)
    for x, y, w, h in boxes:
        near[y - 10 : y + h + 10, x - 10 : x + w + 10] = True  # a dash long
    assert not (left & ~near).any()  # touches or crowds the digits: nothing elsewhere


def test_dashes_that_fall_on_the_pixel_grid_each_their_own_way_are_one_lattice():
    """A photographed dashed grid: a dash that straddles two pixel columns is a pixel wider
    and carries half again the ink of one that does not, at random along the rows; twins
    all the same."""
    rng = np.random.default_rng(5)
    page = blank(600, 400)
    for y in range(20, 400, 40):
        for x in range(10, 600, 20):
            page[y : y + 2, x : x + 8] = PRINT  # horizontal dashes, 2 px thick
            if rng.random() < 0.5:  # straddling: a third, half-dark row
                page[y + 2, x : x + 8] = (PAPER + PRINT) // 2
    for x in range(20, 600, 40):
        for y in range(30, 400, 20):
            page[y : y + 8, x : x + 2] = PRINT
            if rng.random() < 0.5:
                page[y : y + 8, x + 2] = (PAPER + PRINT) // 2
    marks = print_marks(page)
    ink = page < PAPER - PRINT_INK
    assert marks[ink].mean() > 0.97  # nearly every dash: a stray one left is a box


def test_a_close_up_grid_whose_dashes_are_long_beside_the_image_is_print():
    """Photographed close, each dash of a dashed grid is 5 % of the picture's side, and the
    digits on it are three squares tall: still print, and the digits stay."""
    written = blank(600, 450)
    digits_row(written, (4, 0, 7), 60, 150, 150, 180)
    digit_ink = written < PAPER - PRINT_INK
    page = np.minimum(written, dashed(600, 450, 100))  # dashes 30 px long
    clean = remove_print(page)
    assert np.array_equal(clean[digit_ink], page[digit_ink])
    left = (clean < PAPER - PRINT_INK) & ~digit_ink  # a mark whose twins the digits hide
    crowding = cv2.dilate(digit_ink.astype(np.uint8), np.ones((61, 61), np.uint8)) > 0
    assert 0 < left.sum() < 0.05 * (page < PAPER - PRINT_INK).sum()
    assert not (left & ~crowding).any()  # nothing further than a dash from a digit


def test_digits_in_a_neat_row_without_print_are_left_alone():
    """Alike digits evenly spaced (one per square) make a row, not a lattice."""
    page = blank(1200, 200)
    digits_row(page, (1,) * 6 + (0,) * 6, 30, 60, 40, 95)  # twelve, in two alike runs
    assert not print_marks(page).any()
    assert np.array_equal(remove_print(page), page)


def test_a_full_page_of_small_digits_evenly_spaced_is_no_lattice():
    """Two hundred small thin-pen digits in even rows: many alike in size, all one step
    apart, but a digit's ink is no dash's (a rule that let any two blobs alike in size
    differ by a pixel's rim of ink took 250 of a full page's digits for print)."""
    page = blank(700, 400)
    for row in range(10):
        for k in range(20):
            text, at = str((7 * row + 3 * k) % 10), (20 + 32 * k, 40 + 36 * row)
            cv2.putText(page, text, at, cv2.FONT_HERSHEY_SIMPLEX, 0.7, 60, 1, cv2.LINE_AA)
    assert not print_marks(page).any()


def test_a_lattice_needs_its_members():
    row = dotted(PRINT_MEMBERS * 20, 20, 20)  # one row of PRINT_MEMBERS dots: a lattice
    assert cv2.connectedComponents(print_marks(row).astype(np.uint8))[0] - 1 == PRINT_MEMBERS
    shorter = dotted((PRINT_MEMBERS - 1) * 20, 20, 20)  # one fewer: left alone
    assert not print_marks(shorter).any()
    two_rows = dotted(6 * 20, 2 * 20, 20)  # 12 dots, but two rows of 6 that no step links
    assert not print_marks(two_rows).any()


def test_scattered_specks_are_no_lattice():
    rng = np.random.default_rng(3)
    page = blank(400, 300)
    for x, y in rng.integers(5, 295, size=(60, 2)):
        cv2.circle(page, (int(x), int(y)), 1, PRINT, -1)
    assert not print_marks(page).any()


def test_the_texture_of_kraft_paper_is_no_lattice():
    """Thousands of specks link by chance, at every step and angle: not a print."""
    rng = np.random.default_rng(7)
    page = blank(800, 600)
    for x, y in rng.integers(2, 598, size=(30000, 2)):  # fibres a pixel or two, close
        size = int(rng.integers(1, 3))
        page[y : y + size, x : x + size] = PRINT
    assert not print_marks(page).any()


def test_print_removal_is_part_of_line_removal():
    from digit_pipeline.reading.params import PipelineParams
    from digit_pipeline.reading.prepared import prepare

    page = dotted(900, 600, 30, radius=2)
    digits_row(page, (2, 5, 9), 100, 250, 90, 150)
    on = prepare(page, PipelineParams(work_size=900))
    off = prepare(page, PipelineParams(work_size=900, remove_lines=False))
    ink = lambda image: int((image < np.median(image) - PRINT_INK).sum())  # noqa: E731
    assert ink(on.cleaned) < ink(off.cleaned) * 0.8  # the dots are gone
    assert ink(on.cleaned) > 0  # the digits are not


def test_the_grids_family_prints_every_kind():
    from digit_pipeline.benchmarking.families import on_grid_paper
    from digit_pipeline.benchmarking.plan import make_plan

    plan = [on_grid_paper(case) for case in make_plan(60, 0)]
    kinds = {(c.style.ruling, c.style.rule_print, c.style.rule_divisions) for c in plan}
    assert {p for _, p, _ in kinds} == {"solid", "dotted", "dashed"}
    assert {r for r, _, _ in kinds} == {"ruled", "squared"}
    assert all(d == 2 for _, p, d in kinds if p == "solid")  # solid grids: the fine ones
    assert all(len(c.indices) == sum(c.lines) for c in plan)


def _all_pairs_lattice(size: np.ndarray, centres: np.ndarray, shape: tuple) -> np.ndarray:
    """The lattice's rule written the slow way: every mark against every mark."""
    from digit_pipeline.stages import printed

    n = len(size)
    reach = printed._REACH * np.sqrt(shape[0] * shape[1] / n)
    a, b = size[:, None, :], size[None, :, :]
    larger = np.maximum(a, b)
    thin = larger[..., :2].min(axis=2) <= printed._THIN  # a dash: a line of pixels more
    line = np.where(thin, larger[..., :2].max(axis=2), 0.0)
    alike = (np.abs(a - b)[..., :2] <= printed._ALIKE * larger[..., :2] + 1.0).all(axis=2) & (
        np.abs(a - b)[..., 2] <= printed._ALIKE * larger[..., 2] + line + 1.0
    )
    offsets = centres[None, :, :] - centres[:, None, :]
    distance = np.hypot(offsets[..., 0], offsets[..., 1])
    apart = np.maximum(size[:, 0], size[:, 1])[:, None]
    distance[~alike | (distance <= apart) | (distance > reach)] = np.inf
    twin = np.argmin(distance, axis=1)
    length = distance[np.arange(n), twin]
    found = np.isfinite(length)
    step = np.where(found[:, None], centres[twin] - centres, np.nan)
    group = list(range(n))

    def root(i):
        while group[i] != i:
            i = group[i]
        return i

    for i in np.flatnonzero(found):
        for along in (-1.0, 2.0):
            gap = np.hypot(*(centres - (centres[i] + along * step[i])).T)
            gap[~alike[i]] = np.inf
            third = int(np.argmin(gap))
            if gap[third] <= printed._STEP_TOL * length[i] + 1.0:
                for j in (twin[i], third):
                    group[root(i)] = root(j)
    roots = np.array([root(i) for i in range(n)])
    member = np.bincount(roots, minlength=n)[roots] >= PRINT_MEMBERS
    for r in np.unique(roots[member]):
        member[roots == r] = printed._regular(step[roots == r])
    return member | printed._like_the_lattice(member, size, step)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_lattice_links_the_marks_that_comparing_every_pair_links(seed):
    """The grid of cells only saves comparisons: a dotted lattice, dashes and specks of
    several sizes, and a dense speckle, read as every mark against every mark reads them."""
    from digit_pipeline.stages.printed import _in_lattice

    rng = np.random.default_rng(seed)
    shape = (300, 400)
    dots = np.array([(x, y) for x in range(20, 390, 17) for y in range(15, 130, 17)], float)
    specks = rng.uniform((0, 140), (400, 300), size=(600 + 400 * seed, 2))  # dense below
    centres = np.vstack([dots + rng.normal(0, 0.4, dots.shape), specks])
    size = np.vstack(
        [
            np.tile((3.0, 3.0, 7.0), (len(dots), 1)),
            rng.integers(1, 4, size=(len(specks), 3)).astype(float),
        ]
    )
    stats = np.zeros((len(size), 5), np.int32)
    stats[:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT, cv2.CC_STAT_AREA]] = size
    expected = _all_pairs_lattice(size, centres, shape)
    assert expected[: len(dots)].mean() > 0.9  # the dotted lattice is found ...
    np.testing.assert_array_equal(_in_lattice(stats, centres, shape), expected)


@pytest.mark.parametrize("radius", [0.5, 3.0, 17.0, 60.0])
def test_the_neighbours_of_a_point_hold_every_mark_within_the_radius(radius):
    from digit_pipeline.stages.printed import _near

    rng = np.random.default_rng(int(radius))
    marks = rng.uniform(-50, 250, size=(400, 2))
    points = np.vstack([rng.uniform(-80, 280, size=(150, 2)), marks[:20] + radius])
    rows, cols = _near(points, marks, radius)
    pairs = set(zip(rows.tolist(), cols.tolist(), strict=True))
    assert len(pairs) == len(rows)  # no pair twice
    gap = np.hypot(*(points[:, None, :] - marks[None, :, :]).transpose(2, 0, 1))
    within = set(zip(*np.nonzero(gap <= radius), strict=True))
    assert within <= pairs
    cell = max(radius, 1.0)  # no cell narrower than a pixel
    cells = np.abs(np.floor(points[rows] / cell) - np.floor(marks[cols] / cell))
    assert len(pairs) < 0.5 * gap.size and cells.max() <= 2  # neighbouring cells only


def test_the_nearest_of_each_row_breaks_ties_by_rank_and_rows_without_any_say_so():
    from digit_pipeline.stages.printed import _nearest

    rows = np.array([0, 0, 0, 2, 2])
    cols = np.array([5, 6, 7, 8, 9])
    distance = np.array([3.0, 1.0, 1.0, 2.0, 4.0])
    rank = np.array([0, 0, 0, 0, 0, 9, 4, 3, 1, 0])
    found, nearest, length = _nearest(3, rows, cols, distance, rank)
    assert found.tolist() == [True, False, True]
    assert nearest[[0, 2]].tolist() == [7, 8]  # 6 and 7 tie at 1.0: 7 ranks first
    assert length[0] == 1.0 and length[2] == 2.0 and np.isinf(length[1])


def test_marks_with_no_twin_anywhere_are_no_lattice():
    """Twenty-five marks, no two alike (each width or height differs by far): none is linked."""
    from digit_pipeline.stages.printed import _in_lattice

    page = blank(300, 300)
    sides = (1, 4, 8, 14, 22)
    for k, (w, h) in enumerate((w, h) for w in sides for h in sides):
        x, y = 10 + 55 * (k % 5), 10 + 55 * (k // 5)
        page[y : y + h, x : x + w] = PRINT
    assert not print_marks(page).any()
    stats = np.array([[0, 0, w, h, w * h] for w in sides for h in sides], np.int32)
    centres = np.array([(55.0 * (k % 5), 55.0 * (k // 5)) for k in range(25)])
    assert not _in_lattice(stats, centres, (300, 300)).any()
