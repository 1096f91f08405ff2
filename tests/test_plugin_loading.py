"""Which plugins load: the built-in default list, third-party entry points,
name clashes with built-ins, autoload off, tracing, and mistakes caught first.

Third-party plugins are installed the way pip leaves them: a ``*.dist-info``
folder with ``entry_points.txt`` next to the module, on ``sys.path``.
"""

from __future__ import annotations

import json
import shutil
import tomllib
import types
from pathlib import Path

import pytest
from conftest import DATA, ROOT, SAMPLES

from auditor import hookimpl
from auditor.plugin_manager import BUILTIN_PLUGINS, load_plugins
from auditor.registry import Registry

INHOUSE_SOURCE = (DATA / "plugins" / "inhouse_sender.py").read_text()


def install(site: Path, dist: str, entry_name: str, module: str, code: str) -> None:
    """Install ``module`` as distribution ``dist`` with a ``capi_auditor`` entry point."""
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(code)
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[capi_auditor]\n{entry_name} = {module}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("CAPI_AUDIT_DISABLE_AUTOLOAD")  # these tests install third-party plugins on purpose
    return folder


def names(cli, *args):
    out = cli("plugins", "--json", *args)
    assert out.exit_code == 0, out.output
    listing = json.loads(out.stdout)
    return {p["name"]: p for p in listing["plugins"]}, listing["problems"]


def test_default_plugin_list_matches_the_entry_points_pyproject_declares():
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["capi_auditor"]
    assert eps == BUILTIN_PLUGINS


def test_third_party_entry_point_loads_and_autoload_off_keeps_builtins(site, cli, audit_json, monkeypatch):
    install(site, "capi-auditor-inhouse-t1", "inhouse_t1", "inhouse_t1", INHOUSE_SOURCE)
    plugins, problems = names(cli)
    assert plugins["inhouse_t1"]["origin"] == "entry point: capi-auditor-inhouse-t1 (inhouse_t1)"
    assert problems == []
    monkeypatch.setenv("CAPI_AUDIT_DISABLE_AUTOLOAD", "1")
    plugins, _ = names(cli)
    assert "inhouse_t1" not in plugins
    assert set(BUILTIN_PLUGINS) <= set(plugins)
    code, report, _ = audit_json(str(SAMPLES), "--fail-on", "never")
    assert code == 0
    assert {"woocommerce", "graph_api", "shopify", "gtm_server"} <= set(report["inputs"]["by_source"])


def test_third_party_plugin_named_like_a_builtin_is_refused(site, cli, audit_json):
    # what `plugins new woocommerce` used to produce: a JSON-lines reader that takes any line
    install(site, "capi-auditor-woocommerce", "woocommerce", "fake_woo_t2", INHOUSE_SOURCE.replace(
        'PLUGIN_NAME = "inhouse_sender"', 'PLUGIN_NAME = "woocommerce"'))
    plugins, problems = names(cli)
    assert plugins["woocommerce"]["origin"].startswith("entry point: capi-auditor (")
    (problem,) = problems
    assert problem["plugin"] == "woocommerce"
    assert "refused" in problem["error"] and "capi-auditor-woocommerce" in problem["error"] and "built-in" in problem["error"]
    _, report, _ = audit_json(str(SAMPLES / "woocommerce"), "--fail-on", "never")
    assert set(report["inputs"]["by_source"]) == {"woocommerce"}
    assert report["findings"]


GRAPH_CLAIMER = '''
from auditor import Check, Source, hookimpl

def sniff(name, head):
    return 1.0

def parse(batch, ctx):
    return batch.head(0)

def run(ctx):
    return []

@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="graph_api", sniff=sniff, parse=parse))

@hookimpl
def capi_auditor_register_checks(register):
    register(Check(name="mystore-errors", rules=("token-expired",), run=run))
'''


def test_plugin_whose_source_takes_a_builtin_name_is_refused_whole(tmp_path, audit_json):
    plugin = tmp_path / "mystore.py"
    plugin.write_text(GRAPH_CLAIMER)
    code, report, result = audit_json(str(SAMPLES / "graph_api"), "--plugin", str(plugin), "--fail-on", "never")
    (problem,) = [p for p in report["plugin_problems"] if p["plugin"] == "mystore"]
    assert problem["error"] == "refused: its source 'graph_api' has the name of a built-in source (plugin graph_api); rename it"
    assert report["inputs"]["by_source"].get("graph_api", 0) > 0  # still read by the built-in
    code, report, result = audit_json(str(SAMPLES / "graph_api"), "--plugin", str(plugin), "--strict")
    assert code == 2 and "mystore" in result.stderr and "refused" in result.stderr


def test_registry_refuses_the_intruder_whatever_the_registration_order():
    loaded = load_plugins(autoload=False)
    intruder = types.ModuleType("intruder")
    exec(GRAPH_CLAIMER, intruder.__dict__)
    # tryfirst: its registration runs before the built-ins'
    hookimpl(tryfirst=True)(intruder.capi_auditor_register_sources)
    loaded.pm.register(intruder, name="intruder")
    registry = Registry.collect(loaded.pm)
    assert registry.sources["graph_api"].plugin == "graph_api"
    assert "mystore-errors" not in registry.checks
    assert [p.plugin for p in registry.problems] == ["intruder"]


def test_trace_prints_hook_calls_to_stderr(cli, monkeypatch):
    monkeypatch.setenv("CAPI_AUDIT_TRACE_PLUGINS", "1")
    out = cli("plugins", "--json")
    assert out.exit_code == 0
    json.loads(out.stdout)  # stdout stays machine-readable
    lines = [line for line in out.stderr.splitlines() if line.startswith("capi-audit trace: ")]
    assert "capi-audit trace: woocommerce: capi_auditor_register_sources(register)" in lines
    assert any(line.startswith("capi-audit trace: connection_health: capi_auditor_register_checks(") for line in lines)
    assert any("capi_auditor_ruleset_files -> [" in line for line in lines)
    monkeypatch.setenv("CAPI_AUDIT_TRACE_PLUGINS", "0")
    assert "capi-audit trace" not in cli("plugins", "--json").stderr


@pytest.mark.parametrize("args, message", [
    (("--disable", "woocomerce"), "--disable woocomerce: no plugin has this name (did you mean 'woocommerce'?)"),
    (("--plugins-dir", "./nodir"), "--plugins-dir nodir: no such directory"),
    (("--plugin", "./nosuch.py"), "--plugin ./nosuch.py: no such file"),
    (("--plugin", "capi_auditor_nosuchmodule"), "--plugin capi_auditor_nosuchmodule: no module named 'capi_auditor_nosuchmodule'"),
])
def test_plugin_mistakes_are_usage_errors_before_any_input_is_read(cli, tmp_path, args, message):
    logs = tmp_path / "logs"
    shutil.copytree(SAMPLES / "graph_api", logs)
    for command in (("audit", str(logs), "--no-db"), ("plugins",), ("rules",)):
        res = cli(*command, *args)
        assert res.exit_code == 2, (command, res.output)
        assert res.stderr.startswith(f"capi-audit: error: {message}"), command
        assert len(res.stderr.strip().splitlines()) == 1
        assert res.stdout == ""


def test_disable_env_names_the_variable(cli, monkeypatch):
    monkeypatch.setenv("CAPI_AUDIT_DISABLE_PLUGINS", "graph-api")
    res = cli("plugins")
    assert res.exit_code == 2 and "CAPI_AUDIT_DISABLE_PLUGINS graph-api: no plugin has this name (did you mean 'graph_api'?)" in res.stderr
