"""Frame steps that several sources' ``finalize`` share.

* :func:`keep_first` -- duplicates of one delivery (same id: retried webhooks,
  overlapping Cloud Logging exports) counted once, the first in file/line order;
* :func:`only_value` -- for each group (a folder, a container stream), the one
  value of a column its rows name, where they name exactly one: what rows that
  name none may be attributed to.

Both are whole-column Polars work; sources write their own notes from the results.

For a ``finalize`` over millions of rows that must not copy its wide frame:

* :func:`in_row_order` -- expressions evaluated over a *narrow* frame sorted
  some other way (file, time ...), results returned in the frame's row order;
* :func:`replace_changed` -- swap in only the columns whose values changed;
* :func:`chunked_like` -- a new column cut into the frame's chunks, so putting
  it in copies nothing.
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


#: The row index column :func:`in_row_order` adds: ``compute`` may use it (a row's original position).
ROW_INDEX = "_row"


def in_row_order(box: list[pl.DataFrame], by: list[str], compute: list[pl.Expr], *, nulls_last: bool = False) -> pl.DataFrame:
    """``compute`` evaluated over the narrow frame in ``box`` sorted by ``by``
    (stable), returned in the frame's row order; ``pl.col(ROW_INDEX)`` in them
    is a row's position in the unsorted frame.

    Only the few columns of the narrow frame are sorted, never the wide frame;
    the results come back in the original order by sorting them on the row
    index.  The frame comes in a one-item list that is emptied, so its unsorted
    copy is freed as soon as the sorted one exists.
    """
    ordered = box.pop().with_row_index(ROW_INDEX).sort(*by, ROW_INDEX, nulls_last=nulls_last)
    # one expression at a time: evaluated together, their full-length temporaries add up
    results = pl.DataFrame([ordered.get_column(ROW_INDEX), *(ordered.select(e).to_series() for e in compute)])
    del ordered
    return results.sort(ROW_INDEX).drop(ROW_INDEX)


def replace_changed(frame: pl.DataFrame, updates: dict[str, pl.Expr]) -> pl.DataFrame:
    """``frame`` with the columns whose new values differ replaced (unchanged ones keep their buffers)."""
    changed = []
    for name, expr in updates.items():
        new = frame.select(expr.alias(name)).to_series()
        if not new.equals(frame.get_column(name)):
            changed.append(chunked_like(new, frame))
    return frame.with_columns(changed) if changed else frame


def chunked_like(new: pl.Series, frame: pl.DataFrame) -> pl.Series:
    """``new`` cut into the chunks of ``frame`` (zero-copy slices).

    The frame ``finalize`` gets is the concatenation of the parse batches, so its
    columns are made of one chunk per batch.  A column computed by a gather is a
    single chunk; put into that frame as is, the chunk layouts disagree and the
    next operation on the frame (``localize``, the core's ``with_columns``)
    rechunks *every* column: a copy of the whole frame.  Cut the same way, the
    new column fits and nothing is copied.
    """
    lengths = frame.get_column("line").chunk_lengths()
    if len(lengths) <= 1 or new.chunk_lengths() == lengths:
        return new
    new = new.rechunk()
    offsets = [0]
    for n in lengths[:-1]:
        offsets.append(offsets[-1] + n)
    return pl.concat([new.slice(o, n) for o, n in zip(offsets, lengths)], rechunk=False)
