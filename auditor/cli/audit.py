"""``capi-audit audit PATH...``: batch audit of archived logs and captures.

Everything the user gave is checked first (plugins, ruleset, source, options,
output paths); only then is input read.  The exit code follows
``docs/report-contract.md``; the last line is :func:`~.summary.summary_line`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..pipeline import StrictModeError, audit
from ..findings import severity_at_least
from ..ingest.inputs import InputError, expand
from ..redact import redact_text
from ..report.model import build_report
from . import loading
from .errors import err, fail
from .options import (
    ConfigOpt, DbOpt, DisableOpt, FailOn, NoDbOpt, PluginOpt, PluginsDirOpt, ReportFormat, RulesetOpt,
    SetOpt, ShopifySecretOpt, SiteTimezoneOpt, SourceOpt, StrictOpt,
)
from .output import check_writable, choose_format, render
from .summary import summary_line


def audit_command(
    paths: Annotated[list[str], typer.Argument(help="Files, directories (recursive), globs, .gz and .zip archives.")],
    format: Annotated[Optional[ReportFormat], typer.Option(
        "--format", "-f", case_sensitive=False, envvar="CAPI_AUDIT_FORMAT",
        help="table (default on a terminal), json (default otherwise), markdown, html (one self-contained file); "
             "with --output and no --format, taken from the file's extension (.json .md .html .txt).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report to this file instead of stdout.", dir_okay=False)] = None,
    source: SourceOpt = None,
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Exit 1 when a finding has at least this severity.", case_sensitive=False,
        envvar="CAPI_AUDIT_FAIL_ON", show_envvar=True)] = FailOn.high,
    site_timezone: SiteTimezoneOpt = None,
    shopify_secret: ShopifySecretOpt = None,
    set_: SetOpt = None,
    ruleset: RulesetOpt = None,
    plugin: PluginOpt = None,
    plugins_dir: PluginsDirOpt = None,
    disable: DisableOpt = None,
    db: DbOpt = None,
    no_db: NoDbOpt = False,
    strict: StrictOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or status lines on stderr (the summary line stays).")] = False,
    orders_out: Annotated[Optional[Path], typer.Option(
        "--orders-out", dir_okay=False,
        help="Write one row per backend order (server sent, accepted, browser seen, event_id consistent, "
             "value/currency match; no PII) to this file: CSV if it ends with .csv, else JSONL.")] = None,
    cluster: Annotated[Optional[str], typer.Option(
        "--cluster", envvar="CAPI_AUDIT_CLUSTER",
        help="Run on the Dask cluster at this scheduler address (tcp://host:8786), or on local[:N] worker processes; "
             "needs capi-auditor[cluster] and paths the workers can read.")] = None,
    config: ConfigOpt = None,  # noqa: ARG001 - read by the app before the command (auditor.cli.config)
) -> None:
    """Batch audit of archived connector logs and captures."""
    registry = loading.registry_for(loading.PluginChoice(plugin, plugins_dir, disable, strict))
    rules = loading.ruleset(ruleset, registry)
    loading.check_source(source, registry)
    options = loading.source_options(set_, registry, site_timezone=site_timezone, shopify_secret=shopify_secret)
    check_writable(output, "--output")
    check_writable(orders_out, "--orders-out")
    fmt = choose_format(format, output)
    if cluster is not None:
        _check_cluster(cluster, orders_out)
    try:
        units, skipped = expand(paths)
    except InputError as exc:
        fail(str(exc))
    if not units:
        fail(f"{', '.join(paths)}: no readable input files" + (f" ({skipped[0][0]}: {skipped[0][1]})" if skipped else ""))
    try:
        if cluster is not None:
            result = _run_on_cluster(cluster, units, registry, rules, source, options,
                                     loading.PluginChoice(plugin, plugins_dir, disable, strict), ruleset, quiet,
                                     timelines=fmt == ReportFormat.html)
        else:
            result = _run_with_progress(units, registry, rules, source, options, strict, quiet)
    except StrictModeError as exc:
        fail(str(exc))
    for name, reason in skipped:
        result.inputs.add_error(name, 0, reason)
    _fail_if_nothing_read(result, units, skipped, paths)
    report = build_report(result)
    if orders_out is not None:
        _write_orders(result, orders_out, quiet)
    threshold = None if fail_on == FailOn.never else fail_on.value
    exit_code = 1 if threshold and any(severity_at_least(f["severity"], threshold) for f in report["findings"]) else 0
    text = render(report, fmt, color=output is None and sys.stdout.isatty(), result=result)
    line = summary_line(report, exit_code, fail_on.value)
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"--output {output}: {exc.strerror or exc}")
        err.print(f"report written to {output}", markup=False)
    else:
        sys.stdout.write(text)
    if not no_db:
        _save(db, report, paths, exit_code, quiet)
    if fmt == ReportFormat.table and output is None:
        sys.stdout.write(line + "\n")
    else:
        err.print(line, markup=False)
    raise typer.Exit(exit_code)


def _fail_if_nothing_read(result, units, skipped, paths) -> None:
    """A run that read nothing must never look green: exit 2 naming why."""
    if result.inputs.records == 0 and result.inputs.unrecognised_files == len(units) and not skipped:
        fail(f"{', '.join(paths)}: no input file was recognised by any source plugin (use --source)")
    if result.inputs.records == 0 and result.inputs.unreadable_files and (
        result.inputs.unreadable_files + result.inputs.unrecognised_files == len(units)
    ):
        first = next((e for e in result.inputs.errors if e["reason"].startswith(("cannot read", "stopped reading"))), None)
        fail(f"{', '.join(paths)}: no readable input: {result.inputs.unreadable_files} file(s) could not be read"
             + (f" ({first['file']}: {first['reason']})" if first else ""))


def _write_orders(result, orders_out: Path, quiet: bool) -> None:
    from ..orders_export import write_orders

    try:
        n_orders = write_orders(result.rows, orders_out, result.ruleset)
    except OSError as exc:
        fail(f"--orders-out {orders_out}: {exc}")
    if not quiet:
        err.print(f"{n_orders} orders written to {orders_out}", markup=False)


def _save(db, report, paths, exit_code: int, quiet: bool) -> None:
    try:
        from ..store import get_engine, save_run

        run_id = save_run(get_engine(db), report, paths, exit_code)
        if not quiet:
            err.print(f"saved as run {run_id} (capi-audit history)", style="dim", markup=False)
    except Exception as exc:  # noqa: BLE001 - the audit itself succeeded
        err.print(f"capi-audit: warning: could not save the run: {redact_text(exc)}", markup=False)


def _run_with_progress(units, registry, rules, source, options, strict, quiet):
    """Audit with a progress bar on a terminal's stderr; the bar is cleared when done."""
    show = not quiet and err.is_terminal
    if not show:
        return audit(units, registry, rules, force_source=source, options=options, strict=strict)
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("auditing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("audit", total=sum(u.size for u in units))
        return audit(units, registry, rules, force_source=source, options=options, strict=strict,
                     progress=lambda n: progress.advance(task, n))


def _check_cluster(address: str, orders_out: Path | None) -> None:
    """``--cluster`` mistakes are usage errors before any input is read."""
    from ..cluster import ClusterUsageError, check_address

    try:
        if orders_out is not None:
            raise ClusterUsageError("--orders-out needs the rows on this machine: not available with --cluster")
        check_address(address)
    except ClusterUsageError as exc:
        fail(str(exc))


def _run_on_cluster(address, units, registry, rules, source, options, choice, ruleset, quiet, timelines):
    """The audit fanned out over the Dask cluster at ``address`` (:mod:`auditor.cluster`)."""
    from ..cluster import ClusterUsageError, audit_on_cluster, setup_for

    setup = setup_for(choice.plugin, choice.plugins_dir, choice.disable, ruleset or "default", choice.strict)
    try:
        return audit_on_cluster(address, units, registry, rules, setup, force_source=source, options=options,
                                quiet=quiet, timelines=timelines)
    except ClusterUsageError as exc:
        fail(str(exc))
