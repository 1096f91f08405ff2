"""Command-line conventions: --version, -h, completion, options after
arguments, mistakes caught before any input is read, the output format taken
from the file name, and the grep-able summary line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import DATA, INHOUSE_PLUGIN, SAMPLES

import auditor

LOG = DATA / "inhouse" / "sender.jsonl"
PLUG = ("--plugin", str(INHOUSE_PLUGIN))
SUMMARY = re.compile(r"^capi-audit: (\d+) critical, (\d+) high, (\d+) medium, (\d+) low, (\d+) info "
                     r"in (\d+) accounts? — exit (\d) \((.+)\)$")


def test_version(cli):
    res = cli("--version")
    assert res.exit_code == 0 and res.stdout == f"capi-audit {auditor.__version__}\n"


@pytest.mark.parametrize("command", [(), ("audit",), ("watch",), ("rules",), ("rules", "show"), ("plugins",),
                                     ("plugins", "new"), ("history",), ("history", "diff")])
def test_dash_h_is_help_everywhere(cli, command):
    res = cli(*command, "-h")
    assert res.exit_code == 0 and "Usage:" in res.stdout and "--help" in res.stdout


def test_shell_completion_is_on():
    env = {**os.environ, "COMP_WORDS": "capi-audit hi", "COMP_CWORD": "1", "_CAPI_AUDIT_COMPLETE": "complete_bash"}
    res = subprocess.run([sys.executable, "-c", "import sys; sys.argv[0] = 'capi-audit'; from auditor.cli import main; main()"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.stdout.split() == ["history"]


def test_rules_show_takes_options_after_its_argument(cli, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: default\nrules:\n  token-expired:\n    severity: low\n")
    res = cli("rules", "show", "token-expired", "--ruleset", str(mine))
    assert res.exit_code == 0 and "(severity low)" in res.stdout
    assert "(severity critical)" in cli("rules", "show", "token-expired").stdout
    assert "(severity low)" in cli("rules", "--ruleset", str(mine), "show", "token-expired").stdout


def test_history_diff_takes_db_after_its_arguments(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'team.db'}"
    lines = LOG.read_text().splitlines()
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(lines[:2]) + "\n")
    assert cli("audit", str(first), *PLUG, "--format", "json", "--db", url).exit_code == 0
    assert cli("audit", str(LOG), *PLUG, "--format", "json", "--db", url).exit_code == 1
    res = cli("history", "diff", "1", "2", "--db", url, "--json")
    assert res.exit_code == 0, res.output
    assert [f["rule"] for f in json.loads(res.stdout)["new"]] == ["token-expired"]
    assert cli("history", "diff", "1", "2").exit_code == 2  # the default store has no runs


@pytest.mark.parametrize("args, message", [
    (("--site-timezone", "Mars/Olympus"), "--site-timezone Mars/Olympus: not an IANA time zone name"),
    (("--set", "site_timezon=UTC"), "--set site_timezon: no loaded source reads this option (did you mean 'site_timezone'?)"),
    (("--set", "pixel_id"), "--set expects KEY=VALUE, got 'pixel_id'"),
    (("--source", "graph-api"), "--source graph-api: no such source (did you mean 'graph_api'?)"),
    (("--output", "missing/dir/report.json"), "--output missing/dir/report.json: folder missing/dir does not exist"),
    (("--orders-out", "missing/orders.csv"), "--orders-out missing/orders.csv: folder missing does not exist"),
])
def test_mistakes_are_exit_2_before_any_input_is_read(cli, args, message):
    # the input does not exist: the option mistake must be found first
    res = cli("audit", "no-such-logs/", *args, "--no-db")
    assert res.exit_code == 2
    assert res.stderr.startswith(f"capi-audit: error: {message}")
    assert len(res.stderr.strip().splitlines()) == 1


def test_valid_zones_and_options_pass(audit_json):
    for zone in ("Europe/Lisbon", "+05:30", "UTC-3", "Z"):
        code, report, res = audit_json(str(SAMPLES / "woocommerce"), "--site-timezone", zone, "--fail-on", "never")
        assert code == 0, res.stderr
    code, _, res = audit_json(str(SAMPLES / "sgtm"), "--set", "gtm-link-seconds=5", "--fail-on", "never")
    assert code == 0, res.stderr


def test_unknown_rule_id_suggests_the_closest(cli):
    res = cli("rules", "show", "token-expird")
    assert res.exit_code == 2
    assert "no rule 'token-expird' (did you mean 'token-expired'?)" in res.stderr


@pytest.mark.parametrize("name, starts", [("report.html", "<!DOCTYPE html>"), ("report.md", "# CAPI audit"),
                                          ("report.json", "{"), ("report.txt", "capi-audit ")])
def test_output_format_from_the_extension(cli, tmp_path, name, starts):
    out = tmp_path / name
    res = cli("audit", str(LOG), *PLUG, "-o", str(out), "--no-db")
    assert res.exit_code == 1 and res.stdout == ""
    assert out.read_text().lstrip().startswith(starts)
    if name.endswith(".json"):
        assert json.loads(out.read_text())["findings"][0]["rule"] == "token-expired"


def test_format_option_beats_the_extension(cli, tmp_path):
    out = tmp_path / "report.html"
    cli("audit", str(LOG), *PLUG, "-o", str(out), "--format", "json", "--no-db")
    assert json.loads(out.read_text())["schema_version"] == 1


def test_terminal_report_ends_with_a_summary_line(cli):
    res = cli("audit", str(SAMPLES), "--format", "table", "--no-db")
    last = res.stdout.rstrip("\n").splitlines()[-1]
    m = SUMMARY.match(last)
    assert m, last
    report = json.loads(cli("audit", str(SAMPLES), "--format", "json", "--no-db").stdout)
    counts = [sum(f["severity"] == s for f in report["findings"]) for s in ("critical", "high", "medium", "low", "info")]
    accounts = {f["account"] for f in report["findings"] if f["account"]}
    assert [int(x) for x in m.groups()[:5]] == counts
    assert int(m.group(6)) == len(accounts) > 1
    assert (m.group(7), m.group(8)) == ("1", "fail-on high") == (str(res.exit_code), "fail-on high")


def test_summary_line_goes_to_stderr_beside_json_and_names_the_exit_reason(cli):
    res = cli("audit", str(LOG), *PLUG, "--format", "json", "--no-db", "--fail-on", "never")
    json.loads(res.stdout)  # stdout is only the report
    assert res.stderr.strip().splitlines()[-1] == (
        "capi-audit: 1 critical, 0 high, 0 medium, 0 low, 0 info in 1 account — exit 0 (fail-on never)")
    res = cli("audit", str(LOG), *PLUG, "--format", "json", "--no-db", "--disable", "connection_health")
    assert res.stderr.strip().splitlines()[-1].endswith("in 0 accounts — exit 0 (nothing at or above high)")


def test_progress_bar_is_cleared_when_the_audit_ends(cli, monkeypatch):
    """On a terminal the bar is drawn on stderr, then erased before the summary line."""
    import io

    from rich.console import Console

    import auditor.cli.audit as audit_module

    screen = io.StringIO()
    monkeypatch.setattr(audit_module, "err", Console(file=screen, force_terminal=True, width=100, highlight=False))
    res = cli("audit", str(SAMPLES / "graph_api"), "--format", "json", "--no-db", "--fail-on", "never")
    assert res.exit_code == 0
    drawn = screen.getvalue()
    assert "auditing" in drawn
    after_bar = drawn[drawn.rindex("auditing"):]
    erased, summary = after_bar.split("capi-audit: ", 1)
    assert "\x1b[2K" in erased  # the bar's line is erased
    assert summary.startswith(tuple("0123456789")) and " — exit 0 (fail-on never)" in summary


def test_ruleset_mistakes_suggest_the_closest_id_key_or_name(cli, tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text("extends: default\nrules:\n  token-expird:\n    severity: low\n")
    res = cli("audit", "no-such-logs/", "--ruleset", str(typo), "--no-db")
    assert res.exit_code == 2 and "rules.token-expird: new row is missing" in res.stderr
    assert "(did you mean 'token-expired'?)" in res.stderr
    key = tmp_path / "key.yaml"
    key.write_text("extends: default\nrules:\n  token-expired:\n    severty: low\n")
    assert "severty: unknown key (did you mean 'severity'?)" in cli("rules", "--ruleset", str(key)).stderr
    assert "(did you mean 'default'?)" in cli("rules", "--ruleset", "defualt").stderr


def test_cli_package_has_one_declaration_per_shared_option_and_no_cycle():
    """Options shared by commands are declared once (watch used to re-declare eight
    word for word), and command modules never import the app that assembles them."""
    import ast
    from pathlib import Path

    folder = Path(auditor.__file__).parent / "cli"
    declared: dict[str, int] = {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Option" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    declared[first.value] = declared.get(first.value, 0) + 1
            if path.name not in ("__init__.py", "application.py") and isinstance(node, ast.ImportFrom):
                assert node.module not in ("application", "auditor.cli", "auditor.cli.application"), path.name
                if node.level == 1 and node.module is None:  # from . import sibling
                    assert not {a.name for a in node.names} & {"app", "main", "application"}, path.name
    shared = ("--ruleset", "--plugin", "--plugins-dir", "--disable", "--db", "--source", "--site-timezone",
              "--set", "--shopify-secret", "--config", "--strict", "--no-db")
    assert {name: declared.get(name) for name in shared} == dict.fromkeys(shared, 1)
    for path in sorted((Path(auditor.__file__).parent / "watch").glob("*.py")):
        assert "auditor.cli" not in path.read_text() and "..cli" not in path.read_text(), path.name
