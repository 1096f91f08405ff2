"""Per-account numbers of the report (orders, server events, ratio, EMQ estimate)."""

from __future__ import annotations

from typing import Any

import polars as pl

from .ruleset import Ruleset

USABLE_STATES = ("sha256", "sha256_suffixed", "present")


def estimated_match_quality(events: pl.DataFrame, weights: dict[str, float]) -> float | None:
    """An *estimate* (0-10) from customer-parameter coverage; not Meta's EMQ.

    Each key contributes its ruleset weight times the share of events where it
    is present in a usable form; the sum is capped at 10.
    """
    if events.is_empty() or not weights:
        return None
    exprs = [
        (pl.col(f"ud_{k}").is_in(USABLE_STATES).fill_null(False).mean() * float(w)).alias(k)
        for k, w in weights.items() if f"ud_{k}" in events.columns
    ]
    if not exprs:
        return None
    row = events.select(exprs).row(0)
    return round(min(10.0, sum(v or 0.0 for v in row)), 1)


def account_summaries(frame: pl.DataFrame, ruleset: Ruleset) -> list[dict[str, Any]]:
    """One dict per account, sorted by account id (deterministic)."""
    weights = ruleset.rows["emq-low"].thresholds.get("weights", {}) if "emq-low" in ruleset.rows else {}
    out = []
    accounts = frame["account"].drop_nulls().unique().sort().to_list()
    orders_by_account, shops_of, linked_shops = _backend_orders_per_account(frame)
    # only the columns used below, so the per-account filters copy little
    frame = frame.select(
        "account", "pixel_id", "shop", "kind", "event_name", "signal", "action_source", "logged_at",
        "connector_version", *[c for c in frame.columns if c.startswith("ud_")],
    ) if "ud_em" in frame.columns else frame
    for account in accounts:
        if account in linked_shops:
            continue  # a shop whose orders were matched to a pixel: reported under that pixel
        rows = frame.filter(pl.col("account") == account)
        server = rows.filter(pl.col("kind") == "server_event")
        n_orders = orders_by_account.get(account, 0)
        purchases = server.filter(pl.col("event_name") == "Purchase").height
        responses = rows.filter(pl.col("kind").is_in(["api_response", "status"]))
        website = server.filter(pl.col("action_source").is_null() | (pl.col("action_source") == "website"))
        # judged on the conversions that matter: Purchase events when there are any
        # (anonymous browse events carry no contact data by nature); per event
        # name figures are in the emq-low findings
        purchases_web = website.filter(pl.col("event_name") == "Purchase")
        if purchases_web.height:
            website = purchases_web
        out.append({
            "account": account,
            "pixel_ids": rows["pixel_id"].drop_nulls().unique().sort().to_list(),
            "shops": sorted(set(rows["shop"].drop_nulls().unique().to_list()) | shops_of.get(account, set())),
            "orders": n_orders,
            "server_events": server.height,
            "server_purchases": purchases,
            "purchase_ratio": round(purchases / n_orders, 3) if n_orders else None,
            "estimated_match_quality": estimated_match_quality(website, weights),
            "accepted_responses": responses.filter(pl.col("signal") == "success").height,
            "error_lines": responses.filter(pl.col("signal").is_in(
                ["graph_error", "transport_error", "server_error_page", "connection_invalid", "token_missing"])).height,
            "connector_versions": rows["connector_version"].drop_nulls().unique().sort().to_list(),
            "first_seen": _iso(rows["logged_at"].min()),
            "last_seen": _iso(rows["logged_at"].max()),
        })
    return out


def _backend_orders_per_account(frame: pl.DataFrame) -> tuple[dict[str, int], dict[str, set[str]], set[str]]:
    """Backend orders (test/draft/POS ignored) per account, with shops linked to
    the pixel their orders' server Purchases went to (matched by order id)."""
    if not frame.filter(pl.col("kind") == "order").height:
        return {}, {}, set()
    from .orders_export import reconcile

    rec = reconcile(frame)
    orders = rec["orders"].filter(pl.col("ignored").is_null())
    counts = {a: int(n) for a, n in orders.group_by("account").len().iter_rows()}
    links = rec["links"].filter("primary")
    shops_of: dict[str, set[str]] = {}
    for shop, pixel in links.select("shop", "pixel").iter_rows():
        shops_of.setdefault(pixel, set()).add(shop)
    return counts, shops_of, set(links["shop"].to_list())


def _iso(ts) -> str | None:
    return ts.isoformat().replace("+00:00", "Z") if ts is not None else None
