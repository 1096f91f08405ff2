"""Records -> delivery parts -> decoded orders/checkouts ("items").

A record is one of:

* an **HTTP capture** (``POST ... HTTP/1.1``, headers, blank line, body);
* an **envelope** ``{"headers": {...}, "body": <raw string | object>}``;
* a **bare payload** (the webhook body as delivered) or a **REST export**
  ``{"order": {...}}`` / ``{"orders": [...]}`` (also ``checkout(s)``).

The body is decoded once with :data:`.patterns.BODY`; REST wrappers are
unwrapped and lists exploded, so every item is one order or checkout.
Deliveries of other topics (:data:`.patterns.ORDER_TOPICS` does not match:
``draft_orders/*``, ``products/*``, ``refunds/*`` ...) are counted and
skipped; a payload without a topic that is neither an order nor a checkout is
rejected.
"""

from __future__ import annotations

import polars as pl

from .headers import add_headers
from auditor.jsonsafe import safe_json_decode
from .patterns import BODY, CHECKOUT_TOPIC_PREFIX, ORDER, ORDER_TOPICS, REJECT_SCHEMA
from .records import http_parts

_ENVELOPE_HEADERS = r'"headers"\s*:\s*[\[{]'
_ENVELOPE_BODY = r'"body"\s*:'
_STRING_BODY = r'"body"\s*:\s*"'
#: a headers object without nested objects (values are strings, numbers or one-element lists)
_FLAT_HEADERS = r'"headers"\s*:\s*(\{[^{}]*\})'
_RAW_ENVELOPE = pl.Struct({"body": pl.String})


def delivery_parts(records: pl.DataFrame) -> pl.DataFrame:
    """Add ``_envelope``, ``_headers_text``, ``_body_text``, ``_body_kind`` and the header columns.

    Each shape is handled on its own rows, so NDJSON of bare payloads pays for
    neither the HTTP split nor the envelope's JSON paths.
    """
    rec = pl.col("rec")
    is_http = pl.col("shape") == "http"
    envelope = ~is_http & rec.str.contains(_ENVELOPE_HEADERS) & rec.str.contains(_ENVELOPE_BODY)
    records = records.with_columns(envelope.alias("_envelope"))
    http = records.filter(is_http).with_columns(*http_parts(rec), pl.lit("raw").alias("_body_kind"))
    env = _envelope_parts(records.filter(pl.col("_envelope")))
    bare = records.filter(~is_http & ~pl.col("_envelope")).with_columns(
        pl.lit(None, dtype=pl.String).alias("_headers_text"), rec.alias("_body_text"), pl.lit("bare").alias("_body_kind"),
    )
    shapes = [part for part in (http, env, bare) if part.height] or [env]
    # one shape (the usual archive): its rows are in file/line order already,
    # and a concat and a sort would copy every text again
    out = shapes[0] if len(shapes) == 1 else pl.concat(shapes, how="diagonal_relaxed").sort("file", "line", maintain_order=True)
    return add_headers(out)


def _envelope_parts(env: pl.DataFrame) -> pl.DataFrame:
    """``_headers_text``, ``_body_text`` and ``_body_kind`` of envelope records, reading each envelope once.

    A raw body (a JSON string: what Shopify sent, byte for byte) is taken by
    one decode against ``{"body": String}``; the headers object is cut out of
    the text when it is flat and ``"headers"`` occurs once in it.  Anything
    else (an object body's text, nested, repeated or escaped headers, an
    envelope that does not decode) takes the JSON paths, which read the
    whole envelope each.
    """
    rec = pl.col("rec")
    raw = rec.str.contains(_STRING_BODY)
    env = env.with_columns(raw.alias("_raw"))
    body = safe_json_decode(env.select(pl.when(pl.col("_raw")).then(rec)).to_series(), _RAW_ENVELOPE)
    env = env.with_columns(body.struct.field("body").alias("_body_text"))
    flat = rec.str.extract(_FLAT_HEADERS, 1)
    # once, and no \\u escape (the JSON path writes those back as characters)
    once = (rec.str.count_matches('"headers"', literal=True) == 1) & ~flat.str.contains("\\u", literal=True)
    headers = pl.when(once).then(flat)
    env = env.with_columns(headers.alias("_headers_text"))
    # the JSON paths only where the cheap reads left a gap (none, in the usual archive)
    gaps = [
        pl.coalesce(col, pl.when(pl.col(col).is_null()).then(rec).str.json_path_match(path)).alias(col)
        for col, path in (("_headers_text", "$.headers"), ("_body_text", "$.body"))
        if env.get_column(col).has_nulls()
    ]
    return env.with_columns(
        *gaps, pl.when(pl.col("_raw")).then(pl.lit("raw")).otherwise(pl.lit("reserialised")).alias("_body_kind"),
    ).drop("_raw")


def decode_items(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """``(items, rejects, skipped)``: one row per order/checkout with ``_o`` (:data:`ORDER`) and
    ``_wrapper``; ``skipped`` counts deliveries of other topics by topic."""
    body = pl.col("_body_text").str.strip_chars()
    records = records.with_columns(pl.when(body.str.starts_with("{")).then(body).alias("_json"))
    records = records.with_columns(safe_json_decode(records.get_column("_json"), BODY).alias("_d"))

    # a compact JSON array with several bare payloads on one line
    retry_mask = pl.col("_d").is_null() & (pl.col("shape") == "array") & pl.col("rec").str.contains(r"\}\s*,\s*\{")
    retry = records.filter(retry_mask)
    if retry.height:
        listed = safe_json_decode(("[" + retry.get_column("rec") + "]").alias("_l"), pl.List(BODY))
        retry = retry.with_columns(listed.alias("_l")).filter(pl.col("_l").is_not_null()).drop("_d").explode("_l").rename({"_l": "_d"})
        records = pl.concat([records.filter(~retry_mask), retry.select(records.columns)]).sort("file", "line", maintain_order=True)

    bad = records.filter(pl.col("_d").is_null()).select(
        "file", "line",
        pl.when(pl.col("_envelope") & pl.col("_body_text").is_null()).then(pl.lit("envelope without a body"))
        .when(pl.col("_body_text").is_null() | (pl.col("_body_text").str.strip_chars() == "")).then(pl.lit("delivery without a body"))
        .otherwise(pl.lit("body is not a JSON object of the expected shape (cut or half-written delivery?)"))
        .alias("reason"),
    )
    # the texts are read: filtering and exploding the items need not copy them
    records = records.drop("rec", "_body_text", "_json")
    d = pl.col("_d")
    top = pl.struct([d.struct.field(f) for f in ORDER.to_schema()])
    orders, checkouts = d.struct.field("orders"), d.struct.field("checkouts")
    items = records.filter(d.is_not_null()).with_columns(
        pl.when(orders.list.len() > 0).then(pl.lit("orders"))
        .when(checkouts.list.len() > 0).then(pl.lit("checkouts"))
        .when(d.struct.field("order").is_not_null()).then(pl.lit("order"))
        .when(d.struct.field("checkout").is_not_null()).then(pl.lit("checkout"))
        .alias("_wrapper"),
        pl.when(orders.list.len() > 0).then(orders)
        .when(checkouts.list.len() > 0).then(checkouts)
        .otherwise(pl.concat_list(pl.coalesce(d.struct.field("order"), d.struct.field("checkout"), top)))
        .alias("_o"),
    ).drop("_d").explode("_o")

    o = pl.col("_o")
    topic = pl.col("_topic").str.to_lowercase()
    order_topic = topic.str.contains(ORDER_TOPICS).fill_null(True)  # no topic: judged by shape
    looks_like = (o.struct.field("total_price").is_not_null() | o.struct.field("order_number").is_not_null()).fill_null(False)
    keep = order_topic & looks_like
    # deliveries of other topics (products/*, refunds/*, customers/* ...) are not ours: counted, not rejected
    skipped = items.filter(~keep & topic.is_not_null()).group_by(topic.alias("topic")).len()
    not_order = items.filter(~keep & topic.is_null()).select(
        "file", "line", pl.lit("JSON is not a Shopify order or checkout").alias("reason"),
    )
    items = items.filter(keep).with_columns(
        (
            topic.str.starts_with(CHECKOUT_TOPIC_PREFIX).fill_null(False)
            | pl.col("_wrapper").is_in(["checkout", "checkouts"]).fill_null(False)
            | (
                topic.is_null()
                & pl.col("_wrapper").is_null()
                & o.struct.field("name").is_null()
                & o.struct.field("order_number").is_null()
                & o.struct.field("token").is_not_null()
            )
        ).alias("_is_checkout"),
        topic.alias("_topic"),
    )
    rejects = pl.concat([bad.cast(REJECT_SCHEMA), not_order.cast(REJECT_SCHEMA)])
    return items, rejects, dict(skipped.iter_rows())
