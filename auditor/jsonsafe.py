"""Decode JSON strings with a fixed dtype without letting one bad row fail the batch.

``str.json_decode`` raises on the first row that is not valid JSON or does not
fit the dtype.  The column is decoded in slices of about :data:`DECODE_BYTES`
of text, one call each; only when a call fails is its slice split in halves
(recursively) so the bad rows are isolated and come back null.
A row holding several JSON values (``{...},{...}``) also counts as bad.
A budget of calls per column keeps a batch full of odd bodies from taking long.
Part of the public plugin API: every source decodes JSON bodies with it.
"""

from __future__ import annotations

import polars as pl

#: Most decode calls spent on one column before giving up on its failing chunks.
BUDGET = 256
#: Text given to one decode call.  Polars' decoder builds a document tree of
#: its whole input first (an 8 MiB column took ~7x its size more); slices of
#: a few MiB keep that small, and the allocator reuses the same pages slice
#: after slice instead of the kernel faulting in fresh ones (20,000 Shopify
#: deliveries: page faults -45 %, peak memory 450 -> 340 MB, same time).
DECODE_BYTES = 2 << 20


def text_slices(s: pl.Series) -> list[tuple[int, int]]:
    """``(offset, length)`` row ranges of the string series ``s`` holding about
    :data:`DECODE_BYTES` of text each (by the average row length; nulls are free)."""
    max_bytes = DECODE_BYTES
    n = len(s)
    total = s.str.len_bytes().sum() or 0
    if n <= 1 or total <= max_bytes:
        return [(0, n)]
    per = max(1, -(-n * max_bytes // total))
    return [(o, min(per, n - o)) for o in range(0, n, per)]


def safe_json_decode(s: pl.Series, dtype: pl.DataType, budget: int = BUDGET) -> pl.Series:
    """Decoded series; rows that are not JSON of that shape are null.
    ``budget`` bounds the calls spent isolating bad rows (beyond one a slice)."""
    if s.is_empty():
        return pl.Series(s.name, [], dtype=dtype)
    slices = text_slices(s)
    left = [budget + len(slices)]

    def decode(part: pl.Series) -> pl.Series:
        left[0] -= 1
        try:
            out = part.str.json_decode(dtype)
            if len(out) == len(part):  # "{..},{..}" can decode to two values: not one record
                return out
        except pl.exceptions.PolarsError:
            pass
        if len(part) <= 1 or left[0] <= 0:
            return pl.Series(part.name, [None] * len(part), dtype=dtype)
        mid = len(part) // 2
        return pl.concat([decode(part.slice(0, mid)), decode(part.slice(mid))])

    parts = [decode(s.slice(offset, length)) for offset, length in slices]
    return parts[0] if len(parts) == 1 else pl.concat(parts, rechunk=False)
