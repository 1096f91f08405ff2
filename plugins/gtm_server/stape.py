"""Stape Facebook-tag log objects -> canonical rows.

The tag logs ``JSON.stringify`` of (keys as emitted; the BigQuery copy renames
them to snake_case and stringifies the bodies -- ``response_body`` twice,
since the console body is already a string):

* ``Type: "Request"`` -- ``EventName``, ``RequestMethod``, ``RequestUrl``
  (``https://graph.facebook.com/v24.0/<pixel>/events?access_token=...``),
  ``RequestBody`` (Meta's ``{"data": [...], "partner_agent": ...}``),
  ``TraceId`` (from a ``trace-id`` request header, absent without it) ->
  one ``server_event`` row per ``data[]`` event (``batch_id`` = ``file:line``);
* ``Type: "Response"`` -- ``ResponseStatusCode``, ``ResponseBody`` (the Graph
  JSON as a *string*), ``Message: "Pixel ID: <id>"`` -> one ``api_response``
  row (``success`` / ``graph_error`` / ``server_error_page``);
* ``Message: "Request failed or timed out. Pixel ID: <id>"`` with ``Reason``
  -> a ``status`` row, ``signal="transport_error"``;
* ``Type: "Message"`` (``Something went wrong.``) -> a ``status`` row,
  ``signal="log"``;
* ``Type: "Request-Response"`` (GTMS-7 BigQuery rows) -> both.

``access_token`` / ``appsecret_proof`` never leave this module: URLs are only
read for the pixel id and Graph version, and ``message`` /
``event_source_url`` go through :func:`auditor.redact.redact_columns`.
"""

from __future__ import annotations

import polars as pl

from auditor import MESSAGE_CHARS, classify_user_data
from auditor.capi_payload import event_columns
from auditor.jsonsafe import safe_json_decode
from auditor.redact import redact_columns
from auditor.userdata import add_sent_digests

from .envelope import stape_field
from .patterns import (
    CONNECTOR_META, CONNECTOR_STAPE, FAILURE_MESSAGE, GRAPH_URL, PARTNER_AGENT, PIXEL_IN_MESSAGE,
    PIXEL_IN_QUERY, REJECT_SCHEMA, REQUEST_BODY, RESPONSE_BODY, TAG_LOG,
)



def _unwrap_string(expr: pl.Expr) -> pl.Expr:
    """A body that is a JSON string literal (the BigQuery copy stringifies twice) -> its content."""
    quoted = expr.str.starts_with('"')
    return pl.when(quoted).then(pl.when(quoted).then(expr).str.json_path_match("$")).otherwise(expr)


def _body(*keys: str) -> pl.Expr:
    """The body's text: a string decoded with the entry's ``jsonPayload``, else the key read from ``_payload``."""
    p = pl.col("_payload")
    decoded = [pl.col("_s").struct.field(k) for k in keys if TAG_LOG.to_schema()[k] == pl.String]
    return _unwrap_string(pl.coalesce(*decoded, *[p.str.json_path_match(f"$.{k}") for k in keys]))


def _pixel(url: pl.Expr, message: pl.Expr) -> pl.Expr:
    return pl.coalesce(
        url.str.extract(GRAPH_URL, 2), url.str.extract(PIXEL_IN_QUERY, 1), message.str.extract(PIXEL_IN_MESSAGE, 1)
    )


def _extra(*fields: pl.Expr) -> pl.Expr:
    return pl.struct(
        stape_field("TraceId", "trace_id").alias("trace_id"),
        stape_field("Name", "tag_name").alias("tag"),
        pl.col("_stream").alias("stream"),
        *fields,
    ).struct.json_encode().alias("extra")


def _short(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s+", " ").str.strip_chars().str.slice(0, MESSAGE_CHARS)


def _common() -> list[pl.Expr]:
    return [
        pl.lit("gtm_server").alias("source"),
        stape_field("EventName", "event_name").alias("event_name"),
        stape_field("TraceId", "trace_id").alias("_trace"),
    ]


def request_rows(tags: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``server_event`` rows of Request (and Request-Response) objects, and rejects."""
    decoded = pl.col("_s").struct.field("RequestBody")  # an object, decoded with its log
    req = tags.with_columns(pl.when(decoded.is_null()).then(_body("RequestBody", "request_body")).alias("_req_text"))
    req = req.with_columns(pl.coalesce(decoded, safe_json_decode(req.get_column("_req_text"), REQUEST_BODY)).alias("_body"))
    data = pl.col("_body").struct.field("data")
    ok = (data.list.len() > 0).fill_null(False)
    rejects = req.filter(~ok).select(
        "file", "line",
        pl.when(decoded.is_null() & pl.col("_req_text").is_null()).then(pl.lit("Meta tag Request log without a RequestBody"))
        .when(pl.col("_body").is_null()).then(pl.lit("Meta tag RequestBody is not JSON of the expected shape"))
        .otherwise(pl.lit("Meta tag RequestBody has no events in 'data'"))
        .alias("reason"),
    ).cast(REJECT_SCHEMA)

    url = stape_field("RequestUrl", "request_url")
    partner_agent = pl.col("_body").struct.field("partner_agent")
    pa = partner_agent.str.extract_groups(PARTNER_AGENT)
    per_request = req.filter(ok).with_columns(
        *_common(),
        _pixel(url, stape_field("Message", "message")).alias("pixel_id"),
        url.str.extract(GRAPH_URL, 1).alias("graph_version"),
        pl.when(pa.struct.field("ver").is_not_null() & pa.struct.field("stape").is_null()).then(pl.lit(CONNECTOR_META))
        .otherwise(pl.lit(CONNECTOR_STAPE)).alias("connector"),
        pa.struct.field("ver").alias("connector_version"),
        partner_agent.alias("partner_agent"),
        pl.col("_body").struct.field("test_event_code").alias("test_event_code"),
        pl.format("{}:{}", "file", "line").alias("batch_id"),
        data.list.len().cast(pl.Int64).alias("batch_size"),
        pl.concat_str(
            pl.lit("Request "), stape_field("RequestMethod", "request_method").fill_null("POST"), pl.lit(" "),
            url.str.replace(r"^[a-zA-Z]+://[^/]+", "").str.replace(r"[?#].*$", "").fill_null("(no url)"),
        ).alias("_msg"),
        _extra(pa.struct.field("ee").is_not_null().alias("event_enhancement")),
        data.alias("_ev"),
    ).with_columns(pl.col("pixel_id").alias("account")).drop("_s", "_payload", "_body", "_req_text")  # not copied per event
    # the events of one request are adjacent after the explode: _sub counts from where its (file, line) starts
    first = (pl.col("file") != pl.col("file").shift(1)) | (pl.col("line") != pl.col("line").shift(1))
    at = pl.int_range(pl.len(), dtype=pl.Int64)
    events = per_request.explode("_ev").with_columns((at - pl.when(first.fill_null(True)).then(at).forward_fill()).alias("_sub"))
    ev = pl.col("_ev")
    rows = events.with_columns(
        pl.lit("server_event").alias("kind"),
        pl.lit("request").alias("_role"),
        pl.coalesce(ev.struct.field("event_name"), pl.col("event_name")).alias("event_name"),
        *event_columns(ev),
    ).with_columns(
        pl.concat_str(pl.col("_msg"), pl.lit(" "), pl.col("event_name").fill_null("(no event_name)")).alias("message"),
    ).drop("_ev", "_msg")
    absent = [c for c in rows.columns if c.startswith("raw_ud_") and rows.get_column(c).null_count() == rows.height]
    # keyed digests of the sent em/ph hashes (udh_em, udh_ph) for cross-source checks
    rows = classify_user_data(add_sent_digests(rows.drop(absent)))
    return redact_columns(rows, "message", "event_source_url"), rejects


def response_rows(tags: pl.DataFrame) -> pl.DataFrame:
    """``api_response`` rows of Response objects (failures are :func:`status_rows`)."""
    resp = tags.with_columns(_body("ResponseBody", "response_body").str.strip_chars().alias("_resp_text"))
    text = pl.col("_resp_text")
    resp = resp.with_columns(
        safe_json_decode(resp.select(pl.when(text.str.starts_with("{")).then(text)).to_series(), RESPONSE_BODY).alias("_body")
    )
    body = pl.col("_body")
    err = body.struct.field("error")
    status = stape_field("ResponseStatusCode", "response_status_code").str.strip_chars().cast(pl.Int64, strict=False)
    html = text.str.starts_with("<").fill_null(False)
    signal = (
        pl.when(err.is_not_null()).then(pl.lit("graph_error"))
        .when((status >= 200) & (status < 300)).then(pl.lit("success"))
        .when((status >= 500).fill_null(False) | html).then(pl.lit("server_error_page"))
        .when(status.is_not_null()).then(pl.lit("graph_error"))
        .otherwise(pl.lit("transport_error"))
    )
    received = body.struct.field("events_received").cast(pl.Int64, strict=False)
    code = err.struct.field("code").cast(pl.Int64, strict=False)
    subcode = err.struct.field("error_subcode").cast(pl.Int64, strict=False)
    message = (
        pl.when(err.is_not_null()).then(
            pl.concat_str(
                pl.lit("HTTP "), status.cast(pl.String).fill_null("?"), pl.lit(": "),
                err.struct.field("message").fill_null("(no message)"),
                pl.lit(" (code "), code.cast(pl.String).fill_null("?"),
                pl.when(subcode.is_not_null()).then(pl.format(", subcode {}", subcode)).otherwise(pl.lit("")),
                pl.lit(")"),
                # Meta's title names the fault ("Event Timestamp Too Old"): the Graph error
                # catalogue reads it when the subcode alone does not say
                pl.when(err.struct.field("error_user_title").is_not_null())
                .then(pl.lit(": ") + err.struct.field("error_user_title")).otherwise(pl.lit("")),
            )
        )
        .when(received.is_not_null()).then(pl.format("events_received={}", received))
        .otherwise(pl.concat_str(pl.lit("HTTP "), status.cast(pl.String).fill_null("?"), pl.lit(": "), text.fill_null("(no body)")))
    )
    return resp.with_columns(
        *_common(),
        pl.lit("api_response").alias("kind"),
        pl.lit("response").alias("_role"),
        pl.lit(0, dtype=pl.Int64).alias("_sub"),
        _pixel(pl.lit(None, dtype=pl.String), stape_field("Message", "message")).alias("pixel_id"),
        pl.lit(CONNECTOR_STAPE).alias("connector"),
        status.alias("http_status"),
        signal.alias("signal"),
        received.alias("events_received"),
        pl.coalesce(body.struct.field("fbtrace_id"), err.struct.field("fbtrace_id")).alias("fbtrace_id"),
        code.alias("error_code"),
        subcode.alias("error_subcode"),
        err.struct.field("type").alias("error_type"),
        pl.when(err.struct.field("is_transient").str.to_lowercase() == "true").then(True)
        .when(err.struct.field("is_transient").str.to_lowercase() == "false").then(False)
        .alias("is_transient"),
        _short(message).alias("message"),
        pl.when(pl.col("_class_type") == "Request-Response").then(pl.format("{}:{}", "file", "line")).alias("batch_id"),
        _extra(err.struct.field("error_user_title").alias("error_user_title")),
    ).with_columns(pl.col("pixel_id").alias("account")).drop("_body", "_resp_text")


def status_rows(tags: pl.DataFrame) -> pl.DataFrame:
    """``status`` rows: send failures (``transport_error``) and ``Type: Message`` lines (``log``)."""
    msg = stape_field("Message", "message")
    reason = pl.coalesce(stape_field("Reason", "reason"), pl.col("_payload").str.json_path_match("$.Reason"))
    failure = msg.str.contains(FAILURE_MESSAGE).fill_null(False)
    text = pl.concat_str(
        msg.fill_null("(no message)"),
        pl.when(reason.is_not_null()).then(pl.format(" Reason: {}", reason)).otherwise(pl.lit("")),
    )
    return tags.with_columns(
        *_common(),
        pl.lit("status").alias("kind"),
        pl.when(failure).then(pl.lit("failure")).otherwise(pl.lit("message")).alias("_role"),
        pl.lit(0, dtype=pl.Int64).alias("_sub"),
        _pixel(pl.lit(None, dtype=pl.String), msg).alias("pixel_id"),
        pl.lit(CONNECTOR_STAPE).alias("connector"),
        pl.when(failure).then(pl.lit("transport_error")).otherwise(pl.lit("log")).alias("signal"),
        _short(text).alias("message"),
        _extra(),
    ).with_columns(pl.col("pixel_id").alias("account"))


def tag_rows(tags: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All rows of ``stape``-class entries, and rejects."""
    kind = stape_field("Type", "type").str.strip_chars()
    failure = stape_field("Message", "message").str.contains(FAILURE_MESSAGE).fill_null(False)
    tags = tags.with_columns(kind.alias("_class_type"), failure.alias("_failure"))
    t = pl.col("_class_type")
    req, rejects = request_rows(tags.filter(t.is_in(["Request", "Request-Response"])))
    # answers and messages have no use for the (nested, costly to filter) request body
    light = tags.with_columns(pl.struct(*[pl.col("_s").struct.field(k) for k in TAG_LOG.to_schema() if k != "RequestBody"]).alias("_s"))
    resp = response_rows(light.filter(t.is_in(["Response", "Request-Response"]) & ~pl.col("_failure")))
    status = status_rows(light.filter(pl.col("_failure") | ~t.is_in(["Request", "Response", "Request-Response"])))
    frames = [df for df in (req, resp, status) if df.height]
    rows = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    if rows.height:
        rows = redact_columns(rows, "message")
    return rows, rejects
