"""Tell what each log entry is, from the first line of its message.

``_etype`` values: ``capi_request`` (a Request to ``/<pixel>/events``),
``other_request`` (any other Graph call the plugin logs, e.g. catalog sync),
``cut_request`` (a Request entry without its ``uri:`` line: the writer died),
``response``, ``pixel_error`` (``Could not send Pixel event: ...``),
``connection_invalid``, ``crawler``, ``token_missing``, ``plugin_updated``, ``log``.
"""

from __future__ import annotations

import polars as pl

from .patterns import (
    CONNECTION_INVALID,
    CRAWLER_BLOCKED,
    EVENTS_URI,
    PIXEL_ERROR,
    PLUGIN_UPDATED,
    TOKEN_MISSING,
)

ETYPES = (
    "capi_request", "other_request", "cut_request", "response", "pixel_error", "connection_invalid",
    "crawler", "token_missing", "plugin_updated", "log",
)


def etype_expr() -> pl.Expr:
    msg = pl.col("msg")
    return (
        pl.when(msg == "Request")
        .then(
            pl.when(pl.col("kv_uri").is_null())
            .then(pl.lit("cut_request"))
            .when(pl.col("kv_uri").str.contains(EVENTS_URI))
            .then(pl.lit("capi_request"))
            .otherwise(pl.lit("other_request"))
        )
        .when(msg == "Response").then(pl.lit("response"))
        .when(msg.str.contains(PIXEL_ERROR)).then(pl.lit("pixel_error"))
        .when(msg.str.contains(CONNECTION_INVALID)).then(pl.lit("connection_invalid"))
        .when(msg.str.contains(CRAWLER_BLOCKED)).then(pl.lit("crawler"))
        .when(msg.str.contains(TOKEN_MISSING)).then(pl.lit("token_missing"))
        .when(msg.str.contains(PLUGIN_UPDATED)).then(pl.lit("plugin_updated"))
        .otherwise(pl.lit("log"))
        .alias("_etype")
    )
