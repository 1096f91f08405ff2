"""The sliding evaluation window: recent rows of every source, canonical on demand.

Chunks from the tailer are decoded with the batch reader's
:func:`~auditor.ingest.reader.lines_frame` (same line splitting, CRLF, BOM,
junk detection and line cap) and parsed with the source's own ``parse``.  The
window keeps those rows *before* ``finalize`` (with the source's private
columns), because ``finalize`` needs neighbouring rows: a WooCommerce response
is linked to a request that may have arrived in an earlier chunk, and time
zones are inferred from all the evidence.  :meth:`Window.frame` runs each
source's ``finalize`` over everything it holds and then makes the frame
canonical exactly as :func:`auditor.pipeline.parse_units` does, so checks see
the same frame in ``watch`` as in ``audit``.

Rows leave the window when they arrived more than ``span_s`` seconds ago, or
when it holds more than ``max_rows`` rows (oldest first).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from ..pipeline import InputSummary, canonical_frame, normalise_parse_output
from ..ingest.reader import Piece, decode_text, lines_frame
from ..problems import ProblemLog
from ..registry import ParseContext, Registry
from ..schema import SchemaError, conform, empty_frame
from .tailer import Chunk

#: ``file`` value of the clock rows added at evaluation time.
CLOCK_FILE = "<watch clock>"


@dataclass
class Segment:
    arrival: float
    rows: dict[str, pl.DataFrame]  # source -> raw rows (private columns kept)
    marks: dict[int, tuple[int, int]]  # tailer uid -> (first byte, its line)
    height: int


@dataclass
class Window:
    registry: Registry
    options: dict[str, Any]
    span_s: float
    max_rows: int
    summary: InputSummary = field(default_factory=InputSummary)
    problems: ProblemLog = field(default_factory=ProblemLog)
    contexts: dict[str, ParseContext] = field(default_factory=dict)
    segments: deque[Segment] = field(default_factory=deque)
    rows: int = 0
    records: int = 0
    _cache: dict[str, pl.DataFrame] = field(default_factory=dict)
    _frame: pl.DataFrame | None = None
    _final_notes: dict[str, list[str]] = field(default_factory=dict)

    # -- intake ------------------------------------------------------------------
    def parse(self, chunks: list[Chunk]) -> int:
        """Parse chunks into one new segment; return how many rows it holds."""
        per_source: dict[str, list[pl.DataFrame]] = {}
        marks: dict[int, tuple[int, int]] = {}
        for ch in chunks:
            marks.setdefault(ch.uid, (ch.start, ch.start_line))
            source = self.registry.sources[ch.source]
            ctx = self.contexts.setdefault(source.name, ParseContext(source=source.name, options=self.options))
            try:
                text = decode_text(ch.data, ch.start == 0)
                batch, rejects = lines_frame([Piece(ch.path, ch.start_line, text, ch.data.endswith(b"\n"))])
            except Exception as exc:  # noqa: BLE001 - never stop watching over one chunk
                if not ch.warm:
                    self.summary.add_error(ch.path, ch.start_line, f"unreadable bytes ({type(exc).__name__})")
                continue
            if not ch.warm:
                self.summary.add_errors(rejects)
                self.summary.skipped_lines += rejects.height
            if batch.is_empty():
                continue
            try:
                rows, bad = normalise_parse_output(source.parse(batch, ctx))
                rows = conform(rows, keep_private=True, compacted=True)
            except Exception as exc:  # noqa: BLE001 - plugin code
                self._problem(source.plugin, f"parse {source.name} ({ch.path})", exc)
                if not ch.warm:
                    self.summary.add_error(ch.path, ch.start_line, f"source {source.name} failed on this batch")
                continue
            if bad is not None and not bad.is_empty() and not ch.warm:
                bad = bad.select(pl.col("file").cast(pl.String), pl.col("line").cast(pl.Int64), pl.col("reason").cast(pl.String))
                self.summary.add_errors(bad)
                self.summary.skipped_lines += bad.height
            if rows.height:
                per_source.setdefault(source.name, []).append(rows.with_columns(pl.lit(source.name).alias("source")))
        rows_by_source = {n: pl.concat(dfs, how="diagonal_relaxed") for n, dfs in per_source.items()}
        height = sum(df.height for df in rows_by_source.values())
        if any(not ch.warm for ch in chunks):
            self.records += height
        if marks or height:
            self.segments.append(Segment(time.monotonic(), rows_by_source, marks, height))
            self.rows += height
            self._dirty(rows_by_source)
        return height

    def _problem(self, plugin: str, what: str, exc: BaseException) -> None:
        self.problems.record(plugin, what, exc)

    def _dirty(self, names) -> None:
        for n in names:
            self._cache.pop(n, None)
        self._frame = None

    # -- upkeep ----------------------------------------------------------------
    def trim(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        dropped: set[str] = set()
        while self.segments:
            too_old = now - self.segments[0].arrival > self.span_s
            too_many = self.rows > self.max_rows and len(self.segments) > 1
            if not (too_old or too_many):
                break
            seg = self.segments.popleft()
            self.rows -= seg.height
            dropped.update(seg.rows)
        if dropped:
            self._dirty(dropped)

    def relabel(self, old: str, new: str) -> None:
        """Rows read from ``old`` now live in ``new`` (rename rotation, copytruncate)."""
        prefix = old + ":"
        for seg in self.segments:
            for name, df in list(seg.rows.items()):
                if df.is_empty() or not (df["file"] == old).any():
                    continue
                seg.rows[name] = df.with_columns(
                    pl.when(pl.col("file") == old).then(pl.lit(new)).otherwise(pl.col("file")).alias("file"),
                    pl.when(pl.col("batch_id").str.starts_with(prefix))
                    .then(pl.lit(new + ":") + pl.col("batch_id").str.slice(len(prefix)))
                    .otherwise(pl.col("batch_id")).alias("batch_id"),
                )
                self._dirty([name])

    def mark(self, uid: int) -> tuple[int, int] | None:
        """(first byte, line) of the oldest data of file ``uid`` still in the window."""
        for seg in self.segments:
            if uid in seg.marks:
                return seg.marks[uid]
        return None

    # -- evaluation frame ---------------------------------------------------------
    def frame(self) -> pl.DataFrame:
        """Every row of the window, finalized per source and canonical (sorted)."""
        if self._frame is not None:
            return self._frame
        names = sorted({n for seg in self.segments for n in seg.rows})
        for name in names:
            if name not in self._cache:
                self._cache[name] = self._finalize(name, list(self.segments), full=True)
        self._frame = _canonical([self._cache[n] for n in names])
        return self._frame

    def snapshot_frame(self, segments: list[Segment]) -> pl.DataFrame:
        """The full frame of a snapshot of segments (safe on a worker thread: no cache touched)."""
        names = sorted({n for seg in segments for n in seg.rows})
        return _canonical([self._finalize(n, segments, full=True) for n in names])

    def covers_all(self, span_s: float, max_rows: int, now: float | None = None) -> bool:
        """True when :meth:`recent_frame` would hold the whole window anyway."""
        now = time.monotonic() if now is None else now
        return self.rows <= max_rows and (not self.segments or now - self.segments[0].arrival <= span_s)

    def recent_frame(self, span_s: float, max_rows: int, now: float | None = None) -> pl.DataFrame:
        """Like :meth:`frame`, over the rows that arrived in the last ``span_s``
        seconds (at most about ``max_rows``): the fast pass of each cycle."""
        now = time.monotonic() if now is None else now
        picked: list[Segment] = []
        n = 0
        for seg in reversed(self.segments):
            if now - seg.arrival > span_s or (n + seg.height > max_rows and picked):
                break
            picked.append(seg)
            n += seg.height
        picked.reverse()
        names = sorted({name for seg in picked for name in seg.rows})
        return _canonical([self._finalize(name, picked) for name in names])

    def _finalize(self, name: str, segments: list[Segment], *, full: bool = False) -> pl.DataFrame:
        source = self.registry.sources[name]
        parts = [seg.rows[name] for seg in segments if name in seg.rows]
        if not parts:
            return empty_frame()
        df = pl.concat(parts, how="diagonal_relaxed")
        parse_ctx = self.contexts.setdefault(name, ParseContext(source=name, options=self.options))
        # a fresh context per finalize: its notes describe this evaluation only (they carry counts)
        ctx = ParseContext(source=name, options=self.options, notes=list(parse_ctx.notes))
        if full:
            self._final_notes[name] = ctx.notes
        if source.finalize is not None:
            try:
                df = source.finalize(df, ctx)
            except Exception as exc:  # noqa: BLE001 - plugin code
                self._problem(source.plugin, f"finalize {name}", exc)
        try:
            return conform(df, compacted=True)
        except SchemaError as exc:
            self._problem(source.plugin, f"finalize {name}", exc)
            return empty_frame()

    def notes(self) -> list[str]:
        """Notes of the sources (parse, and the last full finalize), e.g. an inferred time zone."""
        out: list[str] = []
        for name in sorted(set(self.contexts) | set(self._final_notes)):
            for n in self._final_notes.get(name, self.contexts[name].notes if name in self.contexts else []):
                if n not in out:
                    out.append(n)
        return out


def _canonical(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The tail of :func:`auditor.pipeline.parse_units` (the same frame layout checks see in batch)."""
    return canonical_frame(frames)


def with_clock(frame: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """``frame`` plus one clock row per account stamped ``now``.

    Checks judge "silent" and "still failing" against the newest evidence
    (``window_end``, or an account's last row).  In watch mode the evidence
    runs up to *now* even when nothing was written, so each evaluation adds a
    ``status`` row (signal ``log``) per account at the current time: a silence
    grows by the clock, not only when new lines arrive.  The rows carry no
    event, response or error, and their ``file`` is ``<watch clock>``.
    """
    if frame.is_empty():
        return frame
    accounts = frame["account"].drop_nulls().unique().sort()
    if accounts.is_empty():
        accounts = pl.Series("account", [None], dtype=pl.String)
    clock = conform(pl.DataFrame({
        "account": accounts,
        "source": pl.Series(["watch"] * len(accounts), dtype=pl.String),
        "file": [CLOCK_FILE] * len(accounts),
        "line": pl.Series([0] * len(accounts), dtype=pl.Int64),
        "kind": ["status"] * len(accounts),
        "signal": ["log"] * len(accounts),
        "connector": ["capi-audit watch"] * len(accounts),
        "message": ["watch clock: evidence considered up to now"] * len(accounts),
        "logged_at": pl.Series([now] * len(accounts), dtype=pl.Datetime("us", "UTC")),
    }), compacted=True)
    return canonical_frame([frame, clock])
