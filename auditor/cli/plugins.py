"""``capi-audit plugins`` / ``plugins new NAME``: what is loaded, and a new plugin project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import loading
from .errors import fail
from .options import ConfigOpt, DisableOpt, PluginOpt, PluginsDirOpt

app = typer.Typer(help="List loaded plugins, their sources and checks, and where they came from.", invoke_without_command=True)


@app.callback()
def plugins_list(
    ctx: typer.Context,
    plugin: PluginOpt = None,
    plugins_dir: PluginsDirOpt = None,
    disable: DisableOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    config: ConfigOpt = None,  # noqa: ARG001 - read by the app before the command
) -> None:
    """List loaded plugins: hooks, sources (and the --set options they read), checks, version and origin."""
    if ctx.invoked_subcommand:
        return
    registry, loaded = loading.load(loading.PluginChoice(plugin, plugins_dir, disable))
    rows = []
    for name, obj in sorted((n, o) for n, o in loaded.pm.list_name_plugin() if o is not None):
        origin = loaded.origins.get(name)
        mine = [s for s in registry.sources.values() if s.plugin == name]
        rows.append({
            "name": name,
            "version": origin.version if origin else None,
            "origin": f"{origin.kind}: {origin.where}" if origin else "unknown",
            "hooks": sorted(h.name for h in loaded.pm.get_hookcallers(obj) or []),
            "sources": sorted(s.name for s in mine),
            "options": sorted({o for s in mine for o in s.options}),
            "checks": sorted(c.name for c in registry.checks.values() if c.plugin == name),
            "rules": sorted({r for c in registry.checks.values() if c.plugin == name for r in c.rules}),
        })
    problems = [{"plugin": p.plugin, "where": p.what, "error": p.error} for p in registry.problems]
    if json_out:
        typer.echo(json.dumps({"plugins": rows, "disabled": loaded.disabled, "problems": problems}, indent=2))
        return
    out = Console(highlight=False, soft_wrap=True)
    for r in rows:
        out.print(f"[bold]{r['name']}[/bold] {r['version'] or ''}  [dim]({r['origin']})[/dim]")
        out.print(f"  hooks:   {', '.join(r['hooks']) or '-'}", markup=False)
        out.print(f"  sources: {', '.join(r['sources']) or '-'}" + (f"  (--set {', '.join(r['options'])})" if r["options"] else ""), markup=False)
        out.print(f"  checks:  {', '.join(r['checks']) or '-'}" + (f"  (rows: {', '.join(r['rules'])})" if r["rules"] else ""), markup=False)
    if loaded.disabled:
        out.print(f"disabled: {', '.join(loaded.disabled)}", markup=False)
    for p in problems:
        out.print(f"problem: {p['plugin']} ({p['where']}): {p['error']}", style="yellow", markup=False)


@app.command("new")
def plugins_new(
    name: Annotated[str, typer.Argument(help="Plugin name, e.g. mystore.")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to create capi-auditor-NAME/.", file_okay=False)] = Path("."),
) -> None:
    """Scaffold a ready-to-install plugin project (source, check, ruleset row, sample, test)."""
    from ..scaffold import scaffold

    registry, _ = loading.load(loading.PluginChoice())
    try:
        root = scaffold(name, directory, taken={*registry.sources, *registry.checks})
    except (ValueError, FileExistsError) as exc:
        fail(str(exc))
    typer.echo(f"created {root}")
    typer.echo(f"next: cd {root} && pip install -e '.[test]' && pytest -q && capi-audit plugins")
