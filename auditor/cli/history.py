"""``capi-audit history`` / ``history diff A B``: past runs from the store."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from .errors import fail
from .options import ConfigOpt, DbOpt

app = typer.Typer(help="Past audit runs from the store; `history diff A B` compares two.", invoke_without_command=True)


@app.callback()
def history_list(
    ctx: typer.Context,
    db: DbOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs to show.")] = 20,
    config: ConfigOpt = None,  # noqa: ARG001 - read by the app before the command
) -> None:
    """List past audit runs, newest first."""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand:
        return
    from ..store import get_engine, list_runs

    runs = list_runs(get_engine(db), limit)
    if not runs:
        typer.echo("no audit runs recorded yet")
        return
    out = Console(highlight=False, soft_wrap=True)
    for run, n in runs:
        window = f"{run.window_start or '-'} .. {run.window_end or '-'}"
        out.print(f"run {run.id:<4} {run.created_at:%Y-%m-%d %H:%M} UTC  evidence {window}  {run.files} files  "
                  f"{run.records} records  {n} findings  exit {run.exit_code}  {run.paths.replace(chr(10), ', ')}", markup=False)


@app.command("diff")
def history_diff(
    ctx: typer.Context,
    run_a: Annotated[int, typer.Argument(help="Older run id.")],
    run_b: Annotated[int, typer.Argument(help="Newer run id.")],
    db: DbOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    config: ConfigOpt = None,  # noqa: ARG001 - read by the app before the command
) -> None:
    """Findings new in B, resolved since A, and changed between A and B."""
    from ..store import diff_runs, get_engine

    try:
        diff = diff_runs(get_engine(db or (ctx.obj or {}).get("db")), run_a, run_b)
    except LookupError as exc:
        fail(str(exc))
    if json_out:
        typer.echo(json.dumps(diff, indent=2))
        return
    out = Console(highlight=False)
    for label, style in (("new", "red"), ("resolved", "green"), ("changed", "yellow")):
        items = diff[label]
        out.print(f"[bold {style}]{label}[/bold {style}] ({len(items)})")
        for f in items:
            extra = ""
            if "changes" in f:
                extra = "  " + ", ".join(f"{k}: {a} -> {b}" for k, (a, b) in f["changes"].items())
            out.print(f"  {f['severity']:<8} {f['rule']:<32} {f['account'] or 'all'}{extra}", markup=False)
