"""Lines -> records: one JSON object each, however it was printed.

In-house senders save a request payload either as one NDJSON line or
pretty-printed over many lines (``json.dumps(indent=2)``, ``JSON_PRETTY_PRINT``),
possibly several objects one after another in one file.  A record starts at a
line whose first character is ``{`` (a pretty printer indents everything
inside the object); the lines up to the next such line are its text.  A
one-line object ends its record, and so does a line in column 0 that could
not continue an object (not ``}``/``]``): junk between payloads is a record
of its own (a reject), never glued to the payload before it.

:data:`ENTRY_START` is what the reader cuts batches at.  It does not match a
*response* line (``{"events_received": ...}``, ``{"error": ...}``) so a batch
is never cut between a request and the response saved right after it.
"""

from __future__ import annotations

import polars as pl

#: A response object that follows its request (never a batch boundary).
RESPONSE_HEAD = r'^\{\s*"(?:events_received|error|fbtrace_id|messages)"'
#: Python ``re`` (the reader) -- a ``{`` in column 0 that does not open a response.
ENTRY_START = r'^\{(?!\s*"(?:events_received|error|fbtrace_id|messages)")'


def group_records(batch: pl.DataFrame) -> pl.DataFrame:
    """``file, line, text`` -> ``rid, file, line, rec`` (``line``: the record's
    first line).  Blank lines are dropped; non-blank lines before a file's
    first ``{`` make a record of their own (it will not decode: a reject)."""
    text = pl.col("text")
    new_file = pl.col("file") != pl.col("file").shift(1, fill_value="\0")
    lines = batch.filter(text.str.strip_chars() != "")
    brace = text.str.starts_with("{")
    one_line = brace & text.str.strip_chars_end().str.ends_with("}")
    continues = text.str.contains(r"^(?:\s|\}|\])")
    start = new_file | brace | one_line.shift(1).fill_null(False) | ~continues
    lines = lines.with_columns(start.cum_sum().alias("rid"))
    rid = pl.col("rid")
    lone = (rid != rid.shift(1)).fill_null(True) & (rid != rid.shift(-1)).fill_null(True)
    lines = lines.with_columns(lone.alias("_lone"))
    single = lines.filter(pl.col("_lone")).select("rid", "file", "line", text.alias("rec"))
    multi = (
        lines.filter(~pl.col("_lone"))
        .group_by("rid", maintain_order=True)
        .agg(pl.col("file").first(), pl.col("line").first(), text.str.join("\n").alias("rec"))
    )
    out = pl.concat([single, multi], how="vertical").sort("rid")
    return out.with_columns(pl.col("rid").cast(pl.Int64), pl.col("line").cast(pl.Int64))
