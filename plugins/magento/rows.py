"""Records -> canonical rows.

* ``Sending event …`` -> a ``server_event`` row (name and event_id only: the
  extension does not log the payload, so the payload checks leave it alone);
  a ``test code X attached`` record just before it gives its ``test_event_code``;
* ``RequestException: <Guzzle message>`` -> an ``api_response`` row: HTTP
  status, Graph version and pixel from the message, code/subcode/type/message
  read from the (often cut) JSON body;
* anything else -> a ``status`` row: a missing access token, a Graph error or
  transport failure named in the text, or a plain ``log`` line.

:func:`signal_for` is the one place that turns what a record says into a
``signal``; the diagnosis row is chosen by the checks from the codes.
"""

from __future__ import annotations

import polars as pl

from auditor import MESSAGE_CHARS
from auditor.graph_errors import EVENTS_URL
from auditor.redact import redact_columns

from .patterns import (
    CHANNEL,
    CTX_CODE,
    CTX_PIXEL,
    CTX_VERSION,
    ERR_CODE,
    ERR_MESSAGE,
    ERR_SUBCODE,
    ERR_TRANSIENT,
    ERR_TYPE,
    FBTRACE,
    GUZZLE_STATUS,
    GUZZLE_URL,
    HTML,
    PIXEL_IN_TEXT,
    REQUEST_EXCEPTION,
    SENDING,
    SWALLOWED,
    TEST_CODE,
    TOKEN_MISSING,
    TRANSPORT,
)

CONNECTOR = "meta-for-magento2"
S = pl.String
#: Graph code of an invalid or expired access token: the one error of another
#: endpoint (catalog, settings) that says the CAPI sends fail too.
TOKEN_CODE = 190


def signal_for(
    events_call: pl.Expr, code: pl.Expr, status: pl.Expr, transport: pl.Expr, html: pl.Expr, token_missing: pl.Expr,
) -> pl.Expr:
    """The ``signal`` of a record.

    ``events_call``: the record is about a CAPI send (a RequestException of
    the ``/events`` call); errors of other Graph calls only count when they say
    the token itself is bad (code 190), everything else there is ``log``.
    """
    return (
        pl.when(token_missing).then(pl.lit("token_missing"))
        .when(code == TOKEN_CODE).then(pl.lit("graph_error"))
        .when(~events_call).then(pl.lit("log"))
        .when(code.is_not_null()).then(pl.lit("graph_error"))
        .when(html | (status >= 500).fill_null(False)).then(pl.lit("server_error_page"))
        .when(transport).then(pl.lit("transport_error"))
        .when(status.is_not_null()).then(pl.lit("graph_error"))
        .otherwise(pl.lit("transport_error"))
    )


def _unescape(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\/", "/", literal=True).str.replace_all(r"\"", '"', literal=True)


def records_to_rows(rec: pl.DataFrame) -> pl.DataFrame:
    """``rec`` from :func:`.entries.split_records` (``logged_at`` already UTC)."""
    c = pl.col
    msg = c("msg")
    sending = msg.str.extract_groups(SENDING)
    is_sending = sending.struct.field("id").is_not_null() & (c("channel") == CHANNEL)
    is_request_exc = msg.str.contains(REQUEST_EXCEPTION)
    url = msg.str.extract(GUZZLE_URL, 1)
    events_url = url.str.extract_groups(EVENTS_URL)
    status = msg.str.extract(GUZZLE_STATUS, 1).cast(pl.Int64, strict=False)
    code = pl.coalesce(msg.str.extract(ERR_CODE, 1), c("context").str.extract(CTX_CODE, 1)).cast(pl.Int64, strict=False)
    transport = msg.str.contains(TRANSPORT)
    events_call = is_request_exc & (url.is_null() | events_url.struct.field("px").is_not_null())
    same_file = c("file") == c("file").shift(1)
    prev_test_code = pl.when(same_file).then(msg.shift(1).str.extract(TEST_CODE, 1))
    pixel = pl.coalesce(
        events_url.struct.field("px"), c("context").str.extract(CTX_PIXEL, 1), msg.str.extract(PIXEL_IN_TEXT, 1),
    )
    kind = pl.when(is_sending).then(pl.lit("server_event")).when(is_request_exc).then(pl.lit("api_response")).otherwise(pl.lit("status"))
    signal = signal_for(
        events_call, code, status, transport, msg.str.contains(HTML), msg.str.contains(TOKEN_MISSING),
    )
    message = (
        pl.when(is_sending).then(pl.lit("Sending event ") + pl.coalesce(sending.struct.field("name"), pl.lit("(no name)")))
        .when(msg == "").then(pl.lit("(empty message)"))
        .when(msg.str.contains(SWALLOWED)).then(pl.lit("exception logged as {} (json_encode of an exception: its text is lost)"))
        .otherwise(msg.str.replace_all(r"\s+", " ").str.replace_all(r"(https?://[^\s?#`]+)\?[^\s`]*", "${1}?…"))
    )
    rows = rec.select(
        "file", "line", "logged_at",
        kind.alias("kind"),
        pl.lit(CONNECTOR).alias("connector"),
        c("context").str.extract(CTX_VERSION, 1).alias("connector_version"),
        pixel.alias("pixel_id"),
        pixel.alias("account"),
        events_url.struct.field("gv").alias("graph_version"),
        pl.when(is_sending).then(sending.struct.field("name")).alias("event_name"),
        pl.when(is_sending).then(sending.struct.field("id")).alias("event_id"),
        pl.when(is_sending).then(prev_test_code).alias("test_event_code"),
        pl.when(~is_sending).then(status).alias("http_status"),
        pl.when(~is_sending).then(code).alias("error_code"),
        pl.when(~is_sending).then(msg.str.extract(ERR_SUBCODE, 1).cast(pl.Int64, strict=False)).alias("error_subcode"),
        pl.when(~is_sending).then(_unescape(msg.str.extract(ERR_TYPE, 1))).alias("error_type"),
        pl.when(~is_sending).then(msg.str.extract(ERR_TRANSIENT, 1) == "true").alias("is_transient"),
        msg.str.extract(FBTRACE, 1).alias("fbtrace_id"),
        pl.when(is_sending).then(None).otherwise(signal).alias("signal"),
        message.alias("message"),
        pl.struct(
            c("channel"), c("level"),
            pl.when(code.is_not_null()).then(_unescape(msg.str.extract(ERR_MESSAGE, 1))).alias("error_message"),
        ).struct.json_encode().alias("extra"),
    )
    # redacted whole, then cut (a cut e-mail or token would escape the rules)
    rows = redact_columns(rows, "message", "extra")
    return rows.with_columns(pl.col("message").str.slice(0, MESSAGE_CHARS))
