"""Delivery headers, case-insensitively, from envelopes and HTTP captures.

In an envelope the headers are a JSON object (a value may also be a
one-element list, as Go's ``http.Header`` writes it); in an HTTP capture they
are ``Name: value`` lines.  Every ``name: value`` pair is pulled out with one
``extract_all``, exploded to a long frame of short strings, and the name
normalised: lower case, ``_`` -> ``-``, without an ``HTTP_`` prefix (PHP
``$_SERVER`` dumps), so ``X-Shopify-Topic``, ``x-shopify-topic`` and
``HTTP_X_SHOPIFY_TOPIC`` are one header.  The headers of
:data:`.patterns.HEADERS` are then gathered back, one column each.  Values
keep their case (the HMAC is base64).  No per-record Python.
"""

from __future__ import annotations

import polars as pl

from .patterns import HEADERS

_JSON_PAIR = r'"(?:[^"\\]|\\.)*"\s*:\s*\[?\s*(?:"(?:[^"\\]|\\.)*"|-?[0-9][0-9.]*|true|false)'
_HTTP_PAIR = r"(?m)^[A-Za-z0-9_\-]+[ \t]*:[^\n]*"


def add_headers(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` (with ``_headers_text`` and ``shape``) plus one private column per wanted header."""
    indexed = records.select(pl.int_range(pl.len()).alias("_rid"), "_headers_text", (pl.col("shape") == "http").alias("_http"))
    pairs = pl.concat([
        part.select("_rid", "_http", pl.col("_headers_text").str.extract_all(pattern).alias("_pair"))
        for part, pattern in (
            (indexed.filter(pl.col("_http")), _HTTP_PAIR),
            (indexed.filter(~pl.col("_http") & pl.col("_headers_text").is_not_null()), _JSON_PAIR),
        )
    ]).explode("_pair", empty_as_null=False, keep_nulls=False).filter(pl.col("_pair").is_not_null())
    # header names hold no ':', so the first one splits name and value (literal split: fast)
    parts = pl.col("_pair").str.splitn(":", 2)
    name = parts.struct.field("field_0").str.strip_chars(' \t"').str.to_lowercase().str.replace_all("_", "-", literal=True)
    value = parts.struct.field("field_1").str.strip_chars(" \t").str.strip_prefix("[").str.strip_chars(" \t")
    json_value = value.str.strip_prefix('"').str.strip_suffix('"').str.replace_all(r'\\(/|")', "${1}")
    pairs = pairs.select(
        "_rid", name.str.strip_prefix("http-").alias("name"), pl.when(pl.col("_http")).then(value).otherwise(json_value).alias("value")
    ).filter(pl.col("name").is_in(list(HEADERS)))
    wide = pairs.group_by("_rid").agg(
        pl.col("value").filter((pl.col("name") == name) & (pl.col("value") != "")).first().alias(col)
        for name, col in HEADERS.items()
    )
    out = records.with_row_index("_rid").with_columns(pl.col("_rid").cast(pl.Int64))
    wide = wide.with_columns(pl.col("_rid").cast(pl.Int64))
    return out.join(wide, on="_rid", how="left", maintain_order="left").drop("_rid").with_columns(
        pl.col(col).cast(pl.String) for col in HEADERS.values()
    )
