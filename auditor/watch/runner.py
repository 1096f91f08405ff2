"""The watch loop: hints in, alerts out, one durable transaction per cycle.

One cycle (main thread only):

1. wait for a hint from the observer, a quiet-period deadline, the timer
   tick or the safety scan (cycles are spaced by at least ``min_cycle_s`` and
   by the cost of the previous cycle, so a flood of writes is read in batches
   and the watcher stays under one core);
2. rescan when something unknown changed or the safety scan is due;
3. read every followed file, hand complete records to the window;
4. evaluate: :func:`auditor.pipeline.run_checks` (the same checks and ruleset
   as ``audit``) over the window plus the clock rows;
5. commit offsets, alert states and alerts together, then print and hand
   alerts to the webhook thread.
"""

from __future__ import annotations

import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Callable

from sqlalchemy.engine import Engine

from ..pipeline import run_checks
from ..problems import PluginProblem, describe
from ..registry import Registry
from ..ruleset import Ruleset
from .alerts import AlertBook
from .delivery import StdoutSink, WebhookSender
from .observer import WAKE, start_observer, stop_observer
from .persist import (acquire_lease, commit_cycle, forget_stale, load_checkpoints, load_roots, load_states,
                      pending_webhooks, prepare, release_lease, renew_lease, save_roots)
from .tailer import Tailer, make_specs, root_key
from .window import Window, with_clock


@dataclass
class WatchConfig:
    paths: list[str]
    fmt: str = "text"
    poll: bool = False
    poll_interval: float = 1.0
    from_beginning: bool = False
    remind_s: float | None = 1800.0
    #: a firing alert is resolved only after its problem has looked over this long
    resolve_after_s: float = 60.0
    window_s: float = 3600.0
    window_rows: int = 200_000
    quiet_s: float = 1.0
    tick_s: float = 5.0
    scan_s: float = 10.0
    rotate_wait_s: float = 5.0
    min_cycle_s: float = 0.2
    #: the fast pass of each cycle covers rows that arrived in the last ``fast_s`` (at most ``fast_rows``)
    fast_s: float = 60.0
    fast_rows: int = 10_000
    min_severity: str = "low"
    force_source: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    webhook: str | None = None
    webhook_grace_s: float = 3.0


@dataclass
class WatchSummary:
    started: datetime
    ended: datetime | None = None
    files: int = 0
    lines: int = 0
    bytes: int = 0
    records: int = 0
    skipped_lines: int = 0
    long_lines: int = 0
    rotations: int = 0
    truncations: int = 0
    copies_skipped: int = 0
    evaluations: int = 0
    failed_evaluations: int = 0
    firing: int = 0
    reminders: int = 0
    resolved: int = 0
    open_alerts: int = 0
    webhook_sent: int = 0
    webhook_failed: int = 0
    webhook_pending: int = 0
    problems: list[PluginProblem] = field(default_factory=list)

    def text(self) -> str:
        secs = ((self.ended or datetime.now(UTC)) - self.started).total_seconds()
        parts = [
            f"watch stopped after {secs:.0f}s: {self.files} file(s) followed, {self.lines} line(s) read "
            f"({self.records} records, {self.skipped_lines} skipped, {self.long_lines} over-long)",
            f"{self.firing} alert(s) raised, {self.reminders} reminder(s), {self.resolved} resolved, "
            f"{self.open_alerts} still firing",
        ]
        if self.rotations or self.truncations or self.copies_skipped:
            parts.append(f"{self.rotations} rename(s), {self.truncations} truncation(s), {self.copies_skipped} copy(ies) not re-read")
        if self.webhook_sent or self.webhook_failed or self.webhook_pending:
            parts.append(f"webhook: {self.webhook_sent} sent, {self.webhook_failed} failed, {self.webhook_pending} pending")
        if self.failed_evaluations:
            parts.append(f"{self.failed_evaluations} evaluation(s) failed")
        if self.problems:
            parts.append(f"{len(self.problems)} plugin problem(s)")
        return "; ".join(parts) + "."


#: How often the store lease is renewed (well inside persist.LEASE_TTL).
LEASE_RENEW_S = 5.0


class Watcher:
    def __init__(self, config: WatchConfig, registry: Registry, ruleset: Ruleset, engine: Engine, *,
                 sink: Any = None, note: Callable[[str], None] | None = None):
        self.config = config
        self.registry = registry
        self.ruleset = ruleset
        self.engine = engine
        self.sink = sink or StdoutSink(config.fmt)
        self.note = note or (lambda msg: None)
        self.hints: queue.Queue[str] = queue.Queue()
        self._holder = uuid.uuid4().hex  # this watcher, in the store lease
        self._stop = threading.Event()
        self.summary = WatchSummary(started=datetime.now(UTC))
        self.ready = threading.Event()  # set once the initial scan is committed
        self._problems_seen: set[PluginProblem] = set()
        self._notes_seen: set[str] = set()
        self._marks: dict[int, tuple[int, int] | None] = {}
        self._webhook_results: list[tuple[int | None, str, int]] = []
        self._job: _FullPass | None = None

    def stop(self) -> None:
        self._stop.set()
        self.hints.put(WAKE)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- main ----------------------------------------------------------------------
    def run(self) -> WatchSummary:
        cfg = self.config
        prepare(self.engine)
        specs = make_specs(cfg.paths)
        acquire_lease(self.engine, self._holder, list(cfg.paths))  # raises StoreBusy: one watcher per store
        try:
            return self._run(specs)
        finally:
            try:
                release_lease(self.engine, self._holder)
            except Exception:  # noqa: BLE001 - best effort at shutdown; the lease expires anyway
                pass

    def _run(self, specs) -> WatchSummary:
        cfg = self.config
        self.window = Window(self.registry, dict(cfg.options), cfg.window_s, cfg.window_rows)
        self.book = AlertBook(load_states(self.engine),
                              remind=timedelta(seconds=cfg.remind_s) if cfg.remind_s else None,
                              min_severity=cfg.min_severity, settle=timedelta(seconds=cfg.resolve_after_s))
        self.tailer = Tailer(
            specs, self.registry.sources, force_source=cfg.force_source, from_beginning=cfg.from_beginning,
            known_roots=load_roots(self.engine), checkpoints=load_checkpoints(self.engine), quiet_s=cfg.quiet_s,
            rotate_wait_s=cfg.rotate_wait_s, relabel=self.window.relabel, note=self.note, problems=self.window.problems,
        )
        observer = start_observer(specs, self.hints, poll=cfg.poll, poll_interval=cfg.poll_interval, note=self.note)
        sender = WebhookSender(cfg.webhook) if cfg.webhook else None
        self.sender = sender
        try:
            self.tailer.scan(initial=True)
            stale = forget_stale(self.engine, self.tailer.unbound)
            if self.tailer.unbound:
                self.note(f"{len(self.tailer.unbound)} checkpoint(s) matched no file (rotated away or deleted while stopped)"
                          + (f"; {stale} older than 14 days forgotten" if stale else ""))
            for t in self.tailer.files.values():
                t.dirty = True
            warm = self.tailer.warm_chunks()
            if warm:
                self.window.parse(warm)
            if sender is not None:
                for alert_id, payload in pending_webhooks(self.engine):
                    sender.send(alert_id, payload)
            self.note(f"watching {len(specs)} path(s), {len(self.tailer.files)} file(s)"
                      f" ({'polling' if cfg.poll else 'native notifications'}); Ctrl-C to stop")
            self._loop(specs)
        finally:
            stop_observer(observer)
            if sender is not None:
                sender.close(cfg.webhook_grace_s)
                self._webhook_results.extend(sender.results())
                try:
                    commit_cycle(self.engine, [], {}, [], [], [], False, self._drain_results())
                except Exception:  # noqa: BLE001 - best effort at shutdown
                    pass
            self.tailer.close()
            self._finish_summary()
        return self.summary

    def _loop(self, specs) -> None:
        cfg = self.config
        now = time.monotonic()
        next_tick = now + cfg.tick_s
        next_scan = now + cfg.scan_s
        next_lease = now + LEASE_RENEW_S
        last_cycle_end = 0.0
        spacing = cfg.min_cycle_s
        first = True
        while not self._stop.is_set():
            if not first:
                deadlines = [next_tick, next_scan]
                d = self.tailer.next_deadline()
                if d is not None:
                    deadlines.append(d)
                timeout = min(max(0.0, min(deadlines) - time.monotonic()), 1.0)
                self._wait_hints(timeout)
                if self._stop.is_set():
                    break
                gap = spacing - (time.monotonic() - last_cycle_end)
                if gap > 0 and self._stop.wait(gap):
                    break
                self._wait_hints(0)
            start = time.monotonic()
            if start >= next_lease:
                if not renew_lease(self.engine, self._holder):
                    self.note("another watcher took over this store; stopping")
                    break
                next_lease = start + LEASE_RENEW_S
            if self.tailer.rescan or start >= next_scan:
                self.tailer.scan()
                next_scan = start + cfg.scan_s
            chunks = self.tailer.poll()
            if self.tailer.rescan:  # a truncation seen while reading: settle it now
                self.tailer.scan()
                chunks += self.tailer.poll()
            if chunks:
                self.window.parse(chunks)
            self.window.trim()
            if self.sender is not None:
                self._webhook_results.extend(self.sender.results())
            small = self.window.covers_all(cfg.fast_s, cfg.fast_rows)
            full_due = first or start >= next_tick or (small and chunks)
            if full_due and not small and not first:
                # a big window: the full pass runs on a worker thread over a snapshot (Polars
                # releases the GIL), while this thread keeps reading and running fast passes
                if self._job is None:
                    self._job = self._start_full_pass()
                full_due = False
                next_tick = float("inf")
            job_done = self._job is not None and not self._job.is_alive()
            if full_due or chunks or job_done or self.tailer.dirty_files() or self.tailer.deleted_rows or self._webhook_results:
                self._evaluate_and_commit(full=full_due, fresh=bool(chunks))
                if full_due:
                    next_tick = time.monotonic() + cfg.tick_s
            if job_done:
                job, self._job = self._job, None
                if job.error is None and job.result is not None:
                    self._apply(*job.result, full=True, as_of=job.as_of)
                elif job.error is not None:
                    self._evaluation_failed(job.error)
                # spaced by its own cost, so a big window never eats the CPU
                next_tick = time.monotonic() + max(cfg.tick_s, 2 * job.cost)
            if first:
                save_roots(self.engine, [root_key(s) for s in specs])
                self.ready.set()
                first = False
            last_cycle_end = time.monotonic()
            spacing = max(cfg.min_cycle_s, last_cycle_end - start)

    def _wait_hints(self, timeout: float) -> None:
        try:
            h = self.hints.get(timeout=timeout) if timeout > 0 else self.hints.get_nowait()
        except queue.Empty:
            return
        while True:
            if h:
                self.tailer.hint(h)
            try:
                h = self.hints.get_nowait()
            except queue.Empty:
                return

    def _drain_results(self) -> list[tuple[int | None, str, int]]:
        out, self._webhook_results = self._webhook_results, []
        for _, status, _ in out:
            if status == "sent":
                self.summary.webhook_sent += 1
            elif status == "failed":
                self.summary.webhook_failed += 1
        return out

    def _start_full_pass(self) -> "_FullPass":
        segments = list(self.window.segments)
        now = datetime.now(UTC)
        notes = self.window.notes()
        job = _FullPass(lambda: self._compute(self.window.snapshot_frame(segments), now, notes), as_of=now)
        job.start()
        return job

    def _compute(self, frame, now: datetime, notes: list[str] | None = None) -> tuple[list, set, list[PluginProblem], datetime]:
        """Run the checks over ``frame`` plus the clock rows (no state touched: may run on a worker)."""
        problems: list[PluginProblem] = []
        if frame.is_empty():
            return [], set(), problems, now
        findings = run_checks(with_clock(frame, now), self.registry, self.ruleset, options=self.config.options,
                              notes=self.window.notes() if notes is None else notes, problems=problems)
        return findings, set(frame["account"].unique().to_list()), problems, now

    def _evaluate_and_commit(self, *, full: bool = True, fresh: bool = True) -> None:
        now = datetime.now(UTC)
        try:
            if full:
                result = self._compute(self.window.frame(), now)
            elif fresh:
                result = self._compute(self.window.recent_frame(self.config.fast_s, self.config.fast_rows), now)
            else:
                result = None  # nothing new and no full pass due: only commit state
        except Exception as exc:  # noqa: BLE001 - one bad evaluation must not stop monitoring
            # the offsets still commit (the window keeps its rows): a restart would
            # only meet the same data again, so dying here would crash-loop
            self._evaluation_failed(exc)
            result = None
        if result is None:
            self._apply([], set(), [], now, full=False, evaluated=False)
        else:
            self._apply(*result, full=full)

    def _evaluation_failed(self, exc: BaseException) -> None:
        """Say once per kind of failure that an evaluation failed; the watcher goes on."""
        self.summary.failed_evaluations += 1
        self._report_problems([PluginProblem("capi-audit", "watch evaluation", describe(exc))])

    def _apply(self, findings: list, accounts: set, problems: list[PluginProblem], now: datetime, *, full: bool,
               as_of: datetime | None = None, evaluated: bool = True) -> None:
        """Alert transitions for one evaluation, committed with the offsets; then deliver."""
        if evaluated:
            self.summary.evaluations += 1
        self._report_problems(problems + self.window.problems + self.tailer.problems)
        for n in self.window.notes():
            key = re.sub(r"\d+", "#", n)[:160]  # the same note with new counts is not news
            if key not in self._notes_seen:
                self._notes_seen.add(key)
                self.note(n)
        events = self.book.update(findings, datetime.now(UTC) if as_of else now, accounts, full=full, as_of=as_of) if evaluated else []
        files = []
        for t in self.tailer.files.values():
            if t.source is None:
                continue
            mark = self.window.mark(t.uid)
            if t.dirty or self._marks.get(t.uid) != mark:
                files.append(t)
                self._marks[t.uid] = mark
        marks = {t.uid: self._marks.get(t.uid) for t in files}
        commit_cycle(self.engine, files, marks, self.tailer.deleted_rows, self.book.dirty(), events,
                     self.sender is not None, self._drain_results())
        for ev in events:
            payload = ev.payload()
            if ev.state == "resolved":
                self.summary.resolved += 1
            elif ev.reminder:
                self.summary.reminders += 1
            else:
                self.summary.firing += 1
            self.sink.write(payload)
            if self.sender is not None:
                self.sender.send(ev.alert_id, payload)

    def _report_problems(self, problems: list[PluginProblem]) -> None:
        for p in problems:
            if p not in self._problems_seen:
                self._problems_seen.add(p)
                self.summary.problems.append(p)
                self.note(f"plugin problem: {p.plugin} ({p.what}): {p.error}")

    def _finish_summary(self) -> None:
        s, t = self.summary, self.tailer.stats
        s.ended = datetime.now(UTC)
        s.files, s.lines, s.bytes, s.long_lines = t.files, t.lines, t.bytes, t.long_lines
        s.rotations, s.truncations, s.copies_skipped = t.rotations, t.truncations, t.copies_skipped
        s.records = self.window.records
        s.skipped_lines = self.window.summary.skipped_lines
        s.open_alerts = len(self.book.firing())
        if self.sender is not None:
            from .persist import pending_webhooks as _pending

            try:
                s.webhook_pending = len(_pending(self.engine))
            except Exception:  # noqa: BLE001
                pass


class _FullPass(threading.Thread):
    """One full-window evaluation computed off the main thread (no store, no tailer, no alert state)."""

    def __init__(self, fn: Callable[[], Any], as_of: datetime):
        super().__init__(name="capi-audit-full-pass", daemon=True)
        self.fn = fn
        self.as_of = as_of
        self.result: Any = None
        self.error: BaseException | None = None
        self.cost = 0.0

    def run(self) -> None:
        t0 = time.monotonic()
        try:
            self.result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
        self.cost = time.monotonic() - t0
