"""Audit history in SQLModel: runs and their (redacted) findings.

The default database is an embedded SQLite file in the user's data directory
(``CAPI_AUDIT_DB`` or ``--db URL`` choose another SQLAlchemy URL).  Only the
redacted report dict is stored, so the database never holds personal data.
``history diff A B`` compares findings by fingerprint (rule + account).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import JSON, Column, event
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from .findings import fingerprint


class AuditRun(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC), index=True)
    tool_version: str
    ruleset: str
    paths: str  # redacted, newline separated
    window_start: str | None = None
    window_end: str | None = None
    records: int = 0
    files: int = 0
    exit_code: int = 0
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class FindingRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="auditrun.id", index=True)
    fingerprint: str = Field(index=True)
    rule: str = Field(index=True)
    severity: str
    account: str | None = None
    subject: str | None = None
    count: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    ongoing: bool | None = None
    summary: str = ""


def default_db_url() -> str:
    env = os.environ.get("CAPI_AUDIT_DB")
    if env:
        return env
    path = Path(user_data_dir("capi-auditor", appauthor=False)) / "audit.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the process; tables are created on first use."""
    url = url or default_db_url()
    engine = _ENGINES.get(url)
    if engine is None:
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.close()
        SQLModel.metadata.create_all(engine)
        _ENGINES[url] = engine
    return engine


def _fingerprint(f: dict[str, Any]) -> str:
    return fingerprint(f["rule"], f.get("account"), f.get("subject"))


def save_run(engine: Engine, report: dict[str, Any], paths: list[str], exit_code: int) -> int:
    """Store one redacted report and its findings; return the run id."""
    from .redact import redact_text

    with Session(engine) as session:
        run = AuditRun(
            tool_version=report["tool"]["version"],
            ruleset=f"{report['ruleset']['name']} {report['ruleset']['version']}",
            paths="\n".join(redact_text(p) for p in paths),
            window_start=report["window"]["start"],
            window_end=report["window"]["end"],
            records=report["inputs"]["records"],
            files=report["inputs"]["files"],
            exit_code=exit_code,
            report=json.loads(json.dumps(report)),
        )
        session.add(run)
        session.flush()
        for f in report["findings"]:
            session.add(FindingRecord(
                run_id=run.id, fingerprint=_fingerprint(f), subject=f.get("subject"), rule=f["rule"], severity=f["severity"],
                account=f["account"], count=f["count"], first_seen=f["first_seen"], last_seen=f["last_seen"],
                ongoing=f.get("ongoing"), summary=f["summary"],
            ))
        session.commit()
        return int(run.id)


def list_runs(engine: Engine, limit: int = 20) -> list[tuple[AuditRun, int]]:
    with Session(engine) as session:
        runs = session.exec(select(AuditRun).order_by(col(AuditRun.id).desc()).limit(limit)).all()
        out = []
        for run in runs:
            n = len(session.exec(select(FindingRecord.id).where(FindingRecord.run_id == run.id)).all())
            session.expunge(run)
            out.append((run, n))
        return out


def get_findings(engine: Engine, run_id: int) -> list[FindingRecord]:
    with Session(engine) as session:
        if session.get(AuditRun, run_id) is None:
            raise LookupError(f"no audit run with id {run_id}")
        rows = session.exec(select(FindingRecord).where(FindingRecord.run_id == run_id).order_by(FindingRecord.fingerprint)).all()
        for r in rows:
            session.expunge(r)
        return list(rows)


def diff_runs(engine: Engine, a: int, b: int) -> dict[str, list[dict[str, Any]]]:
    """Findings new in ``b``, resolved since ``a``, and changed (severity,
    count or ongoing state) between the two runs."""
    old = {f.fingerprint: f for f in get_findings(engine, a)}
    new = {f.fingerprint: f for f in get_findings(engine, b)}

    def brief(f: FindingRecord) -> dict[str, Any]:
        return {"rule": f.rule, "account": f.account, "subject": f.subject, "severity": f.severity, "count": f.count,
                "ongoing": f.ongoing, "summary": f.summary}

    changed = []
    for fp in sorted(old.keys() & new.keys()):
        o, n = old[fp], new[fp]
        deltas = {k: [getattr(o, k), getattr(n, k)] for k in ("severity", "count", "ongoing") if getattr(o, k) != getattr(n, k)}
        if deltas:
            changed.append({**brief(n), "changes": deltas})
    return {
        "new": [brief(new[fp]) for fp in sorted(new.keys() - old.keys())],
        "resolved": [brief(old[fp]) for fp in sorted(old.keys() - new.keys())],
        "changed": changed,
    }
