"""Sniffing: how sure are we that a file holds Graph API responses?

Python ``re`` over the 64 KiB head only.  WooCommerce logs and sGTM/Stape
LogEntries embed responses too, but their own sources read them: those score
low here.  HTTP captures of the Graph endpoint (``<ts> POST
https://graph.facebook.com/.../events?... -> HTTP 502 ...``) score
:data:`CAPTURE_SCORE`: their ``<ISO time> POST`` start looks like a
WooCommerce v2 header line to the woocommerce sniffer, which also names the
Graph URL as one of its markers, and it would claim them at 0.9.
"""

from __future__ import annotations

import re

from auditor.graph_errors import EVENTS_URL, SDK_ERROR, SDK_UNCAUGHT, TRANSPORT_WORDS
from auditor.ingest.sniff import head_text, looks_like_json_array

from .timestamps import TS_HEAD

_WOO = re.compile(
    r"Facebook-for-WooCommerce|facebook_for_woocommerce|^\s*method: POST\b|^\d{2}-\d{2}-\d{4} @ \d",
    re.M,
)
_GCLOUD = re.compile(r'"(?:logName|insertId|ResponseBody|ResponseStatusCode)"\s*:')
_MARKER = re.compile(
    r'"events_received"\s*:|"error"\s*:\s*\{[^{}]*"code"\s*:|"fbtrace_id"\s*:|'
    r"Call was not successful|graph\.facebook\.com/\S*/events\S* resulted in|"
    r"\(truncated\.\.\.\)|Sorry, something went wrong|"
    r"/events\S* -> HTTP(?:/\d(?:\.\d)?)? \d{3}\b|"
    + SDK_ERROR + "|" + SDK_UNCAUGHT,
    re.M,  # SDK_ERROR ends at the end of its line
)
# A send to the Graph endpoint that got no answer: the endpoint, then a transport
# word later on its line.  Looked for line by line, and only when a transport word
# is in the head at all: inside one alternation with the markers above, every
# endpoint URL of a long log line made ``re`` try each word at every later
# position (76 ms a file on sGTM shards, whose lines all name the endpoint).
_ENDPOINT = re.compile(EVENTS_URL)
_TRANSPORT = re.compile(rf"(?i:{TRANSPORT_WORDS})")
_TRANSPORT_HINTS = ("curl", "time", "resolve", "ssl", "tls", "certificate", "connection", "connect", "empty reply",
                    "wp_error", "unreachable", "route to host", "econn", "etimedout", "enotfound", "eai_again",
                    "hang up")
# counted in "\n" + text: a literal first character lets ``re`` jump from line to line
_START_LINE = re.compile(rf"\n(?:{TS_HEAD}|\{{|\s*Message: )")
_CAPTURE = re.compile(
    r"\b(?:GET|POST) https?://graph\.facebook\.com/\S*/events\S* -> HTTP(?:/\d(?:\.\d)?)? \d{3}\b"
)
#: Above the woocommerce sniffer's 0.9 for unnamed files with Meta markers.
CAPTURE_SCORE = 0.92




# literal necessary conditions of the patterns above, tested with ``in`` first
_MARKER_HINTS = ('"events_received"', '"error"', '"fbtrace_id"', "Call was not successful", "resulted in",
                 "(truncated...)", "Sorry, something went wrong", " -> HTTP", "Facebook", "graph.facebook.com")
_WOO_HINTS = ("Facebook-for-WooCommerce", "facebook_for_woocommerce", "method: POST", " @ ")
_GCLOUD_HINTS = ('"logName"', '"insertId"', '"ResponseBody"', '"ResponseStatusCode"')


def _unanswered_sends(text: str) -> int:
    """Lines naming the Graph endpoint with a transport failure after it."""
    low = text.lower()
    if "graph.facebook.com" not in low or not any(h in low for h in _TRANSPORT_HINTS):
        return 0
    hits = 0
    for line in text.split("\n"):
        m = _ENDPOINT.search(line) if "graph.facebook.com" in line else None
        if m is not None and _TRANSPORT.search(line, m.end()):
            hits += 1
    return hits


def _marker_score(text: str) -> float:
    if not any(h in text for h in _MARKER_HINTS):
        return 0.0
    hits = len(_MARKER.findall(text)) + _unanswered_sends(text)
    if not hits:
        return 0.0
    starts = max(len(_START_LINE.findall("\n" + text)), 1)
    ratio = hits / starts
    score = 0.8 if ratio >= 0.5 else 0.6 if ratio >= 0.1 else 0.4
    if " -> HTTP" in text and _CAPTURE.search(text):
        score = CAPTURE_SCORE
    if any(h in text for h in _GCLOUD_HINTS) and _GCLOUD.search(text):  # sGTM/Stape LogEntries: the sgtm source reads those
        score = min(score, 0.3)
    if any(h in text for h in _WOO_HINTS) and _WOO.search(text):  # WooCommerce logs: the woocommerce source reads those
        score = min(score, 0.2)
    return score


def sniff_lines(file_name: str, head: bytes) -> float:
    """Score for the ``graph_api`` (line-based) source."""
    text = head_text(head)
    if looks_like_json_array(text):
        return min(_marker_score(text), 0.1)
    return _marker_score(text)


def sniff_array(file_name: str, head: bytes) -> float:
    """Score for the ``graph_api_array`` (JSON array document) source."""
    text = head_text(head)
    if not looks_like_json_array(text):
        return 0.0
    return _marker_score(text)
