"""Scalar conversions of decoded / extracted strings, and message tidying."""

from __future__ import annotations

import polars as pl


def to_int(expr: pl.Expr) -> pl.Expr:
    """Integer from a decoded JSON scalar ("100", "100.0" and "400 Bad Request" too)."""
    return expr.str.extract(r"^\s*(-?\d+)", 1).cast(pl.Int64, strict=False)


def clean_int(expr: pl.Expr) -> pl.Expr:
    """Integer from values that are plain digits (JSON numbers, regex captures)."""
    return expr.cast(pl.Int64, strict=False)


def to_bool(expr: pl.Expr) -> pl.Expr:
    low = expr.str.to_lowercase().str.strip_chars()
    return pl.when(low == "true").then(True).when(low == "false").then(False).otherwise(None)


def unescape(expr: pl.Expr) -> pl.Expr:
    """Undo JSON ``\\/`` and ``\\"`` escapes in text read with regexes."""
    return expr.str.replace_all(r"\/", "/", literal=True).str.replace_all(r"\"", '"', literal=True)


def tidy_message(expr: pl.Expr) -> pl.Expr:
    """One line; URL query strings (tokens, PII) and cURL's "(see
    https://curl...)" hint dropped.  Applied *before* redaction, which then
    masks whatever secrets are left; the cut to ``MESSAGE_CHARS`` comes after
    redaction, so a half-cut secret cannot slip past the rules."""
    return (
        expr.str.replace_all(r"\s+", " ")
        .str.replace_all(r" ?\(see https?://curl\.(?:haxx\.)?se[^)]*\)", "")
        .str.replace_all(r"(https?://[^\s?#]+)\?[^\s]*", "${1}?…")
        .str.strip_chars()
    )
