"""Fixed facts of server-side GTM log exports: record starts, JSON shapes,
GA4 -> Meta event names, connector fingerprints and noise.

Every regular expression is valid for both Python ``re`` (the reader's batch
cuts, sniffing) and Rust ``regex`` (Polars expressions).
"""

from __future__ import annotations

import polars as pl

from auditor import REJECT_SCHEMA  # noqa: F401 - shared by the source's modules
from auditor import capi_payload
from auditor.graph_errors import EVENTS_URL


#: A line starting a record: an NDJSON line (``{`` in column 0), the opening
#: ``[`` of an array, or a top-level element of a pretty-printed array
#: (``gcloud --format=json``/``jq`` indent 2, Python ``indent=4``).  Nested
#: objects of such an element are indented deeper, so they never match.
ENTRY_START = r"^(?:\[|\{|  \{|    \{)"

#: A record holding only array punctuation (``[``, ``]``, ``],``).
PUNCTUATION_ONLY = r"^[\s\[\],]*$"

#: Cloud Logging LogEntry fields read from every record, plus the Stape tag's
#: log keys at top level (raw stdout lines) and their snake_case BigQuery copy.
STAPE_FIELDS = (
    "Name", "Type", "TraceId", "EventName", "RequestMethod", "RequestUrl", "ResponseStatusCode", "Message", "Reason",
    "tag_name", "type", "trace_id", "event_name", "request_method", "request_url", "response_status_code",
    "message", "reason",
)
STAPE = pl.Struct({k: pl.String for k in STAPE_FIELDS})
ENTRY = pl.Struct({
    "insertId": pl.String,
    "timestamp": pl.String,
    "receiveTimestamp": pl.String,
    "logName": pl.String,
    "severity": pl.String,
    "trace": pl.String,
    "textPayload": pl.String,
    "httpRequest": pl.Struct({
        "requestMethod": pl.String, "requestUrl": pl.String, "status": pl.String,
        "userAgent": pl.String, "remoteIp": pl.String, "latency": pl.String,
    }),
    "resource": pl.Struct({
        "type": pl.String,
        "labels": pl.Struct({"service_name": pl.String, "project_id": pl.String, "module_id": pl.String}),
    }),
    **{k: pl.String for k in STAPE_FIELDS},
})

#: ``RequestBody`` of a CAPI request: Stape keeps Meta's body as is.
REQUEST_BODY = capi_payload.REQUEST_BODY

#: A Stape tag log with its bodies as the tag logs them -- ``RequestBody`` an
#: object, ``ResponseBody`` a JSON string (the BigQuery copy: both strings) --
#: so one decode reads the log and its request.  Objects whose bodies have
#: other types fail this shape and are decoded with :data:`STAPE` and their
#: text instead (see :mod:`.envelope`).
BODIES = {"RequestBody": REQUEST_BODY, "request_body": pl.String, "ResponseBody": pl.String, "response_body": pl.String}
TAG_LOG = pl.Struct({**STAPE.to_schema(), **BODIES})
#: :data:`ENTRY` with the bodies of a top-level tag log and a decoded
#: ``jsonPayload``: most records need only this one decode.
ENTRY_PAYLOAD = pl.Struct({**ENTRY.to_schema(), **BODIES, "jsonPayload": TAG_LOG})

#: ``ResponseBody`` (a JSON string inside the log JSON) of a Graph answer.
RESPONSE_BODY = pl.Struct({
    "events_received": pl.String,
    "fbtrace_id": pl.String,
    "error": pl.Struct({
        "message": pl.String, "type": pl.String, "code": pl.String, "error_subcode": pl.String,
        "is_transient": pl.String, "error_user_title": pl.String, "fbtrace_id": pl.String,
    }),
})

#: Tag names (``Name`` / ``tag_name``) of Meta tags whose logs are read.
META_TAG = r"(?i)^(?:facebook|meta|dedupcollector)\b"
#: ``https://graph.facebook.com/v24.0/<pixel>/events?access_token=...`` (the core's pattern)
GRAPH_URL = EVENTS_URL
#: A failed send: ``Request failed or timed out. Pixel ID: <id>``.
FAILURE_MESSAGE = r"(?i)^\s*Request failed or timed out"
PIXEL_IN_MESSAGE = r"(?i)Pixel ID:\s*(\d+)"
PIXEL_IN_QUERY = r"[?&]pixel_id=(\d+)"

#: ``partner_agent`` fingerprints: Stape ``stape-gtmss-2.1.3[-ee]``, Meta's own
#: template ``gtmss-1.0.0-0.0.9[-ee]``.
PARTNER_AGENT = r"^(?P<stape>stape-)?gtmss-(?P<ver>.+?)(?P<ee>-ee)?$"
CONNECTOR_STAPE = "stape-facebook-tag"
CONNECTOR_META = "meta-sgtm-tag"
CONNECTOR_GA4 = "ga4"

#: Incoming GA4 hits (the browser leg) in Cloud Run / App Engine request logs.
GA4_PATH = r"^(?:[a-zA-Z]+://[^/]+)?/(?:[^?#]*/)?collect(?:\?|$)"
#: GA4 event names -> Meta standard events (the mapping the Stape and Meta
#: sGTM tags apply when the event name is inherited from the client).
GA4_TO_META = {
    "page_view": "PageView",
    "gtm.dom": "PageView",
    "add_payment_info": "AddPaymentInfo",
    "add_to_cart": "AddToCart",
    "add_to_wishlist": "AddToWishlist",
    "sign_up": "CompleteRegistration",
    "begin_checkout": "InitiateCheckout",
    "generate_lead": "Lead",
    "purchase": "Purchase",
    "search": "Search",
    "view_item": "ViewContent",
}

#: stdout noise of every sGTM container (vendors filter exactly these).
NOISE = r"googletagmanager\.com/sgtm/a|^\s*Listening\b"

