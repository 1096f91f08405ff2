"""``key-events-missing``, ``pixel-id-mismatch`` and ``totals-mismatch``: what the
server side covers compared with the browser side, the orders and the inputs'
periods."""

from __future__ import annotations

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from

from .common import recon, window_metrics, window_text


def key_event_findings(ctx: CheckContext) -> list[Finding]:
    r = recon(ctx)
    keys = list(ctx.thresholds("key-events-missing").get("key_events", []))
    rows = ctx.select("kind", "account", "event_name", "file", "line", "logged_at", "message", kinds=["server_event", "browser_event"],
                      where=pl.col("account").is_not_null() & pl.col("event_name").is_in(keys))
    server = rows.filter(pl.col("kind") == "server_event").group_by("account").agg(pl.col("event_name").unique())
    have = {a: set(n) for a, n in server.iter_rows()}
    browser = rows.filter(pl.col("kind") == "browser_event").group_by(["account", "event_name"]).agg(pl.len().alias("n")).sort(["account", "n", "event_name"], descending=[False, True, False])
    with_orders = set(r.orders.filter(pl.col("ignored").is_null())["account"].unique().to_list()) & set(r.links["pixel"].to_list())
    findings = []
    for account in sorted(have):
        seen = {name: int(n) for name, n in browser.filter(pl.col("account") == account).select("event_name", "n").iter_rows()}
        implied = {"Purchase"} if account in with_orders and "Purchase" in keys else set()
        missing = [k for k in keys if (k in seen or k in implied) and k not in have[account]]
        if not missing:
            continue
        why = [f"{k} ({seen[k]} browser events)" if k in seen else f"{k} (implied by backend orders)" for k in missing]
        ev = rows.filter((pl.col("account") == account) & (pl.col("kind") == "browser_event") & pl.col("event_name").is_in(missing))
        findings.append(ctx.finding(
            "key-events-missing", account=account, count=len(missing), first_seen=ev["logged_at"].min(), last_seen=ev["logged_at"].max(),
            summary=f"The server sends {', '.join(sorted(have[account]))} but not {', '.join(why)}.",
            evidence=evidence_from(ev), metrics={"server_sends": sorted(have[account]), "missing": missing, "browser_counts": seen},
        ))
    return findings


def pixel_findings(ctx: CheckContext) -> list[Finding]:
    r = recon(ctx)
    limit = int(ctx.thresholds("pixel-id-mismatch").get("max_pixels_per_account", 1))
    findings = []
    # several pixels proven for one shop by matched orders
    for (shop,), links in r.links.group_by(["shop"], maintain_order=True):
        if links.height <= limit:
            continue
        primary = links.filter("primary")["pixel"][0]
        ev = r.server.filter((pl.col("m_shop") == shop) & (pl.col("account") != primary))
        findings.append(ctx.finding(
            "pixel-id-mismatch", account=primary, subject=shop, count=links.height,
            first_seen=ev["logged_at"].min(), last_seen=ev["logged_at"].max(),
            summary=f"Orders of {shop} reach {links.height} pixels from the server: " + ", ".join(
                f"{p} ({m} orders)" for p, m in links.select("pixel", "matches").iter_rows()) + ".",
            evidence=evidence_from(ev), metrics={"shop": shop, "pixels": {p: int(m) for p, m in links.select("pixel", "matches").iter_rows()}},
        ))
    # per shop + connector in the server events, and server vs browser pixel where both are visible
    rows = ctx.select("kind", "shop", "connector", "pixel_id", "file", "line", "logged_at", "message", kinds=["server_event", "browser_event"],
                      where=pl.col("shop").is_not_null() & pl.col("pixel_id").is_not_null())
    srv = rows.filter(pl.col("kind") == "server_event").with_columns(pl.col("connector").cast(pl.String))
    per = srv.group_by(["shop", "connector"]).agg(pl.col("pixel_id").unique().sort()).filter(pl.col("pixel_id").list.len() > limit).sort(["shop", "connector"])
    done = {f.subject for f in findings}
    for shop, connector, pixels in per.iter_rows():
        if shop in done:
            continue
        ev = srv.filter((pl.col("shop") == shop) & (pl.col("connector").eq_missing(connector)))
        findings.append(ctx.finding(
            "pixel-id-mismatch", account=pixels[0], subject=shop, count=len(pixels), first_seen=ev["logged_at"].min(),
            last_seen=ev["logged_at"].max(), summary=f"{connector or 'The connector'} for {shop} sends server events to {len(pixels)} pixels: {', '.join(pixels)}.",
            evidence=evidence_from(ev), metrics={"shop": shop, "connector": connector, "pixels": pixels}))
        done.add(shop)
    sides = rows.with_columns(pl.col("kind").cast(pl.String)).group_by(["shop", "kind"]).agg(pl.col("pixel_id").unique().sort())
    s = {shop: set(p) for shop, k, p in sides.iter_rows() if k == "server_event"}
    b = {shop: set(p) for shop, k, p in sides.iter_rows() if k == "browser_event"}
    for shop in sorted(set(s) & set(b) - done):
        if s[shop] & b[shop] and s[shop] == b[shop]:
            continue
        if s[shop] & b[shop] and len(s[shop] | b[shop]) <= limit:
            continue
        ev = rows.filter(pl.col("shop") == shop)
        findings.append(ctx.finding(
            "pixel-id-mismatch", account=sorted(s[shop])[0], subject=shop, count=len(s[shop] | b[shop]),
            first_seen=ev["logged_at"].min(), last_seen=ev["logged_at"].max(),
            summary=f"For {shop} the server sends to pixel {', '.join(sorted(s[shop]))} but the browser uses {', '.join(sorted(b[shop]))}; the two copies can never deduplicate.",
            evidence=evidence_from(ev), metrics={"shop": shop, "server_pixels": sorted(s[shop]), "browser_pixels": sorted(b[shop])}))
    return findings


def totals_findings(ctx: CheckContext) -> list[Finding]:
    """Inputs covering different periods: the whole-input totals disagree, the aligned ones agree."""
    r = recon(ctx)
    max_disc = float(ctx.thresholds("totals-mismatch").get("max_discrepancy", 0.2))
    findings = []
    for account, win in sorted(r.windows.items()):
        if len(win["sources"]) < 2:
            continue
        all_orders = r.orders.filter((pl.col("account") == account) & pl.col("ignored").is_null())
        all_server = r.server.filter(pl.col("account") == account)
        if not all_server.height or not all_orders.height:
            continue
        offsets = sorted(set(all_orders["event_time_raw"].drop_nulls().str.extract(r"([+-]\d\d:?\d\d|Z)$", 1).drop_nulls().to_list()))
        raw_disc = abs(all_server.height - all_orders.height) / all_orders.height
        if not win["overlap"]:
            findings.append(ctx.finding(
                "totals-mismatch", account=account, count=all_orders.height,
                summary=f"The inputs do not overlap in time, so no window can be compared: {window_text(win).split(', ', 1)[1]}.",
                metrics={**window_metrics(win), "shop_utc_offsets": offsets}))
            continue
        o = all_orders.filter((pl.col("created") >= win["start"]) & (pl.col("created") <= win["end"])).height
        s = all_server.filter((pl.col("logged_at") >= win["start"]) & (pl.col("logged_at") <= win["end"])).height
        aligned_disc = abs(s - o) / o if o else None
        if raw_disc <= max_disc or aligned_disc is None or aligned_disc > max_disc:
            continue  # nothing to explain by the window (a real gap is another rule's)
        tz = f"; the shop writes times at UTC{offsets[0] if offsets[0] != 'Z' else '+00:00'}, compare Events Manager in the same zone" if offsets and offsets != ["Z"] else ""
        findings.append(ctx.finding(
            "totals-mismatch", account=account, count=abs(all_server.height - all_orders.height),
            first_seen=win["start"], last_seen=win["end"],
            summary=(f"Whole-input totals differ by {raw_disc:.0%} ({all_orders.height} orders vs {all_server.height} server Purchases) "
                     f"only because the inputs cover different periods; {window_text(win)} they agree within {aligned_disc:.0%} "
                     f"({o} orders vs {s} server Purchases){tz}."),
            metrics={**window_metrics(win), "orders_total": all_orders.height, "server_purchases_total": all_server.height,
                     "orders_aligned": o, "server_purchases_aligned": s, "shop_utc_offsets": offsets},
        ))
    return findings


CHECKS = (
    Check(name="reconciliation-key-events", rules=("key-events-missing",), run=key_event_findings, needs=("server_event",),
          description="Key event types seen in the browser or implied by orders but never sent server-side."),
    Check(name="reconciliation-pixels", rules=("pixel-id-mismatch",), run=pixel_findings, needs=("server_event",),
          description="More than one pixel per shop/connector; server pixel differs from the browser pixel."),
    Check(name="reconciliation-totals", rules=("totals-mismatch",), run=totals_findings, needs=("order",),
          description="Inputs covering different periods or time zones: which window was compared and why."),
)
