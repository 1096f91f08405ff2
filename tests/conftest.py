"""Shared test helpers: run the real CLI in-process with an isolated store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLES = ROOT / "sample_logs"
INHOUSE_PLUGIN = DATA / "plugins" / "inhouse_sender.py"


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    """Never write to the user's real history database from tests."""
    monkeypatch.setenv("CAPI_AUDIT_DB", f"sqlite:///{tmp_path / 'history.db'}")
    monkeypatch.delenv("CAPI_AUDIT_DISABLE_PLUGINS", raising=False)


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def audit_json(cli):
    """Run `capi-audit audit ... --format json` and return (exit_code, report)."""

    def run(*args: str):
        result = cli("audit", *args, "--format", "json", "--no-db", "--quiet")
        report = json.loads(result.stdout) if result.stdout.strip() else None
        return result.exit_code, report, result

    return run
