"""Per-account numbers of the report (orders, server events, ratio, EMQ estimate).

The one source of every per-account count: the terminal and Markdown tables,
the JSON ``accounts`` and the HTML cards all show these numbers, so the same
account reads the same everywhere.  Definitions (the expressions below are
public so a per-bucket series can sum the very same per-row numbers):

* *server events* = server-event rows (the requests the sender logged); for an
  account whose evidence holds none (raw Graph API responses only, the
  request is not in the input) the events its API responses stand for:
  ``batch_size``, else ``events_received``, else 1 per response
  (``server_events_from`` says which: ``"requests"`` or ``"responses"``);
* *accepted events* = ``events_received`` (1 when absent) of success responses;
* *rejected events* = events of error responses (``batch_size``, else 1);
* *accepted responses* / *error lines* = response and status lines whose
  signal is success / one of :data:`auditor.schema.ERROR_SIGNALS`.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .match_quality import USABLE_STATES, estimate_expr  # noqa: F401 - USABLE_STATES: older plugins import it here
from .rows import Readable, as_readable
from .ruleset import Ruleset
from .schema import ERROR_SIGNALS, USER_DATA_KEYS
from .wording import iso

_RESPONSE_KINDS = ["api_response", "status"]


def _batch_size() -> pl.Expr:
    """The events the sender said it put in the request (null when unknown)."""
    return pl.when(pl.col("batch_size") > 0).then(pl.col("batch_size"))


def response_events_expr() -> pl.Expr:
    """Per row: the events an API response stands for (0 for other rows)."""
    received = pl.when(pl.col("events_received") > 0).then(pl.col("events_received"))
    return (pl.when(pl.col("kind") == "api_response").then(pl.coalesce(_batch_size(), received, pl.lit(1)))
            .otherwise(0).cast(pl.Int64))


def accepted_events_expr() -> pl.Expr:
    """Per row: events Meta accepted (``events_received`` of a success response, 1 when absent)."""
    success = pl.col("kind").is_in(_RESPONSE_KINDS) & (pl.col("signal") == "success")
    return pl.when(success).then(pl.coalesce(pl.col("events_received"), pl.lit(1))).otherwise(0).cast(pl.Int64)


def rejected_events_expr() -> pl.Expr:
    """Per row: events of an error API response (``batch_size``, else 1)."""
    failed = (pl.col("kind") == "api_response") & pl.col("signal").is_in(list(ERROR_SIGNALS))
    return pl.when(failed).then(pl.coalesce(_batch_size(), pl.lit(1))).otherwise(0).cast(pl.Int64)


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
    weights = ruleset.rules["emq-low"].thresholds.get("weights", {}) if "emq-low" in ruleset.rules else {}
    orders_by_account, shops_of, linked_shops = _backend_orders_per_account(data)
    kind, signal = pl.col("kind"), pl.col("signal")
    server = kind == "server_event"
    responses = kind.is_in(_RESPONSE_KINDS)

    def distinct(col: str) -> pl.Expr:
        return pl.col(col).drop_nulls().cast(pl.String).unique().sort()

    per_account = (
        data.select("account", "pixel_id", "shop", "kind", "signal", "event_name", "connector_version", "logged_at",
                    "batch_size", "events_received", where=pl.col("account").is_not_null())
        .group_by("account")
        .agg(
            distinct("pixel_id").alias("pixel_ids"),
            distinct("shop").alias("shops"),
            server.sum().alias("server_rows"),
            response_events_expr().sum().alias("response_events"),
            accepted_events_expr().sum().alias("accepted_events"),
            rejected_events_expr().sum().alias("rejected_events"),
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
        from_requests = acc["server_rows"] > 0 or not acc["response_events"]
        # judged on the conversions that matter: Purchase events when there are any
        # (anonymous browse events carry no contact data by nature); per event
        # name figures are in the emq-low findings
        website = website_all.filter(pl.col("account") == account)
        purchases_web = website.filter(pl.col("event_name") == "Purchase")
        judged_on = "website events"
        if purchases_web.height:
            website, judged_on = purchases_web, "Purchase events"
        out.append({
            "account": account,
            "pixel_ids": acc["pixel_ids"],
            "shops": sorted(set(acc["shops"]) | shops_of.get(account, set())),
            "orders": n_orders,
            "server_events": acc["server_rows"] if from_requests else acc["response_events"],
            "server_events_from": "requests" if from_requests else "responses",
            "server_purchases": purchases,
            "purchase_ratio": round(purchases / n_orders, 3) if n_orders else None,
            "estimated_match_quality": estimated_match_quality(website, weights),
            "estimated_match_quality_over": judged_on if website.height else None,
            "accepted_responses": acc["accepted_responses"],
            "accepted_events": acc["accepted_events"],
            "rejected_events": acc["rejected_events"],
            "error_lines": acc["error_lines"],
            "connector_versions": acc["connector_versions"],
            "first_seen": iso(acc["first_seen"]),
            "last_seen": iso(acc["last_seen"]),
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
