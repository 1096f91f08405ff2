"""Source plugin: CAPI request payloads as in-house senders save them.

Reads files of ``POST /{pixel}/events`` request bodies
``{"data": [...events...], "test_event_code"?, "partner_agent"?, "access_token"?}``:

* one object per file, compact or pretty-printed (several may follow each other);
* NDJSON, one payload per line;
* wrapped: ``{"sent_at"|"ts"|…: time, "pixel_id"|"url": …, "status"?,
  "request"|"payload"|"body": {payload}, "response"?: {graph answer}}``;
* a response object (``{"events_received": 1, …}`` / ``{"error": {…}}``) saved
  on the line after its request;
* ``data`` as a JSON string (the SDKs' form-post spelling).

Each event of ``data`` becomes a ``server_event`` row (so every payload check
applies), each saved answer an ``api_response`` row of the same ``batch_id``.
``access_token`` / ``appsecret_proof`` are never decoded, let alone kept.
Rows that name no pixel get their folder's only pixel in ``finalize``.

Module map: :mod:`.sniff`, :mod:`.records` (lines -> JSON records),
:mod:`.decode` (declared dtypes), :mod:`.times`, :mod:`.rows` (rows, rejects).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from auditor import REJECT_SCHEMA, ParseContext, Source, conform, empty_frame, hookimpl
from auditor.attribution import fill_pixel_by_folder

from .decode import decode_records
from .records import ENTRY_START, group_records
from .rows import records_to_rows
from .sniff import sniff

__all__ = ["ENTRY_START", "SOURCE", "capi_auditor_register_sources", "finalize", "parse", "sniff"]


def parse(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``entries`` batch -> (server_event and api_response rows, rejects)."""
    if batch.height == 0:
        return empty_frame(), pl.DataFrame(schema=REJECT_SCHEMA)
    recs = group_records(batch)
    flat = decode_records(recs.select("rid", "rec"))
    rows, rejects = records_to_rows(recs, flat, ctx)
    if rows.height == 0:
        return empty_frame(), rejects
    return conform(rows), rejects


def finalize(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Make ``batch_id`` unique across files (``p<file number>:<line>``, files
    numbered in name order, so the id never depends on where the audit ran)
    and attribute payloads that name no pixel to their folder's pixel."""
    if frame.is_empty():
        return frame
    files = frame.get_column("file").cast(pl.String).unique().sort()
    number = pl.col("file").cast(pl.String).replace_strict(files, pl.int_range(1, files.len() + 1, eager=True), return_dtype=pl.Int64)
    frame = frame.with_columns(pl.when(pl.col("batch_id").is_not_null()).then(pl.format("p{}:{}", number, "batch_id")).alias("batch_id"))
    return fill_pixel_by_folder(frame, ctx)


SOURCE = Source(
    name="capi_payload",
    sniff=sniff,
    parse=parse,
    finalize=finalize,
    finalize_columns=("file", "batch_id", "pixel_id", "account"),
    thread_safe_parse=True,  # parse keeps no state between batches
    framing="entries",
    entry_start=ENTRY_START,
    description="Saved CAPI request payloads {\"data\": [...]}: one object per file (maybe pretty-printed) or NDJSON, "
    "bare or wrapped, with or without the Graph response beside them",
)


@hookimpl
def capi_auditor_register_sources(register: Any) -> None:
    register(SOURCE)
