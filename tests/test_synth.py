"""Tests for the sheet synthesis (digit_pipeline.benchmarking): determinism, truth, ink."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from digit_pipeline.benchmarking.camera import jpeg_roundtrip
from digit_pipeline.benchmarking.glyphs import digit_alpha
from digit_pipeline.benchmarking.sheets import make_sheet
from digit_pipeline.benchmarking.styles import SheetStyle

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_small.npz"

SMALL = {"digit_height": (28, 36), "noise_sigma": 2.0, "blur_sigma": 0.7}
STYLES = [
    SheetStyle(**SMALL),
    SheetStyle(**SMALL, ink="pencil", ruling="ruled", line_spacing=1.4, lighting=0.35),
    SheetStyle(**SMALL, ruling="squared", line_spacing=1.3, stroke_px=2, jpeg_quality=70),
    SheetStyle(**SMALL, ink="pencil", ink_opacity=0.7, stroke_px=-1, shadow=True, lighting=0.4),
    SheetStyle(**SMALL, rotation_deg=4.0, jpeg_quality=None),
]
STYLE_IDS = ["pen-plain", "pencil-ruled", "pen-squared-thick", "pencil-faint-shadow", "rotated"]
LINES = [3, 4, 2]


@pytest.fixture(scope="module")
def mnist() -> tuple[np.ndarray, np.ndarray]:
    """First 200 MNIST test digits and labels from the committed fixture."""
    with np.load(FIXTURE) as data:
        return data["x_test"], data["y_test"]


def _sheet(mnist, style, seed=0, lines=LINES, size=None):
    x, y = mnist
    idx = np.arange(10, 10 + sum(lines))
    return make_sheet(
        x[idx], [int(v) for v in y[idx]], lines, size, style, seed, source_indices=idx.tolist()
    )


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.int16)


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_same_seed_same_sheet(mnist, style):
    image_a, truth_a = _sheet(mnist, style, seed=5)
    image_b, truth_b = _sheet(mnist, style, seed=np.random.default_rng(5))
    image_c, _ = _sheet(mnist, style, seed=6)
    assert np.array_equal(image_a, image_b)
    assert truth_a == truth_b
    assert not np.array_equal(image_a, image_c)


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_truth_matches_inputs(mnist, style):
    _, y = mnist
    image, truth = _sheet(mnist, style)
    assert image.dtype == np.uint8
    assert image.shape == (truth["height"], truth["width"], 3)
    lines = truth["text"].split("\n")
    assert [len(line) for line in lines] == LINES
    assert len(truth["digits"]) == sum(LINES)
    assert "".join(lines) == "".join(str(int(v)) for v in y[10 : 10 + sum(LINES)])
    assert [d["line"] for d in truth["digits"]] == [
        k for k, n in enumerate(LINES) for _ in range(n)
    ]
    assert [d["label"] for d in truth["digits"]] == [int(c) for c in "".join(lines)]
    assert [d["source_index"] for d in truth["digits"]] == list(range(10, 10 + sum(LINES)))


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_boxes_inside_image_and_disjoint(mnist, style):
    _, truth = _sheet(mnist, style)
    boxes = [d["box"] for d in truth["digits"]]
    for x, y, w, h in boxes:
        assert w > 0 and h > 0
        assert 0 <= x and x + w <= truth["width"]
        assert 0 <= y and y + h <= truth["height"]
    for i, (ax, ay, aw, ah) in enumerate(boxes):
        for bx, by, bw, bh in boxes[i + 1 :]:
            overlap = ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
            assert not overlap, f"boxes {(ax, ay, aw, ah)} and {(bx, by, bw, bh)} overlap"


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_reading_order(mnist, style):
    _, truth = _sheet(mnist, style)
    digits = truth["digits"]
    for a, b in itertools.pairwise(digits):
        if a["line"] == b["line"]:
            assert a["box"][0] + a["box"][2] <= b["box"][0]
        else:
            assert a["box"][1] < b["box"][1] + b["box"][3]  # next line is lower


@pytest.mark.parametrize("style", STYLES, ids=STYLE_IDS)
def test_ink_inside_each_box(mnist, style):
    image, truth = _sheet(mnist, style)
    gray = _gray(image)
    paper_median = float(np.median(gray))
    for d in truth["digits"]:
        x, y, w, h = d["box"]
        inside = gray[y : y + h, x : x + w]
        # Local paper: a frame around the box, a third of its size wide.
        m = max(w, h) // 3
        frame = gray[max(0, y - m) : y + h + m, max(0, x - m) : x + w + m]
        local_paper = float(np.median(frame))
        darkest = float(np.percentile(inside, 5))
        assert darkest < local_paper - 25, d
        assert darkest < paper_median, d


@pytest.mark.parametrize(
    "style",
    [SheetStyle(**SMALL, lighting=0.0, paper_mottle=0.0), STYLES[1], STYLES[4]],
    ids=["plain", "ruled", "rotated"],
)
def test_no_ink_outside_boxes(mnist, style):
    style = dataclasses.replace(style, lighting=0.0, paper_mottle=0.0, shadow=0.0)
    image, truth = _sheet(mnist, style)
    gray = _gray(image)
    dark = gray < float(np.median(gray)) - 60
    for d in truth["digits"]:
        x, y, w, h = d["box"]
        dark[max(0, y - 2) : y + h + 2, max(0, x - 2) : x + w + 2] = False
    assert dark.sum() <= 3


@pytest.mark.parametrize("degrees", [-3.0, 2.5], ids=["cw", "ccw"])
def test_rotated_boxes_follow_the_ink(mnist, degrees):
    flat = dataclasses.replace(STYLES[0], jpeg_quality=None)
    size = (360, 220)
    _, truth_flat = _sheet(mnist, flat, seed=3, size=size)
    image, truth = _sheet(mnist, dataclasses.replace(flat, rotation_deg=degrees), seed=3, size=size)
    m = cv2.getRotationMatrix2D(((size[0] - 1) / 2, (size[1] - 1) / 2), degrees, 1.0)
    gray = _gray(image)
    paper = float(np.median(gray))
    for before, after in zip(truth_flat["digits"], truth["digits"], strict=True):
        x, y, w, h = before["box"]
        corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]]) @ m.T
        rx, ry, rw, rh = after["box"]
        # The rotated tight box lies within the rotated flat box (1 px of resampling slack).
        assert corners[:, 0].min() - 1.5 <= rx and rx + rw <= corners[:, 0].max() + 1.5
        assert corners[:, 1].min() - 1.5 <= ry and ry + rh <= corners[:, 1].max() + 1.5
        # ... and holds the digit's ink.
        assert float(np.percentile(gray[ry : ry + rh, rx : rx + rw], 5)) < paper - 40


def test_auto_size_fits_content(mnist):
    image, truth = _sheet(mnist, SheetStyle(**SMALL, rotation_deg=-5.0))
    assert image.shape[:2] == (truth["height"], truth["width"])
    assert truth["width"] < 400 and truth["height"] < 300


def test_inputs_are_not_modified(mnist):
    x, y = mnist
    digits = x[:3].copy()
    make_sheet(digits, [int(v) for v in y[:3]], [3], style=STYLES[3], rng=1)
    assert np.array_equal(digits, x[:3])


def test_jpeg_quality_matches_roundtrip(mnist):
    style = dataclasses.replace(STYLES[0], jpeg_quality=80)
    jpeg_image, _ = _sheet(mnist, style, seed=9)
    raw_image, _ = _sheet(mnist, dataclasses.replace(style, jpeg_quality=None), seed=9)
    assert np.array_equal(jpeg_image, jpeg_roundtrip(raw_image, 80))


@pytest.mark.parametrize(
    ("stroke_px", "more_ink"),
    [(3, True), (-3, False)],
    ids=["thicken", "thin"],
)
def test_stroke_change(mnist, stroke_px, more_ink):
    x, _ = mnist
    base = float((digit_alpha(x[0], 120) > 0.5).sum())
    changed = float((digit_alpha(x[0], 120, stroke_px) > 0.5).sum())
    assert (changed > base) is more_ink


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lines": [2, 2]}, "lines must add up"),
        ({"lines": [0, 9]}, "positive counts"),
        ({"size": (120, 60)}, "too small"),
    ],
    ids=["count-mismatch", "empty-line", "too-small"],
)
def test_bad_inputs_raise(mnist, kwargs, match):
    x, y = mnist
    args = {"lines": [9], "size": None, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_sheet(x[:9], [int(v) for v in y[:9]], args["lines"], args["size"], STYLES[0], 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ink": "crayon"}, "ink must be"),
        ({"digit_height": (40, 20)}, "digit_height"),
        ({"ruling": "ruled", "line_spacing": 1.1}, "line_spacing"),
        ({"jpeg_quality": 100}, "jpeg_quality"),
    ],
    ids=["ink", "height-range", "ruled-spacing", "jpeg"],
)
def test_bad_style_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SheetStyle(**kwargs)


def test_style_round_trips_through_dict():
    style = SheetStyle(ink="pencil", shadow=True, ruling="squared", line_spacing=1.3)
    assert style.shadow == 0.35
    assert SheetStyle.from_dict(style.to_dict()) == style


@pytest.mark.parametrize("height", [12, 30, 150], ids=["down", "up-small", "up-large"])
def test_paper_untouched_outside_boxes(mnist, height):
    x, y = mnist
    style = SheetStyle(
        digit_height=(height, height),
        lighting=0.0,
        paper_mottle=0.0,
        blur_sigma=0.0,
        noise_sigma=0.0,
        jpeg_quality=None,
    )
    image, truth = make_sheet(x[:4], [int(v) for v in y[:4]], [2, 2], style=style, rng=2)
    outside = np.ones(image.shape[:2], bool)
    for d in truth["digits"]:
        bx, by, bw, bh = d["box"]
        outside[max(0, by - 2) : by + bh + 2, max(0, bx - 2) : bx + bw + 2] = False
    # Only faint anti-aliased ink (alpha < 0.25) may touch the paper just outside a box.
    paper = np.asarray(style.paper_rgb, np.int16)
    diff = np.abs(image[outside].astype(np.int16) - paper).max(axis=1)
    assert (diff > 0).mean() < 0.002
    assert diff.max() <= 0.25 * 255


@pytest.mark.parametrize("ruling", ["ruled", "squared"], ids=["ruled", "squared"])
def test_digits_sit_between_rules(mnist, ruling):
    style = SheetStyle(
        digit_height=(30, 40),
        ruling=ruling,
        line_spacing=1.3,
        lighting=0.0,
        paper_mottle=0.0,
        blur_sigma=0.0,
        noise_sigma=0.0,
        jpeg_quality=None,
    )
    image, truth = _sheet(mnist, style, seed=4)
    rgb = image.astype(np.int16)
    # Rule rows are light blue across the sheet: blue above red in most of the row.
    rule_rows = np.flatnonzero(np.median(rgb[:, :, 2] - rgb[:, :, 0], axis=1) > 0)
    assert rule_rows.size > 0
    for d in truth["digits"]:
        _, y, _, h = d["box"]
        body = (rule_rows > y + 0.1 * h) & (rule_rows < y + 0.9 * h)
        assert not body.any(), f"a rule crosses digit {d} at rows {rule_rows[body]}"
        below = rule_rows[rule_rows >= y + 0.9 * h]
        assert below.size and below[0] - (y + h) <= 0.15 * h, d  # sits on the next rule
