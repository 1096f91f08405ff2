"""The one place that masks personal data and secrets.

Used at ingest (``message`` columns are redacted before anything else sees
them) and again on every string that leaves the process: terminal, JSON,
Markdown, database, logs and error messages.  The same ordered rules drive the
Python function (:func:`redact_text`) and the Polars expression
(:func:`redact_expr`), so column-wise and one-off redaction agree.

Rules use only syntax both Python ``re`` and Rust ``regex`` accept (no
look-around, no back-references).  Values under customer keys are masked even
when they are hashes: a report never needs them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import unquote

import polars as pl

from .schema import by_value

# Keys whose values are customer data when written in clear.
_PII_KEYS = (
    "em|ph|fn|ln|ct|st|zp|db|ge|email|e-mail|phone|first_name|last_name|firstname|lastname|"
    "name|city|zip|postcode|address1|address2|address|street|billing_email|contact_email|"
    "customer_email|client_ip_address|browser_ip|remoteIp|remote_ip|ip"
)
_HEX64 = "[0-9a-fA-F]{64}"


@dataclass(frozen=True)
class _Rule:
    pattern: str
    replacement: str  # uses ${name} groups; converted for Python


# Word characters of any script: e-mails may be written with IDN domains or
# accented local parts (josé@exämple.example); a TLD is letters or punycode.
_EMAIL = r"(?i)[\w.%+\-]+@[\w\-]+(\.[\w\-]+)*\.(xn--[a-z0-9\-]+|[^\W\d_]{2,})"

_RULES: tuple[_Rule, ...] = (
    # secrets in URLs, form bodies, dict reprs and JSON: access_token=..., 'access_token': '...'
    _Rule(
        r"""(?i)(?P<k>(access_token|appsecret_proof|client_secret|app_secret)['"]?\s*[=:]\s*['"]?)[^\s&'",}]+""",
        "${k}[redacted]",
    ),
    # Authorization headers (keep the scheme word out as well)
    _Rule(r"(?i)(?P<k>authorization['\"]?\s*(=>|:|=)\s*['\"]?)(bearer\s+|oauth\s+)?[A-Za-z0-9._~+/=\-]{8,}", "${k}[redacted]"),
    # bare Meta tokens
    _Rule(r"\bEAA[A-Za-z0-9]{20,}", "[token]"),
    # "key": "clear value" for customer keys (hashes kept)
    _Rule(
        rf"""(?i)(?P<k>["']({_PII_KEYS})["']\s*(:|=>)\s*["'])(?P<v>[^"'\n]{{1,200}})(?P<q>["'])""",
        "${k}[redacted]${q}",
    ),
    # e-mail addresses anywhere (after decoding; %40 kept for the undecoded column path)
    _Rule(_EMAIL, "[email]"),
    _Rule(r"(?i)[A-Z0-9._%+\-]+%40[A-Z0-9.\-]+\.[A-Z]{2,}", "[email]"),
    # phones: international form with + or 00, (650) 555-1212 / 650-555-1212 style,
    # national forms with a trunk 0 (0170/5556667, 07700 900462, 01701234567), and
    # bare numbers with a country code (4917033344455).  Bare 13-digit numbers that
    # start 15-19 are millisecond times (fbp/fbc, event_time) and are kept; 15+
    # digits are pixel, app and business ids.
    _Rule(r"\+\d{1,3}[\s.\-]?\(?\d{1,4}\)?([\s.\-/]?\d{2,4}){2,4}\b", "[phone]"),
    _Rule(r"\b00\d{1,3}[\s.\-/]?\(?\d{1,4}\)?([\s.\-/]?\d{2,4}){2,4}\b", "[phone]"),
    _Rule(r"\(\d{3}\)\s?\d{3}[\s.\-]?\d{4}\b", "[phone]"),
    _Rule(r"\b\d{3}[\s.\-]\d{3}[\s.\-]\d{4}\b", "[phone]"),
    # numbers inside paths, file names, ids and versions (a-060914134209.json, /v21.0/, 1.2.3)
    # are not phones: these need a space, quote, '=', ':' ... or the text's edge on both sides
    # (a full stop after one ends a sentence)
    *(
        _Rule(rf"(?P<a>^|[^\w\-/.]){number}(?P<z>$|[^\w\-/.]|\.\s|\.$)", "${a}[phone]${z}")
        for number in (r"0\d{2,4}[\s/.\-]\d{5,8}", r"0\d{9,10}", r"(\d{11,12}|\d{14}|[02-9]\d{12}|1[0-4]\d{11})")
        for _ in range(2)  # twice: neighbours that share one separator
    ),
    # IPv4 and IPv6 (full form, or a '::' short form such as 2001:db8::b1 / fe80::1)
    _Rule(r"\b(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\b", "[ip]"),
    _Rule(r"(?i)\b[0-9a-f]{1,4}(::?[0-9a-f]{1,4}){3,7}\b", "[ip]"),
    _Rule(r"(?i)\b[0-9a-f]{1,4}(:[0-9a-f]{1,4})*::([0-9a-f]{1,4}(:[0-9a-f]{1,4})*)?\b", "[ip]"),
)


def _python_replacement(rep: str) -> str:
    return re.sub(r"\$\{(\w+)\}", r"\\g<\1>", rep)


_COMPILED = tuple((re.compile(r.pattern), _python_replacement(r.replacement)) for r in _RULES)
_HASH_ONLY = re.compile(rf"^{_HEX64}$")

#: Text that may hide a value behind an encoding: percent-escapes, HTML
#: entities, JSON \u escapes.  Such text is decoded before the rules run.
ENCODED = r"%[0-9A-Fa-f]{2}|&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});|\\u[0-9A-Fa-f]{4}"
_ENCODED = re.compile(ENCODED)
_JSON_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_DECODE_ROUNDS = 6


def _json_unescape(m: re.Match) -> str:
    code = int(m.group(1), 16)
    return m.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)


def decoded(text: str) -> str:
    """``text`` with percent-encoding (repeatedly: ``%2540`` is ``@``), HTML
    entities and JSON ``\\u`` escapes decoded, so an encoded secret or e-mail
    meets the same rules as a plain one."""
    for _ in range(_DECODE_ROUNDS):
        if not _ENCODED.search(text):
            break
        before = text
        if "%" in text:
            text = unquote(text, errors="replace")
        if "&" in text:
            text = html.unescape(text)
        if "\\u" in text:
            text = _JSON_ESCAPE.sub(_json_unescape, text)
        if text == before:
            break
    return text


def redact_text(text: object) -> str:
    """Mask e-mails, phones, IPs, names/addresses under customer keys and
    tokens in ``text``, encoded or not (an encoded text comes back decoded).
    Accepts anything (``str()`` of it is redacted)."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    s = decoded(s)
    for rx, rep in _COMPILED:
        s = rx.sub(rep, s)
    return s


def _redact_series(values: pl.Series) -> pl.Series:
    """Plain values through the Polars rules; encoded ones decoded in Python first."""
    values = values.cast(pl.String)
    encoded = values.str.contains(ENCODED).fill_null(False)
    plain_expr = pl.col("v")
    for rule in _RULES:
        plain_expr = plain_expr.str.replace_all(rule.pattern, rule.replacement)
    out = pl.DataFrame({"v": values}).select(plain_expr).to_series()
    if encoded.any():
        idx = encoded.arg_true()
        fixed = pl.Series([redact_text(v) for v in values.gather(idx)], dtype=pl.String)
        out = out.scatter(idx, fixed)
    return out.alias(values.name)


def redact_expr(expr: pl.Expr) -> pl.Expr:
    """Polars version of :func:`redact_text` for whole string columns."""
    return expr.map_batches(_redact_series, return_dtype=pl.String)


#: Report fields that hold a pixel / dataset id: digits there are an id, never a phone.
_ID_KEYS = frozenset({"account", "pixel_id", "pixel", "dataset_id"})
#: Report fields that hold a list of such ids (``questions[].accounts``).
_ID_LIST_KEYS = frozenset({"accounts"})


def _is_id(value) -> bool:
    return isinstance(value, str) and value.isdigit()


def _redact_field(key: str, value):
    if key in _ID_KEYS and _is_id(value):
        return value
    if key in _ID_LIST_KEYS and isinstance(value, list):
        return [v if _is_id(v) else redact_obj(v) for v in value]
    return redact_obj(value)


def redact_obj(obj):
    """Redact every string inside a JSON-like structure (dict/list/str);
    digit-only pixel ids under the id keys are kept (a 10-digit id is not a phone)."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {k: _redact_field(k, v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
    return obj


def redact_url(url: str) -> str:
    """A URL without secrets or query-string PII (kept: scheme, host, path)."""
    return redact_text(url)


def redact_columns(df: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """``df`` with the string ``columns`` redacted by :func:`redact_expr`.

    Log columns repeat the same few texts, so each *distinct* value is
    redacted once and mapped back: same result, a fraction of the regex work.
    """
    exprs = []
    for name in columns:
        if df.get_column(name).null_count() < df.height:
            exprs.append(by_value(df, name, redact_expr, pl.String()).alias(name))
    return df.with_columns(exprs) if exprs else df
