"""Record text -> fixed columns, decoded against declared dtypes.

A record is one of:

* a request payload ``{"data": [...], "partner_agent"?, "test_event_code"?, "access_token"?}``,
  bare or under a wrapper key (``request``, ``payload``, ``body``) next to
  optional wrapper fields (time, pixel, url, HTTP status) and a ``response``;
* a response saved after its request: ``{"events_received": ...}`` / ``{"error": {...}}``.

``access_token`` (and ``appsecret_proof``) are not part of any dtype, so
``json_decode`` never even materialises them.  ``data`` given as a JSON
*string* (how the SDKs post it as a form field) is decoded in a second pass.
"""

from __future__ import annotations

import polars as pl

from auditor.capi_payload import REQUEST_BODY
from auditor.jsonsafe import safe_json_decode

S = pl.String
#: One event of ``data`` (the shared CAPI event struct).
EVENTS = REQUEST_BODY.to_schema()["data"]
_REQUEST_FIELDS = {k: v for k, v in REQUEST_BODY.to_schema().items() if k != "data"}

ERROR = pl.Struct({
    "message": S, "type": S, "code": S, "error_subcode": S, "is_transient": S,
    "error_user_title": S, "error_user_msg": S, "fbtrace_id": S,
})
RESPONSE = pl.Struct({"events_received": S, "fbtrace_id": S, "error": ERROR})

#: Wrapper keys (first present wins) -> meaning.
WRAPPER_KEYS: dict[str, tuple[str, ...]] = {
    "ts": ("sent_at", "ts", "timestamp", "time", "logged_at", "date", "datetime", "@timestamp"),
    "pixel": ("pixel_id", "pixel", "dataset_id"),
    "url": ("url", "endpoint", "uri", "path"),
    "status": ("status", "http_status", "status_code", "statusCode"),
}
#: Keys that may hold the request payload in a wrapper.
REQUEST_KEYS = ("request", "payload", "body")


def _record_dtype(data: pl.DataType) -> pl.Struct:
    request = pl.Struct({"data": data, **_REQUEST_FIELDS})
    fields: dict[str, pl.DataType] = {"data": data, **_REQUEST_FIELDS}
    fields.update({k: request for k in REQUEST_KEYS})
    fields.update({k: S for keys in WRAPPER_KEYS.values() for k in keys})
    fields.update(response=RESPONSE, events_received=S, fbtrace_id=S, error=ERROR)
    return pl.Struct(fields)


RECORD = _record_dtype(EVENTS)
#: The same record with ``data`` as a JSON string (SDK form posts).
RECORD_DATA_STRING = _record_dtype(S)

#: Flat columns :func:`decode_records` returns (besides ``rid``).
FLAT = (
    "data", "partner_agent", "test_event_code", "w_ts", "w_pixel", "w_url", "w_status",
    "events_received", "fbtrace_id", "error", "_valid",
)


def _first(d: pl.Expr, keys: tuple[str, ...]) -> pl.Expr:
    return pl.coalesce([d.struct.field(k) for k in keys])


def _flatten(d: pl.Expr, data: pl.Expr) -> list[pl.Expr]:
    req = pl.coalesce([d.struct.field(k) for k in REQUEST_KEYS])
    resp = d.struct.field("response")
    field = lambda name: pl.coalesce(d.struct.field(name), req.struct.field(name))  # noqa: E731
    return [
        data.alias("data"),
        field("partner_agent").alias("partner_agent"),
        field("test_event_code").alias("test_event_code"),
        *(_first(d, keys).alias(f"w_{name}") for name, keys in WRAPPER_KEYS.items()),
        pl.coalesce(resp.struct.field("events_received"), d.struct.field("events_received")).alias("events_received"),
        pl.coalesce(resp.struct.field("fbtrace_id"), d.struct.field("fbtrace_id")).alias("fbtrace_id"),
        pl.coalesce(resp.struct.field("error"), d.struct.field("error")).alias("error"),
        d.is_not_null().alias("_valid"),
    ]


def decode_records(recs: pl.DataFrame) -> pl.DataFrame:
    """``rid, rec`` -> ``rid`` + :data:`FLAT` (``data`` a list of event structs)."""
    # only text shaped like one object is decoded: junk never costs a decode
    # (safe_json_decode bisects around bad rows within a budget of calls)
    rec = pl.col("rec").str.strip_chars()
    shaped = recs.select("rid", pl.when(rec.str.starts_with("{") & rec.str.ends_with("}")).then(rec).alias("rec"))
    decoded = shaped.select("rid", safe_json_decode(shaped.get_column("rec"), RECORD).alias("d"))
    d = pl.col("d")
    data = pl.coalesce([d.struct.field("data"), *(d.struct.field(k).struct.field("data") for k in REQUEST_KEYS)])
    out = decoded.select("rid", *_flatten(d, data))
    # records that did not fit (``data`` a string): a second, string-typed pass
    again = recs.join(out.filter(~pl.col("_valid")).select("rid"), on="rid", how="semi")
    if again.height and again.get_column("rec").str.contains(r'"data"\s*:\s*"').any():
        again = again.filter(pl.col("rec").str.contains(r'"data"\s*:\s*"'))
        d2 = again.select("rid", safe_json_decode(again.get_column("rec"), RECORD_DATA_STRING).alias("d"))
        text = pl.coalesce([d.struct.field("data"), *(d.struct.field(k).struct.field("data") for k in REQUEST_KEYS)])
        d2 = d2.with_columns(text.alias("_data_text"))
        d2 = d2.with_columns(safe_json_decode(d2.get_column("_data_text"), EVENTS).alias("_data"))
        fixed = d2.select("rid", *_flatten(d, pl.col("_data")))
        out = out.update(fixed, on="rid", how="left")
    return out
