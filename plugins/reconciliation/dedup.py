"""``dedup-missing-event-id`` / ``dedup-partial``: can Meta pair the browser and
server copies of each event?  An event dedups when it carries a usable
event_id that is not reused across orders and, where the browser leg is
visible (sGTM GA4 hits of the same order), equals the browser's id exactly."""

from __future__ import annotations

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from
from auditor.orders_export import norm_key, usable_event_id

from .common import recon, window_metrics

RULES = ("dedup-missing-event-id", "dedup-partial")


_PATH_PARTS = ("action_source", "event_source_url", "connector")


def _path() -> pl.Expr:
    host = pl.col("event_source_url").cast(pl.String).str.extract(r"^[a-zA-Z]+://([^/?#:]+)", 1)
    return pl.format("{} | {} | {}", pl.col("action_source").cast(pl.String).fill_null("no action_source"), host.fill_null("no url"),
                     pl.col("connector").cast(pl.String).fill_null("unknown connector"))


def _paths(ev: pl.DataFrame) -> pl.Series:
    """The checkout path (action_source | host | connector) of each row, worked
    out once per distinct combination (a handful) instead of once per event."""
    parts = ev.select(_PATH_PARTS)
    combos = parts.unique().with_columns(_path().cast(pl.Categorical).alias("path"))
    return parts.join(combos, on=list(_PATH_PARTS), how="left", nulls_equal=True, maintain_order="left").get_column("path")


def dedup_findings(ctx: CheckContext) -> list[Finding]:
    r = recon(ctx)
    th_missing = ctx.thresholds("dedup-missing-event-id")
    th_partial = ctx.thresholds("dedup-partial")
    min_usable = float(th_partial.get("min_usable_share", 0.05))
    max_usable = float(th_partial.get("max_usable_share", 0.95))
    tolerated = float(th_missing.get("max_missing_share", 0.05))
    full = float(th_missing.get("overcount_ratio", 1.8))
    ev = ctx.select("kind", "file", "line", "logged_at", "account", "event_name", "event_id", "order_id", "action_source",
                    "event_source_url", "connector", "ud_fbp", "message", kinds=["server_event"], where=pl.col("account").is_not_null())
    if ev.is_empty():
        return []
    ev = ev.with_row_index("_i").with_columns(usable_event_id().alias("usable"), _paths(ev).alias("path"),
                                              (pl.col("ud_fbp").cast(pl.String) == "present").fill_null(False).alias("fbp"),
                                              norm_key(pl.col("order_id")).alias("okey"))
    # an event_id reused for different orders of the same pixel dedups the wrong events
    reused = ev.filter(pl.col("usable") & pl.col("okey").is_not_null()).group_by(["account", "event_name", "event_id"]).agg(
        pl.col("okey").n_unique().alias("_orders")).filter(pl.col("_orders") > 1).with_columns(pl.lit(True).alias("reused"))
    ev = ev.join(reused.select("account", "event_name", "event_id", "reused"), on=["account", "event_name", "event_id"],
                 how="left", maintain_order="left").with_columns(pl.col("reused").fill_null(False))
    # browser leg: browser Purchases of the same order (matched) or, unmatched, of the same normalised key
    b = r.browser.filter(pl.col("event_id").is_not_null()).select(
        pl.col("account").cast(pl.Categorical), "key", pl.col("event_id").alias("b_id")).unique(["account", "key"])
    ev = ev.join(b, left_on=["account", "okey"], right_on=["account", "key"], how="left", maintain_order="left")
    browser_pixels = set(ctx.select("account", kinds=["browser_event"])["account"].drop_nulls().unique().to_list())
    ev = ev.with_columns(
        (pl.col("b_id").is_not_null() & pl.col("usable") & (pl.col("event_id") != pl.col("b_id"))).alias("mismatch"),
        (pl.col("b_id").is_not_null() & pl.col("usable") & (pl.col("event_id") != pl.col("b_id"))
         & (norm_key(pl.col("event_id")) == norm_key(pl.col("b_id")))).fill_null(False).alias("format_mismatch"),
    ).with_columns((pl.col("usable") & ~pl.col("reused") & ~pl.col("mismatch").fill_null(False)).alias("ok"))
    # event_id vs the order id (format only: a random id is fine if both sides share it)
    ev = ev.with_columns((pl.col("usable") & pl.col("okey").is_not_null() & (pl.col("event_id") != pl.col("order_id"))
                          & (norm_key(pl.col("event_id")) == pl.col("okey"))).fill_null(False).alias("order_format"))
    findings = []
    for (account,), rows in ev.group_by(["account"], maintain_order=True):
        pixel_runs = bool(rows["fbp"].any()) or account in browser_pixels
        if not pixel_runs:
            continue  # one channel only: nothing to deduplicate
        n = rows.height
        ok = int(rows["ok"].sum())
        share = ok / n
        failing = 1 - share
        if failing <= tolerated or share >= max_usable:
            continue
        rule = "dedup-missing-event-id" if share < min_usable else "dedup-partial"
        if not ctx.ruleset.enabled(rule):
            continue
        purchases = rows.filter(pl.col("event_name") == "Purchase")
        base = purchases if purchases.height else rows
        doubled = base.filter(~pl.col("ok") & (pl.col("fbp") | pl.lit(account in browser_pixels)))
        expected = base.height + doubled.height
        overcount = round(expected / base.height, 2) if base.height else None
        win = r.windows.get(account)
        orders = None
        if win is not None and win["overlap"]:
            orders = r.orders.filter((pl.col("account") == account) & pl.col("ignored").is_null()
                                     & (pl.col("created") >= win["start"]) & (pl.col("created") <= win["end"])).height
        paths = (
            rows.group_by("path").agg(pl.len().alias("events"), pl.col("usable").sum().alias("with_event_id"), pl.col("ok").sum().alias("dedup_ok"),
                                      pl.col("mismatch").fill_null(False).sum().alias("browser_mismatch"))
            .with_columns((pl.col("dedup_ok") / pl.col("events")).round(3).alias("share_ok")).sort(["share_ok", "path"])
        )
        path_list = [dict(zip(paths.columns, (v if not isinstance(v, float) else float(v) for v in row))) for row in paths.iter_rows()]
        missing_ids = int((~rows["usable"]).sum())
        mismatches = int(rows["mismatch"].fill_null(False).sum())
        fmt_mm = rows.filter(pl.col("format_mismatch"))
        reused_n = int(rows["reused"].sum())
        parts = [f"{ok} of {n} server events ({share:.0%}) carry an event_id Meta can pair with the Pixel; "
                 f"{missing_ids} have none"]
        if mismatches:
            parts.append(f"{mismatches} differ from the browser leg's id for the same order"
                         + (f" ({fmt_mm.height} only in format, e.g. server '{fmt_mm['event_id'][0]}' vs browser '{fmt_mm['b_id'][0]}')" if fmt_mm.height else ""))
        if reused_n:
            parts.append(f"{reused_n} reuse one event_id for different orders")
        proof = "fbp on the server events shows the Pixel runs" if rows["fbp"].any() else "browser events show the Pixel runs"
        what = "Purchases" if purchases.height else "events"
        parts.append(f"{proof}, so Events Manager should count about {overcount}x the server {what} ({expected} for {base.height}"
                     + (f"; {orders} backend orders in the compared window" if orders is not None else "") + ")")
        if len(path_list) > 1:
            parts.append("by checkout path (action_source | host | connector): " + ", ".join(
                f"{p['path']} {p['dedup_ok']}/{p['events']}" for p in path_list))
        order_fmt = int(rows["order_format"].sum())
        if order_fmt:
            ex = rows.filter(pl.col("order_format")).row(0, named=True)
            parts.append(f"{order_fmt} event_ids wrap the order id in another format (e.g. '{ex['event_id']}' for order '{ex['order_id']}'); "
                         "the Pixel must send exactly the same string")
        severity = None
        if rule == "dedup-partial" and overcount is not None and overcount >= full:
            rule = "dedup-missing-event-id"
        bad = rows.filter(~pl.col("ok"))
        findings.append(ctx.finding(
            rule, account=account, count=n - ok, first_seen=bad["logged_at"].min(), last_seen=bad["logged_at"].max(),
            ongoing=not bool(rows.sort("logged_at").tail(max(1, n // 10))["ok"].all()),
            summary="; ".join(parts) + ".", evidence=evidence_from(bad),
            metrics={"server_events": n, "with_usable_event_id": int(rows["usable"].sum()), "dedup_ok": ok, "share_ok": round(share, 3),
                     "missing_event_id": missing_ids, "browser_mismatch": mismatches, "format_mismatch": fmt_mm.height,
                     "reused_event_id": reused_n, "event_id_wraps_order_id": order_fmt, "pixel_evidence": proof,
                     "purchases": base.height, "expected_reported": expected, "expected_overcount": overcount,
                     "backend_orders": orders, "paths": path_list, **(window_metrics(win) if win and win["overlap"] else {})},
            **({"severity": severity} if severity else {}),
        ))
    return findings


CHECK = Check(
    name="reconciliation-dedup",
    rules=RULES,
    run=dedup_findings,
    needs=("server_event",),
    description="Usable event_id share, consistency with order id and browser leg, expected over-count, split by checkout path.",
)
