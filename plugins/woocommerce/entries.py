"""Group the physical lines of a batch into log entries.

An entry starts at a header line (``MM-DD-YYYY @ HH:MM:SS - `` or
``YYYY-MM-DDTHH:MM:SS+00:00 LEVEL ``) and runs to the next one.  The result has
one row per entry: where it starts, its header time and level, the first line
of its message, and the ``key: value`` lines of Request/Response entries
(``method``, ``uri``, ``user-agent``, ``body``, ``duration``, ``code``,
``message`` and the ``x-fb-*`` ids of ``print_r`` header blocks).  Everything is
column expressions; the only grouping is one ``group_by`` over the few key lines.
"""

from __future__ import annotations

import polars as pl

from auditor import REJECT_SCHEMA  # noqa: F401 - requests, responses and status import it from here
from auditor.schema import by_value

from .patterns import CONTEXT_SUFFIX, ENTRY_START, HEADER_PARTS, KV_KEYS, KV_PREFIX


#: Columns of the entries frame built here (kv columns use ``kv_`` + key with '-' as '_').
KV_COLUMNS = {k: "kv_" + k.replace("-", "_") for k in KV_KEYS}


def strip_context(expr: pl.Expr) -> pl.Expr:
    """Drop a v2 `` CONTEXT: {...}`` suffix (only touches values that contain it)."""
    has = expr.str.contains(" CONTEXT: ", literal=True)
    # the pattern runs on those values only (a request body is kilobytes long)
    return pl.when(has).then(pl.when(has).then(expr).str.replace(CONTEXT_SUFFIX, "")).otherwise(expr)


def split_entries(batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(entries, rejects)`` for a ``file, line, text`` batch."""
    text = pl.col("text")
    new_file = pl.col("file") != pl.col("file").shift(1, fill_value="")
    lines = batch.select(
        "file", "line", "text", text.str.contains(ENTRY_START).alias("_hdr"), new_file.alias("_new_file")
    ).with_columns(
        (pl.col("_hdr") | pl.col("_new_file")).cum_sum().alias("entry"),
        # True on every line of a segment that began with a header
        pl.when(pl.col("_hdr") | pl.col("_new_file")).then(pl.col("_hdr")).forward_fill().alias("_in_entry"),
    )

    rejects = _orphan_rejects(lines)
    body = lines.filter(pl.col("_in_entry"))

    headers = _headers(body.filter(pl.col("_hdr")))
    kv = _key_values(body.filter(~pl.col("_hdr")))
    entries = headers.join(kv, on="entry", how="left", maintain_order="left")
    for col in [*KV_COLUMNS.values(), "body_line"]:
        if col not in entries.columns:
            entries = entries.with_columns(pl.lit(None, dtype=pl.Int64 if col == "body_line" else pl.String).alias(col))

    bad_time = entries.filter(pl.col("logged_at").is_null()).select(
        "file", "line", pl.lit("log header with an impossible date/time; entry skipped").alias("reason")
    )
    return entries.filter(pl.col("logged_at").is_not_null()), pl.concat([rejects, bad_time])


def _orphan_rejects(lines: pl.DataFrame) -> pl.DataFrame:
    """Non-blank lines that precede the first header (of the batch, or of a file in it)."""
    outside = lines.filter(~pl.col("_in_entry"))  # few lines: strip only those
    return outside.filter(pl.col("text").str.strip_chars() != "").select(
        "file",
        "line",
        pl.lit("line before the first log header (its entry started earlier or the file is cut)").alias("reason"),
    )


def _header_parts(text: pl.Expr) -> list[pl.Expr]:
    """The :data:`HEADER_PARTS` groups of header lines, regex-free for the usual line.

    ``<iso> <LEVEL> <message>`` splits at its first two spaces into exactly the
    groups the pattern captures (the time has no space; the level is letters).
    Legacy headers and levels followed by a tab or a line end (rare) take the
    regex: capturing seven groups costs ~4x the split on every header line.
    """
    split = text.str.splitn(" ", 3)
    iso, level, msg = (split.struct.field(f"field_{i}") for i in range(3))
    fast = (text.str.slice(2, 1) != "-") & level.str.contains(r"^[A-Za-z]+$")
    slow = pl.when(~fast).then(text).str.extract_groups(HEADER_PARTS)
    exprs = [slow.struct.field(g).alias(g) for g in ("mo", "dd", "yy", "hms")]
    exprs.append(pl.when(fast).then(iso).otherwise(slow.struct.field("iso")).alias("iso"))
    exprs.append(pl.when(fast).then(level).otherwise(slow.struct.field("level")).alias("level"))
    exprs.append(pl.when(fast).then(msg.fill_null("")).otherwise(slow.struct.field("msg")).alias("msg"))
    return exprs


def _headers(hdr: pl.DataFrame) -> pl.DataFrame:
    hdr = hdr.select("file", "line", "entry", *_header_parts(pl.col("text")))
    legacy = pl.col("yy").is_not_null()
    local_text = pl.concat_str([pl.col("yy"), pl.col("mo"), pl.col("dd")], separator="-") + " " + pl.col("hms")
    local = local_text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).dt.replace_time_zone("UTC")
    iso = pl.col("iso").str.to_datetime("%+", time_zone="UTC", strict=False)
    return hdr.select(
        "file",
        "line",
        "entry",
        pl.when(legacy).then(local).otherwise(iso).dt.cast_time_unit("us").alias("logged_at"),
        legacy.alias("_tz_local"),
        pl.col("level").str.to_uppercase().alias("level"),
        strip_context(pl.col("msg")).str.strip_chars().alias("msg"),
    )


#: Number of each kept key (its position in :data:`KV_KEYS`).
_KEY_NUMBER = {k: i for i, k in enumerate(KV_KEYS)}


def _key_number(prefix: pl.Expr) -> pl.Expr:
    """``method: `` -> 0, ``    [X-FB-Trace-ID] => `` -> 8 (see :data:`KV_KEYS`)."""
    key = prefix.str.strip_chars(" \t[]=>:").str.to_lowercase()
    return key.replace_strict(_KEY_NUMBER, default=None, return_dtype=pl.Int8)


def _key_values(rest: pl.DataFrame) -> pl.DataFrame:
    kv = (
        rest.select("entry", "line", "text", pl.col("text").str.extract(KV_PREFIX, 1).alias("prefix"))
        .filter(pl.col("prefix").is_not_null())
    )
    # a log has a handful of distinct prefixes: each is named once
    kv = kv.select(
        "entry",
        "line",
        by_value(kv, "prefix", _key_number, pl.Int8()).alias("key"),
        strip_context(pl.col("text").str.slice(pl.col("prefix").str.len_chars())).alias("value"),
    )
    # per entry, the row of the first line of each key (integer minimums: a cheap
    # group_by), then the values gathered by row; no string goes through the group_by
    first = (
        kv.lazy()
        .with_row_index("_row")
        .select("entry", *[pl.when(pl.col("key") == _KEY_NUMBER[k]).then(pl.col("_row")).alias(c) for k, c in KV_COLUMNS.items()])
        .group_by("entry")
        .agg(pl.all().min())
        .collect()
    )
    value, line = kv.get_column("value"), kv.get_column("line")
    return first.with_columns(
        *[value.gather(first.get_column(c)).alias(c) for c in KV_COLUMNS.values()],
        line.gather(first.get_column(KV_COLUMNS["body"])).alias("body_line"),
    )
