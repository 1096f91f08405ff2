"""events-delayed: how long after the event the server sends it, per account and
event name, and whether a queue or cron sends in bursts.

Delay = send time (``logged_at``) - event time (``event_time``, or the time a
millisecond/ISO ``event_time_raw`` means).  Per account and event name: median,
p95 and max.  The rule fires when the median is above ``investigate_seconds``
(the table: 2 min good, > 5 min investigate, hours = batching).  Batching is
recognised per account from the send times: sends closer than
``burst_gap_seconds`` form a burst; the median interval between burst starts
is the period; an interval within ``max_interval_variation`` (share of the
period) of a whole multiple of the period is on the grid (a flush with nothing
queued logs nothing); at least ``min_regular_share`` on the grid, with several
events per burst or per request, means a queue flushing every <period>.
Events of ``exempt_action_sources`` (physical_store uploads) are not judged.

The event time is the clock only while it can be trusted: for an account whose
event_time event-time-wrong shows shifted by whole hours against the backend
orders (a time-zone bug), the delay runs from the real conversion, the order's
creation time where the event names a known order, else event_time with the
offset taken back.  A shop that sends in real time with a mislabelled zone
gets event-time-wrong alone, not also events-delayed.
"""

from __future__ import annotations

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from
from auditor.findings import downgrade

from .common import backend_orders, fmt_duration, groups, plural, server_events, span_text, with_claimed_time
from .event_time import timezone_offsets

RULE = "events-delayed"


def batching_pattern(ev: pl.DataFrame, th: dict) -> dict[str, dict]:
    """Per account: ``{interval_seconds, bursts, events_per_burst, events_per_request, regular, batched}``."""
    gap = float(th.get("burst_gap_seconds", 60))
    min_bursts = int(th.get("min_bursts", 4))
    max_var = float(th.get("max_interval_variation", 0.1))
    per_burst_min = float(th.get("min_events_per_burst", 2.0))
    min_share = float(th.get("min_regular_share", 0.8))
    sends = (
        ev.filter(pl.col("logged_at").is_not_null())
        .with_columns(pl.coalesce("batch_id", pl.format("{}:{}", "file", "line")).alias("_send"))
        .group_by("account", "_send")
        .agg(pl.col("logged_at").min().alias("t"), pl.len().alias("events"))
        .sort("account", "t")
        .with_columns(
            ((pl.col("t").diff().dt.total_seconds(fractional=True) > gap).fill_null(True)
             .cast(pl.Int64).cum_sum().over("account")).alias("_burst")
        )
    )
    bursts = (
        sends.group_by("account", "_burst")
        .agg(pl.col("t").min().alias("start"), pl.col("events").sum().alias("events"), pl.len().alias("requests"))
        .sort("account", "start")
        .with_columns(pl.col("start").diff().dt.total_seconds(fractional=True).over("account").alias("_interval"))
    )
    # a flush with nothing queued logs nothing: an interval of k times the period still fits the grid
    iv, med = pl.col("_interval"), pl.col("_interval").median().over("account")
    k = (iv / med).round(0)
    bursts = bursts.with_columns(
        ((k >= 1) & ((iv - k * med).abs() <= max_var * med)).alias("_on_grid"),
        (iv - k * med).abs().alias("_off_grid"),
    )
    stats = bursts.group_by("account").agg(
        pl.len().alias("bursts"),
        pl.col("_interval").median().alias("interval"),
        (pl.col("_off_grid").median() / pl.col("_interval").median()).alias("variation"),
        pl.col("_on_grid").drop_nulls().mean().alias("on_grid"),
        (pl.col("events").sum() / pl.len()).alias("per_burst"),
        (pl.col("events").sum() / pl.col("requests").sum()).alias("per_request"),
    )
    out = {}
    for r in stats.iter_rows(named=True):
        regular = (r["bursts"] >= min_bursts and r["interval"] is not None and r["interval"] > 0
                   and (r["on_grid"] or 0) >= min_share)
        batched = regular and max(r["per_burst"] or 0, r["per_request"] or 0) >= per_burst_min
        out[r["account"]] = {
            "interval_seconds": round(r["interval"], 1) if r["interval"] is not None else None,
            "bursts": int(r["bursts"]),
            "interval_variation": round(r["variation"], 3) if r["variation"] is not None else None,
            "share_on_interval": round(r["on_grid"], 3) if r["on_grid"] is not None else None,
            "events_per_burst": round(r["per_burst"], 2),
            "events_per_request": round(r["per_request"], 2),
            "regular": regular,
            "batched": batched,
        }
    return out


def conversion_time(ctx: CheckContext, ev: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, int]]:
    """``ev`` with ``_conversion``, the time the delay is measured from, and
    the per-account whole-hour event_time offsets that moved it (see the module doc)."""
    orders = backend_orders(ctx)
    offsets = timezone_offsets(ctx, ev, orders)
    if not offsets:
        return ev.with_columns(pl.col("claimed").alias("_conversion")), offsets
    shift = pl.col("account").replace_strict(offsets, default=None, return_dtype=pl.Int64)
    ev = ev.join(orders.select("order_id", "_o_time"), on="order_id", how="left", maintain_order="left")
    real = pl.coalesce("_o_time", pl.col("claimed") - pl.duration(hours=shift))
    return ev.with_columns(pl.when(shift.is_null()).then(pl.col("claimed")).otherwise(real).alias("_conversion")), offsets


def delay_findings(ctx: CheckContext) -> list[Finding]:
    th = ctx.thresholds(RULE)
    good = float(th.get("good_seconds", 120))
    investigate = float(th.get("investigate_seconds", 300))
    batching_s = float(th.get("batching_seconds", 3600))
    min_events = int(th.get("min_events", 5))
    exempt = list(th.get("exempt_action_sources") or ())
    ev = server_events(ctx, "event_name", "event_time", "event_time_raw", "action_source", "batch_id", "order_id")
    ev = ev.filter(pl.col("action_source").is_null() | ~pl.col("action_source").is_in(exempt))
    if ev.is_empty():
        return []
    ev, offsets = conversion_time(ctx, with_claimed_time(ev))
    ev = ev.with_columns(
        (pl.col("logged_at") - pl.col("_conversion")).dt.total_seconds(fractional=True).alias("_delay"),
        pl.col("event_name").fill_null("(no event_name)"),
    )
    timed = ev.filter(pl.col("_delay").is_not_null())
    stats = (
        timed.group_by("account", "event_name")
        .agg(
            pl.len().alias("n"),
            pl.col("_delay").median().alias("median"),
            pl.col("_delay").quantile(0.95, "nearest").alias("p95"),
            pl.col("_delay").max().alias("max"),
            (pl.col("_delay") > good).mean().alias("share_over_good"),
            (pl.col("_delay") > investigate).mean().alias("share_late"),
        )
        .filter((pl.col("n") >= min_events) & (pl.col("median") > investigate))
    )
    if stats.is_empty():
        return []
    pattern = batching_pattern(ev.filter(pl.col("account").is_in(stats["account"].unique().to_list())), th)
    findings = []
    for (account, name), st in groups(stats, ["account", "event_name"]):
        s = st.row(0, named=True)
        group = timed.filter((pl.col("account") == account) & (pl.col("event_name") == name))
        late = group.filter(pl.col("_delay") > investigate)
        pat = pattern.get(account, {})
        batched = bool(pat.get("batched"))
        severity = ctx.ruleset.rule(RULE).severity
        if not batched and s["median"] <= batching_s:
            severity = downgrade(severity)  # late, but neither hours nor a batching pattern
        what = ("batching/queueing" if batched or s["median"] > batching_s else "late sending")
        summary = (
            f"{name}: median send delay {fmt_duration(s['median'])}, p95 {fmt_duration(s['p95'])}, max "
            f"{fmt_duration(s['max'])} over {plural(int(s['n']), 'event')}; {s['share_late']:.0%} were sent more than "
            f"{fmt_duration(investigate)} after the event ({what}, {span_text(late['logged_at'].min(), late['logged_at'].max())})"
        )
        if batched:
            summary += (f"; sends arrive in bursts every {fmt_duration(pat['interval_seconds'])} with "
                        f"{pat['events_per_burst']:.1f} events per burst ({pat['events_per_request']:.1f} per request)")
        metrics = {
            "event_name": name,
            "events": int(s["n"]),
            "median_seconds": round(s["median"], 1),
            "p95_seconds": round(s["p95"], 1),
            "max_seconds": round(s["max"], 1),
            "share_over_good": round(s["share_over_good"], 3),
            "share_late": round(s["share_late"], 3),
            "send_pattern": pat,
        }
        if account in offsets:
            metrics["event_time_offset_hours"] = offsets[account]
            summary += (f"; measured from the backend order times, as event_time is shifted by "
                        f"{offsets[account]:+d} h (event-time-wrong)")
        findings.append(ctx.finding(
            RULE, severity=severity, account=account, subject=name, count=late.height,
            first_seen=late["logged_at"].min(), last_seen=late["logged_at"].max(),
            ongoing=bool(group.tail(1)["_delay"][0] > investigate),
            summary=summary + ".", evidence=evidence_from(late), metrics=metrics,
        ))
    return findings


CHECK = Check(
    name="events-delayed",
    rules=(RULE,),
    run=delay_findings,
    needs=("server_event",),
    description="Send delay per account and event name (median, p95, max) and batching detection "
                "(bursts at a regular interval, many events per request).",
)
