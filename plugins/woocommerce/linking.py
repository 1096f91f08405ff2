"""Tie responses and status lines to the request logged before them.

Works on the rows of one batch (in ``parse``) and again on every row of the
source (in ``finalize``, where requests from an earlier batch are visible).
Everything is recomputed from the rows' own facts, so running it twice gives
the same result.  Within each file, in line order:

* ``pixel_id``, ``account``, ``graph_version`` and ``shop`` of non-request rows
  are forward-filled from the CAPI requests, then back-filled (rows before the
  first request);
* ``connector_version`` is carried forward from requests and ``Upgrade to vX``
  lines, so a version change is visible per account;
* the entry right after a CAPI request, if it is a response, gets the request's
  ``batch_id``; so does a ``Could not send Pixel event`` / ``Facebook connection
  invalid`` line right after the request or its response, which also takes
  the error code, type and trace id of that response when its text has none;
* a response to a non-CAPI call (catalog sync, ``/me`` ...) becomes a ``status``
  row (its success signal ``log``) so it never counts as a CAPI answer.
"""

from __future__ import annotations

import polars as pl

_REQUESTS = ("capi_request", "other_request")
_FILLED = ("pixel_id", "account", "graph_version", "shop")
_COPIED = ("error_code", "error_subcode", "error_type", "is_transient", "fbtrace_id")


def link(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` sorted by file and line, with request context carried over."""
    if frame.is_empty():
        return frame
    f = frame.sort("file", "line", maintain_order=True)
    et = pl.col("_etype")
    capi = et == "capi_request"
    file_start = pl.col("file") != pl.col("file").shift(1, fill_value="\0")
    entry_start = file_start | (pl.col("line") != pl.col("line").shift(1))
    f = f.with_columns(file_start.alias("_fs"), entry_start.alias("_es"))
    gstart = (et.is_in(_REQUESTS) & pl.col("_es")) | pl.col("_fs")
    f = f.with_columns(
        gstart.alias("_gs"),
        pl.col("_es").cum_sum().alias("_ec"),
    ).with_columns(
        pl.when("_gs").then(pl.when(et.is_in(_REQUESTS)).then(et).otherwise(pl.lit("none"))).forward_fill().alias("_gkind"),
        pl.when("_gs").then(pl.when(capi).then(pl.col("batch_id")).otherwise(pl.lit(""))).forward_fill().alias("_gbatch"),
        (pl.col("_ec") - pl.when("_gs").then(pl.col("_ec")).forward_fill()).alias("_epos"),
        et.shift(1).alias("_prev_et"),
        *[pl.col(c).shift(1).alias(f"_prev_{c}") for c in _COPIED],
    )

    in_capi = pl.col("_gkind") == "capi_request"
    is_resp = et == "response"
    prev_resp = (pl.col("_prev_et") == "response") & ~pl.col("_fs")
    status_line = et.is_in(("pixel_error", "connection_invalid"))
    linked = in_capi & (
        (is_resp & (pl.col("_epos") == 1))
        | (status_line & ((pl.col("_epos") == 1) | ((pl.col("_epos") == 2) & prev_resp)))
    )
    non_capi_resp = is_resp & (
        (pl.col("_gkind") == "other_request")
        | ((pl.col("_gkind") == "none") & (pl.col("_resp_signal") == "success") & pl.col("events_received").is_null())
    )

    def carried(col: str, sources: pl.Expr, back: bool) -> pl.Expr:
        filled = pl.when(sources).then(pl.col(col)).forward_fill().over("file")
        if back:
            filled = filled.backward_fill().over("file")
        return pl.when(sources).then(pl.col(col)).otherwise(filled).alias(col)

    out = f.with_columns(
        *[carried(c, capi, back=True) for c in _FILLED],
        carried("connector_version", capi | (et == "plugin_updated"), back=False),
        pl.when(capi).then(pl.col("batch_id"))
        .when(linked & (pl.col("_gbatch") != "")).then(pl.col("_gbatch"))
        .alias("batch_id"),
        pl.when(is_resp & non_capi_resp).then(pl.lit("status")).otherwise(pl.col("kind")).alias("kind"),
        pl.when(is_resp & non_capi_resp & (pl.col("_resp_signal") == "success")).then(pl.lit("log"))
        .when(is_resp).then(pl.col("_resp_signal"))
        .otherwise(pl.col("signal")).alias("signal"),
        *[
            pl.when(status_line & prev_resp & in_capi).then(pl.coalesce(c, f"_prev_{c}")).otherwise(pl.col(c)).alias(c)
            for c in _COPIED
        ],
    )
    return out.drop("_fs", "_es", "_gs", "_ec", "_gkind", "_gbatch", "_epos", "_prev_et", *[f"_prev_{c}" for c in _COPIED])
