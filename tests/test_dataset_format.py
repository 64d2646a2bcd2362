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
