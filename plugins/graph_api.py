"""Source plugin: raw Graph API ``POST /{pixel_id}/events`` responses.

Two sources are registered:

``graph_api`` (framing ``entries``)
    Log files holding responses, one canonical ``api_response`` row per
    response, in any of these shapes (mixed freely in one file):

    * NDJSON of bare bodies: ``{"events_received":1,...}`` / ``{"error":{...}}``;
    * NDJSON of wrapped bodies: ``{"ts": ..., "pixel_id": ..., "status": 200,
      "sent": 50, "response": {...}}`` -- wrapper keys in :data:`WRAPPER_KEYS`,
      the body an object or a JSON string;
    * ``<timestamp> <json>`` lines (ISO with/without ms/zone, or
      ``YYYY-MM-DD HH:MM:SS``; Monolog's trailing ``[] []`` is tolerated);
    * the Python business SDK's multi-line ``Message: Call was not successful``
      block (``Path:``/``Status:``/``Response:`` + pretty JSON), with or without
      a logging prefix line and a traceback repeating it;
    * Guzzle ``... resulted in a `400 Bad Request` response:`` followed by a
      body cut at ~120 characters ``(truncated...)``: code/subcode/type are read
      with regular expressions;
    * HTML 5xx pages (``Sorry, something went wrong``);
    * transport failures that name the Graph endpoint (``cURL error 28 ...``),
      wrapper objects whose ``error`` is a plain string or a client error
      object without a numeric code (``{"code": "ETIMEDOUT"}``);
    * a printed Python repr of a success body (``{'events_received': 20, ...}``).

    Grouping: a record starts at a timestamped line, a ``{``/``<!DOCTYPE``
    line in column 0 (not right after a line ending in ``:``), an SDK
    ``Message:`` line not preceded by its logging prefix, or the line after a
    complete one-line JSON record.  Lines that are not responses come back as
    rejects (``file``, ``line`` of the record's first line, ``reason``).

``graph_api_array`` (framing ``document``)
    A JSON array (``gcloud ... --format=json`` style, pretty-printed, maybe
    ``.json.gz``) of bodies or wrapped bodies.

Everything is Polars expressions over whole batches: lines are grouped into
records with a cumulative sum, JSON is decoded with ``str.json_decode`` and an
explicit dtype chosen per *shape* of row (the container keys' JSON kinds), with
``json_path_match`` as the fallback for rows whose shape a dtype cannot hold.
Records are classified by ``error.code``/``error_subcode``, never by the
(localised) text.  ``message`` and ``extra`` are redacted with
:func:`auditor.redact.redact_expr`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from auditor import ParseContext, Source, empty_frame, hookimpl
from auditor.redact import redact_expr
from auditor.attribution import fill_pixel_by_folder

CONNECTOR = "graph-api-log"
S = pl.String
UTC = pl.Datetime("us", "UTC")
REJECT_SCHEMA = {"file": pl.String, "line": pl.Int64, "reason": pl.String}
MESSAGE_CHARS = 200

# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------

#: Wrapper keys (first present wins) -> canonical meaning.
WRAPPER_KEYS: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "logged_at", "date", "@timestamp", "datetime"),
    "pixel": ("pixel_id", "pixel", "dataset_id"),
    "status": ("status", "http_status", "status_code", "statusCode"),
    "sent": ("sent", "events_sent", "batch_size"),
    "url": ("url", "path", "uri", "endpoint"),
}
#: Keys that may hold the Graph body (an object, or the body as a JSON string).
BODY_KEYS = ("response", "body", "result", "data", "jsonPayload", "textPayload")
ERROR_FIELDS = (
    "message", "type", "code", "error_subcode", "is_transient", "error_user_title", "fbtrace_id",
)
CONTAINER_KEYS = ("error", *BODY_KEYS)
#: Flat String columns every decode produces (whatever the input shape).
FLAT = (
    "w_ts", "w_pixel", "w_status", "w_sent", "w_url",
    "events_received", "fbtrace_id",
    *(f"e_{f}" for f in ERROR_FIELDS),
    "err_text", "body_text",
)

# --------------------------------------------------------------------------
# Line patterns (Rust regex syntax; ENTRY_START is Python ``re`` for the reader)
# --------------------------------------------------------------------------

_TS_HEAD = r"\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"
_TS_PREFIX = (
    r"^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?"
    r"(?:[ ]?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?)\]?"
)
#: A record starts at a timestamped line, or at a ``{`` / ``<!DOCTYPE`` line in
#: column 0 -- unless the previous line ends with ``:`` (Guzzle's
#: ``... response:`` puts the body on the next line) -- or at ``<html`` unless
#: the previous line ends with ``>`` (the doctype).  Only the reader's
#: Python ``re`` sees the look-behinds; :func:`_group_records` applies the same
#: rule with column expressions.
ENTRY_START = (
    r"^(?:" + _TS_HEAD
    + r"|(?<!:\n)(?<!: \n)(?<!:\r\n)(?<!: \r\n)(?:\{|(?i:<!doctype))"
    + r"|(?<!:\n)(?<!: \n)(?<!:\r\n)(?<!: \r\n)(?<!>\n)(?<!>\r\n)(?i:<html))"
)
_SDK_LINE = r"^\s*Message: Call was not successful"

_URL = r"(?:/(v\d+\.\d+))?/(\d{5,20})/events\b"
_GUZZLE = r"resulted in a `(\d{3})[^`]*` response"
_HTML = r"(?i)<!doctype html|<html[\s>]"
_SORRY = r"(?i)(sorry, something went wrong\.?)"
_TRANSPORT_WORDS = (
    r"curl error \d+|timed? ?out|could not resolve host|connection (?:refused|reset)|"
    r"\bssl\b|econnreset|etimedout|econnrefused|enotfound|eai_again|socket hang up|"
    r"network is unreachable|failed to connect"
)
_TRANSPORT = rf"(?i)(?:{_TRANSPORT_WORDS})"
_JSON_TAIL = r"\s*(?:\[\]\s*)*$"  # Monolog appends "[] []" (context, extra)

_WOO = re.compile(
    r"Facebook-for-WooCommerce|facebook_for_woocommerce|^\s*method: POST\b|^\d{2}-\d{2}-\d{4} @ \d",
    re.M,
)
_GCLOUD = re.compile(r'"(?:logName|insertId|ResponseBody|ResponseStatusCode)"\s*:')
_MARKER = re.compile(
    r'"events_received"\s*:|"error"\s*:\s*\{[^{}]*"code"\s*:|"fbtrace_id"\s*:|'
    r"Call was not successful|graph\.facebook\.com/\S*/events\S* resulted in|"
    r"\(truncated\.\.\.\)|Sorry, something went wrong"
)
_START_LINE = re.compile(r"^(?:\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\{|\s*Message: )", re.M)


# --------------------------------------------------------------------------
# Sniffing (Python over the 64 KiB head only)
# --------------------------------------------------------------------------

def _head_text(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", errors="replace")
    return head.decode("utf-8", errors="replace")


def _looks_like_array(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith("[") and stripped[1:].lstrip()[:1] in ("{", "]", "")


def _marker_score(text: str) -> float:
    hits = len(_MARKER.findall(text))
    if not hits:
        return 0.0
    starts = max(len(_START_LINE.findall(text)), 1)
    ratio = hits / starts
    score = 0.8 if ratio >= 0.5 else 0.6 if ratio >= 0.1 else 0.4
    if _GCLOUD.search(text):  # sGTM/Stape LogEntries: the sgtm source reads those
        score = min(score, 0.3)
    if _WOO.search(text):  # WooCommerce logs: the woocommerce source reads those
        score = min(score, 0.2)
    return score


def sniff_lines(file_name: str, head: bytes) -> float:
    text = _head_text(head)
    if _looks_like_array(text):
        return min(_marker_score(text), 0.1)
    return _marker_score(text)


def sniff_array(file_name: str, head: bytes) -> float:
    text = _head_text(head)
    if not _looks_like_array(text):
        return 0.0
    return _marker_score(text)


# --------------------------------------------------------------------------
# Lines -> records
# --------------------------------------------------------------------------

def _group_records(batch: pl.DataFrame) -> pl.DataFrame:
    """Group a ``file, line, text`` batch into records ``rid, file, line, rec``.

    Same start rule as :data:`ENTRY_START`, plus two finer cuts the reader
    does not need: the line after a complete one-line JSON record starts a new
    record (noise lines are not glued to a good response), and an SDK
    ``Message: Call was not successful`` line starts a record unless the
    previous non-blank line is a logging prefix (ends with ``:``, or is a
    timestamped line not ending in ``}``/``]``/``)``) that it continues.
    """
    text = pl.col("text")
    # per-line booleans first (cheap, mostly literal tests), then shift booleans
    feats = batch.with_columns(
        (text.str.strip_chars() == "").alias("_blank"),
        text.str.contains("^" + _TS_HEAD).alias("_ts"),
        text.str.starts_with("{").alias("_brace"),
        (text.str.starts_with("<") & text.str.contains(r"^(?i:<!doctype)")).alias("_doctype"),
        (text.str.starts_with("<") & text.str.contains(r"^(?i:<html)")).alias("_html"),
        (text.str.ends_with(":") | text.str.ends_with(": ")).alias("_colon"),
        text.str.ends_with(">").alias("_gt"),
        (text.str.ends_with("}") | text.str.ends_with("[]")).alias("_closes"),
        text.str.contains(_SDK_LINE).alias("_sdk"),
        text.str.contains(r":\s*$").alias("_colon_ws"),
        text.str.contains(r"[}\])]\s*$").alias("_closes_ws"),
    )
    b = pl.col
    after_colon = b("_colon").shift(1).fill_null(False)
    after_gt = b("_gt").shift(1).fill_null(False)
    # a one-line JSON response ends its record: unrelated lines after it start anew
    prev_complete = ((b("_brace") | b("_ts")) & b("_closes")).shift(1).fill_null(False)
    prefix = b("_colon_ws") | (b("_ts") & ~b("_closes_ws"))
    prev_prefix = pl.when(~b("_blank")).then(prefix).otherwise(None).shift(1).forward_fill().fill_null(False)
    start = (
        prev_complete
        | b("_ts")
        | ((b("_brace") | b("_doctype")) & ~after_colon)
        | (b("_html") & ~after_colon & ~after_gt)
        | (b("_sdk") & ~prev_prefix)
    )
    lines = (
        feats.with_columns(start.or_(pl.int_range(pl.len()) == 0).alias("_start"))
        .with_columns(pl.col("_start").cum_sum().alias("rid"))
        .filter(~pl.col("_blank"))
    )
    rid = pl.col("rid")
    lone = (rid != rid.shift(1)).fill_null(True) & (rid != rid.shift(-1)).fill_null(True)
    lines = lines.with_columns(lone.alias("_lone"))
    single = lines.filter(pl.col("_lone")).select("rid", "file", "line", pl.col("text").alias("rec"))
    multi = (
        lines.filter(~pl.col("_lone"))
        .group_by("rid", maintain_order=True)
        .agg(pl.col("file").first(), pl.col("line").first(), pl.col("text").str.join("\n").alias("rec"))
    )
    return pl.concat([single, multi], how="vertical").sort("rid")


# --------------------------------------------------------------------------
# JSON decoding with shape gating
# --------------------------------------------------------------------------

_CONTAINER_TOKEN = '"(?:' + "|".join(CONTAINER_KEYS) + r')"\s*:\s*\S'
_WRAPPER_NAMES = [f'"{k}"' for keys in WRAPPER_KEYS.values() for k in keys]


def _shape(col: pl.Expr) -> pl.Expr:
    """A row's shape key: ``w``/``-`` (a wrapper key name occurs) then each
    ``"container":<first char of value>`` in order of appearance.

    One ``extract_all`` pass: much cheaper than one extract per key.
    """
    tokens = col.str.extract_all(_CONTAINER_TOKEN).list.join("|")
    flag = pl.when(col.str.contains_any(_WRAPPER_NAMES)).then(pl.lit("w")).otherwise(pl.lit("-"))
    key = pl.concat_str([flag, pl.lit("|"), tokens.fill_null("")]).str.replace_all(r"\s+", "")
    return key.str.replace_all(r':[^\[{"|]', ":x")  # any scalar is one kind: fewer partitions


def _kinds(shape: str) -> tuple[bool, dict[str, str]]:
    """Parse a :func:`_shape` key: wrapper flag, and the JSON kind of the first
    occurrence of each container key: o(bject) s(tring) a(rray) x(scalar/null)."""
    flag, _, rest = shape.partition("|")
    kinds: dict[str, str] = {}
    for token in filter(None, rest.split("|")):
        key, _, first = token.rpartition(":")
        key = key.strip('"')
        kinds.setdefault(key, {"{": "o", '"': "s", "[": "a"}.get(first, "x"))
    return flag == "w", kinds


def _err_dtype(kind: str) -> pl.DataType | None:
    if kind == "o":
        return pl.Struct({f: S for f in ERROR_FIELDS})
    if kind == "a":
        return None
    return S


def _body_dtype(err_kind: str) -> pl.Struct:
    fields: dict[str, pl.DataType] = {"events_received": S, "fbtrace_id": S}
    err = _err_dtype(err_kind)
    if err is not None:
        fields["error"] = err
    return pl.Struct(fields)


def _dtype_for(shape: str) -> pl.Struct:
    """The decode dtype for one :func:`_shape` key.  Keys whose value is an
    array are left out (unknown keys are ignored by ``json_decode``); fewer
    fields also decode faster, so bare bodies get a small dtype."""
    wrapper, kinds = _kinds(shape)
    kinds = {k: kinds.get(k, "-") for k in CONTAINER_KEYS}
    fields: dict[str, pl.DataType] = {}
    if wrapper:
        fields.update({k: S for keys in WRAPPER_KEYS.values() for k in keys})
    fields.update(events_received=S, fbtrace_id=S)
    err = _err_dtype(kinds["error"])
    if err is not None:
        fields["error"] = err
    for key in BODY_KEYS:
        if kinds[key] == "o":
            fields[key] = _body_dtype(kinds["error"])
        elif kinds[key] in ("s", "x"):
            fields[key] = S
    return pl.Struct(fields)


def _path_struct(col: pl.Expr, dtype: pl.Struct, prefix: str = "$") -> pl.Expr:
    """``json_path_match`` version of ``json_decode(dtype)`` (tolerant, slower)."""
    parts = []
    for name, fdt in dtype.to_schema().items():
        path = f"{prefix}.{name}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f"{prefix}['{name}']"
        if isinstance(fdt, pl.Struct):
            parts.append(_path_struct(col, fdt, path).alias(name))
        else:
            parts.append(col.str.json_path_match(path).alias(name))
    return pl.struct(parts)


def _decode_part(part: pl.DataFrame, dtype: pl.Struct) -> pl.DataFrame:
    """Decode ``part.j`` (rows of one shape).  Invalid JSON rows are dropped."""
    j = pl.col("j")
    try:
        return part.select("rid", j.str.json_decode(dtype).alias("d"))
    except pl.exceptions.PolarsError:
        pass
    valid = part.filter(j.str.json_path_match("$").is_not_null())
    try:
        return valid.select("rid", j.str.json_decode(dtype).alias("d"))
    except pl.exceptions.PolarsError:  # a key of an unexpected kind somewhere
        return valid.select("rid", _path_struct(j, dtype).alias("d"))


def _coalesce(exprs: list[pl.Expr]) -> pl.Expr:
    return pl.coalesce(exprs) if exprs else pl.lit(None, dtype=S)


def _flatten(decoded: pl.DataFrame, dtype: pl.Struct) -> pl.DataFrame:
    """Map one shape's decoded struct to the fixed :data:`FLAT` columns."""
    schema = dtype.to_schema()
    d = pl.col("d")
    top = lambda name: d.struct.field(name)  # noqa: E731
    out: dict[str, pl.Expr] = {}
    for canon, keys in WRAPPER_KEYS.items():
        out[f"w_{canon}"] = _coalesce([top(k) for k in keys if k in schema])
    bodies = [k for k in BODY_KEYS if isinstance(schema.get(k), pl.Struct)]
    strings = [k for k in BODY_KEYS if schema.get(k) == S]
    err_struct = isinstance(schema.get("error"), pl.Struct)
    errors = ([top("error")] if err_struct else []) + [
        top(b).struct.field("error") for b in bodies if isinstance(schema[b].to_schema().get("error"), pl.Struct)
    ]
    out["events_received"] = _coalesce(
        [top("events_received")] + [top(b).struct.field("events_received") for b in bodies]
    )
    out["fbtrace_id"] = _coalesce(
        [top("fbtrace_id")]
        + [top(b).struct.field("fbtrace_id") for b in bodies]
        + [e.struct.field("fbtrace_id") for e in errors]
    )
    for f in ERROR_FIELDS:
        out[f"e_{f}"] = _coalesce([e.struct.field(f) for e in errors])
    out["err_text"] = top("error") if schema.get("error") == S else pl.lit(None, dtype=S)
    out["body_text"] = _coalesce([top(k) for k in strings])
    return decoded.select("rid", *(out[c].cast(S).alias(c) for c in FLAT))


def _empty_flat() -> pl.DataFrame:
    return pl.DataFrame(schema={"rid": pl.Int64, **{c: S for c in FLAT}})


def _decode(frame: pl.DataFrame) -> pl.DataFrame:
    """Decode ``frame.j`` (``{...}`` texts keyed by ``rid``) to :data:`FLAT` columns.

    Rows are partitioned by shape so each partition gets a dtype its rows fit;
    rows that are not valid JSON are absent from the result.
    """
    if frame.height == 0:
        return _empty_flat()
    j = pl.col("j")
    shaped = frame.select(pl.col("rid").cast(pl.Int64), "j", _shape(j).alias("_sig"))
    parts = []
    for (sig,), part in shaped.partition_by("_sig", as_dict=True).items():  # loop over shapes, not rows
        dtype = _dtype_for(sig)
        parts.append(_flatten(_decode_part(part, dtype), dtype))
    return pl.concat(parts, how="vertical") if parts else _empty_flat()


def _decode_nested(frame: pl.DataFrame, depth: int = 3) -> pl.DataFrame:
    """Decode ``frame.j`` and, where a body is a JSON *string*, decode that too."""
    flat = _decode(frame)
    level = flat
    for _ in range(depth - 1):
        inner = level.select("rid", pl.col("body_text").str.extract(r"(?s)^\s*(\{.*\})\s*$").alias("j")).drop_nulls("j")
        if inner.height == 0:
            break
        level = _decode(inner)
        merged = flat.join(level, on="rid", how="left", suffix="_in", maintain_order="left")
        flat = merged.select(
            "rid",
            *(pl.coalesce(pl.col(c), pl.col(f"{c}_in")).alias(c) for c in FLAT if c != "body_text"),
            # keep the innermost non-JSON body (e.g. an HTML page) for the page check
            pl.when(pl.col("rid").is_in(level["rid"].implode()))
            .then(pl.col("body_text_in"))
            .otherwise(pl.col("body_text"))
            .alias("body_text"),
        )
    return flat


# --------------------------------------------------------------------------
# Text features (regexes) for records that are not plain JSON lines
# --------------------------------------------------------------------------

def _text_features(rec: pl.Expr) -> list[pl.Expr]:
    first_line = rec.str.extract(r"^([^\n]*)")
    sdk = rec.str.contains("Call was not successful")
    sdk_json = rec.str.extract(r"(?s)Response:[ \t]*\n    (\{.*?\n    \})", 1)
    any_json = rec.str.extract(r"(?s)^[^{]*(\{.*\})" + _JSON_TAIL, 1)
    url = rec.str.extract_groups(_URL)
    guzzle = rec.str.extract(_GUZZLE, 1)
    return [
        rec.str.extract(_TS_PREFIX, 1).alias("t_ts"),
        pl.when(sdk).then(sdk_json).otherwise(any_json).alias("j"),
        sdk.alias("t_sdk"),
        guzzle.alias("t_guzzle"),
        rec.str.contains(r"\(truncated\.\.\.\)").alias("t_truncated"),
        url.struct.field("1").alias("t_version"),
        url.struct.field("2").alias("t_pixel"),
        pl.coalesce(
            guzzle,
            rec.str.extract(r"(?m)^\s*Status:\s+(\d{3})\b", 1),
            rec.str.extract(r"(?i)\bHTTP(?:/\d(?:\.\d)?)?[ :]+(\d{3})\b", 1),
            rec.str.extract(r"(?i)<title>[^<]*?\b([45]\d\d)\b", 1),
            rec.str.extract(
                r"(?i)\b(5\d\d) (?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)", 1
            ),
        ).alias("t_status"),
        rec.str.contains(_HTML).alias("t_html"),
        rec.str.extract(_SORRY, 1).alias("t_sorry"),
        (rec.str.contains(_TRANSPORT) & rec.str.contains(r"(?i)graph\.facebook\.com|/events\b")).alias("t_transport"),
        first_line.str.replace(_TS_PREFIX, "").str.strip_chars(" -:|").alias("t_first"),
    ]


_TEXT_COLS = {
    "t_ts": S, "j": S, "t_sdk": pl.Boolean, "t_guzzle": S, "t_truncated": pl.Boolean,
    "t_version": S, "t_pixel": S, "t_status": S, "t_html": pl.Boolean, "t_sorry": S,
    "t_transport": pl.Boolean, "t_first": S,
}


def _regex_body(rec: pl.Expr) -> list[pl.Expr]:
    """Graph body fields read with regexes (bodies cut by Guzzle, or not JSON)."""
    err = rec.str.extract(r'(?s)"error"\s*:\s*\{(.*)', 1)
    string = r'"((?:[^"\\]|\\.)*)"'
    cut = r'"((?:[^"\\]|\\.)*)'  # Guzzle may cut the string before its closing quote
    truncated = r"\s*\(truncated\.\.\.\)\s*$"
    return [
        err.str.extract(r'"code"\s*:\s*"?(\d+)', 1).alias("r_code"),
        err.str.extract(r'"error_subcode"\s*:\s*"?(\d+)', 1).alias("r_subcode"),
        err.str.extract(r'"type"\s*:\s*' + string, 1).alias("r_type"),
        err.str.extract(r'"is_transient"\s*:\s*(true|false)', 1).alias("r_transient"),
        err.str.extract(r'"message"\s*:\s*' + cut, 1).str.replace(truncated, "…").alias("r_message"),
        err.str.extract(r'"error_user_title"\s*:\s*' + cut, 1).str.replace(truncated, "…").alias("r_title"),
        # also Python reprs ('events_received': 20) that SDK users print
        rec.str.extract(r"""["']fbtrace_id["']\s*:\s*["']([A-Za-z0-9_\-+/=]+)["']""", 1).alias("r_fbtrace"),
        rec.str.extract(r"""["']events_received["']\s*:\s*(\d+)""", 1).alias("r_events"),
    ]


_REGEX_COLS = ("r_code", "r_subcode", "r_type", "r_transient", "r_message", "r_title", "r_fbtrace", "r_events")


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------

def _timestamp(raw: pl.Expr, naive_tz: str) -> pl.Expr:
    """ISO (with/without zone, ``,ms``), ``YYYY-MM-DD HH:MM:SS``, epoch s/ms or an
    HTTP ``Date`` (``Wed, 21 Apr 2021 22:25:38 GMT``) -> UTC."""
    s = raw.str.strip_chars()
    num = s.str.extract(r"^(\d{9,13}(?:\.\d+)?)$", 1).cast(pl.Float64, strict=False)
    micros = pl.when(num >= 1e11).then(num * 1_000).otherwise(num * 1_000_000).cast(pl.Int64, strict=False)
    epoch = pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")
    iso = (  # literal replaces: much cheaper than regexes
        s.str.replace(" ", "T", literal=True)
        .str.replace(",", ".", literal=True)
        .str.replace(" UTC", "Z", literal=True)
        .str.replace(" GMT", "Z", literal=True)
        .str.replace(" +", "+", literal=True)
        .str.replace(" -", "-", literal=True)
    )
    zoned = iso.str.to_datetime("%+", time_unit="us", strict=False)
    naive = (
        iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
        .dt.replace_time_zone(naive_tz, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    http_date = s.str.to_datetime("%a, %d %b %Y %H:%M:%S GMT", time_unit="us", strict=False).dt.replace_time_zone("UTC")
    return pl.coalesce(epoch, zoned.dt.convert_time_zone("UTC"), naive, http_date)


def _timestamp_column(df: pl.DataFrame, col: str, naive_tz: str) -> tuple[pl.DataFrame, bool]:
    """:func:`_timestamp` over the distinct values of ``col`` (log times repeat).

    Also says whether any value had no zone (read in ``naive_tz``)."""
    distinct = df.select(pl.col(col).unique().drop_nulls().alias("k"))
    mapped = distinct.with_columns(
        _timestamp(pl.col("k"), naive_tz).alias("v"),
        pl.col("k").str.contains(r"^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]?$").alias("naive"),
    )
    naive = bool(mapped["naive"].any()) if mapped.height else False
    out = df.with_columns(pl.col(col).replace_strict(mapped["k"], mapped["v"], default=None, return_dtype=UTC))
    return out, naive


def _int(expr: pl.Expr) -> pl.Expr:
    """Integer from a decoded JSON scalar ("100", "100.0" and "400 Bad Request" too)."""
    return expr.str.extract(r"^\s*(-?\d+)", 1).cast(pl.Int64, strict=False)


def _clean_int(expr: pl.Expr) -> pl.Expr:
    """Integer from values that are plain digits (JSON numbers, regex captures)."""
    return expr.cast(pl.Int64, strict=False)


def _bool(expr: pl.Expr) -> pl.Expr:
    low = expr.str.to_lowercase().str.strip_chars()
    return pl.when(low == "true").then(True).when(low == "false").then(False).otherwise(None)


def _unescape(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\/", "/", literal=True).str.replace_all(r"\"", '"', literal=True)


def _short(expr: pl.Expr) -> pl.Expr:
    """Redacted, one line, at most :data:`MESSAGE_CHARS` characters; URL query
    strings (tokens, PII) and cURL's "(see https://curl...)" hint dropped."""
    text = (
        expr.str.replace_all(r"\s+", " ")
        .str.replace_all(r" ?\(see https?://curl\.(?:haxx\.)?se[^)]*\)", "")
        .str.replace_all(r"(https?://[^\s?#]+)\?[^\s]*", "${1}?…")
        .str.strip_chars()
    )
    return redact_expr(text).str.slice(0, MESSAGE_CHARS)


def _redact_columns(df: pl.DataFrame, columns: dict[str, Any]) -> pl.DataFrame:
    """Apply ``columns[name](expr)`` to the *distinct* values of each column.

    Responses repeat the same few texts, so redacting distinct values and
    mapping them back is much cheaper than ten regex passes over every row.
    """
    for name, fn in columns.items():
        distinct = df.select(pl.col(name).unique().drop_nulls().alias("k"))
        mapped = distinct.with_columns(fn(pl.col("k")).alias("v"))
        df = df.with_columns(pl.col(name).replace_strict(mapped["k"], mapped["v"], default=None, return_dtype=S))
    return df


# --------------------------------------------------------------------------
# Records -> canonical rows
# --------------------------------------------------------------------------

def _records_to_rows(
    recs: pl.DataFrame, flat: pl.DataFrame, ctx: ParseContext, fmt_default: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``recs``: rid, file, line, rec?, j and the ``t_*`` text columns;
    ``flat``: decoded :data:`FLAT` columns keyed by rid."""
    naive_tz = str(ctx.options.get("site_timezone") or "UTC")
    df = recs.join(flat.with_columns(pl.lit(True).alias("_valid")), on="rid", how="left", maintain_order="left")

    # Regex fallback only where no JSON could be decoded (cut bodies, SDK text).
    rec = pl.col("rec")
    need_rx = pl.col("_valid").is_null() & (
        (
            rec.str.contains(r'"(?:error|events_received)"\s*:')
            & (pl.col("t_guzzle").is_not_null() | pl.col("t_truncated") | pl.col("t_sdk"))
        )
        | rec.str.contains(r"""'events_received'\s*:\s*\d""")  # a Python repr of the body
    )
    rx_rows = df.filter(need_rx)
    rx = rx_rows.select("rid", *_regex_body(pl.col("rec")))
    df = df.join(rx, on="rid", how="left", maintain_order="left")
    if rx.height == 0:
        df = df.with_columns(pl.lit(None, dtype=S).alias(c) for c in _REGEX_COLS)

    c = pl.col
    body_html = c("body_text").str.contains(_HTML).fill_null(False)
    html = c("t_html").fill_null(False) | body_html
    err_code = _clean_int(pl.coalesce(c("e_code"), c("r_code")))
    err_sub = _clean_int(pl.coalesce(c("e_error_subcode"), c("r_subcode")))
    err_type = pl.coalesce(c("e_type"), _unescape(c("r_type")))
    err_msg = pl.coalesce(c("e_message"), _unescape(c("r_message")))
    err_title = pl.coalesce(c("e_error_user_title"), _unescape(c("r_title")))
    events = _clean_int(pl.coalesce(c("events_received"), c("r_events")))
    page_status = c("body_text").str.extract(r"(?i)<title>[^<]*?\b([45]\d\d)\b", 1)
    status = _int(pl.coalesce(c("w_status"), c("t_status"), page_status))
    # an error object without a numeric code or a type that names a network
    # failure is a client-side error object (e.g. Node's {code: "ETIMEDOUT"})
    client_error = (
        (c("e_code").is_not_null() & err_code.is_null())
        | (err_code.is_null() & err_type.is_null() & err_msg.str.contains(_TRANSPORT))
    ).fill_null(False)
    has_error = ~client_error & (
        err_code.is_not_null() | err_sub.is_not_null() | err_type.is_not_null() | err_msg.is_not_null()
    )
    transport = c("err_text").is_not_null() | c("t_transport").fill_null(False) | client_error
    guzzle = c("t_guzzle").is_not_null()

    signal = (
        pl.when(has_error).then(pl.lit("graph_error"))
        .when(events.is_not_null()).then(pl.lit("success"))
        .when(html).then(pl.lit("server_error_page"))
        .when(guzzle & (status >= 500)).then(pl.lit("server_error_page"))
        .when(guzzle).then(pl.lit("graph_error"))
        .when(transport).then(pl.lit("transport_error"))
        .otherwise(None)
    )
    df = df.with_columns(
        signal.alias("signal"), err_code.alias("error_code"), err_sub.alias("error_subcode"),
        err_type.alias("error_type"), err_msg.alias("_emsg"), err_title.alias("_etitle"),
        events.alias("events_received"), status.alias("http_status"),
    )

    pixel = pl.coalesce(
        c("w_pixel").str.extract(r"^\s*(\d{5,20})\s*$", 1),
        c("w_url").str.extract(_URL, 2),
        c("t_pixel"),
    )
    version = pl.coalesce(c("w_url").str.extract(_URL, 1), c("t_version"))
    code_part = pl.concat_str(
        [pl.lit("code "), c("error_code").cast(S), pl.lit("/") + c("error_subcode").cast(S)], ignore_nulls=True
    )
    err_text = pl.concat_str(
        [
            pl.when(c("error_code").is_not_null()).then(code_part),
            pl.when(c("error_type").is_not_null()).then(pl.lit(" ") + c("error_type")),
            pl.lit(": "),
            c("_emsg"),
            pl.when(c("_etitle").is_not_null()).then(pl.lit(" (") + c("_etitle") + pl.lit(")")),
        ],
        ignore_nulls=True,
    ).str.strip_chars(" :")
    page_text = pl.concat_str(
        [
            pl.lit("HTML error page"),
            pl.when(c("http_status").is_not_null()).then(pl.lit(" (HTTP ") + c("http_status").cast(S) + pl.lit(")")),
            pl.when(c("t_sorry").is_not_null()).then(pl.lit(": ") + c("t_sorry")),
            pl.when(c("t_sorry").is_null() & body_html & c("body_text").str.contains(_SORRY))
            .then(pl.lit(": ") + c("body_text").str.extract(_SORRY, 1)),
        ],
        ignore_nulls=True,
    )
    status_text = pl.concat_str(
        [pl.lit("HTTP "), c("http_status").cast(S), pl.lit(" "), c("t_first")], ignore_nulls=True
    )
    message = (
        pl.when(c("signal") == "graph_error")
        .then(pl.when(err_text.str.len_chars() > 0).then(err_text).otherwise(status_text))
        .when(c("signal") == "success")
        .then(pl.lit("events_received=") + c("events_received").cast(S))
        .when(c("signal") == "server_error_page")
        .then(page_text)
        .when(c("signal") == "transport_error")
        .then(
            pl.coalesce(
                c("err_text"),
                c("_emsg"),
                c("t_first").str.extract(rf"(?i)((?:{_TRANSPORT_WORDS}).*)", 1),
                c("t_first"),
            )
        )
    )
    fmt = (
        pl.when(c("t_sdk").fill_null(False)).then(pl.lit("python-sdk"))
        .when(guzzle).then(pl.lit("guzzle"))
        .when(c("_valid").is_null() & html).then(pl.lit("html"))
        .when(c("_valid").is_null()).then(pl.lit("text"))
        .when(c("t_ts").is_not_null()).then(pl.lit("prefixed"))
        .when(pl.any_horizontal(c(f"w_{k}").is_not_null() for k in WRAPPER_KEYS) | c("body_text").is_not_null())
        .then(pl.lit("wrapped"))
        .otherwise(pl.lit(fmt_default))
    )
    extra = pl.struct(fmt.alias("format"), c("_etitle").alias("error_user_title")).struct.json_encode()

    rows = df.filter(c("signal").is_not_null()).select(
        pl.lit(ctx.source).alias("source"),
        "file",
        c("line").cast(pl.Int64),
        pl.lit("api_response").alias("kind"),
        pl.coalesce(c("w_ts"), c("t_ts")).alias("logged_at"),
        pixel.alias("pixel_id"),
        pixel.alias("account"),
        pl.lit(CONNECTOR).alias("connector"),
        version.alias("graph_version"),
        "http_status", "error_code", "error_subcode", "error_type",
        _bool(pl.coalesce(c("e_is_transient"), c("r_transient"))).alias("is_transient"),
        "events_received",
        pl.coalesce(c("fbtrace_id"), c("r_fbtrace")).str.extract(r"^([A-Za-z0-9_\-+/=]{1,64})$", 1).alias("fbtrace_id"),
        _int(c("w_sent")).alias("batch_size"),
        "signal",
        message.alias("message"),
        extra.alias("extra"),
    )
    rows = _redact_columns(rows, {"message": _short, "extra": redact_expr})
    rows, naive_seen = _timestamp_column(rows, "logged_at", naive_tz)
    if naive_seen:
        ctx.note(f"graph_api: timestamps without a zone were read as {naive_tz} (option site_timezone)")
    looks_json = c("rec").str.replace(_TS_PREFIX, "").str.strip_chars().str.starts_with("{").fill_null(False)
    wrapper_only = pl.any_horizontal(c(f"w_{k}").is_not_null() for k in WRAPPER_KEYS)
    rejects = df.filter(c("signal").is_null()).select(
        "file",
        c("line").cast(pl.Int64),
        pl.when(c("j").is_not_null() & c("_valid").is_null()).then(pl.lit("malformed JSON"))
        .when(looks_json & c("_valid").is_null()).then(pl.lit("malformed JSON (incomplete object)"))
        .when(wrapper_only).then(pl.lit("not a Graph API response (wrapper without a response body)"))
        .otherwise(pl.lit("not a Graph API response"))
        .alias("reason"),
    )
    return rows, rejects


def parse_lines(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``entries`` batch -> (api_response rows, rejects)."""
    if batch.height == 0:
        return empty_frame(), pl.DataFrame(schema=REJECT_SCHEMA)
    recs = _group_records(batch).with_columns(pl.col("rid").cast(pl.Int64))
    rec = pl.col("rec")
    # Fast path: one-line records that are a JSON object (NDJSON) need no regexes.
    one_line = ~rec.str.contains("\n", literal=True)
    plain = rec.str.starts_with("{") & rec.str.strip_chars_end().str.ends_with("}") & one_line
    fast = recs.filter(plain).with_columns(
        rec.str.strip_chars_end().alias("j"),
        *(pl.lit(None, dtype=dt).alias(name) for name, dt in _TEXT_COLS.items() if name != "j"),
    )
    # Next fastest: one-line '<timestamp> ... {json}' records; only the short
    # prefix before the JSON is searched for URL / HTTP status.
    prefixed = (
        ~plain
        & one_line
        & rec.str.contains(_TS_PREFIX + r"[^{]*\{.*\}" + _JSON_TAIL)
        & ~rec.str.contains("resulted in a", literal=True)
    )
    pre = rec.str.extract(r"^([^{]*)", 1)
    url = pre.str.extract_groups(_URL)
    quick = recs.filter(prefixed).with_columns(
        rec.str.extract(_TS_PREFIX, 1).alias("t_ts"),
        rec.str.extract(r"^[^{]*(\{.*\})" + _JSON_TAIL, 1).alias("j"),
        url.struct.field("1").alias("t_version"),
        url.struct.field("2").alias("t_pixel"),
        pre.str.extract(r"(?i)\bHTTP(?:/\d(?:\.\d)?)?[ :]+(\d{3})\b", 1).alias("t_status"),
        *(
            pl.lit(None, dtype=dt).alias(name)
            for name, dt in _TEXT_COLS.items()
            if name not in ("t_ts", "j", "t_version", "t_pixel", "t_status")
        ),
    )
    slow = recs.filter(~plain & ~prefixed).with_columns(_text_features(rec))
    recs = pl.concat([fast, quick.select(fast.columns), slow.select(fast.columns)], how="vertical").sort("rid")
    flat = _decode_nested(recs.filter(pl.col("j").is_not_null()).select("rid", "j"))
    return _records_to_rows(recs, flat, ctx, "ndjson")


# --------------------------------------------------------------------------
# JSON array documents
# --------------------------------------------------------------------------

def _element_lines(text: str, n: int) -> pl.Series:
    """1-based start line of each top-level array element.

    Bracket depth per line is a cumulative sum of opening minus closing
    brackets (string literals removed first); an element starts on a line that
    begins at depth 1, or on the ``[`` line itself when a value follows it.
    When that does not give exactly ``n`` lines (several elements on one line),
    every element gets the line of the first one.
    """
    lines = pl.DataFrame({"t": pl.Series([text]).str.split("\n").explode()}).with_row_index("line", offset=1)
    # only lines holding a bracket change the depth: count those, scatter back
    brackets = lines.filter(pl.col("t").str.contains_any(["[", "]", "{", "}"]))
    bare = pl.col("t").str.replace_all(r'"(?:[^"\\]|\\.)*"', '""')
    net_br = brackets.select(
        bare.str.count_matches(r"[\[{]").cast(pl.Int64) - bare.str.count_matches(r"[\]}]").cast(pl.Int64)
    ).to_series()
    net = pl.zeros(lines.height, dtype=pl.Int64, eager=True).scatter(
        (brackets["line"] - 1).cast(pl.Int64), net_br
    )
    depth = (net.cum_sum() - net).alias("depth")
    marked = lines.with_columns(depth).filter(pl.col("depth") <= 1)
    starts = marked.filter(
        ((pl.col("depth") == 1) & pl.col("t").str.contains(r"^\s*[^\s\]},]"))
        | ((pl.col("depth") == 0) & pl.col("t").str.contains(r"^\s*\[\s*[^\s\]]"))
    )["line"].cast(pl.Int64)
    if starts.len() == n:
        return starts
    first = int(starts[0]) if starts.len() else 1
    return pl.Series([first] * n, dtype=pl.Int64)


def parse_array(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``document`` batch (one row: a JSON array) -> (api_response rows, rejects)."""
    rows_out, rejects_out = [], []
    for file, text in batch.select("file", "text").iter_rows():  # one row per file
        rows, rejects = _parse_array_document(file, text, ctx)
        rows_out.append(rows)
        rejects_out.append(rejects)
    kept = [r for r in rows_out if r.height]
    rows = pl.concat(kept, how="diagonal_relaxed") if kept else empty_frame()
    return rows, pl.concat(rejects_out, how="vertical") if rejects_out else pl.DataFrame(schema=REJECT_SCHEMA)


def _array_elements(text: str) -> tuple[pl.DataFrame, pl.Struct | None]:
    """``rid, j`` -- each element's JSON text.

    Decoded with Polars when every element is an object whose shape one dtype
    can hold; otherwise (mixed shapes) the document is split with the ``json``
    module -- once per document, not per record.
    """
    doc = pl.DataFrame({"j": [text]})
    sig = "w" + doc.select(_shape(pl.col("j"))).item()[1:]
    dtype = _dtype_for(sig)
    try:
        elems = doc.select(pl.col("j").str.json_decode(pl.List(dtype)).alias("d")).explode("d")
        return elems.with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64)), dtype
    except pl.exceptions.PolarsError:
        pass
    data = json.loads(text)  # raises ValueError for a broken document
    if not isinstance(data, list):
        raise ValueError("not a JSON array")
    texts = [json.dumps(e, ensure_ascii=False) if isinstance(e, dict) else None for e in data]
    frame = pl.DataFrame({"j": texts}, schema={"j": S}).with_row_index("rid")
    return frame.with_columns(pl.col("rid").cast(pl.Int64)), None


def _parse_array_document(file: str, text: str, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    try:
        elems, dtype = _array_elements(text)
    except ValueError as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        reason = f"malformed JSON array{where}"
        return empty_frame(), pl.DataFrame({"file": [file], "line": [1], "reason": [reason]}, schema=REJECT_SCHEMA)
    n = elems.height
    if n == 0:
        return empty_frame(), pl.DataFrame(schema=REJECT_SCHEMA)
    lines = _element_lines(text, n)
    if dtype is not None:  # decoded by Polars: a null element is not an object
        flat = _flatten(elems.drop_nulls("d"), dtype)
        inner = flat.select("rid", pl.col("body_text").str.extract(r"(?s)^\s*(\{.*\})\s*$").alias("j")).drop_nulls("j")
        if inner.height:
            nested = _decode_nested(inner)
            flat = flat.join(nested, on="rid", how="left", suffix="_in", maintain_order="left").select(
                "rid",
                *(pl.coalesce(pl.col(c), pl.col(f"{c}_in")).alias(c) for c in FLAT if c != "body_text"),
                pl.coalesce(pl.col("body_text_in"), pl.col("body_text")).alias("body_text"),
            )
        j = pl.when(pl.col("d").is_not_null()).then(pl.lit("{}"))
    else:
        flat = _decode_nested(elems.drop_nulls("j"))
        j = pl.col("j")
    recs = elems.select(
        "rid",
        pl.lit(file).alias("file"),
        pl.Series("line", lines),
        pl.lit(None, dtype=S).alias("rec"),
        j.alias("j"),
        *(pl.lit(None, dtype=dt).alias(name) for name, dt in _TEXT_COLS.items() if name != "j"),
    )
    return _records_to_rows(recs, flat, ctx, "array")


# --------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------

def finalize(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Attribute responses that name no pixel (bare bodies) to their folder's pixel."""
    return fill_pixel_by_folder(frame, ctx)


SOURCE = Source(
    name="graph_api",
    sniff=sniff_lines,
    parse=parse_lines,
    finalize=finalize,
    framing="entries",
    entry_start=ENTRY_START,
    description="Graph API /events responses: NDJSON (bare or wrapped), '<timestamp> <json>' lines, "
    "Python SDK 'Call was not successful' blocks, Guzzle '(truncated...)' errors, HTML 5xx pages",
)
ARRAY_SOURCE = Source(
    name="graph_api_array",
    sniff=sniff_array,
    parse=parse_array,
    finalize=finalize,
    framing="document",
    description="JSON array export (gcloud --format=json style, maybe .json.gz) of Graph API /events responses",
)


@hookimpl
def capi_auditor_register_sources(register: Any) -> None:
    register(SOURCE)
    register(ARRAY_SOURCE)
