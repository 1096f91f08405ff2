"""The five troubleshooting questions, answered first in every report.

Order and wording come from the diagnosis table: arriving at all? double
counted? on time? match quality? numbers match reality?  A verdict is
``problem`` when a finding of a related row exists (rows name their questions
in the ruleset's ``questions:``) or when the measured numbers miss the target
the ruleset sets; ``ok`` only when the evidence answers the question and shows
nothing wrong; else ``unknown``, saying what evidence is missing.  Per-account
numbers come from :func:`auditor.accounts.account_summaries`, so a verdict
never contradicts the account table.

``detail`` is written for a shop owner: diagnoses by their ruleset titles,
accounts by their short shop names (:mod:`auditor.report.plain`, the same
words as the HTML page); ``rules`` and ``accounts`` keep the ids the answer
names for scripts and for ``capi-audit rules show ID``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .accounts import accepted_events_expr, rejected_events_expr
from .findings import Finding, finding_dict, severity_at_least
from .match_quality import ESTIMATE_LABEL
from .report.plain import account_name, account_names, by_rule, question_answer
from .rows import CanonicalRows, as_readable
from .ruleset import Ruleset
from .wording import fmt_duration, plural

#: Step and wording of the five questions.  Which diagnosis rows answer each
#: is ruleset data (``questions:`` of a row), so a plugin's own row can answer one.
QUESTIONS = (
    (1, "Are server events arriving at all?"),
    (2, "Are they double counted (ratio to backend orders)?"),
    (3, "Are they on time?"),
    (4, "Is match quality high enough?"),
    (5, "Do the numbers match reality (within 20%)?"),
)


def rules_answering(ruleset: Ruleset, step: int) -> tuple[str, ...]:
    """Ids of the ruleset rows whose findings answer question ``step``."""
    return tuple(rid for rid, row in ruleset.rules.items() if step in row.questions)


@dataclass
class QuestionFacts:
    """What the answers need of the rows beyond the findings and accounts: small
    and additive, so the facts of several partitions of one audit can be merged
    (cluster mode) and give the same answers as the facts of all rows."""

    #: per account (None: rows without one): [server events sent, events accepted,
    #: events rejected or failed, Graph API responses]
    sends: dict[str | None, list[int]] = field(default_factory=dict)
    has_orders: bool = False
    #: send delay (``logged_at - event_time``, whole seconds) -> server events with it
    #: (action sources the events-delayed rule exempts left out)
    delays: dict[int, int] = field(default_factory=dict)

    def merge(self, other: "QuestionFacts") -> None:
        for account, counts in other.sends.items():
            mine = self.sends.setdefault(account, [0, 0, 0, 0])
            for i, n in enumerate(counts):
                mine[i] += n
        self.has_orders = self.has_orders or other.has_orders
        for delay, n in other.delays.items():
            self.delays[delay] = self.delays.get(delay, 0) + n


def question_facts(data: "CanonicalRows | pl.DataFrame", ruleset: Ruleset) -> QuestionFacts:
    """The :class:`QuestionFacts` of ``data``."""
    rows = as_readable(data)
    per_account = (
        rows.select("account", "kind", "signal", "batch_size", "events_received",
                    kinds=["server_event", "api_response", "status"])
        .group_by(pl.col("account").cast(pl.String))
        .agg(
            (pl.col("kind") == "server_event").sum().alias("sent"),
            accepted_events_expr().sum().alias("accepted"),
            rejected_events_expr().sum().alias("rejected"),
            (pl.col("kind") == "api_response").sum().alias("responses"),
        )
    )
    exempt = list(_threshold(ruleset, "events-delayed", "exempt_action_sources", ()) or ())
    delays = rows.select(
        "event_time", "logged_at", kinds=["server_event"],
        where=pl.col("event_time").is_not_null() & pl.col("logged_at").is_not_null()
        & (pl.col("action_source").is_null() | ~pl.col("action_source").is_in(exempt)),
    ).select((pl.col("logged_at") - pl.col("event_time")).dt.total_seconds().alias("d")).group_by("d").len()
    return QuestionFacts(
        {a: [int(x) for x in counts] for a, *counts in per_account.iter_rows()},
        "order" in set(rows.kinds),
        {int(d): int(n) for d, n in delays.iter_rows()},
    )


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
    return answer_from_facts(question_facts(data, ruleset), findings, accounts, emq_threshold, ruleset)


def answer_from_facts(
    facts: QuestionFacts, findings: list[Finding], accounts: list[dict[str, Any]], emq_threshold: float, ruleset: Ruleset,
) -> list[dict[str, Any]]:
    """The ``questions`` of the report from the facts of the rows
    (:func:`question_facts`), the findings and the accounts: per step the
    verdict, the answer in words and the rule / account ids it names
    (``docs/report-contract.md``)."""
    names = account_names(accounts)
    titles = {rid: row.title for rid, row in ruleset.rules.items()}
    out = []
    for step, question in QUESTIONS:
        rules = rules_answering(ruleset, step)
        related = [f for f in findings if f.rule in rules and (step != 1 or severity_at_least(f.severity, "high"))]
        if step == 1:
            related = [f for f in related if f.ongoing is not False] or related
        named: list[str] = []
        dicts = [finding_dict(f) for f in related]
        if related:
            verdict, detail = "problem", question_answer("problem", "", dicts, titles, names)
            named = [f.account for f in related if f.account]
        elif step == 1:
            verdict, detail = _arriving(facts, accounts)
        elif step in (2, 5):
            verdict, detail, named = _against_orders(step, accounts, names,
                                                     _threshold(ruleset, "totals-mismatch", "max_discrepancy", 0.2),
                                                     facts.has_orders)
        elif step == 3:
            verdict, detail = _on_time(facts, ruleset)
        else:
            verdict, detail, named = _match_quality(accounts, names, emq_threshold,
                                                    float(_threshold(ruleset, "emq-low", "anonymous_min_score", 0.0)))
        out.append({"step": step, "question": question, "verdict": verdict, "detail": detail,
                    "rules": [rule for rule, _ in by_rule(dicts)],
                    "accounts": sorted(set(named))})
    return out


def _threshold(ruleset: Ruleset, rule: str, key: str, default: Any) -> Any:
    row = ruleset.rules.get(rule)
    value = row.thresholds.get(key) if row else None
    return default if value is None else value


def _arriving(facts: QuestionFacts, accounts: list[dict[str, Any]]) -> tuple[str, str]:
    """Sent requests and what Meta accepted, over every row (responses that
    carry no pixel id count too); a response counts even when its request is
    not in the input (raw Graph API responses)."""
    per_account = list(facts.sends.values())
    sent, accepted, rejected, responses = (sum(c[i] for c in per_account) for i in range(4))
    unpaired = sum(c[1] for c in per_account if c[0] == 0)
    if accepted:
        where = f" ({unpaired} of them in responses whose request is not in the input)" if unpaired else ""
        return "ok", (f"{plural(sent, 'server event')} sent, {plural(accepted, 'event')} accepted by Meta{where}; "
                      "no ongoing delivery failure.")
    if responses:
        return "problem", (f"{plural(sent, 'server event')} sent and none accepted by Meta: "
                           f"{plural(responses, 'Graph API response')}, {plural(rejected, 'event')} rejected or failed.")
    if sent:
        return "unknown", (f"{plural(sent, 'server event')} sent, but no Graph API response in the input shows "
                           "whether Meta accepted them.")
    orders = sum(a["orders"] for a in accounts)
    if orders:
        return "unknown", (f"{plural(orders, 'backend order')} but no server events or Graph API responses in the input "
                           "(add the connector, sGTM or sender logs).")
    return "unknown", "No server events or Graph API responses in the input."


def _against_orders(step: int, accounts: list[dict[str, Any]], names: dict[str, str], tolerance: float,
                    order_rows: bool) -> tuple[str, str, list[str]]:
    """Server purchases per backend order, per account with orders: question 2
    looks for too many (double counting), question 5 for a miss either way.
    Also returns the ids of the accounts the answer names."""
    with_orders = [a for a in accounts if a["orders"]]
    if not with_orders and order_rows:
        return "unknown", ("The input's backend orders are all test, draft or POS orders, which are left out: "
                           "no real order to compare against."), []
    if not with_orders:
        return "unknown", "No backend orders in the input (add Shopify webhooks or store order logs) to compare against.", []
    compared = [a for a in with_orders if a["server_events"]]
    blind = [a for a in with_orders if not a["server_events"]]
    blind_text = ("; no server events in the input for " + ", ".join(
        f"{account_name(a['account'], names)} ({plural(a['orders'], 'order')})" for a in blind)) if blind else ""
    named = [a["account"] for a in with_orders]
    if not compared:
        return "unknown", (f"{plural(sum(a['orders'] for a in blind), 'backend order')} but no server events for them "
                           "in the input (add the connector, sGTM or sender logs) to compare against."), named
    low, high = 1 - tolerance, 1 + tolerance
    off = [a for a in compared if a["purchase_ratio"] > high or (step == 5 and a["purchase_ratio"] < low)]
    ratios = ", ".join(f"{account_name(a['account'], names)} {a['purchase_ratio']:.2f} ({plural(a['orders'], 'order')})"
                       for a in compared)
    target = f"above {high:.2f}" if step == 2 else f"outside {low:.2f}-{high:.2f}"
    if off:
        return "problem", f"Server purchases per backend order {target}: {ratios}{blind_text}.", named
    verdict = "unknown" if blind else "ok"
    return verdict, f"Server purchases per backend order: {ratios}{blind_text}.", named


def _on_time(facts: QuestionFacts, ruleset: Ruleset) -> tuple[str, str]:
    """Median send delay against the events-delayed threshold."""
    investigate = float(_threshold(ruleset, "events-delayed", "investigate_seconds", 300))
    if not facts.delays:
        return "unknown", "No server events with both event_time and a send time."
    delay = _median(facts.delays)
    text = f"Median send delay {fmt_duration(delay)} over {plural(sum(facts.delays.values()), 'server event')}"
    if delay > investigate:
        return "problem", f"{text}, above {fmt_duration(investigate)}."
    return "ok", text + "."


def _match_quality(accounts: list[dict[str, Any]], names: dict[str, str], threshold: float,
                   anonymous_threshold: float) -> tuple[str, str, list[str]]:
    """Each account's estimate against the emq-low target for what it was
    judged on: ``min_score`` over Purchase events, ``anonymous_min_score`` over
    browse events (they carry no contact data by nature).  Also returns the
    ids of the accounts below target."""
    scored = [a for a in accounts if a["estimated_match_quality"] is not None]
    if not scored:
        return "unknown", "No website server events with customer parameters.", []
    label = ESTIMATE_LABEL[0].upper() + ESTIMATE_LABEL[1:]

    def target(a: dict[str, Any]) -> float:
        return threshold if a["estimated_match_quality_over"] == "Purchase events" else anonymous_threshold

    below = [a for a in scored if a["estimated_match_quality"] < target(a)]
    if below:
        return "problem", (f"{label} below target: " + ", ".join(
            f"{account_name(a['account'], names)} {a['estimated_match_quality']:.1f} over "
            f"{a['estimated_match_quality_over']} (target {target(a):.1f})" for a in below) + "."), [a["account"] for a in below]
    scores = [a["estimated_match_quality"] for a in scored]
    return "ok", f"{label} {min(scores):.1f}-{max(scores):.1f}, target {threshold:.1f} for Purchase events.", []
