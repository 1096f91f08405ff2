"""Decode JSON strings with a fixed dtype without letting one bad row fail the batch.

``str.json_decode`` raises on the first row that is not valid JSON or does not
fit the dtype.  The column is decoded in one call; only when that fails is it
split in halves (recursively) so the bad rows are isolated and come back null.
A row holding several JSON values (``{...},{...}``) also counts as bad.
A budget of calls per column keeps a batch full of odd bodies from taking long.
Part of the public plugin API: every source decodes JSON bodies with it.
"""

from __future__ import annotations

import polars as pl

#: Most decode calls spent on one column before giving up on its failing chunks.
BUDGET = 256


def safe_json_decode(s: pl.Series, dtype: pl.DataType, budget: int = BUDGET) -> pl.Series:
    """Decoded series; rows that are not JSON of that shape are null."""
    left = [budget]

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

    if s.is_empty():
        return pl.Series(s.name, [], dtype=dtype)
    return decode(s)
