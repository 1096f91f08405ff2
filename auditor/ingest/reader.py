"""Read an input unit as bounded pieces of decoded text, and pieces as batches of lines.

Memory stays bounded: bytes are read in blocks of ``CHUNK_BYTES``, cut at the
last line boundary (or, for multi-line entries, before the last line that
starts an entry) and the rest is carried into the next block; a line without
end keeps only its head.  :func:`read_pieces` yields the decoded blocks of one
unit; :func:`lines_frame` turns the pieces of any number of files (packed by
the pipeline) into one Polars frame ``file, line, text`` in a few column
expressions, pulling out lines that are binary junk (reported with their
file:line).  CRLF, a UTF-8 BOM and UTF-16 files are handled.
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

from ..schema import REJECT_SCHEMA
from .inputs import HEAD_BYTES, InputUnit
from .streams import ReadOnlyStream

CHUNK_BYTES = 8 * 1024 * 1024
READ_STEP = 1024 * 1024
#: A document (JSON array file) larger than this is refused, not read.
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
#: Lines longer than this are cut (and counted) so one runaway line cannot eat memory.
MAX_LINE_CHARS = 1024 * 1024
#: While reading, a line is kept up to this many bytes; the rest of it is dropped unread.
MAX_LINE_BYTES = 4 * MAX_LINE_CHARS

_CONTROL = r"[\x00-\x08\x0e-\x1f]"
#: The bytes :data:`_CONTROL` matches, for a whole-piece test at C speed.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])

BATCH_SCHEMA = {"file": pl.String, "line": pl.Int64, "text": pl.String}


@dataclass
class ReadStats:
    bytes_read: int = 0
    lines: int = 0


def decode_text(raw: bytes, first: bool) -> str:
    """Bytes of a file as text: UTF-8 (its BOM dropped when ``first``), bad bytes replaced."""
    if first and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Piece:
    """Decoded text of one file, cut at line (or entry) boundaries: the unit of packing.

    ``document`` pieces are a whole file kept as one row (line 1)."""

    file: str
    line: int  # line number of its first line
    text: str
    ends_with_newline: bool
    document: bool = False
    #: No control byte and no U+FFFD anywhere: :func:`lines_frame` skips the
    #: per-line junk test (the reader knows this from the bytes almost for free).
    clean: bool = False

    @property
    def size(self) -> int:
        return len(self.text)


def lines_frame(pieces: list[Piece]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One ``(file, line, text)`` batch from many pieces (a few Polars calls, whatever
    their number), and the junk lines pulled out as rejects ``(file, line, reason)``."""
    if not pieces:
        return pl.DataFrame(schema=BATCH_SCHEMA), pl.DataFrame(schema=REJECT_SCHEMA)
    docs = pl.DataFrame(
        {
            "file": [p.file for p in pieces],
            "start": [p.line for p in pieces],
            "text": [p.text for p in pieces],
            "trim": [p.ends_with_newline for p in pieces],
            "doc": [p.document for p in pieces],
        },
        schema={"file": pl.String, "start": pl.Int64, "text": pl.String, "trim": pl.Boolean, "doc": pl.Boolean},
    )
    if docs.get_column("doc").all():  # whole files: no line splitting, no junk test
        return docs.select("file", pl.col("start").alias("line"), "text"), pl.DataFrame(schema=REJECT_SCHEMA)
    split = pl.when(pl.col("doc")).then(pl.concat_list(pl.col("text"))).otherwise(pl.col("text").str.split("\n"))
    trimmed = pl.when(pl.col("trim") & ~pl.col("doc")).then(split.list.head(split.list.len() - 1)).otherwise(split)
    n_lines = pl.col("text").list.len().cast(pl.Int64)
    line_text = pl.col("text").str.slice(0, MAX_LINE_CHARS)
    if any("\r" in p.text for p in pieces):
        line_text = pl.col("text").str.strip_suffix("\r").str.slice(0, MAX_LINE_CHARS)
    # Int64 line numbers: a piece's first line number minus the lines of the
    # pieces before it, plus the row's position in the exploded frame
    frame = (
        docs.select("file", "start", "doc", trimmed.alias("text"))
        .with_columns((pl.col("start") - n_lines.cum_sum() + n_lines).alias("_base"))
        .explode("text", empty_as_null=False)
        .select(
            "file",
            (pl.col("_base") + pl.int_range(pl.len(), dtype=pl.Int64)).alias("line"),
            pl.when(pl.col("doc")).then(pl.col("text")).otherwise(line_text).alias("text"),
            "doc",
        )
        .drop_nulls("text")
    )
    if all(p.clean or p.document for p in pieces):
        return frame.select("file", "line", "text"), pl.DataFrame(schema=REJECT_SCHEMA)
    replacement = pl.col("text").str.count_matches("\ufffd", literal=True)
    junk = ~pl.col("doc") & (
        pl.col("text").str.contains(_CONTROL)
        | ((replacement >= 4) & (replacement * 4 > pl.col("text").str.len_chars()))
    )
    marked = frame.with_columns(junk.alias("_junk"))
    rejects = marked.filter(pl.col("_junk")).select(
        "file", "line", pl.lit("binary or undecodable bytes").alias("reason")
    )
    return marked.filter(~pl.col("_junk")).select("file", "line", "text"), rejects


def entry_cut(buf: bytes, start_rx: re.Pattern[bytes]) -> int:
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
    """Yield ``(batch, rejects)`` frames for ``unit``, one per piece (:func:`read_pieces`).

    ``batch`` has ``file``, ``line``, ``text``; ``rejects`` has ``file``,
    ``line``, ``reason``.
    """
    for piece in read_pieces(unit, framing, entry_start, chunk_bytes, stats):
        yield lines_frame([piece])


def read_pieces(
    unit: InputUnit,
    framing: str = "lines",
    entry_start: str | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    stats: ReadStats | None = None,
    head: bytes | None = None,
) -> Iterator[Piece]:
    """Yield ``unit``'s decoded text in pieces of about ``chunk_bytes``, cut at
    line boundaries (``entries``: before a line that starts an entry;
    ``document``: the whole file, one piece).  ``head``: the bytes sniffing
    read; a plain file shorter than that read is not opened again.

    Raises ``OSError``/``EOFError``/``zlib.error`` if the stream itself breaks,
    after the pieces read before the break; callers report that and go on with
    the next unit.
    """
    stats = stats or ReadStats()
    whole = head is not None and unit.plain and len(head) < HEAD_BYTES  # sniffing read all of it
    with (io.BytesIO(head) if whole else unit.open()) as fh:
        head = fh.read(4)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            fh = _Utf16AsUtf8(fh, head)  # re-encoded as it is read: never read whole
            head = fh.read(4)
        if framing == "document":
            data = head + _read_capped(fh, MAX_DOCUMENT_BYTES)
            stats.bytes_read += len(data)
            text = decode_text(data, True)
            if b"\r" in data:  # tests on the bytes: memchr speed, 20,000 files over
                text = text.replace("\r\n", "\n")
            stats.lines += data.count(b"\n") + 1  # decoding never adds or drops a newline
            yield Piece(unit.name, 1, text, False, document=True)
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


def _stream(name, head, fh, framing, entry_start, chunk_bytes, stats) -> Iterator[Piece]:
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
            cut = entry_cut(buf, start_rx) if start_rx is not None else buf.rfind(b"\n") + 1
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
        ends = piece.endswith(b"\n")
        text = decode_text(piece, first)
        first = False
        stats.lines += n_newlines + (0 if ends else 1)
        clean = "\ufffd" not in text and len(piece.translate(None, _CONTROL_BYTES)) == len(piece)
        yield Piece(name, line_no, text, ends, clean=clean)
        line_no += n_newlines
    if broken is not None:
        raise broken


class _Utf16AsUtf8(ReadOnlyStream):
    """A UTF-16 stream (BOM in ``head``) read as UTF-8, block by block."""

    def __init__(self, fh: IO[bytes], head: bytes):
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        self._pending = self._decoder.decode(head).encode("utf-8")
        self._eof = False

    def read(self, n: int = -1) -> bytes:
        while not self._eof and (n < 0 or len(self._pending) < n):
            raw = self._fh.read(READ_STEP)
            self._eof = not raw
            self._pending += self._decoder.decode(raw, final=self._eof).encode("utf-8")
        if n < 0:
            n = len(self._pending)
        out, self._pending = self._pending[:n], self._pending[n:]
        return out
