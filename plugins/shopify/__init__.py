"""Source plugin for Shopify webhook deliveries (the backend-orders leg).

Reads deliveries the way connectors and developers keep them
(README, "What it reads"), framing ``document`` (whole files):

* **bare payloads** -- the webhook body as delivered: one JSON file per
  delivery (compact or pretty-printed), a JSON array of them, or NDJSON;
* **envelopes** -- NDJSON (or an array) of ``{"headers": {...}, "body": ...}``
  where ``body`` is the raw body *string* (HMAC-verifiable) or an object
  (re-serialised: unverifiable);
* **raw HTTP captures** -- ``POST /path HTTP/1.1``, header lines, a blank line,
  the body; several captures may follow each other in one file;
* **REST exports** -- ``{"order": {...}}`` / ``{"orders": [...]}`` (and
  ``checkout(s)``).

Topics ``orders/create``, ``orders/paid``, ``orders/updated`` give
``kind="order"`` rows (one per delivery: an order seen in several topics has
several rows with the same ``order_id``; count distinct ids);
``checkouts/create`` (and ``checkouts/update``) give ``kind="status"`` rows
with ``signal="log"`` and ``extra.record="checkout"`` -- a checkout is not an
order.  Header names are case-insensitive.  Ids are strings (never floats),
shop-local times become UTC, test / draft / POS orders get
``extra.ignored`` (``test``, ``draft``, ``pos``), duplicate deliveries (same
``X-Shopify-Webhook-Id``) are kept once, and with a webhook secret
(``--set shopify_secret=...`` or ``SHOPIFY_WEBHOOK_SECRET``) every signed
delivery is verified: ``extra.hmac`` = ``valid`` / ``invalid`` /
``unchecked`` (+ ``hmac_unchecked_reason``), invalid ones get
``signal="hmac_invalid"``.

Module map: :mod:`.patterns` (headers, dtypes), :mod:`.sniff`,
:mod:`.records` (documents -> records), :mod:`.headers`, :mod:`.payload`
(records -> items), :mod:`.signature` (HMAC), :mod:`.rows` (items -> rows),
:mod:`.pipeline` (``parse``/``finalize``), :mod:`.jsonsafe`.
"""

from __future__ import annotations

from typing import Any

from auditor import Source, hookimpl

from .forged import CHECK, RULES_FILE
from .pipeline import FINALIZE_COLUMNS, finalize, parse
from .sniff import sniff

__all__ = ["CHECK", "SOURCE", "capi_auditor_register_checks", "capi_auditor_register_sources",
           "capi_auditor_ruleset_files", "finalize", "parse", "sniff"]

SOURCE = Source(
    name="shopify",
    framing="document",
    thread_safe_parse=True,  # per-batch work only; the skipped-topics count is shared under ctx.lock
    options=("shopify_secret", "shop"),
    sniff=sniff,
    parse=parse,
    finalize=finalize,
    finalize_columns=FINALIZE_COLUMNS,
    description="Shopify webhook deliveries (orders/*, checkouts/*): bare payloads, {headers, body} envelopes, "
    "raw HTTP captures, REST exports {\"order\"}/{\"orders\"}",
)


@hookimpl
def capi_auditor_register_sources(register: Any) -> None:
    register(SOURCE)


@hookimpl
def capi_auditor_register_checks(register: Any) -> None:
    register(CHECK)


@hookimpl
def capi_auditor_ruleset_files() -> list:
    return [RULES_FILE]
