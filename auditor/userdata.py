"""Classify customer-information values into states, without keeping them.

Sources put raw ``user_data`` values in temporary ``raw_ud_<key>`` columns and
call :func:`classify_user_data`, which replaces them with ``ud_<key>`` state
columns (see :data:`auditor.schema.USER_DATA_STATES`).  Raw e-mails and phones
therefore never travel further than the parse step.  All of it is Polars
expressions over whole columns.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from typing import Callable

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
    # Nearly every value is a correct SHA-256: one pattern settles it, and only
    # the other values (masked to null elsewhere) go through the longer chain.
    # The empty/placeholder hashes are themselves lowercase SHA-256 hex.
    is_sha = v.str.contains(_SHA256)
    other = pl.when(~is_sha).then(v)
    return (
        pl.when(v.is_null()).then(None)
        .when(is_sha).then(
            pl.when(v == EMPTY_SHA256).then(pl.lit("empty_hash"))
            .when(v.is_in(PLACEHOLDER_SHA256)).then(pl.lit("placeholder_hash"))
            .otherwise(pl.lit("sha256"))
        )
        .when(other.str.strip_chars() == "").then(pl.lit("empty"))
        .when(other.str.contains(_SHA256_SUFFIXED)).then(pl.lit("sha256_suffixed"))
        .when(other.str.contains(_ANY_HEX64)).then(pl.lit("uppercase_hex"))
        .when(other.str.contains(_HEX32)).then(pl.lit("md5"))
        .when(other.str.contains(_PLACEHOLDER)).then(pl.lit("placeholder"))
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
    schema = df.schema
    raw_cols = [f"raw_ud_{key}" for key in USER_DATA_KEYS if f"raw_ud_{key}" in schema]
    if not raw_cols:
        return df
    exprs = [_state_column(col[len("raw_ud_"):], schema[col]) for col in raw_cols]
    return df.with_columns(exprs).drop(raw_cols)


@functools.lru_cache(maxsize=256)
def _state_column(key: str, dtype: pl.DataType) -> pl.Expr:
    """``ud_<key>`` from ``raw_ud_<key>`` of that dtype.  Built once per
    (key, dtype): building the expression costs more than running it on a
    small batch (watch mode, one file per webhook)."""
    v = pl.col(f"raw_ud_{key}")
    if isinstance(dtype, pl.List):
        v = v.list.first()
    if dtype != pl.String:
        v = v.cast(pl.String)
    return state_expr(key, v).alias(f"ud_{key}")


# --- keyed digests of hashed e-mails / phones (cross-source normalisation checks) ---
#
# A sent SHA-256 of an e-mail is a pseudonymous identifier, so it must not be
# kept in the frame either.  To compare what a server event sent with what the
# backend order says, both sides are reduced to a keyed digest of the SHA-256
# hex: Polars' 64-bit ``hash`` of a secret prefix and the value, seeded with a
# secret word (both drawn from RUN_KEY, a random secret of this process),
# written as 20 zero-padded decimal digits.
# The digests compare within one audit and mean nothing outside it (not even
# to someone holding the customer's e-mail: without the seeds they cannot be
# recomputed); they only ever live in this process and its private spill
# folder, never in a report, the database or a log.  The digest of a sent hash
# is one Polars expression over the column (no Python per value); an order's
# clear e-mail or phone needs its SHA-256 first, which Polars has no
# expression for, so that part runs once per *distinct* value in Python.

#: Per-process secret of the keyed digests (never stored, never printed).
RUN_KEY = secrets.token_bytes(32)
#: The seed and the prefix of the digest hash, taken from :data:`RUN_KEY`.
_SEED = int.from_bytes(RUN_KEY[:8], "little")
_PREFIX = RUN_KEY[8:].hex()
#: Length (characters) of a keyed digest: a 64-bit hash, zero-padded decimal,
#: so every digest has the same length and a space-separated list of them is
#: safe to search with a literal ``contains``.
DIGEST_CHARS = 20
#: Columns holding keyed digests (see :data:`auditor.schema.COLUMNS`).
DIGEST_COLUMNS = ("udh_em", "udh_em_raw", "udh_ph", "udh_ph_nocc")

_SENT_HASH = r"^([0-9a-f]{64})(?:\.[A-Za-z0-9_\-]{2,8})?$"


def keyed_digest_expr(sha256hex: pl.Expr) -> pl.Expr:
    """The run-keyed digest of each SHA-256 hex value (null stays null)."""
    h = sha256hex.cast(pl.String)
    digest = (pl.lit(_PREFIX) + h).hash(_SEED).cast(pl.String).str.zfill(DIGEST_CHARS)
    return pl.when(h.is_not_null()).then(digest)


def keyed_digest(sha256hex: str) -> str:
    """The run-keyed digest of one SHA-256 hex value (:func:`keyed_digest_expr`)."""
    return pl.select(keyed_digest_expr(pl.lit(sha256hex, dtype=pl.String))).item()


def _keyed_list(sha256hexes: pl.Expr) -> pl.Expr:
    """Space-separated SHA-256 values -> space-separated keyed digests."""
    parts = sha256hexes.str.split(" ").list.eval(keyed_digest_expr(pl.element()))
    return pl.when(sha256hexes.is_not_null()).then(parts.list.join(" "))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _over_distinct(s: pl.Series, fn: Callable[[str], str | None]) -> pl.Series:
    """``fn`` applied once per distinct non-null value of ``s``, mapped back to every row."""
    s = s.cast(pl.String)
    uniq = s.drop_nulls().unique()
    if uniq.is_empty():
        return pl.Series(s.name, [None] * s.len(), dtype=pl.String)
    out = pl.Series([fn(v) for v in uniq.to_list()], dtype=pl.String)
    return s.replace_strict(uniq, out, default=None, return_dtype=pl.String)


def _distinct_map(expr: pl.Expr, fn: Callable[[str], str | None]) -> pl.Expr:
    return expr.map_batches(lambda s: _over_distinct(s, fn), return_dtype=pl.String)


def digest_of_sent_hash(expr: pl.Expr) -> pl.Expr:
    """Keyed digest of a sent ``em``/``ph`` value that is a correct SHA-256
    (64 lowercase hex, a Parameter Builder appendix ignored); null otherwise."""
    value = expr.cast(pl.String).str.strip_chars()
    # a match starts with the 64 hex characters: no capture group needed
    return keyed_digest_expr(pl.when(value.str.contains(_SENT_HASH)).then(value.str.slice(0, 64)))


def _email_variants(raw: str) -> str | None:
    """SHA-256 values (space-separated; keyed later) of un-normalised spellings of ``raw`` that
    differ from the normalised one: as typed, trimmed only, lower-cased only."""
    norm = raw.strip().lower()
    variants = dict.fromkeys(v for v in (raw, raw.strip(), raw.lower()) if v != norm and v.strip())
    return " ".join(_sha256(v) for v in variants) or None


def _email_normalized(raw: str) -> str | None:
    norm = raw.strip().lower()
    return _sha256(norm) if norm else None


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())


def _international(raw: str) -> str | None:
    """Digits of an international number (``+CC ...`` or ``00CC ...``), else None."""
    text = raw.strip()
    if text.startswith("+"):
        return _digits(text) or None
    if text.startswith("00"):
        return _digits(text)[2:] or None
    return None


def _phone_normalized(raw: str) -> str | None:
    intl = _international(raw)
    digits = intl if intl is not None else _digits(raw)
    return _sha256(digits) if len(digits) >= 6 else None


def _phone_without_cc(raw: str) -> str | None:
    """SHA-256 values (space-separated; keyed later) of the number without its country code: the
    calling code may be 1-3 digits, so each cut is a candidate, with and
    without a national trunk ``0``.  Null unless the number is international."""
    intl = _international(raw)
    if intl is None or len(intl) < 8:
        return None
    candidates = []
    for cut in (1, 2, 3):
        national = intl[cut:]
        if len(national) >= 6:
            candidates += [national, "0" + national]
    return " ".join(_sha256(v) for v in dict.fromkeys(candidates)) or None


def order_variant_digests(email: pl.Expr, phone: pl.Expr) -> list[pl.Expr]:
    """Digest columns of a backend order's clear e-mail and phone.

    * ``udh_em`` -- digest of SHA-256(trimmed, lower-cased e-mail): what a
      correct sender sends;
    * ``udh_em_raw`` -- space-separated digests of the un-normalised spellings
      (as typed, trimmed only, lower-cased only) that differ from it; null when
      the e-mail is already normalised;
    * ``udh_ph`` -- digest of SHA-256(digits with the country code);
    * ``udh_ph_nocc`` -- space-separated digests of the national number without
      the country code (candidates for 1-3 digit codes, with/without trunk 0);
      null unless the order's phone is international (``+``/``00``).
    """
    email = email.cast(pl.String)
    phone = phone.cast(pl.String)
    return [
        keyed_digest_expr(_distinct_map(email, _email_normalized)).alias("udh_em"),
        _keyed_list(_distinct_map(email, _email_variants)).alias("udh_em_raw"),
        keyed_digest_expr(_distinct_map(phone, _phone_normalized)).alias("udh_ph"),
        _keyed_list(_distinct_map(phone, _phone_without_cc)).alias("udh_ph_nocc"),
    ]


def _first_value(df: pl.DataFrame, col: str) -> pl.Expr:
    v = pl.col(col)
    if isinstance(df.schema[col], pl.List):
        v = v.list.first()
    return v.cast(pl.String)


def add_sent_digests(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``udh_em`` / ``udh_ph`` (keyed digests of the sent SHA-256) from the
    ``raw_ud_em`` / ``raw_ud_ph`` columns; call it before :func:`classify_user_data`."""
    exprs = [
        digest_of_sent_hash(_first_value(df, f"raw_ud_{k}")).alias(f"udh_{k}")
        for k in ("em", "ph") if f"raw_ud_{k}" in df.columns
    ]
    return df.with_columns(exprs) if exprs else df


__all__ = [
    "classify_user_data", "state_expr", "EMPTY_SHA256", "PLACEHOLDER_SHA256",
    "add_sent_digests", "digest_of_sent_hash", "order_variant_digests", "keyed_digest", "keyed_digest_expr",
    "DIGEST_COLUMNS",
]
