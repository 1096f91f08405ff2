"""Documents -> records.

The source reads whole files (``document`` framing): a delivery is often one
pretty-printed JSON file, and an HTTP capture spans header lines, a blank line
and the body.  Each file is split into records by its shape, decided from its
first non-blank character:

* ``{`` -- a stream of objects: one per line (NDJSON), or pretty-printed (a
  single delivery file).  A record starts at every line beginning with ``{``
  in column 0 (nested objects of a pretty-printed one are indented);
* ``[`` -- a JSON array: a record starts at each line where a top-level
  element begins (bracket depth 1, string literals ignored); a compact array
  with several elements on one line stays one record and is decoded as a list
  later (:mod:`.payload`);
* ``POST /path HTTP/1.1`` -- raw HTTP captures: a record starts at each
  request line; headers run to the first blank line, the body follows.

Everything is column expressions over the lines of the batch's documents.
"""

from __future__ import annotations

import polars as pl

from .patterns import REJECT_SCHEMA, REQUEST_LINE

_STRING_LITERAL = r'"(?:[^"\\]|\\.)*"'
_HTTP_SPLIT = r"(?s)^(?P<head>.*?)\n[ \t]*\n(?P<body>.*)$"


def _shape(text: pl.Expr) -> pl.Expr:
    head = text.str.strip_chars_start()
    return (
        pl.when(head.str.contains(r"^(?:POST|PUT|PATCH) \S+ HTTP/\d"))
        .then(pl.lit("http"))
        .when(head.str.starts_with("["))
        .then(pl.lit("array"))
        .when(head.str.starts_with("{"))
        .then(pl.lit("objects"))
        .otherwise(pl.lit("unknown"))
    )


def split_documents(batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(records, rejects)``; records have ``file, line, rec, shape``."""
    docs = batch.with_row_index("_doc").with_columns(_shape(pl.col("text")).alias("shape"))
    unknown = docs.filter(pl.col("shape") == "unknown").select(
        "file", "line",
        pl.lit("not a Shopify webhook payload, envelope, REST export or HTTP capture").alias("reason"),
    )
    docs = docs.filter(pl.col("shape") != "unknown")
    # the usual delivery file: one object from its first byte, no other line
    # opening one (a pretty-printed object's inner lines are indented, its
    # closing brace is no start).  It is one record, the whole text; only the
    # other documents are cut into lines below.
    whole = (pl.col("shape") == "objects") & pl.col("text").str.starts_with("{") & ~pl.col("text").str.contains("\n{", literal=True)
    docs = docs.with_columns(whole.alias("_whole"))
    single_docs = docs.filter(pl.col("_whole")).select(
        "_doc", pl.lit(1, dtype=pl.Int64).alias("_rid"), "file", pl.col("line").cast(pl.Int64), "shape", pl.col("text").alias("rec")
    )
    docs = docs.filter(~pl.col("_whole"))
    if docs.is_empty():  # in document order already: no sort (it would copy every text)
        records, before = single_docs, pl.DataFrame(schema=REJECT_SCHEMA)
    else:
        records, before = _split_lines(docs)
        records = pl.concat([single_docs, records.select(single_docs.columns)]).sort("_doc", "_rid")
    records = records.select("file", "line", "shape", "rec")
    rec = pl.col("rec").str.strip_chars()
    array_rec = (
        rec.str.strip_prefix("[").str.strip_chars()
        .str.strip_suffix("]").str.strip_chars()
        .str.strip_suffix(",").str.strip_chars()
    )
    records = records.with_columns(
        pl.when(pl.col("shape") == "array").then(array_rec)
        .when(pl.col("shape") == "objects").then(rec)
        .otherwise(pl.col("rec").str.strip_chars_end())
        .alias("rec")
    )
    rejects = pl.concat([unknown.cast(REJECT_SCHEMA), before.cast(REJECT_SCHEMA)])
    return records, rejects


def _split_lines(docs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(records, rejects)`` of documents that may hold several records: each
    line is tested for a record start, records are the runs of lines from one
    start to the next (``_doc, _rid, file, line, shape, rec``)."""
    lines = (
        docs.select("_doc", "file", "shape", pl.col("line").alias("_base"), pl.col("text").str.split("\n").alias("t"))
        .explode("t")
        .with_columns((pl.col("_base") + pl.int_range(pl.len()).over("_doc")).cast(pl.Int64).alias("line"))
    )
    t = pl.col("t")
    shape = pl.col("shape")
    simple = pl.when(shape == "http").then(t.str.contains(REQUEST_LINE)).otherwise(t.str.starts_with("{"))
    if (docs.get_column("shape") == "array").any():
        # bracket depth before each line (string literals blanked first); only
        # computed when the batch holds an array document
        bare = pl.when(t.str.contains(r"[\[\]{}]")).then(t.str.replace_all(_STRING_LITERAL, '""'))
        net = (bare.str.count_matches(r"[\[{]").cast(pl.Int64) - bare.str.count_matches(r"[\]}]").cast(pl.Int64)).fill_null(0)
        lines = lines.with_columns(net.alias("_net")).with_columns(
            (pl.col("_net").cum_sum().over("_doc") - pl.col("_net")).alias("_depth")
        )
        element = ((pl.col("_depth") == 1) & t.str.contains(r"^\s*\{")) | (
            (pl.col("_depth") == 0) & t.str.contains(r"^\s*\[\s*\{")
        )
        lines = lines.with_columns(pl.when(shape == "array").then(element).otherwise(simple).alias("_start")).drop("_net", "_depth")
    else:
        lines = lines.with_columns(simple.alias("_start"))
    lines = lines.with_columns(pl.col("_start").cast(pl.Int64).cum_sum().over("_doc").alias("_rid"))

    before = lines.filter(pl.col("_rid") == 0)
    before = before.filter(t.str.replace_all(r"[\s\[\]]", "") != "").group_by("_doc", maintain_order=True).agg(
        pl.col("file").first(), pl.col("line").first()
    ).select("file", "line", pl.lit("text before the first record of the file").alias("reason"))

    # a record on one line (NDJSON) is that line; only multi-line records are grouped
    inside = lines.filter(pl.col("_rid") > 0).with_columns(
        (pl.col("_rid") != pl.col("_rid").shift(-1).over("_doc")).fill_null(True).alias("_last"),
    )
    single = inside.filter(pl.col("_start") & pl.col("_last")).select("_doc", "_rid", "file", "line", "shape", t.alias("rec"))
    multi = (
        inside.filter(~(pl.col("_start") & pl.col("_last")))
        .group_by("_doc", "_rid", maintain_order=True)
        .agg(pl.col("file").first(), pl.col("line").first(), pl.col("shape").first(), t.str.join("\n").alias("rec"))
    )
    return pl.concat([single, multi.select(single.columns)]), before


def http_parts(rec: pl.Expr) -> list[pl.Expr]:
    """``_headers_text`` (request line + header lines) and ``_body_text`` of an HTTP capture."""
    parts = rec.str.extract_groups(_HTTP_SPLIT)
    return [
        pl.coalesce(parts.struct.field("head"), rec).alias("_headers_text"),
        parts.struct.field("body").str.strip_chars_end().alias("_body_text"),
    ]
