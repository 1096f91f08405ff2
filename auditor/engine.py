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
        del df  # only `frames` may hold the columns now (see _grouped_by_kind)
    frame = canonical_frame(frames)  # takes the per-source frames out of the list
    summary.records = frame.height
    notes = [n for name in sorted(contexts) for n in contexts[name].notes]
    return frame, summary, notes, problems


#: Sort key of the rows within each kind.
TIME_ORDER = ("logged_at", "file", "line")


def canonical_frame(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The frame checks see, from the finalized, canonical frames of the sources.

    Compact columns (:func:`auditor.schema.compact`), ``account`` filled (pixel
    id, else shop), rows grouped by kind in time order (:func:`_grouped_by_kind`).
    ``frames`` is emptied, so the caller keeps no reference to the old columns.
    Batch audits and watch mode both build their frame here.
    """
    parts = [compact(f) for f in frames if f.height]
    frames.clear()
    box = [pl.concat(parts, how="vertical_relaxed", rechunk=False) if parts else compact(empty_frame())]
    parts.clear()
    # compact already: the coalesced account of Categorical columns is Categorical
    return _grouped_by_kind(box, account=pl.coalesce("account", "pixel_id", "shop"))


def _narrow(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """A frame of ``names`` built from the Series themselves: an eager select on
    a wide frame of many batch chunks would rechunk far more than it names."""
    return pl.DataFrame([frame.get_column(n) for n in names])


def _text_rank(name: str) -> pl.Expr:
    """``name`` as the dense rank of its value in text order (nulls stay null)."""
    return pl.col(name).rank("dense").cast(pl.UInt32)


def _grouped_by_kind(box: list[pl.DataFrame], **replace: pl.Expr) -> pl.DataFrame:
    """``frame`` with its rows grouped by ``kind`` (kinds in name order), each
    group sorted by logged_at, file, line (nulls last).

    Memory is why it is not one global time order.  A column a kind never fills
    (the payload columns of API responses, the error columns of server events)
    is stored as a constant null for that group, which takes no memory; a
    global sort would interleave the kinds and give every such null its own
    16-byte slot.  The groups are built column by column, releasing each old
    column as it goes, so the extra memory is about one column.  The frame
    comes in a one-item list that is emptied, so no caller variable keeps the
    old columns.  ``replace`` gives columns computed on the way.
    """
    frame = box.pop()
    if frame.is_empty():
        return frame.with_columns(**replace)
    replaced = {name: _narrow(frame, *expr.meta.root_names()).select(expr.alias(name)).to_series() for name, expr in replace.items()}
    # text columns enter the sort as their rank among the distinct values: a
    # multi-column sort would otherwise encode every row's file path
    key_names = ("kind", *TIME_ORDER)
    keys = _narrow(frame, *key_names).select(
        _text_rank(c) if frame.schema[c] in (pl.String, pl.Categorical) else pl.col(c) for c in key_names
    ).with_row_index("_i")
    orders = [
        part.get_column("_i")
        for _, part in keys.sort("kind", *TIME_ORDER, nulls_last=True, maintain_order=True).group_by("kind", maintain_order=True)
    ]
    del keys
    schema = frame.schema
    names = frame.columns
    # which kinds fill each column at all (narrow, one column at a time)
    kinds_filling = {
        name: _narrow(frame, "kind", name).group_by("kind").agg(pl.col(name).is_not_null().any()).sort("kind", nulls_last=True)
        .get_column(name).to_list()
        for name in names if name != "kind" and name not in replaced
    }
    for name in ("kind", *replaced):  # computed columns are gathered whole
        kinds_filling[name] = [True] * len(orders)
    groups: list[dict[str, pl.Series | None]] = [{} for _ in orders]
    for name in names:
        fills = kinds_filling[name]
        col = replaced.pop(name, None)
        if col is None:
            col = frame.drop_in_place(name) if any(fills) else None
        else:
            frame.drop_in_place(name)
        for group, order, fill in zip(groups, orders, fills):
            group[name] = col.gather(order) if fill else None  # None: a constant null
        del col
    del frame
    parts = []
    for group, order in zip(groups, orders):
        part = pl.DataFrame([s for s in group.values() if s is not None])
        part = part.with_columns(pl.lit(None, dtype=schema[n]).alias(n) for n, s in group.items() if s is None)
        parts.append(part.select(names))
        group.clear()
    return pl.concat(parts, how="vertical")


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
