"""Numbers as units: digits far apart on a line are read as separate numbers (issue 23)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from conftest import ROOT, blank, paste, sheet_reads
from streamlit.testing.v1 import AppTest

from digit_pipeline.benchmarking.families import NUMBER_GAPS, written_as_numbers
from digit_pipeline.benchmarking.plan import make_plan
from digit_pipeline.benchmarking.sheets import make_sheet
from digit_pipeline.benchmarking.styles import SheetStyle
from digit_pipeline.io.exports import reading_csv, reading_dict
from digit_pipeline.io.images import encode_png
from digit_pipeline.reading import read_sheet
from digit_pipeline.reading.results import DigitReading, SheetReading, lines_text
from digit_pipeline.stages import number_indices, reading_order_indices

ROW = [(0, 0, 30, 40), (40, 0, 30, 40), (150, 0, 30, 40), (190, 0, 30, 40)]  # 110 px apart


def test_a_wide_gap_parts_two_numbers():
    assert number_indices(ROW, [0] * 4) == [0, 0, 1, 1]


def test_a_new_line_is_a_new_number():
    assert number_indices([*ROW[:2], (0, 80, 30, 40)], [0, 0, 1]) == [0, 0, 1]


def test_evenly_spaced_digits_stay_one_number_however_far_apart():
    # three digits three heights apart: the gaps are the sheet's usual gap, not a break
    wide = [(k * 150, 0, 30, 40) for k in range(3)]
    assert number_indices(wide, [0, 0, 0]) == [0, 0, 0]


def test_a_gap_under_one_and_a_half_heights_never_parts():
    # 55 px between digits that touch elsewhere on the line: over 2x the usual gap, but
    # not 1.5 heights (60 px)
    boxes = [(0, 0, 30, 40), (28, 0, 30, 40), (56, 0, 30, 40), (141, 0, 30, 40)]
    assert number_indices(boxes, [0] * 4) == [0, 0, 0, 0]
    boxes[3] = (150, 0, 30, 40)  # 64 px: now it does
    assert number_indices(boxes, [0] * 4) == [0, 0, 0, 1]


def test_every_line_of_real_dev_is_one_number():
    # real_dev's truth: each line one number, some written far apart (a 3x3 grid, a 2x2
    # sheet with its two digits 2.7 heights apart): its true boxes must not be parted
    sheets = json.loads((ROOT / "benchmarks" / "data" / "real_dev_boxes.json").read_text())
    assert len(sheets) == 21
    for sheet in sheets:
        boxes = [d["box"] for d in sheet["digits"]]
        order, lines = reading_order_indices(boxes)
        numbers = number_indices([boxes[i] for i in order], lines)
        assert numbers == lines, sheet["file"]


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="4 boxes but 3 lines"):
        number_indices(ROW, [0, 0, 0])


def digits_at(xs, labels=(1, 0, 9, 9)):
    return tuple(
        DigitReading((x, 0, 30, 40), n, 0.99, ((n, 0.99), (0, 0.01)), 0, number)
        for x, n, number in zip(xs, labels, (0, 0, 1, 1), strict=True)
    )


def test_the_text_parts_numbers_with_a_space_and_the_exports_carry_them():
    reading = SheetReading(digits_at((0, 40, 150, 190)))
    assert reading.text == "10 99"
    assert [d["number"] for d in reading_dict(reading, "s.png")["digits"]] == [0, 0, 1, 1]
    assert reading_dict(reading, "s.png", corrected=[1, 0, 9, 8])["corrected_text"] == "10 98"
    rows = list(csv.DictReader(io.StringIO(reading_csv(reading, "s.png").decode())))
    assert [r["number"] for r in rows] == ["1", "1", "2", "2"]
    assert lines_text([1, 2, 3], [0, 1, 1], " / ", [0, 1, 2]) == "1 / 2 3"


def test_a_page_of_numbers_reads_with_its_numbers_apart(mnist, reader):
    reading = read_sheet(numbers_page(mnist), model=reader).sheet
    assert reading.text == "12 345 6\n78"


def numbers_page(mnist) -> np.ndarray:
    """12 and 345 and 6 apart on one line, 78 on the next (1000x260 grey page)."""
    x_test, y_test = mnist
    index = [int(np.flatnonzero(y_test == d)[0]) for d in (1, 2, 3, 4, 5, 6, 7, 8)]
    page = blank(1000, 260)
    xs = [40, 120, 360, 440, 520, 800, 40, 120]
    for k, (i, x) in enumerate(zip(index, xs, strict=True)):
        paste(page, x_test[i], x, 40 if k < 6 else 150, 70)
    return page


def test_the_app_shows_the_numbers(mnist):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    at.run()
    at.selectbox(key="source").set_value("Upload your own…").run()
    page = encode_png(numbers_page(mnist))
    at.file_uploader(key="upload").set_value(("numbers.png", page, "image/png")).run()
    at.button(key="predict").click().run()
    assert not at.exception, at.exception
    assert sheet_reads(at).startswith("Sheet reads: **12 345 6 / 78**")
    assert list(at.dataframe[0].value["number"]) == [1, 1, 2, 2, 2, 3, 4, 4]


def test_the_generator_writes_numbers_apart_and_says_so_in_its_truth(mnist):
    x_test, y_test = mnist
    style = SheetStyle(number_gap=2.0, digit_height=(50, 60), rotation_deg=0.0)
    _, truth = make_sheet(x_test[:9], y_test[:9].tolist(), [9], None, style, rng=3)
    numbers = [d["number"] for d in truth["digits"]]
    assert numbers[0] == 0 and max(numbers) >= 1  # 9 digits in numbers of 1-4
    assert truth["text"].count(" ") == max(numbers)
    assert truth["text"].replace(" ", "") == "".join(str(v) for v in y_test[:9])
    plain = make_sheet(x_test[:9], y_test[:9].tolist(), [9], None, SheetStyle(), rng=3)[1]
    assert {d["number"] for d in plain["digits"]} == {0} and " " not in plain["text"]


def test_the_numbers_family_keeps_each_case_and_writes_it_apart():
    for case in make_plan(12, 0):
        apart = written_as_numbers(case)
        assert NUMBER_GAPS[0] <= apart.style.number_gap <= NUMBER_GAPS[1]
        assert apart.style.ruling != "squared"
        assert apart.indices == case.indices[: sum(apart.lines)]


def test_numbers_apart_on_a_tilted_line_stay_on_their_line():
    # a line sloping 4°, its second number 10 px lower: its first box overlaps the last
    # box of the first number by under half a height, so a level chaining starts a line
    def box(x, shift):
        return (x, round(0.07 * x + shift), 30, 40)

    from digit_pipeline.stages.boxes import _chained

    boxes = [box(0, 0), box(40, 0), box(200, 10), box(240, 10)]
    assert _chained(boxes)[1] == [0, 0, 1, 1]  # chained level: the second number drops a line
    order, lines = reading_order_indices(boxes)
    assert lines == [0, 0, 0, 0] and order == [0, 1, 2, 3]
    assert number_indices([boxes[i] for i in order], lines) == [0, 0, 1, 1]


def test_a_level_sheet_is_chained_once():
    # two level lines: the slope is 0, nothing is chained again
    from digit_pipeline.stages.boxes import line_slope

    boxes = [(0, 0, 30, 40), (40, 2, 30, 40), (0, 80, 30, 40), (40, 78, 30, 40)]
    order, lines = reading_order_indices(boxes)
    assert lines == [0, 0, 1, 1] and line_slope([boxes[i] for i in order], lines) == 0.0
