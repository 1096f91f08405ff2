"""``capi-audit rules`` / ``rules show ID``: the ruleset's diagnosis rows."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from ..graph_errors import CATALOGUE_FILE, entries_for
from . import loading
from .options import ConfigOpt, DisableOpt, PluginOpt, PluginsDirOpt, RulesetOpt

app = typer.Typer(help="List the diagnosis rows of the ruleset, or explain one.", invoke_without_command=True)


def _rules(ctx: typer.Context, ruleset: str | None, plugin, plugins_dir, disable):
    """The ruleset, with options given on ``rules`` or after ``show ID`` (these win)."""
    o = ctx.obj if isinstance(ctx.obj, dict) else {}
    choice = loading.PluginChoice(plugin or o.get("plugin"), plugins_dir or o.get("plugins_dir"), disable or o.get("disable"))
    return loading.ruleset(ruleset or o.get("ruleset") or "default", loading.registry_for(choice))


@app.callback()
def rules_list(
    ctx: typer.Context,
    ruleset: RulesetOpt = None,
    plugin: PluginOpt = None,
    plugins_dir: PluginsDirOpt = None,
    disable: DisableOpt = None,
    config: ConfigOpt = None,  # noqa: ARG001 - read by the app before the command
) -> None:
    """List every diagnosis row: id, severity, enabled, title."""
    ctx.obj = {"ruleset": ruleset, "plugin": plugin, "plugins_dir": plugins_dir, "disable": disable}
    if ctx.invoked_subcommand:
        return
    rules = _rules(ctx, ruleset, plugin, plugins_dir, disable)
    from rich.table import Table

    table = Table(title=f"ruleset {rules.name} {rules.version}")
    for c in ("id", "severity", "enabled", "title"):
        table.add_column(c)
    for row in rules.rules.values():
        table.add_row(row.id, row.severity, "yes" if row.enabled else "no", row.title)
    Console(highlight=False).print(table)


@app.command("show")
def rules_show(
    ctx: typer.Context,
    rule_id: Annotated[str, typer.Argument(help="Diagnosis row id, e.g. token-expired.")],
    ruleset: RulesetOpt = None,
    plugin: PluginOpt = None,
    plugins_dir: PluginsDirOpt = None,
    disable: DisableOpt = None,
    config: ConfigOpt = None,  # noqa: ARG001 - read by the app before the command
) -> None:
    """Explain one row: problem, cause, how to verify, fix, how to validate."""
    row = loading.rule_named(_rules(ctx, ruleset, plugin, plugins_dir, disable), rule_id)
    out = Console(highlight=False)
    out.print(f"[bold]{row.id}[/bold] - {row.title}  (severity {row.severity}{'' if row.enabled else ', disabled'})")
    for label, text in (("Problem", row.problem), ("Likely cause", row.cause), ("How to verify", row.verify),
                        ("Fix", row.fix), ("How to validate", row.validate), ("Evidence the auditor uses", row.evidence)):
        out.print(f"\n[bold]{label}[/bold]\n{text.strip()}")
    if row.questions:
        out.print("\n[bold]Answers question[/bold] " + ", ".join(str(q) for q in row.questions), markup=True)
    if row.thresholds:
        out.print("\n[bold]Thresholds[/bold]")
        for k, v in row.thresholds.items():
            out.print(f"  {k}: {v}", markup=False)
    entries = entries_for(row.id)
    if entries:
        out.print(f"\n[bold]Graph API errors that lead here[/bold] (most specific first; rulesets/{CATALOGUE_FILE})")
        for e in entries:
            out.print(f"  {e.describe()}: {e.means}", markup=False)
    out.print(f"\n[dim]defined in {row.origin}[/dim]")
