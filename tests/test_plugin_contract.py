"""The plugin contract the docs promise is the one the code keeps.

Built-in plugins are written like third-party ones: they may import only what
``auditor`` exports or what ``docs/plugins.md`` documents as a helper, and every
hook and every context method a plugin can call is documented there
(datasette's test of undocumented hooks is the model).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import auditor
from auditor import hookspecs
from auditor.registry import CheckContext, ParseContext

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "plugins.md").read_text()
DOCUMENTED = set(re.findall(r"`(auditor(?:\.[A-Za-z_]+)+)", DOCS))


def _imports_from_auditor(path: Path) -> list[tuple[str, str, int]]:
    """(module, name, line) of every ``from auditor... import name`` in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "auditor" and node.level == 0:
            out += [(node.module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            out += [(alias.name, "", node.lineno) for alias in node.names if alias.name.startswith("auditor.")]
    return out


def _documented(module: str, name: str) -> bool:
    if name and name in auditor.__all__:  # exported by auditor itself (also when imported from its module)
        return module == "auditor" or getattr(importlib.import_module(module), name, None) is getattr(auditor, name)
    qualified = f"{module}.{name}" if name else module
    return qualified in DOCUMENTED or any(d.startswith(qualified + ".") for d in DOCUMENTED)


def test_built_in_plugins_use_only_the_documented_api():
    offences = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for module, name, line in _imports_from_auditor(path):
            if name.startswith("_") or not _documented(module, name):
                offences.append(f"{path.relative_to(ROOT)}:{line}: {module}.{name}")
    assert not offences, "plugins import what docs/plugins.md does not document:\n" + "\n".join(offences)


def test_every_hook_is_documented():
    hooks = [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("capi_auditor_")]
    assert hooks
    for hook in hooks:
        assert f"### `{hook}(" in DOCS, f"hook {hook} has no section in docs/plugins.md"
        assert (getattr(hookspecs, hook).__doc__ or "").strip(), f"hook {hook} has no docstring"


def test_every_context_method_is_documented():
    for cls in (ParseContext, CheckContext):
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                continue
            assert f"ctx.{name}" in DOCS, f"{cls.__name__}.{name} is not documented in docs/plugins.md"


def test_every_testing_helper_is_documented():
    """What ``auditor.testing`` and its fixture writer export is in the guide's
    testing section, with its signature (`` `name(`` ...)."""
    section = DOCS[DOCS.index("## Testing a plugin: `auditor.testing`"):]
    for module in ("auditor.testing", "auditor.testing.woocommerce_log"):
        mod = importlib.import_module(module)
        assert f"`{module}`" in section, f"{module} is not named in docs/plugins.md"
        missing = [name for name in mod.__all__ if f"`{name}(" not in section]
        assert not missing, f"{module} helpers not documented in docs/plugins.md: {missing}"
