"""Incoming GA4 hits (Cloud Run / App Engine request logs) -> ``browser_event`` rows.

This is the browser leg: ``httpRequest.requestUrl`` of a hit such as
``https://sgtm.shop.example/g/collect?v=2&tid=G-ABC123XYZ&en=purchase&ep.transaction_id=1234&cu=EUR&epn.value=49``.
Read from the query string: ``en`` (mapped to Meta's name with
:data:`.patterns.GA4_TO_META`; hits of other GA4 events are skipped and
counted), ``ep.transaction_id`` -> ``order_id``, ``ep.event_id`` ->
``event_id``, ``cu`` -> ``currency``, ``epn.value`` / ``ep.value`` ->
``value``, ``dl`` -> ``event_source_url`` (redacted) and ``shop`` (its host),
``tid`` -> ``extra.measurement_id``.  ``remoteIp`` / ``userAgent`` only become
``ud_*`` states.  Request logs carry no POST body: hits batching several
events there name no ``en`` in the URL and cannot be read.

Percent-decoding is one :meth:`polars.Series.str.replace_many` pass (over
distinct values) with the printable ASCII escapes and the two-byte UTF-8 escapes of U+0080..U+00FF
(``+`` is a space): enough for ids, codes and hosts; rarer escapes stay
encoded.
"""

from __future__ import annotations

import polars as pl

from auditor import classify_user_data
from auditor.redact import redact_columns

from .patterns import CONNECTOR_GA4, GA4_TO_META


def _escapes() -> dict[str, str]:
    table = {"+": " "}
    for cp in range(0x20, 0x7F):
        for code in {f"%{cp:02X}", f"%{cp:02x}"}:
            table[code] = chr(cp)
    for cp in range(0x80, 0x100):
        b = chr(cp).encode("utf-8")
        for fmt in ("{:02X}", "{:02x}"):
            table["".join("%" + fmt.format(x) for x in b)] = chr(cp)
    return table


_ESCAPES = _escapes()


def url_decode(values: pl.Series) -> pl.Series:
    """Percent-decode a column; each distinct value is decoded once."""
    distinct = values.drop_nulls().unique()
    if distinct.is_empty():
        return values
    decoded = distinct.str.replace_many(list(_ESCAPES), list(_ESCAPES.values()))
    return values.replace_strict(distinct, decoded, default=None, return_dtype=pl.String)


#: Query parameters read from a hit (column name -> parameter).
PARAMS = {
    "_en": "en", "_tid": "tid", "_dbg": "_dbg", "_event_id": "ep.event_id", "_transaction_id": "ep.transaction_id",
    "_value_n": "epn.value", "_value_s": "ep.value", "_cu": "cu", "_dl": "dl",
}


def query_params(hits: pl.DataFrame, url: pl.Expr) -> pl.DataFrame:
    """``hits`` with one decoded column per :data:`PARAMS` entry (first occurrence of each)."""
    raw = hits.select(
        *[url.str.extract(rf"[?&]{name.replace('.', chr(92) + '.')}=([^&#]*)", 1).alias(col) for col, name in PARAMS.items()]
    )
    return hits.with_columns(url_decode(raw.get_column(col)).alias(col) for col in PARAMS)


def browser_rows(hits: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """``(rows, skipped)``: rows for hits of mapped events; ``skipped`` counts the other GA4 events."""
    http = pl.col("_e").struct.field("httpRequest")
    url = http.struct.field("requestUrl")
    hits = query_params(hits, url)
    mapped = pl.col("_en").replace_strict(GA4_TO_META, default=None, return_dtype=pl.String)
    keep = hits.filter(mapped.is_not_null())
    page = pl.col("_dl")
    value = pl.coalesce("_value_n", "_value_s")
    rows = keep.with_columns(
        pl.lit("gtm_server").alias("source"),
        pl.lit("browser_event").alias("kind"),
        pl.lit("hit").alias("_role"),
        pl.lit(0, dtype=pl.Int64).alias("_sub"),
        pl.lit(CONNECTOR_GA4).alias("connector"),
        mapped.alias("event_name"),
        pl.col("_event_id").alias("event_id"),
        pl.col("_transaction_id").alias("order_id"),
        value.alias("value_raw"),
        value.str.strip_chars().cast(pl.Float64, strict=False).alias("value"),
        pl.col("_cu").alias("currency"),
        page.alias("event_source_url"),
        page.str.extract(r"^[a-zA-Z]+://([^/:?#@]+)", 1).str.to_lowercase().alias("shop"),
        http.struct.field("status").cast(pl.Int64, strict=False).alias("http_status"),
        pl.lit("website").alias("action_source"),
        pl.concat_str(pl.lit("GA4 hit "), pl.col("_en"), pl.lit(" -> "), mapped).alias("message"),
        pl.struct(
            pl.col("_en").alias("ga4_event"),
            pl.col("_tid").alias("measurement_id"),
            (pl.col("_dbg") == "1").fill_null(False).alias("debug"),
            pl.col("_stream").alias("stream"),
        ).struct.json_encode().alias("extra"),
        http.struct.field("remoteIp").alias("raw_ud_client_ip_address"),
        http.struct.field("userAgent").alias("raw_ud_client_user_agent"),
    ).drop(list(PARAMS))
    rows = classify_user_data(rows)
    return redact_columns(rows, "message", "event_source_url"), hits.height - keep.height
