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


def _run(cmd, cwd=None, env=None):
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
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
    env = {**os.environ, "PYTHONPATH": str(root)}
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")], cwd=root, env=env)

    # 2. pip-install it into a fresh virtualenv
    py = install_in_fresh_venv(root, tmp_path / "fresh")

    # 3. the entry point is found and the audit uses the plugin
    listing = json.loads(_run([str(py), "-m", "auditor", "plugins", "--json"]).stdout)
    mine = [p for p in listing["plugins"] if p["name"] == "acme_store"]
    assert mine and mine[0]["origin"].startswith("entry point: capi-auditor-acme-store")
    assert mine[0]["sources"] == ["acme_store"] and mine[0]["checks"] == ["acme_store-sender-errors"]
    res = subprocess.run([str(py), "-m", "auditor", "audit", str(root / "sample_logs"), "--format", "json", "--no-db", "--quiet"],
                         capture_output=True, text=True, timeout=300)
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
    env = {**os.environ, "PYTHONPATH": str(example)}
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example / "tests")], cwd=example, env=env)
    py = install_in_fresh_venv(example, tmp_path / "fresh")
    listing = json.loads(_run([str(py), "-m", "auditor", "plugins", "--json"]).stdout)
    (mine,) = [p for p in listing["plugins"] if p["name"] == "inhouse"]
    assert mine["sources"] == ["inhouse_orders", "inhouse_sender"]
    assert mine["origin"].startswith("entry point: capi-auditor-inhouse")
    res = subprocess.run([str(py), "-m", "auditor", "audit", str(example / "sample_logs"), "--format", "json", "--no-db", "--quiet"],
                         capture_output=True, text=True, timeout=300)
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
