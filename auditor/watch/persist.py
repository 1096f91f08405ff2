"""Reading and writing watch state in the store (main thread only).

:func:`commit_cycle` is the one transaction that makes a cycle durable: the
new offsets of every file, the alerts those bytes produced and the alert
states.  A ``kill -9`` before it commits loses nothing (the bytes are read
again and give the same alerts); after it, nothing is read or raised twice.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from .alerts import AlertEvent, AlertState
from .models import WatchAlert, WatchAlertState, WatchCheckpoint, WatchLease, WatchRoot, ensure_tables, utcnow
from .tailer import TrackedFile

#: Checkpoints of files not seen for this long are forgotten.
CHECKPOINT_TTL = timedelta(days=14)


def prepare(engine: Engine) -> None:
    ensure_tables(engine)


def forget_stale(engine: Engine, unbound: list[dict[str, Any]]) -> int:
    """Delete checkpoints no file matched at start-up and that are older than the TTL."""
    old = [cp["id"] for cp in unbound if _aware(cp["updated_at"]) < utcnow() - CHECKPOINT_TTL]
    if old:
        with Session(engine) as s:
            s.exec(delete(WatchCheckpoint).where(col(WatchCheckpoint.id).in_(old)))
            s.commit()
    return len(old)


def _aware(ts: datetime) -> datetime:
    from datetime import UTC

    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def load_checkpoints(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        return [r.model_dump() for r in s.exec(select(WatchCheckpoint).order_by(WatchCheckpoint.id)).all()]


def load_roots(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(s.exec(select(WatchRoot.path)).all())


def save_roots(engine: Engine, keys: Iterable[str]) -> None:
    with Session(engine) as s:
        have = set(s.exec(select(WatchRoot.path)).all())
        for k in keys:
            if k not in have:
                s.add(WatchRoot(path=k))
        s.commit()


def load_states(engine: Engine) -> list[AlertState]:
    with Session(engine) as s:
        rows = s.exec(select(WatchAlertState)).all()
        return [AlertState(r.fingerprint, r.rule, r.account, r.state, r.severity, r.started_at, r.last_notified_at,
                           r.resolved_at, r.notifications, dict(r.finding or {}), r.id) for r in rows]


def pending_webhooks(engine: Engine) -> list[tuple[int, dict[str, Any]]]:
    with Session(engine) as s:
        rows = s.exec(select(WatchAlert).where(WatchAlert.webhook_status == "pending").order_by(WatchAlert.id)).all()
        return [(int(r.id), dict(r.payload)) for r in rows]


def commit_cycle(
    engine: Engine,
    files: list[TrackedFile],
    marks: dict[int, tuple[int, int] | None],
    deleted_rows: list[int],
    states: list[AlertState],
    events: list[AlertEvent],
    webhook: bool,
    webhook_results: list[tuple[int | None, str, int]],
) -> None:
    """Offsets, alert states and alerts in one transaction; assigns ``alert_id`` to events."""
    now = utcnow()
    with Session(engine) as s:
        rows: list[tuple[TrackedFile, WatchCheckpoint]] = []
        for t in files:
            row = s.get(WatchCheckpoint, t.row_id) if t.row_id is not None else None
            if row is None:
                row = WatchCheckpoint(path=t.path, dev=t.dev, inode=t.ino, fingerprint=t.fp)
            mark = marks.get(t.uid) or (t.offset, t.line)
            row.path, row.dev, row.inode, row.fingerprint, row.fp_len = t.path, t.dev, t.ino, t.fp, t.fp_len
            row.source = t.source.name if t.source else None
            row.offset, row.line = t.offset, t.line
            row.window_offset, row.window_line = mark
            row.updated_at = now
            s.add(row)
            rows.append((t, row))
        for rid in deleted_rows:
            row = s.get(WatchCheckpoint, rid)
            if row is not None:
                s.delete(row)
        state_rows = []
        for st in states:
            row = s.get(WatchAlertState, st.row_id) if st.row_id is not None else None
            if row is None:
                row = s.exec(select(WatchAlertState).where(WatchAlertState.fingerprint == st.fingerprint)).first()
            if row is None:
                row = WatchAlertState(fingerprint=st.fingerprint, rule=st.rule)
            row.rule, row.account, row.state, row.severity = st.rule, st.account, st.state, st.severity
            row.started_at, row.last_notified_at, row.resolved_at = st.started_at, st.last_notified_at, st.resolved_at
            row.notifications, row.finding = st.notifications, st.finding
            s.add(row)
            state_rows.append((st, row))
        alert_rows = []
        for ev in events:
            row = WatchAlert(created_at=ev.at, fingerprint=ev.fingerprint, rule=ev.rule, account=ev.account,
                             severity=ev.severity, state=ev.state, reminder=ev.reminder, payload={},
                             webhook_status="pending" if webhook else "none")
            s.add(row)
            alert_rows.append((ev, row))
        for alert_id, status, attempts in webhook_results:
            if alert_id is None:
                continue
            row = s.get(WatchAlert, alert_id)
            if row is not None:
                row.webhook_status, row.webhook_attempts = status, row.webhook_attempts + attempts
                s.add(row)
        s.flush()
        for ev, row in alert_rows:
            ev.alert_id = int(row.id)
            row.payload = ev.payload()
        s.commit()
        for t, row in rows:
            t.row_id = int(row.id)
            t.dirty = False
        for st, row in state_rows:
            st.row_id = int(row.id)
            st.dirty = False
    deleted_rows.clear()


def alert_counts(engine: Engine, since: datetime) -> dict[str, int]:
    with Session(engine) as s:
        rows = s.exec(select(WatchAlert.webhook_status).where(col(WatchAlert.created_at) >= since)).all()
    out: dict[str, int] = {}
    for r in rows:
        out[r] = out.get(r, 0) + 1
    return out


#: A lease not renewed for this long is free (a renewal comes every few seconds).
LEASE_TTL = timedelta(seconds=30)


class StoreBusy(RuntimeError):
    """Another watcher holds this store."""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def acquire_lease(engine: Engine, holder: str, paths: list[str]) -> None:
    """Take the store for this watcher, or raise :class:`StoreBusy` naming the holder."""
    host = socket.gethostname()
    with Session(engine) as s:
        lease = s.get(WatchLease, 1)
        if lease is not None and lease.holder != holder:
            fresh = _aware(lease.renewed_at) > utcnow() - LEASE_TTL
            gone = lease.host == host and not _process_alive(lease.pid)
            if fresh and not gone:
                raise StoreBusy(
                    f"another capi-audit watch (pid {lease.pid} on {lease.host}, watching {lease.paths or '?'}) is "
                    "using this store; two watchers would send every alert twice. Stop it, or give this one "
                    "its own --db."
                )
        if lease is None:
            lease = WatchLease(id=1, holder=holder, host=host, pid=os.getpid(), paths=", ".join(paths)[:500])
        else:
            lease.holder, lease.host, lease.pid = holder, host, os.getpid()
            lease.paths, lease.renewed_at = ", ".join(paths)[:500], utcnow()
        s.add(lease)
        try:
            s.commit()
        except IntegrityError:  # another watcher inserted it at the same moment
            raise StoreBusy("another capi-audit watch took this store at the same moment; give each its own --db") from None


def renew_lease(engine: Engine, holder: str) -> bool:
    """Renew the lease; False when another watcher took it over (this one must stop)."""
    with Session(engine) as s:
        lease = s.get(WatchLease, 1)
        if lease is None or lease.holder != holder:
            return False
        lease.renewed_at = utcnow()
        s.add(lease)
        s.commit()
        return True


def release_lease(engine: Engine, holder: str) -> None:
    with Session(engine) as s:
        s.exec(delete(WatchLease).where(col(WatchLease.holder) == holder))
        s.commit()
