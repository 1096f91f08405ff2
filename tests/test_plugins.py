"""Plugin loading, listing, disabling and containment of broken plugins."""

from __future__ import annotations

import json
import shutil

from conftest import DATA, INHOUSE_PLUGIN, SAMPLES

from auditor import hookspecs
from auditor.plugin_manager import load_plugins
from auditor.registry import Registry

INHOUSE_LOG = DATA / "inhouse" / "sender.jsonl"


def test_builtin_plugins_come_from_entry_points(cli):
    out = cli("plugins", "--json")
    assert out.exit_code == 0
    listing = json.loads(out.stdout)
    by_name = {p["name"]: p for p in listing["plugins"]}
    assert {"woocommerce", "graph_api", "connection_health"} <= set(by_name)
    assert by_name["connection_health"]["origin"].startswith("entry point: capi-auditor")
    assert "capi_auditor_register_checks" in by_name["connection_health"]["hooks"]
    assert "token-expired" in by_name["connection_health"]["rules"]


def test_plugin_from_file_takes_part_in_the_audit(audit_json):
    code, report, _ = audit_json(str(INHOUSE_LOG), "--plugin", str(INHOUSE_PLUGIN))
    assert report["inputs"]["by_source"] == {"inhouse_sender": 4}
    assert report["inputs"]["skipped_lines"] == 1
    assert report["inputs"]["errors"][0] == {"file": str(INHOUSE_LOG), "line": 4, "reason": "not an in-house sender record"}
    token = [f for f in report["findings"] if f["rule"] == "token-expired"]
    assert len(token) == 1 and token[0]["count"] == 2 and token[0]["ongoing"] is True
    assert code == 1  # critical finding, default --fail-on high


def test_plugins_dir_and_listing_origin(tmp_path, cli):
    shutil.copy(INHOUSE_PLUGIN, tmp_path / "inhouse_sender.py")
    listing = json.loads(cli("plugins", "--plugins-dir", str(tmp_path), "--json").stdout)
    mine = [p for p in listing["plugins"] if p["name"] == "inhouse_sender"]
    assert mine and mine[0]["sources"] == ["inhouse_sender"]
    assert mine[0]["origin"] == f"file: {(tmp_path / 'inhouse_sender.py').resolve()}"


def test_disable_plugin_by_name(cli, audit_json, monkeypatch):
    listing = json.loads(cli("plugins", "--disable", "connection_health", "--json").stdout)
    assert "connection_health" not in {p["name"] for p in listing["plugins"]}
    assert listing["disabled"] == ["connection_health"]
    code, report, _ = audit_json(str(INHOUSE_LOG), "--plugin", str(INHOUSE_PLUGIN), "--disable", "connection_health")
    assert report["findings"] == [] and code == 0
    monkeypatch.setenv("CAPI_AUDIT_DISABLE_PLUGINS", "inhouse_sender")
    listing = json.loads(cli("plugins", "--plugin", str(INHOUSE_PLUGIN), "--json").stdout)
    assert "inhouse_sender" not in {p["name"] for p in listing["plugins"]}
    code, report, result = audit_json(str(INHOUSE_LOG), "--plugin", str(INHOUSE_PLUGIN))
    assert report is None or "inhouse_sender" not in report["inputs"]["by_source"]


def test_broken_plugin_is_named_and_others_still_report(tmp_path, audit_json):
    shutil.copy(INHOUSE_LOG, tmp_path / "sender.jsonl")
    (tmp_path / "data.broken").write_text("whatever\n")
    code, report, _ = audit_json(str(tmp_path), "--plugin", str(INHOUSE_PLUGIN), "--plugin", str(DATA / "plugins" / "broken_parser.py"))
    problems = report["plugin_problems"]
    assert any(p["plugin"] == "broken_parser" and "parser exploded" in p["error"] for p in problems)
    assert "maria.silva@example.com" not in json.dumps(report)  # even exception text is redacted
    assert report["inputs"]["by_source"] == {"inhouse_sender": 4}
    assert any(f["rule"] == "token-expired" for f in report["findings"])


def test_strict_turns_plugin_failure_into_exit_2(tmp_path, audit_json):
    (tmp_path / "data.broken").write_text("whatever\n")
    code, report, result = audit_json(str(tmp_path), "--plugin", str(DATA / "plugins" / "broken_parser.py"), "--strict")
    assert code == 2 and report is None
    assert "broken_parser" in result.stderr and "maria.silva" not in result.stderr


def test_wrong_schema_names_the_column(tmp_path, audit_json):
    (tmp_path / "x.wrong").write_text("a\n")
    _, report, _ = audit_json(str(tmp_path), "--plugin", str(DATA / "plugins" / "wrong_schema.py"))
    (problem,) = [p for p in report["plugin_problems"] if p["plugin"] == "wrong_schema"]
    assert "logged_at" in problem["error"]


def test_plugin_with_unknown_hook_argument_is_rejected(tmp_path):
    bad = tmp_path / "badhook.py"
    bad.write_text("from auditor import hookimpl\n@hookimpl\ndef capi_auditor_register_sources(register, colour):\n    pass\n")
    loaded = load_plugins([str(bad)], builtins=False, autoload=False)
    assert [p.plugin for p in loaded.problems] == ["badhook"]
    assert Registry.collect(loaded.pm).sources == {}


def test_every_hook_has_a_documented_contract():
    names = [n for n in dir(hookspecs) if n.startswith("capi_auditor_")]
    assert names
    for name in names:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert "Fires" in doc and ("Return" in doc or "return" in doc), name


BROKEN_SNIFF = '''
from auditor import Source, hookimpl

PLUGIN_NAME = "broken_sniffer"


def sniff(name, head):
    raise ValueError("sniffer exploded on anna@example.com")


def parse(batch, ctx):
    return batch


@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="broken_sniffer", sniff=sniff, parse=parse))
'''


def test_a_sniffer_that_raises_is_one_problem_and_strict_stops(tmp_path, audit_json):
    """Plugin problems are recorded in one place: a raising sniff is reported once
    (not once a file), the built-ins still read the files, and --strict stops at it."""
    plugin = tmp_path / "broken_sniffer.py"
    plugin.write_text(BROKEN_SNIFF)
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(3):
        shutil.copy(SAMPLES / "graph_api" / "responses.ndjson", logs / f"responses-{i}.ndjson")
    code, report, _ = audit_json(str(logs), "--plugin", str(plugin), "--fail-on", "never")
    assert code == 0
    sniffs = [p for p in report["plugin_problems"] if p["plugin"] == "broken_sniffer"]
    assert len(sniffs) == 1 and "sniffer exploded" in sniffs[0]["error"] and "anna@" not in sniffs[0]["error"]
    assert report["inputs"]["by_source"].get("graph_api", 0) > 0
    code, report, result = audit_json(str(logs), "--plugin", str(plugin), "--strict")
    assert code == 2 and report is None
    assert "broken_sniffer" in result.stderr and "sniff" in result.stderr
