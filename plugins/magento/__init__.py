"""Source plugin: Meta's Business Extension for Magento 2.

Reads ``var/log/facebook-business-extension.log`` (``facebook/facebook-for-magento2``)
and ``var/log/meta/meta-business-extension.log`` (``meta/meta-for-magento2``):
Monolog records ``[YYYY-MM-DD HH:MM:SS] FBE.LEVEL: message {context} [extra]``
(Monolog 2/3: ``[2024-01-05T10:11:12.123456+00:00]``), messages over several
lines kept together.  Rows (see :mod:`.rows`):

* ``server_event`` per ``Sending event …`` (event name and id; no payload);
* ``api_response`` per ``RequestException: Client error: `POST …/events`
  resulted in a `400 Bad Request` response: {…} (truncated...)`` (Guzzle);
* ``status`` for a missing token, transport failures, Graph errors of other
  calls that say the token is bad, and everything else as ``log``.

Times without a zone are UTC: Magento runs PHP in UTC and Monolog stamps the
log in PHP's zone (``--site-timezone`` overrides it).  Rows that name no pixel
get their folder's only pixel in ``finalize``.

Module map: :mod:`.patterns` (the format), :mod:`.sniff`, :mod:`.entries`
(lines -> records), :mod:`.times`, :mod:`.rows` (records -> rows, :func:`.rows.signal_for`).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from auditor import REJECT_SCHEMA, ParseContext, Source, conform, empty_frame, hookimpl
from auditor.attribution import fill_pixel_by_folder

from .entries import split_records
from .patterns import ENTRY_START
from .rows import records_to_rows
from .sniff import sniff
from .times import log_times

__all__ = ["ENTRY_START", "SOURCE", "capi_auditor_register_sources", "finalize", "parse", "sniff"]


def parse(batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``entries`` batch -> (rows, rejects)."""
    if batch.height == 0:
        return empty_frame(), pl.DataFrame(schema=REJECT_SCHEMA)
    records, rejects = split_records(batch)
    zone = str(ctx.options.get("site_timezone") or "UTC")
    records, bad = log_times(records, zone)
    if bad.height:
        rejects = pl.concat([rejects, bad], how="vertical")
    if records.height == 0:
        return empty_frame(), rejects
    if zone != "UTC":
        ctx.note(f"magento: log times without a zone were read as {zone} (option site_timezone)")
    return conform(records_to_rows(records)), rejects.sort("file", "line")


def finalize(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Attribute records that name no pixel to their folder's pixel."""
    return fill_pixel_by_folder(frame, ctx)


SOURCE = Source(
    name="magento",
    sniff=sniff,
    parse=parse,
    finalize=finalize,
    finalize_columns=("file", "pixel_id", "account"),
    thread_safe_parse=True,  # parse keeps no state between batches
    framing="entries",
    entry_start=ENTRY_START,
    description="Meta Business Extension for Magento 2 logs (var/log/facebook-business-extension.log, "
    "var/log/meta/meta-business-extension.log): Monolog FBE records, Guzzle RequestExceptions",
)


@hookimpl
def capi_auditor_register_sources(register: Any) -> None:
    register(SOURCE)
