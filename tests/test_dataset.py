"""The local dataset: exact round trips, no duplicates, crash safety, concurrent writers."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from filelock import FileLock
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from digit_pipeline.userdata import (
    Dataset,
    DatasetError,
    Sample,
    SaveResult,
    default_dir,
    digit_id,
)
from digit_pipeline.userdata.files import LOCK_NAME, locked
from digit_pipeline.userdata.labels import FIELDS


def random_digits(n: int, seed: int) -> np.ndarray:
    """``n`` distinct 28×28 uint8 images (random pixels: every byte value matters)."""
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def read_csv_rows(folder: Path) -> list[dict[str, str]]:
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == FIELDS
        return list(reader)


def pngs(folder: Path) -> set[str]:
    return {p.stem for p in (folder / "images").glob("*.png")}


def test_save_load_round_trip_is_exact(tmp_path):
    digits, labels = random_digits(12, 0), [i % 10 for i in range(12)]
    ds = Dataset(tmp_path)
    assert ds.save(digits, labels, source="sheet.jpg") == SaveResult(12, 0, 0)
    x, y = ds.load()
    assert x.dtype == np.uint8 and y.dtype == np.uint8
    np.testing.assert_array_equal(x, digits)
    np.testing.assert_array_equal(y, labels)
    # the PNGs on disk are exactly the arrays, readable without this package
    first = np.asarray(Image.open(tmp_path / "images" / f"{digit_id(digits[0])}.png"))
    np.testing.assert_array_equal(first, digits[0])
    np.testing.assert_array_equal(ds.image(digit_id(digits[3])), digits[3])
    some = [digit_id(digits[5]), digit_id(digits[1])]
    x2, y2 = ds.load(some)
    np.testing.assert_array_equal(x2, digits[[5, 1]])
    assert y2.tolist() == [5, 1]


def test_csv_parses_with_the_csv_module(tmp_path):
    ds = Dataset(tmp_path)
    source = 'my "sheet", with commas\nand a newline.jpg'
    ds.save(random_digits(3, 1), [4, 6, 2], source=source)
    rows = read_csv_rows(tmp_path)
    assert [r["label"] for r in rows] == ["4", "6", "2"]
    assert all(r["source"] == source for r in rows)
    assert all(r["id"] + ".png" in os.listdir(tmp_path / "images") for r in rows)
    assert all(r["saved_at"].endswith("+00:00") for r in rows)
    assert ds.samples()[0] == Sample(rows[0]["id"], 4, source, rows[0]["saved_at"])


def test_same_sheet_twice_does_not_duplicate(tmp_path):
    digits = random_digits(9, 2)
    ds = Dataset(tmp_path)
    ds.save(digits, [1] * 9, source="a")
    assert ds.save(digits, [1] * 9, source="a") == SaveResult(0, 0, 9)
    assert len(ds.samples()) == 9 and len(read_csv_rows(tmp_path)) == 9
    assert len(pngs(tmp_path)) == 9


def test_relabel_updates_in_place(tmp_path):
    digits = random_digits(3, 3)
    ds = Dataset(tmp_path)
    ds.save(digits, [1, 2, 3], source="first")
    assert ds.save(digits[1:], [2, 8], source="second") == SaveResult(0, 1, 1)
    samples = ds.samples()
    assert [s.label for s in samples] == [1, 2, 8]  # a relabelled sample keeps its place
    assert [s.source for s in samples] == ["first", "first", "second"]
    assert ds.save(digits[:1], [9], source="third") == SaveResult(0, 1, 0)
    assert [s.label for s in ds.samples()] == [9, 2, 8]
    assert ds.counts() == {0: 0, 1: 0, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 1, 9: 1}


def test_repeated_digit_in_one_batch_is_one_sample(tmp_path):
    digit = random_digits(1, 4)
    result = Dataset(tmp_path).save(np.concatenate([digit, digit]), [3, 5], source="s")
    assert result == SaveResult(added=1, updated=1, unchanged=0)
    assert [s.label for s in Dataset(tmp_path).samples()] == [5]


def test_counts_have_all_ten_digits(tmp_path):
    ds = Dataset(tmp_path)
    assert ds.counts() == dict.fromkeys(range(10), 0)
    ds.save(random_digits(5, 5), [7, 7, 7, 0, 9])
    assert ds.counts() == {**dict.fromkeys(range(10), 0), 7: 3, 0: 1, 9: 1}


def test_delete(tmp_path):
    digits = random_digits(3, 6)
    ds = Dataset(tmp_path)
    ds.save(digits, [1, 2, 3])
    gone = digit_id(digits[1])
    assert ds.delete(gone) is True
    assert ds.delete(gone) is False
    assert [s.label for s in ds.samples()] == [1, 3]
    assert gone not in pngs(tmp_path) and len(read_csv_rows(tmp_path)) == 2
    with pytest.raises(KeyError):
        ds.image(gone)
    # saving it again brings it back as a new sample
    assert ds.save(digits[1:2], [2]) == SaveResult(1, 0, 0)


def test_missing_folder_reads_as_empty(tmp_path):
    ds = Dataset(tmp_path / "not" / "yet")
    assert ds.samples() == []
    x, y = ds.load()
    assert x.shape == (0, 28, 28) and y.shape == (0,)
    assert ds.delete("0123456789abcdef") is False
    assert not ds.root.exists()  # reading created nothing


def test_default_dir_is_read_at_call_time(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_WORKBENCH_DATA", str(tmp_path / "here"))
    assert default_dir() == tmp_path / "here"
    assert Dataset().root == tmp_path / "here"
    monkeypatch.delenv("DIGIT_WORKBENCH_DATA")
    assert default_dir() == Path.home() / ".digit_workbench" / "dataset"


@pytest.mark.parametrize(
    ("digits", "labels", "match"),
    [
        (np.zeros((2, 28, 28), np.float32), [1, 2], "digits must be uint8"),
        (np.zeros((28, 28), np.uint8), [1], r"digits must have shape \(N, 28, 28\)"),
        (np.zeros((2, 20, 20), np.uint8), [1, 2], r"digits must have shape \(N, 28, 28\)"),
        ([[0] * 28] * 28, [1], "digits must be a numpy array"),
        (np.zeros((2, 28, 28), np.uint8), [1], "labels must have one entry per digit"),
        (np.zeros((2, 28, 28), np.uint8), [1, 10], r"labels\[1\] must be >= 0 and <= 9"),
        (np.zeros((1, 28, 28), np.uint8), [-1], r"labels\[0\] must be >= 0"),
        (np.zeros((1, 28, 28), np.uint8), [True], r"labels\[0\] must be an integer"),
        (np.zeros((1, 28, 28), np.uint8), [2.5], r"labels\[0\] must be an integer"),
        (np.zeros((1, 28, 28), np.uint8), "1", "labels must be a sequence"),
    ],
    ids=[
        "float",
        "one-digit",
        "20x20",
        "list",
        "lengths",
        "label-10",
        "label-neg",
        "bool",
        "float-label",
        "str",
    ],
)
def test_invalid_input_names_the_parameter(tmp_path, digits, labels, match):
    with pytest.raises(ValueError, match=match):
        Dataset(tmp_path).save(digits, labels)
    assert not (tmp_path / "labels.csv").exists()


def test_numpy_labels_are_accepted(tmp_path):
    ds = Dataset(tmp_path)
    ds.save(random_digits(3, 7), np.array([3, 1, 4], np.int64))
    assert ds.load()[1].tolist() == [3, 1, 4]


@pytest.mark.parametrize("bad", ["../labels", "ABCDEF0123456789", "abc", 7], ids=repr)
def test_ids_are_checked(tmp_path, bad):
    with pytest.raises(ValueError, match="sample_id must be 16 lowercase hex"):
        Dataset(tmp_path).delete(bad)
    with pytest.raises(ValueError, match="sample_id"):
        Dataset(tmp_path).image(bad)


def test_crash_between_images_and_csv_keeps_earlier_samples(tmp_path, monkeypatch):
    ds = Dataset(tmp_path)
    earlier = random_digits(10, 8)
    ds.save(earlier, list(range(10)), source="earlier")
    csv_before = (tmp_path / "labels.csv").read_bytes()

    real_replace = os.replace

    def crash_on_csv(src, dst, *args, **kwargs):
        if Path(dst).name == "labels.csv":
            raise OSError("simulated crash before labels.csv is replaced")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", crash_on_csv)
    doomed = random_digits(5, 9)
    with pytest.raises(OSError, match="simulated crash"):
        ds.save(doomed, [1] * 5, source="doomed")
    monkeypatch.setattr(os, "replace", real_replace)

    # the PNGs were written, the CSV was not touched: earlier samples are all there
    assert (tmp_path / "labels.csv").read_bytes() == csv_before
    assert len(read_csv_rows(tmp_path)) == 10
    x, y = ds.load()
    np.testing.assert_array_equal(x, earlier)
    assert y.tolist() == list(range(10))
    orphans = {digit_id(d) for d in doomed}
    assert orphans <= pngs(tmp_path)  # present on disk, ignored by samples()/load()
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.rglob("*"))

    # the next save succeeds and removes the orphans it does not adopt
    later = random_digits(2, 10)
    assert ds.save(np.concatenate([later, doomed[:1]]), [4, 4, 1]) == SaveResult(3, 0, 0)
    assert pngs(tmp_path) == {s.id for s in ds.samples()}
    assert len(ds.samples()) == 13
    assert digit_id(doomed[0]) in pngs(tmp_path)
    assert not (orphans - {digit_id(doomed[0])}) & pngs(tmp_path)


def test_crash_while_writing_an_image_keeps_earlier_samples(tmp_path, monkeypatch):
    ds = Dataset(tmp_path)
    ds.save(random_digits(4, 11), [1, 2, 3, 4])
    real_replace, calls = os.replace, []

    def crash_on_third_png(src, dst, *args, **kwargs):
        calls.append(dst)
        if len(calls) == 3:
            raise KeyboardInterrupt  # not even an Exception: the user pressed Ctrl-C
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", crash_on_third_png)
    with pytest.raises(KeyboardInterrupt):
        ds.save(random_digits(5, 12), [5] * 5)
    monkeypatch.setattr(os, "replace", real_replace)
    assert [s.label for s in ds.samples()] == [1, 2, 3, 4]
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.rglob("*"))


def test_stale_temp_files_are_removed_by_the_next_save(tmp_path):
    ds = Dataset(tmp_path)
    ds.save(random_digits(1, 13), [0])
    (tmp_path / ".tmp-abc.csv").write_text("half a csv")
    (tmp_path / "images" / ".tmp-def.png").write_bytes(b"\x89PNG half")
    (tmp_path / "images" / "notes.png").write_bytes(b"not ours")  # not an id: left alone
    ds.save(random_digits(1, 14), [1])
    assert sorted(p.name for p in tmp_path.rglob(".tmp-*")) == []
    assert (tmp_path / "images" / "notes.png").exists()
    assert len(ds.samples()) == 2


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import numpy as np
    from digit_pipeline.userdata import Dataset

    folder, seed, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    rng = np.random.default_rng(seed)
    digits = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 50)
    while not go.exists():
        time.sleep(0.005)
    ds = Dataset(folder)
    for i in range(50):  # one save per digit: the two writers interleave many times
        assert ds.save(digits[i : i + 1], [int(labels[i])], source=f"writer {seed}").added == 1
    """
)


def test_two_writers_at_once_lose_nothing(tmp_path):
    folder, go = tmp_path / "data", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(seed), str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (101, 202)
    ]
    time.sleep(0.2)
    go.touch()
    for proc in writers:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
    rows = read_csv_rows(folder)
    assert len(rows) == 100 and len({r["id"] for r in rows}) == 100
    assert {r["source"] for r in rows} == {"writer 101", "writer 202"}
    expected = {}
    for seed in (101, 202):
        rng = np.random.default_rng(seed)
        digits = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, 50)
        expected.update({digit_id(d): int(label) for d, label in zip(digits, labels, strict=True)})
    ds = Dataset(folder)
    assert {s.id: s.label for s in ds.samples()} == expected
    assert pngs(folder) == set(expected)
    assert ds.load()[0].shape == (100, 28, 28)


def test_two_threads_at_once_lose_nothing(tmp_path):
    """Two Streamlit tabs are two threads of one process: the lock holds there too."""
    batches = [random_digits(40, seed) for seed in (301, 302)]

    def write(digits):
        ds = Dataset(tmp_path)
        for i in range(len(digits)):
            ds.save(digits[i : i + 1], [i % 10], source="tab")

    threads = [threading.Thread(target=write, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = {digit_id(d) for b in batches for d in b}
    assert {s.id for s in Dataset(tmp_path).samples()} == ids
    assert len(read_csv_rows(tmp_path)) == 80


def test_a_save_waits_for_whoever_holds_the_filelock_on_dotlock(tmp_path):
    """The lock is filelock's on ``.lock``: whoever holds it, a save waits for them."""
    ds, done = Dataset(tmp_path), threading.Event()
    saver = threading.Thread(target=lambda: (ds.save(random_digits(1, 7), [7]), done.set()))
    with FileLock(tmp_path / LOCK_NAME):
        saver.start()
        assert not done.wait(0.3)  # still waiting for the lock
        assert not (tmp_path / "labels.csv").exists()
    saver.join(timeout=30)
    assert done.is_set() and len(ds.samples()) == 1
    assert (tmp_path / LOCK_NAME).is_file()  # the lock file stays; nothing else is left
    assert {p.name for p in tmp_path.iterdir()} == {"labels.csv", "images", LOCK_NAME}


def test_a_reader_waits_for_a_writer_too(tmp_path):
    """Readers take the writers' lock (filelock has no shared flock): never a half-done save."""
    order: list[str] = []
    holding = threading.Event()

    def read():
        holding.wait()
        with locked(tmp_path, reading=True):
            order.append("read")

    reader = threading.Thread(target=read)
    reader.start()
    with locked(tmp_path, reading=False):
        holding.set()
        time.sleep(0.2)
        order.append("write")
    reader.join(timeout=30)
    assert order == ["write", "read"]


def test_a_reader_goes_on_where_no_lock_file_can_be_opened(tmp_path, monkeypatch):
    """A read-only folder (simulated: root may write anywhere) is read without the lock."""
    Dataset(tmp_path).save(random_digits(2, 8), [1, 2])

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", self.lock_file)

    monkeypatch.setattr(FileLock, "acquire", refuse)
    assert len(Dataset(tmp_path).samples()) == 2
    with pytest.raises(PermissionError):
        Dataset(tmp_path).save(random_digits(1, 9), [3])


POOL = random_digits(6, 99)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("save"), st.lists(st.integers(0, 5), max_size=4), st.integers(0, 9)),
        st.tuples(st.just("delete"), st.integers(0, 5)),
    ),
    max_size=8,
)


@settings(max_examples=30, deadline=None)
@given(OPS)
def test_any_saves_and_deletes_stay_consistent(ops):
    with tempfile.TemporaryDirectory() as folder:
        ds, model = Dataset(folder), {}
        for op in ops:
            if op[0] == "save":
                _, picks, label = op
                ds.save(POOL[picks], [label] * len(picks), source="prop")
                model.update({digit_id(POOL[i]): label for i in picks})
            else:
                sid = digit_id(POOL[op[1]])
                assert ds.delete(sid) is (model.pop(sid, None) is not None)
            samples = ds.samples()
            assert {s.id: s.label for s in samples} == model
            counts = ds.counts()
            assert sorted(counts) == list(range(10)) and sum(counts.values()) == len(samples)
            for digit in range(10):
                assert counts[digit] == sum(s.label == digit for s in samples)
            x, y = ds.load()
            assert x.shape == (len(samples), 28, 28) and y.shape == (len(samples),)
            assert y.tolist() == [s.label for s in samples]
            for s, image in zip(samples, x, strict=True):
                assert digit_id(image) == s.id
            if Path(folder, "images").exists():
                assert pngs(Path(folder)) == set(model)


# -- labels.csv as people's tools write it back (issue 13) ---------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (but the lock) with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def spreadsheet_resave(folder: Path, *, reorder: bool = False, extra: bool = False) -> None:
    """Rewrite labels.csv as a spreadsheet saves "CSV UTF-8": BOM, CRLF, quotes, padding."""
    rows = read_csv_rows(folder)
    fields = ["label", "saved_at", "id", "source"] if reorder else list(FIELDS)
    if extra:
        fields.append("checked by")
    lines = [",".join(f" {f.upper()} " if reorder else f for f in fields)]
    for k, row in enumerate(rows):
        row = {**row, "checked by": f"ann {k}"}
        lines.append(",".join(f'"{row[f]}"' if f == "source" else f" {row[f]} " for f in fields))
    (folder / "labels.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


def test_a_spreadsheet_resave_keeps_every_sample(tmp_path):
    """The reported loss: 20 samples, labels.csv re-saved by a spreadsheet, one more saved."""
    ds = Dataset(tmp_path)
    first = random_digits(20, 40)
    ds.save(first, [i % 10 for i in range(20)], source="sheet, one.jpg")
    spreadsheet_resave(tmp_path)
    assert (tmp_path / "labels.csv").read_bytes().startswith(b"\xef\xbb\xbfid,label")
    assert len(ds.samples()) == 20
    one_more = random_digits(1, 41)
    assert ds.save(one_more, [3], source="later") == SaveResult(1, 0, 0)
    x, y = ds.load()
    np.testing.assert_array_equal(x, np.concatenate([first, one_more]))
    assert y.tolist() == [i % 10 for i in range(20)] + [3]
    assert pngs(tmp_path) == {digit_id(d) for d in x}
    assert ds.samples()[0].source == "sheet, one.jpg"


def test_reordered_and_extra_columns_are_read_and_kept(tmp_path):
    ds = Dataset(tmp_path)
    ds.save(random_digits(5, 42), [1, 2, 3, 4, 5], source="s")
    spreadsheet_resave(tmp_path, reorder=True, extra=True)
    assert [s.label for s in ds.samples()] == [1, 2, 3, 4, 5]
    ds.save(random_digits(1, 43), [6])
    with open(tmp_path / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [*FIELDS, "CHECKED BY"]  # ours first, the user's kept as written
    assert [r["CHECKED BY"] for r in rows] == [f"ann {k}" for k in range(5)] + [""]
    assert [r["label"] for r in rows] == ["1", "2", "3", "4", "5", "6"]


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("0123456789abcdef,12,s,t", "line 3: label '12' is not a digit 0-9"),
        ("0123456789abcdef,,s,t", "line 3: label '' is not a digit 0-9"),
        ("1.23457E+15,4,s,t", r"line 3: id '1.23457E\+15' is not 16 hex characters"),
        ("../../etc/passwd,4,s,t", "line 3: id '../../etc/passwd'"),
    ],
    ids=["label-out-of-range", "label-empty", "id-as-number", "id-path"],
)
def test_a_line_not_understood_refuses_and_changes_nothing(tmp_path, line, match):
    ds = Dataset(tmp_path)
    ds.save(random_digits(3, 44), [1, 2, 3])
    text = (tmp_path / "labels.csv").read_text()
    head, first, rest = text.split("\n", 2)
    (tmp_path / "labels.csv").write_text(f"{head}\n{first}\n{line}\n{rest}")
    before = snapshot(tmp_path)
    where = re.escape(str(tmp_path / "labels.csv"))
    with pytest.raises(DatasetError, match=f"^{where}, {match}.*nothing was changed"):
        ds.save(random_digits(1, 45), [4])
    with pytest.raises(DatasetError, match=match):
        ds.delete(ds_id := digit_id(random_digits(3, 44)[0]))
    with pytest.raises(DatasetError, match=match):
        ds.samples()
    assert snapshot(tmp_path) == before  # no PNG written, none deleted, the csv untouched
    assert (tmp_path / "images" / f"{ds_id}.png").exists()


def test_a_header_without_label_refuses(tmp_path):
    ds = Dataset(tmp_path)
    ds.save(random_digits(2, 46), [1, 2])
    (tmp_path / "labels.csv").write_text("id;label;source;saved_at\n")  # a ; spreadsheet
    before = snapshot(tmp_path)
    with pytest.raises(DatasetError, match="line 1: the header has no id or label column"):
        ds.save(random_digits(1, 47), [4])
    assert snapshot(tmp_path) == before


def test_pngs_without_a_row_that_we_did_not_leave_are_never_deleted(tmp_path):
    """A lost or half-synced labels.csv leaves PNGs without rows: they stay on disk."""
    ds = Dataset(tmp_path)
    kept = random_digits(6, 48)
    ds.save(kept, [1] * 6)
    (tmp_path / "labels.csv").unlink()  # e.g. a sync client that has not brought it back yet
    ds.save(random_digits(1, 49), [2])
    assert {digit_id(d) for d in kept} < pngs(tmp_path)
    assert len(ds.samples()) == 1


def test_pending_debris_of_an_interrupted_delete_is_removed(tmp_path, monkeypatch):
    ds = Dataset(tmp_path)
    digits = random_digits(3, 50)
    ds.save(digits, [1, 2, 3])
    victim = digit_id(digits[1])
    real_unlink = Path.unlink

    def crash_on_png(self, *args, **kwargs):
        if self.name == f"{victim}.png":
            raise KeyboardInterrupt
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", crash_on_png)
    with pytest.raises(KeyboardInterrupt):
        ds.delete(victim)
    monkeypatch.setattr(Path, "unlink", real_unlink)
    assert victim in pngs(tmp_path) and [s.label for s in ds.samples()] == [1, 3]
    ds.save(random_digits(1, 51), [7])
    assert victim not in pngs(tmp_path)
    assert pngs(tmp_path) == {s.id for s in ds.samples()}
