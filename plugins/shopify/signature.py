"""``X-Shopify-Hmac-Sha256`` verification.

Shopify signs the raw request body: base64(HMAC-SHA256(secret, body bytes)).
The check is only as good as the stored body:

* HTTP captures and envelopes whose ``body`` is a *string* keep the bytes as
  received -> ``valid`` / ``invalid``;
* envelopes whose ``body`` is a JSON *object* were re-serialised by whatever
  stored them (``\\/`` un-escaped, key order, spacing) -> ``unchecked``
  (reason ``body_reserialised``: unverifiable);
* bare payload files carry no header -> ``unchecked`` (``no_header``);
* without a secret (``--set shopify_secret=...`` or ``SHOPIFY_WEBHOOK_SECRET``)
  nothing is checked (``no_secret``).

HMAC is not vectorizable: this is the one per-record Python step of the
source, and it runs only when a secret is given, only over deliveries with a
header and a verifiable body.  Digests are compared with
:func:`hmac.compare_digest` (constant time).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import polars as pl

from auditor import ParseContext

ENV_SECRET = "SHOPIFY_WEBHOOK_SECRET"
OPTION = "shopify_secret"


def secret_of(ctx: ParseContext) -> str | None:
    secret = ctx.options.get(OPTION) or os.environ.get(ENV_SECRET)
    return str(secret) if secret else None


def _matches(key: bytes, header: str, body: str, content_length: str | None) -> bool:
    raw = body.encode("utf-8")
    if content_length and content_length.isdigit() and int(content_length) <= len(raw):
        raw = raw[: int(content_length)]
    expected = base64.b64encode(hmac.new(key, raw, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode("ascii", errors="replace"))


def verify(records: pl.DataFrame, secret: str | None) -> pl.DataFrame:
    """``records`` with ``_hmac`` (valid/invalid/unchecked) and ``_hmac_reason``.

    Needs ``_hmac_header``, ``_body_text``, ``_body_kind`` and ``_content_length``.
    """
    header = pl.col("_hmac_header")
    reason = (
        pl.when(header.is_null()).then(pl.lit("no_header"))
        .when(pl.col("_body_kind") == "reserialised").then(pl.lit("body_reserialised"))
        .when(pl.col("_body_text").is_null()).then(pl.lit("no_body"))
        .when(pl.lit(secret is None)).then(pl.lit("no_secret"))
    )
    out = records.with_columns(reason.alias("_hmac_reason"), pl.lit(None, dtype=pl.Boolean).alias("_hmac_ok"))
    todo = out.get_column("_hmac_reason").is_null()
    if secret is not None and todo.any():
        key = secret.encode("utf-8")
        subset = out.filter(todo).select("_hmac_header", "_body_text", "_content_length")
        ok = [_matches(key, h, b, cl) for h, b, cl in subset.iter_rows()]
        ok_full = pl.Series("_hmac_ok", [None] * out.height, dtype=pl.Boolean).scatter(todo.arg_true(), pl.Series(ok, dtype=pl.Boolean))
        out = out.with_columns(ok_full)
    return out.with_columns(
        pl.when(pl.col("_hmac_ok")).then(pl.lit("valid"))
        .when(pl.col("_hmac_ok").not_()).then(pl.lit("invalid"))
        .otherwise(pl.lit("unchecked"))
        .alias("_hmac")
    ).drop("_hmac_ok")
