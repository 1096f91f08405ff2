"""Build the pluggy PluginManager: entry points, --plugin, --plugins-dir.

Discovery order (pytest/tox style):
1. names in ``--disable NAME`` / ``CAPI_AUDIT_DISABLE_PLUGINS=a,b`` are blocked;
2. the ``capi_auditor`` entry-point group is loaded (built-ins are there too),
   unless ``CAPI_AUDIT_DISABLE_AUTOLOAD=1``;
3. each ``--plugin MODULE_OR_FILE`` is imported and registered;
4. each ``*.py`` in ``--plugins-dir`` is imported and registered.

A plugin that fails to import is recorded as a problem with its name, not a
crash (unless ``strict``).  ``CAPI_AUDIT_TRACE_PLUGINS=1`` prints hook calls.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pluggy

from . import hookspecs
from .problems import PluginProblem, describe

ENTRY_POINT_GROUP = "capi_auditor"


@dataclass(frozen=True)
class PluginOrigin:
    """Where a registered plugin came from, for ``capi-audit plugins``."""

    name: str
    kind: str  # "entry point" | "module" | "file"
    where: str
    version: str | None = None


@dataclass
class LoadedPlugins:
    pm: pluggy.PluginManager
    origins: dict[str, PluginOrigin] = field(default_factory=dict)
    problems: list[PluginProblem] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


class PluginLoadError(RuntimeError):
    """Raised in strict mode when a plugin cannot be loaded."""


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def _env_list(var: str) -> list[str]:
    return [x.strip() for x in os.environ.get(var, "").split(",") if x.strip()]


def load_plugins(
    plugins: list[str] | tuple[str, ...] = (),
    plugins_dir: Path | None = None,
    disable: list[str] | tuple[str, ...] = (),
    *,
    autoload: bool | None = None,
    strict: bool = False,
) -> LoadedPlugins:
    """Create a plugin manager with every plugin the user asked for."""
    pm = new_plugin_manager()
    loaded = LoadedPlugins(pm=pm)
    blocked = list(dict.fromkeys([*disable, *_env_list("CAPI_AUDIT_DISABLE_PLUGINS")]))
    for name in blocked:
        pm.set_blocked(name)
    loaded.disabled = blocked
    if autoload is None:
        autoload = os.environ.get("CAPI_AUDIT_DISABLE_AUTOLOAD", "") in ("", "0", "false")

    def problem(name: str, what: str, exc: BaseException) -> None:
        if strict:
            raise PluginLoadError(f"plugin {name!r}: {what}: {describe(exc)}") from exc
        loaded.problems.append(PluginProblem(name, what, describe(exc)))

    if autoload:
        for dist in importlib.metadata.distributions():
            for ep in dist.entry_points:
                if ep.group != ENTRY_POINT_GROUP or pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
                    continue
                try:
                    module = ep.load()
                except Exception as exc:  # noqa: BLE001 - third-party import
                    problem(ep.name, "import", exc)
                    continue
                _register(pm, module, ep.name, loaded, problem)
                loaded.origins[ep.name] = PluginOrigin(
                    ep.name, "entry point", f"{dist.metadata['Name']} ({ep.value})", dist.version
                )

    for spec in plugins:
        try:
            module = _import_spec(spec)
        except Exception as exc:  # noqa: BLE001
            problem(Path(spec).stem if spec.endswith(".py") else spec, "import", exc)
            continue
        is_file = spec.endswith(".py") or os.sep in spec or Path(spec).is_file()
        name = getattr(module, "PLUGIN_NAME", None) or (Path(spec).stem if is_file else module.__name__.rsplit(".", 1)[-1])
        if pm.is_blocked(name):
            continue
        if _register(pm, module, name, loaded, problem):
            kind = "file" if is_file else "module"
            where = str(Path(spec).resolve()) if kind == "file" else spec
            loaded.origins[name] = PluginOrigin(name, kind, where, getattr(module, "__version__", None))

    if plugins_dir is not None:
        for path in sorted(Path(plugins_dir).glob("*.py")):
            try:
                module = _import_file(path)
            except Exception as exc:  # noqa: BLE001
                problem(path.stem, "import", exc)
                continue
            name = getattr(module, "PLUGIN_NAME", None) or path.stem
            if pm.is_blocked(name):
                continue
            if _register(pm, module, name, loaded, problem):
                loaded.origins[name] = PluginOrigin(name, "file", str(path.resolve()), getattr(module, "__version__", None))

    if os.environ.get("CAPI_AUDIT_TRACE_PLUGINS"):
        def before(hook_name, hook_impls, kwargs):  # pragma: no cover - debugging aid
            print(f"[plugins] {hook_name} -> {[i.plugin_name for i in hook_impls]}", file=sys.stderr)

        def after(outcome, hook_name, hook_impls, kwargs):  # pragma: no cover
            pass

        pm.add_hookcall_monitoring(before, after)
    return loaded


def _register(pm, module: ModuleType, name: str, loaded: LoadedPlugins, problem) -> bool:
    if pm.has_plugin(name) or pm.is_registered(module):
        return False
    try:
        pm.register(module, name=name)
    except Exception as exc:  # noqa: BLE001 - e.g. PluginValidationError
        problem(name, "register", exc)
        return False
    return True


def _import_spec(spec: str) -> ModuleType:
    if spec.endswith(".py") or os.sep in spec or Path(spec).is_file():
        return _import_file(Path(spec))
    return importlib.import_module(spec)


def _import_file(path: Path) -> ModuleType:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such plugin file: {path}")
    mod_name = f"capi_auditor_local_{path.stem}_{abs(hash(str(path.resolve()))) & 0xFFFFFF:x}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    return module
