"""Response entries -> one ``api_response`` row each.

``signal``: ``transport_error`` when ``code:`` is empty (the plugin logs the
exchange even when no HTTP answer came back), ``graph_error`` for a JSON error
object, ``success`` for a JSON body without one, ``server_error_page`` for an
HTML page or any other non-JSON error body.  Which request a response answers
(batch_id, pixel, version) is decided later by :mod:`.linking`.
"""

from __future__ import annotations

import polars as pl

from .entries import REJECT_SCHEMA
from .extra import extra_json, unusual_level
from auditor import MESSAGE_CHARS
from auditor.jsonsafe import safe_json_decode
from auditor.redact import redact_columns
from .requests import CONNECTOR

_ERROR = pl.Struct({
    "message": pl.String, "type": pl.String, "code": pl.String, "error_subcode": pl.String,
    "is_transient": pl.String, "error_user_title": pl.String, "error_user_msg": pl.String,
    "fbtrace_id": pl.String,
})
BODY_DTYPE = pl.Struct({"events_received": pl.String, "fbtrace_id": pl.String, "error": _ERROR})


def _int(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().cast(pl.Int64, strict=False)


def response_rows(resp: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(rows, rejects)`` for entries whose ``_etype`` is ``response``."""
    body = pl.col("kv_body").str.strip_chars()
    is_json = body.str.starts_with("{")
    resp = resp.with_columns(pl.when(is_json).then(body).alias("_body_text"))
    resp = resp.with_columns(safe_json_decode(resp.get_column("_body_text"), BODY_DTYPE).alias("_body"))

    status = _int(pl.col("kv_code"))
    err = pl.col("_body").struct.field("error")
    has_error = err.is_not_null()
    json_ok = pl.col("_body").is_not_null()
    broken_json = is_json.fill_null(False) & ~json_ok
    missing_body = pl.col("kv_body").is_null()
    truncated = pl.col("kv_code").is_null() & missing_body
    html = body.str.starts_with("<").fill_null(False)

    bad = truncated | ((status < 500).fill_null(False) & (missing_body | broken_json))
    rejects = resp.filter(bad).select(
        "file",
        pl.coalesce("body_line", "line").alias("line"),
        pl.when(missing_body)
        .then(pl.lit("response entry without a body line (cut or half-written entry)"))
        .otherwise(pl.lit("response body is not valid JSON (cut or half-written entry?)"))
        .alias("reason"),
    ).cast(REJECT_SCHEMA)

    signal = (
        pl.when(status.is_null()).then(pl.lit("transport_error"))
        .when(json_ok & has_error).then(pl.lit("graph_error"))
        .when(json_ok & (status < 400)).then(pl.lit("success"))
        .when(html | (status >= 400)).then(pl.lit("server_error_page"))
        .otherwise(pl.lit("success"))
    )
    fbtrace = pl.coalesce(
        err.struct.field("fbtrace_id"), pl.col("_body").struct.field("fbtrace_id"),
        pl.col("kv_x_fb_request_id").str.strip_chars(), pl.col("kv_x_fb_trace_id").str.strip_chars(),
    )
    title = pl.coalesce(err.struct.field("error_user_title"), pl.lit(""))
    detail = (
        pl.when(status.is_null()).then(pl.lit("no HTTP status (transport failure, no answer)"))
        .when(json_ok & has_error).then(
            pl.concat_str(
                [
                    err.struct.field("type").fill_null("error"), pl.lit(" code "),
                    err.struct.field("code").fill_null("?"),
                    pl.when(err.struct.field("error_subcode").is_not_null())
                    .then(pl.lit("/") + err.struct.field("error_subcode")).otherwise(pl.lit("")),
                    pl.lit(": "), err.struct.field("message").fill_null(""),
                    pl.when(title != "").then(pl.lit(" (") + title + pl.lit(")")).otherwise(pl.lit("")),
                ]
            )
        )
        .when(json_ok).then(pl.lit("events_received=") + pl.col("_body").struct.field("events_received").fill_null("?"))
        .when(body.str.starts_with("<")).then(pl.lit("HTML error page instead of JSON"))
        .when(body.is_null() | (body == "")).then(pl.lit("empty body"))
        .otherwise(pl.lit("non-JSON body: ") + body)
    )
    head = pl.concat_str([pl.lit("Response "), pl.col("kv_code").fill_null(""), pl.lit(" "), pl.col("kv_message").fill_null("")])
    message = head.str.replace_all(r"\s+", " ").str.strip_chars() + pl.lit(": ") + detail

    rows = resp.filter(~bad).select(
        "file", "line", "logged_at", "_tz_local", "_etype",
        pl.lit("woocommerce").alias("source"),
        pl.lit("api_response").alias("kind"),
        pl.lit(CONNECTOR).alias("connector"),
        status.alias("http_status"),
        _int(err.struct.field("code")).alias("error_code"),
        _int(err.struct.field("error_subcode")).alias("error_subcode"),
        err.struct.field("type").alias("error_type"),
        err.struct.field("is_transient").str.to_lowercase().replace_strict(
            {"true": True, "1": True, "false": False, "0": False}, default=None, return_dtype=pl.Boolean
        ).alias("is_transient"),
        _int(pl.col("_body").struct.field("events_received")).alias("events_received"),
        fbtrace.alias("fbtrace_id"),
        signal.alias("signal"),
        message.alias("message"),  # redacted whole, then cut (a cut e-mail would escape the rules)
        extra_json(level=unusual_level(pl.col("level"))),
    )
    rows = redact_columns(rows, "message").with_columns(pl.col("message").str.slice(0, MESSAGE_CHARS))
    return rows, rejects
