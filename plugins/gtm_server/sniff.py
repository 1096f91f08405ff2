"""Decide whether a file is a server-side GTM log export, from its first bytes.

Cloud Logging LogEntries (``insertId`` / ``logName``) with sGTM / Stape / GA4
markers score 0.9, other LogEntries 0.6; Stape tag objects without a
LogEntry around them (raw stdout, also JSON-escaped inside another object)
and the snake_case BigQuery copy 0.85.  Shopify
payloads, WooCommerce logs and bare Graph responses score 0 (the Graph API
source reads those; it scores LogEntries at most 0.3).
"""

from __future__ import annotations

import re

from auditor.ingest.sniff import head_text, looks_like_json_array

_LOGENTRY = re.compile(r'"(?:insertId|logName)"\s*:')
_SGTM = re.compile(
    r'cloud_run_revision|gae_app|run\.googleapis\.com|/g/collect|sgtm|server-side-tagging|stape|gtmss-|'
    r'\\?"(?:Type|type)\\?"\s*:\s*\\?"(?:Request|Response|Message)\\?"',
    re.I,
)
_STAPE_OBJECT = re.compile(
    r'\\?"Name\\?"\s*:\s*\\?"[^"\\]*\\?"\s*,\s*\\?"Type\\?"\s*:\s*\\?"(?:Request|Response|Message)\\?"'
    r'|\\?"(?:RequestUrl|ResponseStatusCode|ResponseBody)\\?"\s*:'
)
_SNAKE = re.compile(r'"tag_name"\s*:.*"(?:request_url|response_status_code|response_body|request_body)"\s*:')
_FOREIGN = re.compile(r"(?i)x-shopify-|Facebook-for-WooCommerce")




_SGTM_HINTS = ("cloud_run_revision", "gae_app", "run.googleapis.com", "/g/collect", "sgtm", "server-side-tagging",
               "stape", "gtmss-")
_STAPE_HINTS = ('Type', "RequestUrl", "ResponseStatusCode", "ResponseBody")


def _sgtm_marker(text: str, lower: str) -> bool:
    if any(h in lower for h in _SGTM_HINTS):
        return True
    return "type" in lower and _SGTM.search(text) is not None


def sniff(file_name: str, head_bytes: bytes) -> float:
    text = head_text(head_bytes)
    if text.lstrip()[:1] != "{" and not looks_like_json_array(text):
        return 0.0
    lower = text.lower()
    if "x-shopify-" in lower or "facebook-for-woocommerce" in lower:
        return 0.0
    if ('"insertId"' in text or '"logName"' in text) and _LOGENTRY.search(text):
        return 0.9 if _sgtm_marker(text, lower) else 0.6
    if any(h in text for h in _STAPE_HINTS) and _STAPE_OBJECT.search(text):
        return 0.85
    if '"tag_name"' in text and _SNAKE.search(text):
        return 0.85
    return 0.0
