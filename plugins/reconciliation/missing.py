"""``server-events-missing``: backend orders against server Purchases per account,
silent stretches while orders (or browser Purchases) continue, and silence
during business hours.  Judged inside the aligned window, never against today."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from
from auditor.zones import business_stretches, parse_business_hours

from .common import fmt, iso, linked_shops, recon, window_metrics, window_text

RULE = "server-events-missing"


def _business_overlap(start: datetime, end: datetime, hours: tuple[time, time], zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The longest business-hours stretch inside (start, end), as UTC."""
    best = max(business_stretches(start, end, hours, zone), key=lambda ab: ab[1] - ab[0], default=None)
    return (best[0].astimezone(start.tzinfo), best[1].astimezone(start.tzinfo)) if best else None


def _gaps(times: pl.Series, start: datetime, end: datetime) -> pl.DataFrame:
    """Stretches between consecutive server events (window bounds included)."""
    inside = times.filter((times > start) & (times < end))
    stamps = pl.concat([pl.Series([start], dtype=times.dtype), inside, pl.Series([end], dtype=times.dtype)]).sort()
    return pl.DataFrame({"gap_start": stamps.slice(0, len(stamps) - 1), "gap_end": stamps.slice(1)}).with_columns(
        (pl.col("gap_end") - pl.col("gap_start")).alias("length"))


def _count_inside(gaps: pl.DataFrame, times: pl.Series, name: str) -> pl.DataFrame:
    """Add ``name`` = how many of ``times`` fall strictly inside each gap."""
    if gaps.is_empty():
        return gaps.with_columns(pl.lit(0, pl.UInt32).alias(name))
    t = pl.DataFrame({"t": times}).sort("t")
    idx = gaps.with_row_index("_g").select("_g", "gap_start").sort("gap_start")
    hit = t.join_asof(idx, left_on="t", right_on="gap_start", strategy="backward").join(
        gaps.with_row_index("_g").select("_g", "gap_end"), on="_g").filter((pl.col("t") > pl.col("gap_start")) & (pl.col("t") < pl.col("gap_end")))
    counts = hit.group_by("_g").agg(pl.len().alias(name))
    return gaps.with_row_index("_g").join(counts, on="_g", how="left").with_columns(pl.col(name).fill_null(0)).drop("_g")


def _version_rows(ctx: CheckContext) -> pl.DataFrame:
    """The rows that can mark a connector update (a version, or an update line), read once."""
    return ctx.select("account", "logged_at", "signal", "connector_version", "file", "line", "message",
                      where=(pl.col("connector_version").is_not_null() | (pl.col("signal") == "plugin_updated"))
                      & pl.col("logged_at").is_not_null() & pl.col("account").is_not_null())


def _update_markers(versions: pl.DataFrame, account: str) -> pl.DataFrame:
    rows = versions.filter(pl.col("account") == account)
    v = rows.filter(pl.col("connector_version").is_not_null()).sort("logged_at").with_columns(
        pl.col("connector_version").shift(1).alias("prev"))
    changes = v.filter(pl.col("prev").is_not_null() & (pl.col("prev") != pl.col("connector_version")))
    marks = rows.filter(pl.col("signal") == "plugin_updated").with_columns(pl.lit(None, pl.String).alias("prev"))
    return pl.concat([changes, marks], how="vertical_relaxed").sort("logged_at")


def missing_findings(ctx: CheckContext) -> list[Finding]:
    r = recon(ctx)
    th = ctx.thresholds(RULE)
    min_ratio = float(th.get("min_ratio", 0.8))
    silence = timedelta(hours=float(th.get("silence_hours", 24)))
    min_orders = int(th.get("min_orders_in_silence", 3))
    short = th.get("silence_minutes")
    short = timedelta(minutes=float(short)) if short else None
    min_activity = int(th.get("min_activity_in_silence", 3))
    biz_minutes = th.get("business_silence_minutes")
    biz = timedelta(minutes=float(biz_minutes)) if biz_minutes else None
    hours = parse_business_hours(th.get("business_hours"))
    zone = ZoneInfo(str(th.get("business_timezone", "UTC")))
    server_all = ctx.select("kind", "account", "logged_at", "event_name", kinds=["server_event"], where=pl.col("logged_at").is_not_null())
    findings = []
    versions = None  # read when the first account needs it
    accounts = set(r.windows)
    if biz is not None:
        accounts |= set(server_all["account"].drop_nulls().unique().to_list())
    for account in sorted(accounts):
        win = r.windows.get(account)
        acc_server = server_all.filter(pl.col("account") == account)
        acc_times = acc_server["logged_at"]
        if win is None:  # no backend orders: only the business-hours silence can be judged
            if not len(acc_times):
                continue
            acc_span = ctx.select("logged_at", where=pl.col("account") == account)["logged_at"]
            win = {"start": acc_span.min(), "end": acc_span.max(), "overlap": True, "sources": {}}
        if not win["overlap"]:
            continue  # totals-mismatch reports inputs that do not overlap
        ws, we = win["start"], win["end"]
        orders = r.orders.filter((pl.col("account") == account) & (pl.col("created") >= ws) & (pl.col("created") <= we))
        counted = orders.filter(pl.col("ignored").is_null())
        n_orders, n_ignored = counted.height, orders.height - counted.height
        sp = r.server.filter((pl.col("account") == account) & (pl.col("logged_at") >= ws) & (pl.col("logged_at") <= we))
        sent, accepted, rejected = sp.height, int(sp["accepted"].sum()), int(sp["rejected"].sum())
        matched = int(counted["server_sent"].sum())
        matched_ok = int(counted["accepted"].sum())
        keyed = sp.filter(pl.col("key").is_not_null()).height
        if n_orders and keyed:
            ratio, basis = matched / n_orders, "orders with a matching server Purchase / orders"
        elif n_orders:
            ratio, basis = sent / n_orders, "server Purchase events / orders (the events carry no order id to match)"
        else:
            ratio, basis = None, None
        weekly = _weekly(counted, sp)
        # silences: stretches without any server event of the account
        gaps = _gaps(acc_times, ws, we)
        order_times = counted["created"]
        browser_names = acc_server["event_name"].drop_nulls().unique().implode()
        browser_times = ctx.select("logged_at", kinds=["browser_event"], where=(pl.col("account") == account)
                                   & pl.col("event_name").is_in(browser_names) & pl.col("logged_at").is_not_null())["logged_at"]
        gaps = _count_inside(_count_inside(gaps, order_times, "orders"), browser_times, "browser_events")
        cond = (pl.col("length") >= silence) & (pl.col("orders") >= min_orders)
        if short is not None:
            cond = cond | ((pl.col("length") >= short) & ((pl.col("orders") + pl.col("browser_events")) >= min_activity))
        silent = gaps.filter(cond).sort("gap_start")
        silences = [{
            "start": iso(a), "end": iso(b), "hours": round(length.total_seconds() / 3600, 1), "orders_inside": int(o),
            "browser_events_inside": int(be), "open_ended": b == we and not bool((acc_times >= we).any()),
        } for a, b, length, o, be in silent.iter_rows()]
        biz_silences = []
        if biz is not None:
            for a, b in gaps.filter(pl.col("length") >= biz).select("gap_start", "gap_end").iter_rows():
                ov = _business_overlap(a, b, hours, zone)
                if ov and ov[1] - ov[0] >= biz:
                    biz_silences.append({"start": iso(ov[0]), "end": iso(ov[1]), "minutes": round((ov[1] - ov[0]).total_seconds() / 60)})
        low = ratio is not None and ratio < min_ratio
        if not (low or silences or biz_silences):
            continue
        if versions is None:
            versions = _version_rows(ctx)
        markers = _update_markers(versions, account)
        first_silence = silent["gap_start"].min() if silent.height else None
        marker = None
        if first_silence is not None and markers.height:
            before = markers.filter(pl.col("logged_at") <= first_silence + timedelta(minutes=1))
            if before.height:
                marker = before.row(before.height - 1, named=True)
        shops = linked_shops(r, account) or sorted(orders["shop"].unique().to_list())
        parts = []
        if n_orders:
            parts.append(
                f"{n_orders} backend order{'s' if n_orders != 1 else ''} ({n_ignored} test/draft/POS ignored) vs {sent} server "
                f"Purchase{'s' if sent != 1 else ''} sent, {accepted} accepted, {rejected} rejected; "
                f"{matched} order{'s' if matched != 1 else ''} have a server Purchase ({ratio:.0%}"
                + (f", below {min_ratio:.0%}" if low else "") + ")")
        if weekly and len(weekly) > 1:
            parts.append("per week: " + ", ".join(f"{w['week']} {w['orders']} orders / {w['server_purchases']} server" for w in weekly))
        longest = sorted(silences, key=lambda s: (-s["hours"], s["start"]))[:3]
        if len(silences) > len(longest):
            parts.append(f"{len(silences)} silent stretches while orders continued, longest first")
        for s in longest:
            end = "the end of the evidence" if s["open_ended"] else s["end"][:16].replace("T", " ")
            parts.append(f"no server event from {s['start'][:16].replace('T', ' ')} to {end} ({s['hours']} h) while "
                         f"{s['orders_inside']} orders" + (f" and {s['browser_events_inside']} browser events" if s["browser_events_inside"] else "")
                         + " came in")
        for s in biz_silences[:3]:
            parts.append(f"no server event at all for {s['minutes']} min during business hours ({hours[0]:%H:%M}-{hours[1]:%H:%M} {zone.key}) "
                         f"from {s['start'][:16].replace('T', ' ')} to {s['end'][:16].replace('T', ' ')}")
        if marker is not None:
            what = (f"version {marker['prev']} -> {marker['connector_version']}" if marker["prev"] else "an update marker")
            parts.append(f"the silence follows {what} at {fmt(marker['logged_at'])} (see integration-broken-after-update)")
        if win["sources"]:
            parts.append(window_text(win))
        missing = counted.filter(~pl.col("server_sent"))
        ev_orders = ctx.select("kind", "file", "line", "logged_at", "message", "order_id", "shop", "account", kinds=["order"],
                               where=pl.col("order_id").is_in(missing["order_id"].head(20).implode()))
        metrics = {
            **(window_metrics(win) if win["sources"] else {}),
            "linked_shops": shops, "orders": n_orders, "ignored_orders": n_ignored, "server_purchases": sent,
            "accepted": accepted, "rejected": rejected, "orders_with_server_purchase": matched,
            "orders_with_accepted_purchase": matched_ok, "purchase_ratio": round(ratio, 3) if ratio is not None else None,
            "ratio_basis": basis, "weekly": weekly, "silences": silences, "business_hours_silences": biz_silences,
            "update_marker": ({"at": iso(marker["logged_at"]), "from_version": marker["prev"], "to_version": marker["connector_version"]}
                              if marker is not None else None),
        }
        last = max([x for x in (silent["gap_end"].max() if silent.height else None, counted["created"].max()) if x is not None], default=None)
        findings.append(ctx.finding(
            RULE, account=account, count=max(n_orders - matched, len(silences) + len(biz_silences)),
            first_seen=(first_silence or counted["created"].min() or ws), last_seen=last,
            ongoing=bool(silences and silences[-1]["open_ended"]) or (low and not sent),
            summary="; ".join(parts) + ".", evidence=evidence_from(ev_orders) or evidence_from(sp), metrics=metrics,
        ))
    return findings


def _weekly(orders: pl.DataFrame, server: pl.DataFrame) -> list[dict]:
    """Orders vs server Purchases (sent / accepted) per ISO week (Monday, UTC)."""
    o = orders.group_by(pl.col("created").dt.truncate("1w").alias("week")).agg(pl.len().alias("orders"))
    s = server.group_by(pl.col("logged_at").dt.truncate("1w").alias("week")).agg(
        pl.len().alias("server_purchases"), pl.col("accepted").sum().alias("accepted"))
    w = o.join(s, on="week", how="full", coalesce=True).sort("week").fill_null(0)
    return [{"week": d.strftime("%Y-%m-%d"), "orders": int(a), "server_purchases": int(b), "accepted": int(c)}
            for d, a, b, c in w.select("week", "orders", "server_purchases", "accepted").iter_rows() if d is not None]


CHECK = Check(
    name="reconciliation-missing",
    rules=(RULE,),
    run=missing_findings,
    needs=("order", "server_event"),
    description="Backend orders vs server Purchases per pixel (sent/accepted/rejected), silences while orders continue, business-hours silence.",
)
