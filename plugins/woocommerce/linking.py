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
"""

from __future__ import annotations

import polars as pl

_REQUESTS = ("capi_request", "other_request")
_FILLED = ("pixel_id", "account", "graph_version", "shop")
_COPIED = ("error_code", "error_subcode", "error_type", "is_transient", "fbtrace_id")
#: ``<dir>/<source>[.N][-YYYY-MM-DD][-<32 hex>].log[.gz]`` -> ``<dir>/<source>``.
_STREAM = r"^(?P<dir>.*[/!])?(?P<src>[^/!]+?)(?:\.\d+)?(?:-\d{4}-\d{2}-\d{2})?(?:-[0-9a-f]{32})?\.(?:log|txt)(?:\.gz)?$"


def stream_of(file: pl.Expr) -> pl.Expr:
    """The log stream a file belongs to (the file itself when its name is not WooCommerce-style)."""
    return file.str.replace(_STREAM, "${dir}${src}")


def link(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with responses paired and request context carried (sorted by stream, time)."""
    if frame.is_empty():
        return frame
    return _carry_context(_pair_with_requests(frame))


def _pair_with_requests(frame: pl.DataFrame) -> pl.DataFrame:
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

    # >= 3.7.1 checks the answer before the exchange is logged: "Facebook connection
    # invalid" comes right *before* the Request entry it belongs to
    before_request = (et == "connection_invalid") & (et.shift(-1) == "capi_request") & (
        pl.col("file") == pl.col("file").shift(-1)
    )
    out = f.with_columns(
        pl.when(capi).then(pl.col("batch_id"))
        .when(before_request).then(pl.col("batch_id").shift(-1))
        .when(linked & (pl.col("_gbatch") != "")).then(pl.col("_gbatch"))
        .alias("batch_id"),
        pl.when(is_resp & non_capi_resp).then(pl.lit("status")).otherwise(pl.col("kind")).alias("kind"),
        pl.when(is_resp & non_capi_resp & (pl.col("_resp_signal") == "success")).then(pl.lit("log"))
        .when(is_resp).then(pl.col("_resp_signal"))
        .otherwise(pl.col("signal")).alias("signal"),
        *[
            pl.when(status_line & prev_resp & in_capi & ~before_request)
            .then(pl.coalesce(c, f"_prev_{c}")).otherwise(pl.col(c)).alias(c)
            for c in _COPIED
        ],
    )
    return out.drop("_fs", "_es", "_gs", "_ec", "_gkind", "_gbatch", "_epos", "_prev_et", *[f"_prev_{c}" for c in _COPIED])


def _carry_context(frame: pl.DataFrame) -> pl.DataFrame:
    et = pl.col("_etype")
    capi = et == "capi_request"
    f = frame.with_columns(stream_of(pl.col("file")).alias("_stream")).sort(
        "_stream", "logged_at", "file", "line", nulls_last=True, maintain_order=True
    )
    f = f.with_columns((pl.col("_stream") != pl.col("_stream").shift(1, fill_value="\0")).cum_sum().alias("_si"))

    def carried(col: str, sources: pl.Expr, back: bool) -> pl.Expr:
        # fill from the nearest source row of the same stream (no window: rows are sorted by stream)
        value = pl.when(sources).then(pl.col(col))
        src_stream = pl.when(sources).then(pl.col("_si"))
        filled = pl.when(src_stream.forward_fill() == pl.col("_si")).then(value.forward_fill())
        if back:
            filled = pl.coalesce(filled, pl.when(src_stream.backward_fill() == pl.col("_si")).then(value.backward_fill()))
        return pl.when(sources).then(pl.col(col)).otherwise(filled).alias(col)

    version_source = capi | (et == "plugin_updated") | ((et == "other_request") & pl.col("connector_version").is_not_null())
    return f.with_columns(
        *[carried(c, capi, back=True) for c in _FILLED],
        carried("connector_version", version_source, back=False),
    ).drop("_stream", "_si")
