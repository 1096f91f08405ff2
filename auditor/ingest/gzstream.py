"""A gzip reader that hands out every byte decoded before a break.

``gzip.GzipFile.read(n)`` raises as soon as the stream breaks (trailing
garbage after the last member, a truncated file, a corrupt deflate block) and
drops what it had decoded in that call: a log with a few junk bytes appended
read as empty.  Archives after an outage are exactly where such files turn
up, so this reader decodes with ``zlib`` itself, member after member, keeps
its output bounded (``max_length``), returns everything it decoded, and only
then raises :class:`BrokenStream` saying what broke and where.
"""

from __future__ import annotations

import zlib
from typing import IO

from .streams import ReadOnlyStream

_STEP = 256 * 1024
_OUT_STEP = 64 * 1024
_MAGIC = b"\x1f\x8b"


class BrokenStream(OSError):
    """The compressed stream broke; every byte before the break was returned."""


def _salvage(d, data: bytes) -> bytes:
    """What ``d`` decodes from ``data`` before its error, in small steps."""
    out = bytearray()
    try:
        while True:
            part = d.decompress(data, 512)
            if not part:
                return bytes(out)
            out += part
            data = d.unconsumed_tail
    except zlib.error:
        return bytes(out)


class GzipStream(ReadOnlyStream):
    """Read-only, forward-only decompressed view of a gzip file (multi-member)."""

    def __init__(self, raw: IO[bytes]):
        self._raw = raw
        self._d = zlib.decompressobj(31)
        self._pending = b""  # compressed bytes not yet given to the decompressor
        self._out = bytearray()
        self._error: BrokenStream | None = None
        self._done = False
        self._consumed = 0  # compressed bytes read from the file
        self._members = 0

    def _fill(self, want: int) -> None:
        while len(self._out) < want and not self._done and self._error is None:
            if not self._pending and not self._d.unconsumed_tail:
                chunk = self._raw.read(_STEP)
                if not chunk:
                    if not self._d.eof:
                        self._fail(EOFError("truncated gzip stream"))
                    self._done = True
                    return
                self._consumed += len(chunk)
                self._pending = chunk
            data = self._d.unconsumed_tail or self._pending
            if not self._d.unconsumed_tail:
                self._pending = b""
            before = self._d.copy()  # to salvage the output of a call that fails
            try:
                self._out += self._d.decompress(data, _OUT_STEP)
            except zlib.error as exc:
                self._out += _salvage(before, data)
                self._fail(exc)
                return
            if self._d.eof:
                self._next_member(self._d.unused_data)

    def _next_member(self, rest: bytes) -> None:
        self._members += 1
        rest = rest + self._pending
        self._pending = b""
        if not rest:
            rest = self._raw.read(_STEP)
            self._consumed += len(rest)
            if not rest:
                self._done = True
                return
        if rest.startswith(_MAGIC) or (len(rest) == 1 and rest == _MAGIC[:1]):
            self._d = zlib.decompressobj(31)
            self._pending = rest
            return
        if not rest.strip(b"\x00"):  # zero padding after the last member (tape/block devices): fine
            tail = self._raw.read(_STEP)
            while tail and not tail.strip(b"\x00"):
                tail = self._raw.read(_STEP)
            if not tail:
                self._done = True
                return
        self._fail(ValueError("trailing garbage after the gzip data"))

    def _fail(self, exc: BaseException) -> None:
        where = f"after {self._members} complete member(s), near compressed byte {self._consumed:,}"
        self._error = BrokenStream(f"{type(exc).__name__}: {exc} ({where})")

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            while not self._done and self._error is None:
                self._fill(len(self._out) + _STEP)
            n = len(self._out)
        else:
            self._fill(n)
        if not self._out and self._error is not None:
            error, self._error = self._error, None
            self._done = True
            raise error
        data = bytes(self._out[:n])
        del self._out[:n]
        return data

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()
