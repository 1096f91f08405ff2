"""Decide whether a file holds Shopify webhook deliveries, from its first bytes.

Delivery headers (``X-Shopify-Topic`` ...) in any case are a sure sign; bare
payloads and REST exports are recognised by order/checkout keys that no CAPI
log carries together (``total_price`` with ``order_number``/``line_items``/
``checkout_token``...).  Cloud Logging entries and Graph responses score 0.

An archive holds one file per webhook, tens of thousands of them, and each is
sniffed (:class:`auditor.ingest.sniff.SniffMemo` runs this sniffer alone on the
files like one it already won).  So the tests run on the head's bytes, not on
decoded text (no decode; a search in ``bytes`` is several times faster than in
a ``str`` holding one non-ASCII character), literal ``in`` tests come before a
regex, the case-insensitive header search runs on the lower-cased bytes, and
a capture envelope (``{"headers": {...`` first) skips the search for keys of
foreign logs: about 16 us a delivery.
"""

from __future__ import annotations

import re

from auditor.ingest.sniff import head_text, looks_like_json_array

_BOM = b"\xef\xbb\xbf"
# searched in the lower-cased head, once one of _HEADER_HINTS is in it
_HEADER = re.compile(rb"x[-_]shopify[-_](?:topic|hmac[-_]sha256|shop[-_]domain|webhook[-_]id)")
_HEADER_HINTS = (b"x-shopify", b"x_shopify")
_ORDER_KEYS = re.compile(rb'"(?:order_number|line_items|checkout_token|financial_status|abandoned_checkout_url|cart_token)"\s*:')
_TOTAL = re.compile(rb'"total_price"\s*:')
_REST = re.compile(rb'^\s*\[?\s*\{\s*"(?:orders?|checkouts?)"\s*:')
_FOREIGN = re.compile(rb'"(?:logName|insertId|textPayload|jsonPayload|events_received|fbtrace_id)"\s*:')
_HTTP = re.compile(rb"\n(?:POST|PUT|PATCH) \S+ HTTP/\d")  # searched in "\n" + head
# a capture envelope opens with its headers: no Cloud Logging entry or Graph
# response does, so _FOREIGN (a third of the sniff's time) need not be searched
_ENVELOPE_START = re.compile(rb'\s*\{\s*"headers"\s*:\s*\{')

# literal necessary conditions, tested with ``in`` before a regex runs
_ORDER_HINTS = (b'"order_number"', b'"line_items"', b'"checkout_token"', b'"financial_status"',
                b'"abandoned_checkout_url"', b'"cart_token"')


def _utf8(head_bytes: bytes) -> bytes:
    """The head as UTF-8 bytes: UTF-16 (by its BOM) re-encoded, a UTF-8 BOM dropped."""
    if head_bytes[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head_text(head_bytes).encode("utf-8")
    return head_bytes[3:] if head_bytes.startswith(_BOM) else head_bytes


def _starts_like_json_or_http(head: bytes) -> bool:
    first = head.lstrip()[:1]
    if first == b"{":
        return True
    if first == b"[" and looks_like_json_array(head_text(head)):
        return True
    return _HTTP.search(b"\n" + head) is not None


def sniff(file_name: str, head_bytes: bytes) -> float:
    """0.95 with Shopify delivery headers, 0.85 for order/checkout payloads, else 0."""
    head = _utf8(head_bytes)
    if not _starts_like_json_or_http(head):
        return 0.0
    if b"Facebook-for-WooCommerce" in head or (not _ENVELOPE_START.match(head) and _FOREIGN.search(head)):
        return 0.0  # Cloud Logging entries, Graph responses, WooCommerce logs
    lower = head.lower()
    if any(h in lower for h in _HEADER_HINTS) and _HEADER.search(lower):
        return 0.95
    if b'"total_price"' in head and _TOTAL.search(head) and (
        (any(h in head for h in _ORDER_HINTS) and _ORDER_KEYS.search(head)) or _REST.match(head)
    ):
        return 0.85
    return 0.0
