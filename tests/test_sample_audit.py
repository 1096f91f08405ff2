"""The bundled sample logs tell known stories; the audit must tell them back.

Numbers come from sample_logs/README.md (what the generator wrote), not from
running the auditor.
"""

from __future__ import annotations

import json

import pytest

from conftest import SAMPLES

HEALTHY = "1482736450918273"
TOKEN_SHOP = "928374651029384"
UPDATED_SHOP = "1736450291837465"
FLAKY_SHOP = "2049381726354810"
CUSTOM_SHOP = "873615209481726"


@pytest.fixture(scope="module")
def sample_report():
    from typer.testing import CliRunner

    from auditor.cli import app

    res = CliRunner().invoke(app, ["audit", str(SAMPLES), "--format", "json", "--no-db", "--quiet"], catch_exceptions=False)
    assert res.exit_code == 1, res.stderr
    return json.loads(res.stdout)


def _findings(report, rule, account):
    return [f for f in report["findings"] if f["rule"] == rule and f["account"] == account]


def test_every_sample_file_is_read_by_the_right_source(sample_report):
    by_source = sample_report["inputs"]["by_source"]
    assert set(by_source) >= {"woocommerce", "graph_api"}
    assert sample_report["inputs"]["unrecognised_files"] == 0
    accounts = {a["account"] for a in sample_report["accounts"]}
    assert {HEALTHY, TOKEN_SHOP, UPDATED_SHOP, FLAKY_SHOP, CUSTOM_SHOP} <= accounts


def test_healthy_shop_has_no_medium_or_worse_findings(sample_report):
    bad = [f for f in sample_report["findings"] if f["account"] == HEALTHY and f["severity"] in ("critical", "high", "medium")]
    assert bad == []
    acc = next(a for a in sample_report["accounts"] if a["account"] == HEALTHY)
    assert acc["server_events"] == 385 and acc["accepted_responses"] == 385


def test_token_expired_in_legacy_site_local_log(sample_report):
    (f,) = _findings(sample_report, "token-expired", TOKEN_SHOP)
    assert f["severity"] == "critical"
    assert f["count"] == 52
    # legacy headers are New York time; the audit must have inferred UTC-5
    assert f["first_seen"] == "2026-02-10T16:01:38Z"
    assert f["last_seen"] == "2026-02-11T15:25:37Z"
    assert f["ongoing"] is True
    assert f["metrics"]["last_success_before"].startswith("2026-02-10T15:58:55")
    assert any("UTC-5" in n or "-05:00" in n for n in sample_report["notes"])


def test_update_followed_by_silence(sample_report):
    (f,) = _findings(sample_report, "integration-broken-after-update", UPDATED_SHOP)
    assert f["metrics"]["from_version"] == "3.4.1" and f["metrics"]["to_version"] == "3.7.1"
    assert f["first_seen"] == "2026-05-06T10:04:17Z"
    assert 73 <= f["metrics"]["silence_hours"] <= 74
    assert _findings(sample_report, "token-expired", UPDATED_SHOP) == []


def test_flaky_shop_connectivity_payload_and_token(sample_report):
    (conn,) = _findings(sample_report, "connectivity-failure", FLAKY_SHOP)
    assert conn["count"] == 6
    assert (conn["first_seen"], conn["last_seen"]) == ("2026-06-09T13:02:11Z", "2026-06-09T13:12:20Z")
    assert conn["ongoing"] is False
    (rej,) = _findings(sample_report, "payload-rejected", FLAKY_SHOP)
    assert rej["count"] == 2 and set(rej["metrics"]["codes"]) == {"100/2804050", "100/2804003"}
    (tok,) = _findings(sample_report, "token-expired", FLAKY_SHOP)
    assert tok["first_seen"] == "2026-06-10T19:42:07Z" and tok["ongoing"] is True


def test_custom_sender_graph_api_diagnoses(sample_report):
    (rate,) = _findings(sample_report, "rate-limited", CUSTOM_SHOP)
    assert rate["count"] == 10 and rate["metrics"]["codes"] == {"17": 5, "4": 3, "613": 2}
    (perm,) = _findings(sample_report, "permission-revoked", CUSTOM_SHOP)
    assert perm["count"] == 38 and perm["first_seen"].startswith("2026-07-02T16:05:41")  # sender logs milliseconds
    (rej,) = _findings(sample_report, "payload-rejected", CUSTOM_SHOP)
    assert rej["count"] == 7
    (tok,) = _findings(sample_report, "token-expired", CUSTOM_SHOP)
    assert tok["count"] == 1 and tok["ongoing"] is False  # responses succeed again on 2026-07-05
    (conn,) = _findings(sample_report, "connectivity-failure", CUSTOM_SHOP)
    assert conn["count"] == 4


def test_questions_answered_first(sample_report):
    q = {x["step"]: x for x in sample_report["questions"]}
    assert q[1]["verdict"] == "problem" and "token-expired" in q[1]["rules"]
    assert "Access token expired or invalidated since 2026-02-10 (hudsonvalleybaking, hyggehjem, pixel …1093)" in q[1]["detail"]
    # the agency client without event_id double counts (sample_logs/agency/)
    assert q[2]["verdict"] == "problem" and "dedup-missing-event-id" in q[2]["rules"]
    assert "Browser and server events not deduplicated since 2026-09-14 (hudsonrow)" in q[2]["detail"]


def test_no_pii_or_secret_from_samples_in_any_output(sample_report, cli, tmp_path, monkeypatch):
    db = tmp_path / "h.db"
    monkeypatch.setenv("CAPI_AUDIT_DB", f"sqlite:///{db}")
    outputs = [json.dumps(sample_report)]
    for fmt in ("table", "markdown"):
        outputs.append(cli("audit", str(SAMPLES), "--format", fmt).stdout)
    outputs.append(db.read_bytes().decode("utf-8", "replace"))
    forbidden = ["maria.silva@example.com", "maria.silva", "912 345 678", "EAAG", "203.0.113."]
    for text in outputs:
        for needle in forbidden:
            assert needle not in text
