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
    "capi_payload": "capi_auditor_plugins.capi_payload",
    "magento": "capi_auditor_plugins.magento",
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


def disabled_names(disable: list[str] | tuple[str, ...] | None) -> list[str]:
    """The plugin names to block: ``--disable`` ones, then ``CAPI_AUDIT_DISABLE_PLUGINS``."""
    return list(dict.fromkeys([*(disable or ()), *_env_list("CAPI_AUDIT_DISABLE_PLUGINS")]))


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
    loader = _Loader(disabled_names(disable), strict)
    entry_points = _entry_points()
    if builtins:
        loader.builtins(entry_points)
    if not env_flag("CAPI_AUDIT_DISABLE_AUTOLOAD") if autoload is None else autoload:
        loader.third_party(entry_points)
    else:
        loader.seen.update(ep.name for _, ep in entry_points)
    for spec in plugins:
        loader.spec(spec)
    if plugins_dir is not None:
        for path in sorted(Path(plugins_dir).glob("*.py")):
            loader.file(path)
    unknown = [n for n in loader.loaded.disabled if n not in loader.seen]
    if unknown and builtins:
        n = unknown[0]
        where = "--disable" if n in disable else "CAPI_AUDIT_DISABLE_PLUGINS"
        raise PluginUsageError(f"{where} {n}: no plugin has this name{did_you_mean(n, loader.seen)}"
                               f" (plugins: {', '.join(sorted(loader.seen)) or 'none'})")
    if env_flag("CAPI_AUDIT_TRACE_PLUGINS"):
        trace_hook_calls(loader.pm)
    return loader.loaded


def _entry_points() -> list[tuple[importlib.metadata.Distribution, importlib.metadata.EntryPoint]]:
    """Every ``capi_auditor`` entry point, by distribution and name (not install order)."""
    found = [(dist, ep) for dist in importlib.metadata.distributions() for ep in dist.entry_points
             if ep.group == ENTRY_POINT_GROUP]
    return sorted(found, key=lambda de: (_dist_name(de[0]), de[1].name))


class _Loader:
    """Registers plugins one by one, refusing names that are taken; remembers
    every name it met (for ``--disable`` mistakes) and every problem."""

    def __init__(self, blocked: list[str], strict: bool):
        self.pm = new_plugin_manager()
        self.loaded = LoadedPlugins(pm=self.pm, disabled=blocked)
        self.strict = strict
        self.seen: set[str] = set()
        for name in blocked:
            self.pm.set_blocked(name)

    def problem(self, name: str, what: str, exc: BaseException) -> None:
        if self.strict:
            raise PluginLoadError(f"plugin {name!r}: {what}: {describe(exc)}") from exc
        self.loaded.problems.append(PluginProblem(name, what, describe(exc)))

    def add(self, module: ModuleType | None, name: str, origin: PluginOrigin, builtin: bool = False) -> None:
        """Register ``module`` as ``name`` unless blocked, already there, or the name is taken."""
        self.seen.add(name)
        pm = self.pm
        if pm.is_blocked(name) or (module is not None and pm.is_registered(module)) or self.loaded.origins.get(name) == origin:
            return  # blocked, or the same plugin found twice (an editable install lists it twice)
        taken = "a built-in plugin" if name in BUILTIN_PLUGINS and not builtin else None
        if taken is None and pm.has_plugin(name):
            other = self.loaded.origins.get(name)
            taken = f"{other.kind} {other.where}" if other else "another plugin"
        if taken:
            self.problem(name, "load", NameError(
                f"refused: {origin.kind} {origin.where} uses the plugin name {name!r}, already taken by {taken}; "
                "rename the plugin (PLUGIN_NAME, or its entry-point name)"))
            return
        if module is None:
            return
        try:
            pm.register(module, name=name)
        except Exception as exc:  # noqa: BLE001 - e.g. PluginValidationError
            self.problem(name, "register", exc)
            return
        self.loaded.origins[name] = origin

    def builtins(self, entry_points) -> None:
        """The default plugin list: through our own entry points, or imported if not installed."""
        own = {ep.name: (dist, ep) for dist, ep in entry_points if _is_builtin(dist, ep)}
        for name, module_name in BUILTIN_PLUGINS.items():
            self.seen.add(name)
            if self.pm.is_blocked(name):
                continue
            dist, ep = own.get(name, (None, None))
            try:
                module = ep.load() if ep else importlib.import_module(module_name)
            except Exception as exc:  # noqa: BLE001 - a broken install
                self.problem(name, "import", exc)
                continue
            self.add(module, name, _ep_origin(dist, ep) if ep else PluginOrigin(name, "built-in", module_name), builtin=True)

    def third_party(self, entry_points) -> None:
        for dist, ep in entry_points:
            if _is_builtin(dist, ep):
                continue
            self.seen.add(ep.name)
            if self.pm.is_blocked(ep.name):
                continue
            if ep.name in BUILTIN_PLUGINS or self.pm.has_plugin(ep.name):
                self.add(None, ep.name, _ep_origin(dist, ep))  # the same plugin again, or refused unimported
                continue
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 - third-party import
                self.problem(ep.name, "import", exc)
                continue
            self.add(module, ep.name, _ep_origin(dist, ep))

    def spec(self, spec: str) -> None:
        """``--plugin MODULE_OR_FILE``; a module that does not exist is a usage error."""
        if _is_file_spec(spec):
            self.file(Path(spec))
            return
        try:
            module = importlib.import_module(spec)
        except ModuleNotFoundError as exc:
            if exc.name and (spec == exc.name or spec.startswith(exc.name + ".")):
                raise PluginUsageError(f"--plugin {spec}: no module named {exc.name!r}") from exc
            self.problem(spec, "import", exc)
            return
        except Exception as exc:  # noqa: BLE001 - plugin code
            self.problem(spec, "import", exc)
            return
        name = getattr(module, "PLUGIN_NAME", None) or module.__name__.rsplit(".", 1)[-1]
        self.add(module, name, PluginOrigin(name, "module", spec, getattr(module, "__version__", None)))

    def file(self, path: Path) -> None:
        try:
            module = _import_file(path)
        except Exception as exc:  # noqa: BLE001 - plugin code
            self.problem(path.stem, "import", exc)
            return
        name = getattr(module, "PLUGIN_NAME", None) or path.stem
        self.add(module, name, PluginOrigin(name, "file", str(path.resolve()), getattr(module, "__version__", None)))


def _is_builtin(dist, ep) -> bool:
    """One of our own entry points (the same distribution may be found twice)."""
    return _dist_name(dist) == DISTRIBUTION and ep.name in BUILTIN_PLUGINS


def _ep_origin(dist, ep) -> PluginOrigin:
    return PluginOrigin(ep.name, "entry point", f"{dist.metadata['Name']} ({ep.value})", dist.version)


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
    from .redact import redact_text

    def say(text: str) -> None:
        print(redact_text(f"capi-audit trace: {plugin}: {text}"), file=out or sys.stderr, flush=True)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        say(f"{hook}({', '.join([*(repr(a) for a in args), *kwargs])})")
        result = function(*args, **kwargs)
        if result is not None:
            say(f"{hook} -> {result!r}")
        return result

    wrapper._capi_traced = True
    return wrapper


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
