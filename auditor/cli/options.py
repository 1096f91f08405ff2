"""Option declarations shared by the commands: declared once, used everywhere.

Every option a service would set has an environment variable
(``CAPI_AUDIT_*``); the configuration file (:mod:`auditor.cli.config`) fills
what neither the command line nor the environment gave.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..findings import SEVERITIES


class ReportFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


class FailOn(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"
    never = "never"


class MinSeverity(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


assert tuple(m.value for m in MinSeverity) == SEVERITIES

# loading plugins and the ruleset (audit, watch, rules, plugins)
PluginOpt = Annotated[Optional[list[str]], typer.Option(
    "--plugin", "-p", help="Load a plugin module or .py file (repeatable).", envvar="CAPI_AUDIT_PLUGINS", show_envvar=True)]
PluginsDirOpt = Annotated[Optional[Path], typer.Option(
    "--plugins-dir", help="Load every *.py in this directory as a plugin.", file_okay=False, envvar="CAPI_AUDIT_PLUGINS_DIR", show_envvar=True)]
DisableOpt = Annotated[Optional[list[str]], typer.Option(
    "--disable", help="Do not load the plugin with this name (repeatable; also CAPI_AUDIT_DISABLE_PLUGINS=a,b).")]
RulesetOpt = Annotated[Optional[str], typer.Option(
    "--ruleset", "-r", help="Built-in ruleset name or a YAML file (default: the built-in 'default').", envvar="CAPI_AUDIT_RULESET", show_envvar=True)]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail (exit 2) when a plugin fails instead of reporting it and going on.", envvar="CAPI_AUDIT_STRICT")]

# the store
DbOpt = Annotated[Optional[str], typer.Option(
    "--db", help="SQLAlchemy URL of the history store (default: SQLite in the user data dir).", envvar="CAPI_AUDIT_DB", show_envvar=True)]
NoDbOpt = Annotated[bool, typer.Option("--no-db", help="Do not record this run in the history store.")]

# how input is read (audit, watch)
SourceOpt = Annotated[Optional[str], typer.Option(
    "--source", help="Read every input with this source (skip content sniffing).", envvar="CAPI_AUDIT_SOURCE")]
SiteTimezoneOpt = Annotated[Optional[str], typer.Option(
    "--site-timezone", help="Time zone of logs written in site-local time (IANA name or +HH:MM); default: inferred.",
    envvar="CAPI_AUDIT_SITE_TIMEZONE", show_envvar=True)]
ShopifySecretOpt = Annotated[Optional[str], typer.Option(
    "--shopify-secret", help="Verify X-Shopify-Hmac-Sha256 of webhook deliveries with this secret.",
    envvar="SHOPIFY_WEBHOOK_SECRET", show_envvar=True)]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="Source option KEY=VALUE (repeatable; see `capi-audit plugins`).")]

# where the configuration file is (every command; see auditor.cli.config)
ConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", help="Read settings from this TOML file (default: ./capi-audit.toml, else \\[tool.capi-audit] in ./pyproject.toml).",
    envvar="CAPI_AUDIT_CONFIG", dir_okay=False)]
