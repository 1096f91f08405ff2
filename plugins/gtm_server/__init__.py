"""Source plugin for server-side Google Tag Manager logs (the server and browser legs).

Reads Cloud Logging exports of an sGTM container (README, "What it reads"),
framing ``entries`` (see :mod:`.records`), in any mix of:

* Cloud Storage sink shards -- NDJSON, one LogEntry per line (duplicates
  possible: kept once by ``insertId``);
* ``gcloud logging read --format=json`` / Logs Explorer downloads -- a JSON
  array pretty-printed with 2 (or 4) spaces, maybe ``.json.gz``; read as a
  stream of its elements, so size is no concern (a *compacted* one-line
  array is rejected with a hint);
* stdout entries whose tag log is a ``textPayload`` (JSON text) or a
  ``jsonPayload`` (Cloud Logging parsed the line), raw stdout lines holding
  the tag object itself, and Stape's snake_case BigQuery copy
  (``tag_name``, ``type``, ``request_body`` ..., ``timestamp`` in ms);
* Cloud Run / App Engine request logs: incoming GA4 hits
  (``/g/collect?...&en=purchase&ep.transaction_id=...``) become
  ``browser_event`` rows with Meta event names (:mod:`.ga4`).

Stape Facebook-tag Request objects become ``server_event`` rows (one per
``RequestBody.data[]`` event, pixel and Graph version from ``RequestUrl``),
Response objects ``api_response`` rows (the Graph body parsed from the JSON
*string* ``ResponseBody``), ``Request failed or timed out`` objects
``status``/``transport_error`` rows (:mod:`.stape`).  ``partner_agent``
``stape-gtmss-*`` / ``gtmss-*`` gives ``connector`` / ``connector_version``.
Answers are paired with their requests in ``finalize`` (rule in
:mod:`.linking`).  Container noise (``googletagmanager.com/sgtm/a`` pings,
``Listening`` lines), other tags' logs and other entries are skipped and
counted in a note, not rejected.  ``access_token`` / ``appsecret_proof`` are
never copied out of ``RequestUrl``; ``message`` and ``event_source_url`` are
redacted at ingest.

Module map: :mod:`.patterns`, :mod:`.sniff`, :mod:`.records` (lines ->
records), :mod:`.envelope` (records -> classified entries), :mod:`.stape`,
:mod:`.ga4` (entries -> rows), :mod:`.linking` (dedupe, pairing),
:mod:`.pipeline` (``parse``/``finalize``), :mod:`.jsonsafe`.
"""

from __future__ import annotations

from typing import Any

from auditor import Source, hookimpl

from .patterns import ENTRY_START
from .pipeline import FINALIZE_COLUMNS, finalize, parse
from .sniff import sniff

__all__ = ["ENTRY_START", "SOURCE", "capi_auditor_register_sources", "finalize", "parse", "sniff"]

SOURCE = Source(
    name="gtm_server",
    framing="entries",
    entry_start=ENTRY_START,
    thread_safe_parse=True,  # per-batch work only; the skipped counts are shared under ctx.lock
    options=("pixel_id", "gtm_link_seconds"),
    sniff=sniff,
    parse=parse,
    finalize=finalize,
    finalize_columns=FINALIZE_COLUMNS,
    description="Server-side GTM Cloud Logging exports (GCS sink NDJSON, gcloud --format=json arrays, BigQuery copy): "
    "Stape/Meta Facebook tag requests, responses and failures, incoming GA4 hits",
)


@hookimpl
def capi_auditor_register_sources(register: Any) -> None:
    register(SOURCE)
