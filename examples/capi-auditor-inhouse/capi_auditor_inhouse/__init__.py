"""capi-auditor plugin for a home-grown store (example for docs/plugins.md).

Two sources, both vectorized Polars:

* ``inhouse_orders`` — JSON-lines order log -> ``order`` rows;
* ``inhouse_sender`` — plain-text CAPI sender log with Apache-style time
  stamps (``[01/Apr/2026:10:00:03 +0200]``) -> one ``server_event`` and one
  ``api_response`` row per send.
"""

from __future__ import annotations

import polars as pl

from auditor import Source, hookimpl
from auditor.redact import redact_columns

ORDER = pl.Struct({"ts": pl.String, "order": pl.String, "total": pl.String, "currency": pl.String,
                   "channel": pl.String, "shop": pl.String})

SENDER_LINE = (
    r"^\[(?P<ts>[^\]]+)\] (?P<level>[A-Z]+) capi (?P<what>sent|failed) (?P<event>\w+)"
    r" order=(?P<order>\S+) event_id=(?P<event_id>\S+) pixel=(?P<pixel>\d+) status=(?P<status>\d+)"
    r"(?: received=(?P<received>\d+))?(?: code=(?P<code>\d+))?(?: subcode=(?P<subcode>\d+))?(?: msg=\"(?P<msg>[^\"]*)\")?"
)


def sniff_orders(file_name: str, head: bytes) -> float:
    first = head.split(b"\n", 1)[0]
    return 0.9 if first.startswith(b"{") and b'"order"' in first and b'"total"' in first else 0.0


def sniff_sender(file_name: str, head: bytes) -> float:
    return 0.9 if b"] INFO capi sent " in head or b"] ERROR capi failed " in head else 0.0


def parse_orders(batch: pl.DataFrame, ctx):
    text = pl.col("text").str.strip_chars()
    whole = text.str.starts_with("{") & text.str.ends_with("}")
    rejects = batch.filter(~whole & (text != "")).select("file", "line", pl.lit("not an order record").alias("reason"))
    rec = batch.filter(whole).with_columns(text.str.json_decode(ORDER).alias("r")).unnest("r")
    rows = rec.select(
        "file", "line",
        pl.lit("order").alias("kind"),
        pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S%#z", strict=False).dt.convert_time_zone("UTC").alias("logged_at"),
        pl.col("ts").str.to_datetime("%Y-%m-%d %H:%M:%S%#z", strict=False).dt.convert_time_zone("UTC").alias("event_time"),
        pl.col("order").alias("order_id"),
        pl.col("total").cast(pl.Float64, strict=False).alias("value"),
        pl.col("total").alias("value_raw"),
        pl.col("currency"),
        pl.col("shop"),
        pl.lit("Purchase").alias("event_name"),
        pl.format("order {} {} {}", "order", "total", "currency").alias("message"),
    )
    return rows, rejects


def parse_sender(batch: pl.DataFrame, ctx):
    parts = pl.col("text").str.extract_groups(SENDER_LINE)
    rec = batch.with_columns(parts.alias("p")).unnest("p")
    ok = pl.col("ts").is_not_null()
    rejects = batch.filter(~pl.col("text").str.contains(SENDER_LINE) & (pl.col("text").str.strip_chars() != "")).select(
        "file", "line", pl.lit("not a sender line").alias("reason"))
    rec = rec.filter(ok).with_columns(
        pl.col("ts").str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False).dt.convert_time_zone("UTC").alias("logged_at"),
        pl.format("{}:{}", "file", "line").alias("batch_id"),
    )
    common = ["file", "line", "logged_at", "batch_id", pl.col("pixel").alias("pixel_id"), pl.col("pixel").alias("account"),
              pl.col("event").alias("event_name"), pl.col("event_id"), pl.col("order").alias("order_id"),
              pl.lit("inhouse-sender").alias("connector")]
    sent = rec.select(*common, pl.lit("server_event").alias("kind"), pl.lit(1, pl.Int64).alias("batch_size"),
                      pl.format("sent {} {}", "event", "order").alias("message"))
    failed = pl.col("code").is_not_null()
    answered = rec.select(
        *common, pl.lit("api_response").alias("kind"),
        pl.col("status").cast(pl.Int64).alias("http_status"),
        pl.col("code").cast(pl.Int64).alias("error_code"),
        pl.col("subcode").cast(pl.Int64).alias("error_subcode"),
        pl.col("received").cast(pl.Int64).alias("events_received"),
        pl.when(failed).then(pl.lit("graph_error")).otherwise(pl.lit("success")).alias("signal"),
        pl.format("HTTP {} {}", "status", pl.col("msg").fill_null("")).alias("message"),
    )
    rows = pl.concat([sent, answered], how="diagonal_relaxed")
    return redact_columns(rows, "message"), rejects


@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="inhouse_orders", sniff=sniff_orders, parse=parse_orders,
                    description="home-grown store: JSON-lines order log"))
    register(Source(name="inhouse_sender", sniff=sniff_sender, parse=parse_sender,
                    description="home-grown store: plain-text CAPI sender log"))
