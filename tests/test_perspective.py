"""The page in a photo: found, warped flat, read; and the same in ``read`` and the app."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import ROOT, SAMPLES, load_truth, on_desk

from digit_pipeline import PipelineParams
from digit_pipeline.io.images import encode_png, read_image
from digit_pipeline.reading import read_sheet
from digit_pipeline.stages import (
    flatten_page,
    flattened_size,
    order_corners,
    page_corners,
)
from digit_pipeline.validation import check_corners

CARD = SAMPLES / "pencil_three_lines.jpg"


@pytest.fixture(scope="module")
def desk_photo():
    card = read_image(CARD)
    photo, corners = on_desk(card)
    return card, photo, corners


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_corners_in_any_order_come_out_clockwise_from_the_top_left(order):
    corners = np.array([[12, 20], [300, 5], [320, 210], [3, 190]], np.float32)
    assert order_corners(corners[list(order)]).tolist() == corners.tolist()


@pytest.mark.parametrize(
    ("corners", "message"),
    [
        ([[0, 0], [1, 1]], "4 finite"),
        ([[0, 0], [9, 0], [9, np.nan], [0, 9]], "4 finite"),
        ([[0, 0], [5, 5], [9, 9], [2, 2]], "enclose an area"),
        ("four corners", "4 (x, y) points"),
    ],
)
def test_bad_corners_are_refused_with_a_message(corners, message):
    with pytest.raises(ValueError, match="corners must") as caught:
        check_corners(corners)
    assert message in str(caught.value)


def test_the_page_is_found_where_the_card_lies(desk_photo):
    card, photo, truth = desk_photo
    found = page_corners(photo)
    assert found is not None
    side = max(photo.shape[:2])
    assert np.abs(found - truth).max() < 0.03 * side  # within 3 % of the photo
    width, height = flattened_size(found)
    assert abs(width - card.shape[1]) < 0.06 * card.shape[1]
    assert abs(height - card.shape[0]) < 0.06 * card.shape[0]


def test_a_scan_or_a_crop_has_no_page_to_flatten(desk_photo):
    card, _, _ = desk_photo
    assert page_corners(card) is None
    assert read_sheet(card).page is None


def test_flattening_undoes_the_photo(desk_photo):
    card, photo, truth = desk_photo
    flat = flatten_page(photo, truth)
    # Each side is the longer of the two it was drawn from: the slanted sides are a
    # little longer than the card's, so the page comes out a little taller.
    assert abs(flat.shape[1] - card.shape[1]) <= 2
    assert 0 <= flat.shape[0] - card.shape[0] < 0.03 * card.shape[0]
    back = cv2.resize(flat, card.shape[1::-1], interpolation=cv2.INTER_AREA).astype(np.int16)
    inner = (slice(40, -40), slice(40, -40))  # the warp blurs the border a little
    diff = np.abs(back[inner] - card[inner])
    assert np.median(diff) < 8 and np.percentile(diff, 99) < 80


def test_a_photographed_sheet_reads_as_the_sheet_does(desk_photo, model):
    _, photo, _ = desk_photo
    text = load_truth(CARD)["text"]
    reading = read_sheet(photo, model=model, auto=True)
    assert reading.page is not None and reading.image is not None
    assert reading.text == text
    height, width = reading.image.shape[:2]
    for digit in reading.sheet.digits:  # the boxes are the flattened page's
        x, y, w, h = digit.box
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
    # Carried back onto the photo, each box holds the same ink as on the page.
    for on_page, on_photo in zip(reading.sheet.digits, reading.in_image().digits, strict=True):
        x, y, w, h = on_page.box
        px, py, pw, ph = on_photo.box
        page_ink = (reading.image[y : y + h, x : x + w] < 128).sum()
        photo_ink = (photo[py : py + ph, px : px + pw] < 128).sum()
        assert 0.8 * page_ink < photo_ink < 1.6 * page_ink
    unflattened = read_sheet(photo, PipelineParams(flatten_page=False), model=model)
    assert unflattened.page is None and unflattened.image is photo


def test_corners_given_by_hand_are_the_page_read(desk_photo):
    _, photo, truth = desk_photo
    shuffled = truth[[2, 0, 3, 1]]
    reading = read_sheet(photo, page=shuffled)
    assert np.allclose(reading.page, truth)
    assert reading.image.shape[:2] == flattened_size(truth)[::-1]
    with pytest.raises(ValueError, match="page must be"):
        read_sheet(photo, page="find")


def test_read_json_gives_the_page_and_boxes_on_it(desk_photo, tmp_path):
    _, photo, _ = desk_photo
    path = tmp_path / "desk.png"
    path.write_bytes(encode_png(photo))
    done = subprocess.run(
        [sys.executable, "-m", "digit_pipeline", "read", str(path), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    page = record["page"]
    assert len(page["corners"]) == 4 and page["width"] < record["width"]
    assert record["text"] == load_truth(CARD)["text"]
    outline = np.array(page["corners"], np.float32)
    for digit in record["digits"]:  # the photo's pixels: on the card where it lies
        x, y, w, h = digit["box"]
        assert x + w <= record["width"] and y + h <= record["height"]
        assert cv2.pointPolygonTest(outline, (x + w / 2, y + h / 2), False) > 0
    done = subprocess.run(
        [sys.executable, "-m", "digit_pipeline", "read", str(path), "--json", "--no-flatten-page"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert json.loads(done.stdout)["page"] is None
