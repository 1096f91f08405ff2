"""What the ``ud_<key>`` states cannot say, derived from raw values at parse time.

The core keeps only a *state* per customer-information key; a few payload
diagnoses need one more fact about the raw value, which exists only here,
before :func:`auditor.classify_user_data` drops it.  The facts go to
``extra.ud_detail`` as ``{"<key>": "<detail>"}`` (only keys with something to
say), never the value itself:

* ``fbc``/``fbp`` ``seconds_unit``: the creationTime has 10 digits (seconds)
  where Meta specifies milliseconds; the state becomes ``malformed``.
* ``fbc`` ``fbclid_lowercased``: the click id has no upper-case letter at all
  (real ones are mixed case; Meta says never change its case); ``malformed``.
* ``fbc`` ``url_inside``: a URL or ``fbclid=`` was pasted into the value.
* ``ge``/``country``/``st`` ``unnormalized_hash``: the SHA-256 of a known
  un-normalised spelling (``Male``, ``F``, ``US``, ``USA``, ``NY`` ...) instead
  of the normalised one (``m``, ``us``, ``ny``): hashed without normalising.
* ``ph`` ``no_country_code``: a clear phone number that starts with a trunk
  ``0`` or is a bare 10-digit national number (no ``+``/``00`` prefix).

All of it is vectorized Polars over whole columns.  (Candidate for the core:
every source needs the same; see the payload_quality plugin's notes.)
"""

from __future__ import annotations

import hashlib
import string

import polars as pl

_UPPER = string.ascii_uppercase


def _sha(values) -> list[str]:
    return sorted({hashlib.sha256(v.encode("utf-8")).hexdigest() for v in values})


#: SHA-256 of spellings that should have been normalised before hashing.
_UPPER_PAIRS = [a + b for a in _UPPER for b in _UPPER]
_GENDER_WORDS = ["male", "female", "man", "woman", "w", "M", "F", "Male", "Female", "MALE", "FEMALE", "Man", "Woman", "W"]
_COUNTRY_WORDS = [
    "usa", "USA", "gbr", "GBR", "deu", "DEU", "prt", "PRT", "dnk", "DNK", "fra", "FRA", "esp", "ESP", "ita", "ITA",
    "nld", "NLD", "can", "CAN", "aus", "AUS", "uk", "UK",
    "united states", "United States", "portugal", "Portugal", "germany", "Germany", "denmark", "Denmark",
    "france", "France", "spain", "Spain", "italy", "Italy", "united kingdom", "United Kingdom",
]
UNNORMALIZED_SHA256 = {
    "ge": _sha(_GENDER_WORDS),
    "country": _sha(_UPPER_PAIRS + _COUNTRY_WORDS),
    "st": _sha(_UPPER_PAIRS),
}

_TEN_DIGIT_TIME = r"^fb\.\d+\.\d{10}\."
_FBCLID = r"^fb\.\d+\.\d{13}\.([^.]+)"


def _first(df: pl.DataFrame, key: str) -> pl.Expr | None:
    col = f"raw_ud_{key}"
    if col not in df.columns:
        return None
    v = pl.col(col)
    dtype = df.schema[col]
    if isinstance(dtype, pl.List):
        v = v.list.first()
    return v.cast(pl.String).str.strip_chars()


def _piece(key: str, detail: str, cond: pl.Expr) -> pl.Expr:
    return pl.when(cond).then(pl.lit(f'"{key}":"{detail}"'))


def detail_expr(df: pl.DataFrame) -> pl.Expr:
    """``{"fbc":"seconds_unit",...}`` per row (null when nothing to say);
    needs the ``raw_ud_<key>`` columns, so call it before classifying."""
    pieces: list[pl.Expr] = []
    fbc = _first(df, "fbc")
    if fbc is not None:
        clickid = fbc.str.extract(_FBCLID, 1)
        pieces.append(
            pl.when(fbc.str.contains(_TEN_DIGIT_TIME)).then(pl.lit('"fbc":"seconds_unit"'))
            .when((clickid.str.len_chars() >= 20) & ~clickid.str.contains("[A-Z]")).then(pl.lit('"fbc":"fbclid_lowercased"'))
            .when(fbc.str.contains(r"(?i)fbclid=|://")).then(pl.lit('"fbc":"url_inside"'))
        )
    fbp = _first(df, "fbp")
    if fbp is not None:
        pieces.append(_piece("fbp", "seconds_unit", fbp.str.contains(_TEN_DIGIT_TIME)))
    for key, hashes in UNNORMALIZED_SHA256.items():
        v = _first(df, key)
        if v is not None:
            pieces.append(_piece(key, "unnormalized_hash", v.is_in(hashes)))
    ph = _first(df, "ph")
    if ph is not None:
        # hashes (32+ characters) are the normal case: only short values are looked at
        clear = pl.when(ph.str.len_bytes() < 32).then(ph)
        clear = pl.when(clear.str.contains(r"^[+(0-9][0-9 ()./\-]{5,}$")).then(clear)
        phone_digits = clear.str.replace_all(r"[^0-9]", "")
        no_cc = ~clear.str.contains(r"^(\+|00)") & (
            phone_digits.str.starts_with("0") | (phone_digits.str.len_chars() == 10)
        )
        pieces.append(_piece("ph", "no_country_code", no_cc.fill_null(False)))
    if not pieces:
        return pl.lit(None, dtype=pl.String)
    body = pl.concat_str(pieces, separator=",", ignore_nulls=True)
    return pl.when(body != "").then(pl.concat_str([pl.lit("{"), body, pl.lit("}")]))


def apply_detail(df: pl.DataFrame, detail_col: str = "_ud_detail") -> pl.DataFrame:
    """After classifying: fbc/fbp with a unit or case fault become
    ``malformed``; the detail is merged into ``extra`` as ``ud_detail``."""
    d = pl.col(detail_col)
    exprs = []
    for key, faults in (("fbc", ('"fbc":"seconds_unit"', '"fbc":"fbclid_lowercased"')), ("fbp", ('"fbp":"seconds_unit"',))):
        col = f"ud_{key}"
        if col in df.columns:
            bad = pl.any_horizontal([d.str.contains(f, literal=True) for f in faults]).fill_null(False)
            exprs.append(pl.when(bad & (pl.col(col) == "present")).then(pl.lit("malformed")).otherwise(pl.col(col)).alias(col))
    extra = pl.col("extra")
    exprs.append(
        pl.when(d.is_null()).then(extra)
        .when(extra.is_null() | (extra == "{}")).then(pl.concat_str([pl.lit('{"ud_detail":'), d, pl.lit("}")]))
        .otherwise(pl.concat_str([extra.str.strip_suffix("}"), pl.lit(',"ud_detail":'), d, pl.lit("}")]))
        .alias("extra")
    )
    return df.with_columns(exprs).drop(detail_col)
