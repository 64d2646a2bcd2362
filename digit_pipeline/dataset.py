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
previous ``labels.csv`` intact. Before it writes images, a save lists the ids it is about
to add in ``.pending``; the next save removes those PNGs that never got their row (the
debris of an interrupted save, provably ours) and nothing else: a PNG without a row that
no save of ours left is ignored, never deleted. Writers take an exclusive lock on
``.lock``, readers a shared one, so two tabs or two processes saving at once never lose
each other's samples. A missing folder reads as an empty dataset.

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

import contextlib
import csv
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from .aliases import DigitBatch, GrayImage
from .contract import MNIST_SIZE
from .validation import SAMPLE_ID, check_digits, check_id, check_labels

CSV_NAME = "labels.csv"
"""The labels file inside a dataset folder."""

IMAGES_DIR = "images"
"""The folder of PNGs inside a dataset folder."""

FIELDS = ("id", "label", "source", "saved_at")
"""Columns of ``labels.csv``, in order."""

PENDING_NAME = ".pending"
"""Ids an unfinished write may have left as PNGs without a row (see the module docstring)."""

_ID = SAMPLE_ID
_TMP_PREFIX = ".tmp-"


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


class DatasetError(ValueError):
    """``labels.csv`` holds a line this module cannot understand; nothing was changed.

    The message names the file and the line, in one sentence a user can act on.
    """


@dataclass
class _Table:
    """``labels.csv`` as read: samples by id, plus any extra columns kept for the rewrite."""

    rows: dict[str, Sample]
    extra_fields: list[str]
    extras: dict[str, dict[str, str]]


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
            table = self._read_table()  # refuses before anything is written
            rows = table.rows
            self.images_dir.mkdir(exist_ok=True)
            _remove_temp_files(self.root)
            self._clear_pending(rows)
            ids = [digit_id(d) for d in digits]
            self._write_pending(i for i in ids if i not in rows)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            added = updated = unchanged = 0
            for sid, digit, label in zip(ids, digits, labels, strict=True):
                old = rows.get(sid)
                png = self._png(sid)
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
        with _locked(self.root, shared=False):
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

    def _read_table(self) -> _Table:
        """Read ``labels.csv``; a missing file is empty, a line not understood raises."""
        try:
            data = self.csv_path.read_bytes()
        except FileNotFoundError:
            return _Table({}, [], {})
        return parse_labels(data, self.csv_path)

    def _write_table(self, table: _Table) -> None:
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow((*FIELDS, *table.extra_fields))
        for s in table.rows.values():
            extra = table.extras.get(s.id, {})
            writer.writerow(
                (
                    s.id,
                    s.label,
                    s.source,
                    s.saved_at,
                    *(extra.get(f, "") for f in table.extra_fields),
                )
            )
        _atomic_write(self.csv_path, buf.getvalue().encode("utf-8"))

    def _write_pending(self, ids: Iterable[str]) -> None:
        """Record the ids whose PNGs this write may leave without a row if it is cut short."""
        _atomic_write(self._pending_path, "".join(f"{i}\n" for i in ids).encode("ascii"))

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


def parse_labels(data: bytes, path: str | os.PathLike[str] = CSV_NAME) -> _Table:
    r"""Parse the bytes of a ``labels.csv`` as people's tools write it back.

    Accepts a UTF-8 byte-order mark, CRLF or CR line ends, quoted fields, whitespace around
    names and values, columns in any order (matched without regard to case), extra columns,
    upper-case ids, labels such as ``7.0`` and blank lines.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str or Path
        Named in error messages.

    Returns
    -------
    _Table
        Samples by id in file order (a later row of the same id wins) and the extra columns.

    Raises
    ------
    DatasetError
        Naming the file and the line that cannot be understood.

    Examples
    --------
    >>> data = b"\xef\xbb\xbfID , Label,note\r\n0123456789ABCDEF, 7.0 ,mine\r\n"
    >>> table = parse_labels(data)
    >>> table.rows["0123456789abcdef"].label, table.extra_fields
    (7, ['note'])
    >>> parse_labels(b"id,label\n0123456789abcdef,12\n")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    digit_pipeline.dataset.DatasetError: labels.csv, line 2: label '12' is not a digit 0-9; ...
    """
    where = str(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _refused(where, line, "not UTF-8 text; save it again as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        if text.strip():
            raise _refused(where, 1, "no header line naming the columns id and label")
        return _Table({}, [], {})
    names = [cell.strip().lower() for cell in header]
    missing = [f for f in ("id", "label") if f not in names]
    if missing:
        raise _refused(where, 1, f"the header has no {' or '.join(missing)} column")
    column = {name: names.index(name) for name in FIELDS if name in names}
    extra_fields = [h.strip() for h, n in zip(header, names, strict=True) if n not in FIELDS and n]
    extra_at = [i for i, n in enumerate(names) if n not in FIELDS and n]
    rows: dict[str, Sample] = {}
    extras: dict[str, dict[str, str]] = {}
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue  # a blank line, or a row of empty cells a spreadsheet left

        def cell(name: str, cells: list[str] = cells) -> str:
            i = column.get(name)
            return cells[i] if i is not None and i < len(cells) else ""

        sid, label = cell("id").lower(), _parse_label(cell("label"))
        if not _ID.fullmatch(sid):
            raise _refused(where, line, f"id {cell('id')!r} is not 16 hex characters")
        if label is None:
            raise _refused(where, line, f"label {cell('label')!r} is not a digit 0-9")
        rows[sid] = Sample(sid, label, cell("source"), cell("saved_at"))
        extras[sid] = {
            f: (cells[i] if i < len(cells) else "")
            for f, i in zip(extra_fields, extra_at, strict=True)
        }
    return _Table(rows, extra_fields, extras)


def _refused(where: str, line: int, what: str) -> DatasetError:
    """Return the one sentence a user sees for a ``labels.csv`` line this module cannot read."""
    return DatasetError(
        f"{where}, line {line}: {what}; mend that line (or remove it) and try again "
        "(nothing was changed)"
    )


def _parse_label(text: str) -> int | None:
    """``"7"``, ``"7.0"`` or ``"07"`` -> 7; anything else (or outside 0..9) -> None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and 0 <= value <= 9 else None


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
