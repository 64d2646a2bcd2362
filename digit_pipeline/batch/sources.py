"""What a batch reads: files, folders, globs and ZIP archives, expanded into sources.

A :class:`Source` names one image (``sheet.png`` or ``archive.zip!scans/sheet.png``) and
knows how to fetch its bytes. ZIP members are read in memory and never extracted, so a
hostile member name (``../x.png``, ``/etc/x.png``) cannot write anywhere; such a member is
refused with a sentence and reported like an unreadable image.
"""

from __future__ import annotations

import glob
import hashlib
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ..io.images import UPLOAD_TYPES, ImageReadError

ARCHIVE_TYPES = ("zip",)
"""Extensions read as archives of images."""

MAX_MEMBER_BYTES = 512 * 1024 * 1024
"""A ZIP member that inflates to more than this is refused (a ZIP bomb guard)."""

_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Source:
    """One image of a batch.

    Attributes
    ----------
    name : str
        Stable key and the ``image`` field of its record: the path as found, or
        ``archive.zip!member`` for a ZIP member.
    path : str
        The file on disk (the archive for a member).
    member : str or None
        The member's name inside the archive.
    refused : str or None
        Why the source is not read (a hostile member name); None when it is read.
    """

    name: str
    path: str
    member: str | None = None
    refused: str | None = None

    def to_task(self) -> tuple[str, str, str | None, str | None]:
        """Plain tuple for another process."""
        return (self.name, self.path, self.member, self.refused)

    @classmethod
    def from_task(cls, task: tuple[str, str, str | None, str | None]) -> Source:
        """Inverse of :meth:`to_task`."""
        return cls(*task)


def is_image_name(name: str) -> bool:
    """Whether ``name`` has one of :data:`~digit_pipeline.io.images.UPLOAD_TYPES`."""
    return name.rsplit(".", 1)[-1].lower() in UPLOAD_TYPES if "." in name else False


def is_archive_name(name: str) -> bool:
    """Whether ``name`` is read as a ZIP archive."""
    return name.rsplit(".", 1)[-1].lower() in ARCHIVE_TYPES if "." in name else False


def unsafe_member(name: str) -> str | None:
    """Return why a ZIP member name is refused, or None when it is safe.

    Examples
    --------
    >>> unsafe_member("scans/a.png") is None
    True
    >>> unsafe_member("../a.png")
    'its name leaves the archive (..)'
    """
    if "\x00" in name:
        return "its name holds a NUL character"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "its name is an absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "its name leaves the archive (..)"
    return None


def zip_sources(archive: zipfile.ZipFile, label: str, path: str = "") -> Iterator[Source]:
    """Yield the image members of an open archive, in the archive's order.

    Directories and non-image members are skipped; a member with a hostile name is
    yielded with ``refused`` set (it is never read).
    """
    for info in archive.infolist():
        if info.is_dir() or not is_image_name(info.filename):
            continue
        name = f"{label}!{info.filename}"
        why = unsafe_member(info.filename)
        refused = None
        if why is not None:
            refused = f"{name} was refused: {why}; it was not read and nothing was written."
        yield Source(name, path, info.filename, refused)


def expand(arguments: Iterable[str]) -> tuple[list[Source], list[str]]:
    """Expand command-line arguments into sources, each once, in a stable order.

    Parameters
    ----------
    arguments : iterable of str
        Files, folders (searched recursively for image files), globs (``**`` recursive)
        and ZIP archives.

    Returns
    -------
    sources : list of Source
    problems : list of str
        One sentence per argument that gave nothing (a glob matching no file, an
        unreadable archive).
    """
    sources: list[Source] = []
    problems: list[str] = []
    seen: set[str] = set()

    def add(source: Source) -> None:
        if source.name not in seen:
            seen.add(source.name)
            sources.append(source)

    for argument in arguments:
        if os.path.isdir(argument):
            for found in sorted(Path(argument).rglob("*")):
                if found.is_file() and is_image_name(found.name):
                    add(Source(str(found), str(found)))
            continue
        if not os.path.exists(argument) and _GLOB_CHARS & set(argument):
            matches = sorted(glob.glob(argument, recursive=True))
            files = [m for m in matches if os.path.isfile(m)]
            if not files:
                problems.append(f"{argument} matches no file.")
            for match in files:
                for source in _file_sources(match, problems):
                    add(source)
            continue
        for source in _file_sources(argument, problems):
            add(source)
    return sources, problems


def _file_sources(argument: str, problems: list[str]) -> list[Source]:
    name = str(Path(argument))
    if is_archive_name(argument) and os.path.isfile(argument):
        try:
            with zipfile.ZipFile(argument) as archive:
                return list(zip_sources(archive, name, argument))
        except (zipfile.BadZipFile, OSError) as error:
            problems.append(f"{name} is not a ZIP archive this app can read ({error}).")
            return []
    return [Source(name, argument)]  # a missing file is reported when it is read


def digest(source: Source) -> str | None:
    """Return a content hash for the resume key: sha256 of a file, the CRC32 of a ZIP member.

    The CRC32 and size of a member come from the archive's directory, so members are not
    inflated twice. None when the file cannot be opened.
    """
    try:
        if source.member is None:
            sha = hashlib.sha256()
            with open(source.path, "rb") as file:
                for chunk in iter(lambda: file.read(1 << 20), b""):
                    sha.update(chunk)
            return "sha256:" + sha.hexdigest()
        info = _archive(source.path).getinfo(source.member)
        return f"crc32:{info.CRC:08x}:{info.file_size}"
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def bytes_digest(source: Source, data: bytes) -> str | None:
    """Return :func:`digest` of ``source`` from the bytes already read from it.

    Examples
    --------
    >>> bytes_digest(Source("a.png", "a.png"), b"")[:15]
    'sha256:e3b0c442'
    """
    if source.member is None:
        return "sha256:" + hashlib.sha256(data).hexdigest()
    return digest(source)  # a member's CRC32 and size, from the archive's directory


@lru_cache(maxsize=4)
def _archive(path: str) -> zipfile.ZipFile:
    """Return an open archive, kept open per process (members are read one at a time)."""
    return zipfile.ZipFile(path)


def member_bytes(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    """Read one member into memory (never onto disk), refusing one that inflates too far.

    Raises
    ------
    ImageReadError
        If the member is missing, encrypted, corrupt or too large.
    """
    try:
        info = archive.getinfo(member)
        if info.file_size > MAX_MEMBER_BYTES:
            raise ImageReadError(
                f"{name} is too large ({info.file_size / 1e6:.0f} MB inflated); it was not read."
            )
        with archive.open(info) as file:
            data = file.read(MAX_MEMBER_BYTES + 1)
    except ImageReadError:
        raise
    except (KeyError, RuntimeError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise ImageReadError(f"{name} could not be read from its archive ({error}).") from error
    if len(data) > MAX_MEMBER_BYTES:
        raise ImageReadError(f"{name} inflates past {MAX_MEMBER_BYTES >> 20} MB; it was not read.")
    return data


def load_bytes(source: Source) -> bytes:
    """Fetch a source's bytes.

    Raises
    ------
    ImageReadError
        If the source was refused, or its file or member cannot be read.
    """
    if source.refused:
        raise ImageReadError(source.refused)
    if source.member is None:
        try:
            return Path(source.path).read_bytes()
        except OSError as error:
            raise ImageReadError(
                f"{source.name} cannot be opened ({error.strerror or error})."
            ) from error
    try:
        archive = _archive(source.path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ImageReadError(f"{source.name}: the archive cannot be opened ({error}).") from error
    return member_bytes(archive, source.member, source.name)
