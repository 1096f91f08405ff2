"""SQLModel tables of watch mode: file checkpoints, alert states and alerts.

They live in the same database as the audit history (``--db`` /
``CAPI_AUDIT_DB``) and are created by :func:`ensure_tables` on the engine of
:func:`auditor.store.get_engine`.  All datetimes are UTC-aware (SQLModel
>= 0.0.45 rejects naive ones).  Nothing stored here holds personal data: alert
payloads are redacted before they are written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class WatchCheckpoint(SQLModel, table=True):
    """How far one file has been read, parsed, checked and committed.

    A file is identified Vector/Fluent Bit style by device + inode *and* a
    fingerprint (SHA-256 of its first ``fp_len`` bytes, at most 256), so inode
    reuse and copies are told apart.  ``offset``/``line`` point just past the
    last byte whose rows were evaluated; ``window_offset``/``window_line`` point
    at the oldest byte still inside the sliding evaluation window (re-read on
    restart to rebuild the window, never to raise alerts twice).
    """

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(index=True)
    dev: int
    inode: int = Field(index=True)
    fingerprint: str = Field(index=True)
    fp_len: int = 0
    source: str | None = None
    offset: int = 0
    line: int = 1
    window_offset: int = 0
    window_line: int = 1
    updated_at: datetime = Field(default_factory=utcnow)


class WatchRoot(SQLModel, table=True):
    """A path given to ``watch`` before: files found under it at start-up that
    have no checkpoint appeared while the watcher was stopped, so they are read
    from their beginning instead of from their end."""

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(index=True, unique=True)
    first_seen: datetime = Field(default_factory=utcnow)


class WatchAlertState(SQLModel, table=True):
    """Current state of one problem (rule + account): firing or resolved."""

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(index=True, unique=True)
    rule: str
    account: str | None = None
    state: str = "firing"  # firing | resolved
    severity: str = "info"
    started_at: datetime = Field(default_factory=utcnow)
    last_notified_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    notifications: int = 0
    finding: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class WatchAlert(SQLModel, table=True):
    """One alert as it was emitted (firing, reminder or resolved), redacted."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    fingerprint: str = Field(index=True)
    rule: str = Field(index=True)
    account: str | None = None
    severity: str = "info"
    state: str = "firing"
    reminder: bool = False
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    #: ``none`` (no webhook configured), ``pending``, ``sent`` or ``failed``
    webhook_status: str = Field(default="none", index=True)
    webhook_attempts: int = 0




class WatchLease(SQLModel, table=True):
    """Who watches with this store now: one row, renewed every few seconds.

    Two watchers on one store would read the same files and send every alert
    twice; the second one is refused while the lease is held (a holder that
    stopped renewing, or whose process is gone on this host, has lost it)."""

    id: int = Field(default=1, primary_key=True)
    holder: str
    host: str
    pid: int
    paths: str = ""
    renewed_at: datetime = Field(default_factory=utcnow)


TABLES = (WatchCheckpoint, WatchRoot, WatchAlertState, WatchAlert, WatchLease)


def ensure_tables(engine: Engine) -> None:
    """Create the watch tables on ``engine`` if they do not exist yet."""
    SQLModel.metadata.create_all(engine, tables=[t.__table__ for t in TABLES])  # type: ignore[attr-defined]
