"""Reconciliation of backend orders against server/browser Purchases.

Inputs: tests/data/reconciliation/ (written by make_fixtures.py there; Shopify
webhook envelopes + sGTM Cloud Logging NDJSON).  Expected numbers are counted by
hand from the generator: two orders a day at 10:00 and 15:00 shop time (UTC+2),
each logged to Meta 5 s later unless said otherwise.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app

DATA = Path(__file__).parent / "data" / "reconciliation"


def run(path, *extra):
    res = CliRunner().invoke(app, ["audit", str(path), "--format", "json", "--no-db", "--quiet", "--fail-on", "never", *extra],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def only(report, rule, account=None):
    found = [f for f in report["findings"] if f["rule"] == rule and (account is None or f["account"] == account)]
    assert len(found) == 1, [f["rule"] for f in report["findings"]]
    return found[0]


def test_stopped_server_events_numbers_and_silence():
    # week 1 (Jun 2-6): 10 orders + 1 test order, 10 server Purchases; week 2 (Jun 9-13):
    # 10 orders, server Purchases only for the first two (after 2.1.3 -> 2.2.0), then silence
    f = only(run(DATA / "stopped"), "server-events-missing", "111100001111")
    m = f["metrics"]
    assert f["severity"] == "critical"
    assert (m["orders"], m["ignored_orders"], m["server_purchases"], m["accepted"], m["rejected"]) == (20, 1, 12, 12, 0)
    assert m["orders_with_server_purchase"] == 12 and m["purchase_ratio"] == 0.6
    assert [(w["week"], w["orders"], w["server_purchases"]) for w in m["weekly"]] == [("2025-06-02", 10, 10), ("2025-06-09", 10, 2)]
    (s,) = m["silences"]
    assert s["start"] == "2025-06-09T13:00:05Z"  # the 12th (last) server Purchase
    assert s["end"] == "2025-06-13T13:00:02Z"    # end of the window both inputs cover (last webhook)
    assert s["orders_inside"] == 8 and s["open_ended"] is True and s["hours"] == 96.0
    assert m["update_marker"]["from_version"] == "2.1.3" and m["update_marker"]["to_version"] == "2.2.0"
    assert m["linked_shops"] == ["trailgear.myshopify.com"]
    assert m["window_start"] == "2025-06-02T08:00:00Z"
    assert "window every input covers" in f["summary"] and "8 orders" in f["summary"]
    assert f["ongoing"] is True
    # the update row itself stays connection_health's (one row, not duplicated)
    assert len([x for x in run(DATA / "stopped")["findings"] if x["rule"] == "integration-broken-after-update"]) == 1


def test_no_event_id_with_pixel_running_is_about_double():
    f = only(run(DATA / "double"), "dedup-missing-event-id", "222200002222")
    m = f["metrics"]
    assert (m["server_events"], m["missing_event_id"], m["dedup_ok"]) == (4, 4, 0)
    assert m["expected_reported"] == 8 and m["expected_overcount"] == 2.0 and m["backend_orders"] == 4
    assert "fbp" in m["pixel_evidence"]


def test_event_id_format_mismatch_with_browser_leg():
    f = only(run(DATA / "format"), "dedup-missing-event-id", "333300003333")
    m = f["metrics"]
    assert m["browser_mismatch"] == 4 and m["format_mismatch"] == 4 and m["missing_event_id"] == 0
    assert "'order_3001' vs browser '3001'" in f["summary"]


def test_dedup_partial_split_by_checkout_path():
    f = only(run(DATA / "partial"), "dedup-partial", "444400004444")
    m = f["metrics"]
    assert m["share_ok"] == 0.6 and m["expected_reported"] == 14 and m["expected_overcount"] == 1.4
    paths = {p["path"]: (p["dedup_ok"], p["events"]) for p in m["paths"]}
    assert paths == {"website | m.partial.example | stape-facebook-tag": (0, 4), "website | partial.example | stape-facebook-tag": (6, 6)}


def test_healthy_multi_account_has_no_medium_or_worse():
    report = run(DATA / "healthy")
    assert {a["account"] for a in report["accounts"]} >= {"555500005555", "666600006666"}
    bad = [(f["rule"], f["account"]) for f in report["findings"] if f["severity"] in ("critical", "high", "medium")]
    assert bad == []


def test_business_hours_silence(tmp_path):
    rules = tmp_path / "biz.yaml"
    rules.write_text(
        "name: biz\nversion: '1'\nextends: default\nrules:\n  server-events-missing:\n    thresholds:\n"
        "      business_silence_minutes: 360\n      business_hours: '08:00-22:00'\n      business_timezone: Europe/Berlin\n",
        encoding="utf-8")
    f = only(run(DATA / "healthy" / "alpha", "--ruleset", str(rules)), "server-events-missing", "555500005555")
    # last Purchase of Jun 2 and 3 at 15:00:05 Berlin, next at 10:00:05: silent 15:00:05-22:00 Berlin
    assert f["metrics"]["business_hours_silences"] == [
        {"start": "2025-06-02T13:00:05Z", "end": "2025-06-02T20:00:00Z", "minutes": 420},
        {"start": "2025-06-03T13:00:05Z", "end": "2025-06-03T20:00:00Z", "minutes": 420},
    ]
    assert f["metrics"]["silences"] == [] and f["metrics"]["purchase_ratio"] == 1.0


@pytest.mark.parametrize("name", ["orders.csv", "orders.jsonl"])
def test_orders_export(tmp_path, name):
    out = tmp_path / name
    res = CliRunner().invoke(app, ["audit", str(DATA / "stopped"), "--format", "json", "--no-db", "--quiet", "--fail-on", "never",
                                   "--orders-out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.stderr
    text = out.read_text(encoding="utf-8")
    assert "@" not in text and "Schmidt" not in text and "+49" not in text and "203.0.113" not in text
    if name.endswith(".csv"):
        rows = list(csv.DictReader(text.splitlines()))
        flag = lambda v: {"true": True, "false": False, "": None}[v]  # noqa: E731
    else:
        rows = [json.loads(line) for line in text.splitlines()]
        flag = lambda v: v  # noqa: E731
    assert len(rows) == 21
    assert set(rows[0]) == {"order_id", "shop", "account", "created", "ignored", "server_sent", "accepted", "browser_seen",
                            "event_id_consistent", "value_match", "currency_match"}
    by_id = {r["order_id"]: r for r in rows}
    first = by_id["5500000001001"]
    assert first["created"] == "2025-06-02T08:00:00Z" and first["account"] == "111100001111"
    assert [flag(first[k]) for k in ("server_sent", "accepted", "browser_seen", "event_id_consistent", "value_match", "currency_match")] == [True] * 6
    last = by_id["5500000001020"]
    assert flag(last["server_sent"]) is False and flag(last["browser_seen"]) is True and flag(last["event_id_consistent"]) is None
    assert by_id["5500000000999"]["ignored"] == "test"
    assert sum(flag(r["server_sent"]) for r in rows) == 12
