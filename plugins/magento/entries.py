"""Lines -> log records.

A record starts at a ``[time] channel.LEVEL: `` line and runs to the next
one (Magento keeps the line breaks of a message: a Guzzle exception puts the
response body on its second line, an exception its stack trace on the next
ones).  Lines before a file's first header are rejects.  Column expressions
and one ``group_by`` over continuation lines only: no per-record Python.
"""

from __future__ import annotations

import polars as pl

from auditor import REJECT_SCHEMA

from .patterns import ENTRY_START, HEADER_PARTS, TAIL


def split_records(batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(records, rejects)``: records have ``file, line, ts, channel, level,
    msg, context, extra`` (``msg`` the whole message, line breaks kept)."""
    text = pl.col("text")
    new_file = pl.col("file") != pl.col("file").shift(1, fill_value="\0")
    lines = batch.with_columns(text.str.contains(ENTRY_START).alias("_hdr"), new_file.alias("_new")).with_columns(
        (pl.col("_hdr") | pl.col("_new")).cum_sum().alias("rid"),
    ).with_columns(pl.col("_hdr").first().over("rid").alias("_in"))
    rejects = lines.filter(~pl.col("_in") & (text.str.strip_chars() != "")).select(
        "file", "line", pl.lit("line before the first log header (its record started earlier or the file is cut)").alias("reason")
    ).cast(REJECT_SCHEMA)
    body = lines.filter(pl.col("_in"))
    heads = body.filter(pl.col("_hdr")).select("rid", "file", "line", text.str.extract_groups(HEADER_PARTS).alias("h")).unnest("h")
    cont = body.filter(~pl.col("_hdr") & (text.str.strip_chars() != ""))
    if cont.height:
        more = cont.group_by("rid").agg(text.str.join("\n").alias("_more"))
        heads = heads.join(more, on="rid", how="left")
        full = pl.when(pl.col("_more").is_not_null()).then(pl.col("rest") + "\n" + pl.col("_more")).otherwise(pl.col("rest"))
    else:
        full = pl.col("rest")
    heads = heads.with_columns(full.alias("_full"))
    tail = pl.col("_full").str.extract_groups(TAIL)
    records = heads.sort("rid").select(
        "file", pl.col("line").cast(pl.Int64), "ts", "channel", "level",
        pl.coalesce(tail.struct.field("msg"), pl.col("_full")).str.strip_chars().alias("msg"),
        tail.struct.field("context").alias("context"),
        tail.struct.field("extra").alias("extra_text"),
    )
    return records, rejects
