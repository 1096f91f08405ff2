"""Monolog time stamps -> UTC.

``2021-03-01 10:00:00`` (Monolog 1, no zone: read in ``zone``, UTC unless the
user says otherwise) and ``2024-01-05T10:11:12.123456+00:00`` (Monolog 2/3).
Worked out once per distinct stamp; a stamp that is no real time (month 13)
makes its record a reject.
"""

from __future__ import annotations

import polars as pl

from auditor import REJECT_SCHEMA

UTC = pl.Datetime("us", "UTC")


def log_times(records: pl.DataFrame, zone: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(records with logged_at, rejects for impossible stamps)``."""
    distinct = records.get_column("ts").drop_nulls().unique()
    k = pl.col("k").str.replace(" ", "T", literal=True)
    zoned = k.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
    zoned = pl.coalesce(zoned, k.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", strict=False),
                        k.str.replace(r"Z$", "+00:00").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False))
    wall = k.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
    try:
        local = wall.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        table = pl.DataFrame({"k": distinct}).select("k", pl.coalesce(zoned.dt.convert_time_zone("UTC"), local.dt.convert_time_zone("UTC")).alias("v"))
    except pl.exceptions.PolarsError:  # a zone Polars does not know: UTC
        local = wall.dt.replace_time_zone("UTC")
        table = pl.DataFrame({"k": distinct}).select("k", pl.coalesce(zoned.dt.convert_time_zone("UTC"), local).alias("v"))
    out = records.with_columns(pl.col("ts").replace_strict(table["k"], table["v"], default=None, return_dtype=UTC).alias("logged_at"))
    bad = out.filter(pl.col("logged_at").is_null()).select(
        "file", "line", pl.lit("log header with an impossible date/time; record skipped").alias("reason")
    ).cast(REJECT_SCHEMA)
    return out.filter(pl.col("logged_at").is_not_null()), bad
