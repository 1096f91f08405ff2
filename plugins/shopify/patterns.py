"""Fixed facts of the Shopify webhook formats: header names, the payload dtype,
record shapes and the ``source_name`` values that make an order "ignored".

Every regular expression is valid for both Python ``re`` (sniffing) and Rust
``regex`` (Polars expressions).
"""

from __future__ import annotations

import polars as pl

from auditor import REJECT_SCHEMA  # noqa: F401 - shared by the source's modules

CONNECTOR = "shopify"

#: Shopify delivery headers -> private column.  Names are matched
#: case-insensitively, with ``-`` or ``_`` and an optional ``HTTP_`` prefix (PHP
#: ``$_SERVER`` dumps), see :func:`.headers.header_pattern`.
HEADERS = {
    "x-shopify-topic": "_topic",
    "x-shopify-hmac-sha256": "_hmac_header",
    "x-shopify-shop-domain": "_shop_header",
    "x-shopify-api-version": "_api_version",
    "x-shopify-webhook-id": "_webhook_id",
    "x-shopify-triggered-at": "_triggered_at",
    "x-shopify-event-id": "_event_id",
    "x-shopify-test": "_test_header",
    "content-length": "_content_length",
}

#: Request line of a raw HTTP capture.
REQUEST_LINE = r"^(?:POST|PUT|PATCH) \S+ HTTP/\d(?:\.\d)?\s*$"

#: ``source_name`` values of orders reconciliation must not expect on Meta.
DRAFT_SOURCE = "shopify_draft_order"
POS_SOURCE = "pos"

#: Topics whose payload is a checkout, not an order.
CHECKOUT_TOPIC_PREFIX = "checkouts/"
#: Topics read (an order or checkout resource).  ``draft_orders/*`` are not
#: orders yet: the order a draft becomes arrives as ``orders/create`` with
#: ``source_name`` ``shopify_draft_order``.
ORDER_TOPICS = r"^(?:orders|checkouts)/"

#: ``note_attributes`` names written by tracking apps (an app convention, not Shopify's).
FBP_ATTRIBUTES = ("_fbp", "fbp")
FBC_ATTRIBUTES = ("_fbc", "fbc")

_ADDRESS = pl.Struct({
    "first_name": pl.String, "last_name": pl.String, "phone": pl.String, "city": pl.String,
    "zip": pl.String, "province_code": pl.String, "country_code": pl.String,
})

#: The fields read from an order or checkout.  Every scalar is String: Polars
#: writes JSON numbers as their text, so ids above 2^53 stay exact and money
#: keeps its spelling.
ORDER = pl.Struct({
    "id": pl.String,
    "token": pl.String,
    "cart_token": pl.String,
    "checkout_token": pl.String,
    "checkout_id": pl.String,
    "name": pl.String,
    "order_number": pl.String,
    "email": pl.String,
    "contact_email": pl.String,
    "phone": pl.String,
    "created_at": pl.String,
    "processed_at": pl.String,
    "updated_at": pl.String,
    "completed_at": pl.String,
    "cancelled_at": pl.String,
    "currency": pl.String,
    "presentment_currency": pl.String,
    "total_price": pl.String,
    "financial_status": pl.String,
    "source_name": pl.String,
    "test": pl.String,
    "browser_ip": pl.String,
    "landing_site": pl.String,
    "referring_site": pl.String,
    "order_status_url": pl.String,
    "abandoned_checkout_url": pl.String,
    "client_details": pl.Struct({"browser_ip": pl.String, "user_agent": pl.String}),
    "note_attributes": pl.List(pl.Struct({"name": pl.String, "value": pl.String})),
    "billing_address": _ADDRESS,
    "shipping_address": _ADDRESS,
    "customer": pl.Struct({
        "id": pl.String, "email": pl.String, "first_name": pl.String, "last_name": pl.String, "phone": pl.String,
    }),
})

#: A body: a bare order/checkout, or a REST export wrapping one (``order``,
#: ``checkout``) or several (``orders``, ``checkouts``).
BODY = pl.Struct({
    **dict(ORDER.to_schema()),
    "order": ORDER,
    "checkout": ORDER,
    "orders": pl.List(ORDER),
    "checkouts": pl.List(ORDER),
})

