"""Plugins, ruleset and source options, loaded and checked before any input is read.

Every mistake found here is a usage error (exit 2) with the closest valid
name suggested, so a typo never costs a whole audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..plugin_manager import LoadedPlugins, PluginLoadError, PluginUsageError, load_plugins
from ..registry import Registry
from ..ruleset import Ruleset, RulesetError, load_ruleset
from ..suggest import did_you_mean
from ..zones import parse_zone
from .errors import fail


@dataclass
class PluginChoice:
    """What the user asked for with ``--plugin``, ``--plugins-dir`` and ``--disable``."""

    plugin: list[str] | None = None
    plugins_dir: Path | None = None
    disable: list[str] | None = None
    strict: bool = False


def load(choice: PluginChoice) -> tuple[Registry, LoadedPlugins]:
    """Load the plugins once: the registry of what they register, and where they came from."""
    try:
        loaded = load_plugins(choice.plugin or [], choice.plugins_dir, choice.disable or [], strict=choice.strict)
    except (PluginLoadError, PluginUsageError) as exc:
        fail(str(exc))
    registry = Registry.collect(loaded.pm)
    registry.problems[:0] = loaded.problems
    if choice.strict and registry.problems:
        p = registry.problems[0]
        fail(f"plugin {p.plugin!r} failed in {p.what}: {p.error}")
    return registry, loaded


def registry_for(choice: PluginChoice) -> Registry:
    return load(choice)[0]


def ruleset(spec: str | None, registry: Registry) -> Ruleset:
    """The ruleset ``spec`` (a built-in name or a YAML file; ``None``: the default one)."""
    try:
        return load_ruleset(spec or "default", registry.ruleset_files)
    except RulesetError as exc:
        fail(f"ruleset: {exc}")


def rule_named(rules: Ruleset, rule_id: str):
    """The ruleset row ``rule_id``, or a usage error naming the closest id."""
    row = rules.rules.get(rule_id)
    if row is None:
        fail(f"no rule {rule_id!r}{did_you_mean(rule_id, rules.rules)} (see `capi-audit rules`)")
    return row


def check_source(source: str | None, registry: Registry) -> None:
    if source and source not in registry.sources:
        fail(f"--source {source}: no such source{did_you_mean(source, registry.sources)}"
             f" (available: {', '.join(sorted(registry.sources)) or 'none'})")


def source_options(sets: list[str] | None, registry: Registry, **named: Any) -> dict[str, Any]:
    """``--set KEY=VALUE`` plus the named options, checked against what the loaded
    sources read (``Source.options``); ``site_timezone`` must be a usable zone."""
    known = {opt for s in registry.sources.values() for opt in s.options}
    out: dict[str, Any] = {}
    for item in sets or []:
        if "=" not in item:
            fail(f"--set expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip().replace("-", "_")
        if key not in known:
            fail(f"--set {key}: no loaded source reads this option{did_you_mean(key, known)}"
                 f" (options: {', '.join(sorted(known)) or 'none'})")
        out[key] = value.strip()
    out.update({k: v for k, v in named.items() if v})
    zone = out.get("site_timezone")
    if zone is not None and parse_zone(zone) is None:
        fail(f"--site-timezone {zone}: not an IANA time zone name (e.g. Europe/Lisbon) nor an offset like +05:30")
    return out
