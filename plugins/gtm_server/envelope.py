"""Records -> decoded log entries, classified.

Each JSON level is decoded once.  A record is decoded with
:data:`.patterns.ENTRY_PAYLOAD`: a Cloud Logging LogEntry together with its
``jsonPayload`` (Cloud Logging parsed the stdout line) or a Stape log object
at top level (raw stdout lines, the snake_case BigQuery copy), bodies
included.  The tag's own log object (``_s``) is, by preference, that
``jsonPayload``, a ``textPayload`` holding JSON text (decoded once more, with
:data:`.patterns.TAG_LOG`), or the record itself.  Polars fails a whole row
whose value has another JSON type than declared (a ``ResponseBody`` object, a
``RequestBody`` string), so those rows are decoded again with the plain
:data:`.patterns.ENTRY` / :data:`.patterns.STAPE` and keep the log's text in
``_payload``, where :mod:`.stape` reads their bodies (:func:`_decode`).
Classes (``_class``):

* ``stape`` -- a Meta tag's Request / Response / failure / Message object;
* ``ga4`` -- a Cloud Run / App Engine request log of an incoming GA4 hit whose
  URL names the event (``/g/collect?...&en=purchase``);
* skipped silently, only counted (:data:`SKIPPED`): ``noise`` (the
  ``googletagmanager.com/sgtm/a`` pings and ``Listening`` start-up lines every
  container writes), ``other_tag`` (logs of non-Meta tags), ``ga4_batched``
  (GA4 hits whose events are in the POST body, which request logs do not
  keep), ``ga4_unmapped`` (GA4 events with no Meta name), ``request`` (other request logs), ``other`` (any other entry).

Records that are not JSON objects, or JSON that is neither a LogEntry nor a
tag log, are rejected.
"""

from __future__ import annotations

import polars as pl

from auditor.attribution import folder_of
from auditor.jsonsafe import safe_json_decode

from .patterns import ENTRY, ENTRY_PAYLOAD, GA4_PATH, META_TAG, NOISE, REJECT_SCHEMA, STAPE, TAG_LOG

#: Skipped classes and how the note names them.
SKIPPED = {
    "noise": "sGTM noise lines (googletagmanager.com/sgtm/a pings, 'Listening' start-up lines)",
    "other_tag": "logs of non-Meta tags",
    "ga4_batched": "GA4 hits without the event name in the URL (batched POST bodies are not logged)",
    "ga4_unmapped": "GA4 hits of events the Meta tags do not map (user_engagement, scroll ...)",
    "request": "other request logs (not GA4 hits)",
    "other": "other log entries",
}

_LOGENTRY_KEYS = ("insertId", "timestamp", "logName", "textPayload", "httpRequest", "resource", "receiveTimestamp")


def stape_field(pascal: str, snake: str) -> pl.Expr:
    """A Stape key from the console object (PascalCase) or its BigQuery copy (snake_case)."""
    s = pl.col("_s")
    return pl.coalesce(s.struct.field(pascal), s.struct.field(snake))


def rfc3339_time(ts: pl.Expr) -> pl.Expr:
    """RFC 3339 (Cloud Logging) as UTC: the first and usually only form :func:`log_time` tries."""
    return ts.str.strip_chars().str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_zone="UTC", time_unit="us", strict=False)


def log_time(ts: pl.Expr) -> pl.Expr:
    """RFC 3339 (Cloud Logging), ``YYYY-MM-DD HH:MM:SS[.f] UTC`` (BigQuery), or epoch s/ms/us digits, as UTC."""
    t = ts.str.strip_chars()
    digits = t.str.contains(r"^\d{9,16}(?:\.\d+)?$")
    whole = t.str.extract(r"^(\d+)", 1).cast(pl.Int64, strict=False)
    n = t.str.extract(r"^(\d+)", 1).str.len_chars()
    epoch = (
        pl.when(n <= 10).then(pl.from_epoch(whole, time_unit="s"))
        .when(n <= 13).then(pl.from_epoch(whole, time_unit="ms"))
        .otherwise(pl.from_epoch(whole, time_unit="us"))
        .dt.cast_time_unit("us").dt.replace_time_zone("UTC")
    )
    return pl.coalesce(
        rfc3339_time(ts),
        t.str.strip_suffix(" UTC").str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False).dt.replace_time_zone("UTC"),
        pl.when(digits).then(epoch),
    )


def _decode(json: pl.Series, shape: pl.Struct, plain: pl.Struct) -> tuple[pl.Series, pl.Series]:
    """``(decoded, retried)``: each value decoded once with ``shape``.

    ``str.json_decode`` fails a whole row whose value has another JSON type than
    declared (a ``ResponseBody`` object, a ``RequestBody`` string ...), so the
    rows ``shape`` refuses are decoded again with ``plain`` (its fields that are
    not in ``plain`` null, ``retried`` true): their bodies are then read from
    their text, as before.  Rows that are not JSON stay null.
    """
    if json.null_count() == len(json):  # e.g. no textPayload JSON in a batch of jsonPayload entries
        return pl.repeat(None, len(json), dtype=shape, eager=True), pl.repeat(False, len(json), eager=True)
    out = safe_json_decode(json, shape)
    retried = out.is_null() & json.is_not_null()
    if not retried.any():
        return out, retried
    names = plain.to_schema()
    again = safe_json_decode(json.filter(retried), plain).to_frame("_d").select(
        pl.when(pl.col("_d").is_not_null()).then(pl.struct(*[
            pl.col("_d").struct.field(k) if k in names else pl.lit(None, dtype=t).alias(k)
            for k, t in shape.to_schema().items()
        ])).alias("_d")
    ).to_series()
    n = len(out)
    order = pl.int_range(n, eager=True).scatter(retried.arg_true(), pl.int_range(n, n + len(again), eager=True))
    return pl.concat([out, again]).gather(order), retried


def decode_entries(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(entries, rejects)``: entries carry ``_e`` (the LogEntry's ``httpRequest``), ``_s`` (tag log) and ``_class``.

    Each JSON level is decoded once: the record with :data:`.patterns.ENTRY_PAYLOAD`
    (a ``jsonPayload`` or top-level tag log comes with it, bodies included),
    a ``textPayload`` holding JSON with :data:`.patterns.TAG_LOG`.  ``_payload``
    keeps the tag log's text only where those shapes did not fit (see
    :func:`_decode`): :mod:`.stape` reads those bodies from it.
    """
    rec = pl.col("rec")
    json = records.select(pl.when(rec.str.starts_with("{")).then(rec)).to_series()
    e_series, retried = _decode(json, ENTRY_PAYLOAD, ENTRY)
    records = records.with_columns(e_series.alias("_e"), retried.alias("_retried"))
    e = pl.col("_e")
    f = e.struct.field
    is_entry = pl.any_horizontal([f(k).is_not_null() for k in _LOGENTRY_KEYS]) | rec.str.contains('"jsonPayload"', literal=True)
    tag_top = pl.any_horizontal([f(k).is_not_null() for k in ("Name", "Type", "tag_name", "type")])
    known = (is_entry | tag_top).fill_null(False)
    keep = records.select(e.is_not_null() & known).to_series()
    every = keep.all()  # the usual batch: filtering its nested entries would copy them for nothing
    rejects = (records.head(0) if every else records.filter(~keep)).select(
        "file", "line",
        pl.when(~rec.str.starts_with("{")).then(pl.lit("not a JSON object"))
        .when(e.is_null()).then(pl.lit("not valid JSON (a cut line, or several objects compacted on one line?)"))
        .otherwise(pl.lit("JSON that is neither a Cloud Logging entry nor a tag log object"))
        .alias("reason"),
    ).cast(REJECT_SCHEMA)
    entries = records if every else records.filter(keep)

    # the tag log, by preference: the jsonPayload object, a textPayload holding
    # JSON, the record itself; jsonPayload text only where the entry was retried
    jp = f("jsonPayload")
    text_payload = f("textPayload").str.strip_chars()
    json_payload = pl.when(pl.col("_retried") & rec.str.contains('"jsonPayload"', literal=True)).then(rec).str.json_path_match("$.jsonPayload")
    tag_text = pl.when(jp.is_null()).then(pl.coalesce(
        pl.when(json_payload.str.starts_with("{")).then(json_payload),
        pl.when(text_payload.str.starts_with("{")).then(text_payload),
    ))
    entries = entries.with_columns(tag_text.alias("_tag_text"), text_payload.alias("_text"))
    decoded, text_retried = _decode(entries.get_column("_tag_text"), TAG_LOG, STAPE)
    top = pl.struct(*[f(k) for k in TAG_LOG.to_schema()])
    from_text = pl.col("_tag_text").is_not_null()
    n_jp, n_text, n_top = entries.select(jp.is_not_null().sum(), from_text.sum(), tag_top.fill_null(False).sum()).row(0)
    if n_jp == entries.height:  # a batch is mostly one shape: no need to merge the nested structs
        tag_log = jp
    elif n_text == entries.height:
        tag_log = pl.lit(decoded)
    elif n_jp == n_text == n_top == 0:
        tag_log = pl.lit(None, dtype=TAG_LOG)
    else:
        tag_log = pl.when(jp.is_not_null()).then(jp).when(from_text).then(decoded).when(tag_top).then(top)
    entries = entries.with_columns(
        tag_log.alias("_s"),
        pl.when(text_retried).then(pl.col("_tag_text"))
        .when(jp.is_null() & pl.col("_tag_text").is_null() & tag_top & pl.col("_retried")).then(rec)
        .alias("_payload"),
    ).drop("_tag_text", "_retried")

    tag = stape_field("Name", "tag_name")
    kind = stape_field("Type", "type")
    url = stape_field("RequestUrl", "request_url")
    http_url = f("httpRequest").struct.field("requestUrl")
    text = pl.coalesce(pl.when(~pl.col("_text").str.starts_with("{")).then(pl.col("_text")), stape_field("Message", "message"))
    is_tag = tag.is_not_null() & kind.is_not_null()
    is_meta = tag.str.contains(META_TAG).fill_null(False) | url.str.contains(r"graph\.facebook\.com/").fill_null(False)
    ga4 = http_url.str.contains(GA4_PATH).fill_null(False)
    klass = (
        pl.when(is_tag & is_meta).then(pl.lit("stape"))
        .when(is_tag).then(pl.lit("other_tag"))
        .when(ga4 & http_url.str.contains(r"[?&]en=")).then(pl.lit("ga4"))
        .when(ga4).then(pl.lit("ga4_batched"))
        .when(http_url.is_not_null()).then(pl.lit("request"))
        .when(text.str.contains(NOISE).fill_null(False)).then(pl.lit("noise"))
        .otherwise(pl.lit("other"))
    )
    stamp = pl.coalesce(f("timestamp"), f("receiveTimestamp"))
    entries = entries.with_columns(
        klass.alias("_class"),
        rfc3339_time(stamp).alias("logged_at"),  # Cloud Logging's own: the other forms only where it is not
        f("insertId").alias("_insert_id"),
        pl.coalesce(
            pl.concat_str(
                f("resource").struct.field("labels").struct.field("project_id").fill_null(""),
                pl.coalesce(
                    f("resource").struct.field("labels").struct.field("service_name"),
                    f("resource").struct.field("labels").struct.field("module_id"),
                ),
                separator="/",
            ),
            folder_of(pl.col("file")),
        ).alias("_stream"),
    )
    if entries.select((pl.col("logged_at").is_null() & stamp.is_not_null()).any()).item():
        entries = entries.with_columns(log_time(stamp).alias("logged_at"))
    # only what the row builders read: the batch text and the nested entry are
    # heavy to carry through their filters
    rows = entries.select(pl.exclude("rec", "_text", "_e"), pl.struct(f("httpRequest")).alias("_e"))
    return rows, rejects
