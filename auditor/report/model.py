"""Build the report dict of ``docs/report-contract.md`` (schema_version 1).

Every renderer and the store start from this one dict, and every string in it
has passed through :func:`auditor.redact.redact_obj`, so no output can carry
personal data or secrets in clear.  Nothing here reads the clock: the same
evidence always gives the same report.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..accounts import account_summaries
from ..pipeline import AuditResult
from ..findings import finding_dict
from ..questions import QuestionFacts, answer_from_facts, question_facts
from ..redact import redact_obj
from ..wording import iso
from .timeline import daily_series

SCHEMA_VERSION = 1


def evidence_summary(result: AuditResult) -> tuple[list[dict[str, Any]], QuestionFacts]:
    """All the report needs of the rows themselves: the accounts (with their
    daily series) and the facts the questions are answered from.  A cluster
    run computes this per partition and merges it (:mod:`auditor.cluster`)."""
    accounts = account_summaries(result.rows, result.ruleset)
    daily = daily_series(result.rows)
    for acc in accounts:  # added field: per UTC day orders / server purchases / server events / errors
        acc["daily"] = daily.get(acc["account"], [])
    return accounts, question_facts(result.rows, result.ruleset)


def build_report(result: AuditResult) -> dict[str, Any]:
    if result.merged is not None:  # a cluster run: the rows stayed on the workers
        accounts, facts = result.merged.accounts, result.merged.facts
    else:
        accounts, facts = evidence_summary(result)
    emq = result.ruleset.rules.get("emq-low")
    threshold = float(emq.thresholds.get("min_score", 6.0)) if emq else 6.0
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "capi-auditor", "version": __version__},
        "ruleset": {"name": result.ruleset.name, "version": result.ruleset.version},
        "inputs": {
            "files": result.inputs.files,
            "records": result.inputs.records,
            "skipped_lines": result.inputs.skipped_lines,
            "by_source": dict(sorted(result.inputs.by_source.items())),
            "errors": result.inputs.errors,
            "errors_total": result.inputs.errors_total,
            "unrecognised_files": result.inputs.unrecognised_files,
            "unreadable_files": result.inputs.unreadable_files,
        },
        "window": {"start": iso(result.window_start), "end": iso(result.window_end)},
        "accounts": accounts,
        "questions": answer_from_facts(facts, result.findings, accounts, threshold, result.ruleset),
        "findings": [finding_dict(f) for f in result.findings],
        "notes": list(result.notes),
        "plugin_problems": [{"plugin": p.plugin, "where": p.what, "error": p.error} for p in result.problems],
    }
    if result.merged is not None:
        report["cluster"] = dict(result.merged.grouping)
    return redact_obj(report)


def worst_severity(report: dict[str, Any]) -> str | None:
    from ..findings import SEVERITY_RANK

    sev = [f["severity"] for f in report["findings"]]
    return min(sev, key=SEVERITY_RANK.__getitem__) if sev else None
