"""Decide whether a file holds Shopify webhook deliveries, from its first bytes.

Delivery headers (``X-Shopify-Topic`` ...) in any case are a sure sign; bare
payloads and REST exports are recognised by order/checkout keys that no CAPI
log carries together (``total_price`` with ``order_number``/``line_items``/
``checkout_token``...).  Cloud Logging entries and Graph responses score 0.
"""

from __future__ import annotations

import re

from auditor.ingest.sniff import head_text, looks_like_json_array

# case-insensitive by character classes: a (?i) search costs five times more
_HEADER = re.compile(r"[xX][-_][sS][hH][oO][pP][iI][fF][yY][-_](?i:topic|hmac[-_]sha256|shop[-_]domain|webhook[-_]id)")
_ORDER_KEYS = re.compile(r'"(?:order_number|line_items|checkout_token|financial_status|abandoned_checkout_url|cart_token)"\s*:')
_TOTAL = re.compile(r'"total_price"\s*:')
_REST = re.compile(r'^\s*\[?\s*\{\s*"(?:orders?|checkouts?)"\s*:')
_FOREIGN = re.compile(r'"(?:logName|insertId|textPayload|jsonPayload|events_received|fbtrace_id)"\s*:')
_HTTP = re.compile(r"\n(?:POST|PUT|PATCH) \S+ HTTP/\d")  # searched in "\n" + text

# literal necessary conditions, tested with ``in`` before a regex runs
_ORDER_HINTS = ('"order_number"', '"line_items"', '"checkout_token"', '"financial_status"',
                '"abandoned_checkout_url"', '"cart_token"')


def sniff(file_name: str, head_bytes: bytes) -> float:
    """0.95 with Shopify delivery headers, 0.85 for order/checkout payloads, else 0."""
    text = head_text(head_bytes)
    if text.lstrip()[:1] != "{" and not looks_like_json_array(text) and not _HTTP.search("\n" + text):
        return 0.0
    if "Facebook-for-WooCommerce" in text or _FOREIGN.search(text):
        return 0.0  # Cloud Logging entries, Graph responses, WooCommerce logs
    if _HEADER.search(text):
        return 0.95
    if '"total_price"' in text and _TOTAL.search(text) and (
        (any(h in text for h in _ORDER_HINTS) and _ORDER_KEYS.search(text)) or _REST.match(text)
    ):
        return 0.85
    return 0.0
