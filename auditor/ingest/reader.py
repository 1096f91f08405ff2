"""Read an input unit as bounded batches of decoded lines with line numbers.

Memory stays bounded: bytes are read in blocks of ``CHUNK_BYTES``, cut at the
last line boundary (or, for multi-line entries, before the last line that
starts an entry) and the rest is carried into the next block.  Each batch is a
Polars frame ``file, line, text``; decoding and junk detection are column
expressions.  Lines that are binary junk are skipped and reported with their
file:line.  CRLF, a UTF-8 BOM and UTF-16 files are handled.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Iterator

import polars as pl

from .inputs import InputUnit

CHUNK_BYTES = 8 * 1024 * 1024
READ_STEP = 1024 * 1024
#: A document (JSON array file) larger than this is refused, not read.
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
#: Lines longer than this are cut (and counted) so one runaway line cannot eat memory.
MAX_LINE_CHARS = 1024 * 1024
#: While reading, a line is kept up to this many bytes; the rest of it is dropped unread.
MAX_LINE_BYTES = 4 * MAX_LINE_CHARS

_CONTROL = r"[\x00-\x08\x0e-\x1f]"

REJECT_SCHEMA = {"file": pl.String, "line": pl.Int64, "reason": pl.String}


@dataclass
class ReadStats:
    bytes_read: int = 0
    lines: int = 0


def _decode(raw: bytes, first: bool) -> str:
    if first and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8", errors="replace")


def _lines_frame(text: str, file: str, start_line: int, ends_with_newline: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split decoded text into a (file, line, text) frame; pull junk lines out."""
    lines = pl.Series("text", [text]).str.split("\n").explode(empty_as_null=False)
    if ends_with_newline and len(lines):
        lines = lines.head(len(lines) - 1)
    # Int64 line numbers from the start: a row index is 32-bit and a file may hold more lines
    frame = pl.DataFrame({"text": lines}).select(
        pl.lit(file).alias("file"),
        pl.int_range(start_line, start_line + len(lines), dtype=pl.Int64).alias("line"),
        pl.col("text").str.strip_suffix("\r").str.slice(0, MAX_LINE_CHARS),
    )
    replacement = pl.col("text").str.count_matches("\ufffd", literal=True)
    junk = pl.col("text").str.contains(_CONTROL) | (
        (replacement >= 4) & (replacement * 4 > pl.col("text").str.len_chars())
    )
    marked = frame.with_columns(junk.alias("_junk"))
    rejects = marked.filter(pl.col("_junk")).select(
        "file", "line", pl.lit("binary or undecodable bytes").alias("reason")
    )
    return marked.filter(~pl.col("_junk")).drop("_junk"), rejects


def _entry_cut(buf: bytes, start_rx: re.Pattern[bytes]) -> int:
    """Offset just after the newline that precedes the last entry start."""
    for window in (64 * 1024, 1024 * 1024, len(buf)):
        lo = max(0, len(buf) - window)
        last = None
        for m in start_rx.finditer(buf, lo):
            last = m
        if last is not None and last.start() + 1 > 0:
            return last.start() + 1
        if lo == 0:
            break
    return 0


def read_batches(
    unit: InputUnit,
    framing: str = "lines",
    entry_start: str | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    stats: ReadStats | None = None,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Yield ``(batch, rejects)`` frames for ``unit``.

    ``batch`` has ``file``, ``line``, ``text``; ``rejects`` has ``file``,
    ``line``, ``reason``.  Raises ``OSError``/``EOFError``/``zlib.error`` if the
    stream itself breaks; callers report that and go on with the next unit.
    """
    stats = stats or ReadStats()
    with unit.open() as fh:
        head = fh.read(4)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            fh = _Utf16AsUtf8(fh, head)  # re-encoded as it is read: never read whole
            head = fh.read(4)
        if framing == "document":
            data = head + _read_capped(fh, MAX_DOCUMENT_BYTES)
            stats.bytes_read += len(data)
            text = _decode(data, True).replace("\r\n", "\n")
            stats.lines += text.count("\n") + 1
            yield pl.DataFrame({"file": [unit.name], "line": [1], "text": [text]}, schema_overrides={"line": pl.Int64}), pl.DataFrame(schema=REJECT_SCHEMA)
            return
        yield from _stream(unit.name, head, fh, framing, entry_start, chunk_bytes, stats)


def _read_block(fh: IO[bytes], size: int) -> tuple[bytes, Exception | None]:
    """Read up to ``size`` bytes in 1 MiB steps, so a stream that breaks
    (truncated gzip/zip) still returns what was readable before the break."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        try:
            part = fh.read(min(READ_STEP, size - got))
        except (OSError, EOFError, ValueError, zlib.error, zipfile.BadZipFile) as exc:
            return b"".join(parts), exc
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts), None


def _read_capped(fh: IO[bytes], cap: int) -> bytes:
    data = fh.read(cap + 1)
    if len(data) > cap:
        raise OSError(f"document larger than {cap // (1024 * 1024)} MiB; split it into NDJSON")
    return data


def _stream(name, head, fh, framing, entry_start, chunk_bytes, stats) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    start_rx = None
    if framing == "entries" and entry_start:
        pattern = entry_start[1:] if entry_start.startswith("^") else entry_start
        start_rx = re.compile(b"\n(?=" + pattern.encode() + b")")
    carry = head
    line_no = 1
    first = True
    eof = False
    skipping = False  # inside an over-long line whose head was kept: drop bytes to its newline
    broken: Exception | None = None
    while not eof:
        block, broken = _read_block(fh, chunk_bytes)
        eof = not block or broken is not None
        if skipping:
            nl = block.find(b"\n")
            if nl < 0 and not eof:
                continue
            block = block[nl:] if nl >= 0 else b""
            skipping = False
        buf = carry + block
        if not buf:
            break
        if eof:
            cut = len(buf)
        else:
            cut = _entry_cut(buf, start_rx) if start_rx is not None else buf.rfind(b"\n") + 1
            if cut == 0 and len(buf) > 4 * chunk_bytes:  # one giant entry: cut at a line
                cut = buf.rfind(b"\n") + 1
        piece, carry = buf[:cut], buf[cut:]
        # memory stays bounded whatever the bytes: a line without end keeps its head only
        partial = carry.rfind(b"\n") + 1
        if len(carry) - partial > MAX_LINE_BYTES:
            carry = carry[: partial + MAX_LINE_BYTES]
            skipping = True
        if not piece:
            continue
        stats.bytes_read += len(piece)
        n_newlines = piece.count(b"\n")
        text = _decode(piece, first)
        first = False
        batch, rejects = _lines_frame(text, name, line_no, piece.endswith(b"\n"))
        stats.lines += batch.height + rejects.height
        line_no += n_newlines
        yield batch, rejects
    if broken is not None:
        raise broken


class _Utf16AsUtf8(io.RawIOBase):
    """A UTF-16 stream (BOM in ``head``) read as UTF-8, block by block."""

    def __init__(self, fh: IO[bytes], head: bytes):
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        self._pending = self._decoder.decode(head).encode("utf-8")
        self._eof = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while not self._eof and (n < 0 or len(self._pending) < n):
            raw = self._fh.read(READ_STEP)
            self._eof = not raw
            self._pending += self._decoder.decode(raw, final=self._eof).encode("utf-8")
        if n < 0:
            n = len(self._pending)
        out, self._pending = self._pending[:n], self._pending[n:]
        return out
