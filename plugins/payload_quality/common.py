"""Helpers shared by the payload-quality checks (no diagnosis logic here)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from auditor import CheckContext
from auditor.match_quality import ESTIMATE_LABEL  # noqa: F401 - the checks of this package import it from here
from auditor.schema import USER_DATA_KEYS, plain
from auditor.wording import fmt_duration, fmt_time, plural, span_text  # noqa: F401 - the checks of this package import them from here

#: ``kind`` of the rows these checks read.
SERVER = "server_event"

_MS_RAW = r"^\d{12,14}(?:\.\d+)?$"
_ISO_RAW = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d"


#: Column families of a payload.  A null column means "absent from the payload"
#: only when the source logged the payload at all; a sender log that records
#: just the event name and the response leaves them all null ("not known").
FAMILIES = {
    "event_time": ("event_time_raw",),
    "custom_data": ("value_raw", "currency"),
    "context": ("action_source", "event_source_url"),
    "user_data": tuple(f"ud_{k}" for k in USER_DATA_KEYS),
}


def sources_knowing(ctx: CheckContext, family: str) -> list[str]:
    """Sources that fill ``family`` on at least one of their server events."""
    cols = [c for c in FAMILIES[family] if c in ctx.columns]
    if not cols:
        return []
    return (
        ctx.select("source", kinds=[SERVER], where=pl.any_horizontal([pl.col(c).is_not_null() for c in cols]))
        .get_column("source").drop_nulls().unique().cast(pl.String).sort().to_list()
    )


def _known(ctx: CheckContext, families: tuple[str, ...]) -> pl.Expr:
    """Rows whose payload was seen (some payload column filled) and whose source
    fills each family on at least one of its server events."""
    cols = {f: [c for c in FAMILIES[f] if c in ctx.columns] for f in FAMILIES}
    seen = pl.any_horizontal([pl.col(c).is_not_null() for f in cols for c in cols[f]] or [pl.lit(False)])
    cond = seen
    for f in families:
        cond = cond & pl.col("source").is_in(sources_knowing(ctx, f)).fill_null(False)
    return cond


def server_events(ctx: CheckContext, *columns: str, families: tuple[str, ...] = ()) -> pl.DataFrame:
    """Server-event rows with an account, restricted to ``columns`` (plus the
    provenance columns evidence needs).  With ``families``, only rows whose
    payload was logged by a source that captures those fields (so a null there
    really means "absent from the payload")."""
    keep = list(dict.fromkeys(("account", "logged_at", "file", "line", "message", *columns)))
    where = pl.col("account").is_not_null()
    if families:
        where = where & _known(ctx, families)
    # ud_* states stay an Enum (1 byte a row; == / is_in with state names work
    # as on text): as strings, fifteen of them cost 240 bytes a row
    return plain(ctx.select(*keep, kinds=[SERVER], where=where), *(c for c in columns if not c.startswith("ud_")))


def raw_time_kind() -> pl.Expr:
    """``seconds`` | ``milliseconds`` | ``iso`` | ``other`` | null for ``event_time_raw``."""
    raw = pl.col("event_time_raw").str.strip_chars()
    return (
        pl.when(raw.is_null() | (raw == "")).then(None)
        .when(pl.col("event_time").is_not_null()).then(pl.lit("seconds"))
        .when(raw.str.contains(_MS_RAW)).then(pl.lit("milliseconds"))
        .when(raw.str.contains(_ISO_RAW)).then(pl.lit("iso"))
        .otherwise(pl.lit("other"))
    )


def with_claimed_time(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``claimed`` (UTC datetime) = ``event_time``, or for millisecond and
    ISO values (which sources leave null in ``event_time``) the time the raw
    text means.  Only the few odd rows are parsed."""
    odd_mask = pl.col("event_time").is_null() & pl.col("event_time_raw").is_not_null()
    if not df.select(odd_mask.any()).item():
        return df.with_columns(pl.col("event_time").alias("claimed"))
    df = df.with_row_index("_ord")
    normal = df.filter(~odd_mask).with_columns(pl.col("event_time").alias("claimed"))
    odd = df.filter(odd_mask)
    raw = pl.col("event_time_raw").str.strip_chars()
    ms = pl.from_epoch(raw.str.extract(r"^(\d{12,14})", 1).cast(pl.Int64, strict=False), time_unit="ms")
    iso_aware = raw.str.to_datetime("%+", time_zone="UTC", strict=False, time_unit="us")
    iso_naive = raw.str.replace(" ", "T").str.slice(0, 19).str.to_datetime(
        "%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us"
    ).dt.replace_time_zone("UTC")
    odd = odd.with_columns(
        pl.when(raw.str.contains(_MS_RAW)).then(ms.dt.cast_time_unit("us").dt.replace_time_zone("UTC"))
        .when(raw.str.contains(_ISO_RAW)).then(pl.coalesce(iso_aware, iso_naive))
        .alias("claimed")
    )
    return pl.concat([normal, odd], how="vertical_relaxed").sort("_ord").drop("_ord")


def ud_detail(key: str) -> pl.Expr:
    """The ``extra.ud_detail.<key>`` fact a source derived at parse time
    (e.g. ``seconds_unit`` for fbc); null when absent."""
    extra = pl.col("extra")
    return pl.when(extra.str.contains('"ud_detail"', literal=True)).then(
        extra.str.json_path_match(f"$.ud_detail.{key}")
    )


def backend_orders(ctx: CheckContext) -> pl.DataFrame:
    """One row per backend order id: ``order_id``, ``_o_time`` (creation time:
    the order row's ``event_time``, else ``logged_at``), ``_o_value`` (last
    known total) and ``_o_currency``.  Server events and orders usually come
    from different sources with different shop names (storefront domain vs
    ``x.myshopify.com``), so orders are matched by id alone; an id seen for
    more than one shop is ambiguous and left out."""
    orders = plain(ctx.select("order_id", "shop", "event_time", "logged_at", "value", "currency",
                              kinds=["order"], where=pl.col("order_id").is_not_null()), "currency")
    if orders.is_empty():
        return pl.DataFrame(schema={"order_id": pl.String, "_o_time": pl.Datetime("us", "UTC"),
                                    "_o_value": pl.Float64, "_o_currency": pl.String})
    return (
        orders.sort("logged_at", nulls_last=False)
        .group_by("order_id", maintain_order=True)
        .agg(
            pl.col("shop").drop_nulls().n_unique().alias("_shops"),
            pl.coalesce("event_time", "logged_at").drop_nulls().min().alias("_o_time"),
            pl.col("value").drop_nulls().last().alias("_o_value"),
            pl.col("currency").drop_nulls().last().str.to_uppercase().alias("_o_currency"),
        )
        .filter(pl.col("_shops") <= 1)
        .drop("_shops")
    )


def counts(series: pl.Series) -> dict[str, int]:
    """Value counts as a plain dict, largest first then by name (deterministic)."""
    if series.is_empty():
        return {}
    vc = series.drop_nulls().value_counts(name="n")
    vc = vc.sort(["n", series.name], descending=[True, False])
    return {str(k): int(n) for k, n in vc.iter_rows()}


def ongoing(bad: pl.DataFrame, group_last: datetime | None) -> bool | None:
    """Still visible at the end of the evidence: the group's latest event is affected."""
    last = bad["logged_at"].max() if bad.height else None
    if last is None or group_last is None:
        return None
    return last >= group_last


@dataclass
class FlaggedAccount:
    """One account's server events that raise at least one problem flag."""

    account: str
    rows: pl.DataFrame  # the flagged events
    found: dict[str, int]  # flag -> events raising it (flags in the caller's order, zeros left out)
    total: int  # all server events of the account
    last_event: datetime | None  # the account's newest server event (for :func:`ongoing`)


def flagged_by_account(ev: pl.DataFrame, flags: Iterable[str], min_count: int) -> Iterator[FlaggedAccount]:
    """Accounts (in id order) with at least ``min_count`` events of ``ev`` where
    one of the boolean ``flags`` columns is set."""
    flags = list(flags)
    bad = ev.filter(pl.any_horizontal(flags))
    if bad.is_empty():
        return
    per_account = {a: (n, last) for a, n, last in ev.group_by("account").agg(pl.len(), pl.col("logged_at").max()).iter_rows()}
    for account in bad["account"].unique().sort().to_list():
        rows = bad.filter(pl.col("account") == account)
        if rows.height < min_count:
            continue
        sums = rows.select([pl.col(p).sum() for p in flags]).row(0, named=True)
        total, last_event = per_account[account]
        yield FlaggedAccount(account, rows, {p: int(sums[p]) for p in flags if sums[p]}, int(total), last_event)


def groups(df: pl.DataFrame, by: list[str]) -> Iterable[tuple[tuple[Any, ...], pl.DataFrame]]:
    """``group_by`` in a deterministic order (small aggregates only)."""
    return sorted(df.group_by(by), key=lambda kv: tuple("" if v is None else str(v) for v in kv[0]))
