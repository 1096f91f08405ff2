"""Redact string columns with the core's :func:`auditor.redact.redact_expr`, fast.

``redact_expr`` is a chain of regex passes whose cost is dominated by per-value
overhead on short strings.  Two things keep it cheap without changing its
result: each distinct value is redacted once (log columns repeat a lot), and the
distinct values are redacted as one ``\\x00``-joined text, then split again.  No
rule can match across ``\\x00`` (no rule's character classes contain it; lines
with control characters never reach a source), and a value that itself
contains ``\\x00`` switches to the plain per-value expression.
"""

from __future__ import annotations

import polars as pl
from auditor.redact import redact_expr

_SEP = "\x00"


def redact_series(values: pl.Series) -> pl.Series:
    """``redact_expr`` applied to each value of a String series (nulls stay null)."""
    if values.len() < 64 or values.str.contains(_SEP, literal=True).any():
        return pl.select(redact_expr(pl.lit(values))).to_series().alias(values.name)
    joined = pl.select(redact_expr(pl.lit(values.fill_null("").str.join(_SEP)))).item()
    parts = pl.Series(values.name, joined.split(_SEP), dtype=pl.String)
    if parts.len() != values.len():  # cannot happen; stay correct if it does
        return pl.select(redact_expr(pl.lit(values))).to_series().alias(values.name)
    return parts.zip_with(values.is_not_null(), pl.Series([None], dtype=pl.String))


def redact_columns(df: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """``df`` with ``columns`` redacted."""
    exprs = []
    for col in columns:
        distinct = df.get_column(col).drop_nulls().unique()
        redacted = redact_series(distinct)
        exprs.append(pl.col(col).replace(distinct, redacted).alias(col))
    return df.with_columns(exprs) if exprs else df
