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
    """Never write to the user's real history database from tests, and never
    depend on the machine: third-party plugins installed here are not loaded
    (the built-ins are: they are the default plugin list), no user settings
    from the environment or a configuration file in the working directory."""
    monkeypatch.setenv("CAPI_AUDIT_DB", f"sqlite:///{tmp_path / 'history.db'}")
    monkeypatch.setenv("CAPI_AUDIT_DISABLE_AUTOLOAD", "1")
    for var in ENV_SETTINGS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)


#: environment variables a user's shell may hold that change what the CLI does
ENV_SETTINGS = (
    "CAPI_AUDIT_DISABLE_PLUGINS", "CAPI_AUDIT_TRACE_PLUGINS", "CAPI_AUDIT_CONFIG", "CAPI_AUDIT_RULESET",
    "CAPI_AUDIT_FAIL_ON", "CAPI_AUDIT_FORMAT", "CAPI_AUDIT_PLUGINS", "CAPI_AUDIT_PLUGINS_DIR", "CAPI_AUDIT_SOURCE",
    "CAPI_AUDIT_SITE_TIMEZONE", "CAPI_AUDIT_STRICT", "SHOPIFY_WEBHOOK_SECRET", "CAPI_AUDIT_WEBHOOK",
    "CAPI_AUDIT_WATCH_FORMAT", "CAPI_AUDIT_POLL", "CAPI_AUDIT_REMIND", "CAPI_AUDIT_RESOLVE_AFTER",
    "CAPI_AUDIT_WINDOW", "CAPI_AUDIT_MIN_SEVERITY",
)


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


@pytest.fixture
def put(tmp_path):
    """``put(name, text_or_bytes)`` writes an input file (a variant built in the
    test) under a temporary folder and returns its path, for ``parse_paths``."""

    def write(name: str, data: str | bytes) -> Path:
        path = tmp_path / "inputs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8", newline="")
        return path

    return write
