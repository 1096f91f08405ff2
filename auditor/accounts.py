"""Per-account numbers of the report (orders, server events, ratio, EMQ estimate)."""

from __future__ import annotations

from typing import Any

import polars as pl

from .match_quality import USABLE_STATES, estimate_expr  # noqa: F401 - USABLE_STATES: older plugins import it here
from .rows import Readable, as_readable
from .ruleset import Ruleset
from .schema import ERROR_SIGNALS, USER_DATA_KEYS

def estimated_match_quality(events: pl.DataFrame, weights: dict[str, float]) -> float | None:
    """:func:`auditor.match_quality.estimate_expr` over ``events`` (None without events or weights)."""
    if events.is_empty() or not weights:
        return None
    keys = [k for k in weights if f"ud_{k}" in events.columns]
    if not keys:
        return None
    return float(events.select(estimate_expr(weights, keys)).item())


def account_summaries(data: "Readable | pl.DataFrame", ruleset: Ruleset) -> list[dict[str, Any]]:
    """One dict per account, sorted by account id (deterministic)."""
    data = as_readable(data)
    weights = ruleset.rows["emq-low"].thresholds.get("weights", {}) if "emq-low" in ruleset.rows else {}
    orders_by_account, shops_of, linked_shops = _backend_orders_per_account(data)
    kind, signal = pl.col("kind"), pl.col("signal")
    server = kind == "server_event"
    responses = kind.is_in(["api_response", "status"])

    def distinct(col: str) -> pl.Expr:
        return pl.col(col).drop_nulls().cast(pl.String).unique().sort()

    per_account = (
        data.select("account", "pixel_id", "shop", "kind", "signal", "event_name", "connector_version", "logged_at",
                    where=pl.col("account").is_not_null())
        .group_by("account")
        .agg(
            distinct("pixel_id").alias("pixel_ids"),
            distinct("shop").alias("shops"),
            server.sum().alias("server_events"),
            (server & (pl.col("event_name") == "Purchase")).sum().alias("server_purchases"),
            (responses & (signal == "success")).sum().alias("accepted_responses"),
            (responses & signal.is_in(list(ERROR_SIGNALS))).sum().alias("error_lines"),
            distinct("connector_version").alias("connector_versions"),
            pl.col("logged_at").min().alias("first_seen"),
            pl.col("logged_at").max().alias("last_seen"),
        )
        .with_columns(pl.col("account").cast(pl.String))
        .sort("account")
    )
    # the website server events the match-quality estimate is judged on
    ud = [f"ud_{k}" for k in weights if k in USER_DATA_KEYS]
    website_all = data.select(
        "account", "event_name", *ud, kinds=["server_event"],
        where=pl.col("account").is_not_null() & (pl.col("action_source").is_null() | (pl.col("action_source") == "website")),
    )
    out = []
    for acc in per_account.iter_rows(named=True):
        account = acc["account"]
        if account in linked_shops:
            continue  # a shop whose orders were matched to a pixel: reported under that pixel
        n_orders = orders_by_account.get(account, 0)
        purchases = acc["server_purchases"]
        # judged on the conversions that matter: Purchase events when there are any
        # (anonymous browse events carry no contact data by nature); per event
        # name figures are in the emq-low findings
        website = website_all.filter(pl.col("account") == account)
        purchases_web = website.filter(pl.col("event_name") == "Purchase")
        if purchases_web.height:
            website = purchases_web
        out.append({
            "account": account,
            "pixel_ids": acc["pixel_ids"],
            "shops": sorted(set(acc["shops"]) | shops_of.get(account, set())),
            "orders": n_orders,
            "server_events": acc["server_events"],
            "server_purchases": purchases,
            "purchase_ratio": round(purchases / n_orders, 3) if n_orders else None,
            "estimated_match_quality": estimated_match_quality(website, weights),
            "accepted_responses": acc["accepted_responses"],
            "error_lines": acc["error_lines"],
            "connector_versions": acc["connector_versions"],
            "first_seen": _iso(acc["first_seen"]),
            "last_seen": _iso(acc["last_seen"]),
        })
    return out


def _backend_orders_per_account(data: "Readable") -> tuple[dict[str, int], dict[str, set[str]], set[str]]:
    """Backend orders (test/draft/POS ignored) per account, with shops linked to
    the pixel their orders' server Purchases went to (matched by order id)."""
    if not data.select("kind", kinds=["order"]).height:
        return {}, {}, set()
    from .orders_export import reconcile

    rec = reconcile(data)
    orders = rec["orders"].filter(pl.col("ignored").is_null())
    counts = {a: int(n) for a, n in orders.group_by("account").len().iter_rows()}
    links = rec["links"].filter("primary")
    shops_of: dict[str, set[str]] = {}
    for shop, pixel in links.select("shop", "pixel").iter_rows():
        shops_of.setdefault(pixel, set()).add(shop)
    return counts, shops_of, set(links["shop"].to_list())


def _iso(ts) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts is not None else None
