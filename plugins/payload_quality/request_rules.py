"""Request-level rules: test_event_code on production traffic; action_source
missing or unknown, website events without user agent or event_source_url,
and requests with more events than Meta accepts.

Counts of requests use ``batch_id`` (rows of one request share it), or the
row's ``file:line`` when a source has none.  A request whose event_source_url
host matches the ruleset's ``non_production_hosts`` counts as testing.
"""

from __future__ import annotations

import re

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from

from .common import counts, flagged_by_account, ongoing, plural, server_events, sources_knowing, span_text

TEST_RULE = "test-event-code-in-production"
SOURCE_RULE = "action-source-invalid"

#: Meta's action_source values (capi-rules.md §3).
ACTION_SOURCES = ("email", "website", "app", "phone_call", "chat", "physical_store", "system_generated",
                  "business_messaging", "other")

PROBLEM_TEXT = {
    "action_source_missing": "no action_source",
    "action_source_unknown": "an action_source Meta does not define",
    "website_without_user_agent": "website events without client_user_agent",
    "website_without_url": "website events without event_source_url",
    "website_url_not_http": "website events whose event_source_url is not an http(s) address",
    "request_over_limit": "events in requests over Meta's per-request limit",
}
ORDER = list(PROBLEM_TEXT)


def _send_key() -> pl.Expr:
    return pl.coalesce(pl.col("batch_id"), pl.format("{}:{}", "file", "line"))


def _host() -> pl.Expr:
    return pl.col("event_source_url").str.extract(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://([^/:?#@]+)", 1).str.to_lowercase()


def test_code_findings(ctx: CheckContext) -> list[Finding]:
    th = ctx.thresholds(TEST_RULE)
    min_count = int(th.get("min_count", 1))
    patterns = [p for p in (th.get("non_production_hosts") or []) if p]
    for p in patterns:
        re.compile(p)  # a broken user pattern fails loudly, naming the check
    ev = server_events(ctx, "test_event_code", "event_source_url", "batch_id")
    tagged = ev.filter(pl.col("test_event_code").str.strip_chars().fill_null("") != "")
    if tagged.is_empty():
        return []
    host = _host()
    if patterns:
        nonprod = pl.any_horizontal([host.str.contains(p) for p in patterns]).fill_null(False)
        tagged = tagged.filter(~nonprod)
    if tagged.is_empty():
        return []
    tagged = tagged.with_columns(_send_key().alias("_send"))
    sends = ev.with_columns(_send_key().alias("_send")).group_by("account").agg(
        pl.col("_send").n_unique().alias("requests"), pl.col("logged_at").max().alias("last"))
    info = {r["account"]: r for r in sends.iter_rows(named=True)}
    findings = []
    for account in tagged["account"].unique().sort().to_list():
        rows = tagged.filter(pl.col("account") == account)
        n_req = rows["_send"].n_unique()
        if n_req < min_count:
            continue
        total = int(info[account]["requests"])
        codes = counts(rows["test_event_code"].str.strip_chars())
        first, last = rows["logged_at"].min(), rows["logged_at"].max()
        findings.append(ctx.finding(
            TEST_RULE, account=account, count=n_req, first_seen=first, last_seen=last,
            ongoing=ongoing(rows, info[account]["last"]),
            summary=(f"{n_req} of {plural(total, 'request')} ({n_req / total:.0%}, {plural(rows.height, 'event')}) "
                     f"{span_text(first, last)} carry test_event_code "
                     + ", ".join(f"'{c}'" for c in list(codes)[:3])
                     + " on production traffic; Meta shows them in Test Events and still uses them."),
            evidence=evidence_from(rows),
            metrics={"requests_with_code": n_req, "requests": total, "events_with_code": rows.height, "codes": codes},
        ))
    return findings


def source_findings(ctx: CheckContext) -> list[Finding]:
    th = ctx.thresholds(SOURCE_RULE)
    min_count = int(th.get("min_count", 1))
    max_batch = int(th.get("max_batch_events", 1000))
    has_ua = "ud_client_user_agent" in ctx.columns
    ev = server_events(ctx, "source", "action_source", "event_source_url", "batch_id", "batch_size",
                       *(["ud_client_user_agent"] if has_ua else []), families=("context",))
    if ev.is_empty():
        return []
    src = pl.col("action_source").str.strip_chars()
    web = src == "website"
    url = pl.col("event_source_url").str.strip_chars()
    # a source that never logs user_data cannot show a missing user agent
    ua_known = pl.col("source").is_in(sources_knowing(ctx, "user_data")).fill_null(False)
    ua_ok = (pl.col("ud_client_user_agent").is_in(["present"]).fill_null(False) if has_ua else pl.lit(False)) | ~ua_known
    ev = ev.with_columns(_send_key().alias("_send"))
    size = pl.coalesce(pl.col("batch_size"), pl.len().over("_send"))
    ev = ev.with_columns(
        (src.is_null() | (src == "")).alias("action_source_missing"),
        (src.is_not_null() & (src != "") & ~src.is_in(ACTION_SOURCES)).alias("action_source_unknown"),
        (web & ~ua_ok).fill_null(False).alias("website_without_user_agent"),
        (web & (url.is_null() | (url == ""))).fill_null(False).alias("website_without_url"),
        (web & url.is_not_null() & (url != "") & ~url.str.contains(r"(?i)^https?://")).fill_null(False).alias("website_url_not_http"),
        (size > max_batch).fill_null(False).alias("request_over_limit"),
        size.alias("_size"),
    )
    findings = []
    for flagged in flagged_by_account(ev, ORDER, min_count):
        account, rows, found, total = flagged.account, flagged.rows, flagged.found, flagged.total
        first, last = rows["logged_at"].min(), rows["logged_at"].max()
        metrics: dict = {"server_events": total, "faulty_events": rows.height, "problems": found}
        parts = [f"{PROBLEM_TEXT[p]} x{n}" for p, n in found.items() if p != "request_over_limit"]
        if "request_over_limit" in found:
            big = rows.filter(pl.col("request_over_limit"))
            metrics["requests_over_limit"] = big["_send"].n_unique()
            metrics["largest_request_events"] = int(big["_size"].max())
            parts.append(f"{plural(metrics['requests_over_limit'], 'request')} with more than {max_batch} events "
                         f"(largest {metrics['largest_request_events']}; Meta rejects them)")
        unknown = rows.filter(pl.col("action_source_unknown"))["action_source"]
        if unknown.len():
            metrics["unknown_action_sources"] = counts(unknown)
        findings.append(ctx.finding(
            SOURCE_RULE, account=account, count=rows.height, first_seen=first, last_seen=last,
            ongoing=ongoing(rows, flagged.last_event),
            summary=(f"{rows.height} of {plural(total, 'server event')} {span_text(first, last)} "
                     f"break Meta's server-event rules: " + "; ".join(parts) + "."),
            evidence=evidence_from(rows), metrics=metrics,
        ))
    return findings


CHECKS = (
    Check(
        name="test-event-code-in-production",
        rules=(TEST_RULE,),
        run=test_code_findings,
        needs=("server_event",),
        description="Production requests carrying test_event_code (staging/local hosts excepted).",
    ),
    Check(
        name="action-source-invalid",
        rules=(SOURCE_RULE,),
        run=source_findings,
        needs=("server_event",),
        description="Missing/unknown action_source, website events without user agent or event_source_url, "
                    "requests over Meta's 1,000-event limit.",
    ),
)
