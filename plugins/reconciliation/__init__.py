"""Reconciliation diagnoses: backend orders (Shopify webhooks ...) against the
server Purchases and browser hits (sGTM, WooCommerce, Graph API captures) per
pixel.  Shops are linked to pixels through matched orders (a server Purchase
whose order id matches an order of shop S links S to its pixel); the table
building lives in :mod:`auditor.orders_export` so ``--orders-out`` shares it.

* :mod:`.missing` - ``server-events-missing`` (ratio, silences, business hours);
* :mod:`.dedup` - ``dedup-missing-event-id`` / ``dedup-partial``;
* :mod:`.coverage` - ``key-events-missing``, ``pixel-id-mismatch``, ``totals-mismatch``.
"""

from __future__ import annotations

from auditor import hookimpl

from . import coverage, dedup, missing

CHECKS = (missing.CHECK, dedup.CHECK, *coverage.CHECKS)


@hookimpl
def capi_auditor_register_checks(register):
    for check in CHECKS:
        register(check)
