"""Team settings from a file: ``capi-audit.toml`` or ``[tool.capi-audit]``.

Looked up in this order: ``--config FILE`` (or ``CAPI_AUDIT_CONFIG``), else
``capi-audit.toml`` in the working directory, else the ``[tool.capi-audit]``
table of ``pyproject.toml`` there.  The settings become the commands' defaults
(Click's ``default_map``), so the command line beats an environment variable,
which beats the file, which beats the built-in default.

Secrets are never written in the file, only the name of the environment
variable holding them (``shopify-secret-env = "SHOPIFY_WEBHOOK_SECRET"``), so
the file can be committed.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..suggest import did_you_mean

FILE_NAME = "capi-audit.toml"

#: key in the file -> (parameter name, commands that take it)
_LOADING = ("audit", "watch", "rules", "rules show", "plugins")
KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ruleset": ("ruleset", ("audit", "watch", "rules", "rules show")),
    "db": ("db", ("audit", "watch", "history", "history diff")),
    "fail-on": ("fail_on", ("audit",)),
    "format": ("format", ("audit",)),
    "plugins": ("plugin", _LOADING),
    "plugins-dir": ("plugins_dir", _LOADING),
    "disable": ("disable", _LOADING),
    "site-timezone": ("site_timezone", ("audit", "watch")),
    "source": ("source", ("audit", "watch")),
    "strict": ("strict", ("audit",)),
    "set": ("set_", ("audit", "watch")),
    "min-severity": ("min_severity", ("watch",)),
}
#: secrets: key in the file names an environment variable -> parameter
SECRET_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "shopify-secret-env": ("shopify_secret", ("audit", "watch")),
    "alert-webhook-env": ("alert_webhook", ("watch",)),
}
_PATH_KEYS = {"plugins-dir"}


class ConfigError(ValueError):
    """The configuration file cannot be used (exit 2, naming the file and key)."""


@dataclass
class Config:
    """The settings found, and where they came from (``None``: no file)."""

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def default_map(self) -> dict[str, Any]:
        """Click's ``default_map`` for the app: ``{"audit": {...}, "rules": {"show": {...}}}``."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            param, commands = KEYS.get(key) or SECRET_KEYS[key]
            if key in SECRET_KEYS:
                value = os.environ.get(value)
                if not value:
                    continue
            for command in commands:
                node = out
                for part in command.split():
                    node = node.setdefault(part, {})
                node[param] = value
        return out


def find(explicit: Path | str | None, cwd: Path | None = None) -> Config:
    """Read the configuration file that applies (see module doc)."""
    cwd = Path.cwd() if cwd is None else cwd
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"--config {path}: no such file")
        data = _read(path)
        table = data.get("tool", {}).get("capi-audit", {}) if path.name == "pyproject.toml" else data
        return Config(path, _check(table, path))
    own = cwd / FILE_NAME
    if own.is_file():
        return Config(own, _check(_read(own), own))
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        table = _read(pyproject).get("tool", {}).get("capi-audit")
        if table is not None:
            return Config(pyproject, _check(table, pyproject, "[tool.capi-audit] "))
    return Config()


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _check(table: Any, path: Path, where: str = "") -> dict[str, Any]:
    """Known keys with values of the right shape; relative paths against the file's folder."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where}expected a table of settings")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if f"{key}-env" in SECRET_KEYS:
            raise ConfigError(f"{path}: {where}{key}: secrets are not written in the file; name the "
                              f"environment variable that holds it instead: {key}-env = \"VARIABLE\"")
        if key not in KEYS and key not in SECRET_KEYS:
            raise ConfigError(f"{path}: {where}unknown setting {key!r}{did_you_mean(key, [*KEYS, *SECRET_KEYS])}"
                              f" (settings: {', '.join(sorted([*KEYS, *SECRET_KEYS]))})")
        out[key] = _shape(key, value, path, where)
    return out


def _shape(key: str, value: Any, path: Path, where: str) -> Any:
    base = path.parent
    if key in ("plugins", "disable"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {where}{key}: expected a list of names")
        if key == "plugins":  # plugin files are relative to the file, module names stay
            value = [str(base / v) if v.endswith(".py") and not Path(v).is_absolute() else v for v in value]
        return value
    if key == "set":
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {where}set: expected a table of KEY = VALUE")
        return [f"{k}={v}" for k, v in value.items()]
    if key == "strict":
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {where}strict: expected true or false")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {where}{key}: expected a string")
    if key in _PATH_KEYS or (key == "ruleset" and value.endswith((".yaml", ".yml"))):
        return str(base / value) if not Path(value).is_absolute() else value
    return value
