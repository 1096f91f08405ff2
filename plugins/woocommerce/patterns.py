"""Regular expressions and fixed strings of the Meta for WooCommerce log format.

Every pattern is valid for both Python ``re`` (used by the core reader to cut
batches and by :mod:`.sniff`) and Rust ``regex`` (used in Polars expressions).
"""

from __future__ import annotations

from auditor.graph_errors import CODE_IN_TEXT, EVENTS_PATH, EVENTS_URL, TRANSPORT_TEXT as _TRANSPORT_TEXT

#: WooCommerce file handler v1, legacy ``add()`` entries: site-local time, no offset.
LEGACY_HEADER = r"\d\d-\d\d-\d{4} @ \d\d:\d\d:\d\d -"
#: ``gmdate('c')`` headers (file handler v2, and v1 for non-legacy entries), any level case.
ISO_HEADER = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z) [A-Za-z]+"
#: A line starting an entry (also the Source's ``entry_start``).
ENTRY_START = rf"^(?:{LEGACY_HEADER}|{ISO_HEADER})(?:[ \t\r\n]|$)"

#: Pieces of a header line.  ``msg`` is the first line of the message.
HEADER_PARTS = (
    r"^(?:(?P<mo>\d\d)-(?P<dd>\d\d)-(?P<yy>\d{4}) @ (?P<hms>\d\d:\d\d:\d\d) -"
    r"|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z)) (?P<level>[A-Za-z]+))"
    r"[ \t]?(?P<msg>.*)$"
)

#: Prefix of the ``key: value`` lines of Request/Response entries, and of the
#: ``print_r`` header lines that carry the Graph trace ids.
KV_PREFIX = (
    r"^((?:method|uri|user-agent|body|duration|code|message):[ ]?"
    r"|[ \t]+\[(?i:x-fb-request-id|x-fb-trace-id)\] => )"
)
#: Keys kept from Request/Response entries (``print_r`` keys lower-cased).
KV_KEYS = ("method", "uri", "user-agent", "body", "duration", "code", "message", "x-fb-request-id", "x-fb-trace-id")

#: v2 handler context suffix: `` CONTEXT: {"_legacy":true}`` (same line or its own line).
CONTEXT_SUFFIX = r"[ \t]*CONTEXT: [\[{].*$"
CONTEXT_LINE = r"^ CONTEXT: [\[{]"

#: ``/v20.0/<pixel>/events`` in a request uri (the core's pattern, shared with the other sources).
EVENTS_URI = EVENTS_PATH
#: Plugin version in the request user agent.
USER_AGENT_VERSION = r"Facebook-for-WooCommerce/([0-9][^\s;()]*)"
#: ``woocommerce-<wc>-<plugin>`` or ``woocommerce_<flags>-<wc>-<plugin>``.
PARTNER_AGENT_VERSION = r"^woocommerce(?:_[A-Za-z0-9_]*)?-[0-9][^-\s]*-([0-9][^\s]*)$"

# Status lines (first line of an entry's message).
PIXEL_ERROR = r"^Could not send Pixel event:"
PIXEL_ERROR_TYPE = r"^Could not send Pixel event:\s*(?:[A-Za-z_\\]*\\)?([A-Za-z_]*Exception|[A-Za-z_]+Error)\s*:"
#: A send that got no answer, and a ``(#N)`` Graph code in a text: the core's
#: patterns (:mod:`auditor.graph_errors`), shared with the other sources.
TRANSPORT_TEXT = _TRANSPORT_TEXT
GRAPH_CODE_IN_TEXT = CODE_IN_TEXT
CONNECTION_INVALID = r"Facebook connection invalid \(error (?P<code>\d+)(?:, subcode (?P<sub>\d+))?\)"
CRAWLER_BLOCKED = r"^Blocked CAPI event for crawler"
TOKEN_MISSING = r"(?i)access token is missing|missing (?:the )?access token|no access token|access token (?:is )?(?:not set|empty)"
PLUGIN_UPDATED = r"^(?:Starting upgrade to v|Upgrade to v)([0-9][^\s]*)"

#: Content markers the sniffer looks for (any one, case-insensitive).
META_MARKERS = (
    EVENTS_URL,
    r"Error persisting Meta logs",
    r"Facebook-for-WooCommerce",
    r"Could not send Pixel event",
    r"Facebook connection invalid",
    r"Blocked CAPI event",
    r"\"partner_agent\":\"woocommerce",
)
FILE_NAME_HINT = r"(?i)facebook[_-]for[_-]woocommerce"
