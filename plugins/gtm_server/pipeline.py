"""``parse`` (one batch of lines -> canonical rows) and ``finalize`` (all rows).

``parse``: :func:`.records.split_records` -> :func:`.envelope.decode_entries`
-> :func:`.stape.tag_rows` (Meta tag logs) and :func:`.ga4.browser_rows`
(GA4 hits); skipped classes are only counted, in one note kept up to date
across batches.

``finalize``: :func:`.linking.dedupe` (same ``insertId``), then
:func:`.linking.fill_pixel_by_stream` and
:func:`auditor.attribution.fill_pixel_by_folder` (answers of old tag versions
and GA4 hits name no pixel), then :func:`.linking.link` (answers -> requests).
"""

from __future__ import annotations

import polars as pl

from auditor import ParseContext, conform
from auditor.attribution import fill_pixel_by_folder

from .envelope import SKIPPED, decode_entries
from .ga4 import browser_rows
from .linking import FILLED, dedupe, fill_pixel_by_stream, link
from .patterns import REJECT_SCHEMA
from .records import split_records
from .stape import tag_rows

#: Private working columns passed from ``parse`` to ``finalize``.
PRIVATE = {
    "_insert_id": pl.String, "_role": pl.String, "_sub": pl.Int64, "_trace": pl.String, "_stream": pl.String,
}
#: What ``finalize`` reads and writes (deduplication, pixel filling, pairing):
#: the rest of the rows stays on disk; duplicates are dropped by their ``_row``.
FINALIZE_COLUMNS = (
    "file", "line", "logged_at", "event_name", "pixel_id", "account", "batch_id",
    *FILLED, *PRIVATE,
)

_COUNTS = "gtm_server.skipped"


def _count(ctx: ParseContext, counts: dict[str, int]) -> None:
    """Add to the skipped-record counters shared by the batches and rewrite their note."""
    counts = {k: n for k, n in counts.items() if n}
    if not counts:
        return
    ctx.tally(_COUNTS, counts, _skipped_note)


def _skipped_note(totals: dict[str, int]) -> str:
    """The counting note of skipped records (ParseContext.tally: batches and cluster partitions add up)."""
    parts = "; ".join(f"{totals[k]} {SKIPPED[k]}" for k in SKIPPED if totals.get(k))
    return f"gtm_server: skipped (not rejected): {parts}"


def _private(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with exactly the :data:`PRIVATE` working columns (other ``_`` columns dropped)."""
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in PRIVATE.items() if c not in df.columns]
    df = df.with_columns(missing) if df.width else pl.DataFrame(schema=PRIVATE)
    public = [c for c in df.columns if not c.startswith("_")]
    return df.select(*public, *[pl.col(c).cast(t) for c, t in PRIVATE.items()])


def parse(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    records, rejects = split_records(batch)
    entries, entry_rejects = decode_entries(records)
    klass = pl.col("_class")
    stape, ga4 = (entries.filter(klass == k) for k in ("stape", "ga4"))
    # a batch is mostly one kind of log (stdout or request shards): skip the empty work
    tags, tag_rejects = tag_rows(stape) if stape.height else (pl.DataFrame(), entry_rejects.clear())
    hits, other_ga4 = browser_rows(ga4) if ga4.height else (pl.DataFrame(), 0)
    counts = dict(entries.filter(~klass.is_in(["stape", "ga4"])).group_by("_class").len().iter_rows())
    counts["ga4_unmapped"] = other_ga4
    _count(ctx, counts)
    frames = [conform(_private(df), keep_private=True) for df in (tags, hits) if df.height]
    rows = pl.concat(frames) if frames else conform(_private(pl.DataFrame()), keep_private=True)
    all_rejects = pl.concat([rejects.cast(REJECT_SCHEMA), entry_rejects, tag_rejects]).sort("file", "line")
    return rows, all_rejects


def finalize(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    if frame.is_empty() or "_role" not in frame.columns:
        return frame
    frame = dedupe(frame, ctx)
    frame = fill_pixel_by_folder(fill_pixel_by_stream(frame, ctx), ctx)
    return link(frame, ctx)
