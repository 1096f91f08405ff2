"""Wrapper times (``sent_at``, ``ts`` ...) -> UTC.

ISO 8601 with a zone, ISO without one (read in the ``site_timezone`` option,
default UTC), and epoch seconds or milliseconds.  Worked out once per distinct
value: a file's times repeat, and a bare payload has none at all.
"""

from __future__ import annotations

import polars as pl

UTC = pl.Datetime("us", "UTC")


def _parse(k: pl.Expr, naive_tz: str) -> tuple[pl.Expr, pl.Expr]:
    iso = k.str.strip_chars().str.replace(" ", "T", literal=True).str.replace(r"(\d)\s*(?:UTC|GMT)$", "${1}Z")
    zoned = iso.str.to_datetime("%+", time_unit="us", strict=False).dt.convert_time_zone("UTC")
    wall = pl.coalesce(
        iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False),
        iso.str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False),
    )
    num = k.str.extract(r"^\s*(\d{9,13}(?:\.\d+)?)\s*$", 1).cast(pl.Float64, strict=False)
    micros = pl.when(num >= 1e11).then(num * 1_000).otherwise(num * 1_000_000).cast(pl.Int64, strict=False)
    epoch = pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")
    local = wall.dt.replace_time_zone(naive_tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
    naive = zoned.is_null() & epoch.is_null() & wall.is_not_null()
    return pl.coalesce(zoned, epoch, local), naive


def utc_times(df: pl.DataFrame, col: str, naive_tz: str) -> tuple[pl.DataFrame, bool]:
    """``df`` with the text column ``col`` as UTC datetimes, and whether any
    value had no zone."""
    distinct = df.get_column(col).drop_nulls().unique()
    if distinct.is_empty():
        return df.with_columns(pl.lit(None, dtype=UTC).alias(col)), False
    value, naive = _parse(pl.col("k"), naive_tz)
    try:
        table = pl.DataFrame({"k": distinct}).select("k", value.alias("v"), naive.alias("n"))
    except pl.exceptions.PolarsError:  # an unknown zone name in the option
        value, naive = _parse(pl.col("k"), "UTC")
        table = pl.DataFrame({"k": distinct}).select("k", value.alias("v"), naive.alias("n"))
    out = df.with_columns(pl.col(col).replace_strict(table["k"], table["v"], default=None, return_dtype=UTC))
    return out, bool(table["n"].any())
