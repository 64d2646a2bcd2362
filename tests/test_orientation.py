"""Which way is up: quarter turns of images and boxes, and the turn a reading keeps."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import line_of_digits, load_truth, sample_sheets

from digit_pipeline.io.images import read_image
from digit_pipeline.reading import read_sheet
from digit_pipeline.reading.judge import DEFAULT_JUDGE
from digit_pipeline.reading.orientation import (
    Verdict,
    choose_turn,
    confirms,
    shown_turn,
    turn_boxes,
    turn_image,
    unturn_boxes,
    verdict,
)


def _mask(shape, boxes):
    mask = np.zeros(shape, bool)
    for x, y, w, h in boxes:
        mask[y : y + h, x : x + w] = True
    return mask


@pytest.mark.parametrize("turns", [0, 1, 2, 3, 5, -1])
def test_turned_boxes_cover_the_turned_pixels(turns):
    rng = np.random.default_rng(turns + 10)
    shape = (37, 61)
    boxes = []
    for _ in range(20):
        x, y = int(rng.integers(0, 55)), int(rng.integers(0, 30))
        boxes.append((x, y, int(rng.integers(1, 61 - x)), int(rng.integers(1, 37 - y))))
    for box in boxes:
        turned_mask = turn_image(_mask(shape, [box]), turns)
        [moved] = turn_boxes([box], turns, shape)
        assert np.array_equal(_mask(turned_mask.shape, [moved]), turned_mask), (box, moved)
        assert unturn_boxes([moved], turns, turned_mask.shape) == [box]


def test_turn_image_is_clockwise_and_contiguous():
    image = np.zeros((4, 6), np.uint8)
    image[0, 0] = 255  # top-left
    turned = turn_image(image, 1)
    assert turned.shape == (6, 4) and turned[0, 3] == 255  # a quarter turn: top-right
    assert turned.flags.c_contiguous
    assert turn_image(image, 2)[3, 5] == 255 and turn_image(image, 3)[5, 0] == 255


def test_the_digits_must_say_a_turn_clearly():
    need = DEFAULT_JUDGE.turn_evidence
    assert shown_turn(np.array([-need - 1.0, -1.0, -50.0, -50.0])) == 1
    assert shown_turn(np.array([-need + 0.5, -1.0, -50.0, -50.0])) == 0  # not clear enough
    assert shown_turn(np.array([-1.0, -1.0 - need, -50.0, -50.0])) == 0  # upright likeliest
    assert shown_turn(np.array([-30.0, -20.0, -2.0, -25.0])) == 2


def test_confirms_asks_the_reading_to_be_no_worse_and_a_quarter_turn_to_stand_boxes_up():
    up = Verdict(score=2.0, sure=0.7, standing=0.7, digits=6)
    gain = DEFAULT_JUDGE.turn_gain
    assert confirms(Verdict(2.0 + gain, 0.8, 1.4, 6), up, 1, DEFAULT_JUDGE)
    assert not confirms(Verdict(1.9 + gain, 0.8, 1.4, 6), up, 1, DEFAULT_JUDGE)  # worse
    assert not confirms(Verdict(3.0, 0.9, 0.7, 6), up, 3, DEFAULT_JUDGE)  # boxes still lie
    assert confirms(Verdict(3.0, 0.9, 0.7, 6), up, 2, DEFAULT_JUDGE)  # a half turn keeps them
    # digits that say the turn clearly need no score: upside-down thin 0s, 6s, 8s, 9s read
    # surely can outscore the right way up
    clear = DEFAULT_JUDGE.turn_clear
    assert confirms(Verdict(0.0, 0.8, 1.4, 6), up, 2, DEFAULT_JUDGE, strength=clear)
    assert not confirms(Verdict(0.0, 0.8, 1.4, 6), up, 2, DEFAULT_JUDGE, strength=clear - 1)
    assert not confirms(Verdict(9.0, 0.9, 0.7, 6), up, 1, DEFAULT_JUDGE, strength=clear + 9)


def test_choose_turn_reads_only_the_turn_the_digits_say():
    up = Verdict(score=1.0, sure=0.6, standing=0.7, digits=6)
    asked = []

    def read(turns):
        asked.append(turns)
        return Verdict(3.0, 0.95, 1.4, 6)

    upside_down = np.array([-40.0, -45.0, -3.0, -44.0])  # shown turned twice: turn twice
    choice = choose_turn(up, upside_down, read)
    assert choice.turns == 2 and asked == [2] and set(choice.tried) == {0, 2}
    shown_one = np.array([-40.0, -3.0, -45.0, -44.0])  # shown a quarter turn: turn three
    assert choose_turn(up, shown_one, read).turns == 3 and asked == [2, 3]
    assert choose_turn(up, np.array([-1.0, -30.0, -30.0, -30.0]), read).turns == 0
    assert asked == [2, 3]  # upright: nothing read again
    off = DEFAULT_JUDGE.replace(off={"turn"})
    assert choose_turn(up, upside_down, read, off).turns == 0 and asked == [2, 3]
    few = Verdict(score=1.0, sure=0.6, standing=0.7, digits=DEFAULT_JUDGE.turn_digits - 1)
    assert choose_turn(few, upside_down, read).turns == 0
    fairly = np.array([-10.0, -45.0, -3.0, -44.0])  # 7 nats: the reading must bear it out
    worse = choose_turn(Verdict(9.0, 0.99, 1.5, 6), fairly, read)
    assert worse.turns == 0 and set(worse.tried) == {0, 2}
    clearly = choose_turn(Verdict(9.0, 0.99, 1.5, 6), upside_down, read)  # 37 nats
    assert clearly.turns == 2


def test_verdict_measures_boxes_and_margins():
    v = verdict(
        [(0, 0, 10, 30), (0, 0, 10, 10), (0, 0, 20, 10)],
        np.array([1.0, 0.5, 0.6]),
        1,
        DEFAULT_JUDGE,
    )
    assert v.digits == 3 and v.standing == 1.0 and v.sure == pytest.approx(0.7)
    assert v.score == pytest.approx(2.1 - 3 * DEFAULT_JUDGE.noise_cost - DEFAULT_JUDGE.reject_cost)
    assert verdict([], np.array([]), 0, DEFAULT_JUDGE).digits == 0


@pytest.fixture(scope="module")
def line(mnist):
    _, y_test = mnist
    picks = [int(np.flatnonzero(y_test == d)[0]) for d in (2, 4, 7, 5, 3)]  # no 0, 1, 6, 8, 9
    page, boxes, labels = line_of_digits(mnist, picks, gap=40)
    return page, boxes, "".join(map(str, labels))


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_turned_line_is_read_the_right_way_up(model, line, turns):
    page, boxes, text = line
    upright = read_sheet(page, model=model, orient=True)
    assert upright.text == text and upright.rotation == 0
    assert "orient" not in upright.timings_ms  # read surely: no turn tried, nothing spent
    turned = turn_image(page, turns)
    plain = read_sheet(turned, model=model)
    assert plain.text != text  # as it is, the turned line does not read right
    reading = read_sheet(turned, model=model, orient=True)
    assert reading.rotation == (4 - turns) % 4 * 90 and reading.text == text
    assert "orient" in reading.timings_ms
    # the boxes come back in the given (turned) image's pixels: the truth's, turned
    found = np.array([d.box for d in reading.in_image().digits])
    want = np.array(turn_boxes(boxes, turns, page.shape))
    assert len(found) == len(want)
    for box in want:  # each true box has a found box within a few pixels on every side
        assert np.abs(found - box).max(axis=1).min() <= 4, (box, found)
    off = read_sheet(turned, model=model, orient=True, judge=DEFAULT_JUDGE.replace(off={"turn"}))
    assert off.rotation == 0 and off.text == plain.text


@pytest.mark.parametrize("path", sample_sheets(), ids=lambda p: p.stem)
def test_the_samples_are_not_turned(model, path):
    image = read_image(path)
    plain = read_sheet(image, model=model, auto=True)
    oriented = read_sheet(image, model=model, auto=True, orient=True)
    assert oriented.rotation == 0 and oriented.text == plain.text
    assert oriented.text == load_truth(path)["text"] or oriented.text == plain.text
