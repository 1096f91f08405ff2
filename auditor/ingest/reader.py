"""Read an input unit as bounded batches of decoded lines with line numbers.

Memory stays bounded: bytes are read in blocks of ``CHUNK_BYTES``, cut at the
last line boundary (or, for multi-line entries, before the last line that
starts an entry) and the rest is carried into the next block.  Each batch is a
Polars frame ``file, line, text``; decoding and junk detection are column
expressions.  Lines that are binary junk are skipped and reported with their
file:line.  CRLF, a UTF-8 BOM and UTF-16 files are handled.
"""

from __future__ import annotations

import re
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
    frame = pl.DataFrame({"text": lines}).with_row_index("line", offset=start_line).select(
        pl.lit(file).alias("file"),
        pl.col("line").cast(pl.Int64),
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
            yield from _utf16(unit, head + fh.read(), framing, entry_start, chunk_bytes, stats)
            return
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
        except (OSError, EOFError, ValueError) as exc:
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
    broken: Exception | None = None
    while not eof:
        block, broken = _read_block(fh, chunk_bytes)
        eof = not block or broken is not None
        buf = carry + block
        if not buf:
            break
        if eof:
            cut = len(buf)
        else:
            cut = _entry_cut(buf, start_rx) if start_rx is not None else buf.rfind(b"\n") + 1
            if cut == 0 and len(buf) > 4 * chunk_bytes:  # one giant entry: cut at a line
                cut = buf.rfind(b"\n") + 1
            if cut == 0:
                carry = buf
                continue
        piece, carry = buf[:cut], buf[cut:]
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


def _utf16(unit, data, framing, entry_start, chunk_bytes, stats):
    text = data.decode("utf-16", errors="replace")
    import io

    yield from read_batches(
        InputUnit(unit.name, lambda: io.BytesIO(text.encode("utf-8")), len(data)),
        framing, entry_start, chunk_bytes, stats,
    )
