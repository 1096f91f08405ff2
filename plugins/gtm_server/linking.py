"""``finalize`` helpers: drop duplicate LogEntries, pair answers with requests.

**Duplicates.**  Cloud Storage sinks may write a LogEntry twice (and users
combine overlapping exports): rows with the same ``insertId`` and timestamp
are kept once, the first in file/line order.

**Pixel of rows that name none.**  GA4 hits, and answers of tag versions that
log no ``Message: "Pixel ID: ..."``, name no pixel.  When the container
(Cloud Logging project/service) sends to exactly one pixel, they get that
pixel (:func:`fill_pixel_by_stream`); otherwise the core's folder rule
(:func:`auditor.attribution.fill_pixel_by_folder`) applies.

**Pairing rule.**  A Response or failure object of the Meta tag answers one
Request object.  They are paired within the same container (Cloud Logging
project/service, else the input folder), ``EventName`` and pixel id:

1. first by ``TraceId`` as well, when both sides logged one (the tag copies
   it from a ``trace-id`` request header; it is missing without one);
2. then, for what is left, by order alone.

Within such a group, in time order (``logged_at``, then file and line; a
request before an answer logged at the same instant), first-in first-out: the
k-th answer belongs to the k-th request.  An answer with no earlier unanswered
request (the export starts after its request) is left unpaired and does not
shift the ones after it; a pair more than :data:`LINK_SECONDS` apart
(``--set gtm_link_seconds=N``) is not trusted and left unpaired.

Paired answers take the request's ``batch_id`` (``file:line`` of the request)
and fill ``graph_version``, ``connector``, ``connector_version``,
``partner_agent``, ``shop`` and ``batch_size`` from it.  Everything is
running sums/minima over the rows sorted by group, and joins: no per-group
hashing windows (a container has a group per trace id).
"""

from __future__ import annotations

from functools import partial

import polars as pl

from auditor import ParseContext
from auditor.frames import keep_first, only_value

LINK_SECONDS = 120
_BASE_KEY = ["_lk_event", "_lk_pixel", "_lk_stream"]
FILLED = ("graph_version", "connector_version", "partner_agent", "shop", "batch_size", "connector")


def dedupe(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    kept, dropped = keep_first(frame, ["_insert_id", "logged_at", "_role", "_sub"], "_insert_id")
    entries = dropped.filter(pl.col("_sub") == 0).height
    if entries:
        ctx.tally("gtm_server.duplicates", {"n": entries}, _duplicates_note)
    return kept


def _unpaired_note(limit: float, totals: dict[str, int]) -> str:
    return (f"gtm_server: {totals['unpaired']} of {totals['answers']} Meta tag responses/failures could not be paired "
            f"with a request (none logged before them for the same event and pixel, or more than {limit:g} s apart)")


def _duplicates_note(totals: dict[str, int]) -> str:
    return (f"gtm_server: {totals['n']} duplicate log entries (same insertId: Cloud Storage sink shards or overlapping "
            "exports) were counted once")


def fill_pixel_by_stream(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Rows without a pixel take the only pixel their container's requests name."""
    if not frame["pixel_id"].is_null().any() or ctx.options.get("pixel_id"):
        return frame
    requests = (pl.col("_role") == "request")
    single = only_value(frame, "_stream", "pixel_id", where=requests, alias="_stream_pixel")
    out = frame.join(single, on="_stream", how="left", maintain_order="left")
    filled = out.filter(pl.col("pixel_id").is_null() & pl.col("_stream_pixel").is_not_null())
    for stream, pixel, n in filled.group_by("_stream", "_stream_pixel").len().sort("_stream").iter_rows():
        ctx.note(
            f"gtm_server: {n} rows of container {stream} named no pixel (GA4 hits, answers without 'Pixel ID'); "
            f"attributed to {pixel}, the only pixel its Meta tag sends to (override with --set pixel_id=ID)"
        )
    return out.with_columns(
        pl.col("pixel_id").fill_null(pl.col("_stream_pixel")),
        pl.col("account").fill_null(pl.col("_stream_pixel")),
    ).drop("_stream_pixel")


def _per_group_cum_sum(x: pl.Expr, start: pl.Expr) -> pl.Expr:
    """Running sum of ``x`` restarted at each row where ``start`` is true (rows sorted by group)."""
    total = x.cum_sum()
    return total - pl.when(start).then(total - x).forward_fill()


def _pairs(requests: pl.DataFrame, answers: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """FIFO pairs ``_idx`` (answer) -> ``_req_idx``, ``_req_batch``, ``_req_at`` within ``key`` groups."""
    cols = [*key, "logged_at", "file", "line", "_idx", "batch_id"]
    u = pl.concat([
        requests.select(cols).with_columns(pl.lit(1, dtype=pl.Int64).alias("_isreq")),
        answers.select(cols).with_columns(pl.lit(0, dtype=pl.Int64).alias("_isreq")),
    ]).sort(
        [*key, "logged_at", "_isreq", "file", "line"],
        descending=[False] * (len(key) + 1) + [True, False, False],
        nulls_last=True,
    )
    # u is sorted by key: running counts and minima per group are running ones
    # over the whole column, restarted where a group starts (no hashing windows)
    g = pl.col("_g")
    start = g != g.shift(1, fill_value=-1)
    u = u.with_columns(pl.struct(key).rle_id().cast(pl.Int64).alias("_g"))
    u = u.with_columns(_per_group_cum_sum(pl.col("_isreq"), start).alias("_cr"), _per_group_cum_sum(1 - pl.col("_isreq"), start).alias("_ca"))
    u = u.with_columns((pl.col("_cr") - pl.col("_ca")).alias("_d"))
    # _m: how far the answers ran ahead of the requests so far (<= 0); an answer
    # that sets a new low has no request to answer (orphan), and every orphan so
    # far shifts the request index of the answers after it
    span = 2 * u.height + 1  # > any |_d| difference: shifting each group below the ones before restarts cum_min
    u = u.with_columns(pl.min_horizontal((pl.col("_d") - g * span).cum_min() + g * span, pl.lit(0)).alias("_m"))
    u = u.with_columns(pl.when(start).then(0).otherwise(pl.col("_m").shift(1)).alias("_m_before"))
    req_table = u.filter(pl.col("_isreq") == 1).select(
        "_g", "_cr", pl.col("batch_id").alias("_req_batch"), pl.col("logged_at").alias("_req_at"), pl.col("_idx").alias("_req_idx")
    )
    ans = u.filter((pl.col("_isreq") == 0) & (pl.col("_d") >= pl.col("_m_before"))).select(
        "_g", "_idx", "logged_at", (pl.col("_ca") + pl.col("_m")).alias("_cr")
    )
    return ans.join(req_table, on=["_g", "_cr"], how="inner").select("_idx", "logged_at", "_req_idx", "_req_batch", "_req_at")


def link(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    frame = frame.with_row_index("_idx")
    keyed = frame.with_columns(
        pl.col("event_name").fill_null("").alias("_lk_event"),
        pl.col("pixel_id").fill_null("").alias("_lk_pixel"),
        pl.col("_stream").fill_null("").alias("_lk_stream"),
        pl.col("_trace").alias("_lk_trace"),
    )
    role = pl.col("_role")
    requests = keyed.filter((role == "request") & (pl.col("_sub") == 0) & pl.col("batch_id").is_not_null())
    answers = keyed.filter(role.is_in(["response", "failure"]) & pl.col("batch_id").is_null())
    if answers.is_empty():
        return frame.drop("_idx")
    limit = float(ctx.options.get("gtm_link_seconds", LINK_SECONDS))
    gap = (pl.col("logged_at") - pl.col("_req_at")).dt.total_microseconds() / 1e6
    trusted_gap = gap.is_null() | ((gap >= 0) & (gap <= limit))

    traced = pl.col("_lk_trace").is_not_null()
    first = _pairs(requests.filter(traced), answers.filter(traced), ["_lk_trace", *_BASE_KEY]).filter(trusted_gap)
    rest_req = requests.filter(~pl.col("_idx").is_in(first["_req_idx"].implode()))
    rest_ans = answers.filter(~pl.col("_idx").is_in(first["_idx"].implode()))
    second = _pairs(rest_req, rest_ans, _BASE_KEY).filter(trusted_gap) if rest_req.height and rest_ans.height else first.clear()
    pairs = pl.concat([first, second])

    unpaired = answers.height - pairs.height
    if unpaired:
        ctx.tally("gtm_server.unpaired", {"unpaired": unpaired, "answers": answers.height}, partial(_unpaired_note, limit))
    context = frame.select(pl.col("_idx").alias("_req_idx"), *[pl.col(c).alias(f"_req_{c}") for c in FILLED])
    fill = pairs.select("_idx", "_req_batch", "_req_idx").join(context, on="_req_idx", how="left")
    out = frame.join(fill, on="_idx", how="left", maintain_order="left")
    return out.with_columns(
        pl.coalesce("batch_id", "_req_batch").alias("batch_id"),
        *[
            (pl.coalesce(f"_req_{c}", c) if c == "connector" else pl.coalesce(c, f"_req_{c}")).alias(c)
            for c in FILLED
        ],
    ).drop("_idx", "_req_batch", "_req_idx", *[f"_req_{c}" for c in FILLED])
