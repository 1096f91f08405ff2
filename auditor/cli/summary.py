"""The last line of an audit: one line a person or a CI log can grep."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..findings import SEVERITIES
from ..wording import plural


def summary_line(report: dict[str, Any], exit_code: int, fail_on: str) -> str:
    """``capi-audit: 3 critical, 5 high, 2 medium, 0 low, 0 info in 4 accounts — exit 1 (fail-on high)``.

    Accounts are the distinct accounts the findings name; the reason says which
    ``--fail-on`` threshold decided the exit code.
    """
    counts = Counter(f["severity"] for f in report["findings"])
    per_severity = ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)
    accounts = {f["account"] for f in report["findings"] if f.get("account")}
    if fail_on == "never" or exit_code == 1:
        reason = f"fail-on {fail_on}"
    else:
        reason = f"nothing at or above {fail_on}"
    return f"capi-audit: {per_severity} in {plural(len(accounts), 'account')} — exit {exit_code} ({reason})"
