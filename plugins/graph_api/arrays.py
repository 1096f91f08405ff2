"""``parse`` of the ``graph_api_array`` source (framing ``document``).

A JSON array (``gcloud ... --format=json`` style, pretty-printed, maybe
``.json.gz``) of bodies or wrapped bodies.  The whole array is decoded by
Polars when one dtype holds every element; mixed shapes fall back to the
``json`` module once per document (never per record).  Each element gets the
line it starts on.
"""

from __future__ import annotations

import json

import polars as pl

from auditor import ParseContext, empty_frame

from .decode import decode_nested, dtype_for, flatten, shape
from .features import null_text_features
from .patterns import FLAT, REJECT_SCHEMA, S
from .rows import records_to_rows


def _element_lines(text: str, n: int) -> pl.Series:
    """1-based start line of each top-level array element.

    Bracket depth per line is a cumulative sum of opening minus closing
    brackets (string literals removed first); an element starts on a line that
    begins at depth 1, or on the ``[`` line itself when a value follows it.
    When that does not give exactly ``n`` lines (several elements on one line),
    every element gets the line of the first one.
    """
    lines = pl.DataFrame({"t": pl.Series([text]).str.split("\n").explode()}).with_row_index("line", offset=1)
    # only lines holding a bracket change the depth: count those, scatter back
    brackets = lines.filter(pl.col("t").str.contains_any(["[", "]", "{", "}"]))
    bare = pl.col("t").str.replace_all(r'"(?:[^"\\]|\\.)*"', '""')
    net_br = brackets.select(
        bare.str.count_matches(r"[\[{]").cast(pl.Int64) - bare.str.count_matches(r"[\]}]").cast(pl.Int64)
    ).to_series()
    net = pl.zeros(lines.height, dtype=pl.Int64, eager=True).scatter(
        (brackets["line"] - 1).cast(pl.Int64), net_br
    )
    depth = (net.cum_sum() - net).alias("depth")
    marked = lines.with_columns(depth).filter(pl.col("depth") <= 1)
    starts = marked.filter(
        ((pl.col("depth") == 1) & pl.col("t").str.contains(r"^\s*[^\s\]},]"))
        | ((pl.col("depth") == 0) & pl.col("t").str.contains(r"^\s*\[\s*[^\s\]]"))
    )["line"].cast(pl.Int64)
    if starts.len() == n:
        return starts
    first = int(starts[0]) if starts.len() else 1
    return pl.Series([first] * n, dtype=pl.Int64)


def parse_array(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``document`` batch (one row: a JSON array) -> (api_response rows, rejects)."""
    rows_out, rejects_out = [], []
    for file, text in batch.select("file", "text").iter_rows():  # one row per file
        rows, rejects = _parse_array_document(file, text, ctx)
        rows_out.append(rows)
        rejects_out.append(rejects)
    kept = [r for r in rows_out if r.height]
    rows = pl.concat(kept, how="diagonal_relaxed") if kept else empty_frame()
    return rows, pl.concat(rejects_out, how="vertical") if rejects_out else pl.DataFrame(schema=REJECT_SCHEMA)


def _array_elements(text: str) -> tuple[pl.DataFrame, pl.Struct | None]:
    """``rid, j`` -- each element's JSON text.

    Decoded with Polars when every element is an object whose shape one dtype
    can hold; otherwise (mixed shapes) the document is split with the ``json``
    module -- once per document, not per record.
    """
    doc = pl.DataFrame({"j": [text]})
    sig = "w" + doc.select(shape(pl.col("j"))).item()[1:]
    dtype = dtype_for(sig)
    try:
        elems = doc.select(pl.col("j").str.json_decode(pl.List(dtype)).alias("d")).explode("d")
        return elems.with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64)), dtype
    except pl.exceptions.PolarsError:
        pass
    data = json.loads(text)  # raises ValueError for a broken document
    if not isinstance(data, list):
        raise ValueError("not a JSON array")
    texts = [json.dumps(e, ensure_ascii=False) if isinstance(e, dict) else None for e in data]
    frame = pl.DataFrame({"j": texts}, schema={"j": S}).with_row_index("rid")
    return frame.with_columns(pl.col("rid").cast(pl.Int64)), None


def _parse_array_document(file: str, text: str, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    try:
        elems, dtype = _array_elements(text)
    except ValueError as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        reason = f"malformed JSON array{where}"
        return empty_frame(), pl.DataFrame({"file": [file], "line": [1], "reason": [reason]}, schema=REJECT_SCHEMA)
    n = elems.height
    if n == 0:
        return empty_frame(), pl.DataFrame(schema=REJECT_SCHEMA)
    lines = _element_lines(text, n)
    if dtype is not None:  # decoded by Polars: a null element is not an object
        flat = flatten(elems.drop_nulls("d"), dtype)
        inner = flat.select("rid", pl.col("body_text").str.extract(r"(?s)^\s*(\{.*\})\s*$").alias("j")).drop_nulls("j")
        if inner.height:
            nested = decode_nested(inner)
            flat = flat.join(nested, on="rid", how="left", suffix="_in", maintain_order="left").select(
                "rid",
                *(pl.coalesce(pl.col(c), pl.col(f"{c}_in")).alias(c) for c in FLAT if c != "body_text"),
                pl.coalesce(pl.col("body_text_in"), pl.col("body_text")).alias("body_text"),
            )
        j = pl.when(pl.col("d").is_not_null()).then(pl.lit("{}"))
    else:
        flat = decode_nested(elems.drop_nulls("j"))
        j = pl.col("j")
    recs = elems.select(
        "rid",
        pl.lit(file).alias("file"),
        pl.Series("line", lines),
        pl.lit(None, dtype=S).alias("rec"),
        j.alias("j"),
        *null_text_features("j"),
    )
    return records_to_rows(recs, flat, ctx, "array")
