"""``parse`` of the ``graph_api`` source (framing ``entries``).

Records (:mod:`.records`) take the cheapest path that reads them:

1. one-line JSON objects (NDJSON, bare or wrapped bodies): no regexes;
2. one-line ``<timestamp> ... {json}``: only the prefix before the JSON is
   searched for the URL and HTTP status;
3. everything else (SDK blocks, Guzzle, HTTP captures, HTML pages, noise):
   the full :func:`.features.text_features`.

Then JSON is decoded by shape (:mod:`.decode`) and records become rows
(:mod:`.rows`).
"""

from __future__ import annotations

import polars as pl

from auditor import ParseContext, empty_frame

from .decode import decode_nested
from .features import null_text_features, text_features
from .patterns import HTTP_STATUS, JSON_TAIL, REJECT_SCHEMA, URL
from .records import group_records
from .rows import records_to_rows
from .timestamps import TS_PREFIX


def parse_lines(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``entries`` batch -> (api_response rows, rejects)."""
    if batch.height == 0:
        return empty_frame(), pl.DataFrame(schema=REJECT_SCHEMA)
    recs = group_records(batch).with_columns(pl.col("rid").cast(pl.Int64))
    rec = pl.col("rec")
    # 1. one-line records that are a JSON object (NDJSON) need no regexes
    one_line = ~rec.str.contains("\n", literal=True)
    plain = rec.str.starts_with("{") & rec.str.strip_chars_end().str.ends_with("}") & one_line
    fast = recs.filter(plain).with_columns(rec.str.strip_chars_end().alias("j"), *null_text_features("j"))
    # 2. one-line '<timestamp> ... {json}' records
    # the patterns run only on the records the cheap tests leave (none in NDJSON)
    maybe = pl.when(~plain & one_line).then(rec)
    prefixed = (
        maybe.str.contains(TS_PREFIX + r"[^{]*\{.*\}" + JSON_TAIL)
        & ~maybe.str.contains("resulted in a", literal=True)
    ).fill_null(False)
    pre = rec.str.extract(r"^([^{]*)", 1)
    url = pre.str.extract_groups(URL)
    quick = recs.filter(prefixed).with_columns(
        rec.str.extract(TS_PREFIX, 1).alias("t_ts"),
        rec.str.extract(r"^[^{]*(\{.*\})" + JSON_TAIL, 1).alias("j"),
        url.struct.field("gv").alias("t_version"),
        url.struct.field("px").alias("t_pixel"),
        pre.str.extract(HTTP_STATUS, 1).alias("t_status"),
        *null_text_features("t_ts", "j", "t_version", "t_pixel", "t_status"),
    )
    # 3. the rest
    slow = recs.filter(~plain & ~prefixed).with_columns(text_features(rec))
    recs = pl.concat([fast, quick.select(fast.columns), slow.select(fast.columns)], how="vertical").sort("rid")
    flat = decode_nested(recs.filter(pl.col("j").is_not_null()).select("rid", "j"))
    return records_to_rows(recs, flat, ctx, "ndjson")
