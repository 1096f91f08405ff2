"""Items (decoded orders/checkouts with their delivery headers) -> canonical rows.

* orders -> ``kind="order"``: ``order_id`` is the order ``id`` as a string
  (ids exceed 2^53), ``value``/``currency`` from ``total_price``/``currency``;
* checkouts (``checkouts/*`` topics, ``{"checkout": ...}`` exports, or a bare
  payload with a ``token`` and no order name/number) -> ``kind="status"``,
  ``signal="log"``: a checkout is not an order, so it never counts as one;
  reconciliation can still find them by ``extra.record == "checkout"``.

Times: ``logged_at`` is ``X-Shopify-Triggered-At`` (UTC); without it the
payload's ``updated_at`` (``orders/updated`` only), else ``processed_at``,
else ``created_at``.  ``event_time`` is ``created_at`` (else
``processed_at``).  Payload times carry the shop's UTC offset and are
converted to UTC; ``event_time_raw`` keeps them as written.

Customer data becomes ``ud_*`` states (backend orders hold clear values, so
``clear``/``present`` is expected here) plus the keyed digests ``udh_em``,
``udh_em_raw``, ``udh_ph``, ``udh_ph_nocc`` (:func:`auditor.userdata.order_variant_digests`);
``extra`` holds only ids, flags and
labels, never an e-mail, phone, address or IP.
"""

from __future__ import annotations

import polars as pl

from auditor import classify_user_data
from auditor.redact import redact_columns
from auditor.userdata import order_variant_digests

from .patterns import CONNECTOR, DRAFT_SOURCE, FBC_ATTRIBUTES, FBP_ATTRIBUTES, POS_SOURCE

_ISO = "%Y-%m-%dT%H:%M:%S%.f%#z"
_REST_OLD = "%Y-%m-%d %H:%M:%S %z"
_HOST = r"^[a-zA-Z][a-zA-Z0-9+.\-]*://([^/:?#@]+)"


def utc(text: pl.Expr) -> pl.Expr:
    """ISO 8601 with an offset or ``Z`` (any fraction), or ``YYYY-MM-DD HH:MM:SS +0200``, as UTC."""
    t = text.str.strip_chars()
    return pl.coalesce(
        t.str.to_datetime(_ISO, time_zone="UTC", time_unit="us", strict=False),
        t.str.to_datetime(_REST_OLD, time_zone="UTC", time_unit="us", strict=False),
    )


def _nz(expr: pl.Expr) -> pl.Expr:
    """``expr`` unless it is empty or blank (so coalesce skips it)."""
    return pl.when(expr.str.strip_chars() != "").then(expr)


def _first(*exprs: pl.Expr) -> pl.Expr:
    """First non-blank value; an all-blank field stays "" so its state is ``empty``."""
    return pl.coalesce(*[_nz(e) for e in exprs], *exprs)


def _attribute(o: pl.Expr, names: tuple[str, ...]) -> pl.Expr:
    attrs = o.struct.field("note_attributes")
    return attrs.list.filter(pl.element().struct.field("name").str.to_lowercase().is_in(list(names))).list.first().struct.field("value")


def _user_data(o: pl.Expr) -> list[pl.Expr]:
    f = o.struct.field
    bill, ship, cust = f("billing_address"), f("shipping_address"), f("customer")
    return [
        _first(f("email"), f("contact_email"), cust.struct.field("email")).alias("raw_ud_em"),
        _first(f("phone"), bill.struct.field("phone"), cust.struct.field("phone"), ship.struct.field("phone")).alias("raw_ud_ph"),
        _first(bill.struct.field("first_name"), cust.struct.field("first_name"), ship.struct.field("first_name")).alias("raw_ud_fn"),
        _first(bill.struct.field("last_name"), cust.struct.field("last_name"), ship.struct.field("last_name")).alias("raw_ud_ln"),
        _first(bill.struct.field("city"), ship.struct.field("city")).alias("raw_ud_ct"),
        _first(bill.struct.field("province_code"), ship.struct.field("province_code")).alias("raw_ud_st"),
        _first(bill.struct.field("zip"), ship.struct.field("zip")).alias("raw_ud_zp"),
        _first(bill.struct.field("country_code"), ship.struct.field("country_code")).alias("raw_ud_country"),
        cust.struct.field("id").alias("raw_ud_external_id"),
        _first(f("browser_ip"), f("client_details").struct.field("browser_ip")).alias("raw_ud_client_ip_address"),
        f("client_details").struct.field("user_agent").alias("raw_ud_client_user_agent"),
        _attribute(o, FBP_ATTRIBUTES).alias("raw_ud_fbp"),
        _attribute(o, FBC_ATTRIBUTES).alias("raw_ud_fbc"),
    ]


def build_rows(items: pl.DataFrame, shop_option: str | None, verifying: bool = False) -> pl.DataFrame:
    """Canonical rows (plus private ``_webhook_id``, ``_hmac``, ``_shop_hint``) for decoded items.

    ``verifying`` (a webhook secret was given): an order counts only when its
    signature verifies.  Forged ones (``hmac_invalid``) and ones that cannot be
    verified (no or empty header, re-serialised body: ``hmac_unverified``)
    become ``status`` rows, left out of the orders and the reconciliation."""
    o = pl.col("_o")
    f = o.struct.field
    checkout = pl.col("_is_checkout")
    topic = pl.col("_topic")
    source_name = f("source_name").str.to_lowercase()
    test = (f("test").str.to_lowercase() == "true").fill_null(False) | (
        pl.col("_test_header").str.to_lowercase() == "true"
    ).fill_null(False)
    ignored = (
        pl.when(test).then(pl.lit("test"))
        .when(source_name == DRAFT_SOURCE).then(pl.lit("draft"))
        .when(source_name == POS_SOURCE).then(pl.lit("pos"))
    )
    created, processed, updated = utc(f("created_at")), utc(f("processed_at")), utc(f("updated_at"))
    triggered = utc(pl.col("_triggered_at"))
    shop = pl.coalesce(
        pl.col("_shop_header").str.strip_chars().str.to_lowercase(),
        pl.lit(shop_option.lower() if shop_option else None, dtype=pl.String),
    )
    shop_hint = pl.coalesce(f("order_status_url"), f("abandoned_checkout_url")).str.extract(_HOST, 1).str.to_lowercase()
    total = f("total_price").str.strip_chars()
    label = pl.coalesce(topic, pl.when(checkout).then(pl.lit("checkout")).otherwise(pl.lit("order")))
    landing = f("landing_site")
    invalid = pl.col("_hmac") == "invalid"
    unverified = pl.lit(verifying) & ~invalid & (pl.col("_hmac") != "valid") & ~checkout
    untrusted = pl.lit(verifying) & (invalid | unverified) & ~checkout

    rows = items.with_columns(
        pl.lit("shopify").alias("source"),
        pl.when(checkout | untrusted).then(pl.lit("status")).otherwise(pl.lit("order")).alias("kind"),
        pl.coalesce(
            triggered,
            pl.when(topic == "orders/updated").then(updated),
            processed,
            created,
        ).alias("logged_at"),
        pl.coalesce(created, processed).alias("event_time"),
        pl.coalesce(f("created_at"), f("processed_at")).alias("event_time_raw"),
        shop.alias("shop"),
        shop.alias("account"),
        shop_hint.alias("_shop_hint"),
        pl.lit(CONNECTOR).alias("connector"),
        pl.when(~checkout).then(f("id")).alias("order_id"),
        total.alias("value_raw"),
        total.cast(pl.Float64, strict=False).alias("value"),
        f("currency").alias("currency"),
        pl.when(invalid).then(pl.lit("hmac_invalid")).when(unverified).then(pl.lit("hmac_unverified"))
        .when(checkout).then(pl.lit("log")).alias("signal"),
        pl.concat_str(
            pl.lit("Shopify "), label,
            pl.when(f("name").is_not_null()).then(pl.format(" {}", f("name"))).otherwise(pl.lit("")),
            pl.when(total.is_not_null()).then(pl.format(": {} {}", total, f("currency").fill_null(""))).otherwise(pl.lit("")),
            pl.when(ignored.is_not_null()).then(pl.format(" (ignored: {})", ignored)).otherwise(pl.lit("")),
            pl.when(invalid).then(pl.lit(" - HMAC does not match the body"))
            .when(unverified).then(pl.lit(" - signature not verifiable against the webhook secret")).otherwise(pl.lit("")),
        ).str.strip_chars_end().alias("message"),
        pl.struct(
            pl.when(checkout).then(pl.lit("checkout")).otherwise(pl.lit("order")).alias("record"),
            topic.alias("topic"),
            pl.col("_webhook_id").alias("webhook_id"),
            pl.col("_event_id").alias("shopify_event_id"),
            pl.col("_api_version").alias("api_version"),
            f("name").alias("name"),
            f("order_number").alias("order_number"),
            pl.when(checkout).then(f("id")).alias("checkout_id"),
            f("checkout_token").alias("checkout_token"),
            pl.when(checkout).then(f("token")).alias("token"),
            f("cart_token").alias("cart_token"),
            f("source_name").alias("source_name"),
            f("financial_status").alias("financial_status"),
            test.alias("test"),
            ignored.alias("ignored"),
            f("cancelled_at").is_not_null().alias("cancelled"),
            processed.dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ").alias("processed_at"),
            f("presentment_currency").alias("presentment_currency"),
            landing.str.contains(r"(?i)[?&]fbclid=").fill_null(False).alias("landing_fbclid"),
            f("referring_site").str.contains(r"(?i)facebook\.com|instagram\.com").fill_null(False).alias("facebook_referrer"),
            _attribute(o, FBP_ATTRIBUTES).is_not_null().alias("note_fbp"),
            _attribute(o, FBC_ATTRIBUTES).is_not_null().alias("note_fbc"),
            pl.col("_wrapper").alias("rest_wrapper"),
            pl.col("_hmac").alias("hmac"),
            pl.col("_hmac_reason").alias("hmac_unchecked_reason"),
        ).struct.json_encode().alias("extra"),
        *_user_data(o),
    )
    # keyed digests of the order's e-mail / phone (normalised and un-normalised
    # spellings) so checks can tell how a server event hashed them; the clear
    # values go with the raw_ud_* columns right after
    order = ~pl.col("_is_checkout")
    rows = rows.with_columns(
        order_variant_digests(pl.when(order).then(pl.col("raw_ud_em")), pl.when(order).then(pl.col("raw_ud_ph")))
    )
    rows = classify_user_data(rows)
    rows = redact_columns(rows, "message")
    keep = [c for c in rows.columns if not c.startswith("_") or c in ("_webhook_id", "_hmac", "_hmac_reason", "_shop_hint")]
    return rows.select(keep).drop("rec", "shape", strict=False)
