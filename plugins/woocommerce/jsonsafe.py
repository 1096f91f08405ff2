"""Decode JSON strings with a fixed dtype without letting one bad row fail the batch.

``str.json_decode`` raises on the first row that is not valid JSON or does not
fit the dtype.  Bodies are decoded in one call; only when that fails is the
column split in halves (recursively) so the bad rows are isolated and come back
null.  The common case stays one vectorized call; a batch with k bad rows costs
about k * log2(n) extra calls.
"""

from __future__ import annotations

import polars as pl


def safe_json_decode(s: pl.Series, dtype: pl.DataType) -> pl.Series:
    """Decoded struct series; rows that are not JSON of that shape are null."""
    try:
        return s.str.json_decode(dtype)
    except pl.exceptions.PolarsError:
        if len(s) <= 1:
            return pl.Series(s.name, [None] * len(s), dtype=dtype)
    mid = len(s) // 2
    return pl.concat([safe_json_decode(s.slice(0, mid), dtype), safe_json_decode(s.slice(mid), dtype)])
