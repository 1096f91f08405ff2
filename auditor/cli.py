"""The ``capi-audit`` command line (Typer).

Commands and exit codes follow ``docs/report-contract.md``: 0 = ran, nothing at
or above ``--fail-on``; 1 = findings at or above it; 2 = usage error or no
readable input (one line on stderr naming the path).
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from . import __version__
from .engine import StrictModeError, audit
from .findings import severity_at_least
from .ingest.inputs import InputError, expand
from .plugin_manager import LoadedPlugins, PluginLoadError, load_plugins
from .redact import redact_text
from .registry import Registry
from .report.model import build_report
from .report.render_text import render_markdown, render_table
from .ruleset import RulesetError, load_ruleset

app = typer.Typer(
    name="capi-audit",
    help="Find out why a Meta Conversions API integration loses, double-counts or delays conversions.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
rules_app = typer.Typer(help="List the diagnosis rows of the ruleset, or explain one.", invoke_without_command=True)
plugins_app = typer.Typer(help="List loaded plugins, their sources and checks, and where they came from.", invoke_without_command=True)
history_app = typer.Typer(help="Past audit runs from the store; `history diff A B` compares two.", invoke_without_command=True)
app.add_typer(rules_app, name="rules")
app.add_typer(plugins_app, name="plugins")
app.add_typer(history_app, name="history")
from .watch.cli import register as register_watch  # noqa: E402
register_watch(app)

err = Console(stderr=True, highlight=False, soft_wrap=True)


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


# Shared option types -------------------------------------------------------
PluginOpt = Annotated[Optional[list[str]], typer.Option("--plugin", "-p", help="Load a plugin module or .py file (repeatable).")]
PluginsDirOpt = Annotated[Optional[Path], typer.Option("--plugins-dir", help="Load every *.py in this directory as a plugin.", file_okay=False)]
DisableOpt = Annotated[Optional[list[str]], typer.Option("--disable", help="Do not load the plugin with this name (repeatable).", envvar=None)]
RulesetOpt = Annotated[str, typer.Option("--ruleset", "-r", help="Built-in ruleset name or a YAML file.", envvar="CAPI_AUDIT_RULESET")]
DbOpt = Annotated[Optional[str], typer.Option("--db", help="SQLAlchemy URL of the history store (default: SQLite in the user data dir).", envvar="CAPI_AUDIT_DB")]
NoDbOpt = Annotated[bool, typer.Option("--no-db", help="Do not record this run in the history store.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Fail (exit 2) when a plugin fails instead of reporting it and going on.")]


def fail(message: str, code: int = 2) -> None:
    err.print(f"capi-audit: error: {redact_text(message)}", markup=False)
    raise typer.Exit(code)


def _registry(plugin, plugins_dir, disable, strict) -> Registry:
    return _load(plugin, plugins_dir, disable, strict)[0]


def _load(plugin, plugins_dir, disable, strict) -> tuple[Registry, LoadedPlugins]:
    """Load the plugins once; the registry of what they register, and where they came from."""
    try:
        loaded = load_plugins(plugin or [], plugins_dir, disable or [], strict=strict)
    except PluginLoadError as exc:
        fail(str(exc))
    registry = Registry.collect(loaded.pm)
    registry.problems[:0] = loaded.problems
    if strict and registry.problems:
        p = registry.problems[0]
        fail(f"plugin {p.plugin!r} failed in {p.what}: {p.error}")
    return registry, loaded


def _ruleset(spec: str, registry: Registry):
    try:
        return load_ruleset(spec, registry.ruleset_files)
    except RulesetError as exc:
        fail(f"ruleset: {exc}")


def _parse_sets(values: list[str] | None) -> dict[str, str]:
    out = {}
    for item in values or []:
        if "=" not in item:
            fail(f"--set expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip().replace("-", "_")] = value.strip()
    return out


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.", is_eager=True)] = False,
) -> None:
    """capi-audit: audit Meta Conversions API connector logs."""
    if version:
        typer.echo(f"capi-audit {__version__}")
        raise typer.Exit()


@app.command("audit")
def audit_cmd(
    paths: Annotated[list[str], typer.Argument(help="Files, directories (recursive), globs, .gz and .zip archives.")],
    format: Annotated[Optional[ReportFormat], typer.Option("--format", "-f", help="table (default on a terminal), json (default otherwise), markdown, html (one self-contained file).", case_sensitive=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report to this file instead of stdout.", dir_okay=False)] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Read every input with this source (skip content sniffing).")] = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 when a finding has at least this severity.", case_sensitive=False)] = FailOn.high,
    site_timezone: Annotated[Optional[str], typer.Option("--site-timezone", help="Time zone of logs written in site-local time (IANA name or +HH:MM); default: inferred.")] = None,
    shopify_secret: Annotated[Optional[str], typer.Option("--shopify-secret", help="Verify X-Shopify-Hmac-Sha256 of webhook deliveries with this secret.", envvar="SHOPIFY_WEBHOOK_SECRET", show_envvar=True)] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Source option KEY=VALUE (repeatable).")] = None,
    ruleset: RulesetOpt = "default",
    plugin: PluginOpt = None,
    plugins_dir: PluginsDirOpt = None,
    disable: DisableOpt = None,
    db: DbOpt = None,
    no_db: NoDbOpt = False,
    strict: StrictOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    orders_out: Annotated[Optional[Path], typer.Option("--orders-out", help="Write one row per backend order (server sent, accepted, browser seen, event_id consistent, value/currency match; no PII) to this file: CSV if it ends with .csv, else JSONL.", dir_okay=False)] = None,
) -> None:
    """Batch audit of archived connector logs and captures."""
    registry = _registry(plugin, plugins_dir, disable, strict)
    rules = _ruleset(ruleset, registry)
    if source and source not in registry.sources:
        fail(f"--source {source}: no such source (available: {', '.join(sorted(registry.sources)) or 'none'})")
    try:
        units, skipped = expand(paths)
    except InputError as exc:
        fail(str(exc))
    if not units:
        fail(f"{', '.join(paths)}: no readable input files" + (f" ({skipped[0][0]}: {skipped[0][1]})" if skipped else ""))
    options = _parse_sets(set_)
    if site_timezone:
        options["site_timezone"] = site_timezone
    if shopify_secret:
        options["shopify_secret"] = shopify_secret
    try:
        result = _run_with_progress(units, registry, rules, source, options, strict, quiet)
    except StrictModeError as exc:
        fail(str(exc))
    for name, reason in skipped:
        result.inputs.add_error(name, 0, reason)
    if result.inputs.records == 0 and result.inputs.unrecognised_files == len(units) and not skipped:
        fail(f"{', '.join(paths)}: no input file was recognised by any source plugin (use --source)")
    if result.inputs.records == 0 and result.inputs.unreadable_files and (
        result.inputs.unreadable_files + result.inputs.unrecognised_files == len(units)
    ):
        # a run that read nothing must never look green
        first = next((e for e in result.inputs.errors if e["reason"].startswith(("cannot read", "stopped reading"))), None)
        fail(f"{', '.join(paths)}: no readable input: {result.inputs.unreadable_files} file(s) could not be read"
             + (f" ({first['file']}: {first['reason']})" if first else ""))
    report = build_report(result)
    if orders_out is not None:
        from .orders_export import write_orders

        try:
            n_orders = write_orders(result.rows, orders_out, result.ruleset)
        except OSError as exc:
            fail(f"--orders-out {orders_out}: {exc}")
        if not quiet:
            err.print(f"{n_orders} orders written to {orders_out}", markup=False)
    threshold = None if fail_on == FailOn.never else fail_on.value
    exit_code = 1 if threshold and any(severity_at_least(f["severity"], threshold) for f in report["findings"]) else 0
    fmt = format or (ReportFormat.table if sys.stdout.isatty() and output is None else ReportFormat.json)
    text = render(report, fmt, color=output is None and sys.stdout.isatty(), result=result)
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"report written to {output}", markup=False)
    else:
        sys.stdout.write(text)
    if not no_db:
        try:
            from .store import get_engine, save_run

            run_id = save_run(get_engine(db), report, paths, exit_code)
            if not quiet:
                err.print(f"saved as run {run_id} (capi-audit history)", style="dim", markup=False)
        except Exception as exc:  # noqa: BLE001 - the audit itself succeeded
            err.print(f"capi-audit: warning: could not save the run: {redact_text(exc)}", markup=False)
    raise typer.Exit(exit_code)


def render(report: dict[str, Any], fmt: ReportFormat, color: bool = False, result: Any = None) -> str:
    if fmt == ReportFormat.html:
        from .report.html import render_html

        return render_html(report, result)
    if fmt == ReportFormat.json:
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == ReportFormat.markdown:
        return render_markdown(report)
    return render_table(report, color=color)


def _run_with_progress(units, registry, rules, source, options, strict, quiet):
    show = not quiet and err.is_terminal
    if not show:
        return audit(units, registry, rules, force_source=source, options=options, strict=strict)
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("auditing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("audit", total=sum(u.size for u in units))
        return audit(units, registry, rules, force_source=source, options=options, strict=strict,
                     progress=lambda n: progress.advance(task, n))


# rules ----------------------------------------------------------------------
@rules_app.callback()
def rules_list(
    ctx: typer.Context,
    ruleset: RulesetOpt = "default",
    plugin: PluginOpt = None,
    plugins_dir: PluginsDirOpt = None,
    disable: DisableOpt = None,
) -> None:
    """List every diagnosis row: id, severity, enabled, title."""
    ctx.obj = {"ruleset": ruleset, "plugin": plugin, "plugins_dir": plugins_dir, "disable": disable}
    if ctx.invoked_subcommand:
        return
    rules = _ruleset(ruleset, _registry(plugin, plugins_dir, disable, False))
    from rich.table import Table

    table = Table(title=f"ruleset {rules.name} {rules.version}")
    for c in ("id", "severity", "enabled", "title"):
        table.add_column(c)
    for row in rules.rows.values():
        table.add_row(row.id, row.severity, "yes" if row.enabled else "no", row.title)
    Console(highlight=False).print(table)


@rules_app.command("show")
def rules_show(ctx: typer.Context, rule_id: Annotated[str, typer.Argument(help="Diagnosis row id, e.g. token-expired.")]) -> None:
    """Explain one row: problem, cause, how to verify, fix, how to validate."""
    o = ctx.obj or {}
    rules = _ruleset(o.get("ruleset", "default"), _registry(o.get("plugin"), o.get("plugins_dir"), o.get("disable"), False))
    row = rules.rows.get(rule_id)
    if row is None:
        fail(f"no rule {rule_id!r} (see `capi-audit rules`)")
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
    from .graph_errors import CATALOGUE_FILE, entries_for

    entries = entries_for(row.id)
    if entries:
        out.print(f"\n[bold]Graph API errors that lead here[/bold] (most specific first; rulesets/{CATALOGUE_FILE})")
        for e in entries:
            out.print(f"  {e.describe()}: {e.means}", markup=False)
    out.print(f"\n[dim]defined in {row.origin}[/dim]")


# plugins --------------------------------------------------------------------
@plugins_app.callback()
def plugins_list(
    ctx: typer.Context,
    plugin: PluginOpt = None,
    plugins_dir: PluginsDirOpt = None,
    disable: DisableOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List loaded plugins: hooks, sources, checks, version and origin."""
    if ctx.invoked_subcommand:
        return
    registry, loaded = _load(plugin, plugins_dir, disable, False)
    rows = []
    for name, obj in sorted((n, o) for n, o in loaded.pm.list_name_plugin() if o is not None):
        origin = loaded.origins.get(name)
        hooks = sorted(h.name for h in loaded.pm.get_hookcallers(obj) or [])
        rows.append({
            "name": name,
            "version": origin.version if origin else None,
            "origin": f"{origin.kind}: {origin.where}" if origin else "unknown",
            "hooks": hooks,
            "sources": sorted(s.name for s in registry.sources.values() if s.plugin == name),
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
        out.print(f"  sources: {', '.join(r['sources']) or '-'}", markup=False)
        out.print(f"  checks:  {', '.join(r['checks']) or '-'}" + (f"  (rows: {', '.join(r['rules'])})" if r["rules"] else ""), markup=False)
    if loaded.disabled:
        out.print(f"disabled: {', '.join(loaded.disabled)}", markup=False)
    for p in problems:
        out.print(f"problem: {p['plugin']} ({p['where']}): {p['error']}", style="yellow", markup=False)


@plugins_app.command("new")
def plugins_new(
    name: Annotated[str, typer.Argument(help="Plugin name, e.g. mystore.")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to create capi-auditor-NAME/.", file_okay=False)] = Path("."),
) -> None:
    """Scaffold a ready-to-install plugin project (source, check, ruleset row, sample, test)."""
    from .scaffold import scaffold

    try:
        root = scaffold(name, directory)
    except (ValueError, FileExistsError) as exc:
        fail(str(exc))
    typer.echo(f"created {root}")
    typer.echo(f"next: cd {root} && pip install -e '.[test]' && pytest -q && capi-audit plugins")


# history --------------------------------------------------------------------
@history_app.callback()
def history_list(
    ctx: typer.Context,
    db: DbOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs to show.")] = 20,
) -> None:
    """List past audit runs, newest first."""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand:
        return
    from .store import get_engine, list_runs

    runs = list_runs(get_engine(db), limit)
    if not runs:
        typer.echo("no audit runs recorded yet")
        return
    out = Console(highlight=False, soft_wrap=True)
    for run, n in runs:
        window = f"{run.window_start or '-'} .. {run.window_end or '-'}"
        out.print(f"run {run.id:<4} {run.created_at:%Y-%m-%d %H:%M} UTC  evidence {window}  {run.files} files  "
                  f"{run.records} records  {n} findings  exit {run.exit_code}  {run.paths.replace(chr(10), ', ')}", markup=False)


@history_app.command("diff")
def history_diff(
    ctx: typer.Context,
    run_a: Annotated[int, typer.Argument(help="Older run id.")],
    run_b: Annotated[int, typer.Argument(help="Newer run id.")],
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Findings new in B, resolved since A, and changed between A and B."""
    from .store import diff_runs, get_engine

    try:
        diff = diff_runs(get_engine((ctx.obj or {}).get("db")), run_a, run_b)
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
