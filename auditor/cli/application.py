"""The ``capi-audit`` Typer app, assembled from one module per command.

Command modules never import this one (no cycle): it imports them and
registers their functions and sub-apps.  The root callback reads the
configuration file (:mod:`.config`) into Click's ``default_map`` before any
command parses its options.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from .. import __version__
from ..redact import redact_text
from . import audit, history, plugins, rules, watch
from .config import ConfigError, find
from .errors import err, fail
from .options import ConfigOpt


class _Group(TyperGroup):
    """Notes a ``--config FILE`` given after the command name (``audit logs/ --config F``)
    while the arguments are parsed, so the root callback can apply it first."""

    def parse_args(self, ctx, args):
        ctx.meta["capi_audit.config_after_command"] = _config_after_command(args)
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_Group,
    name="capi-audit",
    help="Find out why a Meta Conversions API integration loses, double-counts or delays conversions.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("audit")(audit.audit_command)
app.command("watch")(watch.watch_command)
app.add_typer(rules.app, name="rules")
app.add_typer(plugins.app, name="plugins")
app.add_typer(history.app, name="history")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"capi-audit {__version__}")
        raise typer.Exit()


def _config_after_command(args: list[str]) -> str | None:
    """``--config FILE`` given after the command name (``audit logs/ --config F``)."""
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return None


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.", is_eager=True, callback=_version)] = False,
    config: ConfigOpt = None,
) -> None:
    """capi-audit: audit Meta Conversions API connector logs."""
    if ctx.resilient_parsing:  # shell completion: no file reading, no errors
        return
    try:
        settings = find(ctx.meta.get("capi_audit.config_after_command") or config)
    except ConfigError as exc:
        fail(str(exc))
    if settings.path is not None:
        ctx.default_map = settings.default_map()


def main() -> None:
    """Console-script entry point; no traceback ever carries clear PII."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence
        err.print(f"capi-audit: internal error: {redact_text(f'{type(exc).__name__}: {exc}')}", markup=False)
        sys.exit(2)
