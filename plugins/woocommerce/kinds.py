"""Tell what each log entry is, from the first line of its message.

``_etype`` values: ``capi_request`` (a Request to ``/<pixel>/events``),
``other_request`` (any other Graph call the plugin logs, e.g. catalog sync),
``cut_request`` (a Request entry without its ``uri:`` line: the writer died),
``response``, ``pixel_error`` (``Could not send Pixel event: ...``),
``connection_invalid``, ``crawler``, ``token_missing``, ``plugin_updated``, ``log``.
"""

from __future__ import annotations

import polars as pl
from auditor.schema import by_value

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


def _message_kind(msg: pl.Expr) -> pl.Expr:
    """What the first line of a message says (``request`` still needs its uri)."""
    return (
        pl.when(msg == "Request").then(pl.lit("request"))
        .when(msg == "Response").then(pl.lit("response"))
        .when(msg.str.contains(PIXEL_ERROR)).then(pl.lit("pixel_error"))
        .when(msg.str.contains(CONNECTION_INVALID)).then(pl.lit("connection_invalid"))
        .when(msg.str.contains(CRAWLER_BLOCKED)).then(pl.lit("crawler"))
        .when(msg.str.contains(TOKEN_MISSING)).then(pl.lit("token_missing"))
        .when(msg.str.contains(PLUGIN_UPDATED)).then(pl.lit("plugin_updated"))
        .otherwise(pl.lit("log"))
    )


def etype_expr(entries: pl.DataFrame) -> pl.Expr:
    """``_etype`` of each entry.  Messages and uris repeat: the patterns run once
    per distinct value (:func:`auditor.schema.by_value`)."""
    kind = by_value(entries, "msg", _message_kind, pl.String()).fill_null("log")
    uri = pl.col("kv_uri")
    to_events = by_value(entries, "kv_uri", lambda u: u.str.contains(EVENTS_URI), pl.Boolean())
    return (
        pl.when(kind == "request")
        .then(
            pl.when(uri.is_null())
            .then(pl.lit("cut_request"))
            .when(to_events)
            .then(pl.lit("capi_request"))
            .otherwise(pl.lit("other_request"))
        )
        .otherwise(kind)
        .alias("_etype")
    )
