"""JSON decoding with shape gating.

Rows are partitioned by *shape* -- whether a wrapper key occurs, and the JSON
kind of each container key (``error``, ``response``, ``body`` ...) -- so each
partition is decoded with ``str.json_decode`` and a dtype its rows fit, with
``json_path_match`` as the fallback for rows whose shape a dtype cannot hold.
Every decode ends as the same flat String columns (:data:`.patterns.FLAT`).
"""

from __future__ import annotations

import re

import polars as pl

from auditor.jsonsafe import text_slices

from .patterns import BODY_KEYS, CONTAINER_KEYS, ERROR_FIELDS, FLAT, WRAPPER_KEYS, S

_CONTAINER_TOKEN = '"(?:' + "|".join(CONTAINER_KEYS) + r')"\s*:\s*\S'
_WRAPPER_NAMES = [f'"{k}"' for keys in WRAPPER_KEYS.values() for k in keys]


def shape(col: pl.Expr) -> pl.Expr:
    """A row's shape key: ``w``/``-`` (a wrapper key name occurs) then each
    ``"container":<first char of value>`` in order of appearance.

    One ``extract_all`` pass: much cheaper than one extract per key.
    """
    tokens = col.str.extract_all(_CONTAINER_TOKEN).list.join("|")
    flag = pl.when(col.str.contains_any(_WRAPPER_NAMES)).then(pl.lit("w")).otherwise(pl.lit("-"))
    key = pl.concat_str([flag, pl.lit("|"), tokens.fill_null("")]).str.replace_all(r"\s+", "")
    return key.str.replace_all(r':[^\[{"|]', ":x")  # any scalar is one kind: fewer partitions


def _kinds(sig: str) -> tuple[bool, dict[str, str]]:
    """Parse a :func:`shape` key: wrapper flag, and the JSON kind of the first
    occurrence of each container key: o(bject) s(tring) a(rray) x(scalar/null)."""
    flag, _, rest = sig.partition("|")
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


def dtype_for(sig: str) -> pl.Struct:
    """The decode dtype for one :func:`shape` key.  Keys whose value is an
    array are left out (unknown keys are ignored by ``json_decode``); fewer
    fields also decode faster, so bare bodies get a small dtype."""
    wrapper, kinds = _kinds(sig)
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
    """Decode ``part.j`` (rows of one shape) a few MiB of text at a time, like
    :func:`auditor.jsonsafe.safe_json_decode` (the decoder's working memory
    stays small).  Invalid JSON rows are dropped."""
    slices = [_decode_slice(part.slice(offset, length), dtype) for offset, length in text_slices(part.get_column("j"))]
    return slices[0] if len(slices) == 1 else pl.concat(slices, rechunk=False)


def _decode_slice(part: pl.DataFrame, dtype: pl.Struct) -> pl.DataFrame:
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


def flatten(decoded: pl.DataFrame, dtype: pl.Struct) -> pl.DataFrame:
    """Map one shape's decoded struct (column ``d``) to the fixed :data:`FLAT` columns."""
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


def empty_flat() -> pl.DataFrame:
    """A zero-row ``rid`` + :data:`FLAT` frame."""
    return pl.DataFrame(schema={"rid": pl.Int64, **{c: S for c in FLAT}})


def _decode(frame: pl.DataFrame) -> pl.DataFrame:
    """Decode ``frame.j`` (``{...}`` texts keyed by ``rid``) to :data:`FLAT` columns.

    Rows are partitioned by shape so each partition gets a dtype its rows fit;
    rows that are not valid JSON are absent from the result.
    """
    if frame.height == 0:
        return empty_flat()
    j = pl.col("j")
    shaped = frame.select(pl.col("rid").cast(pl.Int64), "j", shape(j).alias("_sig"))
    parts = []
    for (sig,), part in shaped.partition_by("_sig", as_dict=True).items():  # loop over shapes, not rows
        dtype = dtype_for(sig)
        parts.append(flatten(_decode_part(part, dtype), dtype))
    return pl.concat(parts, how="vertical") if parts else empty_flat()


def decode_nested(frame: pl.DataFrame, depth: int = 3) -> pl.DataFrame:
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
