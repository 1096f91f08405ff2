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

import re
from dataclasses import dataclass

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
    # e-mail addresses anywhere (also URL-encoded @)
    _Rule(r"(?i)[A-Z0-9._%+\-]+(@|%40)[A-Z0-9.\-]+\.[A-Z]{2,}", "[email]"),
    # phones: international form, or (650) 555-1212 / 650-555-1212 style
    _Rule(r"\+\d{1,3}[\s.\-]?\(?\d{1,4}\)?([\s.\-]?\d{2,4}){2,4}\b", "[phone]"),
    _Rule(r"\(\d{3}\)\s?\d{3}[\s.\-]?\d{4}\b", "[phone]"),
    _Rule(r"\b\d{3}[\s.\-]\d{3}[\s.\-]\d{4}\b", "[phone]"),
    # IPv4 and IPv6 (at least four groups, or a '::' form)
    _Rule(r"\b(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\b", "[ip]"),
    _Rule(r"(?i)\b[0-9a-f]{1,4}(::?[0-9a-f]{1,4}){3,7}\b", "[ip]"),
)


def _python_replacement(rep: str) -> str:
    return re.sub(r"\$\{(\w+)\}", r"\\g<\1>", rep)


_COMPILED = tuple((re.compile(r.pattern), _python_replacement(r.replacement)) for r in _RULES)
_HASH_ONLY = re.compile(rf"^{_HEX64}$")


def redact_text(text: object) -> str:
    """Mask e-mails, phones, IPs, names/addresses under customer keys and
    tokens in ``text``.  Accepts anything (``str()`` of it is redacted)."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    for rx, rep in _COMPILED:
        s = rx.sub(rep, s)
    return s


def redact_expr(expr: pl.Expr) -> pl.Expr:
    """Polars version of :func:`redact_text` for whole string columns."""
    for rule in _RULES:
        expr = expr.str.replace_all(rule.pattern, rule.replacement)
    return expr


def redact_obj(obj):
    """Redact every string inside a JSON-like structure (dict/list/str)."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
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
