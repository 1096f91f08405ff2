"""Exit codes, formats and the JSON contract of `capi-audit audit`."""

from __future__ import annotations

import json

from conftest import DATA, INHOUSE_PLUGIN

LOG = DATA / "inhouse" / "sender.jsonl"
PLUG = ("--plugin", str(INHOUSE_PLUGIN))


def test_json_report_follows_the_contract(audit_json):
    code, r, _ = audit_json(str(LOG), *PLUG)
    assert r["schema_version"] == 1
    assert r["tool"]["name"] == "capi-auditor" and r["ruleset"]["name"] == "default"
    assert set(r["inputs"]) >= {"files", "records", "skipped_lines", "by_source", "errors"}
    assert r["window"] == {"start": "2026-04-01T10:00:00Z", "end": "2026-04-01T13:00:00Z"}
    acc = r["accounts"][0]
    assert set(acc) >= {"account", "pixel_ids", "orders", "server_events", "server_purchases", "purchase_ratio", "estimated_match_quality"}
    assert [q["step"] for q in r["questions"]] == [1, 2, 3, 4, 5]
    assert r["questions"][0]["verdict"] == "problem"
    assert all(q["verdict"] in ("ok", "problem", "unknown") for q in r["questions"])
    f = r["findings"][0]
    assert set(f) >= {"rule", "severity", "account", "count", "first_seen", "last_seen", "summary", "evidence", "fix", "validate"}
    assert f["evidence"][0] == {"file": str(LOG), "line": 3, "excerpt": "Purchase http 400"}


def test_fail_on_controls_exit_code(audit_json):
    assert audit_json(str(LOG), *PLUG)[0] == 1
    assert audit_json(str(LOG), *PLUG, "--fail-on", "critical")[0] == 1
    assert audit_json(str(LOG), *PLUG, "--fail-on", "never")[0] == 0
    assert audit_json(str(LOG), *PLUG, "--disable", "connection_health")[0] == 0


def test_missing_path_is_exit_2_with_one_line(cli, tmp_path):
    res = cli("audit", str(tmp_path / "nope"), "--no-db")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope: no such file or directory" in lines[0]


def test_unrecognised_input_is_exit_2(cli, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("nothing to see\n")
    res = cli("audit", str(f), "--no-db")
    assert res.exit_code == 2 and "no input file was recognised" in res.stderr


def test_bad_ruleset_and_bad_source_are_exit_2(cli, tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("extends: default\nrules:\n  rate-limited:\n    severity: urgent\n")
    res = cli("audit", str(LOG), *PLUG, "--ruleset", str(bad), "--no-db")
    assert res.exit_code == 2 and "rules.rate-limited.severity" in res.stderr
    assert cli("audit", str(LOG), "--source", "nope", "--no-db").exit_code == 2


def test_markdown_and_table_and_output_file(cli, tmp_path):
    md = cli("audit", str(LOG), *PLUG, "--format", "markdown", "--no-db")
    assert md.stdout.startswith("# CAPI audit") and "### `token-expired`" in md.stdout
    assert "| 1 | Are server events arriving at all? | **problem** |" in md.stdout
    table = cli("audit", str(LOG), *PLUG, "--format", "table", "--no-db")
    assert "Troubleshooting questions" in table.stdout and "token-expired" in table.stdout
    out = tmp_path / "r.json"
    res = cli("audit", str(LOG), *PLUG, "--format", "json", "--output", str(out), "--no-db")
    assert res.stdout == "" and json.loads(out.read_text())["findings"][0]["rule"] == "token-expired"


def test_report_does_not_depend_on_file_order_or_today(audit_json, tmp_path):
    lines = LOG.read_text().splitlines()
    (tmp_path / "b.jsonl").write_text("\n".join(lines[:2]) + "\n")
    (tmp_path / "a.jsonl").write_text("\n".join(lines[2:]) + "\n")
    _, one, _ = audit_json(str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), *PLUG)
    _, two, _ = audit_json(str(tmp_path / "b.jsonl"), str(tmp_path / "a.jsonl"), *PLUG)
    assert one == two
