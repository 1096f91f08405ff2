"""Decide how much of a file's unread bytes is ready to be parsed.

Rules (the batch reader's rules, applied to a growing file):

* a line is never parsed before its newline arrives;
* for ``entries`` sources (multi-line records such as WooCommerce Request /
  Response entries) the last entry is held back until the next entry header
  arrives, or until the file has been quiet for the quiet period;
* a line without a newline that grows past ``max_line_bytes`` is skipped up to
  its next newline and counted (Fluent Bit's ``Skip_Long_Lines``); complete
  lines longer than the reader's cap are cut by the reader and counted here.

Cutting before an entry header reuses :func:`auditor.ingest.reader.entry_cut`,
so batch and watch cut entries at the same places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..ingest.reader import MAX_LINE_CHARS, entry_cut

#: A line without newline longer than this is skipped (and counted).
MAX_LINE_BYTES = MAX_LINE_CHARS
#: An unfinished entry longer than this is cut at its last complete line.
MAX_PENDING_BYTES = 8 * 1024 * 1024


def entry_regex(entry_start: str | None) -> re.Pattern[bytes] | None:
    """The reader's byte pattern for "a newline followed by an entry header"."""
    if not entry_start:
        return None
    pattern = entry_start[1:] if entry_start.startswith("^") else entry_start
    return re.compile(b"\n(?=" + pattern.encode() + b")")


@dataclass(frozen=True)
class Cut:
    ready: int  # bytes from the start of the buffer that can be parsed now
    skip_partial: bool  # the trailing unfinished line is over the cap: drop it


def ready_bytes(buf: bytes, start_rx: re.Pattern[bytes] | None, *, quiet: bool, final: bool = False,
                max_line_bytes: int = MAX_LINE_BYTES) -> Cut:
    """How many leading bytes of ``buf`` form complete records.

    ``quiet`` says the file has not grown for the quiet period, so a held-back
    last entry is complete too -- unless its last line is still unfinished
    (the writer is evidently in the middle of it).  ``final`` (the file was
    deleted, rotated away or truncated) releases every complete line.
    """
    last_nl = buf.rfind(b"\n")
    complete = last_nl + 1
    skip = len(buf) - complete > max_line_bytes
    if quiet and complete < len(buf):
        quiet = False
    if complete == 0 or start_rx is None or quiet or final or skip:
        return Cut(complete, skip)
    cut = entry_cut(buf[:complete], start_rx)
    if cut == 0 and complete > MAX_PENDING_BYTES:  # one giant entry: cut at a line
        cut = complete
    return Cut(cut, False)


def count_long_lines(piece: bytes, cap: int = MAX_LINE_CHARS) -> int:
    """Complete lines the reader will cut at ``cap`` characters (cheap when none can be)."""
    if len(piece) <= cap:
        return 0
    return sum(1 for line in piece.split(b"\n") if len(line) > cap)
