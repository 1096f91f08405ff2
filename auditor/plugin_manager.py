"""Build the pluggy PluginManager: built-ins, entry points, --plugin, --plugins-dir.

Discovery order (pytest/tox style):
1. names in ``--disable NAME`` / ``CAPI_AUDIT_DISABLE_PLUGINS=a,b`` are blocked;
2. the built-in plugins (:data:`BUILTIN_PLUGINS`, the ``capi_auditor`` entry
   points of the capi-auditor distribution itself) are loaded, always;
3. third-party ``capi_auditor`` entry points are loaded, unless
   ``CAPI_AUDIT_DISABLE_AUTOLOAD=1`` (or ``autoload=False``);
4. each ``--plugin MODULE_OR_FILE`` is imported and registered;
5. each ``*.py`` in ``--plugins-dir`` is imported and registered.

A plugin that fails to import is recorded as a problem with its name, not a
crash (unless ``strict``).  A plugin that takes a built-in's name is refused
(its sources and checks cannot silently replace the built-in ones; see
:meth:`auditor.registry.Registry.collect` for source and check names).
Mistakes in what the user asked for (a disabled name no plugin has, a missing
plugin file or directory) raise :class:`PluginUsageError` before any work.
``CAPI_AUDIT_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import functools
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
from .suggest import did_you_mean

ENTRY_POINT_GROUP = "capi_auditor"
DISTRIBUTION = "capi-auditor"

#: The default plugin list (pytest's ``default_plugins``): loaded even when
#: third-party autoload is off.  ``pyproject.toml`` declares the same names as
#: entry points (tests/test_plugin_loading.py keeps the two equal).
BUILTIN_PLUGINS: dict[str, str] = {
    "woocommerce": "capi_auditor_plugins.woocommerce",
    "graph_api": "capi_auditor_plugins.graph_api",
    "connection_health": "capi_auditor_plugins.connection_health",
    "shopify": "capi_auditor_plugins.shopify",
    "gtm_server": "capi_auditor_plugins.gtm_server",
    "payload_quality": "capi_auditor_plugins.payload_quality",
    "reconciliation": "capi_auditor_plugins.reconciliation",
}


@dataclass(frozen=True)
class PluginOrigin:
    """Where a registered plugin came from, for ``capi-audit plugins``."""

    name: str
    kind: str  # "entry point" | "built-in" | "module" | "file"
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


class PluginUsageError(ValueError):
    """The user asked for a plugin that is not there (exit 2 before any work)."""


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def env_flag(var: str) -> bool:
    """An environment switch: set and not ``0``/``false``/``no``."""
    return os.environ.get(var, "").strip().lower() not in ("", "0", "false", "no")


def _env_list(var: str) -> list[str]:
    return [x.strip() for x in os.environ.get(var, "").split(",") if x.strip()]


def load_plugins(
    plugins: list[str] | tuple[str, ...] = (),
    plugins_dir: Path | None = None,
    disable: list[str] | tuple[str, ...] = (),
    *,
    builtins: bool = True,
    autoload: bool | None = None,
    strict: bool = False,
) -> LoadedPlugins:
    """Create a plugin manager with the built-ins and every plugin the user asked for.

    ``autoload`` (third-party entry points) defaults to on unless
    ``CAPI_AUDIT_DISABLE_AUTOLOAD`` is set; ``builtins=False`` loads only what
    is named (``auditor.testing`` uses it to test one plugin alone).
    """
    _check_paths(plugins, plugins_dir)
    pm = new_plugin_manager()
    loaded = LoadedPlugins(pm=pm)
    blocked = list(dict.fromkeys([*disable, *_env_list("CAPI_AUDIT_DISABLE_PLUGINS")]))
    for name in blocked:
        pm.set_blocked(name)
    loaded.disabled = blocked
    if autoload is None:
        autoload = not env_flag("CAPI_AUDIT_DISABLE_AUTOLOAD")
    seen: set[str] = set()  # every plugin name met, loaded or blocked

    def problem(name: str, what: str, exc: BaseException) -> None:
        if strict:
            raise PluginLoadError(f"plugin {name!r}: {what}: {describe(exc)}") from exc
        loaded.problems.append(PluginProblem(name, what, describe(exc)))

    def add(module: ModuleType | None, name: str, origin: PluginOrigin, builtin: bool = False) -> None:
        seen.add(name)
        if pm.is_blocked(name) or (module is not None and pm.is_registered(module)) or loaded.origins.get(name) == origin:
            return  # blocked, or the same plugin found twice (an editable install lists it twice)
        taken = "a built-in plugin" if name in BUILTIN_PLUGINS and not builtin else None
        if taken is None and pm.has_plugin(name):
            other = loaded.origins.get(name)
            taken = f"{other.kind} {other.where}" if other else "another plugin"
        if taken:
            problem(name, "load", NameError(
                f"refused: {origin.kind} {origin.where} uses the plugin name {name!r}, already taken by {taken}; "
                "rename the plugin (PLUGIN_NAME, or its entry-point name)"))
            return
        if module is not None and _register(pm, module, name, problem):
            loaded.origins[name] = origin

    entry_points = [(dist, ep) for dist in importlib.metadata.distributions() for ep in dist.entry_points
                    if ep.group == ENTRY_POINT_GROUP]
    entry_points.sort(key=lambda de: (de[0].metadata["Name"] or "", de[1].name))  # not install order
    own = {ep.name: (dist, ep) for dist, ep in entry_points if _dist_name(dist) == DISTRIBUTION and ep.name in BUILTIN_PLUGINS}
    if builtins:
        for name, module_name in BUILTIN_PLUGINS.items():
            seen.add(name)
            if pm.is_blocked(name):
                continue
            dist, ep = own.get(name, (None, None))
            try:
                module = ep.load() if ep else importlib.import_module(module_name)
            except Exception as exc:  # noqa: BLE001 - a broken install
                problem(name, "import", exc)
                continue
            origin = (PluginOrigin(name, "entry point", f"{dist.metadata['Name']} ({ep.value})", dist.version) if ep
                      else PluginOrigin(name, "built-in", module_name, None))
            add(module, name, origin, builtin=True)

    for dist, ep in entry_points:
        if _dist_name(dist) == DISTRIBUTION and ep.name in BUILTIN_PLUGINS:
            continue  # ours (the same distribution may be found twice, e.g. an editable install)
        seen.add(ep.name)
        if not autoload or pm.is_blocked(ep.name):
            continue
        origin = PluginOrigin(ep.name, "entry point", f"{dist.metadata['Name']} ({ep.value})", dist.version)
        if ep.name in BUILTIN_PLUGINS or pm.has_plugin(ep.name):
            add(None, ep.name, origin)  # the same plugin again, or refused without importing it
            continue
        try:
            module = ep.load()
        except Exception as exc:  # noqa: BLE001 - third-party import
            problem(ep.name, "import", exc)
            continue
        add(module, ep.name, origin)

    for spec in plugins:
        is_file = _is_file_spec(spec)
        try:
            module = _import_file(Path(spec)) if is_file else importlib.import_module(spec)
        except ModuleNotFoundError as exc:
            if not is_file and exc.name and (spec == exc.name or spec.startswith(exc.name + ".")):
                raise PluginUsageError(f"--plugin {spec}: no module named {exc.name!r}") from exc
            problem(Path(spec).stem if is_file else spec, "import", exc)
            continue
        except Exception as exc:  # noqa: BLE001
            problem(Path(spec).stem if is_file else spec, "import", exc)
            continue
        name = getattr(module, "PLUGIN_NAME", None) or (Path(spec).stem if is_file else module.__name__.rsplit(".", 1)[-1])
        where = str(Path(spec).resolve()) if is_file else spec
        add(module, name, PluginOrigin(name, "file" if is_file else "module", where, getattr(module, "__version__", None)))

    if plugins_dir is not None:
        for path in sorted(Path(plugins_dir).glob("*.py")):
            try:
                module = _import_file(path)
            except Exception as exc:  # noqa: BLE001
                problem(path.stem, "import", exc)
                continue
            name = getattr(module, "PLUGIN_NAME", None) or path.stem
            add(module, name, PluginOrigin(name, "file", str(path.resolve()), getattr(module, "__version__", None)))

    unknown = [n for n in blocked if n not in seen]
    if unknown and builtins:
        n = unknown[0]
        where = "--disable" if n in disable else "CAPI_AUDIT_DISABLE_PLUGINS"
        raise PluginUsageError(f"{where} {n}: no plugin has this name{did_you_mean(n, seen)}"
                               f" (plugins: {', '.join(sorted(seen)) or 'none'})")
    if env_flag("CAPI_AUDIT_TRACE_PLUGINS"):
        trace_hook_calls(pm)
    return loaded


def _dist_name(dist) -> str:
    return (dist.metadata["Name"] or "").lower().replace("_", "-")


def _check_paths(plugins, plugins_dir) -> None:
    """Missing plugin files and directories are usage errors, found before any work."""
    for spec in plugins:
        if _is_file_spec(spec) and not Path(spec).is_file():
            raise PluginUsageError(f"--plugin {spec}: no such file")
    if plugins_dir is not None and not Path(plugins_dir).is_dir():
        raise PluginUsageError(f"--plugins-dir {plugins_dir}: no such directory")


def trace_hook_calls(pm: pluggy.PluginManager, out=None) -> None:
    """Print each hook implementation call (plugin, hook, arguments) to stderr.

    The registry calls implementations one by one (to contain a failing
    plugin), past pluggy's hook-call monitoring, so the trace wraps each
    implementation instead: every call is seen, however it is made.
    """
    for caller in list(vars(pm.hook).values()):
        if not isinstance(caller, pluggy.HookCaller):
            continue
        for impl in caller.get_hookimpls():
            if getattr(impl.function, "_capi_traced", False):
                continue
            impl.function = _traced(impl.function, impl.plugin_name, caller.name, out)


def _traced(function, plugin: str, hook: str, out):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        names = ", ".join([*(repr(a) for a in args), *kwargs])
        print(f"capi-audit trace: {plugin}: {hook}({names})", file=out or sys.stderr, flush=True)
        result = function(*args, **kwargs)
        if result is not None:
            print(f"capi-audit trace: {plugin}: {hook} -> {result!r}", file=out or sys.stderr, flush=True)
        return result

    wrapper._capi_traced = True
    return wrapper


def _register(pm, module: ModuleType, name: str, problem) -> bool:
    if pm.is_registered(module):
        return False
    try:
        pm.register(module, name=name)
    except Exception as exc:  # noqa: BLE001 - e.g. PluginValidationError
        problem(name, "register", exc)
        return False
    return True


def _is_file_spec(spec: str) -> bool:
    return spec.endswith(".py") or os.sep in spec or Path(spec).is_file()


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
