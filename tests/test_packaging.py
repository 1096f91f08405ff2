"""What `pip install .` ships: every package, the rulesets, the entry points."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _config():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_python_package_in_the_tree_is_shipped():
    cfg = _config()["tool"]["setuptools"]
    listed = set(cfg["packages"])
    mapping = {v: k for k, v in cfg["package-dir"].items()}  # folder -> import name
    found = set()
    for top in ("auditor", "plugins", "rulesets"):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).parts
            head = mapping.get(rel[0], rel[0])
            found.add(".".join((head, *rel[1:])))
    assert found <= listed, f"not listed in pyproject packages: {sorted(found - listed)}"


def test_builtin_plugins_register_through_the_public_entry_point_group():
    cfg = _config()
    eps = cfg["project"]["entry-points"]["capi_auditor"]
    assert all(v.startswith("capi_auditor_plugins.") for v in eps.values())
    for target in eps.values():
        rel = target.replace("capi_auditor_plugins", "plugins").replace(".", "/")
        assert (ROOT / f"{rel}.py").is_file() or (ROOT / rel / "__init__.py").is_file(), target
    # no generic top-level 'plugins' package is installed
    assert "plugins" not in cfg["tool"]["setuptools"]["packages"]


def test_every_ruleset_and_catalogue_file_is_package_data():
    """The Graph error catalogue lives in a subfolder of rulesets/: a pattern
    that only covers top-level YAML files would ship a package that cannot
    classify a single Graph error."""
    import fnmatch

    patterns = _config()["tool"]["setuptools"]["package-data"]["capi_auditor_rulesets"]
    files = [p.relative_to(ROOT / "rulesets").as_posix() for p in (ROOT / "rulesets").rglob("*.yaml")]
    assert "catalogues/graph_errors.yaml" in files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) and f.count("/") == pat.count("/") for pat in patterns)]
    assert not missing, f"not shipped as package data: {missing}"
