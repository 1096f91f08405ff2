"""A third-party style plugin for a home-grown CAPI sender log (JSON lines).

Each line: {"at": "<ISO UTC>", "pixel": "<id>", "event": "<name>", "order": <id>,
"http": <status>, "error": {"code": N, "error_subcode": N} | null, "received": N}
Used by the tests to prove that a plugin loaded with --plugin FILE takes part
in an audit exactly like a built-in one.
"""

import polars as pl

from auditor import Source, hookimpl

PLUGIN_NAME = "inhouse_sender"

DTYPE = pl.Struct({
    "at": pl.String, "pixel": pl.String, "event": pl.String, "order": pl.Int64, "http": pl.Int64,
    "error": pl.Struct({"code": pl.Int64, "error_subcode": pl.Int64, "message": pl.String}),
    "received": pl.Int64,
})


def sniff(name, head):
    return 0.9 if head.lstrip().startswith(b'{"at"') and b'"pixel"' in head else 0.0


def parse(batch, ctx):
    looks_json = pl.col("text").str.starts_with('{"at"') & pl.col("text").str.ends_with("}")
    good = batch.filter(looks_json)
    rejects = batch.filter(~looks_json & (pl.col("text").str.strip_chars() != "")).select(
        "file", "line", pl.lit("not an in-house sender record").alias("reason"))
    rec = good.with_columns(pl.col("text").str.json_decode(DTYPE).alias("r")).unnest("r")
    rows = rec.select(
        "file", "line",
        pl.lit("api_response").alias("kind"),
        pl.col("at").str.to_datetime(format="%+", time_zone="UTC").alias("logged_at"),
        pl.col("pixel").alias("pixel_id"),
        pl.col("pixel").alias("account"),
        pl.col("event").alias("event_name"),
        pl.col("order").cast(pl.String).alias("order_id"),
        pl.col("http").alias("http_status"),
        pl.col("error").struct.field("code").alias("error_code"),
        pl.col("error").struct.field("error_subcode").alias("error_subcode"),
        pl.col("received").alias("events_received"),
        pl.when(pl.col("error").struct.field("code").is_not_null()).then(pl.lit("graph_error")).otherwise(pl.lit("success")).alias("signal"),
        pl.format("{} http {}", pl.col("event"), pl.col("http")).alias("message"),
    )
    return rows, rejects


@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="inhouse_sender", sniff=sniff, parse=parse, description="home-grown JSONL sender log"))
