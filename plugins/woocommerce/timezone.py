"""Turn the site-local times of legacy headers into UTC (runs in ``finalize``).

WooCommerce's v1 file handler wrote legacy entries as ``MM-DD-YYYY @ HH:MM:SS``
in the *site's* time zone, with no offset; ``parse`` stores those times as if
they were UTC and marks the rows ``_tz_local``.  ISO headers (including v2
``CONTEXT: {"_legacy":true}`` entries) are UTC already and are never touched.

With ``site_timezone`` (an IANA name, DST-aware, or a fixed offset such as
``+05:30``/``UTC-5``) that zone is applied.  Otherwise the offset is inferred
from legacy CAPI requests: a real-time send is logged seconds after its
``event_time`` (UTC), so ``header - event_time`` is the site's UTC offset.  The
difference is bucketed to 15 minutes and the most common bucket wins, per file
day (only when it is at most an hour away from the file's, i.e. a DST change),
else per file, else for the whole source; with no evidence at all UTC is
assumed.  Every decision is written to ``ctx.note``.
"""

from __future__ import annotations

import polars as pl

from auditor.frames import chunked_like
from auditor.zones import parse_zone

#: Offsets (minutes) of real zones that are not whole hours.
_FRACTIONAL = {-570, -210, -150, 210, 270, 330, 345, 390, 525, 570, 630, 765, 825}
#: Largest |header - event_time| taken as evidence (UTC-12 .. UTC+14, plus slack).
_MAX_DIFF_S = 15 * 3600
_BUCKET_S = 900
_TAG = "woocommerce"
#: Converted rows are no longer local: a second finalize leaves them alone.
_DONE = pl.lit(False).alias("_tz_local")


def fmt_offset(minutes: int) -> str:
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def _files(names: list[str], limit: int = 3) -> str:
    names = sorted(names)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def localize(frame: pl.DataFrame, ctx) -> pl.DataFrame:
    if "_tz_local" not in frame.columns:
        return frame
    legacy = pl.col("_tz_local").fill_null(False)
    n_legacy = frame.select(legacy.sum()).item()
    if not n_legacy:
        return frame
    option = ctx.options.get("site_timezone")
    if option:
        zone = parse_zone(option)
        if zone is not None:
            return _apply_option(frame, ctx, zone, n_legacy)
        ctx.note(
            f"{_TAG}: site_timezone {option!r} is neither an IANA zone name nor an offset like '+05:30'; "
            "inferring the offset from the logs instead."
        )
    return _infer(frame, ctx, n_legacy)


def _apply_option(frame: pl.DataFrame, ctx, zone: tuple[str, object], n_legacy: int) -> pl.DataFrame:
    legacy = pl.col("_tz_local").fill_null(False)
    kind, value = zone
    if kind == "iana":
        naive = pl.col("logged_at").dt.replace_time_zone(None)

        def to_utc(e: pl.Expr, ambiguous: str) -> pl.Expr:
            zoned = e.dt.replace_time_zone(str(value), ambiguous=ambiguous, non_existent="null")
            return zoned.dt.convert_time_zone("UTC")

        # a local time inside the spring-forward gap: read it one hour later, then step back
        gap = to_utc(naive + pl.duration(hours=1), "earliest") - pl.duration(hours=1)
        earliest = pl.coalesce(to_utc(naive, "earliest"), gap)
        # the repeated hour in autumn: take the reading closer to the payload's event_time;
        # without one, a local time earlier than one already seen in the file (entries are
        # written in time order) is the second pass, i.e. standard time
        latest = pl.coalesce(to_utc(naive, "latest"), earliest)
        seen = pl.when(legacy).then(naive).cum_max().shift(1).forward_fill().over("file", order_by="line")
        closer = (latest - pl.col("event_time")).abs() < (earliest - pl.col("event_time")).abs()
        second_pass = pl.when(pl.col("event_time").is_not_null()).then(closer).otherwise(naive < seen)
        converted = pl.when(second_pass.fill_null(False)).then(latest).otherwise(earliest)
        how = f"{value} (daylight saving time applied per entry)"
    else:
        converted = pl.col("logged_at") - pl.duration(minutes=int(value))
        how = fmt_offset(int(value))
    ctx.note(
        f"{_TAG}: legacy log headers (MM-DD-YYYY @ HH:MM:SS) are site-local time; converted {n_legacy} "
        f"entries from {how} as set by site_timezone."
    )
    return frame.with_columns(
        pl.when(legacy).then(converted).otherwise(pl.col("logged_at")).alias("logged_at"), _DONE
    )


def _snap(bucket_min: pl.Expr) -> pl.Expr:
    whole = (bucket_min / 60).round().cast(pl.Int64) * 60
    return pl.when((bucket_min % 60 == 0) | bucket_min.is_in(sorted(_FRACTIONAL))).then(bucket_min).otherwise(whole)


def _mode(est: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Most common offset per ``keys`` (ties: the smaller |offset|), with its
    count ``n``, the number of estimates ``total`` and ``share`` = n / total."""
    if not keys:
        est = est.with_columns(pl.lit(0).alias("_all"))
        keys = ["_all"]
    counts = est.group_by([*keys, "offset"]).len("n")
    totals = counts.group_by(keys).agg(pl.col("n").sum().alias("total"))
    ranked = counts.sort(
        [*keys, "n", pl.col("offset").abs(), "offset"], descending=[*([False] * len(keys)), True, False, False]
    )
    best = ranked.group_by(keys, maintain_order=True).first()
    return best.join(totals, on=keys, how="left").with_columns((pl.col("n") / pl.col("total")).alias("share"))


def _infer(frame: pl.DataFrame, ctx, n_legacy: int) -> pl.DataFrame:
    legacy = pl.col("_tz_local").fill_null(False)
    diff = (pl.col("logged_at") - pl.col("event_time")).dt.total_seconds()
    evidence = (
        legacy
        & (pl.col("_etype") == "capi_request")
        & pl.col("event_time").is_not_null()
        & pl.col("_et_unix")
    )
    # Work on a narrow frame keyed by a file number: filtering or joining the frame
    # itself would copy every column, and string keys are row-encoded per row.
    files = frame.select(pl.col("file").unique()).with_row_index("_fid")
    fid = frame.select(
        pl.col("file").replace_strict(files["file"], files["_fid"], default=None, return_dtype=pl.UInt32)
    ).to_series()
    est = (
        frame.select(pl.lit(fid).alias("_fid"), pl.col("logged_at").dt.date().alias("day"), diff.alias("diff"), evidence.alias("_ev"))
        .filter(pl.col("_ev") & (pl.col("diff").abs() <= _MAX_DIFF_S))
        .drop("_ev")
        .with_columns(_snap(((pl.col("diff") / _BUCKET_S).round() * (_BUCKET_S // 60)).cast(pl.Int64)).alias("offset"))
    )
    if est.is_empty():
        ctx.note(
            f"{_TAG}: {n_legacy} legacy log entries (MM-DD-YYYY @ HH:MM:SS) carry site-local time but no CAPI "
            "request with a usable event_time to infer the site's time zone from; assumed UTC, set --site-timezone "
            "if the site is not on UTC."
        )
        return frame.with_columns(_DONE)

    per_file = _mode(est, ["_fid"]).select("_fid", pl.col("offset").alias("_off_file"), pl.col("total").alias("_n_file"))
    source = _mode(est, [])
    source_offset = int(source["offset"][0])
    per_day = (
        _mode(est, ["_fid", "day"])
        .join(per_file, on="_fid")
        .filter(
            (pl.col("total") >= 3) & (pl.col("share") >= 0.5)
            & (pl.col("offset") != pl.col("_off_file"))
            & ((pl.col("offset") - pl.col("_off_file")).abs() <= 60)
        )
        .select("_fid", pl.col("day").alias("_day"), pl.col("offset").alias("_off_day"))
    )

    # the offset of each row; a left join keeps the row order
    offset = (
        frame.select(pl.lit(fid).alias("_fid"), pl.when(legacy).then(pl.col("logged_at").dt.date()).alias("_day"))
        .join(per_day, on=["_fid", "_day"], how="left", maintain_order="left")
        .join(per_file.select("_fid", "_off_file"), on="_fid", how="left", maintain_order="left")
        .select(pl.coalesce("_off_day", "_off_file", pl.lit(source_offset)).alias("_off"))
        .to_series()
    )
    out = frame.with_columns(
        chunked_like(
            frame.select(
                pl.when(legacy).then(pl.col("logged_at") - pl.duration(minutes=pl.lit(offset))).otherwise(pl.col("logged_at"))
            ).to_series(),
            frame,
        ),
        _DONE,
    )

    named = files.select("_fid", "file")
    per_file = per_file.join(named, on="_fid").select("file", "_off_file", "_n_file")
    per_day = per_day.join(named, on="_fid").select("file", "_day", "_off_day")
    legacy_files = frame.select(pl.col("file").filter(legacy).unique()).to_series().to_list()
    _note_inference(ctx, per_file, per_day, source_offset, legacy_files)
    return out


def _note_inference(ctx, per_file: pl.DataFrame, per_day: pl.DataFrame, source_offset: int, legacy_files: list[str]) -> None:
    groups = (
        per_file.group_by("_off_file")
        .agg(pl.col("file"), pl.col("_n_file").sum().alias("n"))
        .sort("n", "_off_file", descending=[True, False])
    )
    parts = []
    for off, files, n in groups.iter_rows():
        if off:
            lag = f"header runs ~{abs(off) / 60:g} h {'behind' if off < 0 else 'ahead of'} their event_time"
        else:
            lag = "header matches their event_time"
        parts.append(f"{fmt_offset(off)} from {n} events whose {lag} (files: {_files(files)})")
    ctx.note(
        f"{_TAG}: legacy log headers (MM-DD-YYYY @ HH:MM:SS) are site-local time; inferred "
        + "; ".join(parts)
        + "; override with --site-timezone."
    )
    without = sorted(set(legacy_files) - set(per_file["file"].to_list()))
    if without:
        ctx.note(
            f"{_TAG}: {len(without)} legacy file(s) have no CAPI request to infer from; applied the most common "
            f"offset {fmt_offset(source_offset)} (files: {_files(without)})."
        )
    if not per_day.is_empty():
        ctx.note(
            f"{_TAG}: on {per_day.height} day(s) the inferred offset differs by 1 h or less from the rest of the file "
            "(daylight saving time?); used each day's own offset there; set --site-timezone for exact DST handling."
        )
