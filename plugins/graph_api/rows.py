"""Records -> canonical ``api_response`` rows and rejects.

Records are classified by ``error.code``/``error_subcode``, never by the
(localised) text: ``graph_error`` (an error object), ``success``
(``events_received``), ``server_error_page`` (an HTML page, or a 5xx with no
Graph body from Guzzle or an HTTP capture), ``transport_error`` (no answer).
An SDK exception line that kept only the message is a ``graph_error`` with that
message (and the ``(#N)`` code in it): the Graph error catalogue classifies it
by its text.
``message`` and ``extra`` are redacted with :func:`auditor.redact.redact_columns`.
"""

from __future__ import annotations

import polars as pl

from auditor import ParseContext
from auditor.redact import redact_columns

from .features import REGEX_COLS, regex_body
from auditor.graph_errors import CODE_IN_TEXT

from .patterns import CONNECTOR, HTML, MESSAGE_CHARS, S, SORRY, TRANSPORT, TRANSPORT_WORDS, URL, WRAPPER_KEYS
from .timestamps import TS_PREFIX, timestamp_column
from .values import clean_int, tidy_message, to_bool, to_int, unescape


def records_to_rows(
    recs: pl.DataFrame, flat: pl.DataFrame, ctx: ParseContext, fmt_default: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``recs``: rid, file, line, rec?, j and the ``t_*`` text columns
    (:data:`.features.TEXT_COLS`); ``flat``: decoded :data:`.patterns.FLAT`
    columns keyed by rid.  Returns (canonical rows, rejects)."""
    naive_tz = str(ctx.options.get("site_timezone") or "UTC")
    df = recs.join(flat.with_columns(pl.lit(True).alias("_valid")), on="rid", how="left", maintain_order="left")

    # Regex fallback only where no JSON could be decoded (cut bodies, SDK text).
    # only records without decoded JSON are searched (none in clean NDJSON)
    rec = pl.when(pl.col("_valid").is_null()).then(pl.col("rec"))
    need_rx = (
        (
            rec.str.contains(r'"(?:error|events_received)"\s*:')
            & (pl.col("t_guzzle").is_not_null() | pl.col("t_truncated") | pl.col("t_sdk"))
        )
        | rec.str.contains(r"""'events_received'\s*:\s*\d""")  # a Python repr of the body
    ).fill_null(False)
    rx = df.filter(need_rx).select("rid", *regex_body(pl.col("rec")))
    df = df.join(rx, on="rid", how="left", maintain_order="left")
    if rx.height == 0:
        df = df.with_columns(pl.lit(None, dtype=S).alias(c) for c in REGEX_COLS)

    c = pl.col
    body_html = c("body_text").str.contains(HTML).fill_null(False)
    html = c("t_html").fill_null(False) | body_html
    # an SDK line that kept only the message: its text (and a "(#N)" code in it) stands for the body
    sdk_msg = pl.when(c("_valid").is_null()).then(c("t_sdk_msg"))
    err_code = clean_int(pl.coalesce(c("e_code"), c("r_code"), sdk_msg.str.extract(CODE_IN_TEXT, 1)))
    err_sub = clean_int(pl.coalesce(c("e_error_subcode"), c("r_subcode")))
    err_type = pl.coalesce(c("e_type"), unescape(c("r_type")))
    err_msg = pl.coalesce(c("e_message"), unescape(c("r_message")), sdk_msg)
    err_title = pl.coalesce(c("e_error_user_title"), unescape(c("r_title")))
    events = clean_int(pl.coalesce(c("events_received"), c("r_events")))
    page_status = c("body_text").str.extract(r"(?i)<title>[^<]*?\b([45]\d\d)\b", 1)
    status = to_int(pl.coalesce(c("w_status"), c("t_status"), page_status))
    # an error object without a numeric code or a type that names a network
    # failure is a client-side error object (e.g. Node's {code: "ETIMEDOUT"})
    client_error = (
        (c("e_code").is_not_null() & err_code.is_null())
        | (err_code.is_null() & err_type.is_null() & err_msg.str.contains(TRANSPORT))
    ).fill_null(False)
    has_error = ~client_error & (
        err_code.is_not_null() | err_sub.is_not_null() | err_type.is_not_null() | err_msg.is_not_null()
    )
    transport = c("err_text").is_not_null() | c("t_transport").fill_null(False) | client_error
    guzzle = c("t_guzzle").is_not_null()
    capture = c("t_capture").is_not_null()  # '-> HTTP 502' / 'HTTP/1.1 502' naming the Graph endpoint

    signal = (
        pl.when(has_error).then(pl.lit("graph_error"))
        .when(events.is_not_null()).then(pl.lit("success"))
        .when(html).then(pl.lit("server_error_page"))
        .when((guzzle | capture) & (status >= 500)).then(pl.lit("server_error_page"))
        .when(guzzle | (capture & (status >= 400))).then(pl.lit("graph_error"))
        .when(transport).then(pl.lit("transport_error"))
        .otherwise(None)
    )
    df = df.with_columns(
        signal.alias("signal"), err_code.alias("error_code"), err_sub.alias("error_subcode"),
        err_type.alias("error_type"), err_msg.alias("_emsg"), err_title.alias("_etitle"),
        events.alias("events_received"), status.alias("http_status"), html.alias("_html"),
    )

    pixel = pl.coalesce(
        c("w_pixel").str.extract(r"^\s*(\d{5,20})\s*$", 1),
        c("w_url").str.extract(URL, 2),
        c("t_pixel"),
    )
    version = pl.coalesce(c("w_url").str.extract(URL, 1), c("t_version"))
    code_part = pl.concat_str(
        [pl.lit("code "), c("error_code").cast(S), pl.lit("/") + c("error_subcode").cast(S)], ignore_nulls=True
    )
    err_text = pl.concat_str(
        [
            pl.when(c("error_code").is_not_null()).then(code_part),
            pl.when(c("error_type").is_not_null()).then(pl.lit(" ") + c("error_type")),
            pl.lit(": "),
            c("_emsg"),
            pl.when(c("_etitle").is_not_null()).then(pl.lit(" (") + c("_etitle") + pl.lit(")")),
        ],
        ignore_nulls=True,
    ).str.strip_chars(" :")
    page_text = pl.concat_str(
        [
            pl.when(c("_html")).then(pl.lit("HTML error page")).otherwise(pl.lit("Server error")),
            pl.when(c("http_status").is_not_null()).then(pl.lit(" (HTTP ") + c("http_status").cast(S) + pl.lit(")")),
            pl.when(c("t_sorry").is_not_null()).then(pl.lit(": ") + c("t_sorry")),
            pl.when(c("t_sorry").is_null() & body_html & c("body_text").str.contains(SORRY))
            .then(pl.lit(": ") + c("body_text").str.extract(SORRY, 1)),
        ],
        ignore_nulls=True,
    )
    status_text = pl.concat_str(
        [pl.lit("HTTP "), c("http_status").cast(S), pl.lit(" "), c("t_first")], ignore_nulls=True
    )
    message = (
        pl.when(c("signal") == "graph_error")
        .then(pl.when(err_text.str.len_chars() > 0).then(err_text).otherwise(status_text))
        .when(c("signal") == "success")
        .then(pl.lit("events_received=") + c("events_received").cast(S))
        .when(c("signal") == "server_error_page")
        .then(page_text)
        .when(c("signal") == "transport_error")
        .then(
            pl.coalesce(
                c("err_text"),
                c("_emsg"),
                c("t_first").str.extract(rf"(?i)((?:{TRANSPORT_WORDS}).*)", 1),
                c("t_first"),
            )
        )
    )
    fmt = (
        pl.when(c("t_sdk").fill_null(False)).then(pl.lit("python-sdk"))
        .when(guzzle).then(pl.lit("guzzle"))
        .when(capture).then(pl.lit("http-capture"))
        .when(c("_valid").is_null() & html).then(pl.lit("html"))
        .when(c("_valid").is_null()).then(pl.lit("text"))
        .when(c("t_ts").is_not_null()).then(pl.lit("prefixed"))
        .when(pl.any_horizontal(c(f"w_{k}").is_not_null() for k in WRAPPER_KEYS) | c("body_text").is_not_null())
        .then(pl.lit("wrapped"))
        .otherwise(pl.lit(fmt_default))
    )
    extra = pl.struct(fmt.alias("format"), c("_etitle").alias("error_user_title")).struct.json_encode()

    rows = df.filter(c("signal").is_not_null()).select(
        pl.lit(ctx.source).alias("source"),
        "file",
        c("line").cast(pl.Int64),
        pl.lit("api_response").alias("kind"),
        pl.coalesce(c("w_ts"), c("t_ts")).alias("logged_at"),
        pixel.alias("pixel_id"),
        pixel.alias("account"),
        pl.lit(CONNECTOR).alias("connector"),
        version.alias("graph_version"),
        "http_status", "error_code", "error_subcode", "error_type",
        to_bool(pl.coalesce(c("e_is_transient"), c("r_transient"))).alias("is_transient"),
        "events_received",
        pl.coalesce(c("fbtrace_id"), c("r_fbtrace")).str.extract(r"^([A-Za-z0-9_\-+/=]{1,64})$", 1).alias("fbtrace_id"),
        to_int(c("w_sent")).alias("batch_size"),
        "signal",
        tidy_message(message).alias("message"),
        extra.alias("extra"),
    )
    # redacted whole, then cut (a cut token or e-mail would escape the rules)
    rows = redact_columns(rows, "message", "extra").with_columns(pl.col("message").str.slice(0, MESSAGE_CHARS))
    rows, naive_seen = timestamp_column(rows, "logged_at", naive_tz)
    if naive_seen:
        ctx.note(f"graph_api: timestamps without a zone were read as {naive_tz} (option site_timezone)")
    return rows, _rejects(df)


def _rejects(df: pl.DataFrame) -> pl.DataFrame:
    """Records that gave no row, with the reason."""
    c = pl.col
    looks_json = c("rec").str.replace(TS_PREFIX, "").str.strip_chars().str.starts_with("{").fill_null(False)
    wrapper_only = pl.any_horizontal(c(f"w_{k}").is_not_null() for k in WRAPPER_KEYS)
    return df.filter(c("signal").is_null()).select(
        "file",
        c("line").cast(pl.Int64),
        pl.when(c("j").is_not_null() & c("_valid").is_null()).then(pl.lit("malformed JSON"))
        .when(looks_json & c("_valid").is_null()).then(pl.lit("malformed JSON (incomplete object)"))
        .when(wrapper_only).then(pl.lit("not a Graph API response (wrapper without a response body)"))
        .otherwise(pl.lit("not a Graph API response"))
        .alias("reason"),
    )
