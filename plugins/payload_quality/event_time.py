"""event-time-wrong: event_time in the wrong unit, format, zone or source, and
fbc/fbp values with a wrong creation-time unit or format.

Per server event: event_time missing; in milliseconds (13 digits) or as an
ISO string (sources leave ``event_time`` null for those and keep the text in
``event_time_raw``); more than ``future_tolerance_seconds`` after the send time;
older than ``max_age_days`` at send (``physical_store_max_age_days`` for
physical_store), which makes Meta reject the whole request.  fbc/fbp whose
state is ``malformed``, with the reason a source put in ``extra.ud_detail``
(``seconds_unit``, ``fbclid_lowercased``, ``url_inside``).

With backend ``order`` rows of the same order id (order creation time =
``event_time`` of the order row, else its ``logged_at``): event_time equal to
the send time while the order is much older (processing time sent), and a
constant whole-hour offset against the order times (time zone).  One finding
per account.
"""

from __future__ import annotations

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from

from .common import backend_orders, flagged_by_account, fmt_duration, ongoing, plural, raw_time_kind, server_events, span_text, ud_detail, with_claimed_time

RULE = "event-time-wrong"

PROBLEM_TEXT = {
    "missing": "no event_time",
    "milliseconds": "event_time in milliseconds instead of seconds",
    "iso": "event_time as a date string instead of Unix seconds",
    "unparseable": "an event_time that is not a timestamp",
    "future": "event_time in the future relative to the send time",
    "too_old": "event_time older than Meta's limit at send (the whole request is rejected)",
    "processing_time": "event_time equal to the send time while the order is much older (processing time)",
    "timezone_offset": "event_time shifted from the order time by whole hours (time zone)",
    "fbc_seconds_unit": "fbc creationTime in seconds instead of milliseconds",
    "fbc_fbclid_lowercased": "fbc with a lower-cased fbclid (the click id is case-sensitive)",
    "fbc_url_inside": "fbc holding a URL or 'fbclid=' instead of the click id",
    "fbc_malformed": "fbc not in the fb.<n>.<ms>.<fbclid> format",
    "fbp_seconds_unit": "fbp creationTime in seconds instead of milliseconds",
    "fbp_malformed": "fbp not in the fb.<n>.<ms>.<random> format",
}
ORDER = list(PROBLEM_TEXT)


def _order_checks(ev: pl.DataFrame, orders: pl.DataFrame, th: dict) -> tuple[pl.DataFrame, dict[str, int]]:
    """``(flags, offsets)``: per event index the processing-time / time-zone flags,
    and per account the whole-hour offset judged a time-zone bug."""
    send_tol = float(th.get("send_time_tolerance_seconds", 60))
    gap_min = float(th.get("processing_time_min_gap_seconds", 3600))
    tz_tol = float(th.get("timezone_tolerance_seconds", 120))
    tz_share = float(th.get("timezone_min_share", 0.8))
    min_matched = int(th.get("min_matched_orders", 3))
    pairs = (
        ev.filter(pl.col("order_id").is_not_null() & pl.col("claimed").is_not_null())
        .select("_i", "account", "order_id", "logged_at", "claimed")
        .join(orders.select("order_id", "_o_time"), on="order_id", how="inner")
        .with_columns(
            (pl.col("claimed") - pl.col("_o_time")).dt.total_seconds(fractional=True).alias("_off"),
            (pl.col("logged_at") - pl.col("claimed")).dt.total_seconds(fractional=True).abs().alias("_to_send"),
        )
        .with_columns(
            ((pl.col("_to_send") <= send_tol) & (pl.col("_off") >= gap_min)).fill_null(False).alias("processing_time"),
            (pl.col("_off") / 3600).round(0).cast(pl.Int64).alias("_hours"),
        )
        .with_columns(
            ((pl.col("_off") - pl.col("_hours") * 3600).abs() <= tz_tol).alias("_whole"),
        )
    )
    offsets: dict[str, int] = {}
    judged = pairs.filter(~pl.col("processing_time"))
    if judged.height:
        by = (
            judged.group_by("account", "_hours")
            .agg(pl.col("_whole").sum().alias("k"))
            .join(judged.group_by("account").agg(pl.len().alias("n")), on="account")
            .filter((pl.col("_hours") != 0) & (pl.col("n") >= min_matched) & (pl.col("k") >= pl.col("n") * tz_share))
        )
        offsets = {a: int(h) for a, h, *_ in by.iter_rows()}
    flags = pairs.with_columns(
        (pl.col("_whole") & pl.col("_hours").eq(pl.col("account").replace_strict(offsets, default=None, return_dtype=pl.Int64)))
        .fill_null(False).alias("timezone_offset")
    ).select("_i", "processing_time", "timezone_offset")
    return flags, offsets


def timezone_offsets(ctx: CheckContext, ev: pl.DataFrame, orders: pl.DataFrame) -> dict[str, int]:
    """Per account: the whole-hour offset of event_time against the backend
    order times that this rule reports as a time-zone bug.  ``ev`` holds
    ``account``, ``order_id``, ``logged_at`` and ``claimed``; ``orders`` is
    :func:`backend_orders`.  Other checks use it not to measure against a
    clock shown to be shifted."""
    orders = orders.filter(pl.col("_o_time").is_not_null())
    if orders.is_empty():
        return {}
    return _order_checks(ev.with_row_index("_i"), orders, ctx.thresholds(RULE))[1]


def time_findings(ctx: CheckContext) -> list[Finding]:
    th = ctx.thresholds(RULE)
    min_count = int(th.get("min_count", 1))
    max_age = float(th.get("max_age_days", 7)) * 86400
    store_age = float(th.get("physical_store_max_age_days", 62)) * 86400
    future_tol = float(th.get("future_tolerance_seconds", 300))
    cols = [c for c in ("ud_fbc", "ud_fbp") if c in ctx.columns]
    ev = server_events(ctx, "event_name", "event_time", "event_time_raw", "action_source", "order_id", "extra", *cols,
                       families=("event_time",))
    if ev.is_empty():
        return []
    ev = with_claimed_time(ev.with_row_index("_i")).with_columns(raw_time_kind().alias("_raw_kind"))
    lag = (pl.col("logged_at") - pl.col("claimed")).dt.total_seconds(fractional=True)
    limit = pl.when(pl.col("action_source") == "physical_store").then(pl.lit(store_age)).otherwise(pl.lit(max_age))
    flags = [
        (pl.col("event_time_raw").is_null() | (pl.col("event_time_raw").str.strip_chars() == "")).alias("missing"),
        (pl.col("_raw_kind") == "milliseconds").fill_null(False).alias("milliseconds"),
        (pl.col("_raw_kind") == "iso").fill_null(False).alias("iso"),
        (pl.col("claimed").is_null() & pl.col("_raw_kind").is_in(["other", "iso"])).fill_null(False).alias("unparseable"),
        (-lag > future_tol).fill_null(False).alias("future"),
        (lag > limit).fill_null(False).alias("too_old"),
        pl.lit(False).alias("fbc_seconds_unit"), pl.lit(False).alias("fbc_fbclid_lowercased"),
        pl.lit(False).alias("fbc_url_inside"), pl.lit(False).alias("fbc_malformed"),
        pl.lit(False).alias("fbp_seconds_unit"), pl.lit(False).alias("fbp_malformed"),
    ]
    ev = ev.with_columns(*flags, lag.alias("_lag"))
    for key in ("fbc", "fbp"):
        col = f"ud_{key}"
        if col not in ev.columns:
            continue
        bad = ev.filter(pl.col(col) == "malformed").select("_i", ud_detail(key).fill_null("malformed").alias("_why"))
        if bad.is_empty():
            continue
        marks = bad.with_columns(
            [(pl.col("_why") == reason).alias(f"{key}_{reason}") for reason in ("seconds_unit", "fbclid_lowercased", "url_inside", "malformed")
             if f"{key}_{reason}" in PROBLEM_TEXT]
        ).drop("_why")
        ev = ev.update(marks, on="_i", how="left")
    orders = backend_orders(ctx).filter(pl.col("_o_time").is_not_null())
    offsets: dict[str, int] = {}
    if orders.height:
        order_flags, offsets = _order_checks(ev, orders, th)
        ev = ev.with_columns(pl.lit(False).alias("processing_time"), pl.lit(False).alias("timezone_offset"))
        ev = ev.update(order_flags, on="_i", how="left")
    else:
        ev = ev.with_columns(pl.lit(False).alias("processing_time"), pl.lit(False).alias("timezone_offset"))
    findings = []
    for flagged in flagged_by_account(ev, ORDER, min_count):
        account, rows, found = flagged.account, flagged.rows, flagged.found
        first, last = rows["logged_at"].min(), rows["logged_at"].max()
        metrics: dict = {"server_events": flagged.total, "faulty_events": rows.height, "problems": found}
        notes = []
        if "too_old" in found:
            oldest = rows.filter(pl.col("too_old"))["_lag"].max()
            metrics["oldest_at_send_days"] = round(oldest / 86400, 1)
            notes.append(f"the oldest was {fmt_duration(oldest)} old when sent")
        if "future" in found:
            ahead = -rows.filter(pl.col("future"))["_lag"].min()
            metrics["furthest_future_seconds"] = round(ahead, 1)
            notes.append(f"up to {fmt_duration(ahead)} ahead of the send time")
        if "timezone_offset" in found:
            metrics["timezone_offset_hours"] = offsets[account]
            notes.append(f"a constant offset of {offsets[account]:+d} h against the backend order times")
        text = ", ".join(f"{PROBLEM_TEXT[p]} x{n}" for p, n in found.items())
        summary = (f"{rows.height} of {plural(flagged.total, 'server event')} {span_text(first, last)} "
                   f"have a wrong event_time or click/browser id time: {text}"
                   + (f" ({'; '.join(notes)})" if notes else "") + ".")
        findings.append(ctx.finding(
            RULE, account=account, count=rows.height, first_seen=first, last_seen=last,
            ongoing=ongoing(rows, flagged.last_event), summary=summary,
            evidence=evidence_from(rows), metrics=metrics,
        ))
    return findings


CHECK = Check(
    name="event-time-wrong",
    rules=(RULE,),
    run=time_findings,
    needs=("server_event",),
    description="event_time in ms / ISO / future / older than Meta's limit, processing time or a whole-hour "
                "offset against backend orders; fbc/fbp in seconds, lower-cased fbclid or malformed.",
)
