"""Log timestamps: the prefixes that start a record, and their conversion to UTC.

Prefixes understood (optionally in ``[...]``):

* ISO-8601 with or without ``T``, fraction (``.`` or ``,`` as Python logging
  writes it) and zone (``Z``, ``UTC``, ``GMT``, ``+02:00``, ``+0200``);
* a one-digit hour (``2026-07-04 2:14:02``, PHP ``G``) and ``/`` date
  separators (``2026/07/04 02:14:02``);
* PHP ``error_log``: ``[04-Jul-2026 02:14:02 UTC]``, the zone an IANA name.

Wrapper values may also be epoch seconds/milliseconds or an HTTP ``Date``.
Values without a zone are read in the ``site_timezone`` option (default UTC).
"""

from __future__ import annotations

import polars as pl

from .patterns import S, UTC

_NUM_DATE = r"\d{4}[-/]\d{1,2}[-/]\d{1,2}[T ]\d{1,2}:\d{2}"
_PHP_DATE = r"\d{1,2}-[A-Za-z]{3}-\d{4} \d{1,2}:\d{2}"
_OFFSET = r"(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})"
_ZONE_NAME = r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*"

#: The head of a timestamped line (record start).  Python ``re`` and Rust
#: ``regex`` both accept it: the reader builds its entry cut from it.
TS_HEAD = rf"\[?(?:{_NUM_DATE}|{_PHP_DATE})"
#: A timestamp prefix; group 1 is the timestamp.  A PHP zone name is only
#: taken inside brackets (``[04-Jul-2026 02:14:02 Europe/Lisbon]``), so the
#: first word of an unbracketed message is never read as a zone.
TS_PREFIX = (
    r"^\[?("
    rf"{_NUM_DATE}:\d{{2}}(?:[.,]\d{{1,9}})?(?:[ ]?{_OFFSET})?"
    rf"|{_PHP_DATE}:\d{{2}}(?:[.,]\d{{1,9}})?(?: {_ZONE_NAME}\])?"
    r")\]?"
)

_NUMERIC = (
    r"^\[?(?P<y>\d{4})[-/](?P<mo>\d{1,2})[-/](?P<d>\d{1,2})[T ](?P<h>\d{1,2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2}))?(?:[.,](?P<f>\d{1,9}))?\s*(?P<z>Z|UTC|GMT|[+-]\d{2}:?\d{2})?\]?$"
)
_PHP = (
    r"^\[?(?P<d>\d{1,2})-(?P<mon>[A-Za-z]{3})-(?P<y>\d{4}) (?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    rf"(?:[.,](?P<f>\d{{1,9}}))?(?:\s+(?P<z>{_ZONE_NAME}))?\]?$"
)
_MONTHS = {m: f"{i:02d}" for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_UTC_NAMES = ["Z", "UTC", "GMT", "ETC/UTC", "ETC/GMT", "UNIVERSAL", "ZULU"]


def _parts(s: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """``local`` (``YYYY-MM-DDTHH:MM:SS.f``, wall time), ``offset``
    (``+HH:MM``) and ``zone`` (an IANA name) of the prefix forms."""
    num = s.str.extract_groups(_NUMERIC)
    php = s.str.extract_groups(_PHP)
    field = lambda name: pl.coalesce(num.struct.field(name), php.struct.field(name))  # noqa: E731
    month = pl.coalesce(
        num.struct.field("mo"),
        php.struct.field("mon").str.to_lowercase().replace_strict(_MONTHS, default=None, return_dtype=S),
    )
    local = pl.concat_str(
        field("y"), pl.lit("-"), month.str.zfill(2), pl.lit("-"), field("d").str.zfill(2),
        pl.lit("T"), field("h").str.zfill(2), pl.lit(":"), field("mi"), pl.lit(":"),
        field("s").fill_null("00"), pl.lit("."), field("f").fill_null("0"),
    )
    zone = field("z")
    upper = zone.str.to_uppercase()
    offset = (
        pl.when(upper.is_in(_UTC_NAMES)).then(pl.lit("+00:00"))
        .when(zone.str.contains(r"^[+-]\d{2}:?\d{2}$"))
        .then(zone.str.replace(r"^([+-]\d{2}):?(\d{2})$", "${1}:${2}"))
    )
    named = pl.when(zone.is_not_null() & offset.is_null()).then(zone)
    return local, offset, named


def _common(s: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The cheap first pass (literal replaces, no regex over the text):
    (zoned UTC, naive wall time, HTTP ``Date``) for ISO spellings with a
    two-digit hour, epoch seconds/ms and HTTP dates."""
    num = s.str.extract(r"^(\d{9,13}(?:\.\d+)?)$", 1).cast(pl.Float64, strict=False)
    micros = pl.when(num >= 1e11).then(num * 1_000).otherwise(num * 1_000_000).cast(pl.Int64, strict=False)
    epoch = pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")
    iso = (
        s.str.replace(" ", "T", literal=True)
        .str.replace(",", ".", literal=True)
        .str.replace(" UTC", "Z", literal=True)
        .str.replace(" GMT", "Z", literal=True)
        .str.replace(" +", "+", literal=True)
        .str.replace(" -", "-", literal=True)
    )
    zoned = pl.coalesce(epoch, iso.str.to_datetime("%+", time_unit="us", strict=False).dt.convert_time_zone("UTC"))
    wall = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
    http_date = s.str.to_datetime("%a, %d %b %Y %H:%M:%S GMT", time_unit="us", strict=False).dt.replace_time_zone("UTC")
    return zoned, wall, http_date


def _prefix_forms(rest: pl.DataFrame) -> pl.DataFrame:
    """``_zoned``/``_wall``/``_zone`` of the values the first pass could not
    read (one-digit hours, ``/`` dates, PHP ``error_log`` dates)."""
    local, offset, named = _parts(pl.col("k").str.strip_chars())
    rest = rest.with_columns(local.alias("_local"), offset.alias("_offset"), named.alias("_zone")).with_columns(
        (pl.col("_local") + pl.col("_offset"))
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
        .dt.convert_time_zone("UTC").alias("_zoned"),
        pl.col("_local").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False).alias("_wall"),
    )
    for zone in rest["_zone"].drop_nulls().unique().to_list():  # distinct zone names, not rows
        try:
            in_zone = pl.col("_wall").dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
            rest = rest.with_columns(
                pl.when(pl.col("_zone") == zone).then(in_zone.dt.convert_time_zone("UTC"))
                .otherwise(pl.col("_zoned")).alias("_zoned")
            )
        except pl.exceptions.PolarsError:  # not a zone Polars knows: leave null
            continue
    # a wall time that names a zone is not naive, even when the zone is unknown
    return rest.with_columns(pl.when(pl.col("_zone").is_null()).then(pl.col("_wall")).alias("_wall"))


def parse_timestamps(values: pl.Series, naive_tz: str) -> tuple[pl.Series, pl.Series]:
    """UTC datetimes for ``values`` (distinct raw texts), and whether each was
    read without a zone (in ``naive_tz``).

    Vectorized; the only Python loop is over the distinct IANA zone names a
    PHP ``error_log`` prefix carries (usually none or one).
    """
    zoned, wall, http_date = _common(pl.col("k").str.strip_chars())
    frame = pl.DataFrame({"k": values}, schema={"k": S}).with_columns(
        zoned.alias("_zoned"), wall.alias("_wall"), http_date.alias("_http"), pl.lit(None, dtype=S).alias("_zone"),
    )
    unread = pl.all_horizontal(pl.col("_zoned", "_wall", "_http").is_null())
    rest = frame.filter(unread)
    if rest.height:
        frame = pl.concat([frame.filter(~unread), _prefix_forms(rest).select(frame.columns)], how="vertical")
        frame = pl.DataFrame({"k": values}, schema={"k": S}).join(frame, on="k", how="left", maintain_order="left")
    naive = pl.col("_zoned").is_null() & pl.col("_http").is_null() & pl.col("_wall").is_not_null()
    local = pl.col("_wall").dt.replace_time_zone(naive_tz, ambiguous="earliest", non_existent="null")
    out = frame.select(
        pl.coalesce(pl.col("_zoned"), pl.when(naive).then(local.dt.convert_time_zone("UTC")), pl.col("_http")).alias("v"),
        naive.alias("naive"),
    )
    return out["v"], out["naive"]


def timestamp_column(df: pl.DataFrame, col: str, naive_tz: str) -> tuple[pl.DataFrame, bool]:
    """``df`` with ``col`` (raw texts) converted to UTC over its *distinct*
    values (log times repeat), and whether any value had no zone."""
    distinct = df.get_column(col).drop_nulls().unique()
    values, naive = parse_timestamps(distinct, naive_tz)
    # mapped back with a hash join: log times are nearly all distinct, and a
    # join builds its table faster than replace_strict's lookup
    parsed = pl.DataFrame({"_k": distinct, "_v": values}, schema={"_k": S, "_v": UTC})
    out = (
        df.join(parsed, left_on=col, right_on="_k", how="left", maintain_order="left")
        .with_columns(pl.col("_v").alias(col)).drop("_v")
    )
    return out, bool(naive.any()) if naive.len() else False
