"""Lines -> records.

A record starts at a timestamped line; at a ``{`` / ``<!DOCTYPE`` line in
column 0 unless the previous line ends with ``:`` (Guzzle's ``... response:``
puts the body on the next line) or *announces a body* (an HTTP capture line
ending in ``... 1583 bytes)``, ``(content-type: text/html...)`` or
``-> HTTP 502 Bad Gateway``, or an ``HTTP/1.1 502 ...`` status line:
:data:`.patterns.ANNOUNCE`); at ``<html`` unless it follows one of those or
a line ending in ``>`` (the doctype); at an SDK ``Message: Call was not
successful`` line not preceded by its logging prefix; and at the line after
a complete one-line JSON record.

:data:`ENTRY_START` is the reader's version of the rule (Python ``re``, fixed
width look-behinds only).  It must only match lines where
:func:`group_records` starts a record too -- the reader cuts batches there --
so it is stricter: a ``{``/doctype line only counts after a line ending in
``}``, ``]`` or ``>`` or after a blank line, ``<html`` only after ``}``,
``]`` or a blank line.  Fewer cuts only make batches larger, never records
different.
"""

from __future__ import annotations

import polars as pl

from .patterns import ANNOUNCE, SDK_LINE
from .timestamps import TS_HEAD

_AFTER_CLOSE = r"(?:(?<=[}\]>]\n)|(?<=[}\]>]\r\n)|(?<=\n\n)|(?<=\n\r\n))"
_AFTER_JSON_CLOSE = r"(?:(?<=[}\]]\n)|(?<=[}\]]\r\n)|(?<=\n\n)|(?<=\n\r\n))"
ENTRY_START = (
    r"^(?:" + TS_HEAD
    + r"|" + _AFTER_CLOSE + r"(?:\{|(?i:<!doctype))"
    + r"|" + _AFTER_JSON_CLOSE + r"(?i:<html))"
)


def group_records(batch: pl.DataFrame) -> pl.DataFrame:
    """Group a ``file, line, text`` batch into records ``rid, file, line, rec``
    (``line`` of the record's first line; blank lines dropped).

    Per-line booleans, shifted to look at the previous line, and a cumulative
    sum of record starts: no per-line Python.
    """
    text = pl.col("text")
    # blank lines are found once, for the NDJSON test and for the rules below
    batch = batch.with_columns((text.str.strip_chars() == "").alias("_blank"))
    blank = pl.col("_blank")
    # NDJSON: every line one JSON object.  Then each line is its own record (a
    # one-line object closes its record; nothing before it announces a body),
    # exactly what the rules below give, for two literal tests a line.
    one_object = text.str.starts_with("{") & text.str.strip_chars_end().str.ends_with("}")
    if batch.select((one_object | blank).all()).item():
        return batch.filter(~blank).select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("rid"), "file", "line",
                                           text.alias("rec"))
    # per-line booleans first (cheap, mostly literal tests), then shift booleans
    feats = batch.with_columns(
        text.str.contains("^" + TS_HEAD).alias("_ts"),
        text.str.starts_with("{").alias("_brace"),
        (text.str.starts_with("<") & text.str.contains(r"^(?i:<!doctype)")).alias("_doctype"),
        (text.str.starts_with("<") & text.str.contains(r"^(?i:<html)")).alias("_html"),
        (text.str.ends_with(":") | text.str.ends_with(": ")).alias("_colon"),
        text.str.ends_with(">").alias("_gt"),
        (text.str.ends_with("}") | text.str.ends_with("[]")).alias("_closes"),
        text.str.contains(SDK_LINE).alias("_sdk"),
        text.str.contains(r":\s*$").alias("_colon_ws"),
        text.str.contains(r"[}\])]\s*$").alias("_closes_ws"),
        text.str.contains(ANNOUNCE).alias("_announce"),
    )
    b = pl.col
    after_colon = b("_colon").shift(1).fill_null(False)
    after_gt = b("_gt").shift(1).fill_null(False)
    after_announce = b("_announce").shift(1).fill_null(False)
    # a one-line JSON response ends its record: unrelated lines after it start anew
    prev_complete = ((b("_brace") | b("_ts")) & b("_closes")).shift(1).fill_null(False)
    prefix = b("_colon_ws") | (b("_ts") & ~b("_closes_ws"))
    prev_prefix = pl.when(~b("_blank")).then(prefix).otherwise(None).shift(1).forward_fill().fill_null(False)
    # a batch may hold several files (small files are packed): each starts a record
    new_file = pl.col("file") != pl.col("file").shift(1, fill_value="\0")
    start = (
        new_file
        | prev_complete
        | b("_ts")
        | ((b("_brace") | b("_doctype")) & ~after_colon & ~after_announce)
        | (b("_html") & ~after_colon & ~after_gt & ~after_announce)
        | (b("_sdk") & ~prev_prefix)
    )
    lines = (
        feats.with_columns(start.or_(pl.int_range(pl.len()) == 0).alias("_start"))
        .with_columns(pl.col("_start").cum_sum().alias("rid"))
        .filter(~pl.col("_blank"))
    )
    rid = pl.col("rid")
    lone = (rid != rid.shift(1)).fill_null(True) & (rid != rid.shift(-1)).fill_null(True)
    lines = lines.with_columns(lone.alias("_lone"))
    single = lines.filter(pl.col("_lone")).select("rid", "file", "line", pl.col("text").alias("rec"))
    multi = (
        lines.filter(~pl.col("_lone"))
        .group_by("rid", maintain_order=True)
        .agg(pl.col("file").first(), pl.col("line").first(), pl.col("text").str.join("\n").alias("rec"))
    )
    return pl.concat([single, multi], how="vertical").sort("rid")
