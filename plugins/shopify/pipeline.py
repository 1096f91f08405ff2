"""``parse`` (documents -> canonical rows) and ``finalize`` (all rows of the source).

``parse``: :func:`.records.split_documents` -> :func:`.payload.delivery_parts`
-> :func:`.signature.verify` (only with a secret) -> :func:`.payload.decode_items`
-> :func:`.rows.build_rows`.  Deliveries of other topics are counted in one note
kept up to date across files (counters live on ``ctx``).

``finalize``:

* **duplicate deliveries** -- Shopify delivers at least once and retries carry
  the same ``X-Shopify-Webhook-Id``: rows with the same webhook id (and the
  same HMAC verdict, so a forged copy of a real delivery is still reported)
  are kept once, the first in file/line order;
* **shop** -- rows without ``X-Shopify-Shop-Domain`` (bare payloads, REST
  exports) take ``--set shop=DOMAIN``, else the only shop named in their folder,
  else the host of the order's ``order_status_url``;
* notes: duplicates dropped, HMAC verdicts, ignored (test/draft/POS) orders.
"""

from __future__ import annotations

import polars as pl

from auditor import ParseContext, conform
from auditor.attribution import folders
from auditor.frames import keep_first, only_value

from .patterns import REJECT_SCHEMA
from .payload import decode_items, delivery_parts
from .records import split_documents
from .rows import build_rows
from .signature import ENV_SECRET, OPTION, secret_of, verify

#: Private working columns passed from ``parse`` to ``finalize``.
PRIVATE = {"_webhook_id": pl.String, "_hmac": pl.String, "_hmac_reason": pl.String, "_shop_hint": pl.String}
#: What ``finalize`` reads and writes: the rest of the rows stays on disk
#: (duplicates are dropped by their ``_row``, see ``Source.finalize_columns``).
FINALIZE_COLUMNS = ("file", "line", "kind", "order_id", "shop", "account", "extra", *PRIVATE)


def parse(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    records, rejects = split_documents(batch)
    if records.is_empty():
        return conform(pl.DataFrame(schema=PRIVATE), keep_private=True), rejects
    secret = secret_of(ctx)
    records = verify(delivery_parts(records), secret)
    items, item_rejects, skipped = decode_items(records)
    _count_skipped(ctx, skipped)
    rows = build_rows(items, ctx.options.get("shop"), verifying=secret is not None) if items.height else pl.DataFrame(schema=PRIVATE)
    rows = rows.with_columns(pl.col(c).cast(t) for c, t in PRIVATE.items() if c in rows.columns)
    all_rejects = pl.concat([rejects, item_rejects]).cast(REJECT_SCHEMA).sort("file", "line")
    return conform(rows, keep_private=True), all_rejects


def _count_skipped(ctx: ParseContext, skipped: dict[str, int]) -> None:
    """Keep a running count of deliveries of other topics (shared by the batches) and one note saying it."""
    if not skipped:
        return
    ctx.tally("shopify.skipped_topics", skipped, _skipped_topics_note)


# Counting notes (ParseContext.tally): totals in, text out.  Module-level, so
# the counts of a cluster run's partitions add up to the single-machine note.

def _skipped_topics_note(totals: dict[str, int]) -> str:
    return "shopify: skipped deliveries of other topics (not orders or checkouts): " + ", ".join(
        f"{n} {t}" for t, n in sorted(totals.items()))


def _duplicates_note(totals: dict[str, int]) -> str:
    return (f"shopify: {totals['n']} duplicate webhook deliveries (same X-Shopify-Webhook-Id, retries or double "
            "captures) were counted once")


def _shop_by_folder_note(totals: dict[str, int]) -> str:
    return (f"shopify: {totals['n']} rows without X-Shopify-Shop-Domain were given the only shop named in their "
            "folder (override with --set shop=DOMAIN)")


def _shop_by_url_note(totals: dict[str, int]) -> str:
    return (f"shopify: {totals['n']} rows without X-Shopify-Shop-Domain were given the host of their order_status_url "
            "(the storefront domain, which may differ from the .myshopify.com domain; use --set shop=DOMAIN)")


def _unsigned_note(totals: dict[str, int]) -> str:
    return (f"shopify: {totals['n']} deliveries carry X-Shopify-Hmac-Sha256 but were not verified: give the webhook "
            f"secret with --shopify-secret (or --set {OPTION}=...) or the {ENV_SECRET} environment variable")


def _verified_note(totals: dict[str, int]) -> str:
    valid, invalid = totals.get("valid", 0), totals.get("invalid", 0)
    text = f"shopify: HMAC verified for {valid + invalid} deliveries: {valid} valid, {invalid} invalid"
    if invalid:
        text += " (signal hmac_invalid: forged or altered bodies"
        text += ", or the wrong secret: none matched)" if not valid else ")"
    return text


def _reserialised_note(totals: dict[str, int]) -> str:
    return (f"shopify: {totals['n']} deliveries store the body as a JSON object (re-serialised by whatever saved "
            "it), so their HMAC is unverifiable; store the raw body string to verify it")


def _ignored_note(totals: dict[str, int]) -> str:
    parts = ", ".join(f"{n} {k}" for k, n in sorted(totals.items()))
    return f"shopify: orders marked ignored (extra.ignored; not expected on Meta): {parts}"


def _dedupe(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    kept, dropped = keep_first(frame, ["_webhook_id", "_hmac", "kind", "order_id"], "_webhook_id")
    if dropped.height:
        ctx.tally("shopify.duplicates", {"n": dropped.height}, _duplicates_note)
    return kept


def _fill_shop(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    if not frame["shop"].is_null().any():
        return frame
    framed = frame.with_columns(folders(frame).alias("_folder"))
    shops = only_value(framed, "_folder", "shop", alias="_folder_shop")
    out = framed.join(shops, on="_folder", how="left", maintain_order="left")
    by_folder = out.filter(pl.col("shop").is_null() & pl.col("_folder_shop").is_not_null()).height
    by_url = out.filter(pl.col("shop").is_null() & pl.col("_folder_shop").is_null() & pl.col("_shop_hint").is_not_null()).height
    if by_folder:
        ctx.tally("shopify.shop_by_folder", {"n": by_folder}, _shop_by_folder_note)
    if by_url:
        ctx.tally("shopify.shop_by_url", {"n": by_url}, _shop_by_url_note)
    filled = pl.coalesce("shop", "_folder_shop", "_shop_hint")
    return out.with_columns(filled.alias("shop"), pl.coalesce("account", filled).alias("account")).drop("_folder", "_folder_shop")


def _hmac_notes(frame: pl.DataFrame, ctx: ParseContext) -> None:
    stats = {(h, r): n for h, r, n in frame.group_by("_hmac", "_hmac_reason").len().iter_rows()}
    valid = stats.get(("valid", None), 0)
    invalid = stats.get(("invalid", None), 0)
    reserialised = stats.get(("unchecked", "body_reserialised"), 0)
    unsigned = stats.get(("unchecked", "no_secret"), 0)
    if unsigned:
        ctx.tally("shopify.unsigned", {"n": unsigned}, _unsigned_note)
    if valid or invalid:
        ctx.tally("shopify.verified", {"valid": valid, "invalid": invalid}, _verified_note)
    if reserialised:
        ctx.tally("shopify.reserialised", {"n": reserialised}, _reserialised_note)


def finalize(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    if frame.is_empty() or "_webhook_id" not in frame.columns:
        return frame
    frame = _fill_shop(_dedupe(frame, ctx), ctx)
    _hmac_notes(frame, ctx)
    ignored = frame.select(pl.col("extra").str.json_path_match("$.ignored")).to_series().drop_nulls()
    if ignored.len():
        ctx.tally("shopify.ignored", dict(ignored.value_counts().iter_rows()), _ignored_note)
    return frame
