"""Decode JSON strings with a fixed dtype without letting one bad row fail the batch.

``str.json_decode`` raises on the first row that is not valid JSON or does not
fit the dtype.  Bodies are decoded in one call; only when that fails is the
column split in halves (recursively) so the bad rows are isolated and come back
null.  The common case stays one vectorized call; k bad rows cost about
k * log2(n) extra calls, and a budget of calls per column keeps a batch full of
odd bodies from taking long: what is still unresolved when it runs out is null.
"""

from __future__ import annotations

import polars as pl

#: Most decode calls spent on one column before giving up on its failing chunks.
BUDGET = 256


def safe_json_decode(s: pl.Series, dtype: pl.DataType, budget: int = BUDGET) -> pl.Series:
    """Decoded struct series; rows that are not JSON of that shape are null."""
    left = [budget]

    def decode(part: pl.Series) -> pl.Series:
        left[0] -= 1
        try:
            return part.str.json_decode(dtype)
        except pl.exceptions.PolarsError:
            if len(part) <= 1 or left[0] <= 0:
                return pl.Series(part.name, [None] * len(part), dtype=dtype)
        mid = len(part) // 2
        return pl.concat([decode(part.slice(0, mid)), decode(part.slice(mid))])

    return decode(s)
