"""Frame steps that several sources' ``finalize`` share.

* :func:`keep_first` -- duplicates of one delivery (same id: retried webhooks,
  overlapping Cloud Logging exports) counted once, the first in file/line order;
* :func:`only_value` -- for each group (a folder, a container stream), the one
  value of a column its rows name, where they name exactly one: what rows that
  name none may be attributed to.

Both are whole-column Polars work; sources write their own notes from the results.
"""

from __future__ import annotations

import polars as pl


def keep_first(frame: pl.DataFrame, key: list[str], id_column: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(kept, dropped)``: rows in file/line order, those with an ``id_column``
    kept only the first time their ``key`` values occur.  Rows without an id
    are always kept (nothing says they repeat)."""
    frame = frame.sort("file", "line", maintain_order=True)
    first = pl.col(id_column).is_null() | pl.struct(key).is_first_distinct()
    marked = frame.with_columns(first.alias("_first"))
    kept = marked.filter(pl.col("_first")).drop("_first")
    dropped = marked.filter(~pl.col("_first")).drop("_first")
    return kept, dropped


def only_value(frame: pl.DataFrame, group: str, column: str, where: pl.Expr | None = None, alias: str | None = None) -> pl.DataFrame:
    """``group, <alias>`` for each ``group`` whose rows (those matching ``where``)
    name exactly one non-null ``column`` value; ``alias`` defaults to ``_only_<column>``."""
    rows = frame.filter(pl.col(column).is_not_null() & pl.col(group).is_not_null())
    if where is not None:
        rows = rows.filter(where)
    return (
        rows.group_by(group).agg(pl.col(column).unique().alias("_values"))
        .filter(pl.col("_values").list.len() == 1)
        .select(group, pl.col("_values").list.first().alias(alias or f"_only_{column}"))
    )
