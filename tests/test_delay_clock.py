"""Delay against the right clock (issue 14, point 5): a Purchase event_time a
whole number of hours before the order (a time-zone bug) is event-time-wrong,
and the send delay is measured from the real conversion, the backend order.

Inputs: Shopify webhook envelopes + sGTM Cloud Logging exports written by
``tests/data/reconciliation/make_fixtures.py`` (case 6, ``timezone/``).
"""

from __future__ import annotations

from datetime import timedelta

from conftest import DATA

TZ = DATA / "reconciliation" / "timezone"


def test_real_time_sends_with_a_shifted_event_time_are_not_delayed(audit_json):
    """event_time 5 h before each Shopify order, sends 5 s after it: a time-zone
    bug (event-time-wrong, -5 h), not late sending."""
    _, report, _ = audit_json(TZ / "realtime", "--fail-on", "never")
    rules = {f["rule"]: f for f in report["findings"]}
    assert rules["event-time-wrong"]["metrics"]["timezone_offset_hours"] == -5
    assert "events-delayed" not in rules


def test_queued_sends_with_a_shifted_event_time_are_delayed_by_the_real_lag(audit_json):
    """The same bug with sends queued 2 h after each order: events-delayed
    reports the 2 h measured from the order, not 7 h from the shifted event_time."""
    _, report, _ = audit_json(TZ / "queued", "--fail-on", "never")
    rules = {f["rule"]: f for f in report["findings"]}
    assert rules["event-time-wrong"]["metrics"]["timezone_offset_hours"] == -5
    delayed = rules["events-delayed"]
    assert delayed["metrics"]["median_seconds"] == timedelta(hours=2).total_seconds()
    assert delayed["metrics"]["event_time_offset_hours"] == -5
    assert "measured from the backend order times, as event_time is shifted by -5 h" in delayed["summary"]


def test_without_orders_a_shifted_event_time_cannot_be_told_apart_from_a_delay(audit_json):
    """The sGTM export alone (no orders to show the shift): the delay is measured
    against event_time as before."""
    _, report, _ = audit_json(TZ / "realtime" / "sgtm-stdout.ndjson", "--fail-on", "never")
    delayed = [f for f in report["findings"] if f["rule"] == "events-delayed"]
    assert delayed and delayed[0]["metrics"]["median_seconds"] == timedelta(hours=5, seconds=5).total_seconds()
    assert "event_time_offset_hours" not in delayed[0]["metrics"]
