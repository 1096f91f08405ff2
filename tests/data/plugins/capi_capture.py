"""A third-party style source: a home-grown sender that logs every CAPI request
body it posts, and the backend orders it reads (JSON lines).

    {"sent_at": "<ISO>", "pixel_id": "<id>", "request": {"data": [<event>...], "test_event_code": "..."?}}
    {"logged_at": "<ISO>", "shop": "<domain>", "order": {"id": "...", "created_at": "<ISO+offset>", "total": "...", "currency": "..."}}

It emits canonical rows directly (``server_event`` per event, ``order`` per
order line) with ``auditor.classify_user_data`` for the customer parameters,
so the payload checks can be tested on a second format next to WooCommerce.
"""

import polars as pl

from auditor import USER_DATA_KEYS, Source, classify_user_data, hookimpl

PLUGIN_NAME = "capi_capture"

EVENT = pl.Struct({
    "event_name": pl.String, "event_time": pl.String, "event_id": pl.String, "action_source": pl.String,
    "event_source_url": pl.String,
    "custom_data": pl.Struct({"value": pl.String, "currency": pl.String, "order_id": pl.String}),
    "user_data": pl.Struct({k: pl.String for k in USER_DATA_KEYS}),
})
LINE = pl.Struct({
    "sent_at": pl.String, "pixel_id": pl.String, "logged_at": pl.String, "shop": pl.String,
    "request": pl.Struct({"data": pl.List(EVENT), "test_event_code": pl.String}),
    "order": pl.Struct({"id": pl.String, "created_at": pl.String, "total": pl.String, "currency": pl.String}),
})


def sniff(name, head):
    text = head.lstrip()
    return 0.9 if text.startswith(b"{") and (b'"sent_at"' in head or b'"order"' in head) and b'"request"' in head else 0.0


def _utc(col):
    return pl.col(col).str.to_datetime("%+", time_zone="UTC", strict=False, time_unit="us")


def parse(batch, ctx):
    good = batch.filter(pl.col("text").str.starts_with("{"))
    rec = good.with_columns(pl.col("text").str.json_decode(LINE).alias("r")).unnest("r")
    reqs = rec.filter(pl.col("request").is_not_null()).with_columns(
        pl.format("{}:{}", "file", "line").alias("batch_id"),
        pl.col("request").struct.field("data").list.len().cast(pl.Int64).alias("batch_size"),
        pl.col("request").struct.field("test_event_code").alias("test_event_code"),
        pl.col("request").struct.field("data").alias("ev"),
    ).explode("ev")
    e = pl.col("ev")
    raw_time = e.struct.field("event_time")
    seconds = raw_time.str.contains(r"^\d{1,11}$")
    events = reqs.select(
        "file", "line", "batch_id", "batch_size", "test_event_code",
        pl.lit("server_event").alias("kind"),
        _utc("sent_at").alias("logged_at"),
        pl.col("pixel_id"), pl.col("pixel_id").alias("account"),
        e.struct.field("event_name").alias("event_name"),
        e.struct.field("event_id").alias("event_id"),
        raw_time.alias("event_time_raw"),
        pl.when(seconds).then(pl.from_epoch(raw_time.cast(pl.Int64, strict=False), time_unit="s").dt.replace_time_zone("UTC")).alias("event_time"),
        e.struct.field("action_source").alias("action_source"),
        e.struct.field("event_source_url").alias("event_source_url"),
        e.struct.field("custom_data").struct.field("value").alias("value_raw"),
        e.struct.field("custom_data").struct.field("value").cast(pl.Float64, strict=False).alias("value"),
        e.struct.field("custom_data").struct.field("currency").alias("currency"),
        e.struct.field("custom_data").struct.field("order_id").alias("order_id"),
        *[e.struct.field("user_data").struct.field(k).alias(f"raw_ud_{k}") for k in USER_DATA_KEYS],
        pl.format("capture {}", e.struct.field("event_name")).alias("message"),
    )
    events = classify_user_data(events)
    o = pl.col("order")
    orders = rec.filter(o.is_not_null()).select(
        "file", "line",
        pl.lit("order").alias("kind"),
        _utc("logged_at").alias("logged_at"),
        o.struct.field("created_at").str.to_datetime("%+", time_zone="UTC", strict=False, time_unit="us").alias("event_time"),
        o.struct.field("created_at").alias("event_time_raw"),
        pl.col("shop"), pl.col("shop").alias("account"),
        o.struct.field("id").alias("order_id"),
        o.struct.field("total").alias("value_raw"),
        o.struct.field("total").cast(pl.Float64, strict=False).alias("value"),
        o.struct.field("currency").alias("currency"),
        pl.format("order {}", o.struct.field("id")).alias("message"),
    )
    return pl.concat([events, orders], how="diagonal_relaxed")


@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="capi_capture", sniff=sniff, parse=parse, description="home-grown CAPI request capture (JSONL)"))
