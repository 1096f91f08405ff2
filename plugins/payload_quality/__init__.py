"""Payload-quality diagnoses: the CAPI payloads every source yields, judged
against Meta's payload rules (hashing and normalisation of customer parameters,
event_time, event_id deduplication, required fields).

One module per concern, each registering its :class:`auditor.Check`:

* :mod:`.hashing` - ``pii-unhashed`` (per account and user_data key);
* :mod:`.match_quality` - ``emq-low``: the *estimated* match quality per
  account and event name, and Meta's minimum-signal combinations;
* :mod:`.event_names` - ``nonstandard-event-name``;
* :mod:`.value_currency` - ``missing-value-currency``;
* :mod:`.event_time` - ``event-time-wrong`` (unit, format, future, too old,
  processing time, time zone; fbc/fbp unit and format);
* :mod:`.delays` - ``events-delayed`` (per account and event name, batching);
* :mod:`.request_rules` - ``test-event-code-in-production`` and
  ``action-source-invalid`` (incl. requests over 1,000 events).

Every threshold comes from the ruleset (``ctx.thresholds(rule)``); the only
constants here are Meta's own lists (standard names, action sources, ISO 4217).
Facts the canonical states cannot carry are read from ``extra.ud_detail``
when a source provides them (the WooCommerce source does).
"""

from __future__ import annotations

from auditor import hookimpl

from . import delays, event_names, event_time, hashing, match_quality, request_rules, value_currency

CHECKS = (
    hashing.CHECK,
    match_quality.CHECK,
    event_names.CHECK,
    value_currency.CHECK,
    event_time.CHECK,
    delays.CHECK,
    *request_rules.CHECKS,
)


@hookimpl
def capi_auditor_register_checks(register):
    for check in CHECKS:
        register(check)
