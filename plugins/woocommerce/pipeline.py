"""``parse`` (one batch of lines -> canonical rows) and ``finalize`` (all rows).

``parse`` turns each entry into rows on its own.  What needs neighbouring
entries (which request a response answers, the pixel and version carried to
status lines) is done once in ``finalize`` by :func:`.linking.link`, over all
rows of the source in file/line order, so batch boundaries never cut a
request from its response; then :func:`.timezone.localize` fixes legacy times.
Both work on narrow frames and swap in only the columns they change: the
frame's rows keep their order and its other columns are never copied.
"""

from __future__ import annotations

import polars as pl
from auditor import ParseContext, conform

from .entries import REJECT_SCHEMA, split_entries
from .kinds import etype_expr
from .linking import link
from .requests import request_rows
from .responses import response_rows
from .status import status_rows
from .timezone import localize

#: Private working columns passed from ``parse`` to ``finalize``.
#: Working columns ``parse`` leaves for ``finalize`` (low-cardinality texts
#: compact; ``_et_unix``: event_time_raw is whole Unix seconds, the time zone
#: evidence, so finalize does not need the raw text of every row).
PRIVATE = {"_tz_local": pl.Boolean, "_etype": pl.Categorical(), "_resp_signal": pl.Categorical(), "_et_unix": pl.Boolean}
UNIX_SECONDS = r"^\d{9,10}$"


def parse(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    entries, rejects = split_entries(batch)
    entries = entries.with_columns(etype_expr())
    et = pl.col("_etype")

    req, req_rejects = request_rows(entries.filter(et == "capi_request"))
    resp, resp_rejects = response_rows(entries.filter(et == "response"))
    resp = resp.with_columns(pl.col("signal").alias("_resp_signal"))
    status = status_rows(entries.filter(~et.is_in(("capi_request", "response", "cut_request"))))
    cut = entries.filter(et == "cut_request").select(
        "file", "line", pl.lit("request entry without its uri line (cut or half-written entry)").alias("reason")
    )

    # strings are copied out of the batch text once, by the last conform
    parts = [conform(df, keep_private=True, own_strings=False) for df in (req, resp, status)]
    rows = pl.concat(parts, how="diagonal_relaxed")
    rows = rows.with_columns(pl.col("event_time_raw").str.contains(UNIX_SECONDS).fill_null(False).alias("_et_unix"))
    rows = conform(rows.with_columns(pl.col(c).cast(t) for c, t in PRIVATE.items()), keep_private=True)
    all_rejects = pl.concat([rejects, req_rejects, resp_rejects, cut], how="vertical").cast(REJECT_SCHEMA)
    return rows, all_rejects.sort("file", "line")


#: What :func:`finalize` reads or writes (``Source.finalize_columns``): the
#: core hands it only these, so the rest of a multi-GB log stays on disk.
FINALIZE_COLUMNS = (
    # linking: entry order, pairing and the carried request context
    "file", "line", "logged_at", "kind", "signal", "batch_id", "events_received",
    "error_code", "error_subcode", "error_type", "is_transient", "fbtrace_id",
    "pixel_id", "account", "graph_version", "shop", "connector_version",
    # time zone of legacy headers
    "event_time",
    *PRIVATE,
)


def finalize(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    if frame.is_empty() or "_etype" not in frame.columns:
        return frame
    return localize(link(frame), ctx)
