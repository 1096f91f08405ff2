"""Decoded records -> canonical rows and rejects.

* every event of a request's ``data`` is a ``server_event`` row; the events of
  one request share a ``batch_id`` (``<file>:<line>`` of the request);
* a response -- the wrapper's ``response``, or a response object on the record
  right after a request in the same file -- is an ``api_response`` row with
  the request's ``batch_id``, pixel and time (``batch_id`` is the request's
  line here; :func:`.finalize` puts the file's number in front);
* a response with no request before it is still an answer: its own row;
* a record that is neither (not JSON, no events, an empty ``data``) is a reject.
"""

from __future__ import annotations

import polars as pl

from auditor import MESSAGE_CHARS, REJECT_SCHEMA, ParseContext, classify_user_data
from auditor.capi_payload import event_columns
from auditor.graph_errors import EVENTS_PATH
from auditor.redact import redact_columns
from auditor.userdata import add_sent_digests

from .times import utc_times

CONNECTOR = "capi-payload"
S = pl.String


def response_signal(has_error: pl.Expr, events_received: pl.Expr) -> pl.Expr:
    """The ``signal`` of a saved Graph answer.  Which diagnosis row an error
    code means is decided by the checks (one catalogue for every source); this
    only says which kind of answer it was."""
    return (
        pl.when(has_error).then(pl.lit("graph_error"))
        .when(events_received.is_not_null()).then(pl.lit("success"))
    )


def _int(expr: pl.Expr) -> pl.Expr:
    return expr.str.extract(r"^\s*(-?\d+)", 1).cast(pl.Int64, strict=False)


def records_to_rows(recs: pl.DataFrame, flat: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``recs`` (rid, file, line, rec) joined with ``flat`` (:data:`.decode.FLAT`)."""
    c = pl.col
    df = recs.select("rid", "file", "line").join(flat, on="rid", how="left", maintain_order="left")
    naive_tz = str(ctx.options.get("site_timezone") or "UTC")
    df, naive = utc_times(df, "w_ts", naive_tz)
    if naive:
        ctx.note(f"capi_payload: times without a zone were read as {naive_tz} (option site_timezone)")
    url = c("w_url").str.extract_groups(EVENTS_PATH)
    has_data = (c("data").list.len() > 0).fill_null(False)
    err = c("error")
    has_error = err.is_not_null() & pl.any_horizontal(
        err.struct.field(f).is_not_null() for f in ("code", "message", "type", "error_subcode")
    ).fill_null(False)
    is_response = has_error | c("events_received").is_not_null()
    same_file = c("file") == c("file").shift(1)
    # a bare response right after a request (of the same file) answers it
    answers_prev = (~has_data & is_response & same_file & has_data.shift(1) & ~is_response.shift(1)).fill_null(False)
    df = df.with_columns(
        has_data.alias("_req"),
        is_response.fill_null(False).alias("_resp"),
        answers_prev.alias("_answers_prev"),
        c("line").cast(S).alias("_own_batch"),
        pl.coalesce(c("w_pixel").str.extract(r"^\s*(\d{5,20})\s*$", 1), url.struct.field("px")).alias("_pixel"),
        url.struct.field("gv").alias("_gv"),
    )
    # what an answering response takes from its request: its batch, pixel,
    # version, and its time when the response line has none of its own
    prev = c("_answers_prev")
    df = df.with_columns(
        *(pl.when(prev).then(c(src).shift(1)).otherwise(c(src)).alias(dst)
          for src, dst in (("_own_batch", "batch_id"), ("_pixel", "pixel_id"), ("_gv", "graph_version"))),
        pl.when(prev).then(pl.coalesce(c("w_ts"), c("w_ts").shift(1))).otherwise(c("w_ts")).alias("logged_at"),
    )
    events = _event_rows(df.filter(c("_req")))
    answers = _response_rows(df.filter(c("_resp")))
    rejects = df.filter(~c("_req") & ~c("_resp")).select(
        "file", "line",
        pl.when(c("_valid").not_()).then(pl.lit("not a CAPI request or response of the expected shape (malformed, cut, or a field of the wrong type)"))
        .when(c("data").is_not_null()).then(pl.lit("CAPI request without events in 'data'"))
        .otherwise(pl.lit("JSON object that is neither a CAPI request nor a Graph response"))
        .alias("reason"),
    ).cast(REJECT_SCHEMA)
    kept = [r for r in (events, answers) if r.height]
    return (pl.concat(kept, how="diagonal_relaxed") if kept else events), rejects


def _event_rows(req: pl.DataFrame) -> pl.DataFrame:
    c = pl.col
    per_request = req.select(
        "file", "line", "logged_at", "batch_id", "pixel_id", "graph_version", "partner_agent", "test_event_code",
        c("data").list.len().cast(pl.Int64).alias("batch_size"),
        c("data").alias("_ev"),
    )
    ev = c("_ev")
    rows = per_request.explode("_ev").with_columns(
        pl.lit("server_event").alias("kind"),
        pl.lit(CONNECTOR).alias("connector"),
        c("pixel_id").alias("account"),
        ev.struct.field("event_name").alias("event_name"),
        *event_columns(ev),
    ).with_columns(
        pl.concat_str([pl.lit("Request "), c("event_name").fill_null("(no event_name)")]).alias("message"),
    ).drop("_ev")
    absent = [n for n in rows.columns if n.startswith("raw_ud_") and rows.get_column(n).null_count() == rows.height]
    rows = classify_user_data(add_sent_digests(rows.drop(absent)))
    return redact_columns(rows, "message", "event_source_url")


def _response_rows(resp: pl.DataFrame) -> pl.DataFrame:
    c = pl.col
    err = c("error")
    f = lambda name: err.struct.field(name)  # noqa: E731
    has_error = err.is_not_null() & pl.any_horizontal(
        f(n).is_not_null() for n in ("code", "message", "type", "error_subcode")
    ).fill_null(False)
    events = _int(c("events_received"))
    code = _int(f("code"))
    sub = _int(f("error_subcode"))
    text = pl.concat_str(
        [
            pl.lit("code "), code.cast(S), pl.lit("/") + sub.cast(S), pl.lit(" ") + f("type"),
            pl.lit(": ") + f("message"), pl.lit(" (") + f("error_user_title") + pl.lit(")"),
        ],
        ignore_nulls=True,
    )
    message = pl.when(has_error).then(text).otherwise(pl.lit("events_received=") + events.cast(S))
    rows = resp.select(
        "file", "line", "logged_at", "batch_id", "pixel_id", "graph_version",
        pl.lit("api_response").alias("kind"),
        pl.lit(CONNECTOR).alias("connector"),
        c("pixel_id").alias("account"),
        _int(c("w_status")).alias("http_status"),
        code.alias("error_code"),
        sub.alias("error_subcode"),
        f("type").alias("error_type"),
        f("is_transient").str.to_lowercase().replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean).alias("is_transient"),
        events.alias("events_received"),
        pl.coalesce(f("fbtrace_id"), c("fbtrace_id")).str.extract(r"^([A-Za-z0-9_\-+/=]{1,64})$", 1).alias("fbtrace_id"),
        response_signal(has_error, events).alias("signal"),
        message.str.replace_all(r"\s+", " ").alias("message"),
    )
    rows = redact_columns(rows, "message")
    return rows.with_columns(pl.col("message").str.slice(0, MESSAGE_CHARS))
