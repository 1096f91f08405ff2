"""Tests of the example plugin, written with auditor.testing only."""

from pathlib import Path

import capi_auditor_inhouse as plugin
from auditor.testing import assert_canonical, audit_text, parse_text

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"


def test_orders_parse_to_canonical_utc_rows():
    frame, rejects = parse_text("inhouse_orders", (SAMPLES / "orders-2026-04-01.jsonl").read_text(), plugin, builtins=False)
    assert_canonical(frame)
    assert rejects == []
    assert frame["order_id"].to_list() == ["A-1001", "A-1002", "A-1003", "A-1004"]
    assert str(frame["logged_at"][0]) == "2026-04-01 08:00:01+00:00"


def test_sender_log_gives_sends_and_answers_and_rejects_noise():
    frame, rejects = parse_text("inhouse_sender", (SAMPLES / "capi-sender.log").read_text(), plugin, builtins=False)
    assert_canonical(frame)
    assert frame.filter(frame["kind"] == "server_event").height == 4
    errors = frame.filter(frame["signal"] == "graph_error")
    assert errors["error_code"].to_list() == [190, 190]
    assert [r["line"] for r in rejects] == [5]
    assert "ops@acme.example" not in frame.write_csv()


def test_builtin_checks_diagnose_the_expired_token():
    files = {p.name: p.read_text() for p in SAMPLES.iterdir()}
    report = audit_text(files, plugin, builtins=True)
    token = [f for f in report["findings"] if f["rule"] == "token-expired"]
    assert token and token[0]["account"] == "555000111222333" and token[0]["count"] == 2
    assert token[0]["ongoing"] is True
