"""Lines -> records (one JSON object each).

The source uses ``entries`` framing with :data:`.patterns.ENTRY_START`, so a
batch is only ever cut before a line that starts a record: NDJSON lines (GCS
sink shards, BigQuery NDJSON exports, raw stdout) and the top-level elements
of pretty-printed arrays (``gcloud logging read --format=json``, ``jq``,
Python ``indent=4``) are therefore never split.  Array punctuation (``[``,
``],``, ``]``) is dropped from the records; a record that is still not one
object (several elements compacted on one line) fails to decode later and is
rejected with a hint.

Large arrays stream like NDJSON this way: no document is held in memory.
"""

from __future__ import annotations

import polars as pl

from .patterns import ENTRY_START, PUNCTUATION_ONLY


def split_records(batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(records, rejects)``; records have ``file, line, rec`` (the object's text)."""
    text = pl.col("text")
    if batch.select((text.str.starts_with("{") & text.str.ends_with("}")).all(ignore_nulls=False)).item() is True:
        # NDJSON (GCS sink shards): every line is a whole record, nothing to strip
        return batch.select("file", "line", text.alias("rec")), batch.clear().select("file", "line", pl.lit("").alias("reason"))
    starts = batch.select(text.str.contains(ENTRY_START)).to_series()
    if starts.all():  # every line starts a record
        records = batch.select("file", "line", text.alias("rec"))
        orphans = batch.clear().select("file", "line", pl.lit("").alias("reason"))
    else:
        new_file = pl.col("file") != pl.col("file").shift(1, fill_value="\0")
        lines = batch.with_columns(starts.alias("_start")).with_columns(
            (pl.col("_start") | new_file).cum_sum().alias("_rid"),
            pl.when(pl.col("_start") | new_file).then(pl.col("_start")).forward_fill().alias("_in"),
        )
        orphans = lines.filter(~pl.col("_in") & ~text.str.contains(PUNCTUATION_ONLY)).select(
            "file", "line", pl.lit("line outside any JSON record (cut file or a broken pretty-printed array)").alias("reason")
        )
        records = (
            lines.filter(pl.col("_in"))
            .group_by("_rid", maintain_order=True)
            .agg(pl.col("file").first(), pl.col("line").first(), text.str.join("\n").alias("rec"))
            .drop("_rid")
        )
    rec = (
        pl.col("rec").str.strip_chars()
        .str.strip_prefix("[").str.strip_chars()
        .str.strip_suffix(",").str.strip_chars()
        .str.strip_suffix("]").str.strip_chars()
        .str.strip_suffix(",").str.strip_chars()
    )
    records = records.with_columns(rec.alias("rec")).filter(~pl.col("rec").str.contains(PUNCTUATION_ONLY))
    return records, orphans
