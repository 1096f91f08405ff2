"""Meta CAPI request bodies -> canonical ``server_event`` columns.

Every source that logs the body of a ``POST /{pixel}/events`` request (the
WooCommerce plugin, Stape's sGTM tag, in-house senders) decodes it with
:data:`REQUEST_BODY` and maps each event with :func:`event_columns`, so all of
them read event_time, value, order_id and user_data the same way.

Every leaf is decoded as String (user_data values as List(String), which Meta
accepts): Polars turns JSON numbers into their text, so ints, floats and
strings all decode and the raw spelling of event_time/value stays visible.
"""

from __future__ import annotations

import polars as pl

from .schema import USER_DATA_KEYS

#: One event of ``data``.
CAPI_EVENT = pl.Struct({
    "event_name": pl.String,
    "event_time": pl.String,
    "event_id": pl.String,
    "action_source": pl.String,
    "event_source_url": pl.String,
    "custom_data": pl.Struct({"value": pl.String, "currency": pl.String, "order_id": pl.String}),
    "user_data": pl.Struct({k: pl.List(pl.String) for k in USER_DATA_KEYS}),
})

#: The request body.
REQUEST_BODY = pl.Struct({"data": pl.List(CAPI_EVENT), "partner_agent": pl.String, "test_event_code": pl.String})

#: Integer (optionally fractional) seconds: up to 11 digits.  13-digit
#: milliseconds and ISO strings stay null in ``event_time`` (see ``event_time_raw``).
SECONDS = r"^-?\d{1,11}(?:\.\d+)?$"


def event_columns(ev: pl.Expr) -> list[pl.Expr]:
    """Canonical columns of one :data:`CAPI_EVENT` struct expression.

    Gives event_id, event_time_raw, event_time, value_raw, value, currency,
    order_id, action_source, event_source_url, shop (host of the URL) and the
    ``raw_ud_<key>`` columns for :func:`auditor.classify_user_data`.
    ``event_name`` is left to the source (some log it outside the body too).
    """
    cd = ev.struct.field("custom_data")
    ud = ev.struct.field("user_data")
    raw_time = ev.struct.field("event_time").str.strip_chars()
    seconds = raw_time.str.extract(r"^(-?\d+)", 1).cast(pl.Int64, strict=False)
    url = ev.struct.field("event_source_url")
    return [
        ev.struct.field("event_id").alias("event_id"),
        raw_time.alias("event_time_raw"),
        pl.when(raw_time.str.contains(SECONDS))
        .then(pl.from_epoch(seconds, time_unit="s").dt.cast_time_unit("us").dt.replace_time_zone("UTC"))
        .alias("event_time"),
        cd.struct.field("value").alias("value_raw"),
        cd.struct.field("value").str.strip_chars().cast(pl.Float64, strict=False).alias("value"),
        cd.struct.field("currency").alias("currency"),
        # "1234.0" from a float order id is the order 1234
        cd.struct.field("order_id").str.replace(r"^(\d+)\.0+$", "${1}").alias("order_id"),
        ev.struct.field("action_source").alias("action_source"),
        url.alias("event_source_url"),
        url.str.extract(r"^[a-zA-Z]+://([^/:?#@]+)", 1).str.to_lowercase().alias("shop"),
        *[ud.struct.field(k).alias(f"raw_ud_{k}") for k in USER_DATA_KEYS],
    ]
