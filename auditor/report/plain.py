"""Plain words for the reports: what a finding cost, its numbers, the
answers to the five questions, diagnosis titles and short account names.

The question answers are written here for every format (``auditor.questions``
puts them in the report dict's ``questions[].detail``; the HTML page, the
terminal and Markdown show that text), so a shop owner reads titles and shop
names everywhere, and scripts find the ids in ``questions[].rules`` / ``accounts``.

The report dict keeps the checks' metrics as data (``docs/report-contract.md``);
a person reading the page should not have to decode ``hours=2.5
orders_inside=2`` or ``share 0.1617``.  Everything here turns those values into
text with the wording every check uses (:mod:`auditor.wording`), so the page
reads like the findings' summaries.  Inputs are the redacted report dict; the
HTML layer escapes and redacts the output once more.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..findings import SEVERITY_RANK
from ..wording import fmt_duration, fmt_time, plural

#: Labels for metric keys whose name alone reads badly; others are humanised.
LABELS = {
    "sends_affected": "sends affected",
    "total_sends": "all sends of the account",
    "share": "share",
    "codes": "Graph API error codes",
    "successes_after_last_error": "successful sends after the last error",
    "successes_after_first_error": "successful sends after the first error",
    "last_success_before": "last successful send before",
    "events_dropped_in_accepted_batches": "events dropped inside accepted batches",
    "silence_start": "silence began",
    "silence_end": "silence ended",
    "silences": "silent stretches (longest first)",
    "business_hours_silences": "silences in business hours",
    "weekly": "per week",
    "ratio_basis": "ratio counted as",
    "window_rule": "window",
    "inputs": "evidence per input",
    "estimate_is_meta_emq": "is Meta's own EMQ score",
    "purchase_ratio": "share of orders with a server Purchase",
    "share_ok": "share deduplicated",
    "share_over_good": "share later than good",
    "share_late": "share late",
    "orders_inside": "orders inside",
    "browser_events_inside": "browser events inside",
    "open_ended": "still open at the end",
    "oldest_at_send_days": "oldest event when sent",
    "expected_overcount": "expected over-count",
    "changed_at": "changed at",
    "silence_hours": "silence",
    "median_seconds": "median delay",
    "p95_seconds": "95th percentile delay",
    "max_seconds": "longest delay",
    "interval_seconds": "interval",
}

#: Metric keys never shown: repeated elsewhere on the page or meaningless to a reader.
HIDDEN = {"update_marker"}

#: Keys (or parents) whose numbers are shares of 1.
_SHARE_KEYS = {"share", "share_ok", "share_over_good", "share_late", "share_on_interval", "purchase_ratio", "coverage",
               "usable", "wrong", "interval_variation"}
_ISO = re.compile(r"^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?(?:Z|[+-]\d\d:?\d\d)?$")
MAX_TABLE_ROWS = 6


def label(key: str) -> str:
    """A metric key as words (``sends_affected`` -> ``sends affected``)."""
    return LABELS.get(key, key.replace("_", " "))


def _time(text: str) -> str:
    if len(text) == 10:  # a date alone
        return text
    try:
        return fmt_time(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return text


def value_text(key: str, value: Any) -> str:
    """One scalar in words: shares as %, seconds/hours/days as durations, ISO times as UTC times."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if key in _SHARE_KEYS or key.startswith("share_") or key.endswith("_share"):
            return f"{value:.0%}"
        if key.endswith("_seconds") or key.endswith("_s") or key == "seconds":
            return fmt_duration(float(value))
        if key == "hours" or key.endswith("_hours"):
            return f"{value:.1f} h"
        if key.endswith("_days"):
            return f"{value:.1f} days"
        if key == "minutes" or key.endswith("_minutes"):
            return f"{value:.0f} min"
        if key.startswith("expected_overcount"):
            return f"{value:.1f}x"
        if isinstance(value, float) and not value.is_integer():
            return f"{value:,.2f}".rstrip("0").rstrip(".")
        return f"{int(value):,}"
    if isinstance(value, str):
        return _time(value) if _ISO.match(value) else value
    return str(value)


def _flat(key: str, value: Any) -> str:
    """A dict or list of scalars on one line."""
    if isinstance(value, dict):
        return ", ".join(f"{label(str(k))}: {value_text(key if key in _SHARE_KEYS else str(k), v)}"
                         for k, v in value.items()) or "none"
    return ", ".join(value_text(key, v) for v in value) or "none"


def _table(key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows of dicts as a small table: headers in words, cells in words, longest first when timed."""
    if rows and all("hours" in r for r in rows):
        rows = sorted(rows, key=lambda r: (-(r.get("hours") or 0), str(r.get("start"))))
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols and c not in HIDDEN]
    body = []
    for r in rows[:MAX_TABLE_ROWS]:
        cells = []
        for c in cols:
            v = r.get(c)
            cells.append(_flat(c, v) if isinstance(v, (dict, list)) else value_text(c, v))
        body.append(cells)
    return {"label": label(key), "columns": [label(c) for c in cols], "rows": body,
            "more": max(0, len(rows) - MAX_TABLE_ROWS)}


def metric_items(metrics: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The finding's metrics as ``{"label", "text"}`` items and ``{"label",
    "columns", "rows", "more"}`` tables, in the checks' order, nulls left out."""
    out: list[dict[str, Any]] = []
    for key, value in (metrics or {}).items():
        if key in HIDDEN or value is None or value == [] or value == {}:
            continue
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            out.append(_table(key, value))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            out.append(_table(key, [{"name": k, **v} for k, v in value.items()]))
        elif isinstance(value, (dict, list)):
            out.append({"label": label(key), "text": _flat(key, value)})
        else:
            out.append({"label": label(key), "text": value_text(key, value)})
    return out


def _sum(items: list[dict[str, Any]], key: str) -> int | None:
    vals = [f["metrics"].get(key) for f in items if isinstance((f.get("metrics") or {}).get(key), (int, float))]
    return int(sum(vals)) if vals else None


def _max(items: list[dict[str, Any]], key: str) -> float | None:
    vals = [f["metrics"].get(key) for f in items if isinstance((f.get("metrics") or {}).get(key), (int, float))]
    return max(vals) if vals else None


def cost_text(items: list[dict[str, Any]]) -> str:
    """What the findings of one diagnosis on one account cost, in sends,
    orders or events (the first measure their metrics carry)."""
    n = _sum(items, "sends_affected")
    if n is not None:
        total = _max(items, "total_sends")
        return f"{n:,} of {int(total):,} sends failed" if total else f"{plural(n, 'send')} failed"
    hours = _max(items, "silence_hours")
    if hours is not None:
        return f"no server events for {hours:.1f} h"
    orders, matched = _max(items, "orders"), _max(items, "orders_with_server_purchase")
    if orders is not None and matched is not None:
        return f"{int(orders - matched):,} of {int(orders):,} backend orders without a server Purchase"
    for key, total_key, what in (("faulty_events", "server_events", "server events"),
                                 ("bad_events", "events_with_key", "events"),
                                 ("missing_event_id", "server_events", "server events"),
                                 ("requests_with_code", "requests", "requests")):
        n = int(_max(items, key)) if _max(items, key) is not None else None
        if n is not None:
            total = _max(items, total_key) if total_key else None
            if key == "faulty_events" and any("events_checked" in (f.get("metrics") or {}) for f in items):
                total = _max(items, "events_checked")
            return f"{n:,} of {int(total):,} {what} affected" if total else f"{n:,} {what} affected"
    missing = sorted({m for f in items for m in (f.get("metrics") or {}).get("missing") or []})
    if missing:
        return f"not sent server-side: {', '.join(missing)}"
    names = [f["metrics"]["names"] for f in items if isinstance((f.get("metrics") or {}).get("names"), dict)]
    if names:
        n = sum(int(v.get("events") or 0) for d in names for v in d.values() if isinstance(v, dict))
        return f"{plural(n, 'server event')} under a non-standard name"
    n = _sum(items, "events")
    if n is not None and any("median_seconds" in (f.get("metrics") or {}) for f in items):
        return f"{plural(n, 'server event')} sent late"
    if any("estimated_match_quality" in (f.get("metrics") or {}) for f in items):
        score = min(f["metrics"]["estimated_match_quality"] for f in items if "estimated_match_quality" in f["metrics"])
        return f"estimated match quality {score:.1f} / 10"
    count = sum(int(f.get("count") or 0) for f in items)
    return plural(count, "record")


def when_text(items: list[dict[str, Any]]) -> str:
    """Since when, and whether it is still going on at the end of the evidence."""
    firsts = sorted(f["first_seen"] for f in items if f.get("first_seen"))
    lasts = sorted(f["last_seen"] for f in items if f.get("last_seen"))
    if not firsts:
        return "time not in the evidence"
    since = f"since {_time(firsts[0])}"
    if any(f.get("ongoing") is True for f in items):
        return since + ", still going on at the end of the evidence"
    if all(f.get("ongoing") is False for f in items) and lasts:
        if _time(lasts[-1]) == _time(firsts[0]):
            return f"once, at {_time(firsts[0])}"
        return f"from {_time(firsts[0])} to {_time(lasts[-1])}, stopped since"
    if lasts and lasts[-1] != firsts[0]:
        return f"from {_time(firsts[0])} to {_time(lasts[-1])}"
    return f"at {_time(firsts[0])}"


def fix_lead(fix: str, min_chars: int = 90) -> tuple[str, str]:
    """The first sentences of a fix (at least ``min_chars``), and the rest."""
    text = " ".join((fix or "").split())
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z`(])", text)
    lead: list[str] = []
    for s in sentences:
        lead.append(s)
        if len(" ".join(lead)) >= min_chars:
            break
    head = " ".join(lead)
    return head, text[len(head):].strip()


def account_names(accounts: list[dict[str, Any]]) -> dict[str, str]:
    """Short, unique names for the navigation: the shop's host without
    ``www.`` and domain (``hyggehjem``), else ``pixel …4810``."""
    names: dict[str, str] = {}
    for a in accounts:
        shops = sorted(a.get("shops") or [])
        if shops:
            host = re.sub(r"^(?:https?://)?(?:www\.)?", "", shops[0]).split("/")[0]
            names[a["account"]] = host.split(".")[0] or host
        else:
            names[a["account"]] = f"pixel …{str(a['account'])[-4:]}"
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name] = seen.get(name, 0) + 1
    return {acc: (f"{n} …{str(acc)[-4:]}" if seen[n] > 1 else n) for acc, n in names.items()}


def by_rule(findings: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Findings grouped per diagnosis, worst first, ongoing before stopped, then by time."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(f["rule"], []).append(f)

    def key(item: tuple[str, list[dict[str, Any]]]) -> tuple:
        rule, fs = item
        worst = min(SEVERITY_RANK.get(f["severity"], 99) for f in fs)
        ongoing = any(f.get("ongoing") is True for f in fs)
        first = min((f["first_seen"] for f in fs if f.get("first_seen")), default="~")
        return (worst, not ongoing, first, rule)

    return sorted(groups.items(), key=key)


def rule_title(rule: str, titles: dict[str, str]) -> str:
    """A diagnosis as its ruleset title (``Access token expired or invalidated``);
    a rule without a known title reads as its id in words."""
    return titles.get(rule, rule.replace("-", " ")).rstrip(".")


def account_name(account: str | None, names: dict[str, str]) -> str:
    """One account as :func:`account_names` calls it; ``all accounts`` for a
    finding that belongs to none."""
    if not account:
        return "all accounts"
    return names.get(account) or f"pixel …{str(account)[-4:]}"


def names_text(where: list[str], shown: int = 3) -> str:
    """``a, b, c and 2 more``: the first ``shown`` names, then how many others."""
    return ", ".join(where[:shown]) + (f" and {len(where) - shown} more" if len(where) > shown else "")


def _date(text: str) -> str:
    return text[:10]


def since_text(items: list[dict[str, Any]]) -> str:
    """When, to the day, for one line of a question's answer: ``since D``
    while still going on, ``from D to E`` once stopped, ``on D`` for one day;
    empty when the lines carry no time."""
    firsts = sorted(f["first_seen"] for f in items if f.get("first_seen"))
    lasts = sorted(f["last_seen"] for f in items if f.get("last_seen"))
    if not firsts:
        return ""
    first = _date(firsts[0])
    last = _date(lasts[-1]) if lasts else first
    if any(f.get("ongoing") is True for f in items):
        return f"since {first}"
    return f"on {first}" if first == last else f"from {first} to {last}"


def question_answer(verdict: str, detail: str, related: list[dict[str, Any]], titles: dict[str, str],
                    names: dict[str, str]) -> str:
    """A question's answer in words: for a problem, which diagnoses (ruleset
    titles), since when and at which shops (short names, not rule ids and
    pixel ids; those stay in the JSON's ``questions[].rules`` / ``accounts``)."""
    if verdict != "problem" or not related:
        return detail
    parts = []
    for rule, fs in by_rule(related):
        where = sorted({account_name(f["account"], names) for f in fs})
        when = since_text(fs)
        parts.append(f"{rule_title(rule, titles)}{' ' + when if when else ''} ({names_text(where)})")
    return "; ".join(parts) + "."
