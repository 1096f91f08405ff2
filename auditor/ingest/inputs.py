"""Turn command-line paths into readable input units.

A path may be a file, a directory (walked recursively; hidden files,
``README*`` and ``*.md`` documentation inside it are skipped), a glob, a ``.gz`` file
or a ``.zip`` archive (each member is its own unit, named
``archive.zip!member``; ``.gz`` members are decompressed too).  Units come out
sorted by name so reports never depend on file-system order.  Paths that do not
exist or cannot be read at all raise :class:`InputError` (exit code 2); members
that fail later are reported as skipped input, not fatal.
"""

from __future__ import annotations

import glob
import os
import stat
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .gzstream import GzipStream
from .streams import ReadOnlyStream

HEAD_BYTES = 64 * 1024


class InputError(Exception):
    """A path given by the user cannot be used at all."""


@dataclass(frozen=True)
class InputUnit:
    """One logical input file: ``name`` for evidence, ``open()`` for bytes."""

    name: str
    open: Callable[[], IO[bytes]]
    size: int  # compressed/on-disk size, for progress
    #: a plain file on disk: a head shorter than asked for is the whole file
    plain: bool = False
    #: the absolute path of the file on disk it is read from (members of one
    #: ``.zip`` share it), so another process can open it again
    path: str | None = None

    def head(self, n: int = HEAD_BYTES) -> bytes:
        if self.plain and self.path is not None:  # os-level: a third of a buffered open, 20,000 times over
            fd = os.open(self.path, os.O_RDONLY)
            try:
                return _read_fd(fd, n)
            finally:
                os.close(fd)
        with self.open() as fh:
            return fh.read(n)


def _read_fd(fd: int, n: int) -> bytes:
    """Up to ``n`` bytes from ``fd`` (fewer only at the end of the file)."""
    parts, got = [], 0
    while got < n:
        part = os.read(fd, n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts) if len(parts) != 1 else parts[0]


def _gzip_opener(opener: Callable[[], IO[bytes]]) -> Callable[[], IO[bytes]]:
    # not gzip.GzipFile: it drops what it decoded when the stream breaks (GzipStream's docstring)
    return lambda: GzipStream(opener())


def file_units(path: str | Path, display: str) -> list[InputUnit]:
    """The units of one file on disk named ``display`` (a ``.zip`` gives one per
    member); raises ``OSError`` / ``zipfile.BadZipFile`` when it cannot be opened."""
    path = str(path)
    fd = os.open(path, os.O_RDONLY)  # one open to tell a zip, a gzip or plain text by its first bytes
    try:  # (os-level: a buffered file object costs more than the read itself, 20,000 times over)
        magic = os.read(fd, 4)
        size = os.fstat(fd).st_size
    finally:
        os.close(fd)
    where = os.path.abspath(path)
    if magic.startswith(b"PK") and zipfile.is_zipfile(path):
        return _zip_units(path, display, where)
    if path.endswith(".gz") or magic.startswith(b"\x1f\x8b"):
        return [InputUnit(display, _gzip_opener(lambda p=path: open(p, "rb")), size, path=where)]
    return [InputUnit(display, lambda p=path: open(p, "rb"), size, plain=True, path=where)]


class _Archive:
    """One zip archive shared by its members' units: its central directory is read
    once (opening the archive again for each of 50,000 members read it 50,000 times)."""

    def __init__(self, path: str):
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._lock = threading.Lock()

    def open(self, member: zipfile.ZipInfo) -> IO[bytes]:
        with self._lock:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.path)
            return _MemberStream(self._zip.open(member))

    def __del__(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _zip_units(path: str, display: str, where: str) -> list[InputUnit]:
    units = []
    archive = _Archive(path)
    with zipfile.ZipFile(path) as zf:
        for info in sorted(zf.infolist(), key=lambda i: i.filename):
            if info.is_dir() or info.filename.startswith("__MACOSX/"):
                continue

            def opener(member=info, archive=archive) -> IO[bytes]:
                return archive.open(member)

            name = f"{display}!{info.filename}"
            if info.filename.endswith(".gz"):
                units.append(InputUnit(name, _gzip_opener(opener), info.compress_size, path=where))
            else:
                units.append(InputUnit(name, opener, info.compress_size, path=where))
    return units


class _MemberStream(ReadOnlyStream):
    """A zip member as a plain readable stream (closing it leaves the archive open)."""

    def __init__(self, member: IO[bytes]):
        self._member = member

    def read(self, n: int = -1) -> bytes:
        return self._member.read(n)

    def close(self) -> None:
        try:
            self._member.close()
        finally:
            super().close()


def not_regular(path: str | Path) -> str | None:
    """Why ``path`` is not read (a pipe, socket or device would block or never
    end: only regular files are read), or None for a regular file.  Symbolic
    links to files are followed; links to folders inside a walked folder are not."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # let the open say why
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    for test, what in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return f"not a regular file ({what}): not read"
    return "not a regular file: not read"


def _walk(top: str, shown: str) -> Iterator[tuple[str, str, os.DirEntry]]:
    """``(path, name shown, entry)`` of every file below the folder ``top``, in
    os.walk's order with names sorted; links to folders are not followed.
    ``shown`` is ``top`` as reports name it (relative to the parent of the
    folder the user gave).  One ``scandir`` per folder and no ``stat`` per
    regular file: a folder of 20,000 deliveries is listed in a few hundred ms."""
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError:
        return  # as os.walk: an unreadable sub-folder is passed over
    subdirs = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if not entry.is_symlink():
                subdirs.append(entry)
            continue
        yield entry.path, f"{shown}/{entry.name}" if shown else entry.name, entry
    for entry in subdirs:
        yield from _walk(entry.path, f"{shown}/{entry.name}" if shown else entry.name)


def _shown_root(folder: Path) -> str:
    """How files of a walked ``folder`` are named: from the folder's own name on."""
    rel = os.path.relpath(folder, folder.parent)
    return "" if rel == "." else rel


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def expand(paths: list[str]) -> tuple[list[InputUnit], list[tuple[str, str]]]:
    """Resolve user paths to units.

    Returns ``(units, skipped)`` where ``skipped`` lists ``(name, reason)`` for
    files inside directories that could not be opened.  Raises
    :class:`InputError` for a top-level path that does not exist or is
    unreadable, naming it.
    """
    units: list[InputUnit] = []
    skipped: list[tuple[str, str]] = []
    for raw in paths:
        matches = [Path(raw)] if Path(raw).exists() else [Path(m) for m in sorted(glob.glob(raw, recursive=True))]
        if not matches:
            raise InputError(f"{raw}: no such file or directory")
        for path in matches:
            if path.is_dir():
                if not os.access(path, os.R_OK | os.X_OK):
                    raise InputError(f"{raw}: permission denied")
                for fpath, shown, entry in _walk(str(path), _shown_root(path)):
                    fname = entry.name
                    if fname.startswith(".") or fname.upper().startswith("README") or fname.endswith(".md"):
                        continue  # hidden files and documentation next to the logs
                    special = None if _is_file(entry) else not_regular(fpath)
                    if special:
                        skipped.append((shown, special))
                        continue
                    try:
                        units.extend(file_units(fpath, shown))
                    except (OSError, zipfile.BadZipFile, EOFError) as exc:
                        skipped.append((shown, f"cannot read: {exc.__class__.__name__}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"))
            else:
                special = not_regular(path)
                if special:
                    raise InputError(f"{raw}: {special}")
                try:
                    with open(path, "rb"):
                        pass
                    units.extend(file_units(str(path), str(path)))
                except PermissionError:
                    raise InputError(f"{raw}: permission denied") from None
                except (OSError, zipfile.BadZipFile) as exc:
                    raise InputError(f"{raw}: cannot read ({exc})") from None
    seen: set[str] = set()
    unique = []
    for unit in sorted(units, key=lambda u: u.name):
        if unit.name not in seen:
            seen.add(unit.name)
            unique.append(unit)
    return unique, skipped
