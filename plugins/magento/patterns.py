"""The format of Meta's Magento 2 extension log, as regular expressions.

Both generations of the extension (``facebook/facebook-for-magento2``, module
``Facebook_BusinessExtension``, and its successor ``meta/meta-for-magento2``,
``Meta_BusinessExtension``) log through a Monolog logger of channel ``FBE``
into ``var/log/facebook-business-extension.log`` (newer:
``var/log/meta/meta-business-extension.log``).  Magento's file handler uses
Monolog's line formatter with line breaks kept, so one record is

    [2021-03-01 10:00:00] FBE.INFO: <message, maybe over several lines> [] []

(Monolog 1; Monolog 2/3 stamp ``[2024-01-05T10:11:12.123456+00:00]``); the
last two fields are the context and extra arrays, ``[]`` or JSON objects.

Patterns are valid for Python ``re`` (the reader, the sniffer) and Rust
``regex`` (Polars) alike.
"""

from __future__ import annotations

from auditor.graph_errors import HTML_PAGE, TRANSPORT_TEXT

LEVELS = "DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY"
#: ``[date time] channel.LEVEL: `` -- a record's first line (the Source's ``entry_start``).
ENTRY_START = (
    r"^\[\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?\] "
    rf"[A-Za-z0-9_.\-]+\.(?:{LEVELS}): "
)
#: Pieces of the first line.
HEADER_PARTS = (
    r"^\[(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)?)\] "
    rf"(?P<channel>[A-Za-z0-9_.\-]+)\.(?P<level>{LEVELS}): (?P<rest>.*)$"
)
#: The trailing context and extra fields: ``[] []``, ``{...} []``, ``{...} {...}``.
TAIL = r"(?s)^(?P<msg>.*?)[ ]+(?P<context>\[\]|\{.*\})[ ]+(?P<extra>\[\]|\{.*\})[ \t]*$"

#: The channel the extension's logger uses.
CHANNEL = "FBE"

# --- messages of the extension (Helper/ServerSideHelper.php, Helper/FBEHelper.php) ---
#: ``Sending event <id>`` (1.x) / ``Sending event Purchase with ID : <id>`` (Meta 1.2+).
SENDING = r"^Sending event (?:(?P<name>[A-Za-z0-9_]+) with ID : )?(?P<id>\S+)\s*$"
#: The rejection handler of the asynchronous CAPI request.
REQUEST_EXCEPTION = r"^RequestException: "
#: ``test code TEST123 attached to event request`` (server test mode).
TEST_CODE = r"^test code (\S+) attached to event request"
#: ``Purchase event fired for Pixel id : 123`` / ``Pixel id updated from 1 to 2``.
PIXEL_IN_TEXT = r"(?:for Pixel id : |Pixel id updated from \d+ to )(\d{5,20})"
#: ``can't find access token, won't ...`` and friends.
TOKEN_MISSING = r"(?i)can't find access token|cannot find access token|access token (?:is )?(?:missing|not set|empty)|no access token"
#: ``json_encode($e)`` of an exception is ``{}``: something failed, what is lost.
SWALLOWED = r"^\{\}$"

# --- Guzzle request exceptions: "Client error: `POST <url>` resulted in a `400 Bad Request` response:" ---
GUZZLE_STATUS = r"resulted in a `(\d{3})[^`]*` response"
GUZZLE_URL = r"`(?:POST|GET|DELETE|PUT) (https?://[^`\s]+)`"
#: A send that got no answer, and an HTML page for an answer: the core's words,
#: the same for every source (:mod:`auditor.graph_errors`).
TRANSPORT = TRANSPORT_TEXT
HTML = HTML_PAGE
#: The Graph error object inside a message (whole, or cut by Guzzle at ~120 characters).
ERR_CODE = r'"error"\s*:\s*\{.*?"code"\s*:\s*"?(\d+)'
ERR_SUBCODE = r'"error_subcode"\s*:\s*"?(\d+)'
ERR_TYPE = r'"error"\s*:\s*\{.*?"type"\s*:\s*"([^"]*)"'
ERR_MESSAGE = r'"error"\s*:\s*\{.*?"message"\s*:\s*"((?:[^"\\]|\\.)*)'
ERR_TRANSIENT = r'"is_transient"\s*:\s*(true|false)'
FBTRACE = r'"fbtrace_id"\s*:\s*"([A-Za-z0-9_\-+/=]{1,64})"'

# --- context JSON of Meta 1.x records ---
CTX_PIXEL = r'"pixel_id"\s*:\s*"?(\d{5,20})'
#: The exception code Meta 1.x puts in the context (the Graph code for SDK exceptions; 0 = none).
CTX_CODE = r'"exception_code"\s*:\s*"?([1-9]\d*)'
CTX_VERSION = r'"extension_version"\s*:\s*"([0-9][^"]{0,30})"'
