"""Crash-safe files for the dataset: atomic writes and the folder lock (``filelock``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

TMP_PREFIX = ".tmp-"
"""Temporary files of an unfinished write start with this."""

LOCK_NAME = ".lock"
"""The dataset folder's lock file (left in place after a release, but on Windows)."""


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync, then ``os.replace`` it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=path.suffix)
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


def remove_temp_files(root: Path, *subfolders: Path) -> None:
    """Remove temporary files left by a crashed writer (only ever called under the lock)."""
    for folder in (root, *subfolders):
        for tmp in folder.glob(TMP_PREFIX + "*"):
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def locked(root: Path, *, reading: bool) -> Iterator[None]:
    """Hold the dataset folder's lock, ``root/LOCK_NAME``, for the ``with`` block.

    The lock is :class:`filelock.FileLock`: ``flock`` on POSIX (the kernel drops it when
    its holder dies, even by ``SIGKILL``, so a crashed writer never leaves the folder
    locked), ``msvcrt.locking`` on Windows, and filelock's own fallback where a file
    system has no ``flock``. It waits as long as it takes, as a blocking ``flock`` did.
    Each call takes a new lock object, so two threads of one process (two Streamlit
    tabs) exclude each other just as two processes do. Taking the lock again inside
    the block in the same thread raises filelock's ``RuntimeError`` instead of hanging.

    Readers take the same exclusive lock as writers. filelock's ``FileLock`` has no
    shared mode, and its ``ReadWriteLock`` keeps a SQLite database (with helper files
    beside it) at its path, which a copy of the app that takes a ``flock`` on ``.lock``
    would not see. A read is short (``labels.csv`` and the 28×28 PNGs) and saves are a
    person's clicks, so readers waiting for each other cost next to nothing, while one
    lock on one file keeps every reader and writer, old or new, apart.

    Parameters
    ----------
    root : Path
        The dataset folder. A writer's must exist.
    reading : bool
        Whether the block only reads. A reader of a missing folder, or of one where no
        lock file can be opened (read-only), goes on without the lock: there is nothing
        to race with, every file it reads is replaced atomically anyway, and reading
        never creates the folder.

    Raises
    ------
    OSError
        If a writer cannot open the lock file.
    """
    lock = FileLock(root / LOCK_NAME)
    held = False
    if not reading:
        lock.acquire()
        held = True
    elif root.is_dir():
        try:
            lock.acquire()
            held = True
        except OSError:  # a read-only folder (or file system): read without the lock
            pass
    try:
        yield
    finally:
        if held:
            lock.release()
