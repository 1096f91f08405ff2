"""Single-line entries (and non-CAPI requests) -> one ``status`` row each.

Signals: ``Could not send Pixel event: <Type>: <msg>`` is ``transport_error``
when the text is a cURL/WP_Error transport failure, else ``graph_error``
(``error_type`` = the exception type named, ``error_code`` from ``(#N)`` if the
text has one; :mod:`.linking` adds the code of the response just before it);
``Facebook connection invalid (error 190, subcode N)`` is ``connection_invalid``;
``Blocked CAPI event for crawler`` is ``crawler_blocked``; a missing access
token is ``token_missing``; ``Starting upgrade to vX`` / ``Upgrade to vX
complete`` is ``plugin_updated`` (``connector_version`` = X); the rest is ``log``.
"""

from __future__ import annotations

import polars as pl

from .patterns import (
    CONNECTION_INVALID,
    GRAPH_CODE_IN_TEXT,
    PIXEL_ERROR_TYPE,
    PLUGIN_UPDATED,
    TRANSPORT_TEXT,
    USER_AGENT_VERSION,
)
from auditor import MESSAGE_CHARS
from auditor.redact import redact_columns

from .extra import extra_json, unusual_level
from .requests import CONNECTOR, uri_path


_SIGNAL = {
    "connection_invalid": "connection_invalid",
    "crawler": "crawler_blocked",
    "token_missing": "token_missing",
    "plugin_updated": "plugin_updated",
}


def status_rows(st: pl.DataFrame) -> pl.DataFrame:
    """Rows for entries whose ``_etype`` is neither ``capi_request`` nor ``response``."""
    msg = pl.col("msg")
    et = pl.col("_etype")
    pixel_error = et == "pixel_error"
    transport = msg.str.contains(TRANSPORT_TEXT)
    conn = msg.str.extract_groups(CONNECTION_INVALID)
    signal = (
        pl.when(pixel_error & transport).then(pl.lit("transport_error"))
        .when(pixel_error).then(pl.lit("graph_error"))
        .otherwise(et.replace_strict(_SIGNAL, default="log"))
    )
    text = (
        pl.when(et == "other_request")
        .then(pl.concat_str([pl.lit("Request "), pl.col("kv_method").fill_null(""), pl.lit(" "), uri_path(pl.col("kv_uri")).fill_null("")]))
        .when(msg == "")
        .then(pl.lit("(empty message)"))
        .otherwise(msg)
    )
    rows = st.select(
        "file", "line", "logged_at", "_tz_local", "_etype",
        pl.lit("woocommerce").alias("source"),
        pl.lit("status").alias("kind"),
        pl.lit(CONNECTOR).alias("connector"),
        signal.alias("signal"),
        pl.when(et == "connection_invalid").then(conn.struct.field("code"))
        .when(pixel_error & ~transport).then(msg.str.extract(GRAPH_CODE_IN_TEXT, 1))
        .cast(pl.Int64, strict=False).alias("error_code"),
        pl.when(et == "connection_invalid").then(conn.struct.field("sub")).cast(pl.Int64, strict=False).alias("error_subcode"),
        pl.when(pixel_error & ~transport).then(msg.str.extract(PIXEL_ERROR_TYPE, 1)).alias("error_type"),
        pl.when(et == "plugin_updated").then(msg.str.extract(PLUGIN_UPDATED, 1))
        .when(et == "other_request").then(pl.col("kv_user_agent").str.extract(USER_AGENT_VERSION, 1))
        .alias("connector_version"),
        text.alias("message"),
        extra_json(
            level=unusual_level(pl.col("level")),
            endpoint=pl.when(et == "other_request").then(uri_path(pl.col("kv_uri"))),
        ),
    )
    return redact_columns(rows, "message").with_columns(pl.col("message").str.slice(0, MESSAGE_CHARS))
