"""What the reconciliation checks share: the matched tables and the aligned window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import polars as pl

from auditor import CheckContext, plain
from auditor.orders_export import reconcile, thresholds_from
from auditor.wording import fmt_time as fmt, iso  # noqa: F401 - the checks of this package import them from here

_SHARED_KEY = "reconciliation.tables"
#: Columns of the matched server Purchases the checks use (evidence, window, outcome, match).
_SERVER_COLUMNS = ("account", "logged_at", "file", "line", "message", "m_shop", "m_order_id", "key", "accepted", "rejected")


@dataclass
class Recon:
    orders: pl.DataFrame          # one row per backend order (account = linked pixel, else shop)
    server: pl.DataFrame          # server Purchase rows, matched (m_shop/m_order_id), accepted/rejected
    browser: pl.DataFrame         # browser Purchase rows, matched
    links: pl.DataFrame           # shop, pixel, matches, primary
    windows: dict[str, dict[str, Any]] = field(default_factory=dict)  # account -> aligned window


def recon(ctx: CheckContext) -> Recon:
    """The matched tables, computed once per audit and shared by the checks."""
    return ctx.shared(_SHARED_KEY, lambda: _build(ctx))


def _build(ctx: CheckContext) -> Recon:
    parts = reconcile(ctx, **thresholds_from(ctx.ruleset))
    # kept for every reconciliation check: only the columns they read
    server = parts["server"].select(_SERVER_COLUMNS)
    r = Recon(parts["orders"], server, parts["browser"], parts["links"])
    del parts
    slack = float(ctx.thresholds("server-events-missing").get("window_slack_minutes", 60))
    r.windows = aligned_windows(ctx, r, timedelta(minutes=slack))
    return r


def aligned_windows(ctx: CheckContext, r: Recon, slack: timedelta = timedelta(minutes=60)) -> dict[str, dict[str, Any]]:
    """Per account with backend orders: the span each input source covers for it
    and the window they all cover (latest start .. earliest end).

    Order sources count from their rows of the linked shops; event sources from
    every row they logged for the pixel (responses, browser hits and status lines
    included, so a silence of server events still lies inside their coverage).
    """
    acc_orders = r.orders.select("shop", "account").unique()
    if acc_orders.is_empty():
        return {}
    # a payload's event_time counts when it is close to the log time (an order is
    # created seconds before its webhook, a Purchase claims the order's time)
    close = (pl.col("event_time") - pl.col("logged_at")).abs() <= timedelta(hours=1)
    t0 = pl.when(close).then(pl.min_horizontal("event_time", "logged_at")).otherwise(pl.col("logged_at"))
    t1 = pl.when(close).then(pl.max_horizontal("event_time", "logged_at")).otherwise(pl.col("logged_at"))
    base = ctx.select("source", "kind", "account", "shop", "event_time", "logged_at", where=pl.col("logged_at").is_not_null())
    base = plain(base.select("source", "kind", "account", "shop", t0.alias("t0"), t1.alias("t1")), "account", "shop")
    order_rows = (
        base.filter(pl.col("kind") == "order").with_columns(pl.coalesce("shop", "account").alias("shop"))
        .join(acc_orders, on="shop", how="inner", suffix="_linked").select("source", pl.col("account_linked").alias("account"), "t0", "t1")
    )
    event_rows = base.filter(pl.col("kind") != "order").select("source", "account", "t0", "t1")
    order_sources = r.orders["source"].unique().to_list()
    cov = (
        pl.concat([order_rows, event_rows.with_columns(pl.col("source"))], how="vertical_relaxed")
        .filter(pl.col("account").is_in(acc_orders["account"].unique().implode()))
        .with_columns(pl.col("source").cast(pl.String))
        .group_by(["account", "source"]).agg(pl.col("t0").min().alias("start"), pl.col("t1").max().alias("end"))
        .sort(["account", "source"])
    )
    out: dict[str, dict[str, Any]] = {}
    for (account,), rows in cov.group_by(["account"], maintain_order=True):
        start, end = rows["start"].max(), rows["end"].min()
        # events are logged moments after the order that causes them: when the
        # event inputs start a little later, the orders just before still count
        order_start = rows.filter(pl.col("source").is_in(order_sources))["start"].max()
        if order_start is not None and order_start < start <= order_start + slack:
            start = order_start
        out[account] = {
            "start": start, "end": end, "overlap": start <= end,
            "sources": {s: {"start": iso(a), "end": iso(b)} for s, a, b in rows.select("source", "start", "end").sort("source").iter_rows()},
        }
    return out


def window_text(win: dict[str, Any]) -> str:
    srcs = win["sources"]
    if len(srcs) == 1:
        (name,) = srcs
        return f"compared over {fmt(win['start'])} .. {fmt(win['end'])}, the span of the only input ({name})"
    cover = "; ".join(f"{s} {v['start'][:16].replace('T', ' ')} .. {v['end'][:16].replace('T', ' ')}" for s, v in srcs.items())
    return f"compared over {fmt(win['start'])} .. {fmt(win['end'])}, the window every input covers ({cover})"


def window_metrics(win: dict[str, Any]) -> dict[str, Any]:
    return {"window_start": iso(win["start"]), "window_end": iso(win["end"]), "inputs": win["sources"],
            "window_rule": "latest start .. earliest end of the inputs that carry this account"}


def linked_shops(r: Recon, account: str) -> list[str]:
    return r.links.filter(pl.col("pixel") == account)["shop"].unique().sort().to_list()
