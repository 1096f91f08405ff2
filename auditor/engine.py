"""Run an audit: inputs -> sources -> canonical frame -> checks -> findings.

The engine only talks to plugins through the registered :class:`Source` and
:class:`Check` objects.  Plugin failures are contained: the plugin is named in
``problems`` and the other plugins' results still come out, unless ``strict``.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import polars as pl

from .findings import SEVERITY_RANK, Finding
from .ingest.inputs import InputUnit
from .ingest.reader import REJECT_SCHEMA, ReadStats, read_batches
from .ingest.sniff import pick_source
from .redact import redact_text
from .registry import CheckContext, ParseContext, PluginProblem, Registry
from .ruleset import Ruleset
from .schema import SchemaError, compact, conform, empty_frame

MAX_ERRORS = 200


class StrictModeError(RuntimeError):
    """A plugin failed while ``--strict`` was given."""


@dataclass
class InputSummary:
    files: int = 0
    records: int = 0
    skipped_lines: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_total: int = 0
    unrecognised_files: int = 0

    def add_errors(self, rejects: pl.DataFrame) -> None:
        if rejects.is_empty():
            return
        self.errors_total += rejects.height
        room = MAX_ERRORS - len(self.errors)
        if room > 0:
            for f, ln, reason in rejects.head(room).iter_rows():
                self.errors.append({"file": f, "line": int(ln or 0), "reason": redact_text(reason)})

    def add_error(self, file: str, line: int, reason: str) -> None:
        self.add_errors(pl.DataFrame({"file": [file], "line": [line], "reason": [reason]}, schema=REJECT_SCHEMA))


@dataclass
class AuditResult:
    frame: pl.DataFrame
    findings: list[Finding]
    inputs: InputSummary
    window_start: datetime | None
    window_end: datetime | None
    ruleset: Ruleset
    notes: list[str] = field(default_factory=list)
    problems: list[PluginProblem] = field(default_factory=list)


def _normalise_parse_output(out: Any) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    if isinstance(out, tuple) and len(out) == 2:
        return out[0], out[1]
    return out, None


#: Batches of one thread-safe source parsed at once (Polars releases the GIL).
PARSE_WORKERS = 2


def _parse_batch(source: Any, batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """One batch through the source's parse and the canonical schema."""
    rows, bad = _normalise_parse_output(source.parse(batch, ctx))
    # low-cardinality columns are stored compactly while the batches wait
    # for finalize: that is what finalize gets (see schema.COMPACT_COLUMNS)
    return conform(rows, keep_private=True, compacted=True), bad


def _parse_outcome(source: Any, batch: pl.DataFrame, ctx: ParseContext) -> Any:
    try:
        return _parse_batch(source, batch, ctx)
    except Exception as exc:  # noqa: BLE001 - plugin code, reported by the caller
        return exc


def parse_units(
    units: list[InputUnit],
    registry: Registry,
    *,
    force_source: str | None = None,
    options: dict[str, Any] | None = None,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[pl.DataFrame, InputSummary, list[str], list[PluginProblem]]:
    """Read every unit with its source; return the canonical frame (finalized
    per source), the input summary, notes and plugin problems."""
    options = dict(options or {})
    summary = InputSummary(files=len(units))
    problems: list[PluginProblem] = list(registry.problems)
    contexts: dict[str, ParseContext] = {}
    per_source: dict[str, list[pl.DataFrame]] = {}

    def fail(plugin: str, what: str, exc: BaseException) -> None:
        problem = PluginProblem(plugin, what, redact_text(f"{type(exc).__name__}: {exc}"))
        if strict:
            raise StrictModeError(f"plugin {plugin!r} failed in {what}: {problem.error}") from exc
        problems.append(problem)

    pool = ThreadPoolExecutor(max_workers=PARSE_WORKERS, thread_name_prefix="capi-audit-parse")
    for unit in units:
        stats = ReadStats()
        try:
            if force_source:
                source = registry.sources[force_source]
            else:
                source, _ = pick_source(unit, registry.sources, problems)
        except (OSError, EOFError, ValueError) as exc:
            summary.add_error(unit.name, 0, f"cannot read: {type(exc).__name__}: {exc}")
            continue
        if source is None:
            summary.unrecognised_files += 1
            summary.add_error(unit.name, 0, "no source plugin recognises this file (use --source to force one)")
            continue
        ctx = contexts.setdefault(source.name, ParseContext(source=source.name, options=options))
        pending: deque = deque()  # (batch, future) parsed on the pool, handled in input order

        def handle(batch: pl.DataFrame, outcome: Any) -> None:
            if isinstance(outcome, BaseException):
                fail(source.plugin, f"parse {source.name} ({unit.name})", outcome)
                summary.add_error(unit.name, int(batch["line"][0]), f"source {source.name} failed on this batch")
                return
            rows, bad = outcome
            if bad is not None and not bad.is_empty():
                bad = bad.select(
                    pl.col("file").cast(pl.String), pl.col("line").cast(pl.Int64), pl.col("reason").cast(pl.String)
                )
                summary.add_errors(bad)
                summary.skipped_lines += bad.height
            if rows.height:
                rows = rows.with_columns(pl.lit(source.name).alias("source"))
                per_source.setdefault(source.name, []).append(rows)

        def drain(keep: int) -> None:
            while len(pending) > keep:
                batch, future = pending.popleft()
                handle(batch, future.exception() or future.result())

        try:
            for batch, rejects in read_batches(unit, source.framing, source.entry_start, stats=stats):
                summary.add_errors(rejects)
                summary.skipped_lines += rejects.height
                if batch.is_empty():
                    continue
                if source.thread_safe_parse:
                    pending.append((batch, pool.submit(_parse_batch, source, batch, ctx)))
                    drain(PARSE_WORKERS)  # bounded: at most this many batches in flight
                else:
                    handle(batch, _parse_outcome(source, batch, ctx))
            drain(0)
        except StrictModeError:
            raise
        except Exception as exc:  # noqa: BLE001 - broken gzip/zip member, truncated archive, zlib.error
            drain(0)  # what was read before the break still counts
            summary.add_error(unit.name, stats.lines, f"stopped reading: {type(exc).__name__}: {exc}")
        finally:
            for _, future in pending:  # only after a strict-mode failure: stop what is in flight
                future.cancel() or future.exception()
        if progress:
            progress(unit.size)
    pool.shutdown(wait=True)

    frames = []
    for name in sorted(per_source):
        source = registry.sources[name]
        df = pl.concat(per_source.pop(name), how="diagonal_relaxed")  # the parts go with it
        if source.finalize is not None:
            try:
                df = source.finalize(df, contexts[name])
            except Exception as exc:  # noqa: BLE001 - plugin code
                fail(source.plugin, f"finalize {name}", exc)
        try:
            df = conform(df, own_strings=False, compacted=True)  # batches own their strings since parse
        except SchemaError as exc:
            fail(source.plugin, f"finalize {name}", exc)
            continue
        summary.by_source[name] = df.height
        frames.append(df)
        del df  # only `frames` may hold the columns now (see _sorted_by_time)
    box = [pl.concat(frames) if frames else empty_frame()]
    frames.clear()
    # the box hands over the only reference; account falls back to pixel, then shop
    frame = compact(_sorted_by_time(box, account=pl.coalesce("account", "pixel_id", "shop")))
    summary.records = frame.height
    notes = [n for name in sorted(contexts) for n in contexts[name].notes]
    return frame, summary, notes, problems


def _sorted_by_time(box: list[pl.DataFrame], **replace: pl.Expr) -> pl.DataFrame:
    """``frame`` sorted by logged_at, file, line, one column at a time.

    ``DataFrame.sort`` materialises every sorted column while the unsorted ones
    are still alive (about one extra copy of the frame at the peak).  Sorting
    narrow keys and gathering column by column, releasing each old column as it
    goes, keeps the extra memory to about one column.  The frame comes in a
    one-item list that is emptied, so no caller variable keeps the old columns.
    ``replace`` gives columns computed on the way (``with_columns`` on a frame
    whose columns are chunked differently would copy every column first).
    """
    frame = box.pop()
    replaced = {name: frame.select(expr.alias(name)).to_series() for name, expr in replace.items()}
    order = frame.select(
        pl.arg_sort_by(["logged_at", "file", "line"], nulls_last=True, maintain_order=True).alias("i")
    ).get_column("i")
    columns = [replaced.pop(c.name, c) for c in frame.get_columns()]
    del frame
    out = []
    for i in range(len(columns)):
        col, columns[i] = columns[i], None
        out.append(col.gather(order))
        del col
    return pl.DataFrame(out)


def run_checks(
    frame: pl.DataFrame,
    registry: Registry,
    ruleset: Ruleset,
    *,
    options: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    strict: bool = False,
    problems: list[PluginProblem] | None = None,
) -> list[Finding]:
    """Run every enabled check over ``frame`` and return sorted findings."""
    problems = problems if problems is not None else []
    times = frame["logged_at"].drop_nulls()
    ctx = CheckContext(
        frame=frame,
        ruleset=ruleset,
        window_start=times.min() if len(times) else None,
        window_end=times.max() if len(times) else None,
        options=dict(options or {}),
        notes=notes if notes is not None else [],
    )
    kinds = set(frame["kind"].unique().to_list())
    findings: list[Finding] = []
    for name in sorted(registry.checks):
        check = registry.checks[name]
        if not any(ruleset.enabled(r) for r in check.rules):
            continue
        if check.needs and not kinds.intersection(check.needs):
            continue
        try:
            produced = list(check.run(ctx) or [])
            for f in produced:
                if not isinstance(f, Finding):
                    raise TypeError(f"check returned {type(f).__name__}, expected auditor.Finding")
                if f.rule not in ruleset.rows:
                    raise ValueError(f"finding for unknown diagnosis row {f.rule!r}")
        except Exception as exc:  # noqa: BLE001 - plugin code
            msg = redact_text(f"{type(exc).__name__}: {exc}")
            if strict:
                raise StrictModeError(f"check {name!r} ({check.plugin}) failed: {msg}") from exc
            problems.append(PluginProblem(check.plugin, f"check {name}", msg))
            continue
        findings.extend(f for f in produced if ruleset.enabled(f.rule))
    findings.sort(key=lambda f: (SEVERITY_RANK[f.severity], f.rule, f.account or "", f.first_seen.isoformat() if f.first_seen else ""))
    return findings


def audit(
    units: list[InputUnit],
    registry: Registry,
    ruleset: Ruleset,
    *,
    force_source: str | None = None,
    options: dict[str, Any] | None = None,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    """The whole batch audit."""
    frame, summary, notes, problems = parse_units(
        units, registry, force_source=force_source, options=options, strict=strict, progress=progress
    )
    findings = run_checks(frame, registry, ruleset, options=options, notes=notes, strict=strict, problems=problems)
    times = frame["logged_at"].drop_nulls()
    return AuditResult(
        frame=frame,
        findings=findings,
        inputs=summary,
        window_start=times.min() if len(times) else None,
        window_end=times.max() if len(times) else None,
        ruleset=ruleset,
        notes=notes,
        problems=problems,
    )
