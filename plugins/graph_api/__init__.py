"""Source plugin: raw Graph API ``POST /{pixel_id}/events`` responses.

Two sources are registered:

``graph_api`` (framing ``entries``)
    Log files holding responses, one canonical ``api_response`` row per
    response, in any of these shapes (mixed freely in one file):

    * NDJSON of bare bodies: ``{"events_received":1,...}`` / ``{"error":{...}}``;
    * NDJSON of wrapped bodies: ``{"ts": ..., "pixel_id": ..., "status": 200,
      "sent": 50, "response": {...}}`` -- wrapper keys in
      :data:`.patterns.WRAPPER_KEYS`, the body an object or a JSON string;
    * ``<timestamp> <json>`` lines (see :mod:`.timestamps` for the prefixes;
      Monolog's trailing ``[] []`` is tolerated);
    * the Python business SDK's multi-line ``Message: Call was not successful``
      block (``Path:``/``Status:``/``Response:`` + pretty JSON), with or without
      a logging prefix line and a traceback repeating it;
    * Guzzle ``... resulted in a `400 Bad Request` response:`` followed by a
      body cut at ~120 characters ``(truncated...)``: code/subcode/type are read
      with regular expressions;
    * HTTP captures: ``<ts> POST https://graph.facebook.com/v25.0/<pixel>/events?...
      -> HTTP 502 Bad Gateway (content-type: text/html; ..., 1583 bytes)`` with
      the body (an HTML page, or JSON) on the following lines;
    * HTML 5xx pages (``Sorry, something went wrong``);
    * transport failures that name the Graph endpoint (``cURL error 28 ...``),
      wrapper objects whose ``error`` is a plain string or a client error
      object without a numeric code (``{"code": "ETIMEDOUT"}``);
    * a printed Python repr of a success body (``{'events_received': 20, ...}``).

    Lines that are not responses come back as rejects (``file``, ``line`` of
    the record's first line, ``reason``).

``graph_api_array`` (framing ``document``)
    A JSON array (``gcloud ... --format=json`` style, pretty-printed, maybe
    ``.json.gz``) of bodies or wrapped bodies.

Everything is Polars expressions over whole batches.  Module map:

* :mod:`.patterns` -- constants, JSON keys, line patterns;
* :mod:`.sniff` -- content sniffing of both sources;
* :mod:`.timestamps` -- timestamp prefixes and their conversion to UTC;
* :mod:`.records` -- lines -> records (and the reader's :data:`ENTRY_START`);
* :mod:`.features` -- regex text features (SDK block, Guzzle, HTTP capture,
  HTML, URL, status) and the regex body fallback;
* :mod:`.decode` -- JSON decoding gated by shape, flattened to fixed columns;
* :mod:`.values` -- scalar conversions, message tidying;
* :mod:`.rows` -- records -> canonical rows and rejects;
* :mod:`.lines` / :mod:`.arrays` -- ``parse`` of each source.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from auditor import ParseContext, Source, hookimpl
from auditor.attribution import fill_pixel_by_folder

from .arrays import parse_array
from .lines import parse_lines
from .records import ENTRY_START
from .sniff import sniff_array, sniff_lines

__all__ = [
    "ARRAY_SOURCE", "ENTRY_START", "SOURCE", "capi_auditor_register_sources", "finalize",
    "parse_array", "parse_lines", "sniff_array", "sniff_lines",
]


def finalize(frame: pl.DataFrame, ctx: ParseContext) -> pl.DataFrame:
    """Attribute responses that name no pixel (bare bodies) to their folder's pixel."""
    return fill_pixel_by_folder(frame, ctx)


SOURCE = Source(
    name="graph_api",
    sniff=sniff_lines,
    parse=parse_lines,
    finalize=finalize,
    finalize_columns=("file", "pixel_id", "account"),
    thread_safe_parse=True,  # parse keeps no state between batches (notes are locked)
    options=("site_timezone", "pixel_id"),
    framing="entries",
    entry_start=ENTRY_START,
    description="Graph API /events responses: NDJSON (bare or wrapped), '<timestamp> <json>' lines, "
    "Python SDK 'Call was not successful' blocks, Guzzle '(truncated...)' errors, HTTP captures, HTML 5xx pages",
)
ARRAY_SOURCE = Source(
    name="graph_api_array",
    sniff=sniff_array,
    parse=parse_array,
    finalize=finalize,
    finalize_columns=("file", "pixel_id", "account"),
    framing="document",
    options=("site_timezone", "pixel_id"),
    description="JSON array export (gcloud --format=json style, maybe .json.gz) of Graph API /events responses",
)


@hookimpl
def capi_auditor_register_sources(register: Any) -> None:
    register(SOURCE)
    register(ARRAY_SOURCE)
