"""How findings write times, spans, counts and durations: one wording for every check.

Public for plugins (``docs/plugins.md``): a third-party check that uses these
reads like the built-in ones.
"""

from __future__ import annotations

from datetime import datetime


def fmt_time(ts: datetime | None) -> str:
    """``2026-05-06 10:04 UTC`` (``unknown time`` for None)."""
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts is not None else "unknown time"


def iso(ts: datetime | None) -> str | None:
    """ISO-8601 UTC with ``Z``, as the JSON report writes times (None stays None)."""
    return ts.isoformat().replace("+00:00", "Z") if ts is not None else None


#: What a finding says when its lines carry no time at all (raw responses,
#: bare payloads): plainly, instead of "between unknown time and unknown time".
NO_TIMESTAMP = "time unknown: the lines carry no timestamp"


def span_text(first: datetime | None, last: datetime | None) -> str:
    """``at T``, ``between A and B``, or ``(time unknown: ...)`` without times."""
    if first is None or last is None:
        if first is None and last is None:
            return f"({NO_TIMESTAMP})"
        return f"at {fmt_time(first or last)}"
    if fmt_time(first) == fmt_time(last):
        return f"at {fmt_time(first)}"
    return f"between {fmt_time(first)} and {fmt_time(last)}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 send``, ``2 sends`` (``many`` for irregular plurals)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def fmt_duration(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``3.5 h``, ``2.0 days`` (signed; ``unknown`` for None)."""
    if seconds is None:
        return "unknown"
    s = abs(seconds)
    sign = "-" if seconds < 0 else ""
    if s < 120:
        return f"{sign}{s:.0f} s"
    if s < 7200:
        return f"{sign}{s / 60:.0f} min"
    if s < 172800:
        return f"{sign}{s / 3600:.1f} h"
    return f"{sign}{s / 86400:.1f} days"
