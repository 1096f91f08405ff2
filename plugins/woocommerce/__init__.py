"""Source plugin for Meta (Facebook) for WooCommerce logs.

Reads ``wc-logs/facebook_for_woocommerce-*.log`` (also rotated ``.0`` copies,
``.gz`` and admin ZIP exports) in all three line-format generations:
WooCommerce v1 legacy ``MM-DD-YYYY @ HH:MM:SS - `` headers in site-local time,
v2 ``YYYY-MM-DDTHH:MM:SS+00:00 NOTICE`` headers with `` CONTEXT: {...}``, and
the plugin's own >= 3.5 ``log()`` entries.  Rows produced:

* ``server_event``: one per event of each ``POST /<version>/<pixel>/events``
  Request entry (``batch_id`` = ``<file number>:<line>`` of the request, see
  :mod:`.linking`);
* ``api_response``: one per Response to such a request (``success``,
  ``graph_error``, ``transport_error``, ``server_error_page``);
* ``status``: ``Could not send Pixel event`` (``graph_error`` /
  ``transport_error``), ``Facebook connection invalid`` (``connection_invalid``),
  crawler blocks (``crawler_blocked``), a missing token (``token_missing``),
  ``Upgrade to vX`` (``plugin_updated``), non-CAPI calls and anything else (``log``).

Module map: :mod:`.patterns` (the format), :mod:`.sniff`, :mod:`.entries`
(lines -> entries), :mod:`.kinds`, :mod:`.requests`, :mod:`.responses`,
:mod:`.status` (entries -> rows), :mod:`.extra` (the ``extra`` JSON),
:mod:`.linking` and :mod:`.timezone`
(``finalize``), :mod:`.pipeline` (``parse``/``finalize``).
"""

from __future__ import annotations

from auditor import Source, hookimpl

from .patterns import ENTRY_START
from .pipeline import FINALIZE_COLUMNS, finalize, parse
from .sniff import sniff

SOURCE = Source(
    name="woocommerce",
    framing="entries",
    entry_start=ENTRY_START,
    sniff=sniff,
    parse=parse,
    finalize=finalize,
    finalize_columns=FINALIZE_COLUMNS,
    thread_safe_parse=True,  # parse keeps no state between batches
    options=("site_timezone",),
    description="Meta for WooCommerce plugin logs (wc-logs/facebook_for_woocommerce-*.log)",
)


@hookimpl
def capi_auditor_register_sources(register):
    register(SOURCE)
