"""Text features of records that are not plain JSON lines (regexes).

:func:`text_features` reads what a record's text says around its body: the
timestamp prefix, the Python SDK block (``Message: Call was not successful``
... ``Response:`` + pretty JSON), Guzzle's ``resulted in a `400 Bad Request`
response:``, HTTP captures (``-> HTTP 502 Bad Gateway``, ``HTTP/1.1 502``),
HTML error pages (also a fragment of Meta's "Sorry, something went wrong." page
after a ``[502] "Content-Type":[...]`` status line), transport failures, SDK
exception lines that kept only the message, the Graph URL (version, pixel).
:func:`regex_body` reads Graph body fields from bodies that are not valid JSON
(cut by Guzzle at ~120 characters, or printed as a Python repr).
"""

from __future__ import annotations

import polars as pl

from auditor.graph_errors import HTML_PAGE, SDK_ERROR, SDK_UNCAUGHT, STATUS_PREFIX

from .patterns import (
    CAPTURE_STATUS, GRAPH_ENDPOINT, GUZZLE, HTTP_STATUS, JSON_TAIL, S, SORRY, TRANSPORT, URL,
)
from .timestamps import TS_PREFIX

#: Columns :func:`text_features` adds (null literals on the fast paths).
TEXT_COLS = {
    "t_ts": S, "j": S, "t_sdk": pl.Boolean, "t_guzzle": S, "t_truncated": pl.Boolean,
    "t_version": S, "t_pixel": S, "t_status": S, "t_capture": S, "t_html": pl.Boolean, "t_sorry": S,
    "t_transport": pl.Boolean, "t_first": S, "t_sdk_msg": S,
}
#: Columns :func:`regex_body` adds.
REGEX_COLS = ("r_code", "r_subcode", "r_type", "r_transient", "r_message", "r_title", "r_fbtrace", "r_events")

_SDK_JSON = r"(?s)Response:[ \t]*\n    (\{.*?\n    \})"
_ANY_JSON = r"(?s)^[^{]*(\{.*\})" + JSON_TAIL
_STATUS_LINE = r"(?m)^\s*Status:\s+(\d{3})\b"
_TITLE_STATUS = r"(?i)<title>[^<]*?\b([45]\d\d)\b"
_STATUS_PHRASE = r"(?i)\b(5\d\d) (?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)"


def null_text_features(*keep: str) -> list[pl.Expr]:
    """Null literals for the :data:`TEXT_COLS` not in ``keep``."""
    return [pl.lit(None, dtype=dt).alias(name) for name, dt in TEXT_COLS.items() if name not in keep]


def text_features(rec: pl.Expr) -> list[pl.Expr]:
    """The :data:`TEXT_COLS` of each record text ``rec``."""
    first_line = rec.str.extract(r"^([^\n]*)")
    sdk = rec.str.contains("Call was not successful")
    url = rec.str.extract_groups(URL)
    guzzle = rec.str.extract(GUZZLE, 1)
    # an HTTP capture's status, when the record names the Graph endpoint
    capture = pl.when(rec.str.contains(GRAPH_ENDPOINT)).then(rec.str.extract(CAPTURE_STATUS, 1))
    return [
        rec.str.extract(TS_PREFIX, 1).alias("t_ts"),
        pl.when(sdk).then(rec.str.extract(_SDK_JSON, 1)).otherwise(rec.str.extract(_ANY_JSON, 1)).alias("j"),
        sdk.alias("t_sdk"),
        guzzle.alias("t_guzzle"),
        rec.str.contains(r"\(truncated\.\.\.\)").alias("t_truncated"),
        url.struct.field("gv").alias("t_version"),
        url.struct.field("px").alias("t_pixel"),
        pl.coalesce(
            guzzle,
            capture,
            rec.str.extract(_STATUS_LINE, 1),
            rec.str.extract(HTTP_STATUS, 1),
            rec.str.extract(_TITLE_STATUS, 1),
            rec.str.extract(_STATUS_PHRASE, 1),
            rec.str.extract(STATUS_PREFIX, 1),  # [502] "Content-Type":["text/html..."] before a page
        ).alias("t_status"),
        capture.alias("t_capture"),
        rec.str.contains(HTML_PAGE).alias("t_html"),  # a whole page, or a fragment of Meta's "Sorry" page
        rec.str.extract(SORRY, 1).alias("t_sorry"),
        (rec.str.contains(TRANSPORT) & rec.str.contains(GRAPH_ENDPOINT)).alias("t_transport"),
        first_line.str.replace(TS_PREFIX, "").str.strip_chars(" -:|").alias("t_first"),
        # an SDK exception line that kept only the message (Node, PHP, Python SDKs)
        pl.coalesce(rec.str.extract(SDK_UNCAUGHT, 2), rec.str.extract("(?m)" + SDK_ERROR, 2)).alias("t_sdk_msg"),
    ]


def regex_body(rec: pl.Expr) -> list[pl.Expr]:
    """Graph body fields read with regexes (bodies cut by Guzzle, or not JSON)."""
    err = rec.str.extract(r'(?s)"error"\s*:\s*\{(.*)', 1)
    string = r'"((?:[^"\\]|\\.)*)"'
    cut = r'"((?:[^"\\]|\\.)*)'  # Guzzle may cut the string before its closing quote
    truncated = r"\s*\(truncated\.\.\.\)\s*$"
    return [
        err.str.extract(r'"code"\s*:\s*"?(\d+)', 1).alias("r_code"),
        err.str.extract(r'"error_subcode"\s*:\s*"?(\d+)', 1).alias("r_subcode"),
        err.str.extract(r'"type"\s*:\s*' + string, 1).alias("r_type"),
        err.str.extract(r'"is_transient"\s*:\s*(true|false)', 1).alias("r_transient"),
        err.str.extract(r'"message"\s*:\s*' + cut, 1).str.replace(truncated, "…").alias("r_message"),
        err.str.extract(r'"error_user_title"\s*:\s*' + cut, 1).str.replace(truncated, "…").alias("r_title"),
        # also Python reprs ('events_received': 20) that SDK users print
        rec.str.extract(r"""["']fbtrace_id["']\s*:\s*["']([A-Za-z0-9_\-+/=]+)["']""", 1).alias("r_fbtrace"),
        rec.str.extract(r"""["']events_received["']\s*:\s*(\d+)""", 1).alias("r_events"),
    ]
