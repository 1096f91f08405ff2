"""The vocabulary of the formats: canonical constants, wrapper/body keys and
the line patterns shared by the other modules.

Patterns are Rust ``regex`` syntax (Polars); the few that the reader's Python
``re`` also sees (:mod:`.records`, :mod:`.sniff`) use only syntax both accept.
"""

from __future__ import annotations

import polars as pl

from auditor import MESSAGE_CHARS, REJECT_SCHEMA  # noqa: F401 - shared by the source's modules
from auditor.graph_errors import EVENTS_PATH, GRAPH_ENDPOINT, TRANSPORT_TEXT, TRANSPORT_WORDS  # noqa: F401 - as above

CONNECTOR = "graph-api-log"
S = pl.String
UTC = pl.Datetime("us", "UTC")
#: ``message`` is cut to this many characters (after redaction).

# --------------------------------------------------------------------------
# JSON shapes
# --------------------------------------------------------------------------

#: Wrapper keys (first present wins) -> canonical meaning.
WRAPPER_KEYS: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "logged_at", "date", "@timestamp", "datetime"),
    "pixel": ("pixel_id", "pixel", "dataset_id"),
    "status": ("status", "http_status", "status_code", "statusCode"),
    "sent": ("sent", "events_sent", "batch_size"),
    "url": ("url", "path", "uri", "endpoint"),
}
#: Keys that may hold the Graph body (an object, or the body as a JSON string).
BODY_KEYS = ("response", "body", "result", "data", "jsonPayload", "textPayload")
ERROR_FIELDS = (
    "message", "type", "code", "error_subcode", "is_transient", "error_user_title", "fbtrace_id",
)
CONTAINER_KEYS = ("error", *BODY_KEYS)
#: Flat String columns every decode produces (whatever the input shape).
FLAT = (
    "w_ts", "w_pixel", "w_status", "w_sent", "w_url",
    "events_received", "fbtrace_id",
    *(f"e_{f}" for f in ERROR_FIELDS),
    "err_text", "body_text",
)

# --------------------------------------------------------------------------
# Line patterns
# --------------------------------------------------------------------------

#: ``/v20.0/<pixel>/events``: group 1 the Graph version, group 2 the pixel; and
#: what names the Graph endpoint (captures, transport failures): the core's patterns.
URL = EVENTS_PATH
SDK_LINE = r"^\s*Message: Call was not successful"
GUZZLE = r"resulted in a `(\d{3})[^`]*` response"
HTML = r"(?i)<!doctype html|<html[\s>]"
SORRY = r"(?i)(sorry, something went wrong\.?)"
TRANSPORT = TRANSPORT_TEXT
#: Monolog appends "[] []" (context, extra) after the JSON.
JSON_TAIL = r"\s*(?:\[\]\s*)*$"
#: Any ``HTTP 502`` / ``HTTP/1.1 502`` / ``HTTP: 502`` mention.
HTTP_STATUS = r"(?i)\bHTTP(?:/\d(?:\.\d)?)?[ :]+(\d{3})\b"
#: An HTTP capture's status: ``... -> HTTP 502 Bad Gateway`` or a
#: ``HTTP/1.1 502 Bad Gateway`` status line.
CAPTURE_STATUS = r"(?im)(?:->\s*HTTP(?:/\d(?:\.\d)?)?\s+|^\s*HTTP/\d(?:\.\d)?\s+)(\d{3})\b"
#: A line that announces a body on the next line: it ends in ``... bytes)``
#: or ``(content-type: text/html...)``, or with ``-> HTTP nnn [reason]``, or
#: is an ``HTTP/1.1 nnn [reason]`` status line.
ANNOUNCE = (
    r"(?i)(?:\bbytes\)|\btext/html[^)]*\)|->\s*HTTP(?:/\d(?:\.\d)?)?\s+\d{3}\b[^(){}<>]*"
    r"|^\s*HTTP/\d(?:\.\d)?\s+\d{3}\b[^(){}<>]*)\s*$"
)
