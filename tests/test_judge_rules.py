"""The judge as data: JudgeParams, the rules table, and each threshold at its boundary.

Pure numpy and OpenCV, no model: each rule is tested on a sheet of five typical digits
(40 px tall, so a threshold of t digits is 40·t px) with one probe box placed just inside
and just outside each threshold, and each rule is switched off by name.
"""

from __future__ import annotations

import ast
import json

import numpy as np
import pytest
from conftest import ROOT

from digit_pipeline.reading.judge import (
    JUDGE_SPECS,
    RULE_TABLE,
    RULES,
    STEPS,
    JudgeParams,
    reading_score,
    set_aside_rules,
    shape_rules,
)

TYPICAL = [(40 + 50 * i, 80, 24, 40) for i in range(5)]  # typical digit height: 40 px
SHAPE = (200, 400)


def probe(box, sure=1.0, **features):
    """The rule that names ``box`` among the five typical digits (they all stay)."""
    boxes = [*TYPICAL, box]
    sures = np.array([1.0] * len(TYPICAL) + [sure])
    extra = {}
    for name, value in features.items():
        if name in ("params", "shape"):
            extra[name] = value
        elif name == "lines":
            extra[name] = [0] * len(TYPICAL) + [value]
        else:
            fill = {"none": 0.0, "borrowed": False, "contrast": 100.0}[name]
            extra[name] = np.array([fill] * len(TYPICAL) + [value])
    shape = extra.pop("shape", None)
    rules = set_aside_rules(boxes, sures, shape, **extra)
    assert rules[: len(TYPICAL)] == [""] * len(TYPICAL)
    return rules[-1]


@pytest.mark.parametrize(
    ("box", "sure", "rule"),
    [
        ((100, 150, 58, 19), 1.0, "flat"),  # 58 > 3 x 19, 19 < 0.5 x 40
        ((100, 150, 57, 19), 1.0, ""),  # exactly 3 x its height: not flatter than that
        ((100, 150, 80, 20), 1.0, ""),  # half a digit tall: not low enough
        ((300, 0, 17, 89), 1.0, "bar"),  # 89 > 2.2 x 40 and > 5 x 17
        ((300, 0, 10, 88), 1.0, ""),  # exactly 2.2 digits
        ((300, 0, 18, 90), 1.0, ""),  # exactly 5 x its width
        ((300, 150, 11, 11), 0.69, "speck"),  # under 0.3 digits, unsure
        ((300, 150, 11, 11), 0.7, ""),  # read sure
        ((300, 150, 12, 12), 0.0, ""),  # exactly 0.3 digits
        ((300, 150, 4, 4), 1.0, "speck"),  # under 0.12 digits, however sure
        ((300, 150, 5, 5), 1.0, ""),
    ],
    ids=[
        "flat",
        "flat-ratio-edge",
        "flat-height-edge",
        "bar",
        "bar-height-edge",
        "bar-ratio-edge",
        "speck",
        "speck-sure",
        "speck-size-edge",
        "tiny",
        "tiny-edge",
    ],
)
def test_the_shape_and_size_rules_at_their_thresholds(box, sure, rule):
    assert probe(box, sure) == rule


@pytest.mark.parametrize(
    ("box", "rule"),
    [
        ((1, 80, 24, 40), "frame"),
        ((2, 80, 24, 40), ""),
        ((100, 1, 24, 40), "frame"),
        ((100, 2, 24, 40), ""),
        ((375, 80, 24, 40), "frame"),  # its right side at 399 = width - 1
        ((374, 80, 24, 40), ""),
        ((100, 159, 24, 40), "frame"),  # its bottom at 199 = height - 1
        ((100, 158, 24, 40), ""),
    ],
    ids=["left", "left-in", "top", "top-in", "right", "right-in", "bottom", "bottom-in"],
)
def test_the_frame_rule_at_each_border(box, rule):
    assert probe(box, shape=SHAPE) == rule


@pytest.mark.parametrize(
    ("height", "sure", "rule"),
    [
        (40, 0.9, ""),  # a crop's digit: 40 >= 0.5 x 80, read sure
        (40, 0.89, "frame"),
        (39, 0.9, "frame"),  # under half the crop's height
        (64, 0.9, ""),  # 1.6 digits tall at most
        (65, 0.9, "frame"),
    ],
    ids=["crop-digit", "unsure", "short", "tall-edge", "too-tall"],
)
def test_a_tight_crops_digits_may_touch_its_frame(height, sure, rule):
    boxes = [(40 + 50 * i, 20, 24, 40) for i in range(5)] + [(0, 0, 24, height)]
    sures = np.array([1.0] * 5 + [sure])
    # the typical digits touch nothing: the crop is 80 px tall, 400 wide
    assert set_aside_rules(boxes, sures, (80, 400))[-1] == rule


@pytest.mark.parametrize(
    ("features", "sure", "rule"),
    [
        ({"none": 0.51}, 1.0, "no digit"),
        ({"none": 0.5}, 1.0, ""),
        ({"borrowed": True}, 0.89, "borrowed ink"),
        ({"borrowed": True}, 0.9, ""),
        ({"borrowed": False}, 0.0, ""),
        ({"contrast": 49.0}, 0.69, "faint"),  # under half the median (100)
        ({"contrast": 50.0}, 0.69, ""),
        ({"contrast": 10.0}, 0.7, ""),  # faint but read sure
        ({"lines": 1}, 1.0, "alone"),  # the probe is 19 px: under half a digit
    ],
    ids=[
        "no-digit",
        "no-digit-edge",
        "borrowed",
        "borrowed-sure",
        "own-ink",
        "faint",
        "faint-edge",
        "faint-sure",
        "alone",
    ],
)
def test_the_rules_of_what_a_box_holds(features, sure, rule):
    assert probe((100, 150, 19, 19), sure, **features) == rule


def test_alone_is_judged_by_size_and_by_the_company_kept():
    assert probe((100, 150, 20, 20), lines=1) == ""  # half a digit: not small enough
    # a speck on the same line is no company: it was set aside first
    boxes = [*TYPICAL, (100, 150, 19, 19), (150, 150, 3, 3)]
    rules = set_aside_rules(boxes, np.ones(7), lines=[0] * 5 + [1, 1])
    assert rules[-2:] == ["alone", "speck"]
    # a digit beside it is
    boxes = [*TYPICAL, (100, 150, 19, 19), (150, 150, 24, 40)]
    assert set_aside_rules(boxes, np.ones(7), lines=[0] * 5 + [1, 1])[-2:] == ["", ""]
    # one line only: nothing is alone
    assert set_aside_rules([*TYPICAL, (100, 150, 19, 19)], np.ones(6), lines=[0] * 6)[-1] == ""


def test_faint_is_measured_among_enough_boxes_kept():
    boxes, sure = [*TYPICAL[:2], (300, 150, 19, 19)], np.array([1.0, 1.0, 0.0])
    contrast = np.array([100.0, 100.0, 10.0])
    assert set_aside_rules(boxes, sure, contrast=contrast)[-1] == "faint"  # among three
    assert set_aside_rules(boxes[1:], sure[1:], contrast=contrast[1:]) == ["", ""]  # two
    params = JudgeParams(faint_among=4)
    assert set_aside_rules(boxes, sure, contrast=contrast, params=params)[-1] == ""
    # boxes set aside before do not lower the median: three specks as faint as the probe
    specks = [(300 + 10 * i, 10, 3, 3) for i in range(3)]
    boxes4 = [*TYPICAL[:3], *specks, (300, 150, 19, 19)]
    contrast4 = np.array([100.0] * 3 + [10.0] * 3 + [40.0])
    rules = set_aside_rules(boxes4, np.array([1.0] * 6 + [0.0]), contrast=contrast4)
    assert rules[3:] == ["speck"] * 3 + ["faint"]


def test_the_first_rule_in_the_table_names_a_box():
    # a flat box on the frame is a rule before it is the frame's
    assert probe((0, 150, 80, 10), shape=SHAPE) == "flat"
    assert probe((0, 150, 80, 10), shape=SHAPE, params=JudgeParams(off={"flat"})) == "frame"
    assert [rule.name for rule in RULE_TABLE] == list(RULES)


@pytest.mark.parametrize(
    ("name", "box", "features"),
    [
        ("flat", (100, 150, 58, 19), {}),
        ("bar", (300, 0, 17, 89), {}),
        ("speck", (300, 150, 4, 4), {}),
        ("frame", (1, 80, 24, 40), {"shape": SHAPE}),
        ("no digit", (100, 150, 24, 40), {"none": 0.9}),
        ("borrowed ink", (100, 150, 24, 40), {"borrowed": True}),
        ("faint", (100, 150, 24, 40), {"contrast": 10.0}),
        ("alone", (100, 150, 19, 19), {"lines": 1}),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_rule_can_be_switched_off_by_name(name, box, features):
    sure = 0.0 if name in ("faint", "borrowed ink") else 1.0
    assert probe(box, sure, **features) == name
    assert probe(box, sure, **features, params=JudgeParams(off={name})) != name


def test_every_rule_in_the_table_is_tested_above():
    assert set(RULES) == {
        "flat",
        "bar",
        "speck",
        "frame",
        "no digit",
        "borrowed ink",
        "faint",
        "alone",
    }


def test_shape_rules_apply_only_the_shape_rules_and_honour_off():
    boxes = [*TYPICAL, (100, 150, 58, 19), (300, 0, 17, 89), (300, 150, 4, 4)]
    assert shape_rules(boxes)[-3:] == ["flat", "bar", ""]  # a speck needs its reading
    assert shape_rules(boxes, JudgeParams(off={"bar"}))[-3:] == ["flat", "", ""]


def test_a_threshold_moved_moves_the_rule():
    box = (100, 150, 58, 19)
    assert probe(box, params=JudgeParams(flat_ratio=4.0)) == ""
    assert probe(box, params=JudgeParams(flat_height=0.4)) == ""
    assert probe((100, 150, 19, 19), 0.69, contrast=60.0, params=JudgeParams(faint=0.7)) == "faint"


# -- JudgeParams itself -------------------------------------------------------------------


def test_judge_params_validate_every_threshold():
    with pytest.raises(ValueError, match="sure"):
        JudgeParams(sure=1.5)
    with pytest.raises(ValueError, match="flat_ratio"):
        JudgeParams(flat_ratio=0.5)
    with pytest.raises(ValueError, match="faint_among"):
        JudgeParams(faint_among=1)
    with pytest.raises(ValueError, match="unknown rule or step 'fiant'"):
        JudgeParams(off={"fiant"})
    with pytest.raises(ValueError, match="split_passes"):
        JudgeParams().replace(split_passes=0)


def test_every_threshold_is_declared_once_with_a_range_and_a_reason():
    names = [spec.name for spec in JUDGE_SPECS]
    assert len(names) == len(set(names)) >= 45
    for spec in JUDGE_SPECS:
        assert spec.help and spec.low is not None and spec.high is not None, spec.name
        assert spec.low <= spec.default <= spec.high, spec.name
    assert set(STEPS) == {"pieces", "column", "bodies", "pairs", "certain", "turn"}


def test_every_threshold_is_read_by_the_judge():
    """No field is dead: each is read (``params.``, ``p.`` or ``judge.<name>``) by the judge."""
    judge = ROOT / "digit_pipeline" / "reading" / "judge"
    read = set()
    for path in [*judge.glob("*.py"), judge.parent / "orientation.py"]:
        if path.name == "params.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in ("params", "p", "judge"):
                    read.add(node.attr)
    assert {spec.name for spec in JUDGE_SPECS} <= read


def test_no_bare_threshold_is_left_in_the_judges_code():
    """Numbers the judge decides by are JudgeParams fields: the code holds only 0 and 1."""
    judge = ROOT / "digit_pipeline" / "reading" / "judge"
    bare = []
    for path in [*judge.glob("*.py"), judge.parent / "orientation.py"]:
        if path.name == "params.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                if node.value not in (0.0, 1.0):
                    bare.append(f"{path.name}:{node.lineno} {node.value}")
    assert not bare


def test_judge_params_to_dict_is_json_and_round_trips():
    params = JudgeParams(off={"faint", "bodies"}, sure=0.6)
    data = json.loads(json.dumps(params.to_dict()))
    assert data["off"] == ["bodies", "faint"] and data["sure"] == 0.6
    assert JudgeParams(**data) == params


def test_reading_score_costs_come_from_the_params():
    sure = np.array([1.0, 1.0, 0.1])
    assert reading_score(sure, rejected=2) == pytest.approx(0.1)
    assert reading_score(sure, 2, JudgeParams(noise_cost=0.4)) == pytest.approx(0.4)
    assert reading_score(sure, 2, JudgeParams(reject_cost=0.5)) == pytest.approx(-0.4)


# -- The cuts, the bodies and the borrowed ink at their thresholds ------------------------


def test_prefers_parts_at_each_threshold():
    from digit_pipeline.reading.judge.split import _prefers_parts, _Whole

    one = np.array([True, True])
    square = _Whole((0, 0, 40, 40), sure=0.49, wide=False, several=False)

    def column(whole, sure_parts, part_one=one):
        return _prefers_parts(whole, np.array(sure_parts), part_one, False)

    def pieces(whole, sure_parts, part_one=one):
        return _prefers_parts(whole, np.array(sure_parts), part_one, True)

    assert column(square, [0.9, 0.95])
    assert not column(square, [0.89, 0.95])  # a part under column_sure
    assert not column(_Whole((0, 0, 40, 40), 0.5, False, False), [0.9, 0.9])  # whole sure
    assert column(_Whole((0, 0, 32, 40), 0.2, False, False), [0.9, 0.9])  # 0.8 x its height
    assert not column(_Whole((0, 0, 31, 40), 0.2, False, False), [0.9, 0.9])
    # a whole read unsure that the verifier calls one digit stays whole (a font's 8 read
    # unsure, its halves surely as a 6 and a 9)
    assert column(_Whole((0, 0, 40, 40), 0.49, False, False, one=0.89), [0.9, 0.95])
    assert not column(_Whole((0, 0, 40, 40), 0.49, False, False, one=0.9), [0.9, 0.95])
    assert column(_Whole((0, 0, 40, 40), 0.99, True, False, one=0.99), [0.99, 0.995])  # wide
    wide = _Whole((0, 0, 40, 40), 0.9, True, False)
    assert column(wide, [0.95, 0.99]) and not column(wide, [0.94, 0.99])
    sure = _Whole((0, 0, 40, 40), 0.99, True, False)  # a wide digit read surely
    assert not column(sure, [0.98, 0.995])  # a part read less surely than the whole
    assert column(sure, [0.99, 0.995])
    several = _Whole((0, 0, 20, 40), 0.99, False, True)
    assert column(several, [0.8, 0.8]) and not column(several, [0.79, 0.9])
    assert not column(several, [0.9, 0.9], np.array([True, False]))  # one part is not one

    assert pieces(square, [0.9, 0.9])
    wide = _Whole((0, 0, 40, 40), 0.99, True, False)  # sure, but room for two
    assert pieces(wide, [0.9, 0.9]) and not pieces(wide, [0.89, 0.95])
    unsure = _Whole((0, 0, 40, 40), 0.61, False, False)  # sure enough, mean gain too small
    assert not pieces(unsure, [0.9, 0.9])
    assert _prefers_parts(unsure, np.array([0.9, 0.9]), one, True, JudgeParams(unsure=0.62))
    sure_whole = _Whole((0, 0, 40, 40), 0.5, False, False)
    assert pieces(sure_whole, [0.8, 0.8])  # mean 0.8 >= 0.5 + 0.3
    assert not pieces(sure_whole, [0.79, 0.79])
    assert not pieces(_Whole((0, 0, 40, 40), 0.0, False, False), [0.29, 0.89])  # a weak one
    several = _Whole((0, 0, 40, 40), 0.99, False, True)
    assert pieces(several, [0.3, 0.3]) and not pieces(several, [0.29, 0.9])
    assert not pieces(several, [0.5, 0.5], np.array([False, True]))


def test_wide_boxes_are_measured_against_the_median_box():
    from digit_pipeline.reading.judge.split import _wide

    boxes = [(0, 0, 20, 40), (30, 0, 20, 40), (60, 0, 20, 40), (90, 0, 30, 40), (130, 0, 29, 40)]
    assert _wide(boxes).tolist() == [False, False, False, True, False]  # 1.5 x 20 = 30
    assert _wide([*boxes[:2], (60, 0, 90, 40)]).tolist() == [False, False, True]
    assert _wide(boxes[:2]).tolist() == [False, False]  # too few to have a median
    assert _wide([*boxes[:2], (60, 0, 90, 40)], JudgeParams(wide_among=4)).tolist() == [False] * 3


def test_descending_bodies_at_their_thresholds():
    from digit_pipeline.reading.judge.bodies import descending_bodies

    line = [(0, 10, 20, 40), (30, 10, 20, 40), (90, 10, 20, 40)]  # height 40, bottom 50

    def hangs(box, params=None):
        return 3 in descending_bodies([*line, box], [0] * 4, params or JudgeParams())

    assert hangs((60, 10, 20, 57))  # 57 > 1.4 x 40 and its bottom 67 > 50 + 12
    assert not hangs((60, 10, 20, 56))  # exactly 1.4 line heights
    assert not hangs((60, 0, 20, 62))  # bottom 62 = 50 + 0.3 x 40: not below by more
    assert hangs((60, 0, 20, 63))  # top 0 = 10 - 0.25 x 40: still on the line
    assert not hangs((60, -1, 20, 80))  # its top above the line: an ascender
    assert descending_bodies([*line, (60, 10, 20, 80)], [0] * 4)[3] == (60, 10, 20, 46)
    assert not descending_bodies([line[0], (60, 10, 20, 80)], [0, 0])  # two boxes: no line
    assert hangs((60, 10, 20, 80), JudgeParams(body_line=4))
    assert not hangs((60, 10, 20, 80), JudgeParams(body_line=5))


def test_borrowed_ink_at_its_shares():
    from digit_pipeline.reading.judge.box_ink import borrowed_ink

    ink = np.zeros((40, 60), np.uint8)
    ink[5:35, 5:35] = 255  # a digit...
    ink[18:22, 35:55] = 255  # ...and its tail, boxed on its own
    boxes = [(0, 0, 36, 40), (36, 0, 24, 40)]
    rois = [ink[:, :36].copy(), ink[:, 36:].copy()]
    assert borrowed_ink(boxes, rois, (40, 60), 1.0).tolist() == [False, True]
    # the tail holds 76 of 984 px of its piece: under own_share
    assert borrowed_ink(boxes, rois, (40, 60), 1.0, JudgeParams(own_share=0.05)).tolist() == [
        False,
        False,
    ]
    # the digit holds 908/984 of the piece: over held_share unless that is raised past it
    high = JudgeParams(held_share=0.95)
    assert borrowed_ink(boxes, rois, (40, 60), 1.0, high).tolist() == [False, False]
    # a tail with a dot of its own ink: 76 borrowed of 80
    rois[1][2:4, 20:22] = 255
    assert borrowed_ink(boxes, rois, (40, 60), 1.0).tolist() == [False, True]
    strict = JudgeParams(borrowed_share=0.96)
    assert borrowed_ink(boxes, rois, (40, 60), 1.0, strict).tolist() == [False, False]


def _two_digits(gap: int = 0, second_height: int = 40, second_top: int = 10):
    """A grey page with two 'digits' (outlined boxes, 3 px strokes) side by side, bridged."""
    import cv2

    page = np.full((60, 80), 230, np.uint8)
    cv2.rectangle(page, (10, 10), (29, 49), 20, 3)
    top, right = second_top, 30 + gap
    cv2.rectangle(page, (right, top), (right + 19, top + second_height - 1), 20, 3)
    page[28:31, 29:right] = 20  # a thin bridge over the gap
    return page


def test_column_cut_at_its_thresholds():
    from digit_pipeline.reading.judge.cuts import column_cut

    page = _two_digits(gap=10)
    box = (10, 10, 50, 40)
    parts = column_cut(page, box)
    assert parts is not None and len(parts) == 2
    assert parts[0][0] == 10 and parts[1][0] + parts[1][2] == 60
    assert column_cut(page, box, params=JudgeParams(column_min_px=51)) is None
    assert column_cut(page, (10, 10, 5, 40)) is None  # under 6 px wide
    # the second part holds ink over fewer rows than half the box's height
    short = _two_digits(gap=10, second_height=14, second_top=20)
    rows = column_cut(short, box, min_part=0.1)[1][3]
    assert rows < 20 and column_cut(short, box) is None
    assert column_cut(short, box, min_part=rows / 40) is not None
    assert column_cut(short, box, min_part=(rows + 1) / 40) is None
    # parts one above the other do not share a line
    stacked = np.full((80, 60), 230, np.uint8)
    stacked[0:40, 5:25] = 20
    stacked[40:80, 30:55] = 20
    assert column_cut(stacked, (0, 0, 60, 80), min_part=0.2) is None


def test_ink_pieces_at_their_thresholds():
    from digit_pipeline.reading.judge.cuts import ink_pieces

    roi = np.zeros((40, 60), np.uint8)
    roi[0:40, 5:20] = 255
    roi[0:40, 35:55] = 255
    assert ink_pieces(roi, (0, 0, 60, 40), typical=40.0) == [(5, 0, 15, 40), (35, 0, 20, 40)]
    # a piece shorter than a quarter digit is a mark, not a digit
    roi2 = roi.copy()
    roi2[:, 35:55] = 0
    roi2[10:19, 35:55] = 255
    assert ink_pieces(roi2, (0, 0, 60, 40), typical=40.0) is None
    roi2[10:20, 35:55] = 255  # 10 rows: a quarter of 40
    assert ink_pieces(roi2, (0, 0, 60, 40), typical=40.0) is not None
    # overlapping columns are one digit's strokes
    roi3 = np.zeros((40, 60), np.uint8)
    roi3[0:18, 5:30] = 255
    roi3[22:40, 10:35] = 255
    assert ink_pieces(roi3, (0, 0, 60, 40), typical=40.0) is None
    # two digits one above the other, in a box 1.6 digits tall
    tall = np.zeros((64, 30), np.uint8)
    tall[0:26, 5:25] = 255
    tall[38:64, 5:25] = 255
    assert ink_pieces(tall, (0, 0, 30, 64), typical=40.0) == [(5, 0, 20, 26), (5, 38, 20, 26)]
    assert ink_pieces(tall, (0, 0, 30, 64), typical=40.0, params=JudgeParams(stacked=1.7)) is None


# -- What the rules hand back ---------------------------------------------------------------


def test_tiny_is_a_share_of_a_digit_strictly_below():
    boxes = [(40 + 60 * i, 80, 30, 50) for i in range(5)]  # typical digit: 50 px
    assert set_aside_rules([*boxes, (400, 80, 6, 6)], np.ones(6))[-1] == ""  # 0.12 x 50 = 6
    assert set_aside_rules([*boxes, (400, 80, 5, 5)], np.ones(6))[-1] == "speck"


def test_alone_needs_two_lines_and_counts_only_the_boxes_kept():
    # one line, where every digit but a small mark is set aside: nothing is alone on it
    boxes = [*TYPICAL, (100, 150, 19, 19)]
    none = np.array([0.9] * 5 + [0.0])
    rules = set_aside_rules(boxes, np.ones(6), lines=[0] * 6, none=none)
    assert rules == ["no digit"] * 5 + [""]
    # the last line holds only a box set aside before: the count still covers every line
    boxes = [*TYPICAL, (100, 150, 19, 19), (300, 300, 3, 3)]
    rules = set_aside_rules(boxes, np.ones(7), lines=[0] * 5 + [1, 2])
    assert rules[-2:] == ["alone", "speck"]


def test_plausible_is_no_rule_named_with_every_feature_passed_on():
    from digit_pipeline.reading.judge import plausible

    boxes = [*TYPICAL, (1, 150, 24, 40), (100, 150, 24, 40), (150, 150, 24, 40)]
    boxes += [(200, 150, 24, 40), (250, 120, 19, 19)]
    sure = np.array([1.0] * 5 + [1.0, 1.0, 0.0, 0.0, 1.0])
    features = {
        "none": np.array([0.0] * 6 + [0.9, 0.0, 0.0, 0.0]),
        "borrowed": np.array([False] * 7 + [True, False, False]),
        "contrast": np.array([100.0] * 8 + [10.0, 100.0]),
    }
    lines = [0] * 9 + [1]
    args = (boxes, sure, SHAPE, lines, features["none"])
    rules = set_aside_rules(*args, borrowed=features["borrowed"], contrast=features["contrast"])
    assert rules[5:] == ["frame", "no digit", "borrowed ink", "faint", "alone"]
    kept = plausible(*args, borrowed=features["borrowed"], contrast=features["contrast"])
    assert kept.tolist() == [not rule for rule in rules]
    off = JudgeParams(off={"frame", "faint"})
    kept = plausible(
        *args, borrowed=features["borrowed"], contrast=features["contrast"], params=off
    )
    assert kept.tolist() == [True] * 5 + [True, False, False, True, False]


def test_set_aside_boxes_are_json_ready_and_lines_renumbered_in_order():
    from digit_pipeline.reading.judge import SetAside, shaped_like_no_digit
    from digit_pipeline.reading.judge.rules import _renumber

    box = tuple(np.array([1, 2, 3, 4], np.int64))
    assert json.dumps(SetAside(box, "flat").to_dict()) == '{"box": [1, 2, 3, 4], "rule": "flat"}'
    assert _renumber([3, 3, 7, 5]) == [0, 0, 2, 1]
    assert _renumber([]) == []
    boxes = [*TYPICAL, (100, 150, 58, 19), (300, 0, 17, 89)]
    assert shaped_like_no_digit(boxes).tolist() == [False] * 5 + [True, True]
    assert shaped_like_no_digit(boxes, JudgeParams(off={"flat"})).tolist()[-2:] == [False, True]
    assert shaped_like_no_digit([]).tolist() == []


def test_drop_shapes_sets_a_rule_aside_before_anything_is_cut():
    import cv2

    from digit_pipeline.reading.judge import drop_shapes
    from digit_pipeline.reading.params import PipelineParams
    from digit_pipeline.reading.pipeline import segment
    from digit_pipeline.reading.prepared import prepare

    page = np.full((300, 640), 235, np.uint8)
    for x in (80, 200, 320, 440):
        cv2.circle(page, (x, 100), 35, 30, 6)
    cv2.line(page, (30, 230), (610, 230), 30, 4)  # a rule on a line of its own
    params = PipelineParams(remove_lines=False, flatten_page=False)
    result = segment(prepare(page, params), params)
    assert len(result.boxes) == 5 and sorted(set(result.lines)) == [0, 1]
    kept, dropped = drop_shapes(result)
    assert [s.rule for s in dropped] == ["flat"]
    rule = dropped[0].box
    assert rule[2] > 500 and rule not in kept.boxes
    assert len(kept.boxes) == 4 and kept.lines == [0, 0, 0, 0]
    same, none = drop_shapes(result, JudgeParams(off={"flat"}))
    assert same is result and none == ()


def _hollow(page, x0, y0, x1, y1, thick=3, value=20):
    """Draw a hollow rectangle's four strokes (a '0'), numpy slices: exact pixels."""
    page[y0:y1, x0 : x0 + thick] = value
    page[y0:y1, x1 - thick : x1] = value
    page[y0 : y0 + thick, x0:x1] = value
    page[y1 - thick : y1, x0:x1] = value


def _pair(bridge_rows=(28, 31)):
    page = np.full((60, 80), 230, np.uint8)
    _hollow(page, 10, 10, 30, 50)
    _hollow(page, 40, 10, 60, 50)
    page[bridge_rows[0] : bridge_rows[1], 30:40] = 20
    return page


def test_column_cut_gives_the_parts_ink_boxes_exactly():
    from digit_pipeline.reading.judge.cuts import column_cut

    # the cut falls at the first thinnest column of the middle half (the bridge, col 31)
    assert column_cut(_pair(), (10, 10, 50, 40)) == [(10, 10, 21, 40), (31, 10, 29, 40)]
    # the same box placed elsewhere on a bigger page: the parts move with it
    big = np.full((100, 120), 230, np.uint8)
    big[30:90, 25:105] = _pair()
    assert column_cut(big, (35, 40, 50, 40)) == [(35, 40, 21, 40), (56, 40, 29, 40)]


def test_column_cut_at_its_width_and_middle_limits():
    from digit_pipeline.reading.judge.cuts import column_cut

    page = _pair()
    assert column_cut(page, (10, 10, 50, 40), params=JudgeParams(column_min_px=50)) is not None
    assert column_cut(page, (10, 10, 50, 40), params=JudgeParams(column_min_px=51)) is None
    # the middle searched: 2 columns (24, 25) hold a cut; none (0.5 in from each side) not
    assert column_cut(page, (10, 10, 50, 40), params=JudgeParams(column_middle=0.49)) is not None
    assert column_cut(page, (10, 10, 50, 40), params=JudgeParams(column_middle=0.5)) is None
    blank = np.full((60, 80), 230, np.uint8)
    assert column_cut(blank, (10, 10, 50, 40)) is None  # no ink darker than the paper
    assert column_cut(page, (10, 10, 0, 40)) is None


def test_column_cut_ink_is_below_the_level_halfway_to_the_darkest():
    from digit_pipeline.reading.judge.cuts import column_cut

    page = _pair()
    # a mid-grey smudge left of the pair, lighter than halfway between ink (20) and paper
    page[12:48, 5:9] = 126  # (20 + 230) / 2 = 125: not ink
    assert column_cut(page, (5, 10, 55, 40)) == [(10, 10, 21, 40), (31, 10, 29, 40)]
    page[12:48, 5:9] = 124  # darker than the level: ink, and the left part starts at it
    assert column_cut(page, (5, 10, 55, 40))[0][0] == 5


def test_column_cut_parts_must_share_the_line_and_one_be_tall():
    from digit_pipeline.reading.judge.cuts import column_cut

    # the right digit 32 rows of the box's 40: exactly column_full (0.8) of it is enough
    page = np.full((60, 80), 230, np.uint8)
    _hollow(page, 10, 10, 30, 42)
    _hollow(page, 40, 10, 60, 42)
    page[20:23, 30:40] = 20
    box = (10, 10, 50, 40)  # the box is taller than the ink: 8 rows of paper below
    assert column_cut(page, box) is not None
    assert column_cut(page, box, params=JudgeParams(column_full=0.81)) is None
    # the parts overlap in height by 12 of 20 rows: exactly column_line (0.6) of the shorter
    page = np.full((70, 80), 230, np.uint8)
    _hollow(page, 10, 10, 30, 50)
    _hollow(page, 40, 38, 60, 58)
    page[40:43, 30:40] = 20
    box = (10, 10, 50, 48)
    parts = column_cut(page, box, min_part=0.4)
    assert parts is not None and parts[1][3] == 20
    assert column_cut(page, box, min_part=0.4, params=JudgeParams(column_line=0.61)) is None
    # the parts' ink must span column_ink of the height across
    assert column_cut(_pair(), (10, 10, 50, 40), params=JudgeParams(column_ink=0.6)) is None


def test_ink_pieces_in_a_shrunk_roi_are_given_in_image_pixels():
    from digit_pipeline.reading.judge.cuts import ink_pieces

    roi = np.zeros((40, 60), np.uint8)  # the box's ink at half its size
    roi[0:40, 5:20] = 255
    roi[4:36, 35:55] = 255
    assert ink_pieces(roi, (100, 200, 120, 80), typical=80.0) == [
        (110, 200, 30, 80),
        (170, 208, 40, 64),
    ]
    assert ink_pieces(roi, (100, 200, 120, 80), typical=0.5) is not None  # any size of digit
    assert ink_pieces(roi, (100, 200, 120, 80), typical=0.0) is None
    assert ink_pieces(np.zeros((0, 0), np.uint8), (0, 0, 1, 1), typical=40.0) is None
    assert ink_pieces(np.zeros((40, 60), np.uint8), (0, 0, 60, 40), typical=40.0) is None


def test_ink_pieces_leave_out_crumbs_of_ink_and_keep_side_by_side_before_stacked():
    from digit_pipeline.reading.judge.cuts import ink_pieces

    roi = np.zeros((64, 60), np.uint8)
    roi[0:64, 5:15] = 255  # 640 px
    roi[0:64, 35:45] = 255  # 640 px
    roi[0:2, 25:29] = 255  # a crumb, 8 px: under 3% of the ink, left out
    pieces = ink_pieces(roi, (0, 0, 60, 64), typical=40.0)
    assert pieces == [(5, 0, 10, 64), (35, 0, 10, 64)]  # side by side, though 1.6 digits tall
    roi[20:32, 25:29] = 255  # 48 px of 1336 (3.6%): a piece of its own, 12 px tall
    assert len(ink_pieces(roi, (0, 0, 60, 64), typical=40.0)) == 3
    exactly = JudgeParams(piece_ink=48 / 1336)  # exactly its share: still a piece
    assert len(ink_pieces(roi, (0, 0, 60, 64), typical=40.0, params=exactly)) == 3
    more = JudgeParams(piece_ink=0.04)
    assert ink_pieces(roi, (0, 0, 60, 64), typical=40.0, params=more) == pieces
    short = JudgeParams(piece=0.31)  # 12 px under 0.31 of 40: too short for a digit
    assert ink_pieces(roi, (0, 0, 60, 64), typical=40.0, params=short) == pieces


def test_ink_pieces_one_above_the_other_at_their_thresholds():
    from digit_pipeline.reading.judge.cuts import ink_pieces

    tall = np.zeros((64, 30), np.uint8)
    tall[0:24, 5:25] = 255  # 24 px: exactly 0.6 of a 40 px digit
    tall[38:64, 5:25] = 255
    assert ink_pieces(tall, (0, 0, 30, 64), typical=40.0) == [(5, 0, 20, 24), (5, 38, 20, 26)]
    assert (
        ink_pieces(tall, (0, 0, 30, 64), typical=40.0, params=JudgeParams(stacked_piece=0.61))
        is None
    )
    shrunk = ink_pieces(tall, (10, 20, 60, 128), typical=80.0)  # the box twice the ROI
    assert shrunk == [(20, 20, 40, 48), (20, 96, 40, 52)]


def test_grouped_merges_what_overlaps_by_more_than_a_share():
    from digit_pipeline.reading.judge.cuts import _grouped

    pieces = [[20, 30, 0, 5], [0, 10, 2, 8], [8, 22, 1, 4]]
    # [0,10] and [8,22] overlap by 2 px: 0.2 of the shorter (10) — not more than 0.2
    assert _grouped(pieces, 0, 0.2) == [[0, 10, 2, 8], [8, 22, 1, 4], [20, 30, 0, 5]]
    assert _grouped(pieces, 0, 0.19) == [[0, 30, 0, 8]]  # a chain of three, one group
    rows = [[0, 5, 30, 50], [3, 9, 0, 20], [1, 2, 18, 33]]
    assert _grouped(rows, 2, 0.1) == [[0, 9, 0, 50]]
    assert _grouped(rows, 2, 0.5) == [[3, 9, 0, 20], [1, 2, 18, 33], [0, 5, 30, 50]]
    assert _grouped([[0, 4, 0, 4]], 0, 0.25) == [[0, 4, 0, 4]]
    assert pieces[0] == [20, 30, 0, 5]  # the input is left as it was


def test_descending_bodies_are_found_on_every_line_of_enough_boxes():
    from digit_pipeline.reading.judge.bodies import descending_bodies

    short = [(0, 200, 20, 40), (30, 200, 20, 40)]  # line 0: two boxes, no line to speak of
    line = [(0, 10, 20, 40), (30, 10, 20, 40), (90, 10, 20, 40), (60, 10, 20, 80)]
    found = descending_bodies([*short, *line], [0, 0, 1, 1, 1, 1])
    assert found == {5: (60, 10, 20, 46)}


def _digit_and_tail():
    """A digit (900 px) and its tail (80 px) in one piece of ink, boxed apart: 904 + 76 px."""
    ink = np.zeros((40, 60), np.uint8)
    ink[5:35, 5:35] = 255
    ink[18:22, 35:55] = 255
    return [(0, 0, 36, 40), (36, 0, 24, 40)], [ink[:, :36].copy(), ink[:, 36:].copy()]


def test_borrowed_ink_at_each_share_exactly():
    from digit_pipeline.reading.judge.box_ink import borrowed_ink

    boxes, rois = _digit_and_tail()
    assert borrowed_ink(boxes, rois, (40, 60), 1.0).tolist() == [False, True]
    # the tail holds 76/980 of its piece: a share of exactly own_share is its own
    own = JudgeParams(own_share=76 / 980)
    assert borrowed_ink(boxes, rois, (40, 60), 1.0, own).tolist() == [False, False]
    # the digit holds 904/980: a share of exactly held_share does not make it the digit's
    held = JudgeParams(held_share=904 / 980)
    assert borrowed_ink(boxes, rois, (40, 60), 1.0, held).tolist() == [False, False]
    # a dot of its own: 76 of the tail box's 80 px are borrowed, exactly 0.95 of them
    rois[1][2:4, 20:22] = 255
    exactly = JudgeParams(borrowed_share=0.95)
    assert borrowed_ink(boxes, rois, (40, 60), 1.0, exactly).tolist() == [False, True]
    assert borrowed_ink(boxes, rois, (40, 60), 1.0, JudgeParams(borrowed_share=0.96)).tolist() == [
        False,
        False,
    ]


def test_borrowed_ink_lays_boxes_on_a_smaller_page_and_skips_empty_ones():
    from digit_pipeline.reading.judge.box_ink import borrowed_ink

    boxes, rois = _digit_and_tail()
    moved = [(x + 80, y + 20, w, h) for x, y, w, h in boxes]  # original pixels, page at 0.5
    assert borrowed_ink(moved, rois, (50, 100), 0.5).tolist() == [False, True]
    empty = np.zeros((40, 30), np.uint8)  # a box with no ink first: the others still judged
    three = [(150, 0, 30, 40), *moved]
    assert borrowed_ink(three, [empty, *rois], (50, 100), 0.5).tolist() == [False, False, True]
    assert borrowed_ink(moved[:1], rois[:1], (50, 100), 0.5).tolist() == [False]
    assert borrowed_ink([], [], (50, 100), 0.5).tolist() == []
    # a box reaching past the page's edge is laid up to it
    edge = [(0, 0, 36, 40), (36, 0, 30, 40)]
    wide_tail = np.zeros((40, 30), np.uint8)
    wide_tail[18:22, :19] = 255
    assert borrowed_ink(edge, [rois[0], wide_tail], (40, 60), 1.0).tolist() == [False, True]


def test_borrowed_ink_of_three_boxes_sharing_one_piece():
    from digit_pipeline.reading.judge.box_ink import borrowed_ink

    ink = np.zeros((40, 90), np.uint8)
    ink[5:35, 5:35] = 255  # a digit
    ink[18:22, 35:85] = 255  # a long tail, boxed twice
    boxes = [(0, 0, 36, 40), (36, 0, 24, 40), (60, 0, 30, 40)]
    rois = [ink[:, x : x + w].copy() for x, _, w, _ in boxes]
    assert borrowed_ink(boxes, rois, (40, 90), 1.0).tolist() == [False, True, True]


def test_ink_contrast_lays_each_box_on_the_grey_copy():
    from digit_pipeline.reading.judge.box_ink import ink_contrast

    page = np.full((20, 40), 200, np.uint8)
    page[4:16, 8:10] = 40  # a dark 1
    page[4:16, 28:30] = 170  # a faint mark
    rois = [((page[:, x : x + 20] < 190) * 255).astype(np.uint8) for x in (0, 20)]
    boxes = [(0, 0, 20, 20), (20, 0, 20, 20)]
    assert ink_contrast(boxes, rois, page, 1.0).tolist() == [160.0, 30.0]
    big = np.full((60, 100), 200, np.uint8)  # the same, elsewhere on a copy at half size
    big[30:50, 40:80] = page
    moved = [(80 + 2 * x, 60, 40, 40) for x, _, _, _ in boxes]
    assert ink_contrast(moved, rois, big, 0.5).tolist() == [160.0, 30.0]
    none = np.zeros((20, 20), np.uint8)
    full = np.full((20, 20), 255, np.uint8)  # all ink, no paper to compare with
    assert ink_contrast(boxes, [none, full], page, 1.0).tolist() == [0.0, 0.0]
    assert ink_contrast([], [], page, 1.0).tolist() == []
