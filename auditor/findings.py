"""A finding: one diagnosis row established for one account, with evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from .wording import iso

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # 0 = worst

#: How many evidence lines a finding keeps.
MAX_EVIDENCE = 5


@dataclass(frozen=True)
class Evidence:
    file: str
    line: int
    excerpt: str


@dataclass
class Finding:
    """What a check reports.

    ``count`` is how many records support it; ``ongoing`` says whether the
    problem is still visible at the end of the evidence; ``metrics`` carries the
    measured numbers behind ``summary`` (JSON-serialisable values only).
    """

    rule: str
    severity: str
    summary: str
    account: str | None = None
    subject: str | None = None  # what inside the account: an event name, a user_data key ...
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    ongoing: bool | None = None
    evidence: list[Evidence] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    fix: str = ""
    validate: str = ""

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs: the same problem on the same account (and subject)."""
        return fingerprint(self.rule, self.account, self.subject)


def fingerprint(rule: str, account: str | None, subject: str | None = None) -> str:
    """``rule|account[|subject]``: how runs recognise the same finding."""
    base = f"{rule}|{account or '*'}"
    return f"{base}|{subject}" if subject else base


def finding_dict(f: Finding) -> dict[str, Any]:
    """A finding as the report's ``findings[]`` object (``docs/report-contract.md``):
    one shape for the report, the question answers and the watch alerts."""
    return {
        "rule": f.rule,
        "severity": f.severity,
        "account": f.account,
        "subject": f.subject,
        "count": f.count,
        "first_seen": iso(f.first_seen),
        "last_seen": iso(f.last_seen),
        "ongoing": f.ongoing,
        "summary": f.summary,
        "evidence": [{"file": e.file, "line": e.line, "excerpt": e.excerpt} for e in f.evidence],
        "metrics": f.metrics,
        "fix": f.fix,
        "validate": f.validate,
    }


def evidence_from(rows: pl.DataFrame, limit: int = MAX_EVIDENCE) -> list[Evidence]:
    """Evidence items from canonical rows: the first ``limit`` by time, then
    file and line (deterministic), excerpt = the row's redacted message."""
    if rows.is_empty():
        return []
    cols = [c for c in ("logged_at", "file", "line") if c in rows.columns]
    picked = rows.sort(cols, nulls_last=True).head(limit)
    return [
        Evidence(file=f or "", line=int(ln or 0), excerpt=(m or "")[:300])
        for f, ln, m in picked.select("file", "line", "message").iter_rows()
    ]


def severity_at_least(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK[severity] <= SEVERITY_RANK[threshold]


def downgrade(severity: str, steps: int = 1) -> str:
    return SEVERITIES[min(SEVERITY_RANK[severity] + steps, len(SEVERITIES) - 1)]
