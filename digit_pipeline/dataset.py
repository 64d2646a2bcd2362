"""A local dataset of corrected digits that survives crashes and concurrent writers.

Format
------
A folder (``default_dir()`` unless told otherwise) holding::

    labels.csv          header ``id,label,source,saved_at``, one row per sample
    images/<id>.png     the sample: 28×28 grey PNG, white digit on black, exactly the
                        uint8 array that was saved
    .lock               lock file; writers hold an exclusive ``flock`` on it

``id`` is the first 16 hex characters of the SHA-256 of the digit's 28×28 uint8 bytes, so
the same digit image is always the same sample: saving it again does not duplicate it, and
saving it with another label updates the label. ``label`` is 0..9, ``source`` free text
(the sheet's name), ``saved_at`` an ISO 8601 UTC time of the last change.

A sample exists when it has a row in ``labels.csv`` and its PNG is present. Every write
goes to a temporary file in the same folder and is moved into place with ``os.replace``
(images first, then ``labels.csv`` rewritten whole), so a crash at any point leaves the
previous ``labels.csv`` intact; PNGs without a row are ignored when reading and removed by
the next save. Writers take an exclusive lock on ``.lock``, readers a shared one, so two
tabs or two processes saving at once never lose each other's samples. A missing folder
reads as an empty dataset.

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

import contextlib
import csv
import hashlib
import io
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from .aliases import DigitBatch, GrayImage
from .validation import check_int

CSV_NAME = "labels.csv"
"""The labels file inside a dataset folder."""

IMAGES_DIR = "images"
"""The folder of PNGs inside a dataset folder."""

FIELDS = ("id", "label", "source", "saved_at")
"""Columns of ``labels.csv``, in order."""

_ID = re.compile(r"[0-9a-f]{16}")
_TMP_PREFIX = ".tmp-"
_LABELS = frozenset("0123456789")


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
class Sample:
    """One saved digit: a row of ``labels.csv``."""

    id: str
    label: int
    source: str
    saved_at: str


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
        with _locked(self.root, shared=False):
            self.images_dir.mkdir(exist_ok=True)
            _remove_temp_files(self.root)
            rows = self._read_rows()
            now = datetime.now(UTC).isoformat(timespec="seconds")
            added = updated = unchanged = 0
            for digit, label in zip(digits, labels, strict=True):
                sid = digit_id(digit)
                old = rows.get(sid)
                png = self.images_dir / f"{sid}.png"
                if old is None or not png.is_file():
                    _atomic_write(png, encode_png(digit))
                if old is None:
                    added += 1
                elif old.label != label:
                    updated += 1
                else:
                    unchanged += 1
                    continue
                rows[sid] = Sample(sid, label, source, now)
            if added or updated:
                self._write_rows(rows.values())
            _remove_orphans(self.images_dir, set(rows))
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
        with _locked(self.root, shared=False):
            rows = self._read_rows()
            if rows.pop(sample_id, None) is None:
                return False
            self._write_rows(rows.values())  # the row goes first: a crash leaves an orphan
            (self.images_dir / f"{sample_id}.png").unlink(missing_ok=True)
        return True

    # -- reading -------------------------------------------------------------------------

    def samples(self) -> list[Sample]:
        """Return every sample, oldest first (a relabelled sample keeps its place).

        Returns
        -------
        list of Sample
        """
        with _locked(self.root, shared=True):
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
        with _locked(self.root, shared=True):
            samples = self._samples()
            if ids is not None:
                by_id = {s.id: s for s in samples}
                missing = [i for i in ids if i not in by_id]
                if missing:
                    raise KeyError(f"ids not in the dataset: {missing[:5]}")
                samples = [by_id[i] for i in ids]
            images = [self._read_image(s.id) for s in samples]
        x = np.stack(images) if images else np.zeros((0, 28, 28), np.uint8)
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
        return [s for s in self._read_rows().values() if self._png(s.id).is_file()]

    def _png(self, sample_id: str) -> Path:
        return self.images_dir / f"{sample_id}.png"

    def _read_image(self, sample_id: str) -> GrayImage:
        with Image.open(self._png(sample_id)) as im:
            array = np.asarray(im.convert("L"), np.uint8)
        if array.shape != (28, 28):
            raise ValueError(f"{self._png(sample_id)} is {array.shape}, not 28×28")
        return array

    def _read_rows(self) -> dict[str, Sample]:
        """Rows of ``labels.csv`` by id; malformed rows are skipped, a missing file is empty."""
        try:
            text = self.csv_path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return {}
        rows: dict[str, Sample] = {}
        for row in csv.DictReader(io.StringIO(text, newline="")):
            sid, label = row.get("id") or "", row.get("label") or ""
            if _ID.fullmatch(sid) and label in _LABELS:
                source, saved_at = row.get("source") or "", row.get("saved_at") or ""
                rows[sid] = Sample(sid, int(label), source, saved_at)
        return rows

    def _write_rows(self, rows: Iterable[Sample]) -> None:
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FIELDS)
        writer.writerows((s.id, s.label, s.source, s.saved_at) for s in rows)
        _atomic_write(self.csv_path, buf.getvalue().encode("utf-8"))


# -- validation ----------------------------------------------------------------------------


def check_digits(digits: object, name: str = "digits") -> DigitBatch:
    """Check a batch of MNIST-style digits and return it.

    Parameters
    ----------
    digits : object
        Should be an ndarray of shape (N, 28, 28), uint8.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    ndarray of shape (N, 28, 28), uint8

    Raises
    ------
    ValueError
        Naming ``name`` and what is wrong.

    Examples
    --------
    >>> import numpy as np
    >>> check_digits(np.zeros((3, 28, 28), np.uint8)).shape
    (3, 28, 28)
    >>> check_digits(np.zeros((28, 28), np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: digits must have shape (N, 28, 28), got (28, 28)
    """
    if not isinstance(digits, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(digits).__name__}")
    if digits.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8, got {digits.dtype}")
    if digits.ndim != 3 or digits.shape[1:] != (28, 28):
        raise ValueError(f"{name} must have shape (N, 28, 28), got {digits.shape}")
    return digits


def check_labels(labels: object, n: int, name: str = "labels") -> list[int]:
    """Check ``n`` digit labels (0..9) and return them as ints.

    Parameters
    ----------
    labels : object
        A sequence of integers (numpy integers are fine, bools are not).
    n : int
        How many there must be.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        Naming ``name`` and what is wrong.

    Examples
    --------
    >>> check_labels([4, 6, 2], 3)
    [4, 6, 2]
    >>> check_labels([4, 16], 2)
    Traceback (most recent call last):
    ...
    ValueError: labels[1] must be >= 0 and <= 9, got 16
    >>> check_labels([4], 2)
    Traceback (most recent call last):
    ...
    ValueError: labels must have one entry per digit: got 1 for 2
    """
    if isinstance(labels, str | bytes) or not hasattr(labels, "__len__"):
        raise ValueError(f"{name} must be a sequence of int, got {type(labels).__name__}")
    if len(labels) != n:
        raise ValueError(f"{name} must have one entry per digit: got {len(labels)} for {n}")
    return [check_int(v, f"{name}[{i}]", low=0, high=9) for i, v in enumerate(labels)]


def check_id(sample_id: object, name: str = "sample_id") -> str:
    """Check a sample id (16 lowercase hex characters) and return it.

    Raises
    ------
    ValueError
        Naming ``name`` and the bad value; ids never hold path separators.

    Examples
    --------
    >>> check_id("../../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: sample_id must be 16 lowercase hex characters, got '../../etc/passwd'
    """
    if not isinstance(sample_id, str) or not _ID.fullmatch(sample_id):
        raise ValueError(f"{name} must be 16 lowercase hex characters, got {sample_id!r}")
    return sample_id


# -- files ---------------------------------------------------------------------------------


def encode_png(image: GrayImage) -> bytes:
    """Encode a grey uint8 image as PNG bytes (lossless).

    Examples
    --------
    >>> import io, numpy as np
    >>> from PIL import Image
    >>> a = np.arange(28 * 28, dtype=np.uint16).reshape(28, 28).astype(np.uint8)
    >>> bool((np.asarray(Image.open(io.BytesIO(encode_png(a)))) == a).all())
    True
    """
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync, then ``os.replace`` it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX, suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable where the platform allows it (POSIX); otherwise do nothing."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _remove_temp_files(root: Path) -> None:
    """Remove temporary files left by a crashed writer (only ever called under the lock)."""
    for folder in (root, root / IMAGES_DIR):
        for tmp in folder.glob(_TMP_PREFIX + "*"):
            tmp.unlink(missing_ok=True)


def _remove_orphans(images: Path, keep: set[str]) -> None:
    """Remove sample PNGs that have no row (left by a crash or an interrupted delete)."""
    for png in images.glob("*.png"):
        if _ID.fullmatch(png.stem) and png.stem not in keep:
            png.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(root: Path, *, shared: bool) -> Iterator[None]:
    """Hold ``root/.lock``: ``flock`` where there is one, an ``O_EXCL`` lock file elsewhere.

    Readers of a missing or read-only folder go on without a lock: there is nothing to
    race with, and every file they read is replaced atomically anyway.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    if fcntl is None:  # pragma: no cover - Windows
        if shared and not root.is_dir():
            yield
        else:
            with _lock_file(root / ".lock.excl"):
                yield
        return
    try:
        fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if not shared:
            raise
        fd = None
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def _lock_file(path: Path, timeout: float = 30.0, stale: float = 60.0) -> Iterator[None]:
    """Best-effort lock for platforms without ``fcntl``: create ``path`` exclusively.

    A lock file older than ``stale`` seconds is taken to be left by a crash and removed.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            break
        except FileExistsError:
            with contextlib.suppress(FileNotFoundError):
                if time.time() - path.stat().st_mtime > stale:
                    path.unlink(missing_ok=True)
                    continue
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not lock {path} within {timeout} s") from None
            time.sleep(0.01)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
