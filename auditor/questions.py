"""The five troubleshooting questions, answered first in every report.

Order and wording come from the diagnosis table: arriving at all? double
counted? on time? match quality? numbers match reality?  A verdict is
``problem`` when a finding of a related row exists, ``ok`` when the evidence
allows the question to be answered and shows nothing wrong, else ``unknown``
with what evidence would be needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .findings import Finding, severity_at_least
from .rows import CanonicalRows, as_readable
from .ruleset import Ruleset

#: Step and wording of the five questions.  Which diagnosis rows answer each
#: is ruleset data (``questions:`` of a row), so a plugin's own row can answer one.
QUESTIONS = (
    (1, "Are server events arriving at all?"),
    (2, "Are they double counted (ratio to backend orders)?"),
    (3, "Are they on time?"),
    (4, "Is match quality high enough?"),
    (5, "Do the numbers match reality (within 20%)?"),
)


def rows_answering(ruleset: Ruleset, step: int) -> tuple[str, ...]:
    """Ids of the ruleset rows whose findings answer question ``step``."""
    return tuple(rid for rid, row in ruleset.rows.items() if step in row.questions)


def _problem_detail(related: list[Finding]) -> str:
    by_rule: dict[str, list[str]] = {}
    for f in related:
        by_rule.setdefault(f.rule, []).append(f.account or "all accounts")
    parts = [f"{rule} ({', '.join(sorted(set(accts))[:3])}{'...' if len(set(accts)) > 3 else ''})" for rule, accts in by_rule.items()]
    return "Findings: " + "; ".join(parts) + "."


@dataclass
class QuestionFacts:
    """What the answers need of the rows beyond the findings and accounts: small
    and additive, so the facts of several partitions of one audit can be merged
    (cluster mode) and give the same answers as the facts of all rows."""

    server_events: int = 0
    has_orders: bool = False
    #: send delay (``logged_at - event_time``, whole seconds) -> server events with it
    delays: dict[int, int] = field(default_factory=dict)

    def merge(self, other: "QuestionFacts") -> None:
        self.server_events += other.server_events
        self.has_orders = self.has_orders or other.has_orders
        for delay, n in other.delays.items():
            self.delays[delay] = self.delays.get(delay, 0) + n


def question_facts(data: "CanonicalRows | pl.DataFrame") -> QuestionFacts:
    """The :class:`QuestionFacts` of ``data``."""
    rows = as_readable(data)
    server = rows.select("event_time", "logged_at", kinds=["server_event"])
    delays = (
        server.filter(pl.col("event_time").is_not_null() & pl.col("logged_at").is_not_null())
        .select((pl.col("logged_at") - pl.col("event_time")).dt.total_seconds().alias("d"))
        .group_by("d").len()
    )
    return QuestionFacts(server.height, "order" in set(rows.kinds), {int(d): int(n) for d, n in delays.iter_rows()})


def _median(counts: dict[int, int]) -> float:
    """The median of values given as value -> count (the mean of the two middle ones for an even count)."""
    total = sum(counts.values())
    lo, hi = (total - 1) // 2, total // 2
    seen, a = 0, None
    for value in sorted(counts):
        seen += counts[value]
        if a is None and seen > lo:
            a = value
        if seen > hi:
            return (a + value) / 2
    raise ValueError("no values")


def answer_questions(
    data: "CanonicalRows | pl.DataFrame", findings: list[Finding], accounts: list[dict[str, Any]], emq_threshold: float,
    ruleset: Ruleset,
) -> list[dict[str, Any]]:
    return answer_from_facts(question_facts(data), findings, accounts, emq_threshold, ruleset)


def answer_from_facts(
    facts: QuestionFacts, findings: list[Finding], accounts: list[dict[str, Any]], emq_threshold: float, ruleset: Ruleset,
) -> list[dict[str, Any]]:
    """The five answers from the facts of the rows (:func:`question_facts`), the findings and the accounts."""
    out = []
    for step, question in QUESTIONS:
        rules = rows_answering(ruleset, step)
        related = [f for f in findings if f.rule in rules and (step != 1 or severity_at_least(f.severity, "high"))]
        if step == 1:
            related = [f for f in related if f.ongoing is not False] or ([] if not related else related)
        if related:
            verdict, detail = "problem", _problem_detail(related)
        else:
            verdict, detail = _healthy_or_unknown(step, facts, accounts, emq_threshold)
        out.append({"step": step, "question": question, "verdict": verdict, "detail": detail})
    return out


def _healthy_or_unknown(step, facts: QuestionFacts, accounts, emq_threshold) -> tuple[str, str]:
    accepted = sum(a["accepted_responses"] for a in accounts)
    if step == 1:
        if facts.server_events or accepted:
            return "ok", f"{facts.server_events} server events and {accepted} accepted responses seen; no ongoing delivery failure."
        return "unknown", "No server events or Graph API responses in the input."
    if step in (2, 5):
        if not facts.has_orders:
            return "unknown", "No backend orders in the input (add Shopify webhooks or store order logs) to compare against."
        ratios = [a["purchase_ratio"] for a in accounts if a["purchase_ratio"] is not None]
        return "ok", "Server purchases per backend order: " + ", ".join(f"{r:.2f}" for r in ratios) + "."
    if step == 3:
        if not facts.delays:
            return "unknown", "No server events with both event_time and a send time."
        timed = sum(facts.delays.values())
        return "ok", f"Median send delay {_median(facts.delays):.0f} s over {timed} server events."
    scores = [a["estimated_match_quality"] for a in accounts if a["estimated_match_quality"] is not None]
    if not scores:
        return "unknown", "No website server events with customer parameters."
    return "ok", f"Estimated match quality (an estimate from parameter coverage, not Meta's EMQ) {min(scores):.1f}-{max(scores):.1f}, threshold {emq_threshold:.1f}."
