"""A real crash: a process saving batches to a Dataset is killed with SIGKILL, 50 times.

The dataset starts with 2,000 samples (so rewriting ``labels.csv`` takes a while). A helper
process imports the package once and forks one writer per kill (so each kill costs a fork,
not an interpreter start). The writer saves batches of random digits (every pixel value
matters; now and then a large batch of up to 120, mostly 1 to 4 so that much of the time
goes to rewriting ``labels.csv``) in a loop and appends ``run batch`` to a progress file
after each save returns. The test kills the writer at a seeded random moment, and
then checks that every batch recorded before the kill is intact — each digit's id, label
and exact pixels — that the dataset opens, and that ``labels.csv`` parses with the
standard ``csv`` module, every row with its PNG.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from digit_pipeline.userdata import Dataset, digit_id
from digit_pipeline.userdata.files import TMP_PREFIX
from digit_pipeline.userdata.labels import FIELDS

KILLS = 50
SEED = 20260313

BATCH = textwrap.dedent(
    """
    import numpy as np

    def batch(seed, run, k):
        rng = np.random.default_rng([seed, run, k])
        n = int(rng.integers(1, 121) if rng.random() < 0.3 else rng.integers(1, 5))
        digits = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        return digits, [int(v) for v in rng.integers(0, 10, n)]
    """
)

FORKER = BATCH + textwrap.dedent(
    """
    import os, sys
    from digit_pipeline.userdata import Dataset

    folder, progress, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    for line in sys.stdin:
        run = int(line)
        pid = os.fork()
        if pid == 0:  # the writer: save until killed
            try:
                dataset, k = Dataset(folder), 0
                with open(progress, "a") as done:
                    while True:
                        digits, labels = batch(seed, run, k)
                        dataset.save(digits, labels, source=f"run {run} batch {k}")
                        done.write(f"{run} {k}\\n")
                        done.flush()
                        k += 1
            finally:
                os._exit(3)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(status, flush=True)
    """
)

namespace: dict = {}
exec(BATCH, namespace)
batch = namespace["batch"]


def committed(progress: Path) -> list[tuple[int, int]]:
    """The batches whose save returned before the kill (complete lines only)."""
    if not progress.exists():
        return []
    text = progress.read_text()
    return [tuple(map(int, line.split())) for line in text[: text.rfind("\n") + 1].splitlines()]


def check_intact(
    folder: Path, expected: dict[str, tuple[int, np.ndarray]], verified: dict[str, bytes]
) -> None:
    """Every expected sample is there with its label and pixels; labels.csv parses.

    A PNG is decoded and compared pixel by pixel once; after that its bytes must not change
    (``verified`` keeps them), which is much faster than decoding thousands again.
    """
    with open(folder / "labels.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == FIELDS
        rows = {r["id"]: int(r["label"]) for r in reader}
    images = folder / "images"
    assert all((images / f"{sid}.png").is_file() for sid in rows), "a row without its PNG"
    dataset = Dataset(folder)
    labels = {s.id: s.label for s in dataset.samples()}  # the dataset opens
    assert labels == rows
    missing = [sid for sid in expected if sid not in labels]
    assert not missing, f"{len(missing)} saved samples lost, e.g. {missing[:3]}"
    assert {sid: labels[sid] for sid in expected} == {sid: v[0] for sid, v in expected.items()}
    for sid in verified:
        assert (images / f"{sid}.png").read_bytes() == verified[sid], sid
    new = [sid for sid in expected if sid not in verified]
    if new:
        x, y = dataset.load(new)
        np.testing.assert_array_equal(x, np.stack([expected[sid][1] for sid in new]))
        np.testing.assert_array_equal(y, [expected[sid][0] for sid in new])
        verified.update({sid: (images / f"{sid}.png").read_bytes() for sid in new})


def earlier_samples(folder: Path, n: int) -> dict[str, tuple[int, np.ndarray]]:
    """Write a dataset of ``n`` samples in the documented format, quickly (no fsyncs)."""
    rng = np.random.default_rng(SEED)
    digits, labels = rng.integers(0, 256, (n, 28, 28), np.uint8), rng.integers(0, 10, n)
    (folder / "images").mkdir(parents=True)
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FIELDS)
        for digit, label in zip(digits, labels, strict=True):
            sid = digit_id(digit)
            Image.fromarray(digit).save(folder / "images" / f"{sid}.png")
            writer.writerow((sid, int(label), "earlier", "2026-01-01T00:00:00+00:00"))
    return {digit_id(d): (int(v), d) for d, v in zip(digits, labels, strict=True)}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL (POSIX)")
def test_fifty_sigkills_mid_save_lose_no_saved_sample(tmp_path):
    folder, progress = tmp_path / "data", tmp_path / "progress"
    rng = np.random.default_rng(SEED)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    forker = subprocess.Popen(
        [sys.executable, "-c", FORKER, str(folder), str(progress), str(SEED)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    expected = earlier_samples(folder, 2000)
    verified: dict[str, bytes] = {}
    check_intact(folder, expected, verified)
    seen: set[tuple[int, int]] = set()
    debris = 0
    try:
        assert forker.stdout.readline().strip() == "ready"
        for run in range(KILLS):
            forker.stdin.write(f"{run}\n")
            forker.stdin.flush()
            pid = int(forker.stdout.readline())
            time.sleep(float(rng.uniform(0.02, 0.6)))
            os.kill(pid, signal.SIGKILL)
            status = int(forker.stdout.readline())
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
            for key in committed(progress):
                if key not in seen:
                    seen.add(key)
                    digits, labels = batch(SEED, *key)
                    for digit, label in zip(digits, labels, strict=True):
                        expected[digit_id(digit)] = (label, digit)
            left = [p.name for p in [*folder.iterdir(), *(folder / "images").iterdir()]]
            debris += any(n == ".pending" or n.startswith(TMP_PREFIX) for n in left)
            check_intact(folder, expected, verified)
    finally:
        forker.kill()
        forker.wait()
    print(f"{len(seen)} batches, {len(expected)} digits saved; {debris} kills mid-save")
    assert len(seen) >= 5 and len(expected) > 2100  # the writers got work done
    assert debris >= 10, f"only {debris} of {KILLS} kills landed in the middle of a save"
    # One more save after all that cleans every bit of debris up and keeps everything.
    digits, labels = batch(SEED, KILLS, 0)
    Dataset(folder).save(digits, labels)
    expected.update({digit_id(d): (v, d) for d, v in zip(digits, labels, strict=True)})
    check_intact(folder, expected, verified)
    left = {p.name for p in folder.iterdir()} - {"labels.csv", "images", ".lock"}
    assert not left  # no temporary file, no .pending
    # no orphan PNG: a save cut short before its labels.csv had its rows left only debris
    # listed in .pending, and that is gone now
    assert {p.stem for p in (folder / "images").iterdir()} == {
        s.id for s in Dataset(folder).samples()
    }
