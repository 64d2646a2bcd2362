"""Downloads of a reading: CSV, JSON, ZIP of ROIs, annotated PNG."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from digit_pipeline.io.exports import (
    CSV_COLUMNS,
    annotated_png,
    reading_csv,
    reading_json,
    rois_zip,
)
from digit_pipeline.reading import DigitReading, SheetReading

BOX_COLOR = (255, 0, 80)  # draw_boxes' default colour


def make_reading() -> SheetReading:
    """Two lines, ``"46"`` over ``"2"``, with known boxes and probabilities."""
    return SheetReading(
        (
            DigitReading((10, 12, 20, 30), 4, 0.91234567, ((4, 0.91234567), (9, 0.05)), 0),
            DigitReading((40, 11, 18, 31), 6, 0.7, ((6, 0.7), (5, 0.2)), 0),
            DigitReading((12, 60, 22, 28), 2, 0.5, ((2, 0.5), (7, 0.4999)), 1),
        ),
        {"segment": 1.0, "predict": 2.0},
    )


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_csv_matches_the_reading():
    reading = make_reading()
    data = reading_csv(reading, "sheet one.jpg")
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    assert tuple(next(reader)) == CSV_COLUMNS
    rows = parse_csv(data)
    assert len(rows) == len(reading.digits)
    for i, (row, d) in enumerate(zip(rows, reading.digits, strict=True)):
        assert row["image"] == "sheet one.jpg"
        assert int(row["index"]) == i + 1 and int(row["line"]) == d.line + 1  # as the table
        assert int(row["label"]) == d.label
        assert float(row["confidence"]) == pytest.approx(d.confidence, abs=1e-6)
        assert int(row["second"]) == d.top2[1][0]
        assert float(row["second_confidence"]) == pytest.approx(d.top2[1][1], abs=1e-6)
        assert tuple(int(row[k]) for k in "xywh") == d.box
        assert "corrected" not in row


def test_csv_with_corrections():
    rows = parse_csv(reading_csv(make_reading(), "s.png", corrected=[4, 8, 2]))
    assert [int(r["corrected"]) for r in rows] == [4, 8, 2]
    assert [int(r["label"]) for r in rows] == [4, 6, 2]


def test_json_matches_the_cli_schema():
    reading = make_reading()
    record = json.loads(reading_json(reading, "sheet.jpg"))
    assert set(record) == {"image", "text", "digits"}
    assert record["image"] == "sheet.jpg"
    assert record["text"] == "46\n2" == reading.text
    assert record["digits"] == [d.to_dict() for d in reading.digits]
    for d, out in zip(reading.digits, record["digits"], strict=True):
        assert set(out) == {"box", "label", "confidence", "top2", "line", "number", "pair"}
        assert out["pair"] is False  # read alone, not from a pair
        assert out["box"] == list(d.box) and out["label"] == d.label and out["line"] == d.line
        assert [tuple(p) for p in out["top2"]] == [(k, pytest.approx(p)) for k, p in d.top2]


def test_json_with_corrections():
    record = json.loads(reading_json(make_reading(), "sheet.jpg", corrected=[4, 8, 3]))
    assert [d["corrected"] for d in record["digits"]] == [4, 8, 3]
    assert [d["label"] for d in record["digits"]] == [4, 6, 2]
    assert record["text"] == "46\n2" and record["corrected_text"] == "48\n3"


def test_empty_reading_exports():
    empty = SheetReading(())
    assert parse_csv(reading_csv(empty, "blank.png")) == []
    assert json.loads(reading_json(empty, "blank.png")) == {
        "image": "blank.png",
        "text": "",
        "digits": [],
    }


@pytest.mark.parametrize(
    ("corrected", "match"),
    [([4, 8], "corrected must have one entry per digit"), ([4, 8, 12], r"corrected\[2\]")],
    ids=["length", "range"],
)
def test_bad_corrections_name_the_parameter(corrected, match):
    with pytest.raises(ValueError, match=match):
        reading_csv(make_reading(), "s.png", corrected=corrected)
    with pytest.raises(ValueError, match=match):
        reading_json(make_reading(), "s.png", corrected=corrected)


def test_zip_holds_exactly_the_digits_and_labels():
    digits = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    labels = [3, 1, 4, 1]
    data = rois_zip(digits, labels)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == ["001_3.png", "002_1.png", "003_4.png", "004_1.png", "labels.csv"]
        for i, name in enumerate(names[:-1]):
            decoded = np.asarray(Image.open(io.BytesIO(archive.read(name))))
            assert decoded.dtype == np.uint8
            np.testing.assert_array_equal(decoded, digits[i])
        rows = parse_csv(archive.read("labels.csv"))
    assert rows == [
        {"file": name, "index": str(i), "label": str(label)}
        for i, (name, label) in enumerate(zip(names[:-1], labels, strict=True), 1)
    ]
    assert rois_zip(digits, labels) == data  # deterministic bytes


def test_zip_without_labels():
    with zipfile.ZipFile(io.BytesIO(rois_zip(np.zeros((2, 28, 28), np.uint8)))) as archive:
        assert archive.namelist() == ["001.png", "002.png", "labels.csv"]
        assert [r["label"] for r in parse_csv(archive.read("labels.csv"))] == ["", ""]


@pytest.mark.parametrize(
    ("digits", "labels", "match"),
    [
        (np.zeros((2, 28, 28), np.float64), None, "digits must be uint8"),
        (np.zeros((2, 28, 28), np.uint8), [1], "labels must have one entry per digit"),
        (np.zeros((1, 28, 28), np.uint8), [11], r"labels\[0\]"),
    ],
    ids=["dtype", "length", "range"],
)
def test_zip_checks_its_input(digits, labels, match):
    with pytest.raises(ValueError, match=match):
        rois_zip(digits, labels)


@pytest.mark.parametrize("channels", [None, 3, 4], ids=["gray", "rgb", "rgba"])
def test_annotated_png_has_boxes_on_the_image(channels):
    shape = (90, 120) if channels is None else (90, 120, channels)
    image = np.full(shape, 200, np.uint8)
    boxes = [(10, 12, 20, 30), (60, 40, 25, 25)]
    png = annotated_png(image, boxes, [4, 6], thickness=1)
    decoded = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert decoded.shape == (90, 120, 3)
    for x, y, w, h in boxes:
        edges = [
            decoded[y, x : x + w],  # top
            decoded[y + h - 1, x : x + w],  # bottom
            decoded[y : y + h, x],  # left
            decoded[y : y + h, x + w - 1],  # right
        ]
        for edge in edges:
            assert (edge == BOX_COLOR).all()
        assert (decoded[y + h // 2, x + w // 2] == 200).all()  # inside stays the image
    assert (decoded[-1, -1] == 200).all()  # far from any box
    assert (image == 200).all()  # input not mutated


def test_annotated_png_label_count_is_checked():
    with pytest.raises(ValueError, match="labels must have one entry per box"):
        annotated_png(np.zeros((20, 20, 3), np.uint8), [(1, 1, 5, 5)], [1, 2])


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil.example/x","click").png',
        *("+1+2.jpg", "-3.png", "@SUM(A1).png", "\tname.png", "\rname.png"),
    ],
    ids=["equals", "plus", "minus", "at", "tab", "cr"],
)
def test_a_file_name_that_is_a_formula_is_escaped_in_the_csv(name):
    """OWASP's CSV-injection advice: such a cell starts with a single quote."""
    rows = parse_csv(reading_csv(make_reading(), name))
    assert len(rows) == 3  # a carriage return does not break a row in two
    assert {row["image"] for row in rows} == {"'" + name.replace("\r", "\n")}
    assert reading_csv(make_reading(), "a=b-c.png").decode().count("'") == 0  # only a start


def test_a_formula_source_is_escaped_in_labels_csv_and_read_back(tmp_path):
    from digit_pipeline.userdata import Dataset

    ds = Dataset(tmp_path)
    digits = np.random.default_rng(0).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    ds.save(digits, [1, 2], source="=cmd|' /C calc'!A0.png")
    with open(tmp_path / "labels.csv", newline="", encoding="utf-8") as f:
        assert {r["source"] for r in csv.DictReader(f)} == {"'=cmd|' /C calc'!A0.png"}
    assert {s.source for s in ds.samples()} == {"=cmd|' /C calc'!A0.png"}
