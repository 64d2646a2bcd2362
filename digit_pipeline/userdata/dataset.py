"""A local dataset of corrected digits that survives crashes and concurrent writers.

Format
------
A folder (``default_dir()`` unless told otherwise) holding::

    labels.csv          header ``id,label,source,saved_at``, one row per sample
    images/<id>.png     the sample: 28×28 grey PNG, white digit on black, exactly the
                        uint8 array that was saved
    .lock               the folder's lock file (``filelock.FileLock``)

``id`` is the first 16 hex characters of the SHA-256 of the digit's 28×28 uint8 bytes, so
the same digit image is always the same sample: saving it again does not duplicate it, and
saving it with another label updates the label. ``label`` is 0..9, ``source`` free text
(the sheet's name), ``saved_at`` an ISO 8601 UTC time of the last change.

A sample exists when it has a row in ``labels.csv`` and its PNG is present. Every write
goes to a temporary file in the same folder and is moved into place with ``os.replace``
(images first, then ``labels.csv`` rewritten whole), so a crash at any point leaves the
previous ``labels.csv`` intact. Before it writes images, a save lists the ids it is about
to add in ``.pending``; the next save removes those PNGs that never got their row (the
debris of an interrupted save, provably ours) and nothing else: a PNG without a row that
no save of ours left is ignored, never deleted. Every write and every read holds the
lock on ``.lock`` (see :func:`.files.locked`), so two tabs or two processes saving at
once never lose each other's samples. A missing folder reads as an empty dataset.

``labels.csv`` is read the way people's tools write it back: a byte-order mark, CRLF line
ends, quoted fields, surrounding whitespace, columns in any order and extra columns (kept
as they are on the next write), upper-case ids and labels written as ``7.0``. A row that
still cannot be understood is never dropped: reading and writing refuse with a
:class:`DatasetError` naming the file and the line, and nothing on disk changes until the
user mends that line.

Load it elsewhere with nothing but the standard library, numpy and Pillow::

    rows = list(csv.DictReader(open("labels.csv")))
    x = np.stack([np.asarray(Image.open(f"images/{r['id']}.png")) for r in rows])
    y = np.array([int(r["label"]) for r in rows], np.uint8)

Examples
--------
>>> import tempfile
>>> import numpy as np
>>> digits = np.zeros((2, 28, 28), np.uint8)
>>> digits[1, 10:18, 12:16] = 255
>>> with tempfile.TemporaryDirectory() as folder:
...     ds = Dataset(folder)
...     first = ds.save(digits, [0, 1], source="sheet.png")
...     again = ds.save(digits, [0, 7], source="sheet.png")
...     x, y = ds.load()
>>> first, again
(SaveResult(added=2, updated=0, unchanged=0), SaveResult(added=0, updated=1, unchanged=1))
>>> x.shape, y.tolist(), bool((x == digits).all())
((2, 28, 28), [0, 7], True)
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from ..aliases import DigitBatch, GrayImage
from ..io.images import encode_png
from ..model.contract import MNIST_SIZE
from ..validation import SAMPLE_ID, check_digits, check_id, check_labels
from .files import atomic_write, locked, remove_temp_files
from .labels import (
    CSV_NAME,
    FIELDS,
    LabelsTable,
    Sample,
    parse_labels,
    spreadsheet_safe,
)

IMAGES_DIR = "images"
"""The folder of PNGs inside a dataset folder."""

PENDING_NAME = ".pending"
"""Ids an unfinished write may have left as PNGs without a row (see the module docstring)."""

_ID = SAMPLE_ID


def default_dir() -> Path:
    """Return the dataset folder: ``$DIGIT_WORKBENCH_DATA`` or ``~/.digit_workbench/dataset``.

    Read at each call, so the environment can change while the app runs.

    Examples
    --------
    >>> import os
    >>> saved = os.environ.pop("DIGIT_WORKBENCH_DATA", None)
    >>> default_dir().parts[-2:]
    ('.digit_workbench', 'dataset')
    >>> os.environ["DIGIT_WORKBENCH_DATA"] = "/tmp/my_digits"
    >>> default_dir().as_posix()
    '/tmp/my_digits'
    >>> if saved is None:
    ...     del os.environ["DIGIT_WORKBENCH_DATA"]
    ... else:
    ...     os.environ["DIGIT_WORKBENCH_DATA"] = saved
    """
    env = os.environ.get("DIGIT_WORKBENCH_DATA")
    return Path(env).expanduser() if env else Path.home() / ".digit_workbench" / "dataset"


def digit_id(digit: GrayImage) -> str:
    """Return a digit's sample id: the first 16 hex characters of SHA-256 of its bytes.

    Parameters
    ----------
    digit : ndarray of shape (28, 28), uint8

    Returns
    -------
    str

    Examples
    --------
    >>> import numpy as np
    >>> digit_id(np.zeros((28, 28), np.uint8))
    '0c37ddc45244523c'
    """
    return hashlib.sha256(np.ascontiguousarray(digit, np.uint8).tobytes()).hexdigest()[:16]


@dataclass(frozen=True)
class SaveResult:
    """What one :meth:`Dataset.save` did, digit by digit."""

    added: int
    updated: int
    unchanged: int


class Dataset:
    """A dataset folder in the format of this module (see its docstring).

    Parameters
    ----------
    root : str or Path, optional
        The folder; default :func:`default_dir`. Created on the first save.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_dir()

    def __repr__(self) -> str:
        """Show the folder."""
        return f"Dataset({str(self.root)!r})"

    @property
    def csv_path(self) -> Path:
        """The ``labels.csv`` file."""
        return self.root / CSV_NAME

    @property
    def images_dir(self) -> Path:
        """The folder of PNGs."""
        return self.root / IMAGES_DIR

    # -- writing -------------------------------------------------------------------------

    def save(self, digits: DigitBatch, labels: Sequence[int], source: str = "") -> SaveResult:
        """Add digits with their labels; a digit already saved gets its label updated.

        Parameters
        ----------
        digits : ndarray of shape (N, 28, 28), uint8
            White ink on black, as :func:`digit_pipeline.stages.resize_rois` makes them.
        labels : sequence of int
            One per digit, 0..9 (the model's or the user's correction).
        source : str
            Free text stored with new and updated samples, e.g. the sheet's name.

        Returns
        -------
        SaveResult
            How many digits were added, relabelled, or already saved with that label.

        Raises
        ------
        ValueError
            Naming the parameter: wrong shape or dtype, a label outside 0..9, or not one
            label per digit.
        """
        digits = check_digits(digits)
        labels = check_labels(labels, len(digits))
        if not isinstance(source, str):
            raise ValueError(f"source must be a str, got {type(source).__name__}")
        if len(digits) == 0:
            return SaveResult(0, 0, 0)
        self.root.mkdir(parents=True, exist_ok=True)
        with locked(self.root, reading=False):
            table = self._read_table()  # refuses before anything is written
            rows = table.rows
            self.images_dir.mkdir(exist_ok=True)
            remove_temp_files(self.root, self.images_dir)
            self._clear_pending(rows)
            ids = [digit_id(d) for d in digits]
            self._write_pending(i for i in ids if i not in rows)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            added = updated = unchanged = 0
            for sid, digit, label in zip(ids, digits, labels, strict=True):
                old = rows.get(sid)
                png = self._png(sid)
                if old is None or not png.is_file():
                    atomic_write(png, encode_png(digit))
                if old is None:
                    added += 1
                elif old.label != label:
                    updated += 1
                else:
                    unchanged += 1
                    continue
                rows[sid] = Sample(sid, label, source, now)
            if added or updated:
                self._write_table(table)
            self._pending_path.unlink(missing_ok=True)
        return SaveResult(added, updated, unchanged)

    def delete(self, sample_id: str) -> bool:
        """Remove a sample; return whether it was there.

        Parameters
        ----------
        sample_id : str
            A sample's id (16 lowercase hex characters).

        Returns
        -------
        bool

        Raises
        ------
        ValueError
            If ``sample_id`` is not an id.
        """
        sample_id = check_id(sample_id)
        if not self.root.is_dir():
            return False
        with locked(self.root, reading=False):
            table = self._read_table()
            if table.rows.pop(sample_id, None) is None:
                return False
            table.extras.pop(sample_id, None)
            self._write_pending([sample_id])  # a crash between the two leaves known debris
            self._write_table(table)  # the row goes first
            self._png(sample_id).unlink(missing_ok=True)
            self._pending_path.unlink(missing_ok=True)
        return True

    # -- reading -------------------------------------------------------------------------

    def samples(self) -> list[Sample]:
        """Return every sample, oldest first (a relabelled sample keeps its place).

        Returns
        -------
        list of Sample
        """
        with locked(self.root, reading=True):
            return self._samples()

    def counts(self) -> dict[int, int]:
        """Return the number of samples of each digit, all ten present.

        Returns
        -------
        dict of int to int
        """
        counts = dict.fromkeys(range(10), 0)
        for sample in self.samples():
            counts[sample.label] += 1
        return counts

    def load(self, ids: Sequence[str] | None = None) -> tuple[DigitBatch, np.ndarray]:
        """Return the samples as arrays, ready for training.

        Parameters
        ----------
        ids : sequence of str, optional
            Which samples, in this order; default all, oldest first.

        Returns
        -------
        x : ndarray of shape (N, 28, 28), uint8
        y : ndarray of shape (N,), uint8

        Raises
        ------
        KeyError
            If an id is not in the dataset.
        """
        with locked(self.root, reading=True):
            samples = self._samples()
            if ids is not None:
                by_id = {s.id: s for s in samples}
                missing = [i for i in ids if i not in by_id]
                if missing:
                    raise KeyError(f"ids not in the dataset: {missing[:5]}")
                samples = [by_id[i] for i in ids]
            images = [self._read_image(s.id) for s in samples]
        x = np.stack(images) if images else np.zeros((0, MNIST_SIZE, MNIST_SIZE), np.uint8)
        return x, np.array([s.label for s in samples], np.uint8)

    def image(self, sample_id: str) -> GrayImage:
        """Return one sample's digit.

        Parameters
        ----------
        sample_id : str

        Returns
        -------
        ndarray of shape (28, 28), uint8

        Raises
        ------
        ValueError
            If ``sample_id`` is not an id.
        KeyError
            If it is not in the dataset.
        """
        return self.load([check_id(sample_id)])[0][0]

    # -- internals -----------------------------------------------------------------------

    def _samples(self) -> list[Sample]:
        return [s for s in self._read_table().rows.values() if self._png(s.id).is_file()]

    def _png(self, sample_id: str) -> Path:
        return self.images_dir / f"{sample_id}.png"

    @property
    def _pending_path(self) -> Path:
        return self.root / PENDING_NAME

    def _read_image(self, sample_id: str) -> GrayImage:
        with Image.open(self._png(sample_id)) as im:
            array = np.asarray(im.convert("L"), np.uint8)
        if array.shape != (MNIST_SIZE, MNIST_SIZE):
            raise ValueError(f"{self._png(sample_id)} is {array.shape}, not 28×28")
        return array

    def _read_table(self) -> LabelsTable:
        """Read ``labels.csv``; a missing file is empty, a line not understood raises."""
        try:
            data = self.csv_path.read_bytes()
        except FileNotFoundError:
            return LabelsTable({}, [], {})
        return parse_labels(data, self.csv_path)

    def _write_table(self, table: LabelsTable) -> None:
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow((*FIELDS, *table.extra_fields))
        for s in table.rows.values():
            extra = table.extras.get(s.id, {})
            writer.writerow(
                (
                    s.id,
                    s.label,
                    spreadsheet_safe(s.source),
                    s.saved_at,
                    *(extra.get(f, "") for f in table.extra_fields),
                )
            )
        atomic_write(self.csv_path, buf.getvalue().encode("utf-8"))

    def _write_pending(self, ids: Iterable[str]) -> None:
        """Record the ids whose PNGs this write may leave without a row if it is cut short."""
        atomic_write(self._pending_path, "".join(f"{i}\n" for i in ids).encode("ascii"))

    def _clear_pending(self, rows: dict[str, Sample]) -> None:
        """Remove the PNGs an interrupted save or delete of ours left without a row."""
        try:
            listed = self._pending_path.read_text("ascii", errors="replace").split()
        except FileNotFoundError:
            return
        for sid in listed:
            if _ID.fullmatch(sid) and sid not in rows:
                self._png(sid).unlink(missing_ok=True)
        self._pending_path.unlink(missing_ok=True)
