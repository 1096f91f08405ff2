"""Time-based aggregates of the canonical rows, per account.

Everything here is a vectorized Polars aggregation over ``AuditResult.rows``
(each function reads only the columns it needs; a canonical frame works too)
and returns numbers, times, account ids and fixed labels only: no message,
excerpt or customer value ever leaves this module, so charts built from it
cannot carry personal data.

* :func:`bucket_series` - per account and per hour or day (the bucket follows
  the account's evidence span, see :data:`HOURLY_MAX_SPAN`): backend orders,
  server purchases, server events sent, events accepted, events rejected or
  failed, and error lines.
* :func:`daily_series` - the compact per-day series the report dict carries
  (``accounts[i]["daily"]``), also used by the terminal sparkline.
* :func:`silence_windows` - long gaps in server events while the account's
  other evidence (connector lines, responses, orders) goes on;
  :func:`significant_silences` keeps those that cost sends (orders or
  browser events inside, or business hours when there is no such evidence),
  so an ordinary quiet night is not called a silence.
* :func:`error_bursts` - clusters of error lines close together in time.
* :func:`send_delays` - ``logged_at - event_time`` of server events, in
  seconds: median, p95 and a histogram over fixed, readable bins.
* :func:`parameter_coverage` - per ``ud_<key>``: share of server events with a
  usable state (``sha256``, ``sha256_suffixed``, ``present``) and share with a
  state that is present but wrong (clear text, MD5, placeholder ...).

Definitions (shared with :func:`auditor.accounts.account_summaries`):

* *sent* = server-event rows; for an account whose evidence holds no
  server-event rows at all (raw Graph API responses only) it is derived from
  the responses: ``batch_size``, else ``events_received``, else 1 per response.
* *accepted* = ``events_received`` (1 when absent) of success responses.
* *rejected* = events of error responses (``batch_size`` or 1 per response).
* *errors* = error lines (responses and connector status lines whose signal is
  one of :data:`ERROR_SIGNALS`), the same count as ``error_lines``.
* *orders* = backend orders as ``accounts[].orders`` counts them (test, draft
  and POS left out), in the hour they were created, under the pixel their
  shop's server Purchases went to (:func:`backend_orders_linked`), so a shop
  whose orders lack server purchases shows them on the pixel's timeline.

The account totals of these (``accounts[].server_events``, ``accepted_events``,
``rejected_events``) come from :mod:`auditor.accounts`, for the tables, the JSON
and the HTML cards alike.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from ..accounts import USABLE_STATES, accepted_events_expr, rejected_events_expr, response_events_expr
from ..rows import Readable, as_readable
from ..schema import ERROR_SIGNALS, USER_DATA_KEYS, plain
from ..zones import business_stretches, parse_business_hours

#: Accounts whose evidence spans at most this long get hourly buckets, longer spans daily ones.
HOURLY_MAX_SPAN = timedelta(days=7)

#: A gap in server events shorter than this is never called a silence.
DEFAULT_SILENCE_HOURS = 6.0
#: Lines logged this soon after the last send (its response, its error line) do
#: not count as "the account's evidence continues".
SILENCE_EVIDENCE_MARGIN = timedelta(minutes=5)

#: Opening hours a silence is judged against when an account has no order or
#: browser evidence (the ruleset's ``server-events-missing`` thresholds
#: ``business_hours`` / ``business_timezone`` override them) ...
#: ... and how many of a gap's hours must fall inside them for it to count.
MIN_BUSINESS_HOURS_SILENT = 3.0

#: Error lines closer than this belong to the same burst ...
BURST_GAP = timedelta(minutes=15)
#: ... and a burst needs at least this many error lines.
BURST_MIN_ERRORS = 5

#: Send-delay histogram bins: right-open upper edges in seconds, with labels.
DELAY_BREAKS = (0.0, 10.0, 60.0, 600.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0)
DELAY_LABELS = ("< 0 s (clock)", "0-10 s", "10-60 s", "1-10 min", "10-60 min", "1-6 h", "6-24 h", "1-7 d", "> 7 d")

SERIES_COLUMNS = ("orders", "server_purchases", "sent", "accepted", "rejected", "errors")


_FLAGS = ("orders", "server_purchases", "_server", "_sent_api", "accepted", "rejected", "errors")


def _base(data: Readable, orders: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per account and UTC hour (``logged_at`` truncated): the summed per-row
    flags.  Hours add up to any coarser bucket, and the result is small
    whatever the size of the evidence (the rows stream through the sums)."""
    kind, signal = pl.col("kind"), pl.col("signal")
    is_resp = kind.is_in(["api_response", "status"])
    is_err = is_resp & signal.is_in(list(ERROR_SIGNALS))
    placed = pl.col("account").is_not_null() & pl.col("logged_at").is_not_null()
    rows = data.select("account", "logged_at", "kind", "signal", "event_name", "batch_size", "events_received", where=placed).lazy()
    hour = pl.col("logged_at").dt.truncate("1h").alias("logged_at")
    sends = rows.select(
        "account",
        hour,
        ((kind == "server_event") & (pl.col("event_name") == "Purchase")).cast(pl.Int64).alias("server_purchases"),
        (kind == "server_event").cast(pl.Int64).alias("_server"),
        response_events_expr().alias("_sent_api"),
        accepted_events_expr().alias("accepted"),
        rejected_events_expr().alias("rejected"),
        is_err.cast(pl.Int64).alias("errors"),
    ).group_by("account", "logged_at").agg(pl.all().sum()).collect(engine="streaming")
    del rows
    # an order counts once, in the hour it was created, under the pixel its shop is linked to
    orders = _order_hours(backend_orders_linked(data) if orders is None else orders)
    sends = sends.with_columns(pl.col("account").cast(pl.String))
    both = pl.concat([sends, orders], how="diagonal_relaxed").group_by("account", "logged_at").agg(pl.col(_FLAGS).sum())
    return plain(both.with_columns(pl.col(_FLAGS).fill_null(0)).select("account", "logged_at", *_FLAGS))


def backend_orders_linked(data: Readable) -> pl.DataFrame:
    """Backend orders as the account table counts them: one row per order
    (test, draft and POS orders left out) with its creation time, under the
    pixel its shop's server Purchases went to (else under the shop).

    Columns: account (String), created.  Empty without order rows."""
    if not data.select("kind", kinds=["order"]).height:
        return pl.DataFrame(schema={"account": pl.String, "created": pl.Datetime("us", "UTC")})
    from ..orders_export import reconcile

    orders = reconcile(data)["orders"]
    return plain(orders.filter(pl.col("ignored").is_null() & pl.col("created").is_not_null())
                 .select(pl.col("account").cast(pl.String), "created"))


def _order_hours(orders: pl.DataFrame) -> pl.DataFrame:
    """Per account and UTC hour of creation: the number of backend orders."""
    return (orders.group_by("account", pl.col("created").dt.truncate("1h").alias("logged_at"))
            .agg(pl.len().cast(pl.Int64).alias("orders")))


def bucket_sizes(data: Readable) -> dict[str, str]:
    """``{account: "1h" | "1d"}`` from each account's evidence span."""
    spans = (
        plain(data.select("account", "logged_at", where=pl.col("account").is_not_null() & pl.col("logged_at").is_not_null()))
        .group_by("account")
        .agg((pl.col("logged_at").max() - pl.col("logged_at").min()).alias("span"))
    )
    return {a: ("1h" if s <= HOURLY_MAX_SPAN else "1d") for a, s in spans.iter_rows()}


def _bucketed(base: pl.DataFrame, every: dict[str, str]) -> pl.DataFrame:
    """Sum the flags per (account, bucket) and fill empty buckets with zeros."""
    if base.is_empty():
        return pl.DataFrame(schema={"account": pl.String, "bucket": base.schema["logged_at"], "every": pl.String,
                                    **{c: pl.Int64 for c in SERIES_COLUMNS}})
    every_df = pl.DataFrame({"account": list(every), "every": list(every.values())}, schema={"account": pl.String, "every": pl.String})
    base = base.join(every_df, on="account", how="inner")
    base = base.with_columns(
        pl.when(pl.col("every") == "1h").then(pl.col("logged_at").dt.truncate("1h"))
        .otherwise(pl.col("logged_at").dt.truncate("1d")).alias("bucket")
    )
    has_server = base.group_by("account").agg((pl.col("_server").sum() > 0).alias("_has_server"))
    sums = (
        base.group_by("account", "every", "bucket")
        .agg(pl.col("orders", "server_purchases", "_server", "_sent_api", "accepted", "rejected", "errors").sum())
        .join(has_server, on="account")
        .with_columns(pl.when(pl.col("_has_server")).then(pl.col("_server")).otherwise(pl.col("_sent_api")).alias("sent"))
    )
    grids = []
    for step in ("1h", "1d"):
        part = sums.filter(pl.col("every") == step)
        if part.is_empty():
            continue
        grids.append(
            part.group_by("account", "every")
            .agg(pl.datetime_ranges(pl.col("bucket").min(), pl.col("bucket").max(), interval=step).first().alias("bucket"))
            .explode("bucket")
        )
    grid = pl.concat(grids)
    return (
        grid.join(sums.select("account", "bucket", *SERIES_COLUMNS), on=["account", "bucket"], how="left")
        .with_columns(pl.col(list(SERIES_COLUMNS)).fill_null(0).cast(pl.Int64))
        .sort("account", "bucket")
        .select("account", "bucket", "every", *SERIES_COLUMNS)
    )


def bucket_series(data: Readable | pl.DataFrame, every: dict[str, str] | None = None,
                  orders: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per account and bucket: orders, server_purchases, sent, accepted,
    rejected, errors (zero-filled between the account's first and last bucket)."""
    data = as_readable(data)
    return _bucketed(_base(data, orders), every if every is not None else bucket_sizes(data))


def daily_series(data: Readable | pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """``{account: [{"date", "orders", "server_purchases", "server_events", "errors"}, ...]}``,
    one entry per UTC day from the account's first to its last day of evidence."""
    base = _base(as_readable(data))
    accounts = base["account"].unique().to_list()
    days = _bucketed(base, {a: "1d" for a in accounts})
    out: dict[str, list[dict[str, Any]]] = {}
    for account, bucket, orders, purchases, sent, errors in days.select(
        "account", "bucket", "orders", "server_purchases", "sent", "errors"
    ).iter_rows():
        out.setdefault(account, []).append({
            "date": bucket.date().isoformat(),
            "orders": orders,
            "server_purchases": purchases,
            "server_events": sent,
            "errors": errors,
        })
    return out


def silence_windows(data: Readable | pl.DataFrame, min_hours: float = DEFAULT_SILENCE_HOURS) -> pl.DataFrame:
    """Gaps of at least ``min_hours`` after a server event while other evidence
    of the same account continues (the gap ends at the next server event, or
    at the account's last line of evidence).  Responses to the sends and lines
    logged within :data:`SILENCE_EVIDENCE_MARGIN` of the last send do not count
    as continuing evidence.

    Columns: account, start, end, hours, evidence_rows.  For accounts without
    server-event rows, API responses stand for the sends.
    """
    rows = as_readable(data).select("account", "logged_at", "kind", where=pl.col("account").is_not_null() & pl.col("logged_at").is_not_null())
    empty = pl.DataFrame(schema={"account": pl.String, "start": rows.schema["logged_at"], "end": rows.schema["logged_at"],
                                 "hours": pl.Float64, "evidence_rows": pl.Int64})
    if rows.is_empty():
        return empty
    rows = rows.with_columns(((pl.col("kind") == "server_event").sum().over("account") > 0).alias("_has_server"))
    is_send = pl.when(pl.col("_has_server")).then(pl.col("kind") == "server_event").otherwise(pl.col("kind") == "api_response")
    rows = rows.sort("account", "logged_at", maintain_order=True).with_columns(
        is_send.alias("_send"),
        pl.col("logged_at").max().over("account").alias("_last"),
    ).with_columns(pl.when(pl.col("_send")).then(pl.col("logged_at")).alias("_t"))
    rows = rows.with_columns(
        pl.col("_t").forward_fill().over("account").alias("_prev"),
        pl.col("_t").backward_fill().over("account").alias("_next"),
    )
    other = (
        ~pl.col("_send") & pl.col("_prev").is_not_null()
        & ~(pl.col("_has_server") & (pl.col("kind") == "api_response"))
        & ((pl.col("logged_at") - pl.col("_prev")) > SILENCE_EVIDENCE_MARGIN)
    )
    gaps = (
        rows.filter(other)
        .group_by("account", "_prev")
        .agg(pl.len().cast(pl.Int64).alias("evidence_rows"), pl.col("_next").first(), pl.col("_last").first())
        .select(
            "account",
            pl.col("_prev").alias("start"),
            pl.coalesce("_next", "_last").alias("end"),
            "evidence_rows",
        )
        .with_columns(((pl.col("end") - pl.col("start")).dt.total_seconds() / 3600.0).round(1).alias("hours"))
        .filter(pl.col("hours") >= min_hours)
        .sort("account", "start")
        .select("account", "start", "end", "hours", "evidence_rows")
    )
    return gaps if gaps.height else empty


def _business_hours_inside(start: datetime, end: datetime, hours: tuple[time, time], zone: ZoneInfo) -> float:
    """Hours of ``start .. end`` that fall inside the daily opening hours in ``zone``."""
    total = sum(((b - a) for a, b in business_stretches(start, end, hours, zone)), timedelta())
    return round(total.total_seconds() / 3600.0, 1)


def _count_inside(times: dict[str, list[datetime]], account: str, start: datetime, end: datetime) -> int:
    """Items of ``times[account]`` (sorted) inside ``start .. end`` but more
    than :data:`SILENCE_EVIDENCE_MARGIN` away from both ends: what comes just
    after or before a send (its order, its browser copy) belongs to that send."""
    ts = times.get(account) or []
    return max(0, bisect_left(ts, end - SILENCE_EVIDENCE_MARGIN) - bisect_right(ts, start + SILENCE_EVIDENCE_MARGIN))


def significant_silences(data: Readable | pl.DataFrame, gaps: pl.DataFrame, business_hours: str | None = None,
                         business_timezone: str | None = None, orders: pl.DataFrame | None = None) -> pl.DataFrame:
    """The gaps of :func:`silence_windows` that cost something, with why.

    A gap is kept when backend orders or browser events of a kind the account
    sends server-side fall inside it (each should have produced a server
    event).  For an account without such order or browser evidence, a gap is kept
    when at least :data:`MIN_BUSINESS_HOURS_SILENT` of its hours lie inside
    business hours.
    An ordinary quiet night - nothing inside, outside opening hours - is not a
    silence.  Adds columns orders_inside, browser_inside, business_hours.
    """
    data = as_readable(data)
    cols = {"orders_inside": pl.Int64, "browser_inside": pl.Int64, "business_hours": pl.Float64}
    if gaps.is_empty():
        return gaps.with_columns(*(pl.lit(None, dtype=t).alias(c) for c, t in cols.items()))
    accounts = set(gaps["account"].cast(pl.String).to_list())
    linked = backend_orders_linked(data) if orders is None else orders
    created_at: dict[str, list[datetime]] = {}
    for account, created in linked.sort("created").iter_rows():
        if account in accounts:
            created_at.setdefault(account, []).append(created)
    sent_names = plain(data.select("account", "event_name", kinds=["server_event"], where=pl.col("account").is_not_null()
                                   & pl.col("event_name").is_not_null())).unique()
    browser = (
        plain(data.select("account", "logged_at", "event_name", kinds=["browser_event"],
                          where=pl.col("account").is_not_null() & pl.col("logged_at").is_not_null()))
        .with_columns(pl.col("account").cast(pl.String), pl.col("event_name").cast(pl.String))
    )
    browser = browser.join(sent_names.with_columns(pl.col("account").cast(pl.String), pl.col("event_name").cast(pl.String)),
                           on=["account", "event_name"], how="semi").sort("logged_at")
    hits: dict[str, list[datetime]] = {}
    for account, at in browser.select("account", "logged_at").iter_rows():
        hits.setdefault(account, []).append(at)
    hours = parse_business_hours(business_hours)
    zone = ZoneInfo(str(business_timezone or "UTC"))
    keep, extra = [], {c: [] for c in cols}
    for row in gaps.iter_rows(named=True):
        account = str(row["account"])
        o = _count_inside(created_at, account, row["start"], row["end"])
        b = _count_inside(hits, account, row["start"], row["end"])
        biz = _business_hours_inside(row["start"], row["end"], hours, zone)
        has_activity_evidence = account in created_at or account in hits
        keep.append(bool(o or b) or (not has_activity_evidence and biz >= MIN_BUSINESS_HOURS_SILENT))
        for c, v in zip(cols, (o, b, biz)):
            extra[c].append(v)
    out = gaps.with_columns(*(pl.Series(c, extra[c], dtype=t) for c, t in cols.items()))
    return out.filter(pl.Series(keep, dtype=pl.Boolean))


def error_bursts(data: Readable | pl.DataFrame, gap: timedelta = BURST_GAP, min_errors: int = BURST_MIN_ERRORS) -> pl.DataFrame:
    """Clusters of error lines less than ``gap`` apart with at least
    ``min_errors`` lines.  Columns: account, start, end, errors."""
    errs = as_readable(data).select("account", "logged_at", kinds=["api_response", "status"], where=(
        pl.col("account").is_not_null() & pl.col("logged_at").is_not_null() & pl.col("signal").is_in(list(ERROR_SIGNALS))
    )).sort("account", "logged_at")
    return (
        errs.with_columns(
            (pl.col("logged_at").diff().over("account").fill_null(gap) >= gap).cum_sum().over("account").alias("_cluster")
        )
        .group_by("account", "_cluster")
        .agg(pl.col("logged_at").min().alias("start"), pl.col("logged_at").max().alias("end"), pl.len().cast(pl.Int64).alias("errors"))
        .filter(pl.col("errors") >= min_errors)
        .sort("account", "start")
        .select("account", "start", "end", "errors")
    )


def _delays(data: Readable) -> pl.DataFrame:
    return data.select("account", "logged_at", "event_time", kinds=["server_event"], where=(
        pl.col("account").is_not_null() & pl.col("logged_at").is_not_null() & pl.col("event_time").is_not_null()
    )).select("account", ((pl.col("logged_at") - pl.col("event_time")).dt.total_microseconds() / 1e6).alias("delay_s"))


def send_delays(data: Readable | pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(stats, histogram) of server-event send delays in seconds.

    stats: account, events, median_s, p95_s, max_s, negative.
    histogram: account, bin (index into :data:`DELAY_LABELS`), label, events -
    every bin present for every account (zeros included).
    """
    d = _delays(as_readable(data))
    stats = d.group_by("account").agg(
        pl.len().cast(pl.Int64).alias("events"),
        pl.col("delay_s").median().alias("median_s"),
        pl.col("delay_s").quantile(0.95, interpolation="linear").alias("p95_s"),
        pl.col("delay_s").max().alias("max_s"),
        (pl.col("delay_s") < 0).sum().cast(pl.Int64).alias("negative"),
    ).sort("account")
    binned = d.with_columns(
        pl.sum_horizontal([(pl.col("delay_s") >= b).cast(pl.Int64) for b in DELAY_BREAKS]).alias("bin")
    ).group_by("account", "bin").agg(pl.len().cast(pl.Int64).alias("events"))
    grid = stats.select("account").join(
        pl.DataFrame({"bin": list(range(len(DELAY_LABELS))), "label": list(DELAY_LABELS)},
                     schema={"bin": pl.Int64, "label": pl.String}), how="cross")
    hist = (
        grid.join(binned, on=["account", "bin"], how="left")
        .with_columns(pl.col("events").fill_null(0))
        .sort("account", "bin")
    )
    return stats, hist


def parameter_coverage(data: Readable | pl.DataFrame) -> pl.DataFrame:
    """Per account and ``ud_<key>``: server events, usable share, wrong share,
    and the usable share on Purchase events alone (null without purchases).

    Columns: account, key, events, usable, wrong, purchases, purchase_usable
    (shares 0..1; ``wrong`` = present in a state that is not usable, e.g. clear
    text or MD5)."""
    cols = [f"ud_{k}" for k in USER_DATA_KEYS]
    server = as_readable(data).select("account", "event_name", *cols, kinds=["server_event"], where=pl.col("account").is_not_null())
    if server.is_empty() or not cols:
        return pl.DataFrame(schema={"account": pl.String, "key": pl.String, "events": pl.Int64, "usable": pl.Float64,
                                    "wrong": pl.Float64, "purchases": pl.Int64, "purchase_usable": pl.Float64})
    long = server.select("account", (pl.col("event_name") == "Purchase").fill_null(False).alias("_purchase"), *cols).unpivot(
        index=["account", "_purchase"], on=cols, variable_name="key", value_name="state"
    )
    usable = pl.col("state").is_in(list(USABLE_STATES)).fill_null(False)
    order = pl.DataFrame({"key": cols, "_order": list(range(len(cols)))}, schema={"key": pl.String, "_order": pl.Int64})
    return (
        long.group_by("account", "key")
        .agg(
            pl.len().cast(pl.Int64).alias("events"),
            usable.mean().alias("usable"),
            (pl.col("state").is_not_null() & ~usable).mean().alias("wrong"),
            pl.col("_purchase").sum().cast(pl.Int64).alias("purchases"),
            usable.filter(pl.col("_purchase")).mean().alias("purchase_usable"),
        )
        .join(order, on="key")
        .with_columns(pl.col("key").str.strip_prefix("ud_"))
        .sort("account", "_order")
        .drop("_order")
    )


@dataclass
class AccountTimeline:
    """Everything the HTML report draws for one account (no PII inside)."""

    account: str
    every: str  # "1h" | "1d"
    series: pl.DataFrame
    silences: list[dict[str, Any]] = field(default_factory=list)
    bursts: list[dict[str, Any]] = field(default_factory=list)
    delay: dict[str, Any] | None = None
    delay_hist: list[tuple[str, int]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)


def account_timelines(data: Readable | pl.DataFrame, silence_hours: float = DEFAULT_SILENCE_HOURS,
                      business_hours: str | None = None, business_timezone: str | None = None) -> dict[str, AccountTimeline]:
    """All the aggregates above, computed once for all the rows and split per account
    (silences: only the significant ones, see :func:`significant_silences`)."""
    data = as_readable(data)
    every = bucket_sizes(data)
    orders = backend_orders_linked(data)  # matched once, used by the series and the silences
    series = bucket_series(data, every, orders)
    silences = significant_silences(data, silence_windows(data, silence_hours), business_hours, business_timezone, orders)
    bursts = error_bursts(data)
    stats, hist = send_delays(data)
    coverage = parameter_coverage(data)
    out: dict[str, AccountTimeline] = {}
    parts = series.partition_by("account", as_dict=True) if series.height else {}
    for (account,), part in sorted(parts.items()):
        out[account] = AccountTimeline(account=account, every=every[account], series=part.drop("account", "every"))
    for row in silences.iter_rows(named=True):
        if row["account"] in out:
            out[row["account"]].silences.append({k: row[k] for k in (
                "start", "end", "hours", "evidence_rows", "orders_inside", "browser_inside", "business_hours")})
    for row in bursts.iter_rows(named=True):
        if row["account"] in out:
            out[row["account"]].bursts.append({k: row[k] for k in ("start", "end", "errors")})
    for row in stats.iter_rows(named=True):
        if row["account"] in out:
            out[row["account"]].delay = {k: row[k] for k in ("events", "median_s", "p95_s", "max_s", "negative")}
    for account, label, events in hist.select("account", "label", "events").iter_rows():
        if account in out:
            out[account].delay_hist.append((label, events))
    for row in coverage.iter_rows(named=True):
        if row["account"] in out:
            out[row["account"]].coverage.append(
                {k: row[k] for k in ("key", "events", "usable", "wrong", "purchases", "purchase_usable")})
    return out


def as_naive_utc(ts: datetime) -> datetime:
    """A UTC-aware datetime as naive UTC (what plotting libraries expect)."""
    return ts.replace(tzinfo=None) if ts.tzinfo is not None else ts
