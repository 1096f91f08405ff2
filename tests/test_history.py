"""Runs are stored (redacted) and `history diff` shows what a fix changed."""

from __future__ import annotations

import json
import sqlite3

from conftest import INHOUSE_PLUGIN

BROKEN = [
    '{"at": "2026-04-01T10:00:00Z", "pixel": "555000111222333", "event": "Purchase", "order": 1, "http": 200, "error": null, "received": 1}',
    '{"at": "2026-04-01T11:00:00Z", "pixel": "555000111222333", "event": "Purchase", "order": 2, "http": 400, "error": {"code": 190, "error_subcode": 463, "message": "expired for maria.silva@example.com"}, "received": null}',
    '{"at": "2026-04-01T11:05:00Z", "pixel": "777000111222333", "event": "Purchase", "order": 3, "http": 429, "error": {"code": 17, "error_subcode": null, "message": "(#17) User request limit reached"}, "received": null}',
]
FIXED = [
    BROKEN[0],
    '{"at": "2026-04-02T11:00:00Z", "pixel": "555000111222333", "event": "Purchase", "order": 4, "http": 200, "error": null, "received": 1}',
    BROKEN[2],
    BROKEN[2].replace("11:05:00", "11:06:00").replace('"order": 3', '"order": 5'),
    '{"at": "2026-04-02T12:00:00Z", "pixel": "888000111222333", "event": "Purchase", "order": 6, "http": 403, "error": {"code": 200, "error_subcode": null, "message": "(#200) The user hasn\'t authorized the application"}, "received": null}',
]


def _audit(cli, tmp_path, name, lines):
    f = tmp_path / name
    f.write_text("\n".join(lines) + "\n")
    return cli("audit", str(f), "--plugin", str(INHOUSE_PLUGIN), "--format", "json", "--quiet")


def test_history_lists_runs_and_diff_shows_new_resolved_changed(cli, tmp_path, monkeypatch):
    db = tmp_path / "h.db"
    monkeypatch.setenv("CAPI_AUDIT_DB", f"sqlite:///{db}")
    assert _audit(cli, tmp_path, "before.jsonl", BROKEN).exit_code == 1
    assert _audit(cli, tmp_path, "after.jsonl", FIXED).exit_code == 1
    listing = cli("history")
    assert listing.exit_code == 0 and "before.jsonl" in listing.stdout and "after.jsonl" in listing.stdout
    diff = json.loads(cli("history", "diff", "1", "2", "--json").stdout)
    assert [(f["rule"], f["account"]) for f in diff["resolved"]] == [("token-expired", "555000111222333")]
    assert [(f["rule"], f["account"]) for f in diff["new"]] == [("permission-revoked", "888000111222333")]
    assert [(f["rule"], f["changes"]) for f in diff["changed"]] == [("rate-limited", {"count": [1, 2]})]
    human = cli("history", "diff", "1", "2")
    assert "resolved (1)" in human.stdout and "token-expired" in human.stdout
    assert cli("history", "diff", "1", "99").exit_code == 2
    # the store never holds clear personal data
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert "maria.silva@example.com" not in dump and "token-expired" in dump


def test_no_db_records_nothing(cli, tmp_path, monkeypatch):
    db = tmp_path / "none.db"
    monkeypatch.setenv("CAPI_AUDIT_DB", f"sqlite:///{db}")
    f = tmp_path / "x.jsonl"
    f.write_text(BROKEN[0] + "\n")
    cli("audit", str(f), "--plugin", str(INHOUSE_PLUGIN), "--no-db", "--format", "json")
    assert "no audit runs recorded yet" in cli("history").stdout
