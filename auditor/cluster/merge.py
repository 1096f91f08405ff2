"""Merge the partitions' results into one :class:`auditor.pipeline.AuditResult`.

Partitions hold disjoint accounts and shops (:mod:`auditor.cluster.partition`),
so findings and account summaries are unions, sorted as a single-machine run
sorts them; input statistics and question facts add up; the window is the
earliest start and latest end.  What looks across accounts in the report (the
five answers, totals) is computed from these merged parts by the same code as
a single-machine report (:func:`auditor.report.model.build_report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..pipeline import AuditResult, InputSummary, canonical_frame, finding_order
from ..problems import PluginProblem
from ..questions import QuestionFacts
from ..registry import add_counts
from ..rows import FrameRows
from ..ruleset import Ruleset
from .partition import Partition
from .task import PartitionResult


@dataclass
class Merged:
    """What :func:`auditor.report.model.build_report` takes in place of the rows."""

    accounts: list[dict[str, Any]]
    facts: QuestionFacts
    grouping: dict[str, Any] = field(default_factory=dict)
    #: per-account timelines for the HTML report (only when asked for)
    timelines: dict[str, Any] | None = None


def failed_partition(partition: Partition, why: str) -> PartitionResult:
    """A partition no worker could audit: each of its files is an input error,
    so a shop is never silently missing from the report."""
    inputs = InputSummary(files=partition.units)
    inputs.unreadable_files = partition.units
    for ref in partition.files:
        for name in ref.members or (ref.display,):
            inputs.add_error(name, 0, f"cannot audit on the cluster: {why}")
    return PartitionResult(inputs, [], [], QuestionFacts(), [], [], (None, None))


def merge_results(results: list[PartitionResult], ruleset: Ruleset, source_names: list[str],
                  grouping: dict[str, Any]) -> AuditResult:
    """One result of ``results`` (in partition order); ``source_names`` orders the notes."""
    inputs = InputSummary()
    facts = QuestionFacts()
    findings, accounts = [], []
    notes: list[Any] = []  # texts, and ("tally", key) where a counting note goes
    totals: dict[str, dict[str, int]] = {}
    renders: dict[str, Any] = {}
    timelines: dict[str, Any] = {}
    problems: list[PluginProblem] = []
    starts, ends = [], []
    for part in results:
        inputs.merge(part.inputs)
        facts.merge(part.facts)
        findings.extend(part.findings)
        accounts.extend(part.accounts)
        timelines.update(part.timelines or {})
        own = {render(counts): key for key, (counts, render) in part.tallies.items()}
        _merge_in_order(notes, [("tally", own[text]) if text in own else text for text in part.notes])
        for key, (counts, render) in part.tallies.items():  # counts over the whole run, not per partition
            totals[key] = add_counts(totals.get(key, {}), counts)
            renders[key] = render
        problems.extend(p for p in part.problems if p not in problems)
        if part.window[0] is not None:
            starts.append(part.window[0])
            ends.append(part.window[1])
    findings.sort(key=finding_order)
    accounts.sort(key=lambda a: a["account"])
    return AuditResult(
        rows=FrameRows(canonical_frame([])),
        findings=findings,
        inputs=inputs,
        window_start=min(starts) if starts else None,
        window_end=max(ends) if ends else None,
        ruleset=ruleset,
        notes=_notes_in_order([renders[n[1]](totals[n[1]]) if isinstance(n, tuple) else n for n in notes], source_names),
        problems=problems,
        merged=Merged(accounts, facts, grouping, dict(sorted(timelines.items()))),
    )


def _merge_in_order(merged: list[Any], items: list[Any]) -> None:
    """Add ``items`` (one partition's notes, in the order its plugins wrote them)
    to ``merged``: a new item goes just before the first later item of its own
    list that ``merged`` already holds, so the order a single-machine run writes
    (each note where its code emits it) holds across partitions."""
    for i, item in enumerate(items):
        if item in merged:
            continue
        after = next((merged.index(x) for x in items[i + 1:] if x in merged), None)
        if after is None:
            merged.append(item)
        else:
            merged.insert(after, item)


def _notes_in_order(notes: list[str], source_names: list[str]) -> list[str]:
    """Notes as a single-machine run lists them: sources' notes by source name
    (a note starts with its source's name), then the checks' notes."""
    rank = {name: i for i, name in enumerate(sorted(source_names))}
    return sorted(notes, key=lambda n: rank.get(n.split(":", 1)[0], len(rank)))
