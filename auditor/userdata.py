"""Classify customer-information values into states, without keeping them.

Sources put raw ``user_data`` values in temporary ``raw_ud_<key>`` columns and
call :func:`classify_user_data`, which replaces them with ``ud_<key>`` state
columns (see :data:`auditor.schema.USER_DATA_STATES`).  Raw e-mails and phones
therefore never travel further than the parse step.  All of it is Polars
expressions over whole columns.
"""

from __future__ import annotations

import hashlib

import polars as pl

from .schema import HASHED_KEYS, USER_DATA_KEYS

PLACEHOLDER_WORDS = ("undefined", "null", "none", "nan", "[object object]", "test@test.com", " ")

#: SHA-256 of the empty string: an empty field that was hashed anyway.
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: SHA-256 of common placeholders ('undefined', 'null', '{{email}}', ...).
PLACEHOLDER_SHA256 = sorted(
    {hashlib.sha256(w.encode()).hexdigest() for w in PLACEHOLDER_WORDS + ("{{email}}", "[object Object]", "None", "NULL", "NaN")}
)

_SHA256 = r"^[0-9a-f]{64}$"
_SHA256_SUFFIXED = r"^[0-9a-f]{64}\.[A-Za-z0-9_\-]{2,8}$"
_ANY_HEX64 = r"^[0-9A-Fa-f]{64}$"
_HEX32 = r"^[0-9A-Fa-f]{32}$"
_PLACEHOLDER = r"(?i)^\s*(\{\{.*\}\}|\$\{.*\}|%%.*%%|undefined|null|none|nan|\[object object\])\s*$"
# creationTime is Unix *milliseconds* (13 digits); seconds there is a unit bug
_FBC = r"^fb\.\d+\.\d{13}\.[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]{2,8})?$"
_FBP = r"^fb\.\d+\.\d{13}\.\d+(\.[A-Za-z0-9_\-]{2,8})?$"


def _hashed_key_state(v: pl.Expr) -> pl.Expr:
    return (
        pl.when(v.is_null()).then(None)
        .when(v.str.strip_chars() == "").then(pl.lit("empty"))
        .when(v == EMPTY_SHA256).then(pl.lit("empty_hash"))
        .when(v.is_in(PLACEHOLDER_SHA256)).then(pl.lit("placeholder_hash"))
        .when(v.str.contains(_SHA256)).then(pl.lit("sha256"))
        .when(v.str.contains(_SHA256_SUFFIXED)).then(pl.lit("sha256_suffixed"))
        .when(v.str.contains(_ANY_HEX64)).then(pl.lit("uppercase_hex"))
        .when(v.str.contains(_HEX32)).then(pl.lit("md5"))
        .when(v.str.contains(_PLACEHOLDER)).then(pl.lit("placeholder"))
        .otherwise(pl.lit("clear"))
    )


def _clear_key_state(v: pl.Expr, pattern: str | None) -> pl.Expr:
    base = (
        pl.when(v.is_null()).then(None)
        .when(v.str.strip_chars() == "").then(pl.lit("empty"))
        .when(v.str.contains(_ANY_HEX64)).then(pl.lit("hashed_forbidden"))
        .when(v.str.contains(_PLACEHOLDER)).then(pl.lit("placeholder"))
    )
    if pattern is not None:
        base = base.when(~v.str.contains(pattern)).then(pl.lit("malformed"))
    return base.otherwise(pl.lit("present"))


def _external_id_state(v: pl.Expr) -> pl.Expr:
    # external_id may legitimately be raw or hashed; only its presence matters here.
    return (
        pl.when(v.is_null()).then(None)
        .when(v.str.strip_chars() == "").then(pl.lit("empty"))
        .when(v.str.contains(_PLACEHOLDER)).then(pl.lit("placeholder"))
        .when(v.str.contains(_SHA256)).then(pl.lit("sha256"))
        .otherwise(pl.lit("present"))
    )


def state_expr(key: str, v: pl.Expr) -> pl.Expr:
    """State expression for one user_data key given its raw value expression."""
    if key in HASHED_KEYS:
        return _hashed_key_state(v)
    if key == "external_id":
        return _external_id_state(v)
    if key == "fbc":
        return _clear_key_state(v, _FBC)
    if key == "fbp":
        return _clear_key_state(v, _FBP)
    return _clear_key_state(v, None)


def classify_user_data(df: pl.DataFrame) -> pl.DataFrame:
    """Replace ``raw_ud_<key>`` columns by ``ud_<key>`` state columns.

    A raw column may be String or List(String) (Meta accepts lists); lists are
    judged by their first element.  Raw columns are dropped from the result.
    """
    exprs = []
    raw_cols = []
    for key in USER_DATA_KEYS:
        raw = f"raw_ud_{key}"
        if raw not in df.columns:
            continue
        raw_cols.append(raw)
        v = pl.col(raw)
        dtype = df.schema[raw]
        if isinstance(dtype, pl.List):
            v = v.list.first()
        if dtype != pl.String:
            v = v.cast(pl.String)
        exprs.append(state_expr(key, v).alias(f"ud_{key}"))
    if not exprs:
        return df
    return df.with_columns(exprs).drop(raw_cols)


__all__ = ["classify_user_data", "state_expr", "EMPTY_SHA256", "PLACEHOLDER_SHA256"]
