"""`plugins new` gives a project whose test passes and that installs as a plugin.

Follows docs/plugins.md end to end: scaffold, run the generated test, install
the project with pip into a fresh virtualenv, and audit with it through the
entry point.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest


def _autoload_env(**extra):
    """This environment with third-party autoload on: these tests install one on purpose."""
    env = {k: v for k, v in os.environ.items() if k != "CAPI_AUDIT_DISABLE_AUTOLOAD"}
    return {**env, **extra}


def _run(cmd, cwd=None, env=None):
    res = subprocess.run(cmd, cwd=cwd, env=env or _autoload_env(), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{cmd}\n{res.stdout}\n{res.stderr}"
    return res


def install_in_fresh_venv(project: Path, where: Path) -> Path:
    """pip-install ``project`` (no deps) into a new virtualenv that reuses this
    environment's capi-auditor and dependencies; return its python."""
    venv.EnvBuilder(with_pip=True).create(where)
    py = where / "bin" / "python"
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # capi-auditor and its dependencies come from this environment (their .pth
    # files too, so an editable install of capi-auditor works); the plugin is
    # installed into the fresh one only
    dirs = ", ".join(repr(d) for d in site.getsitepackages())
    (purelib / "zz_capi_auditor_parent_env.pth").write_text(f"import site; list(map(site.addsitedir, ({dirs},)))\n")
    _run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", str(project)])
    return py


def test_plugins_new_project_tests_pass_and_install_as_plugin(cli, tmp_path):
    out = cli("plugins", "new", "Acme Store", "--dir", str(tmp_path))
    assert out.exit_code == 0
    root = tmp_path / "capi-auditor-acme-store"
    assert (root / "pyproject.toml").is_file()
    assert 'acme_store = "capi_auditor_acme_store"' in (root / "pyproject.toml").read_text()

    # 1. the generated test passes as generated
    env = _autoload_env(PYTHONPATH=str(root))
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")], cwd=root, env=env)

    # 2. pip-install it into a fresh virtualenv
    py = install_in_fresh_venv(root, tmp_path / "fresh")

    # 3. the entry point is found and the audit uses the plugin
    listing = json.loads(_run([str(py), "-m", "auditor", "plugins", "--json"]).stdout)
    mine = [p for p in listing["plugins"] if p["name"] == "acme_store"]
    assert mine and mine[0]["origin"].startswith("entry point: capi-auditor-acme-store")
    assert mine[0]["sources"] == ["acme_store"] and mine[0]["checks"] == ["acme_store-sender-errors"]
    res = subprocess.run([str(py), "-m", "auditor", "audit", str(root / "sample_logs"), "--format", "json", "--no-db", "--quiet"],
                         capture_output=True, text=True, timeout=300, env=_autoload_env())
    report = json.loads(res.stdout)
    assert report["inputs"]["by_source"] == {"acme_store": 6}
    # the plugin's own row, and the built-in checks read its rows too: code 100/2804003 is
    # payload-rejected, and the Graph error catalogue names the fault (event_time too old)
    assert {f["rule"] for f in report["findings"]} == {"acme_store-sender-errors", "payload-rejected", "event-time-wrong"}
    assert res.returncode == 1  # the plugin's row is high severity


def test_plugins_new_refuses_bad_names_and_existing_dirs(cli, tmp_path):
    assert cli("plugins", "new", "9lives", "--dir", str(tmp_path)).exit_code == 2
    assert cli("plugins", "new", "ok", "--dir", str(tmp_path)).exit_code == 0
    assert cli("plugins", "new", "ok", "--dir", str(tmp_path)).exit_code == 2


def test_example_inhouse_plugin_installs_and_audits(tmp_path):
    # a copy: building the project writes egg-info next to its sources
    example = tmp_path / "capi-auditor-inhouse"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "capi-auditor-inhouse", example)
    env = _autoload_env(PYTHONPATH=str(example))
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example / "tests")], cwd=example, env=env)
    py = install_in_fresh_venv(example, tmp_path / "fresh")
    listing = json.loads(_run([str(py), "-m", "auditor", "plugins", "--json"]).stdout)
    (mine,) = [p for p in listing["plugins"] if p["name"] == "inhouse"]
    assert mine["sources"] == ["inhouse_orders", "inhouse_sender"]
    assert mine["origin"].startswith("entry point: capi-auditor-inhouse")
    res = subprocess.run([str(py), "-m", "auditor", "audit", str(example / "sample_logs"), "--format", "json", "--no-db", "--quiet"],
                         capture_output=True, text=True, timeout=300, env=_autoload_env())
    report = json.loads(res.stdout)
    assert report["inputs"]["by_source"] == {"inhouse_orders": 4, "inhouse_sender": 8}
    (token,) = [f for f in report["findings"] if f["rule"] == "token-expired"]
    assert token["count"] == 2 and token["account"] == "555000111222333"


@pytest.mark.parametrize("hook", __import__("auditor.testing", fromlist=["x"]).iter_plugin_hooks())
def test_every_hook_is_documented_in_the_guide(hook):
    guide = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
    from auditor import hookspecs

    import inspect

    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### `{hook}({params})`" in guide


def test_scaffold_claims_no_built_in_format(cli, tmp_path):
    """Installing a fresh scaffold must not take files from the built-in sources:
    its sniff scores 0 on every sample and test fixture, and its own sample only."""
    import importlib.util

    assert cli("plugins", "new", "mystore", "--dir", str(tmp_path)).exit_code == 0
    root = tmp_path / "capi-auditor-mystore"
    spec = importlib.util.spec_from_file_location("scaffolded_mystore", root / "capi_auditor_mystore" / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    repo = Path(__file__).resolve().parents[1]
    claimed = [p for folder in (repo / "sample_logs", repo / "tests" / "data") for p in sorted(folder.rglob("*"))
               if p.is_file() and module.sniff(p.name, p.read_bytes()[:65536]) > 0]
    assert claimed == []
    own = root / "sample_logs" / "mystore-sender.jsonl"
    assert module.sniff(own.name, own.read_bytes()) > 0


def test_scaffold_refuses_names_of_built_ins(cli, tmp_path):
    for name in ("woocommerce", "Graph API", "payload_quality"):
        res = cli("plugins", "new", name, "--dir", str(tmp_path))
        assert res.exit_code == 2, name
        assert "already the name of a loaded plugin, source or check" in res.stderr
    assert list(tmp_path.iterdir()) == []
