"""Alert hygiene: one alert per rule and account when a problem starts, a
reminder at most every ``remind`` while it continues, one "resolved" when it
stops.

Findings come from :func:`auditor.pipeline.run_checks` over the window; this
module only decides what to *say* about them.  A problem is:

* **active** when a finding for its rule and account exists, is at or above
  the minimum severity, and does not say it has stopped (``ongoing`` is not
  ``False``);
* **stopped** when the finding says ``ongoing: False`` (e.g. sends succeeded
  again after the last token error), or when the finding is gone while the
  window still holds rows of that account.  A finding that disappears only
  because all of its account's rows left the window keeps its alert open.

Evaluations come in two kinds.  A *fast* pass (every cycle, over the rows of
the last minutes) may raise an alert or resolve one whose finding says it
stopped; a *full* pass (over the whole window, spaced by its cost) does that
too, sends reminders, and resolves problems whose finding is gone -- but only
when the latest fast pass does not show them either, so the two never flap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from ..findings import Finding, finding_dict, severity_at_least
from ..redact import redact_obj
from ..wording import iso


@dataclass
class AlertState:
    fingerprint: str
    rule: str
    account: str | None
    state: str  # firing | resolved
    severity: str
    started_at: datetime
    last_notified_at: datetime
    resolved_at: datetime | None = None
    notifications: int = 0
    finding: dict[str, Any] = field(default_factory=dict)
    row_id: int | None = None
    dirty: bool = False
    #: since when the problem has looked over (a resolution waits for ``AlertBook.settle``)
    clear_since: datetime | None = None


@dataclass
class AlertEvent:
    """One alert to store and deliver."""

    fingerprint: str
    rule: str
    account: str | None
    severity: str
    state: str  # firing | resolved
    reminder: bool
    at: datetime
    finding: dict[str, Any]
    alert_id: int | None = None

    def payload(self) -> dict[str, Any]:
        """Report finding fields plus ``state``, ``reminder``, ``alerted_at``, ``alert_id``."""
        out = dict(self.finding)
        out["state"] = self.state
        out["reminder"] = self.reminder
        out["alerted_at"] = iso(self.at)
        out["alert_id"] = self.alert_id
        return out


class AlertBook:
    """Current alert states (loaded from the store) and the rules that change them."""

    def __init__(self, states: Iterable[AlertState] = (), *, remind: timedelta | None = timedelta(minutes=30),
                 min_severity: str = "low", settle: timedelta = timedelta(0)):
        self.states: dict[str, AlertState] = {s.fingerprint: s for s in states}
        self.remind = remind
        self.min_severity = min_severity
        #: a firing problem is resolved only after it has looked over this long: an
        #: intermittent failure stays one alert instead of resolved/firing every cycle
        self.settle = settle
        self._fast_active: set[str] = set()

    def firing(self) -> list[AlertState]:
        return [s for s in self.states.values() if s.state == "firing"]

    def update(self, findings: list[Finding], now: datetime, accounts_in_window: set[str | None], *,
               full: bool = True, as_of: datetime | None = None) -> list[AlertEvent]:
        """Events for one evaluation (``full=False``: a fast pass over recent rows only).

        ``as_of`` is when the evaluated evidence was snapshotted (a full pass
        computed in the background): a problem whose state changed after that
        is left alone, since newer evidence already decided it.
        """
        current: dict[str, Finding] = {}
        for f in findings:  # sorted worst first by run_checks
            if severity_at_least(f.severity, self.min_severity):
                current.setdefault(f.fingerprint, f)
        active = {fp for fp, f in current.items() if f.ongoing is not False}
        if not full:
            self._fast_active = active
        events: list[AlertEvent] = []
        for fp, f in current.items():
            d = redact_obj(finding_dict(f))
            st = self.states.get(fp)
            if as_of is not None and st is not None and self._changed_at(st) > as_of:
                continue
            if f.ongoing is not False:
                if st is not None:
                    st.clear_since = None
                if st is None or st.state == "resolved":
                    st = self._start(fp, f, d, now)
                    events.append(self._event(st, "firing", False, now, d))
                elif full and self.remind is not None and now - st.last_notified_at >= self.remind:
                    events.append(self._event(st, "firing", True, now, d))
                else:
                    st.finding = d
            elif st is not None and st.state == "firing" and self._settled(st, now):
                events.append(self._resolve(st, now, d))
        if not full:
            return events
        for fp, st in list(self.states.items()):
            if as_of is not None and self._changed_at(st) > as_of:
                continue
            if st.state == "firing" and fp not in current and fp not in self._fast_active and st.account in accounts_in_window:
                if self._settled(st, now):
                    gone = dict(st.finding, ongoing=False)
                    events.append(self._resolve(st, now, gone))
        return events

    def _settled(self, st: AlertState, now: datetime) -> bool:
        """True once ``st`` has looked over for :attr:`settle` (the first such look starts the clock)."""
        if st.clear_since is None:
            st.clear_since = now
        return now - st.clear_since >= self.settle

    @staticmethod
    def _changed_at(st: AlertState) -> datetime:
        return max(st.started_at, st.resolved_at) if st.resolved_at else st.started_at

    def _start(self, fp: str, f: Finding, d: dict[str, Any], now: datetime) -> AlertState:
        old = self.states.get(fp)
        st = AlertState(fp, f.rule, f.account, "firing", f.severity, now, now, finding=d,
                        row_id=old.row_id if old else None, notifications=old.notifications if old else 0)
        self.states[fp] = st
        return st

    def _event(self, st: AlertState, state: str, reminder: bool, now: datetime, d: dict[str, Any]) -> AlertEvent:
        st.finding = d
        st.severity = d.get("severity", st.severity)
        st.last_notified_at = now
        st.notifications += 1
        st.dirty = True
        return AlertEvent(st.fingerprint, st.rule, st.account, st.severity, state, reminder, now, d)

    def _resolve(self, st: AlertState, now: datetime, d: dict[str, Any]) -> AlertEvent:
        st.state = "resolved"
        st.resolved_at = now
        return self._event(st, "resolved", False, now, d)

    def dirty(self) -> list[AlertState]:
        return [s for s in self.states.values() if s.dirty]
