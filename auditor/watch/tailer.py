"""Follow growing log files the way Fluent Bit's ``tail`` and Vector's ``file``
source do, and hand back byte ranges that hold complete records.

Identity
    A file is (device, inode) plus a fingerprint: the SHA-256 of its first
    ``fp_len`` bytes (256 once it is that long).  The same inode with another
    fingerprint is a different file (inode reuse, or rewritten in place); the
    same fingerprint under another inode is the same data (a copy).

What is handled (decided by ``stat``/``fstat``, never by event types)
    * appends, new files appearing in a watched directory or matching a glob;
    * rename rotation (``x.log`` -> ``x.0-….log`` / ``x.log.1``): the open handle
      follows the inode, its rows are relabelled with the new name, a new file at
      the old name is read from its start;
    * copytruncate: the size drops below what was read, or the first bytes
      change.  If a copy with the old fingerprint exists (``x.log.1``) the old
      stream continues *in the copy* from the same offset, so the bytes written
      between the last read and the truncation are not lost; the truncated
      file then starts again at 0;
    * deleted files and files renamed out of the watched set are read to their
      end through the open handle, then released after ``rotate_wait``;
    * a copy of a file that is being followed (same fingerprint) is never read
      a second time, whatever its name;
    * files given at start-up start at their end (``from_beginning`` reads
      them), files appearing later start at 0, files found at start-up under a
      path watched before but without a checkpoint appeared while the watcher
      was stopped and start at 0 too;
    * partial last lines wait for their newline; over-long lines are skipped
      (see :mod:`.framing`).

Only the main thread calls into this module.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import io
import os
import re
import stat as statmod
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..ingest.inputs import HEAD_BYTES, InputError, InputUnit
from ..ingest.sniff import pick_source
from ..registry import PluginProblem, Source
from .framing import MAX_LINE_BYTES, count_long_lines, entry_regex, ready_bytes

FP_BYTES = 256
#: A fingerprint over fewer bytes than this never matches another file.
MIN_FP_MATCH = 16
#: Most bytes read from one file in one poll (the rest comes next cycle).
READ_CAP = 16 * 1024 * 1024
#: Most bytes re-read at start-up to rebuild the evaluation window of one file.
WARM_CAP = 64 * 1024 * 1024
_COMPRESSED = (".gz", ".zip", ".bz2", ".xz", ".zst", ".7z", ".tgz")
_OWN_FILES = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite", ".sqlite-wal", ".sqlite-shm")
_GLOB_MAGIC = re.compile(r"[*?\[]")


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: A new file is a copy of a followed one when this much of it (or all of it) is the same.
COPY_COMPARE_BYTES = 1024 * 1024


def _same_prefix(followed_fd: int, fd: int, size: int) -> bool:
    """True when the new file's first bytes (up to :data:`COPY_COMPARE_BYTES`) are the followed file's."""
    try:
        n = min(size, os.fstat(followed_fd).st_size, COPY_COMPARE_BYTES)
        step = 64 * 1024
        for at in range(0, n, step):
            if os.pread(fd, min(step, n - at), at) != os.pread(followed_fd, min(step, n - at), at):
                return False
        return True
    except OSError:
        return False


@dataclass(frozen=True)
class WatchSpec:
    """One command-line path: a directory (recursive), a file, or a glob."""

    raw: str
    root: str  # directory given to the observer
    kind: str  # dir | file | glob
    target: str  # the directory, the file's absolute path, or the absolute glob

    @property
    def recursive(self) -> bool:
        return self.kind == "dir" or (self.kind == "glob" and "**" in self.target)

    def matches(self, path: str) -> bool:
        if self.kind == "dir":
            return path.startswith(self.target.rstrip(os.sep) + os.sep)
        if self.kind == "file":
            return path == self.target
        return fnmatch.fnmatchcase(path, self.target)


def make_specs(paths: list[str]) -> list[WatchSpec]:
    """Resolve command-line paths; raise :class:`InputError` naming a path that cannot be watched."""
    specs = []
    for raw in paths:
        p = Path(raw).expanduser()
        if _GLOB_MAGIC.search(raw):
            absolute = str(p if p.is_absolute() else Path.cwd() / p)
            base = Path(absolute)
            while _GLOB_MAGIC.search(str(base)):
                base = base.parent
            if not base.is_dir():
                raise InputError(f"{raw}: directory {base} does not exist")
            specs.append(WatchSpec(raw, str(base.resolve()), "glob", str(base.resolve() / Path(absolute).relative_to(base))))
        elif p.is_dir():
            if not os.access(p, os.R_OK | os.X_OK):
                raise InputError(f"{raw}: permission denied")
            d = str(p.resolve())
            specs.append(WatchSpec(raw, d, "dir", d))
        else:
            parent = p.resolve().parent
            if not parent.is_dir():
                raise InputError(f"{raw}: no such file or directory")
            if p.exists() and not os.access(p, os.R_OK):
                raise InputError(f"{raw}: permission denied")
            specs.append(WatchSpec(raw, str(parent), "file", str(parent / p.name)))
    return specs


def excluded(path: str) -> str | None:
    """Why a file under a watched directory is never followed (None: follow it)."""
    name = os.path.basename(path)
    if name.startswith(".") or name.upper().startswith("README") or name.endswith(".md"):
        return "hidden or documentation file"
    lower = name.lower()
    if lower.endswith(_COMPRESSED):
        return "compressed (an archived rotation; audit it with `capi-audit audit`)"
    if lower.endswith(_OWN_FILES):
        return "database file"
    return None


@dataclass
class Chunk:
    """Complete records of one file: bytes ``[start, end)`` starting at ``start_line``."""

    uid: int
    path: str
    source: str
    start: int
    end: int
    start_line: int
    data: bytes
    warm: bool = False  # re-read at start-up to rebuild the window (already alerted on)
    long_lines: int = 0


@dataclass(eq=False)
class TrackedFile:
    uid: int
    path: str
    dev: int
    ino: int
    fd: int
    fp: str
    fp_len: int
    offset: int  # bytes before this were handed out as chunks
    line: int  # line number of the byte at ``offset``
    source: Source | None = None
    row_id: int | None = None
    buf: bytearray = field(default_factory=bytearray)
    last_growth: float = 0.0
    gone_since: float | None = None
    deleted: bool = False
    skipping: bool = False
    sniffed_size: int = -1
    long_lines: int = 0
    dirty: bool = True
    warm_from: tuple[int, int] | None = None  # (offset, line) to re-read at start-up

    @property
    def read_pos(self) -> int:
        return self.offset + len(self.buf)

    @property
    def start_rx(self) -> re.Pattern[bytes] | None:
        if self.source is None or self.source.framing != "entries":
            return None
        return entry_regex(self.source.entry_start)


@dataclass
class TailStats:
    files: int = 0
    lines: int = 0
    bytes: int = 0
    long_lines: int = 0
    rotations: int = 0
    truncations: int = 0
    copies_skipped: int = 0


class Tailer:
    """Discovers, identifies and reads the watched files (main thread only)."""

    def __init__(
        self,
        specs: list[WatchSpec],
        sources: dict[str, Source],
        *,
        force_source: str | None = None,
        from_beginning: bool = False,
        known_roots: set[str] | None = None,
        checkpoints: list[dict[str, Any]] | None = None,
        quiet_s: float = 1.0,
        rotate_wait_s: float = 5.0,
        max_line_bytes: int = MAX_LINE_BYTES,
        relabel: Callable[[str, str], None] | None = None,
        note: Callable[[str], None] | None = None,
        problems: list[PluginProblem] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.specs = specs
        self.sources = sources
        self.force_source = force_source
        self.from_beginning = from_beginning
        self.known_roots = known_roots or set()
        self.unbound = list(checkpoints or [])
        self.quiet_s = quiet_s
        self.rotate_wait_s = rotate_wait_s
        self.max_line_bytes = max_line_bytes
        self.relabel = relabel or (lambda old, new: None)
        self.note = note or (lambda msg: None)
        self.problems = problems if problems is not None else []
        self.clock = clock
        self.files: dict[tuple[int, int], TrackedFile] = {}
        self.ignored: dict[tuple[int, int], str] = {}
        self.deleted_rows: list[int] = []
        self.flushed: list[Chunk] = []
        self.stats = TailStats()
        self.rescan = True
        self._uid = 0
        self._noted: set[str] = set()

    # -- discovery ---------------------------------------------------------
    def _note_once(self, key: str, msg: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.note(msg)

    def candidates(self) -> Iterator[str]:
        for spec in self.specs:
            if spec.kind == "file":
                yield spec.target
            elif spec.kind == "glob":
                yield from sorted(glob.glob(spec.target, recursive=True))
            else:
                for root, dirs, files in os.walk(spec.target):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    for name in sorted(files):
                        yield os.path.join(root, name)

    def matches(self, path: str) -> bool:
        return any(s.matches(path) for s in self.specs)

    def hint(self, path: str) -> None:
        """The observer saw something at ``path``: rescan unless it is a followed file."""
        if not any(t.path == path for t in self.files.values()):
            self.rescan = True

    def scan(self, *, initial: bool = False) -> None:
        """Find files, follow renames, detect truncation, pick up new files."""
        self.rescan = False
        now = self.clock()
        seen: dict[tuple[int, int], tuple[str, os.stat_result]] = {}
        for path in self.candidates():
            try:
                st = os.stat(path)
            except OSError:
                continue
            if statmod.S_ISREG(st.st_mode):
                seen.setdefault((st.st_dev, st.st_ino), (path, st))

        resets: list[TrackedFile] = []
        for key, t in list(self.files.items()):
            hit = seen.pop(key, None)
            if hit is not None:
                if hit[0] != t.path:
                    self._renamed(t, hit[0])
                t.gone_since = None
            elif t.gone_since is None:
                t.gone_since = now
            if self._changed_under(t):
                resets.append(t)

        fresh = sorted(((p, st, k) for k, (p, st) in seen.items() if k not in self.ignored), key=lambda x: x[0])
        # checkpoints that name this very inode first, so a copy never steals them
        for path, st, key in fresh:
            self._discover(path, st, key, resets, initial, inode_only=True)
        for path, st, key in fresh:
            if key not in self.files and key not in self.ignored:
                self._discover(path, st, key, resets, initial, inode_only=False)
        for t in resets:
            self._reset(t)

    def _changed_under(self, t: TrackedFile) -> bool:
        try:
            st = os.fstat(t.fd)
        except OSError:
            return False
        t.deleted = st.st_nlink == 0
        if st.st_size < t.read_pos:
            return True
        if t.fp_len and fingerprint(os.pread(t.fd, t.fp_len, 0)) != t.fp:
            return True
        return False

    def _renamed(self, t: TrackedFile, new_path: str) -> None:
        old = t.path
        t.path = new_path
        t.dirty = True
        self.stats.rotations += 1
        self.relabel(old, new_path)
        self.note(f"{old} was renamed to {new_path}; following it there")

    def _discover(self, path: str, st: os.stat_result, key: tuple[int, int], resets: list[TrackedFile],
                  initial: bool, *, inode_only: bool) -> None:
        if not self.matches(path):
            return
        why = excluded(path)
        if why:
            self.ignored[key] = why
            self._note_once(path, f"not following {path}: {why}")
            return
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            self._note_once(path, f"cannot open {path}: {exc.strerror or exc}")
            return
        try:
            head = os.pread(fd, FP_BYTES, 0)
            size = os.fstat(fd).st_size
        except OSError:
            os.close(fd)
            return
        if head[:2] == b"\x1f\x8b" or head[:4] == b"PK\x03\x04":
            os.close(fd)
            self.ignored[key] = "compressed"
            self._note_once(path, f"not following {path}: compressed (audit it with `capi-audit audit`)")
            return

        cp = self._match_checkpoint(key, head, inode_only=inode_only)
        if cp is None and inode_only:
            os.close(fd)
            return
        if cp is None:
            # the copy of a file that was just truncated (copytruncate) or moved: continue the stream in it
            for t in resets + [f for f in self.files.values() if f.deleted]:
                if self._same_data(t, head) and size >= t.offset:
                    if t in resets:
                        resets.remove(t)
                    self._adopt(t, path, key, fd)
                    return
            # a copy of a file followed right now ('.1' made before the truncation): never read twice.
            # The first bytes are not enough (logs of one shape may share them): compare up to 1 MiB.
            for t in self.files.values():
                if self._same_data(t, head) and _same_prefix(t.fd, fd, size):
                    os.close(fd)
                    self.stats.copies_skipped += 1
                    self._note_once(f"dup:{path}", f"{path} holds the same data as {t.path}; not reading it twice")
                    return
        self._uid += 1
        t = TrackedFile(uid=self._uid, path=path, dev=key[0], ino=key[1], fd=fd, fp=fingerprint(head),
                        fp_len=len(head), offset=0, line=1, last_growth=self.clock())
        if cp is not None:
            t.row_id = cp["id"]
            src = cp.get("source")
            if src and src in self.sources and (self.force_source is None or self.force_source == src):
                t.source = self.sources[src]
            if size >= cp["offset"]:
                t.offset, t.line = cp["offset"], cp["line"]
                if cp.get("window_offset", cp["offset"]) < cp["offset"]:
                    t.warm_from = (cp["window_offset"], cp["window_line"])
            else:
                self.note(f"{path} is shorter than its checkpoint; reading it again from the start")
        elif initial and not self.from_beginning and not self._root_known(path):
            t.offset = _end_offset(fd, size)
            t.line = _count_lines(fd, t.offset) + 1
        self.files[key] = t
        self.stats.files += 1

    def _root_known(self, path: str) -> bool:
        return any(s.matches(path) and root_key(s) in self.known_roots for s in self.specs)

    def _match_checkpoint(self, key: tuple[int, int], head: bytes, *, inode_only: bool) -> dict[str, Any] | None:
        for cp in self.unbound:
            if (cp["dev"], cp["inode"]) == key and self._cp_matches(cp, head):
                self.unbound.remove(cp)
                return cp
        if inode_only:
            return None
        for cp in self.unbound:
            if cp["fp_len"] >= MIN_FP_MATCH and self._cp_matches(cp, head):
                self.unbound.remove(cp)
                return cp
        return None

    @staticmethod
    def _cp_matches(cp: dict[str, Any], head: bytes) -> bool:
        n = cp["fp_len"]
        return len(head) >= n and fingerprint(head[:n]) == cp["fingerprint"]

    @staticmethod
    def _same_data(t: TrackedFile, head: bytes) -> bool:
        return t.fp_len >= MIN_FP_MATCH and len(head) >= t.fp_len and fingerprint(head[: t.fp_len]) == t.fp

    def _adopt(self, t: TrackedFile, path: str, key: tuple[int, int], fd: int) -> None:
        """``t``'s data now lives in the copy at ``path``: follow the copy from where ``t`` was."""
        old_key, old_path = (t.dev, t.ino), t.path
        os.close(t.fd)
        del self.files[old_key]
        t.fd, t.dev, t.ino, t.path = fd, key[0], key[1], path
        t.gone_since, t.deleted, t.dirty = None, False, True
        self.files[key] = t
        self.stats.truncations += 1
        self.relabel(old_path, path)
        self.note(f"{old_path} was copied to {path} and truncated; reading the rest of the old data from {path}")

    def _reset(self, t: TrackedFile) -> None:
        """Truncated or rewritten in place with no copy found: flush, then start again at 0."""
        self.flushed.extend(self._emit(t, final=True))
        self.stats.truncations += 1
        old_label = t.path
        self.relabel(old_label, f"{old_label} (before truncation #{self.stats.truncations})")
        head = os.pread(t.fd, FP_BYTES, 0)
        self._uid += 1
        t.uid = self._uid
        t.fp, t.fp_len = fingerprint(head), len(head)
        t.offset, t.line, t.skipping = 0, 1, False
        t.buf.clear()
        t.dirty = True
        t.warm_from = None
        self.note(f"{t.path} was truncated or rewritten; reading it again from the start")

    # -- reading -------------------------------------------------------------
    def _sniff(self, t: TrackedFile, size: int) -> None:
        if self.force_source:
            t.source = self.sources[self.force_source]
        elif size != t.sniffed_size:
            t.sniffed_size = size
            head = os.pread(t.fd, HEAD_BYTES, 0)
            if b"\n" not in head:
                return
            unit = InputUnit(t.path, lambda h=head: io.BytesIO(h), size)
            try:
                source, _ = pick_source(unit, self.sources, self.problems)
            except (OSError, ValueError):
                source = None
            if source is None:
                if size >= HEAD_BYTES:
                    self._ignore(t, "no source plugin recognises it")
                return
            t.source = source
        if t.source is not None:
            t.dirty = True
            if t.source.framing == "document":
                self._ignore(t, f"source {t.source.name} reads whole documents, which cannot be tailed")
                t.source = None
            else:
                self.note(f"following {t.path} ({t.source.name}) from byte {t.offset}")

    def _ignore(self, t: TrackedFile, why: str) -> None:
        key = (t.dev, t.ino)
        self.ignored[key] = why
        self._note_once(t.path, f"not following {t.path}: {why}")
        os.close(t.fd)
        del self.files[key]

    def warm_chunks(self) -> list[Chunk]:
        """Bytes already evaluated before a restart, re-read to rebuild the window."""
        out = []
        for t in self.files.values():
            if t.warm_from is None or t.source is None:
                continue
            start, line = t.warm_from
            t.warm_from = None
            if t.offset - start > WARM_CAP:
                start = t.offset - WARM_CAP
                data = os.pread(t.fd, t.offset - start, start)
                skip = data.find(b"\n") + 1
                start += skip
                line = _count_lines(t.fd, start) + 1
            data = os.pread(t.fd, t.offset - start, start)
            if data:
                out.append(Chunk(t.uid, t.path, t.source.name, start, t.offset, line, data, warm=True))
        return out

    def poll(self) -> list[Chunk]:
        """Read what was appended to every followed file; return complete records."""
        out, self.flushed = self.flushed, []
        now = self.clock()
        for key, t in list(self.files.items()):
            try:
                st = os.fstat(t.fd)
            except OSError:
                continue
            size = st.st_size
            t.deleted = st.st_nlink == 0
            if size < t.read_pos:
                self.rescan = True  # truncated: handled by the next scan
                continue
            if t.source is None:
                self._sniff(t, size)
                if t.source is None:
                    continue
            if t.fp_len < FP_BYTES and size > t.fp_len:
                head = os.pread(t.fd, FP_BYTES, 0)
                if fingerprint(head[: t.fp_len]) != t.fp:
                    self.rescan = True
                    continue
                t.fp, t.fp_len, t.dirty = fingerprint(head), len(head), True
            if size > t.read_pos:
                data = os.pread(t.fd, min(size - t.read_pos, READ_CAP), t.read_pos)
                if data:
                    t.last_growth = now
                    self.stats.bytes += len(data)
                    self._append(t, data)
            gone = t.gone_since is not None or t.deleted
            quiet = now - t.last_growth >= self.quiet_s
            out.extend(self._emit(t, final=False, quiet=quiet))
            if gone and now - max(t.last_growth, t.gone_since or 0.0) >= self.rotate_wait_s and size <= t.read_pos:
                out.extend(self._emit(t, final=True))
                self._release(t)
        return out

    def _append(self, t: TrackedFile, data: bytes) -> None:
        if t.skipping:
            nl = data.find(b"\n")
            if nl < 0:
                t.offset += len(data)
                return
            t.offset += nl + 1
            t.line += 1
            t.skipping = False
            data = data[nl + 1:]
        t.buf += data

    def _emit(self, t: TrackedFile, *, final: bool, quiet: bool = False) -> list[Chunk]:
        if not t.buf or t.source is None:
            return []
        cut = ready_bytes(bytes(t.buf), t.start_rx, quiet=quiet, final=final, max_line_bytes=self.max_line_bytes)
        out = []
        if cut.ready:
            piece = bytes(t.buf[: cut.ready])
            long_lines = count_long_lines(piece)
            out.append(Chunk(t.uid, t.path, t.source.name, t.offset, t.offset + cut.ready, t.line, piece,
                             long_lines=long_lines))
            t.long_lines += long_lines
            self.stats.long_lines += long_lines
            self.stats.lines += piece.count(b"\n")
            t.line += piece.count(b"\n")
            t.offset += cut.ready
            del t.buf[: cut.ready]
            t.dirty = True
        if cut.skip_partial:
            t.offset += len(t.buf)
            t.buf.clear()
            t.skipping = True
            t.long_lines += 1
            self.stats.long_lines += 1
            t.dirty = True
        return out

    def _release(self, t: TrackedFile) -> None:
        key = (t.dev, t.ino)
        try:
            os.close(t.fd)
        except OSError:
            pass
        del self.files[key]
        if t.deleted and t.row_id is not None:
            self.deleted_rows.append(t.row_id)
        why = "deleted" if t.deleted else "moved out of the watched paths"
        self.note(f"{t.path} was {why}; read to its end and released")

    # -- state for the caller --------------------------------------------------
    def next_deadline(self) -> float | None:
        """When a held-back entry becomes complete by quiet period (monotonic time)."""
        times = [t.last_growth + self.quiet_s for t in self.files.values() if t.buf]
        times += [max(t.last_growth, t.gone_since or 0) + self.rotate_wait_s for t in self.files.values() if t.gone_since is not None or t.deleted]
        return min(times) if times else None

    def dirty_files(self) -> list[TrackedFile]:
        return [t for t in self.files.values() if t.dirty and t.source is not None]

    def close(self) -> None:
        for t in self.files.values():
            try:
                os.close(t.fd)
            except OSError:
                pass
        self.files.clear()


def root_key(spec: WatchSpec) -> str:
    """How a watched path is remembered in the store (``kind:target``)."""
    return f"{spec.kind}:{spec.target}"


def _end_offset(fd: int, size: int) -> int:
    """Just after the last newline (a half-written last line is read once complete)."""
    if size == 0:
        return 0
    look = min(size, 1024 * 1024)
    tail = os.pread(fd, look, size - look)
    nl = tail.rfind(b"\n")
    if nl < 0:
        return 0 if size == look else size
    return size - look + nl + 1


def _count_lines(fd: int, upto: int) -> int:
    n, pos = 0, 0
    while pos < upto:
        block = os.pread(fd, min(8 * 1024 * 1024, upto - pos), pos)
        if not block:
            break
        n += block.count(b"\n")
        pos += len(block)
    return n
