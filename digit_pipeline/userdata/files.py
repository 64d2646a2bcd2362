"""Crash-safe files for the dataset: atomic writes and folder locks."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

TMP_PREFIX = ".tmp-"
"""Temporary files of an unfinished write start with this."""


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
def locked(root: Path, *, shared: bool) -> Iterator[None]:
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
            with lock_file(root / ".lock.excl"):
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
def lock_file(path: Path, timeout: float = 30.0, stale: float = 60.0) -> Iterator[None]:
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
