"""Tie responses and status lines to the request logged before them.

Runs in ``finalize`` over every row of the source, so a response at the start
of a batch still finds the request at the end of the previous one.  Everything
is recomputed from the rows' own facts (running it twice changes nothing).

Within each file, in line order:

* the entry right after a CAPI request, if it is a response, gets the request's
  ``batch_id``; so does a ``Could not send Pixel event`` / ``Facebook connection
  invalid`` line right after the request or its response, which also takes
  the error code, type and trace id of that response when its text has none
  (plugin <= 3.7.0 logs Request, Response, then ``Could not send``);
* a ``Facebook connection invalid`` line right *before* a CAPI request gets that
  request's ``batch_id`` (plugin >= 3.7.1 validates the answer before the
  exchange is logged);
* a response to a non-CAPI call (catalog sync, ``/me`` ...) becomes a ``status``
  row (its success signal ``log``) so it never counts as a CAPI answer.

Within each log *stream* (the files of one WooCommerce log source in one
folder or archive: ``facebook_for_woocommerce-2026-05-06-<hash>.log``, its
rotated ``.0`` copy and the next days' files), in time order:

* ``pixel_id``, ``account``, ``graph_version`` and ``shop`` of non-request rows
  are forward-filled from the CAPI requests, then back-filled (rows before the
  first request), so a day file with no request at all keeps its account;
* ``connector_version`` is carried forward from requests (their user agent or
  partner_agent) and ``Upgrade to vX`` lines, so a version change is visible
  per account.

``batch_id`` is ``<n>:<line>``: ``line`` is the request entry's first line and
``n`` the 1-based position of its file among the source's file names in sorted
order (``parse`` leaves it null; only here are all files known).  Unique within
an audit by construction (no hash that could collide), deterministic for the
same inputs, and short: up to 999 files of up to 99,999,999 lines it is at most
12 characters, which Polars stores inline in the string view, with no heap
buffer.  The former ``<path>:<line>`` was ~110 bytes a row on real paths (a
quarter of the frame).  It is an id to group rows by, not a place to look up.

Memory: the wide frame is never sorted or copied.  Each step sorts a *narrow*
frame (a row index, file/stream numbers, line, time and a few booleans), works
out per row which row a value comes from (or a flag), and sorts that back by
the row index; the changed columns are then built in the original row order
(a ``gather`` of the source column) and swapped in whole, cut into the frame's
chunks (:func:`auditor.frames.chunked_like`); unchanged columns keep their buffers.  The row
order of the frame is kept (the core sorts the frame afterwards anyway).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from auditor.frames import ROW_INDEX as _ROW
from auditor.frames import in_row_order, replace_changed
from auditor.schema import by_value

_REQUESTS = ("capi_request", "other_request")
_FILLED = ("pixel_id", "account", "graph_version", "shop")
_COPIED = ("error_code", "error_subcode", "error_type", "is_transient", "fbtrace_id")
#: ``<dir>/<source>[.N][-YYYY-MM-DD][-<32 hex>].log[.gz]`` -> ``<dir>/<source>``.
_STREAM = r"^(?P<dir>.*[/!])?(?P<src>[^/!]+?)(?:\.\d+)?(?:-\d{4}-\d{2}-\d{2})?(?:-[0-9a-f]{32})?\.(?:log|txt)(?:\.gz)?$"


def stream_of(file: pl.Expr) -> pl.Expr:
    """The log stream a file belongs to (the file itself when its name is not WooCommerce-style)."""
    return file.str.replace(_STREAM, "${dir}${src}")


def link(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (same rows, same order) with responses paired and request context carried."""
    if frame.is_empty():
        return frame
    fno, sno = _file_numbers(frame)
    pairing = _pair_with_requests(frame, fno)
    carried = _carry_context(frame, fno, sno)
    et = pl.col("_etype")
    is_resp = et == "response"
    non_capi = pl.lit(pairing.get_column("_nc"))
    updates = {
        "batch_id": pl.format("{}:{}", pl.lit(fno), pl.lit(pairing.get_column("_bline"))),
        "kind": pl.when(non_capi).then(pl.lit("status")).otherwise(pl.col("kind")),
        "signal": pl.when(non_capi & (pl.col("_resp_signal") == "success")).then(pl.lit("log"))
        .when(is_resp).then(pl.col("_resp_signal"))
        .otherwise(pl.col("signal")),
    }
    prev = pairing.get_column("_prev")
    if prev.null_count() < prev.len():
        # a status line takes what it lacks from the response just before it
        updates.update({c: pl.coalesce(c, pl.col(c).gather(prev)) for c in _COPIED})
    for c in (*_FILLED, "connector_version"):
        updates[c] = pl.col(c).gather(carried.get_column(c))
    return replace_changed(frame, updates)


def _file_numbers(frame: pl.DataFrame) -> tuple[pl.Series, pl.Series]:
    """Per row: the 1-based rank of its file among the source's file names (sorted), and of its stream.

    Computed on the few distinct names, then mapped onto the rows (no string per row).
    """
    def rank_of(name: str, key: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
        rank = by_value(frame, "file", lambda path: key(path).rank("dense").cast(pl.UInt32), pl.UInt32())
        return frame.select(rank.alias(name)).to_series()

    return rank_of("_fno", lambda path: path), rank_of("_sno", stream_of)


def _pair_with_requests(frame: pl.DataFrame, fno: pl.Series) -> pl.DataFrame:
    """Per row (original order): ``_bline`` (line of the request whose batch it joins, else null),
    ``_nc`` (a response to a non-CAPI call) and ``_prev`` (row to copy the error fields
    from, else null)."""
    et = pl.col("_etype")
    narrow = frame.select(
        pl.lit(fno).alias("_fno"),
        "line",
        (et == "capi_request").alias("_capi"),
        et.is_in(_REQUESTS).alias("_req"),
        (et == "response").alias("_resp"),
        et.is_in(("pixel_error", "connection_invalid")).alias("_status_line"),
        (et == "connection_invalid").alias("_conn_invalid"),
        ((pl.col("_resp_signal") == "success") & pl.col("events_received").is_null()).alias("_bare_success"),
    )
    fno_, line, row = pl.col("_fno"), pl.col("line"), pl.col(_ROW)
    capi, req, is_resp, status_line = pl.col("_capi"), pl.col("_req"), pl.col("_resp"), pl.col("_status_line")
    # in file/line order: an entry starts where the line changes, a group (request and
    # the entries after it) where a request entry or a file starts
    file_start = fno_.ne_missing(fno_.shift(1))
    entry_start = file_start | (line != line.shift(1))
    group_start = (req & entry_start) | file_start
    entry_no = entry_start.cum_sum()
    # group kind: 2 CAPI request, 1 other request, 0 none (rows before the file's first request)
    gkind = pl.when(group_start).then(pl.when(capi).then(2).when(req).then(1).otherwise(0)).forward_fill()
    gline = pl.when(group_start).then(line).forward_fill()
    epos = entry_no - pl.when(group_start).then(entry_no).forward_fill()
    in_capi = gkind == 2
    prev_resp = is_resp.shift(1) & ~file_start
    linked = in_capi & (
        (is_resp & (epos == 1))
        | (status_line & ((epos == 1) | ((epos == 2) & prev_resp)))
    )
    non_capi_resp = is_resp & ((gkind == 1) | ((gkind == 0) & pl.col("_bare_success")))
    # >= 3.7.1 checks the answer before the exchange is logged: "Facebook connection
    # invalid" comes right *before* the Request entry it belongs to
    before_request = pl.col("_conn_invalid") & capi.shift(-1) & (fno_ == fno_.shift(-1))
    box = [narrow]
    del narrow  # in_row_order frees it once sorted
    return in_row_order(
        box,
        ["_fno", "line"],
        [
            pl.when(capi).then(line)
            .when(before_request).then(line.shift(-1))
            .when(linked).then(gline)
            .alias("_bline"),
            non_capi_resp.fill_null(False).alias("_nc"),
            pl.when(status_line & prev_resp & in_capi & ~before_request).then(row.shift(1)).alias("_prev"),
        ],
    )


def _carry_context(frame: pl.DataFrame, fno: pl.Series, sno: pl.Series) -> pl.DataFrame:
    """Per row (original order) and per carried column: the row whose value it takes."""
    et = pl.col("_etype")
    capi = et == "capi_request"
    version_source = capi | (et == "plugin_updated") | ((et == "other_request") & pl.col("connector_version").is_not_null())
    carried = [*_FILLED, "connector_version"]
    narrow = frame.select(
        pl.lit(sno).alias("_sno"),
        "logged_at",
        pl.lit(fno).alias("_fno"),
        "line",
        capi.alias("_capi"),
        version_source.alias("_version_source"),
        *[pl.col(c).is_not_null().alias(f"_has_{c}") for c in carried],
    )
    stream, row = pl.col("_sno"), pl.col(_ROW)

    def source_row(col: str, sources: pl.Expr, back: bool) -> pl.Expr:
        # the nearest source row of the same stream with a value (no window: rows are sorted by stream)
        src_stream = pl.when(sources).then(stream)
        with_value = pl.when(sources & pl.col(f"_has_{col}")).then(row)
        out = pl.when(sources).then(row).when(
            (src_stream.forward_fill() == stream) & with_value.forward_fill().is_not_null()
        ).then(with_value.forward_fill())
        if back:
            out = out.when(src_stream.backward_fill() == stream).then(with_value.backward_fill())
        return out.alias(col)

    box = [narrow]
    del narrow  # in_row_order frees it once sorted
    return in_row_order(
        box,
        ["_sno", "logged_at", "_fno", "line"],
        [
            *[source_row(c, pl.col("_capi"), back=True) for c in _FILLED],
            source_row("connector_version", pl.col("_version_source"), back=False),
        ],
        nulls_last=True,
    )
