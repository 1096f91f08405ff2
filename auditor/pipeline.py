"""Run an audit: inputs -> sources -> canonical frame -> checks -> findings.

The pipeline only talks to plugins through the registered :class:`Source` and
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
from .ingest.gzstream import BrokenStream
from .ingest.inputs import InputUnit
from .ingest.reader import CHUNK_BYTES, REJECT_SCHEMA, Piece, ReadStats, lines_frame, read_pieces
from .ingest.sniff import SniffMemo, pick_source
from .problems import PluginProblem, ProblemLog, StrictModeError
from .redact import redact_text
from .registry import CheckContext, ParseContext, Registry
from .ruleset import Ruleset
from .rows import ACCOUNT, CanonicalRows, FrameRows, SpillWriter, grouped_by_kind
from .schema import SchemaError, compact, conform, empty_frame

MAX_ERRORS = 200


@dataclass
class InputSummary:
    files: int = 0
    records: int = 0
    skipped_lines: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_total: int = 0
    unrecognised_files: int = 0
    #: files of which not one line could be read (corrupt archive, unreadable member)
    unreadable_files: int = 0

    def add_errors(self, rejects: pl.DataFrame) -> None:
        """Count ``rejects`` and keep the first :data:`MAX_ERRORS` in (file, line)
        order: which errors are shown never depends on the order files were parsed
        in (packing, threads, cluster partitions)."""
        if rejects.is_empty():
            return
        self.errors_total += rejects.height
        first = rejects.sort(pl.col("file").cast(pl.String), "line", maintain_order=True, nulls_last=True).head(MAX_ERRORS)
        new = [{"file": f, "line": int(ln or 0), "reason": redact_text(reason)} for f, ln, reason in first.iter_rows()]
        self._keep_first([*self.errors, *new])

    def merge(self, other: "InputSummary") -> None:
        """Add ``other`` (the inputs of another part of the same run) to this summary."""
        self.files += other.files
        self.records += other.records
        self.skipped_lines += other.skipped_lines
        for name, n in other.by_source.items():
            self.by_source[name] = self.by_source.get(name, 0) + n
        self.errors_total += other.errors_total
        self.unrecognised_files += other.unrecognised_files
        self.unreadable_files += other.unreadable_files
        self._keep_first([*self.errors, *other.errors])

    def _keep_first(self, errors: list[dict[str, Any]]) -> None:
        errors.sort(key=lambda e: (e["file"] or "", e["line"]))  # stable: a line's errors keep their order
        self.errors = errors[:MAX_ERRORS]

    def add_error(self, file: str, line: int, reason: str) -> None:
        self.add_errors(pl.DataFrame({"file": [file], "line": [line], "reason": [reason]}, schema=REJECT_SCHEMA))


@dataclass
class AuditResult:
    rows: CanonicalRows
    findings: list[Finding]
    inputs: InputSummary
    window_start: datetime | None
    window_end: datetime | None
    ruleset: Ruleset
    notes: list[str] = field(default_factory=list)
    problems: list[PluginProblem] = field(default_factory=list)
    #: a cluster run (:mod:`auditor.cluster`): the rows stayed on the workers, and
    #: what the report needs of them (accounts, question facts, grouping) was
    #: merged from the partitions; ``rows`` is then empty
    merged: Any = None

    @property
    def frame(self) -> pl.DataFrame:
        """Every canonical row in memory (prefer ``rows.select`` of the columns you need)."""
        return self.rows.frame()


def normalise_parse_output(out: Any) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """``(rows, rejects)`` of what a source's ``parse`` returned (a frame, or both)."""
    if isinstance(out, tuple) and len(out) == 2:
        return out[0], out[1]
    return out, None


#: Batches of one thread-safe source parsed at once (Polars releases the GIL).
PARSE_WORKERS = 2


def _parse_batch(source: Any, batch: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """One batch through the source's parse and the canonical schema."""
    rows, bad = normalise_parse_output(source.parse(batch, ctx))
    # low-cardinality columns are stored compactly: that is what finalize
    # and checks get (see schema.COMPACT_COLUMNS)
    rows = conform(rows, keep_private=True, compacted=True)
    return rows.with_columns(pl.lit(source.name, dtype=pl.Categorical).alias("source")), bad


@dataclass
class _Parsed:
    """What one packed batch gave: rows, the lines the source rejected, junk lines."""

    rows: pl.DataFrame | None
    bad: pl.DataFrame | None
    junk: pl.DataFrame
    error: BaseException | None = None


def _parse_pieces(source: Any, pieces: list[Piece], ctx: ParseContext) -> _Parsed:
    """Build the batch of ``pieces`` (a few Polars calls for any number of files)
    and parse it; plugin errors are returned, not raised (the caller reports them)."""
    batch, junk = lines_frame(pieces)
    pieces.clear()  # the text lives on in the batch only
    if batch.is_empty():
        return _Parsed(None, None, junk)
    try:
        rows, bad = _parse_batch(source, batch, ctx)
    except Exception as exc:  # noqa: BLE001 - plugin code, reported by the caller
        return _Parsed(None, None, junk, exc)
    return _Parsed(rows, bad, junk)


def parse_units(
    units: list[InputUnit],
    registry: Registry,
    *,
    force_source: str | None = None,
    options: dict[str, Any] | None = None,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
    batch_bytes: int | None = None,
) -> tuple[CanonicalRows, InputSummary, list[str], list[PluginProblem]]:
    """Read every unit with its source; return the canonical rows (finalized
    per source, spilled to disk: :mod:`auditor.rows`), the input summary, notes
    and plugin problems.  ``batch_bytes`` (tests) sets both the read piece and
    the pack budget, to show that where batches are cut changes nothing."""
    options = dict(options or {})
    summary = InputSummary(files=len(units))
    problems = ProblemLog(registry.problems, strict=strict)
    contexts: dict[str, ParseContext] = {}
    spill = SpillWriter()
    fail = problems.record

    intake = _Intake(registry, options, contexts, spill, summary, fail, batch_bytes)
    memo = SniffMemo()
    try:
        for unit in units:
            try:
                if force_source:
                    source, head = registry.sources[force_source], None
                else:
                    source, head = pick_source(unit, registry.sources, problems, memo)
            except StrictModeError:
                raise
            except Exception as exc:  # noqa: BLE001 - bad CRC, corrupt deflate, unreadable member: one input error
                summary.unreadable_files += 1
                summary.add_error(unit.name, 0, f"cannot read: {_why(exc)}")
            else:
                if source is None:
                    summary.unrecognised_files += 1
                    summary.add_error(unit.name, 0, "no source plugin recognises this file (use --source to force one)")
                else:
                    intake.read(unit, source, head)
            if progress:
                progress(unit.size)
        intake.flush()
    finally:
        intake.close()

    for name in spill.sources:
        _finalize(spill, registry.sources[name], contexts[name], fail)
        if name in spill.sources:
            summary.by_source[name] = spill.height(name)
    rows = spill.finish()
    summary.records = rows.height
    notes = Notes(n for name in sorted(contexts) for n in contexts[name].notes)
    for name in sorted(contexts):
        notes.tallies.update(contexts[name].tallies)
    return rows, summary, notes, problems


class Notes(list):
    """The report's notes, with the counting notes behind them (``tallies``:
    key -> (totals, render), :meth:`ParseContext.tally`) so the notes of the
    partitions of a cluster run can be added up (:mod:`auditor.cluster.merge`)."""

    def __init__(self, notes=()):
        super().__init__(notes)
        self.tallies: dict[str, tuple[dict[str, int], Any]] = {}


def _why(exc: BaseException) -> str:
    """An input error's reason (a broken stream says what broke and where itself)."""
    return str(exc) if isinstance(exc, BrokenStream) else f"{type(exc).__name__}: {exc}"


#: A parse batch holds up to this many bytes of input.  Small files of one
#: source are packed into one batch (each row keeps its ``file`` and ``line``),
#: so the cost of an audit follows its bytes, not its number of files.
PACK_BYTES = 8 * 1024 * 1024


class _Pack:
    """Pieces of consecutive files gathered until :data:`PACK_BYTES`."""

    def __init__(self) -> None:
        self.pieces: list[Piece] = []
        self.bytes = 0

    def add(self, piece: Piece) -> None:
        self.pieces.append(piece)
        self.bytes += piece.size

    def take(self) -> list[Piece]:
        pieces, self.pieces, self.bytes = self.pieces, [], 0
        return pieces


class _Intake:
    """Reads units as they come, packs each source's pieces and parses full packs.

    Sniffing and reading (this thread) overlap with parsing (two workers):
    each source has its own pack, filled up to :data:`PACK_BYTES` from
    consecutive files of that source and parsed on the pool as soon as it is
    full (inline for sources that are not thread-safe).  Results are taken in
    submission order, so each source's rows are spilled in input order.
    """

    def __init__(self, registry: Registry, options: dict[str, Any], contexts: dict[str, ParseContext],
                 spill: SpillWriter, summary: "InputSummary", fail: Callable[[str, str, BaseException], None],
                 batch_bytes: int | None = None):
        self.registry, self.options, self.contexts = registry, options, contexts
        self.chunk_bytes = batch_bytes or CHUNK_BYTES
        self.pack_bytes = batch_bytes or PACK_BYTES
        self.spill, self.summary, self.fail = spill, summary, fail
        self.packs: dict[str, _Pack] = {}
        # (source, first line of each file, future): only the worker keeps the text
        self.pending: deque = deque()
        self.pool = ThreadPoolExecutor(max_workers=PARSE_WORKERS, thread_name_prefix="capi-audit-parse")

    def read(self, unit: InputUnit, source: Any, head: bytes | None) -> None:
        """Read ``unit`` with ``source`` into its pack (``head``: what sniffing read of it)."""
        pack = self.packs.setdefault(source.name, _Pack())
        stats = ReadStats()
        try:
            for piece in read_pieces(unit, source.framing, source.entry_start, self.chunk_bytes, stats=stats, head=head):
                pack.add(piece)
                if pack.bytes >= self.pack_bytes:
                    self._submit(source, pack.take())
        except StrictModeError:
            raise
        except Exception as exc:  # noqa: BLE001 - broken gzip/zip member, truncated archive, zlib.error
            # what was read before the break still counts (it stays in the pack)
            if stats.lines == 0:
                self.summary.unreadable_files += 1
            self.summary.add_error(unit.name, stats.lines, f"stopped reading: {_why(exc)}; the lines before it are kept")

    def flush(self) -> None:
        for name in sorted(self.packs):
            if self.packs[name].pieces:
                self._submit(self.registry.sources[name], self.packs[name].take())
        self._drain(0)

    def close(self) -> None:
        for _, _, future in self.pending:  # only after a strict-mode failure: stop what is in flight
            future.cancel() or future.exception()
        self.pool.shutdown(wait=True)

    def _submit(self, source: Any, pieces: list[Piece]) -> None:
        ctx = self.contexts.setdefault(source.name, ParseContext(source=source.name, options=self.options))
        firsts: dict[str, int] = {}
        for piece in pieces:
            firsts.setdefault(piece.file, piece.line)
        if source.thread_safe_parse:
            self.pending.append((source, firsts, self.pool.submit(_parse_pieces, source, pieces, ctx)))
            del pieces
            self._drain(PARSE_WORKERS)  # bounded: at most this many batches in flight
        else:
            self._handle(source, firsts, _parse_pieces(source, pieces, ctx))

    def _drain(self, keep: int) -> None:
        while len(self.pending) > keep:
            source, firsts, future = self.pending.popleft()
            self._handle(source, firsts, future.result())

    def _handle(self, source: Any, firsts: dict[str, int], parsed: _Parsed) -> None:
        summary = self.summary
        summary.add_errors(parsed.junk)
        summary.skipped_lines += parsed.junk.height
        if parsed.error is not None:
            self.fail(source.plugin, f"parse {source.name} ({next(iter(firsts))})", parsed.error)
            for file, line in firsts.items():
                summary.add_error(file, line, f"source {source.name} failed on this batch")
            return
        if parsed.bad is not None and not parsed.bad.is_empty():
            bad = parsed.bad.select(pl.col("file").cast(pl.String), pl.col("line").cast(pl.Int64), pl.col("reason").cast(pl.String))
            summary.add_errors(bad)
            summary.skipped_lines += bad.height
        if parsed.rows is not None:
            self.spill.append(source.name, parsed.rows)


def _finalize(spill: SpillWriter, source: Any, ctx: ParseContext, fail: Callable[[str, str, BaseException], None]) -> None:
    """Run ``source.finalize`` over the source's spilled rows (only the columns
    it declares in ``finalize_columns``, if it does), store what it returns in
    place of the old columns, then fill ``account`` (pixel id, else shop)."""
    name = source.name
    if source.finalize is not None:
        narrow = bool(source.finalize_columns)
        before = spill.read(name, list(source.finalize_columns) if narrow else None)
        if narrow:  # each row's position, so finalize may drop rows (dedupe) and say which stay
            before = before.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW_COLUMN))
        height = before.height
        try:
            out = source.finalize(before, ctx)
            if narrow:
                out = _kept_in_order(out, height)
        except Exception as exc:  # noqa: BLE001 - plugin code
            fail(source.plugin, f"finalize {name}", exc)
            out = None
        del before
        if out is not None:
            try:
                canonical = conform(out, own_strings=False, compacted=True)  # batches own their strings since parse
            except SchemaError as exc:
                fail(source.plugin, f"finalize {name}", exc)
                spill.drop(name)
                return
            if narrow:  # only what it returned replaces the stored columns
                if out.height != height:  # the other columns keep the same rows, a spill file at a time
                    spill.keep_rows(name, out.get_column(ROW_COLUMN))
                spill.replace_columns(name, canonical.select(c for c in canonical.columns if c in out.columns))
            else:
                spill.replace_rows(name, canonical)
            del out, canonical
    if name in spill.sources:
        spill.replace_columns(name, spill.read(name, ["account", "pixel_id", "shop"]).select(ACCOUNT.alias("account")))


#: The row position column a narrow ``finalize`` gets (see :class:`auditor.registry.Source`).
ROW_COLUMN = "_row"


def _kept_in_order(out: Any, height: int) -> pl.DataFrame:
    """What a narrow ``finalize`` returned, in row order: every row, or the
    rows it keeps named by their :data:`ROW_COLUMN` (each once)."""
    if not isinstance(out, pl.DataFrame):
        raise SchemaError(f"finalize returned {type(out).__name__}, not a DataFrame")
    if ROW_COLUMN not in out.columns:
        if out.height != height:
            raise SchemaError(
                f"finalize returned {out.height} rows for {height}: with finalize_columns it must keep every "
                f"row in its order, or return the {ROW_COLUMN} column of the rows it keeps"
            )
        return out
    rows = out.get_column(ROW_COLUMN)
    if rows.null_count() or not rows.is_unique().all() or (rows.len() and (rows.min() < 0 or rows.max() >= height)):
        raise SchemaError(f"finalize returned a {ROW_COLUMN} column that does not name rows it was given, each once")
    return out if rows.is_sorted() else out.sort(ROW_COLUMN)


def canonical_frame(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The in-memory canonical frame (watch mode) from the finalized, canonical
    frames of the sources.

    Compact columns (:func:`auditor.schema.compact`), ``account`` filled (pixel
    id, else shop), rows grouped by kind in time order
    (:func:`auditor.rows.grouped_by_kind`).  ``frames`` is emptied, so the
    caller keeps no reference to the old columns.
    """
    parts = [compact(f) for f in frames if f.height]
    frames.clear()
    # a shallow copy: grouping releases columns in place (drop_in_place), and
    # concat/compact may hand back a caller's own frame (watch caches them)
    box = [pl.concat(parts, how="vertical_relaxed", rechunk=False).clone() if parts else compact(empty_frame())]
    parts.clear()
    # compact already: the coalesced account of Categorical columns is Categorical
    return grouped_by_kind(box, account=ACCOUNT)


def run_checks(
    rows: CanonicalRows | pl.DataFrame,
    registry: Registry,
    ruleset: Ruleset,
    *,
    options: dict[str, Any] | None = None,
    notes: list[str] | None = None,
    strict: bool = False,
    problems: list[PluginProblem] | None = None,
) -> list[Finding]:
    """Run every enabled check over ``rows`` (an in-memory canonical frame is
    taken as is) and return sorted findings."""
    problems = problems if problems is not None else []
    log = ProblemLog(strict=strict)
    if isinstance(rows, pl.DataFrame):
        rows = FrameRows(rows)
    window_start, window_end = rows.time_span()
    ctx = CheckContext(
        rows=rows,
        ruleset=ruleset,
        window_start=window_start,
        window_end=window_end,
        options=dict(options or {}),
        notes=notes if notes is not None else [],
    )
    kinds = set(rows.kinds)
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
                if f.rule not in ruleset.rules:
                    raise ValueError(f"finding for unknown diagnosis row {f.rule!r}")
        except Exception as exc:  # noqa: BLE001 - plugin code
            problem = log.record(check.plugin, f"check {name}", exc)
            if problem not in problems:
                problems.append(problem)
            continue
        findings.extend(f for f in produced if ruleset.enabled(f.rule))
    findings.sort(key=finding_order)
    return findings


def finding_order(f: Finding) -> tuple:
    """The order of findings in a report: severity, row, account, first seen."""
    return (SEVERITY_RANK[f.severity], f.rule, f.account or "", f.first_seen.isoformat() if f.first_seen else "")


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
    rows, summary, notes, problems = parse_units(
        units, registry, force_source=force_source, options=options, strict=strict, progress=progress
    )
    findings = run_checks(rows, registry, ruleset, options=options, notes=notes, strict=strict, problems=problems)
    window_start, window_end = rows.time_span()
    return AuditResult(
        rows=rows,
        findings=findings,
        inputs=summary,
        window_start=window_start,
        window_end=window_end,
        ruleset=ruleset,
        notes=notes,
        problems=problems,
    )
