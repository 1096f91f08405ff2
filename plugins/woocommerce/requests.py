"""CAPI Request entries -> one ``server_event`` row per event in ``body.data``.

``batch_id`` is left null here: :mod:`.linking` gives the rows of a request (and
its response and status lines) a short id in ``finalize``, when every file of
the audit is known.
"""

from __future__ import annotations

import polars as pl
from auditor import classify_user_data
from auditor.capi_payload import REQUEST_BODY, event_columns
from auditor.jsonsafe import safe_json_decode
from auditor.redact import redact_columns
from auditor.schema import by_value
from auditor.userdata import add_sent_digests

from .entries import REJECT_SCHEMA
from .extra import extra_json, unusual_level
from .patterns import EVENTS_URI, PARTNER_AGENT_VERSION, USER_AGENT_VERSION
from .userdetail import apply_detail, detail_expr

CONNECTOR = "facebook-for-woocommerce"


def uri_path(uri: pl.Expr) -> pl.Expr:
    """``/v20.0/123/events`` from a full uri, without host or query string."""
    return uri.str.replace(r"^[a-zA-Z]+://[^/]+", "").str.replace(r"[?#].*$", "")


#: What a request's uri and agents say (see :func:`_agent_facts`).
_URI_FACTS = pl.Struct({"pixel_id": pl.String, "graph_version": pl.String, "path": pl.String})


def _uri_facts(uri: pl.Expr) -> pl.Expr:
    """pixel_id, graph_version and path of a request uri."""
    ev = uri.str.extract_groups(EVENTS_URI)
    return pl.struct(
        ev.struct.field("px").alias("pixel_id"), ev.struct.field("gv").alias("graph_version"), uri_path(uri).alias("path")
    )


def _agent_facts(req: pl.DataFrame) -> pl.DataFrame:
    """``req`` with ``_uri`` (:data:`_URI_FACTS`), ``_ua_version`` and ``_pa_version``.

    A log repeats a handful of uris and agents: the patterns run once per
    distinct value (:func:`auditor.schema.by_value`), not once per request.
    """
    req = req.with_columns(pl.col("_body").struct.field("partner_agent").alias("_partner_agent"))
    return req.with_columns(
        by_value(req, "kv_uri", _uri_facts, _URI_FACTS).alias("_uri"),
        by_value(req, "kv_user_agent", lambda e: e.str.extract(USER_AGENT_VERSION, 1), pl.String()).alias("_ua_version"),
        by_value(req, "_partner_agent", lambda e: e.str.extract(PARTNER_AGENT_VERSION, 1), pl.String()).alias("_pa_version"),
    )


def request_rows(req: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(rows, rejects)`` for entries whose ``_etype`` is ``capi_request``."""
    body_text = pl.col("kv_body")
    req = req.with_columns(pl.when(body_text.str.starts_with("{")).then(body_text).alias("_body_text"))
    decoded = safe_json_decode(req.get_column("_body_text"), REQUEST_BODY)
    req = req.with_columns(decoded.alias("_body"))
    data = pl.col("_body").struct.field("data")
    ok = data.list.len() > 0

    rejects = req.filter(~ok.fill_null(False)).select(
        "file",
        pl.coalesce("body_line", "line").alias("line"),
        pl.when(pl.col("kv_body").is_null())
        .then(pl.lit("CAPI request entry without a body line (cut or half-written entry)"))
        .when(pl.col("_body").is_null())
        .then(pl.lit("CAPI request body is not valid JSON of the expected shape (cut or half-written entry?)"))
        .otherwise(pl.lit("CAPI request body has no events in 'data'"))
        .alias("reason"),
    ).cast(REJECT_SCHEMA)

    uri = pl.col("_uri")
    per_request = _agent_facts(req.filter(ok.fill_null(False))).select(
        "file", "line", "logged_at", "_tz_local", "_etype",
        uri.struct.field("pixel_id").alias("pixel_id"),
        uri.struct.field("pixel_id").alias("account"),
        uri.struct.field("graph_version").alias("graph_version"),
        pl.coalesce("_ua_version", "_pa_version").alias("connector_version"),
        pl.col("_partner_agent").alias("partner_agent"),
        pl.col("_body").struct.field("test_event_code").alias("test_event_code"),
        data.list.len().cast(pl.Int64).alias("batch_size"),
        pl.col("kv_method").fill_null("POST").alias("_method"),
        uri.struct.field("path").alias("_path"),
        extra_json(
            level=unusual_level(pl.col("level")),
            duration_s=pl.col("kv_duration").str.strip_suffix("s").cast(pl.Float64, strict=False),
        ),
        data.alias("_ev"),
    )
    events = per_request.explode("_ev")
    ev = pl.col("_ev")
    rows = events.with_columns(
        pl.lit("woocommerce").alias("source"),
        pl.lit("server_event").alias("kind"),
        pl.lit(CONNECTOR).alias("connector"),
        ev.struct.field("event_name").alias("event_name"),
        *event_columns(ev),
    ).with_columns(
        pl.concat_str(
            [pl.lit("Request "), pl.col("_method"), pl.lit(" "), pl.col("_path"), pl.lit(" "), pl.col("event_name").fill_null("(no event_name)")]
        ).alias("message"),
    ).drop("_ev", "_method", "_path")
    # keys no event in the batch has need no state column (it would be all null)
    absent = [c for c in rows.columns if c.startswith("raw_ud_") and rows.get_column(c).null_count() == rows.height]
    rows = rows.drop(absent)
    # keyed digests of the sent em/ph hashes (udh_em, udh_ph) for cross-source checks
    rows = add_sent_digests(rows)
    # facts about raw values the ud_<key> states cannot carry -> extra.ud_detail
    rows = apply_detail(classify_user_data(rows.with_columns(detail_expr(rows).alias("_ud_detail"))))
    return redact_columns(rows, "message", "event_source_url"), rejects
