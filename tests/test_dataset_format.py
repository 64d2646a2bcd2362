"""The dataset's documented details that mutation testing found unguarded: the .pending
journal's name and content, immutable records, the repr, which cells are escaped."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from digit_pipeline.userdata import Dataset, Sample, SaveResult, digit_id
from digit_pipeline.userdata.labels import spreadsheet_safe, spreadsheet_text


def test_an_interrupted_save_leaves_a_dotpending_journal_of_its_new_ids(tmp_path, monkeypatch):
    ds = Dataset(tmp_path)
    old = np.full((1, 28, 28), 7, np.uint8)
    ds.save(old, [7])
    new = np.stack([np.full((28, 28), v, np.uint8) for v in (1, 2)])

    def crash(table):
        raise KeyboardInterrupt  # cut short after the PNGs, before labels.csv

    monkeypatch.setattr(Dataset, "_write_table", lambda self, table: crash(table))
    with pytest.raises(KeyboardInterrupt):
        ds.save(np.concatenate([old, new]), [7, 1, 2])
    journal = tmp_path / ".pending"  # the name the module docstring and README give
    assert journal.read_text("ascii").split() == [digit_id(d) for d in new]
    assert {p.name for p in tmp_path.iterdir()} == {"labels.csv", "images", ".lock", ".pending"}


def test_records_are_immutable_and_the_dataset_shows_its_folder(tmp_path):
    sample = Sample("0123456789abcdef", 3, "sheet", "2026-01-01T00:00:00+00:00")
    result = SaveResult(1, 2, 3)
    for record, field in ((sample, "label"), (result, "added")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, 0)
    assert repr(Dataset(tmp_path)) == f"Dataset({str(tmp_path)!r})"


@pytest.mark.parametrize("start", list("=+-@\t\r"), ids=["eq", "plus", "minus", "at", "tab", "cr"])
def test_only_formula_starts_are_escaped(start):
    escaped = spreadsheet_safe(start + "1+2")
    assert escaped == "'" + (start + "1+2").replace("\r", "\n")
    if start != "\r":  # a carriage return becomes a line feed: not undone
        assert spreadsheet_text(escaped) == start + "1+2"


@pytest.mark.parametrize("text", ["X1", "sheet.png", "'quoted", "1=2", " =x", "", "Xx"])
def test_ordinary_text_is_kept_as_it_is(text):
    assert spreadsheet_safe(text) == text


def test_a_save_without_a_source_stores_an_empty_one(tmp_path):
    ds = Dataset(tmp_path)
    ds.save(np.full((1, 28, 28), 9, np.uint8), [9])
    assert [s.source for s in ds.samples()] == [""]


def digits_of(*values: int) -> np.ndarray:
    return np.stack([np.full((28, 28), v, np.uint8) for v in values])


def test_an_empty_save_changes_nothing_and_a_deep_folder_is_made(tmp_path):
    ds = Dataset(tmp_path / "a" / "b")
    assert ds.save(np.zeros((0, 28, 28), np.uint8), []) == SaveResult(0, 0, 0)
    assert not (tmp_path / "a").exists()
    assert ds.save(digits_of(1), [1]) == SaveResult(1, 0, 0)  # parents made as needed
    with pytest.raises(ValueError, match="source must be a str, got int"):
        ds.save(digits_of(2), [2], source=3)


def test_counts_of_a_relabelling_save_and_pngs_written_only_when_needed(tmp_path):
    ds = Dataset(tmp_path)
    assert ds.save(digits_of(1, 2, 3), [1, 2, 3]) == SaveResult(3, 0, 0)
    png = tmp_path / "images" / f"{digit_id(digits_of(1)[0])}.png"
    stamp = png.stat().st_mtime_ns
    png_2 = tmp_path / "images" / f"{digit_id(digits_of(2)[0])}.png"
    png_2.unlink()  # lost by hand: the next save of that digit writes it again
    assert ds.save(digits_of(1, 2, 3), [4, 5, 3]) == SaveResult(0, 2, 1)
    assert png.stat().st_mtime_ns == stamp  # an existing PNG is never rewritten
    assert png_2.is_file() and [s.label for s in ds.samples()] == [4, 5, 3]


def test_delete_of_a_sample_whose_png_is_gone(tmp_path):
    ds = Dataset(tmp_path)
    ds.save(digits_of(1, 2), [1, 2])
    sid = digit_id(digits_of(1)[0])
    (tmp_path / "images" / f"{sid}.png").unlink()
    assert ds.delete(sid) is True
    assert [s.label for s in ds.samples()] == [2]


def test_a_pending_journal_removes_only_rowless_pngs_and_survives_junk(tmp_path):
    ds = Dataset(tmp_path)
    ds.save(digits_of(1), [1])
    kept = digit_id(digits_of(1)[0])
    orphan = tmp_path / "images" / "0123456789abcdef.png"
    orphan.write_bytes(b"debris")
    journal = f"{kept}\n0123456789abcdef\nfedcba9876543210\n".encode() + b"\xff\xfe junk\n"
    (tmp_path / ".pending").write_bytes(journal)  # one row's id, debris, a gone id, junk
    ds.save(digits_of(2), [2])
    assert not orphan.exists() and not (tmp_path / ".pending").exists()
    assert {s.label for s in ds.samples()} == {1, 2}  # the listed sample with a row stays


def test_load_names_missing_ids_and_an_empty_dataset_is_uint8(tmp_path):
    ds = Dataset(tmp_path)
    x, y = ds.load()
    assert x.shape == (0, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    ds.save(digits_of(1), [1])
    missing = [f"{i:016x}" for i in range(6)]
    with pytest.raises(KeyError, match="ids not in the dataset") as error:
        ds.load(missing)
    assert all(i in str(error.value) for i in missing[:5]) and missing[5] not in str(error.value)


def test_pngs_are_read_as_grey_and_a_wrong_size_is_named(tmp_path):
    from PIL import Image

    ds = Dataset(tmp_path)
    digit = np.random.default_rng(3).integers(0, 256, (28, 28), dtype=np.uint8)
    ds.save(digit[None], [5])
    sid = digit_id(digit)
    png = tmp_path / "images" / f"{sid}.png"
    Image.fromarray(np.dstack([digit] * 3)).save(png)  # re-saved as RGB by some tool
    np.testing.assert_array_equal(ds.image(sid), digit)
    Image.fromarray(digit[:27]).save(png)
    with pytest.raises(ValueError, match=rf"{sid}\.png is \(27, 28\), not 28×28"):
        ds.image(sid)


def test_labels_csv_has_lf_line_ends_and_ids_hash_the_uint8_pixels(tmp_path):
    ds = Dataset(tmp_path)
    ds.save(digits_of(1, 2), [1, 2])
    assert b"\r" not in (tmp_path / "labels.csv").read_bytes()
    digit = digits_of(7)[0]
    assert digit_id(digit.astype(np.int64)) == digit_id(digit)


ID1, ID2 = "0123456789abcdef", "fedcba9876543210"
AGAIN = "; mend that line (or remove it) and try again (nothing was changed)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            f"id,label\n{ID1},1\n{ID2},2,caf\xe9\n".encode("latin-1"),
            "x.csv, line 3: not UTF-8 text; save it again as CSV UTF-8",
        ),
        (
            b",,\n" + f"{ID1},1\n".encode(),
            "x.csv, line 1: no header line naming the columns id and label",
        ),
        (b"id,source\n", "x.csv, line 1: the header has no label column"),
    ],
    ids=["latin-1", "blank-header", "no-label"],
)
def test_refusals_name_the_file_and_the_line_in_one_sentence(data, message):
    from digit_pipeline.userdata import DatasetError
    from digit_pipeline.userdata.labels import parse_labels

    with pytest.raises(DatasetError) as error:
        parse_labels(data, "x.csv")
    assert str(error.value) == message + AGAIN


def test_empty_file_short_rows_blank_lines_and_newlines_in_quotes():
    from digit_pipeline.userdata.labels import LabelsTable, parse_labels

    assert parse_labels(b"") == parse_labels(b" \n\n") == LabelsTable({}, [], {})
    data = (
        f"id,label,source,saved_at,note\n{ID1},1\n\n,,,,\n"  # short row, blank lines
        f'{ID2},2,"two\r\nlines",t,n\n'  # a quoted CRLF inside a cell is kept as it is
    ).encode()
    table = parse_labels(data)
    assert [(s.id, s.label, s.source, s.saved_at) for s in table.rows.values()] == [
        (ID1, 1, "", ""),
        (ID2, 2, "two\r\nlines", "t"),
    ]
    assert table.extra_fields == ["note"]
    assert table.extras == {ID1: {"note": ""}, ID2: {"note": "n"}}


def test_labels_ten_and_cr_and_quotes_that_are_not_ours():
    from digit_pipeline.userdata import DatasetError
    from digit_pipeline.userdata.labels import parse_labels

    with pytest.raises(DatasetError, match="line 2: label '10' is not a digit 0-9"):
        parse_labels(f"id,label\n{ID1},10\n".encode())
    assert spreadsheet_safe("a\rb") == "a\nb"  # a CR inside would break the row in two
    assert spreadsheet_text("'quoted") == "'quoted"  # only our own quote is taken off
    table = parse_labels(f"id,label,source,note\n{ID1},1,s\n".encode())  # one cell short
    assert table.extras == {ID1: {"note": ""}}
