"""The judge (digit_pipeline.reading.judge): what is no digit, and how a reading is scored."""

from __future__ import annotations

import numpy as np
import pytest

from digit_pipeline.reading.judge import JudgeParams, margins, plausible, reading_score

DIGITS = [(100, 100, 30, 60), (150, 102, 28, 58), (200, 98, 32, 62), (250, 100, 30, 60)]


@pytest.mark.parametrize(
    ("box", "sure", "kept"),
    [
        ((300, 100, 30, 60), 1.0, True),  # another digit
        ((300, 100, 8, 58), 1.0, True),  # a plain 1
        ((300, 100, 300, 8), 1.0, False),  # a rule, read as a sure 7
        ((40, 10, 6, 300), 1.0, False),  # a page edge standing up
        ((300, 150, 12, 12), 0.3, False),  # a speck read unsure
        ((300, 150, 16, 16), 1.0, True),  # a small 0, read sure
        ((300, 150, 4, 4), 1.0, False),  # a speck, however sure
        ((0, 100, 30, 60), 1.0, False),  # cut by the frame
        ((300, 100, 45, 60), 0.2, True),  # two touching digits: left for the split
    ],
    ids=["digit", "one", "rule", "edge", "speck", "small-zero", "tiny", "frame", "pair"],
)
def test_plausible_drops_what_is_no_digit(box, sure, kept):
    sures = np.array([1.0] * len(DIGITS) + [sure])
    assert plausible([*DIGITS, box], sures, (600, 800)).tolist() == [True] * len(DIGITS) + [kept]


@pytest.mark.parametrize(
    ("box", "sure", "rule"),
    [
        ((300, 100, 30, 60), 1.0, ""),
        ((300, 100, 300, 8), 1.0, "flat"),
        ((40, 10, 6, 300), 1.0, "bar"),
        ((300, 150, 12, 12), 0.3, "speck"),
        ((300, 150, 4, 4), 1.0, "speck"),
        ((0, 100, 30, 60), 1.0, "frame"),
    ],
    ids=["digit", "rule", "edge", "speck", "tiny", "frame"],
)
def test_each_box_set_aside_is_named_by_its_rule(box, sure, rule):
    from digit_pipeline.reading.judge import RULES, set_aside_rules

    sures = np.array([1.0] * len(DIGITS) + [sure])
    assert set_aside_rules([*DIGITS, box], sures, (600, 800)) == [""] * len(DIGITS) + [rule]
    assert rule == "" or rule in RULES


def test_the_other_rules_are_named_too():
    from digit_pipeline.reading.judge import set_aside_rules

    boxes = [*DIGITS, (300, 100, 30, 60)]
    sure = np.ones(len(boxes))
    none = np.array([0.0] * len(DIGITS) + [0.9])
    assert set_aside_rules(boxes, sure, none=none)[-1] == "no digit"
    borrowed = np.array([False] * len(DIGITS) + [True])
    assert set_aside_rules(boxes, sure * 0.5, borrowed=borrowed)[-1] == "borrowed ink"
    contrast = np.array([100.0] * len(DIGITS) + [20.0])
    assert set_aside_rules(boxes, sure * 0.5, contrast=contrast)[-1] == "faint"
    lines = [0] * len(DIGITS) + [1]
    small = [*DIGITS, (300, 200, 12, 12)]
    assert set_aside_rules(small, np.ones(len(small)), lines=lines)[-1] == "alone"


def test_a_reading_lists_what_it_set_aside_and_the_user_can_keep_it(reader):
    model = reader
    # Three MNIST digits and a stub of a rule: read --json lists the stub with its rule,
    # and keep_set_aside reads it among the digits after all, in reading order.
    from conftest import stub_sheet

    from digit_pipeline.batch.engines import read_data
    from digit_pipeline.io.images import encode_png
    from digit_pipeline.reading import keep_set_aside, read_sheet
    from digit_pipeline.reading.judge import RULES
    from digit_pipeline.reading.params import PipelineParams

    page = stub_sheet()
    reading = read_sheet(page, model=model)
    assert reading.text == "348" and reading.rejected == 1
    (aside,) = reading.set_aside
    assert aside.rule in RULES and aside.box[0] > 300
    record, _ = read_data(encode_png(page), "stub.png", PipelineParams(), model, auto=False)
    assert record["set_aside"] == [aside.to_dict()]

    kept = keep_set_aside(reading, [0], model)
    assert kept.set_aside == () and len(kept.sheet.digits) == 4
    assert kept.sheet.digits[-1].box == aside.box  # rightmost: read last
    assert [d.label for d in kept.sheet.digits[:3]] == [3, 4, 8]
    assert len(kept.result.digits) == 4 and kept.result.boxes[-1] == aside.box
    assert keep_set_aside(reading, [], model) is reading
    with pytest.raises(ValueError, match="index"):
        keep_set_aside(reading, [1], model)


@pytest.mark.parametrize(
    ("box", "kept"),
    [
        ((200, 300, 16, 16), False),  # a fibre alone on a line of its own
        ((200, 300, 30, 60), True),  # a whole digit alone on its line (a cross layout)
        ((300, 150, 16, 16), True),  # the same small mark beside the digits: a small 0
    ],
    ids=["lone-speck", "lone-digit", "small-zero"],
)
def test_a_small_mark_alone_on_its_line_is_no_digit(box, kept):
    boxes = [*DIGITS, box]
    lines = [0] * len(DIGITS) + [1 if box[1] > 200 else 0]
    assert plausible(boxes, np.ones(len(boxes)), (600, 800), lines)[-1] == kept


def test_a_crop_of_one_line_may_touch_its_frame():
    boxes = [(0, 0, 20, 40), (22, 1, 20, 39), (45, 0, 18, 40)]
    assert plausible(boxes, np.ones(3), (40, 63)).all()


def test_a_sure_reading_scores_higher_than_noise():
    sure = margins(np.eye(10)[[1, 2, 3]])
    noisy = margins(np.array([[0.4, 0.35] + [0.025] * 8] * 3))
    assert reading_score(sure) > reading_score(sure, rejected=1) > reading_score(noisy)
    assert reading_score(np.zeros(0)) == 0.0


def _ink(width: int, height: int) -> np.ndarray:
    return np.zeros((height, width), np.uint8)


def test_pieces_side_by_side_are_two_digits_and_a_dot_is_left_out():
    import cv2

    from digit_pipeline.reading.judge.cuts import ink_pieces

    roi = _ink(60, 50)
    cv2.line(roi, (8, 2), (8, 47), 255, 3)  # a 1
    cv2.circle(roi, (40, 32), 9, 255, 3)  # a small 0 beside it, written apart
    cv2.circle(roi, (24, 46), 1, 255, -1)  # a dot of dirt between them
    parts = ink_pieces(roi, (100, 200, 60, 50), typical=50)
    assert parts is not None and len(parts) == 2
    (xa, _, wa, ha), (xb, _, wb, hb) = parts
    assert xa < 110 < xa + wa and xb + wb <= 160 and xb > 125  # in image pixels
    assert ha >= 45 and 18 <= hb <= 24


def test_pieces_of_one_digit_stay_together():
    import cv2

    from digit_pipeline.reading.judge.cuts import ink_pieces

    four = _ink(40, 50)  # a 4 in two strokes: the bar crosses the upright
    cv2.line(four, (4, 2), (4, 30), 255, 3)
    cv2.line(four, (4, 30), (36, 30), 255, 3)
    cv2.line(four, (26, 5), (26, 48), 255, 3)
    four[30:33, 20:30] = 0  # lifted the pen where the bar meets the upright
    assert ink_pieces(four, (0, 0, 40, 50), typical=50) is None
    five = _ink(40, 50)  # a 5 whose top bar floats above its body
    cv2.line(five, (8, 3), (34, 3), 255, 3)
    cv2.ellipse(five, (20, 32), (14, 14), 0, -120, 180, 255, 3)
    assert ink_pieces(five, (0, 0, 40, 50), typical=50) is None


def test_pieces_one_above_another_in_a_tall_box_are_two_digits():
    import cv2

    from digit_pipeline.reading.judge.cuts import ink_pieces

    roi = _ink(40, 110)  # a 2 written just above a 9: one box for both
    cv2.ellipse(roi, (20, 18), (14, 14), 0, 180, 360, 255, 3)
    cv2.line(roi, (34, 18), (6, 48), 255, 3)
    cv2.line(roi, (6, 48), (34, 48), 255, 3)
    cv2.circle(roi, (20, 70), 11, 255, 3)
    cv2.line(roi, (31, 70), (29, 106), 255, 3)
    parts = ink_pieces(roi, (0, 0, 40, 110), typical=50)
    assert parts is not None and len(parts) == 2
    (_, ya, _, ha), (_, yb, _, hb) = sorted(parts, key=lambda b: b[1])
    assert ya + ha <= yb + 2 and ha >= 30 and hb >= 30
    assert ink_pieces(roi, (0, 0, 40, 110), typical=80) is None  # a box one digit tall


def test_column_cut_may_leave_a_small_digit_beside_a_tall_one_when_asked():
    import cv2

    from digit_pipeline.reading.judge.cuts import column_cut

    page = np.full((60, 70), 230, np.uint8)  # a tall 7 whose bar runs into a small 0
    cv2.line(page, (2, 4), (30, 4), 30, 3)
    cv2.line(page, (30, 4), (16, 58), 30, 3)
    cv2.line(page, (24, 30), (46, 30), 30, 2)  # the crossing bar reaches the 0
    cv2.circle(page, (55, 34), 9, 30, 3)
    box = (0, 0, 70, 60)
    assert column_cut(page, box) is None  # the 0 spans a third of the box: not a part
    parts = column_cut(page, box, min_part=0.3)
    assert parts is not None and len(parts) == 2
    (xa, _, wa, ha), (xb, _, _, hb) = parts
    assert xa + wa <= xb + 1 and ha >= 50 and 18 <= hb <= 26


def _boxes_ink(ink: np.ndarray, boxes: list) -> list:
    return [ink[y : y + h, x : x + w].copy() for x, y, w, h in boxes]


def test_a_tail_boxed_on_its_own_has_borrowed_ink():
    import cv2

    from digit_pipeline.reading.judge.box_ink import borrowed_ink

    ink = np.zeros((60, 200), np.uint8)
    cv2.ellipse(ink, (30, 30), (18, 24), 0, 0, 360, 255, 4)  # a 0...
    cv2.line(ink, (48, 30), (70, 34), 255, 4)  # ...whose stroke runs on past its box
    cv2.line(ink, (120, 6), (120, 54), 255, 4)  # a 1 standing apart
    boxes = [(10, 4, 40, 52), (50, 20, 24, 20), (116, 4, 9, 52)]
    flagged = borrowed_ink(boxes, _boxes_ink(ink, boxes), ink.shape, 1.0)
    assert flagged.tolist() == [False, True, False]
    # Shrunk ROIs (as the pipeline cuts them) and a half-size page give the same answer.
    small = [
        cv2.resize(r, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        for r in _boxes_ink(ink, boxes)
    ]
    small = [np.where(r > 0, 255, 0).astype(np.uint8) for r in small]
    assert borrowed_ink(boxes, small, (30, 100), 0.5).tolist() == [False, True, False]


def test_touching_digits_cut_apart_own_their_halves():
    import cv2

    from digit_pipeline.reading.judge.box_ink import borrowed_ink

    ink = np.zeros((60, 120), np.uint8)
    cv2.ellipse(ink, (30, 30), (18, 24), 0, 0, 360, 255, 4)
    cv2.line(ink, (50, 6), (70, 6), 255, 4)  # a 7 whose bar touches the 0
    cv2.line(ink, (70, 6), (58, 54), 255, 4)
    cv2.line(ink, (46, 20), (52, 8), 255, 4)
    boxes = [(10, 4, 40, 52), (50, 2, 24, 56)]
    assert borrowed_ink(boxes, _boxes_ink(ink, boxes), ink.shape, 1.0).tolist() == [False] * 2


def test_plausible_keeps_a_borrowed_box_only_when_read_sure():
    boxes = [(0, 0, 20, 40), (20, 0, 10, 40), (40, 0, 20, 40)]
    borrowed = np.array([False, True, False])
    kept = plausible(boxes, np.array([1.0, 0.6, 1.0]), borrowed=borrowed)
    assert kept.tolist() == [True, False, True]
    kept = plausible(boxes, np.array([1.0, 0.95, 1.0]), borrowed=borrowed)
    assert kept.tolist() == [True, True, True]


def test_a_faint_mark_among_written_digits_is_no_digit_unless_read_sure():
    from digit_pipeline.reading.judge.box_ink import ink_contrast

    page = np.full((40, 100), 200, np.uint8)
    page[5:35, 8:11] = 40  # three written strokes...
    page[5:35, 38:41] = 50
    page[5:35, 68:71] = 45
    page[10:30, 88:90] = 175  # ...and a fibre of the paper
    boxes = [(0, 0, 20, 40), (30, 0, 20, 40), (60, 0, 20, 40), (80, 0, 20, 40)]
    rois = [((page[:, x : x + w] < 190) * 255).astype(np.uint8) for x, _, w, _ in boxes]
    contrast = ink_contrast(boxes, rois, page, 1.0)
    assert contrast.round().tolist() == [160.0, 150.0, 155.0, 25.0]
    assert plausible(boxes, np.array([1.0, 1.0, 1.0, 0.3]), contrast=contrast).tolist() == [
        True,
        True,
        True,
        False,
    ]
    assert plausible(boxes, np.ones(4), contrast=contrast).all()  # a light digit read sure stays


def _long_tailed(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit with its lower half stretched three times: a 9 with a long tail."""
    import cv2

    rows = np.flatnonzero(digit.any(axis=1))
    ink = digit[rows[0] : rows[-1] + 1]
    half = ink.shape[0] // 2
    lower = cv2.resize(ink[half:], (ink.shape[1], 3 * (ink.shape[0] - half)))
    return np.vstack([ink[:half], lower])


def test_a_long_tailed_9_read_as_a_1_is_read_by_its_body(reader):
    model = reader
    from conftest import FIXTURES, blank, paste

    from digit_pipeline.reading import read_sheet

    with np.load(FIXTURES / "mnist_small.npz") as data:
        x, y = data["x_test"], data["y_test"]
    first = {d: x[int(np.flatnonzero(y == d)[0])] for d in (2, 3, 4, 6)}
    for nine in (7, 78, 92):  # MNIST test digits whose stretched form reads as a 1
        page, left = blank(700, 330), 40
        for d in (3, 4, 6):
            box = paste(page, first[d], left, 60, 80)
            left = box[0] + box[2] + 40
        tail = _long_tailed(x[nine])
        box = paste(page, tail, left, 60, round(80 * tail.shape[0] / x[nine].any(axis=1).sum()))
        paste(page, first[2], box[0] + box[2] + 40, 60, 80)
        assert read_sheet(page, model=model).text == "34692"
        # the step switched off, or the body not trusted: the tail reads 1
        assert read_sheet(page, model=model, judge=JudgeParams(off={"bodies"})).text == "34612"
        assert read_sheet(page, model=model, judge=JudgeParams(body_sure=1.0)).text == "34612"


def touching(digits: tuple[int, ...], gap: int) -> np.ndarray:
    """MNIST test digits 84 px tall in a row, each ``gap`` px from the last (< 0: overlapping)."""
    from conftest import FIXTURES, blank, paste

    with np.load(FIXTURES / "mnist_small.npz") as data:
        x, y = data["x_test"], data["y_test"]
    page, left = blank(60 + 90 * len(digits), 190), 30
    for label in digits:
        box = paste(page, x[int(np.flatnonzero(y == label)[0])], left, 50, 84)
        left += box[2] + gap
    return page


@pytest.mark.parametrize(
    "digits, gap",
    [((1, 7), -8), ((3, 8), -10), ((9, 8), -12), ((7, 1, 7), -5), ((1, 3), -11)],
)
def test_overlapping_digits_are_cut_at_a_column(reader, digits, gap):
    """Digits written into each other have no gap: the judge's column cut reads them."""
    from digit_pipeline.reading import read_sheet

    page, truth = touching(digits, gap), "".join(map(str, digits))
    assert read_sheet(page, model=reader).text == truth
    uncut = read_sheet(page, model=reader, judge=JudgeParams(off={"column", "pairs"})).text
    assert len(uncut) < len(truth)  # one box read as one digit: a digit lost
    assert read_sheet(page, model=reader, judge=JudgeParams(off={"pieces"})).text == truth


@pytest.mark.parametrize("digits, gap", [((9, 1), -5), ((2, 6), -5)])
def test_touching_digits_are_cut_by_pieces_or_column(reader, digits, gap):
    from digit_pipeline.reading import read_sheet

    page, truth = touching(digits, gap), "".join(map(str, digits))
    assert read_sheet(page, model=reader).text == truth
    for off in ({"pieces"}, {"column"}):  # either way alone finds the cut
        assert read_sheet(page, model=reader, judge=JudgeParams(off=off)).text == truth
    cuts_off = JudgeParams(off={"pieces", "column", "pairs"})
    assert len(read_sheet(page, model=reader, judge=cuts_off).text) < len(truth)


@pytest.mark.parametrize("digits, gap", [((9, 1), -5), ((1, 3), -11)])
def test_a_box_the_verifier_calls_several_digits_is_tried_at_a_column(reader, digits, gap):
    """Neither wide nor unsure, the box is cut because the verifier says "several"."""
    from digit_pipeline.reading import read_sheet

    page, truth = touching(digits, gap), "".join(map(str, digits))
    assert read_sheet(page, model=reader).text == truth
    deaf = read_sheet(page, model=reader, judge=JudgeParams(several=1.0, off={"pairs"})).text
    assert len(deaf) < len(truth)


def in_groups(groups: list[tuple[tuple[int, ...], int]], apart: int = 40) -> np.ndarray:
    """Groups of MNIST test digits in a row, each group ``(digits, gap)``, ``apart`` px apart."""
    from conftest import FIXTURES, blank, paste

    with np.load(FIXTURES / "mnist_small.npz") as data:
        x, y = data["x_test"], data["y_test"]
    page = blank(60 + sum(90 * len(g) for g, _ in groups) + apart * len(groups), 190)
    left = 30
    for digits, gap in groups:
        for label in digits:
            left += paste(page, x[int(np.flatnonzero(y == label)[0])], left, 50, 84)[2] + gap
        left += apart - gap
    return page


@pytest.mark.parametrize(
    "groups",
    [[((1, 7), -8), ((5,), 0), ((3, 8), -10)], [((3, 8), -10), ((1, 7), -8)]],
    ids=["17-5-38", "38-17"],
)
def test_every_overlapping_pair_of_a_sheet_is_cut_in_one_pass(reader, groups):
    """Several boxes cut at once: each keeps its own parts and readings, in reading order."""
    from digit_pipeline.reading import read_sheet

    page, truth = in_groups(groups), "".join(str(d) for g, _ in groups for d in g)
    assert read_sheet(page, model=reader).text == truth
    assert read_sheet(page, model=reader, judge=JudgeParams(split_passes=1)).text == truth
    uncut = read_sheet(page, model=reader, judge=JudgeParams(off={"column", "pairs"})).text
    assert len(uncut) <= len(truth) - 2


def test_a_box_the_verifier_calls_one_digit_stays_whole(reader):
    """With column_one at 0 every box counts as "one digit": the unsure clause cuts none."""
    from digit_pipeline.reading import read_sheet

    page = in_groups([((1, 7), -8), ((5,), 0), ((3, 8), -10)])
    judge = JudgeParams(column_one=0.0, off={"pairs"})  # the pair reader would read them
    whole = read_sheet(page, model=reader, judge=judge).text
    assert whole != "17538" and len(whole) < 5
