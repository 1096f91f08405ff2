"""Backend orders reconciled against server and browser Purchase events.

Shared by the reconciliation checks (``capi_auditor_plugins.reconciliation``)
and ``capi-audit audit --orders-out FILE``.  Everything here is vectorized
Polars over the canonical rows (read a few columns at a time); no customer data leaves it (the export has
ids, times, flags and the shop domain only).

Matching: an order is known by its backend id, its order number and its name
(``#1001``), each *normalised* (lowercase, ``#``/``order_``-style prefixes
dropped), so ``order_123``, ``#123`` and ``123`` meet.  A server or browser
Purchase is keyed by its ``order_id`` (else its ``event_id``).  When a key fits
orders of several shops, the order created closest in time wins (within
``match_window_hours``).  A matched server Purchase links its pixel to the
order's shop.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from .rows import CanonicalRows, as_readable
from .schema import plain

if TYPE_CHECKING:
    from .rows import Readable

#: Signals of answers that mean "the request failed".
FAIL_SIGNALS = ("graph_error", "transport_error", "server_error_page")
#: event_id values that cannot deduplicate anything.
PLACEHOLDER_IDS = ("", "undefined", "null", "none", "nan", "0", "false", "true")

ORDER_COLUMNS = ("order_id", "shop", "account", "created", "ignored", "server_sent", "accepted", "browser_seen",
                 "event_id_consistent", "value_match", "currency_match")


#: An order id with an optional prefix: ``order_1001``, ``wc-1001``, ``#1001``.
_PREFIXED_NUMBER = r"^(?:order|ord|wc|shopify|purchase)?[_\-\s#:]*\d+$"
#: Every character such a prefix can have (stripped to leave the number).
_PREFIX_CHARS = "orderwcshopifypurchase_-#: \t\n\r\f\v"


def norm_key(expr: pl.Expr) -> pl.Expr:
    """An id as it is compared across systems: ``#1001``, ``order_1001``,
    ``ORDER-1001`` and ``1001`` all become ``1001``; placeholders become null."""
    return expr.map_batches(_norm_ids, return_dtype=pl.String)


def _norm_ids(ids: pl.Series) -> pl.Series:
    """:func:`norm_key` on a whole column, step by step: as one expression the
    cleaned text would be recomputed for every branch that uses it (it runs on
    every event id of an audit).  A match test and a character strip stand in
    for a regex replace with a capture, which is several times slower."""
    s = ids.cast(pl.String).str.strip_chars().str.to_lowercase().str.strip_prefix("#")
    s = s.zip_with(~s.str.contains(_PREFIXED_NUMBER).fill_null(False), s.str.strip_chars_start(_PREFIX_CHARS))
    return s.zip_with(~s.is_in(PLACEHOLDER_IDS).fill_null(True), pl.repeat(None, len(s), dtype=pl.String, eager=True))


def usable_event_id() -> pl.Expr:
    """event_id present and not a placeholder / unfilled template."""
    e = pl.col("event_id").cast(pl.String).str.strip_chars()
    return (e.is_not_null() & ~e.str.to_lowercase().is_in(PLACEHOLDER_IDS) & ~e.str.contains(r"\{\{|\$\{|%%")).fill_null(False)


def backend_orders(data: "Readable") -> pl.DataFrame:
    """One row per (shop, order_id): created (UTC), ignored reason, value, currency, number, name."""
    rows = plain(data.select("kind", "source", "file", "line", "logged_at", "event_time", "event_time_raw", "shop", "account",
                             "order_id", "value", "currency", "extra", kinds=["order"], where=pl.col("order_id").is_not_null()))
    rows = rows.with_columns(
        pl.coalesce("shop", "account").alias("shop"),
        pl.coalesce("event_time", "logged_at").alias("created"),
        pl.col("extra").str.json_path_match("$.ignored").alias("ignored"),
        pl.col("extra").str.json_path_match("$.order_number").alias("order_number"),
        pl.col("extra").str.json_path_match("$.name").alias("order_name"),
    )
    # several deliveries per order (create, paid, updated): the first sighting
    # gives the creation time; the last known ignored reason wins
    return (
        rows.sort(["logged_at", "file", "line"], nulls_last=True)
        .group_by(["shop", "order_id"], maintain_order=True)
        .agg(
            pl.col("created").min(), pl.col("logged_at").min().alias("first_logged"), pl.col("ignored").drop_nulls().last(),
            pl.col("value").drop_nulls().first(), pl.col("currency").drop_nulls().first(),
            pl.col("order_number").drop_nulls().first(), pl.col("order_name").drop_nulls().first(),
            pl.col("source").first(), pl.col("event_time_raw").drop_nulls().first(),
        )
        .sort(["shop", "created", "order_id"])
    )


def order_keys(orders: pl.DataFrame) -> pl.DataFrame:
    """The keys a purchase event can name an order by (id, number, name; normalised)."""
    parts = [orders.select("shop", "order_id", "created", norm_key(pl.col(c)).alias("key"))
             for c in ("order_id", "order_number", "order_name")]
    return pl.concat(parts).drop_nulls("key").unique(["shop", "order_id", "key"]).rename({"created": "_created"})


def batch_outcomes(data: "Readable") -> pl.DataFrame:
    """Per batch_id: ``accepted`` (a success answer) and ``rejected`` (only failures)."""
    ans = data.select("batch_id", "signal", where=pl.col("batch_id").is_not_null() & pl.col("signal").is_in(["success", *FAIL_SIGNALS]))
    return ans.group_by("batch_id").agg(
        (pl.col("signal") == "success").any().alias("accepted"),
        pl.col("signal").is_in(FAIL_SIGNALS).any().alias("_failed"),
    ).select("batch_id", "accepted", (~pl.col("accepted") & pl.col("_failed")).alias("rejected"))


def purchase_events(data: "Readable", kind: str) -> pl.DataFrame:
    """Purchase rows of ``kind`` (server_event / browser_event) with their match key
    (and, for server events, the outcome of their request)."""
    rows = data.select(
        "kind", "file", "line", "logged_at", "event_time", "account", "pixel_id", "shop", "connector", "event_name", "event_id",
        "order_id", "value", "currency", "action_source", "event_source_url", "batch_id", "ud_fbp", "message",
        kinds=[kind], where=pl.col("event_name") == "Purchase",
    )
    rows = plain(rows).with_row_index("_row").with_columns(
        pl.coalesce(norm_key(pl.col("order_id")), norm_key(pl.col("event_id"))).alias("key"),
    )
    if kind == "server_event":
        rows = rows.join(batch_outcomes(data), on="batch_id", how="left", maintain_order="left").with_columns(
            pl.col("accepted").fill_null(False), pl.col("rejected").fill_null(False))
    return rows


def match_orders(events: pl.DataFrame, orders: pl.DataFrame, window_hours: float = 168) -> pl.DataFrame:
    """``events`` with ``m_shop`` / ``m_order_id`` of the order each one belongs to (null = none)."""
    keys = order_keys(orders)
    cand = events.select("_row", "key", pl.coalesce("event_time", "logged_at").alias("_t")).drop_nulls("key").join(keys, on="key", how="inner")
    cand = cand.with_columns((pl.col("_t") - pl.col("_created")).abs().alias("_d")).filter(
        pl.col("_d").is_null() | (pl.col("_d") <= timedelta(hours=window_hours)))
    best = cand.sort(["_row", "_d", "shop", "order_id"], nulls_last=True).unique("_row", keep="first", maintain_order=True)
    best = best.select("_row", pl.col("shop").alias("m_shop"), pl.col("order_id").alias("m_order_id"))
    return events.join(best, on="_row", how="left", maintain_order="left")


def shop_links(server: pl.DataFrame) -> pl.DataFrame:
    """(shop, pixel, matches) for every pair a matched server Purchase proves;
    ``primary`` marks the pixel with most matches for the shop."""
    pairs = (
        server.filter(pl.col("m_shop").is_not_null() & pl.col("account").is_not_null())
        .group_by(["m_shop", "account"]).agg(pl.len().alias("matches"))
        .rename({"m_shop": "shop", "account": "pixel"})
        .sort(["shop", "matches", "pixel"], descending=[False, True, False])
    )
    return pairs.with_columns((pl.int_range(pl.len()).over("shop") == 0).alias("primary"))


def reconcile(data: "Readable", window_hours: float = 168, value_tolerance: float = 0.01) -> dict[str, pl.DataFrame]:
    """Orders, server and browser purchases matched to each other, and the shop links.

    Returns ``orders`` (one row per backend order, with ``account`` = the linked
    pixel or else the shop, and the per-order flags), ``server``, ``browser`` and
    ``links``.
    """
    rows = _rows_of(data)
    if rows is not None:  # once per audit: the checks and the report ask alike
        key = ("orders_export.reconcile", window_hours, value_tolerance)
        return dict(rows.derived(key, lambda: _reconcile(rows, window_hours, value_tolerance)))
    return _reconcile(as_readable(data), window_hours, value_tolerance)


def _rows_of(data: Any) -> CanonicalRows | None:
    """The audit's rows behind ``data`` (the rows themselves, or a check's
    context), to keep derived tables with; None for a bare frame."""
    rows = data if isinstance(data, CanonicalRows) else getattr(data, "rows", None)
    return rows if isinstance(rows, CanonicalRows) else None


def _reconcile(data: "Readable", window_hours: float, value_tolerance: float) -> dict[str, pl.DataFrame]:
    orders = backend_orders(data)
    server = match_orders(purchase_events(data, "server_event"), orders, window_hours)
    browser = match_orders(purchase_events(data, "browser_event"), orders, window_hours)
    links = shop_links(server)
    primary = links.filter("primary").select("shop", pl.col("pixel").alias("_pixel"))
    orders = orders.join(primary, on="shop", how="left", maintain_order="left").with_columns(
        pl.coalesce("_pixel", "shop").alias("account")).drop("_pixel")
    s = server.filter(pl.col("m_order_id").is_not_null()).with_columns(usable_event_id().alias("_usable"))
    b = browser.filter(pl.col("m_order_id").is_not_null())
    b_ids = b.group_by(["m_shop", "m_order_id"]).agg(
        pl.len().alias("_b_n"), pl.col("event_id").drop_nulls().unique().alias("_b_ids"))
    s_agg = s.group_by(["m_shop", "m_order_id"]).agg(
        pl.len().alias("server_events"), pl.col("accepted").any().alias("accepted"),
        pl.col("event_id").filter(pl.col("_usable")).unique().alias("_s_ids"), pl.col("_usable").all().alias("_all_usable"),
        pl.col("value").drop_nulls().first().alias("_s_value"), pl.col("currency").drop_nulls().first().alias("_s_currency"),
    )
    out = (
        orders.join(s_agg, left_on=["shop", "order_id"], right_on=["m_shop", "m_order_id"], how="left", maintain_order="left")
        .join(b_ids, left_on=["shop", "order_id"], right_on=["m_shop", "m_order_id"], how="left", maintain_order="left")
    )
    sent = pl.col("server_events").fill_null(0) > 0
    has_b_ids = pl.col("_b_ids").list.len().fill_null(0) > 0
    same_ids = (pl.col("_s_ids").list.len() == 1) & (
        ~has_b_ids | ((pl.col("_b_ids").list.len() == 1) & (pl.col("_s_ids").list.first() == pl.col("_b_ids").list.first())))
    out = out.with_columns(
        sent.alias("server_sent"),
        (sent & pl.col("accepted").fill_null(False)).alias("accepted"),
        (pl.col("_b_n").fill_null(0) > 0).alias("browser_seen"),
        pl.when(~sent).then(None).otherwise(pl.col("_all_usable") & same_ids.fill_null(False)).alias("event_id_consistent"),
        pl.when(~sent | pl.col("_s_value").is_null() | pl.col("value").is_null()).then(None)
        .otherwise((pl.col("_s_value") - pl.col("value")).abs() <= value_tolerance).alias("value_match"),
        pl.when(~sent | pl.col("_s_currency").is_null() | pl.col("currency").is_null()).then(None)
        .otherwise(pl.col("_s_currency").str.to_uppercase() == pl.col("currency").str.to_uppercase()).alias("currency_match"),
    )
    return {"orders": out, "server": server, "browser": browser, "links": links}


def order_table(data: "Readable", window_hours: float = 168, value_tolerance: float = 0.01) -> pl.DataFrame:
    """The per-order export: one row per backend order, PII-free."""
    orders = reconcile(data, window_hours, value_tolerance)["orders"]
    return orders.select(
        "order_id", "shop", "account",
        pl.col("created").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("created"),
        "ignored", "server_sent", "accepted", "browser_seen", "event_id_consistent", "value_match", "currency_match",
    )


def thresholds_from(ruleset: Any) -> dict[str, float]:
    """match_window_hours / value_tolerance from the ruleset (server-events-missing)."""
    th = dict(ruleset.rule("server-events-missing").thresholds) if ruleset is not None and "server-events-missing" in ruleset.rules else {}
    return {"window_hours": float(th.get("match_window_hours", 168)), "value_tolerance": float(th.get("value_tolerance", 0.01))}


def write_orders(data: "Readable", path: Path | str, ruleset: Any = None) -> int:
    """Write the per-order table: CSV when ``path`` ends with ``.csv``, else JSONL.
    Returns the number of orders written."""
    path = Path(path)
    table = order_table(data, **thresholds_from(ruleset))
    if path.suffix.lower() == ".csv":
        table.write_csv(path)
    else:
        with path.open("w", encoding="utf-8") as fh:
            for row in table.iter_rows(named=True):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return table.height
