"""The canonical observation schema every source plugin produces.

One row is one *observation* found in the evidence: a backend order, a server
event that was sent, a browser event that was seen, a Graph API response, or a
connector status line.  Checks only ever see frames of this schema, so a check
written once works for every source, built-in or third-party.

Times are ``Datetime("us", "UTC")``.  ``logged_at`` is when the evidence says the
thing happened on the wire (log time / send time); ``event_time`` is what the
payload *claims* (converted to UTC), and ``event_time_raw`` keeps the payload's
value untouched so millisecond or ISO values stay detectable.

Customer parameters are not kept in clear: each ``ud_<key>`` column holds the
*state* of that key (see :data:`USER_DATA_STATES`), computed at ingest by
:func:`auditor.userdata.classify_user_data`.

Columns a source cannot know stay null.  :func:`conform` adds missing columns,
casts the rest and orders them, so a source may build only what it has.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")

#: Values of the ``kind`` column.
KINDS = ("order", "server_event", "browser_event", "api_response", "status")

#: Customer-information keys tracked per row (``ud_<key>`` columns).
USER_DATA_KEYS = (
    "em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country",
    "external_id", "client_ip_address", "client_user_agent", "fbc", "fbp",
)

#: Keys Meta requires hashed (SHA-256 of the normalised value).
HASHED_KEYS = ("em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country")

#: Keys Meta forbids hashing.
NEVER_HASHED_KEYS = ("client_ip_address", "client_user_agent", "fbc", "fbp")

#: States a ``ud_<key>`` column can hold (null = key absent).
USER_DATA_STATES = {
    "sha256": "64 lowercase hex characters: a correct SHA-256",
    "sha256_suffixed": "SHA-256 with a Parameter Builder appendix (legitimate)",
    "uppercase_hex": "SHA-256 written in upper-case hex",
    "md5": "32 hex characters (MD5 length), not SHA-256",
    "empty_hash": "SHA-256 of the empty string",
    "placeholder_hash": "SHA-256 of a placeholder such as 'undefined' or 'null'",
    "placeholder": "a template placeholder or 'undefined'/'null'/'NaN' in clear",
    "clear": "clear text where a hash is required (e-mail, phone, name, ...)",
    "hashed_forbidden": "a hash where Meta forbids hashing (IP, user agent, fbc, fbp)",
    "malformed": "present but not in the expected format",
    "empty": "present but empty",
    "present": "present in the expected clear form (IP, user agent, fbc, fbp, external_id)",
}

#: Column name -> (dtype, description).  This table *is* the documented schema.
COLUMNS: dict[str, tuple[pl.DataType, str]] = {
    # provenance
    "source": (pl.String, "name of the source plugin that produced the row"),
    "file": (pl.String, "input file (archive members as 'archive.zip!member')"),
    "line": (pl.Int64, "1-based line where the observation starts"),
    "kind": (pl.String, "order | server_event | browser_event | api_response | status"),
    # time
    "logged_at": (UTC_DATETIME, "when it was logged / sent / received (UTC)"),
    "event_time": (UTC_DATETIME, "event_time claimed by the payload, as UTC"),
    "event_time_raw": (pl.String, "event_time exactly as in the payload"),
    # who
    "account": (pl.String, "pixel id, or shop domain when no pixel is known"),
    "pixel_id": (pl.String, "Meta pixel / dataset id"),
    "shop": (pl.String, "shop domain or site name, when known"),
    "connector": (pl.String, "what sent it, e.g. 'facebook-for-woocommerce'"),
    "connector_version": (pl.String, "connector/plugin version seen on this row"),
    "partner_agent": (pl.String, "partner_agent of the request"),
    "graph_version": (pl.String, "Graph API version of the request, e.g. 'v20.0'"),
    # what
    "event_name": (pl.String, "event_name / EventName"),
    "event_id": (pl.String, "event_id used for deduplication"),
    "order_id": (pl.String, "backend order id (string, never float)"),
    "value": (pl.Float64, "custom_data.value / order total as a number"),
    "value_raw": (pl.String, "value exactly as in the payload"),
    "currency": (pl.String, "currency code as in the payload"),
    "action_source": (pl.String, "action_source"),
    "event_source_url": (pl.String, "event_source_url (redacted of query PII)"),
    "test_event_code": (pl.String, "test_event_code of the request, if any"),
    "batch_id": (pl.String, "id shared by the rows of one request"),
    "batch_size": (pl.Int64, "number of events in that request"),
    # response / status
    "http_status": (pl.Int64, "HTTP status of the response"),
    "error_code": (pl.Int64, "Graph API error.code"),
    "error_subcode": (pl.Int64, "Graph API error.error_subcode"),
    "error_type": (pl.String, "Graph API error.type"),
    "is_transient": (pl.Boolean, "Graph API error.is_transient"),
    "events_received": (pl.Int64, "events_received of a success body"),
    "fbtrace_id": (pl.String, "fbtrace_id of the response"),
    "signal": (pl.String, "machine-readable meaning of a status row (see SIGNALS)"),
    "message": (pl.String, "short human text of the observation (redacted)"),
    # customer parameters: state per key, never the raw value
    **{f"ud_{k}": (pl.String, f"state of user_data.{k} (USER_DATA_STATES)") for k in USER_DATA_KEYS},
    # keyed digests (auditor.userdata: sha256(per-run secret + SHA-256 hex)[:16]) -- comparable
    # within one audit only; neither the clear value nor its SHA-256 is ever kept
    "udh_em": (pl.String, "keyed digest of the e-mail's SHA-256: as sent (server events), "
                          "of the normalised e-mail (orders)"),
    "udh_em_raw": (pl.String, "orders: space-separated keyed digests of the e-mail's un-normalised "
                              "spellings (as typed, trimmed only, lower-cased only)"),
    "udh_ph": (pl.String, "keyed digest of the phone's SHA-256: as sent (server events), "
                          "of the digits with country code (orders)"),
    "udh_ph_nocc": (pl.String, "orders: space-separated keyed digests of the phone without its "
                               "country code (1-3 digit code candidates, with/without trunk 0)"),
    "extra": (pl.String, "JSON object with source-specific fields"),
}

#: Columns of the ``rejects`` frame a source's ``parse`` may return: input it could not understand.
REJECT_SCHEMA: dict[str, pl.DataType] = {"file": pl.String, "line": pl.Int64, "reason": pl.String}

#: The longest ``message`` a row keeps (characters, after redaction).
MESSAGE_CHARS = 200

#: Values a source may put in ``signal``.
SIGNALS = {
    "success": "the API accepted the request",
    "graph_error": "the API answered with an error object",
    "transport_error": "no answer: timeout, DNS, TLS, connection refused, cURL error",
    "server_error_page": "an HTML/5xx error page instead of JSON",
    "connection_invalid": "the connector marked its Meta connection invalid",
    "token_missing": "the connector has no access token",
    "crawler_blocked": "the connector dropped an event sent by a crawler",
    "version_seen": "a connector/plugin version marker",
    "plugin_updated": "an explicit plugin update/activation marker",
    "hmac_invalid": "a webhook delivery whose HMAC signature does not match (forged or altered)",
    "hmac_unverified": "with a webhook secret given, a delivery whose signature cannot be checked "
                       "(no or empty signature header, re-serialised body): not trusted as an order",
    "log": "any other connector line",
}

SCHEMA: dict[str, pl.DataType] = {name: dtype for name, (dtype, _) in COLUMNS.items()}

#: Signals of connector/API lines that report a failed send.
ERROR_SIGNALS = ("graph_error", "transport_error", "server_error_page", "connection_invalid", "token_missing")

#: Low-cardinality columns the core stores as ``Categorical`` (what checks read
#: with ``ctx.select``, and what ``finalize`` already gets): 4 bytes a row instead of a
#: 16-byte string view each (a view is kept even for a null).  Compare them with
#: ``==`` / ``is_in``; cast to ``pl.String`` before ``.str`` operations.  Sources
#: still produce plain strings.
CATEGORICAL_COLUMNS = (
    "source", "file", "kind", "signal", "connector", "account", "pixel_id", "shop", "connector_version",
    "partner_agent", "graph_version", "event_name", "currency", "action_source", "error_type", "test_event_code",
    "value_raw", "event_source_url", "message",
)

#: The ``ud_<key>`` states as an ``Enum``: one byte a row, fifteen columns.
USER_DATA_STATE = pl.Enum(list(USER_DATA_STATES))

#: Every column stored compactly (Categorical or the user-data Enum).
COMPACT_COLUMNS = (*CATEGORICAL_COLUMNS, *(f"ud_{k}" for k in USER_DATA_KEYS))


def compact_dtype(name: str) -> pl.DataType | None:
    """The compact dtype of column ``name`` (None: kept as in :data:`SCHEMA`)."""
    if name in CATEGORICAL_COLUMNS:
        return pl.Categorical()
    if name.startswith("ud_") and name[3:] in USER_DATA_KEYS:
        return USER_DATA_STATE
    return None


def compact(df: pl.DataFrame) -> pl.DataFrame:
    """The canonical frame with :data:`COMPACT_COLUMNS` stored compactly.

    A ``ud_*`` value that is not one of :data:`USER_DATA_STATES` becomes
    ``malformed`` (a plugin bug must not stop the audit).
    """
    exprs = []
    schema = df.schema  # built once: every access builds it anew from the columns
    for c in COMPACT_COLUMNS:
        if c not in schema or schema[c] == compact_dtype(c):
            continue
        if c in CATEGORICAL_COLUMNS:
            exprs.append(pl.col(c).cast(pl.Categorical))
        else:
            text = pl.col(c).cast(pl.String)
            known = text.is_in(list(USER_DATA_STATES)) | text.is_null()
            exprs.append(pl.when(known).then(text).otherwise(pl.lit("malformed")).cast(USER_DATA_STATE).alias(c))
    return df.with_columns(exprs) if exprs else df


def empty_frame() -> pl.DataFrame:
    """A zero-row frame with the canonical schema."""
    return pl.DataFrame(schema=SCHEMA)


class SchemaError(ValueError):
    """A source returned something that cannot be made canonical."""


def conform(
    df: pl.DataFrame,
    *,
    strict_unknown: bool = False,
    keep_private: bool = False,
    own_strings: bool = True,
    compacted: bool = False,
) -> pl.DataFrame:
    """Return ``df`` with exactly the canonical columns, types and order.

    Missing columns become null; unknown columns are dropped (or rejected with
    ``strict_unknown``); a column that cannot be cast raises :class:`SchemaError`
    naming it, so a broken plugin is reported with the column at fault.
    With ``keep_private``, columns whose name starts with ``_`` are kept at the
    end: a source may pass working columns from ``parse`` to its ``finalize``.
    ``own_strings`` copies string values out of the batch text they were cut
    from (see :func:`_own_buffers`); the core skips it once that was done.
    ``compacted`` stores :data:`COMPACT_COLUMNS` compactly (see :func:`compact`).
    """
    if not isinstance(df, pl.DataFrame):
        raise SchemaError(f"expected a polars DataFrame, got {type(df).__name__}")
    if df.width == 0:  # selecting literals from no columns would invent one row
        out = empty_frame().clear(n=df.height)
        return compact(out) if compacted else out
    schema = df.schema  # built once: every access builds it anew from the columns
    private = [c for c in schema if c.startswith("_")] if keep_private else []
    unknown = [c for c in schema if c not in SCHEMA and c not in private]
    if unknown and strict_unknown:
        raise SchemaError(f"unknown column(s): {', '.join(unknown)}")
    exprs = []
    for name, dtype in SCHEMA.items():
        if name not in schema:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        have = schema[name]
        if have == compact_dtype(name) or (have == pl.Categorical and name in COMPACT_COLUMNS):
            exprs.append(pl.col(name))
        elif isinstance(have, (pl.Categorical, pl.Enum)) and dtype == pl.String:
            exprs.append(pl.col(name).cast(pl.String))
        elif have == dtype == pl.String and own_strings and not (compacted and name in COMPACT_COLUMNS):
            exprs.append(_own_buffers(name))
        elif have == dtype:
            exprs.append(pl.col(name))
        elif have == pl.Null:
            exprs.append(pl.col(name).cast(dtype))
        elif isinstance(dtype, pl.Datetime) and isinstance(have, pl.Datetime):
            if have.time_zone is None:  # type: ignore[union-attr]
                raise SchemaError(f"column '{name}': naive datetime, expected UTC-aware")
            exprs.append(pl.col(name).dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
        elif dtype == pl.String or have.is_numeric() or have == pl.Boolean:
            exprs.append(pl.col(name).cast(dtype, strict=True))
        else:
            raise SchemaError(f"column '{name}': got {have}, expected {dtype}")
    exprs.extend(pl.col(c) for c in private)
    try:
        out = df.select(exprs)
        return compact(out) if compacted else out
    except pl.exceptions.PolarsError as exc:  # cast failures name no column: find it
        for name, expr in zip(SCHEMA, exprs):
            try:
                df.select(expr)
            except pl.exceptions.PolarsError:
                raise SchemaError(f"column '{name}': cannot cast to {SCHEMA[name]} ({exc.__class__.__name__})") from None
        raise SchemaError(str(exc)) from None


def _own_buffers(name: str) -> pl.Expr:
    """The column with freshly allocated string buffers.

    Strings a source extracts or slices out of its input lines are views into
    the whole decoded batch: kept as they are, a few short ids would keep every
    raw batch alive until the audit ends (the whole input, in memory).  Copying
    the values (nulls stay null) lets each batch's text be freed.
    """
    return pl.concat_str([pl.col(name), pl.lit("")]).alias(name)


def validate(df: pl.DataFrame) -> list[str]:
    """List what is wrong with ``df`` as canonical output (empty list = valid).

    Used by :mod:`auditor.testing` so plugin authors learn which column is wrong.
    """
    problems = []
    for name in df.columns:
        if name not in SCHEMA:
            problems.append(f"unknown column '{name}'")
    for name, dtype in SCHEMA.items():
        allowed = (dtype, pl.Null, pl.Categorical, compact_dtype(name)) if name in COMPACT_COLUMNS else (dtype, pl.Null)
        if name in df.columns and df.schema[name] not in allowed:
            problems.append(f"column '{name}' has type {df.schema[name]}, expected {dtype}")
    for required in ("source", "file", "line", "kind"):
        if required not in df.columns:
            problems.append(f"missing required column '{required}'")
        elif df[required].null_count():
            problems.append(f"column '{required}' has nulls")
    if "kind" in df.columns and df.schema["kind"] in (pl.String, pl.Categorical):
        bad = df.filter(~pl.col("kind").is_in(KINDS))["kind"].unique().to_list()
        if bad:
            problems.append(f"column 'kind' has unknown values {bad}; allowed {list(KINDS)}")
    return problems


def plain(df: pl.DataFrame | pl.LazyFrame, *columns: str) -> pl.DataFrame | pl.LazyFrame:
    """``df`` with ``columns`` (default: every Categorical / Enum column) as plain strings.

    For a narrow working copy that is joined with frames built from Python
    values, or that needs ``.str`` methods: select the few rows and columns
    first, then ``plain`` them, so only those are converted.
    """
    schema = df.collect_schema() if isinstance(df, pl.LazyFrame) else df.schema
    cols = [n for n, t in schema.items() if isinstance(t, (pl.Categorical, pl.Enum)) and (not columns or n in columns)]
    return df.with_columns(pl.col(cols).cast(pl.String)) if cols else df


def by_value(
    frame: pl.DataFrame, column: str, fn: Callable[[pl.Expr], pl.Expr], return_dtype: pl.DataType | None = None
) -> pl.Expr:
    """``fn`` (string expressions) worked out once per distinct value of
    ``column`` and mapped back onto the rows.

    For string work on a compact column (a folder from ``file``, a prefix of
    ``account`` ...): the strings are handled once each instead of once a row.
    The result is Categorical unless ``return_dtype`` says otherwise.
    """
    values = frame.get_column(column).drop_nulls().unique().cast(pl.String)
    mapped = pl.select(fn(pl.lit(values)).alias("v")).to_series()
    dtype = return_dtype or pl.Categorical()
    return pl.col(column).replace_strict(values, mapped, default=None, return_dtype=dtype)
