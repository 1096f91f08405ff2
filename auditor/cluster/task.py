"""What a worker does with one partition: the whole single-machine audit.

The worker opens the partition's files again from their paths (a shared file
system), loads the same plugins and ruleset as the client, runs
:func:`auditor.pipeline.audit` and sends back only what the report needs:
findings, per-account summaries, question facts, input statistics, notes,
plugin problems, the time window and the ids it saw (for
:func:`auditor.cluster.partition.regroup`).  The rows stay on the worker and
are deleted there.  Nothing here imports Dask: a task is a plain function.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from ..pipeline import InputSummary, audit
from ..findings import Finding
from ..ingest.inputs import InputUnit, file_units
from ..orders_export import backend_orders, order_keys, purchase_events
from ..plugin_manager import load_plugins
from ..problems import PluginProblem
from ..questions import QuestionFacts
from ..registry import Registry
from ..ruleset import Ruleset, load_ruleset
from .partition import FileRef, Partition


@dataclass(frozen=True)
class Setup:
    """How the client loaded plugins and the ruleset, so every worker does the same
    (paths made absolute, the client's environment switches carried over)."""

    plugins: tuple[str, ...] = ()
    plugins_dir: str | None = None
    disable: tuple[str, ...] = ()
    autoload: bool = True
    ruleset: str = "default"
    strict: bool = False


@dataclass
class PartitionResult:
    """The small, picklable outcome of auditing one partition."""

    inputs: InputSummary
    findings: list[Finding]
    accounts: list[dict[str, Any]]
    facts: QuestionFacts
    notes: list[str]
    problems: list[PluginProblem]
    window: tuple[datetime | None, datetime | None]
    identities: frozenset[str] = field(default_factory=frozenset)
    #: keys a purchase event may match an order by: of the backend orders, and of
    #: the server / browser Purchase events (matching looks across shops)
    order_keys: frozenset[str] = field(default_factory=frozenset)
    purchase_keys: frozenset[str] = field(default_factory=frozenset)
    #: account -> timeline of the HTML report, when asked for
    timelines: dict[str, Any] | None = None
    #: counting notes (:meth:`auditor.ParseContext.tally`): key -> (totals, render)
    tallies: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=4)
def _loaded(setup: Setup) -> tuple[Registry, Ruleset]:
    """Plugins and ruleset of ``setup``, loaded once per worker process."""
    loaded = load_plugins(list(setup.plugins), Path(setup.plugins_dir) if setup.plugins_dir else None,
                          list(setup.disable), autoload=setup.autoload, strict=setup.strict)
    registry = Registry.collect(loaded.pm)
    registry.problems[:0] = loaded.problems
    return registry, load_ruleset(setup.ruleset, registry.ruleset_files)


def _open(files: list[FileRef]) -> tuple[list[InputUnit], list[tuple[str, str]]]:
    """The units of ``files``, and ``(name, reason)`` of each that cannot be opened here."""
    units, unreadable = [], []
    for ref in files:
        try:
            found = file_units(Path(ref.path), ref.display)
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            for name in ref.members or (ref.display,):
                unreadable.append((name, f"cannot read on the worker: {type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"))
            continue
        if ref.members is not None:
            wanted = set(ref.members)
            found = [u for u in found if u.name in wanted]
            missing = wanted - {u.name for u in found}
            unreadable.extend((name, "cannot read on the worker: no longer in the archive") for name in sorted(missing))
        units.extend(found)
    return units, unreadable


def _match_keys(rows) -> tuple[frozenset[str], frozenset[str]]:
    """Order keys of the backend orders and of the Purchase events in ``rows``."""
    orders = backend_orders(rows)
    order_side = order_keys(orders)["key"] if orders.height else pl.Series([], dtype=pl.String)
    events = [purchase_events(rows, kind)["key"] for kind in ("server_event", "browser_event") if kind in rows.kinds]
    purchase_side = pl.concat(events) if events else pl.Series([], dtype=pl.String)
    return (frozenset(order_side.drop_nulls().unique().to_list()), frozenset(purchase_side.drop_nulls().unique().to_list()))


def audit_partition(partition: Partition, setup: Setup, force_source: str | None, options: dict[str, Any],
                    timelines: bool = False) -> PartitionResult:
    """Audit ``partition`` on this worker (see the module doc); with ``timelines``,
    also the per-account timelines the HTML report draws."""
    from ..report.html import timelines_of  # the report modules import the pipeline: load them here
    from ..report.model import evidence_summary

    registry, ruleset = _loaded(setup)
    units, unreadable = _open(partition.files)
    result = audit(units, registry, ruleset, force_source=force_source, options=options, strict=setup.strict)
    try:
        for name, reason in unreadable:
            result.inputs.files += 1
            result.inputs.unreadable_files += 1
            result.inputs.add_error(name, 0, reason)
        accounts, facts = evidence_summary(result)
        ids = result.rows.select("account", "pixel_id", "shop")
        identities = frozenset(
            v for c in ids.columns for v in ids.get_column(c).cast(pl.String).drop_nulls().unique().to_list()
        )
        orders, purchases = _match_keys(result.rows)
        return PartitionResult(
            inputs=result.inputs,
            findings=result.findings,
            accounts=accounts,
            facts=facts,
            notes=list(result.notes),
            problems=list(result.problems),
            window=(result.window_start, result.window_end),
            identities=identities,
            order_keys=orders,
            purchase_keys=purchases,
            timelines=timelines_of(result) if timelines else None,
            tallies=dict(getattr(result.notes, "tallies", {})),
        )
    finally:
        result.rows.close()
