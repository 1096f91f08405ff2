"""Where the canonical rows of an audit live while checks and the report read them.

A batch audit of a multi-GB archive cannot keep every row in memory.  Each
source's parsed batches are written to Arrow IPC files (LZ4) in a temporary
folder as they come (:class:`SpillWriter`); a source's ``finalize`` reads back
only the columns it declares and writes what it changed next to them; checks and
the report read only the columns (and kinds) they ask for
(:meth:`CanonicalRows.select`).  The memory an audit needs is then the parse
batches in flight plus the few columns one step works on, not the whole input.

Watch mode's small window stays in memory (:class:`FrameRows`).  Both give the
same rows in the same order: grouped by ``kind`` (kinds in name order), each
group sorted by ``logged_at``, ``file``, ``line`` (nulls last).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from .schema import SCHEMA, compact_dtype

#: Sort key of the rows within each kind.
TIME_ORDER = ("logged_at", "file", "line")
#: Rows per spilled file (a few parse batches; about 10-20 MB of compact rows).
SPILL_ROWS = 100_000
#: Columns laid out at once by :class:`SpilledRows`.
LAYOUT_WORKERS = 2
#: Columns the row order is computed from.
KEY_COLUMNS = ("kind", *TIME_ORDER)


def stored_dtype(name: str) -> pl.DataType:
    """The dtype column ``name`` has in the canonical rows (compact where it can be)."""
    return compact_dtype(name) or SCHEMA[name]


STORED_SCHEMA: dict[str, pl.DataType] = {name: stored_dtype(name) for name in SCHEMA}


def _text_rank(name: str) -> pl.Expr:
    """``name`` as the dense rank of its value in text order (nulls stay null)."""
    return pl.col(name).rank("dense").cast(pl.UInt32)


def kind_orders(keys: pl.DataFrame) -> dict[str | None, pl.Series]:
    """Per kind (name order; rows without a kind last): the positions of its rows
    in ``keys``, in time order (``logged_at``, ``file``, ``line``, nulls last; ties
    keep their input order).  Text keys enter the sort as their rank among the
    distinct values: a multi-column sort would otherwise encode every row's text.
    """
    ranked = keys.select(
        pl.col("kind").cast(pl.String).alias("_kind"),
        *(_text_rank(c) if keys.schema[c] in (pl.String, pl.Categorical) else pl.col(c) for c in TIME_ORDER),
    ).with_row_index("_i")
    ordered = ranked.sort("_kind", *TIME_ORDER, nulls_last=True, maintain_order=True)
    return {key[0]: part.get_column("_i") for key, part in ordered.group_by("_kind", maintain_order=True)}


#: ``account`` as the checks see it: the pixel id, else the shop.
ACCOUNT = pl.coalesce("account", "pixel_id", "shop")


def _narrow(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """A frame of ``names`` built from the Series themselves: an eager select on
    a wide frame of many batch chunks would rechunk far more than it names."""
    return pl.DataFrame([frame.get_column(n) for n in names])


def per_kind(column: pl.Series, orders: dict[str | None, pl.Series]) -> Iterator[pl.Series | None]:
    """``column``'s values for each kind of ``orders`` in canonical order, or
    None where that kind never fills it (stored as a constant null: no memory)."""
    for order in orders.values():
        values = column.gather(order)
        yield values if values.null_count() < len(values) else None


def grouped_by_kind(box: list[pl.DataFrame], **replace: pl.Expr) -> pl.DataFrame:
    """The frame in ``box`` with its rows in canonical order (:func:`kind_orders`),
    as one in-memory frame.

    A column a kind never fills (the payload columns of API responses, the
    error columns of server events) is stored as a constant null for that
    group, which takes no memory; a global sort would interleave the kinds and
    give every such null its own 16-byte slot.  The groups are built column by
    column, releasing each old column as it goes, so the extra memory is about
    one column.  The frame comes in a one-item list that is emptied, so no
    caller variable keeps the old columns.  ``replace`` gives columns computed
    on the way.
    """
    frame = box.pop()
    if frame.is_empty():
        return frame.with_columns(**replace)
    replaced = {name: _narrow(frame, *expr.meta.root_names()).select(expr.alias(name)).to_series() for name, expr in replace.items()}
    orders = kind_orders(_narrow(frame, *KEY_COLUMNS))
    schema = frame.schema
    names = frame.columns
    groups: list[dict[str, pl.Series | None]] = [{} for _ in orders]
    for name in names:
        old = frame.drop_in_place(name)
        col = replaced.pop(name, old)
        del old
        for group, values in zip(groups, per_kind(col, orders)):
            group[name] = values  # None: a constant null
        del col
    del frame
    parts = []
    for group, order in zip(groups, orders.values()):
        part = _frame_of([s for s in group.values() if s is not None], len(order))
        part = part.with_columns(pl.lit(None, dtype=schema[n]).alias(n) for n, s in group.items() if s is None)
        parts.append(part.select(names))
        group.clear()
    return pl.concat(parts, how="vertical")


class Readable(Protocol):
    """What reads canonical rows by column: :class:`CanonicalRows` and
    :class:`auditor.CheckContext` (whose ``select`` is the same)."""

    def select(
        self, *columns: str, kinds: Iterable[str] | None = None, where: pl.Expr | None = None
    ) -> pl.DataFrame: ...


def as_readable(data: "Readable | pl.DataFrame") -> "Readable":
    """``data`` as something with ``select(columns, kinds, where)``: an
    in-memory canonical frame is wrapped in :class:`FrameRows`."""
    return FrameRows(data) if isinstance(data, pl.DataFrame) else data


class CanonicalRows:
    """Read access to an audit's canonical rows (see the module doc).

    :ivar height: number of rows.
    :ivar kinds: the kinds present, in the order the rows are grouped.
    """

    height: int
    kinds: list[str | None]

    @property
    def columns(self) -> list[str]:
        return list(STORED_SCHEMA)

    @property
    def schema(self) -> dict[str, pl.DataType]:
        return dict(STORED_SCHEMA)

    def select(
        self, *columns: str, kinds: tuple[str, ...] | list[str] | None = None, where: pl.Expr | None = None
    ) -> pl.DataFrame:
        """The named columns of the rows of ``kinds`` (default every row) for
        which ``where`` (an expression over canonical columns) is true, in row order.

        Only these columns are read, one at a time, and only the chosen rows are
        kept: a check that names the six columns of its error rows costs those,
        not the whole audit.
        """
        raise NotImplementedError

    def frame(self) -> pl.DataFrame:
        """Every column of every row as one frame (the whole audit in memory)."""
        raise NotImplementedError

    def time_span(self) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest ``logged_at``."""
        times = self.select("logged_at").get_column("logged_at").drop_nulls()
        return (times.min(), times.max()) if len(times) else (None, None)

    def close(self) -> None:
        """Release what the rows hold (temporary files); reading afterwards fails."""

    def derived(self, key: Any, build: Callable[[], Any]) -> Any:
        """A table computed from the rows, built by ``build`` the first time
        ``key`` is asked for and kept with them (they never change once laid
        out): the checks and the report both need the orders matched to the
        purchases, for instance, and it is worked out once.  Treat what it
        returns as read-only."""
        memo = self.__dict__.setdefault("_derived", {})
        if key not in memo:
            memo[key] = build()
        return memo[key]


def _check_columns(columns: tuple[str, ...]) -> None:
    unknown = [c for c in columns if c not in STORED_SCHEMA]
    if unknown:
        raise pl.exceptions.ColumnNotFoundError(f"not a canonical column: {', '.join(unknown)}")


class FrameRows(CanonicalRows):
    """Rows held in memory as one canonical frame, already grouped by kind
    (:func:`auditor.pipeline.canonical_frame`)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame
        self.height = frame.height
        self.kinds = frame.get_column("kind").unique(maintain_order=True).to_list()

    def select(
        self, *columns: str, kinds: tuple[str, ...] | list[str] | None = None, where: pl.Expr | None = None
    ) -> pl.DataFrame:
        _check_columns(columns)
        lf = self._frame.lazy()
        if kinds is not None:
            lf = lf.filter(pl.col("kind").is_in(list(kinds)))
        if where is not None:
            lf = lf.filter(where.fill_null(False))
        return lf.select(columns).collect()

    def frame(self) -> pl.DataFrame:
        return self._frame


@dataclass
class _Part:
    """One source's rows on disk.

    ``batches``: files of :data:`SPILL_ROWS` parsed rows with the canonical
    columns (the same schema in every file, so a column is read from all of
    them in one parallel scan); ``private``: per such file, the file of its
    private ``_`` working columns (or None) and its row count; ``replaced``: files of columns that replace
    the batches' ones for every row of the source (``finalize`` output).
    """

    name: str
    batches: list[Path] = field(default_factory=list)
    private: list[tuple[Path | None, frozenset[str], int]] = field(default_factory=list)
    replaced: list[tuple[Path, frozenset[str]]] = field(default_factory=list)
    height: int = 0

    def columns(self) -> set[str]:
        """Every column the rows have (private ones included)."""
        names = set(STORED_SCHEMA) if self.batches else set()
        return names.union(*(cols for _, cols, _ in self.private), *(cols for _, cols in self.replaced))

    def has(self, column: str) -> bool:
        return column in self.columns()

    def _stored(self, name: str) -> bool:
        """Is ``name`` read from the parsed batches (a canonical column no finalize replaced)?"""
        return bool(self.batches) and name in STORED_SCHEMA and not any(name in cols for _, cols in self.replaced)

    def _read_stored(self, names: list[str]) -> dict[str, pl.Series]:
        """Canonical columns of the parsed batches in one scan (opening the
        files once, not once a column), each made one chunk on its own: an
        eager select on a frame of many-chunk columns (finalize's working
        frames) would copy every column into one chunk at once, and this
        copy never holds more than one column twice."""
        if not names:
            return {}
        frame = pl.scan_ipc(self.batches).select(names).collect()
        out = {}
        for name in names:
            out[name] = frame.get_column(name).rechunk()
            frame = frame.drop(name)
        return out

    def _read_other(self, name: str) -> pl.Series | None:
        """Column ``name`` for every row of the source when a finalize replaced
        it or it is a private one (canonical columns of the parsed batches come
        from :meth:`_read_stored`); None: the rows do not have it."""
        path = next((p for p, cols in reversed(self.replaced) if name in cols), None)
        if path is not None:
            return pl.read_ipc(path, columns=[name]).get_column(name)
        if name in STORED_SCHEMA or not any(name in cols for _, cols, _ in self.private):
            return None
        parts = [
            pl.read_ipc(p, columns=[name]).get_column(name) if p is not None and name in cols
            else pl.Series(name, dtype=pl.Null).extend_constant(None, n)
            for p, cols, n in self.private
        ]
        return _concat_relaxed(parts).rechunk()

    def read(self, columns: list[str]) -> pl.DataFrame:
        """``columns`` for every row of the source (a column it has none of is a constant null)."""
        found = self._read_stored([c for c in dict.fromkeys(columns) if self._stored(c)])
        found.update((c, s) for c in dict.fromkeys(columns) if c not in found and (s := self._read_other(c)) is not None)
        out = _frame_of(list(found.values()), self.height)
        missing = [c for c in columns if c not in found]
        if missing:
            out = out.with_columns(pl.lit(None, dtype=_dtype(c)).alias(c) for c in missing)
        return out.select(columns)


def _keep_in_file(path: Path, rows: pl.Series) -> None:
    """Rewrite the spill file ``path`` with only its rows at positions ``rows``
    (written beside it, then renamed over it: a reader may still map the old one)."""
    fresh = path.with_name(path.name + ".new")
    pl.read_ipc(path)[rows].write_ipc(fresh, compression="lz4")
    os.replace(fresh, path)


def _concat_relaxed(parts: list[pl.Series]) -> pl.Series:
    """The parts of one column end to end, in the supertype of their dtypes (nulls fill)."""
    frames = [s.to_frame() for s in parts]
    return pl.concat(frames, how="vertical_relaxed", rechunk=False).to_series()


def _frame_of(columns: list[pl.Series], height: int) -> pl.DataFrame:
    """A frame of ``columns``, or of no column but ``height`` rows."""
    return pl.DataFrame(columns) if columns else pl.DataFrame(height=height)


def _dtype(name: str) -> pl.DataType:
    return STORED_SCHEMA.get(name) or pl.Null()


#: Name prefix of the temporary folders audits spill to.
SPILL_PREFIX = "capi-audit-"
#: A spill folder untouched this long belongs to an audit that was killed.
STALE_AFTER_S = 24 * 3600


def sweep_stale_spills(folder: Path, now: float | None = None) -> None:
    """Remove this user's spill folders left by killed audits (untouched for a
    day): they hold canonical rows, which should not stay on disk."""
    now = time.time() if now is None else now
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(SPILL_PREFIX)]
    except OSError:
        return
    for path in candidates:
        try:
            info = path.lstat()
            mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()  # Windows: TEMP is per user
            if stat.S_ISDIR(info.st_mode) and mine and now - info.st_mtime > STALE_AFTER_S:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


class SpillWriter:
    """Collects each source's canonical rows on disk while an audit parses.

    The files live in a temporary folder (under ``TMPDIR``) that is removed
    when the :class:`SpilledRows` made by :meth:`finish` is closed or collected.
    """

    def __init__(self) -> None:
        sweep_stale_spills(Path(tempfile.gettempdir()))
        self._dir = tempfile.TemporaryDirectory(prefix=SPILL_PREFIX)
        self._parts: dict[str, _Part] = {}
        self._n = 0
        self._pending: dict[str, list[pl.DataFrame]] = {}

    @property
    def sources(self) -> list[str]:
        return sorted(n for n, p in self._parts.items() if p.height)

    def height(self, source: str) -> int:
        return self._parts[source].height

    def columns(self, source: str) -> list[str]:
        """Every column the source's rows have (private ``_`` working columns too)."""
        self._flush(source)
        names = self._parts[source].columns()
        return [c for c in STORED_SCHEMA if c in names] + sorted(c for c in names if c not in STORED_SCHEMA)

    def _write(self, df: pl.DataFrame) -> tuple[Path, frozenset[str]]:
        self._n += 1
        path = Path(self._dir.name) / f"{self._n:06d}.arrow"
        df.write_ipc(path, compression="lz4")
        return path, frozenset(df.columns)

    def append(self, source: str, rows: pl.DataFrame) -> None:
        """Add a parsed batch of ``source`` (canonical, compact; private columns
        kept).  Batches are written :data:`SPILL_ROWS` rows at a time: fewer,
        larger files are much faster to read back than one per parse batch."""
        if not rows.height:
            return
        part = self._parts.setdefault(source, _Part(source))
        pending = self._pending.setdefault(source, [])
        pending.append(rows)
        part.height += rows.height
        if sum(df.height for df in pending) >= SPILL_ROWS:
            self._flush(source)

    def _flush(self, source: str) -> None:
        pending = self._pending.pop(source, [])
        if not pending:
            return
        rows = pl.concat(pending, how="diagonal_relaxed") if len(pending) > 1 else pending[0]
        pending.clear()
        part = self._parts[source]
        part.batches.append(self._write(rows.select(pl.col(c).cast(t) for c, t in STORED_SCHEMA.items()))[0])
        private = [c for c in rows.columns if c not in STORED_SCHEMA]
        path, names = self._write(rows.select(private)) if private else (None, frozenset())
        part.private.append((path, names, rows.height))

    def read(self, source: str, columns: list[str] | None = None) -> pl.DataFrame:
        """``columns`` (default all) of every row of ``source``, in parse order."""
        names = self.columns(source)
        return self._parts[source].read([c for c in names if columns is None or c in columns])

    def replace_columns(self, source: str, columns: pl.DataFrame) -> None:
        """Store ``columns`` (one value per row of the source, in parse order) in
        place of the source's columns of the same names."""
        self._flush(source)
        part = self._parts[source]
        if columns.height != part.height:
            raise ValueError(f"{columns.height} rows given for the {part.height} rows of source {source!r}")
        if columns.width:
            part.replaced.append(self._write(columns))

    def keep_rows(self, source: str, rows: pl.Series) -> None:
        """Keep only ``rows`` (positions in parse order, ascending) of
        ``source``'s rows, in every column: a finalize that drops rows (the
        duplicates of a deduplication) while reading a few columns.  The
        files are rewritten one at a time, so memory stays one spill file."""
        self._flush(source)
        part = self._parts[source]
        rows = rows.cast(pl.Int64)
        offset, private = 0, []
        for path, (private_path, names, n) in zip(part.batches, part.private):
            lo, hi = rows.search_sorted(offset), rows.search_sorted(offset + n)
            local = rows.slice(lo, hi - lo) - offset
            _keep_in_file(path, local)
            if private_path is not None:
                _keep_in_file(private_path, local)
            private.append((private_path, names, local.len()))
            offset += n
        part.private = private
        for path, _ in part.replaced:
            _keep_in_file(path, rows)
        part.height = rows.len()

    def replace_rows(self, source: str, rows: pl.DataFrame) -> None:
        """Store ``rows`` (canonical) as the source's whole content (a ``finalize`` that adds or drops rows)."""
        self._pending.pop(source, None)
        self._parts[source] = _Part(source)
        self.append(source, rows)
        self._flush(source)

    def drop(self, source: str) -> None:
        self._pending.pop(source, None)
        self._parts.pop(source, None)

    def finish(self) -> "SpilledRows":
        """The rows of every source, read-only, ordered for checks."""
        for name in list(self._pending):
            self._flush(name)
        parts = [self._parts[n] for n in self.sources]
        return SpilledRows(parts, self._dir)


class SpilledRows(CanonicalRows):
    """Rows spilled to disk by :class:`SpillWriter`, laid out for reading.

    On creation the sources' files are rewritten once, column by column, into
    one file per (kind, column) holding that kind's rows in canonical order; a
    column a kind never fills gets no file (it reads as a constant null).  A
    read is then a few small files, with no sort or gather, and the extra
    memory of the layout step is about two columns (laid out two at a time).
    """

    def __init__(self, parts: list[_Part], directory: tempfile.TemporaryDirectory) -> None:
        self._dir = directory
        self._frame: pl.DataFrame | None = None
        self.height = sum(p.height for p in parts)
        keys = _read_all(list(KEY_COLUMNS), parts)
        orders = kind_orders(keys)
        self.kinds = list(orders)
        times = keys.get_column("logged_at").drop_nulls()
        self._span = (times.min(), times.max()) if len(times) else (None, None)
        del keys, times
        self._sizes = {k: len(order) for k, order in orders.items()}
        self._files: dict[tuple[str | None, str], Path] = {}
        folder = Path(directory.name)

        def lay_out(n: int, column: str) -> dict[tuple[str | None, str], Path]:
            files = {}
            full = _read_all([column], parts).get_column(column).rechunk()  # a gather over one chunk is fast
            for i, (kind, values) in enumerate(zip(orders, per_kind(full, orders))):
                if values is not None:  # all null: no file, a constant null
                    path = folder / f"k{i}-c{n}.arrow"
                    values.to_frame().write_ipc(path, compression="lz4")
                    files[(kind, column)] = path
            return files

        present = [(n, c) for n, c in enumerate(STORED_SCHEMA) if any(p.has(c) for p in parts)]
        # two columns at a time (Polars releases the GIL): the extra memory is two columns
        with ThreadPoolExecutor(max_workers=LAYOUT_WORKERS, thread_name_prefix="capi-audit-layout") as pool:
            for files in pool.map(lambda nc: lay_out(*nc), present):
                self._files.update(files)
        for p in parts:  # the parse batches are not needed any more
            for path in (*p.batches, *(f for f, _, _ in p.private if f), *(f for f, _ in p.replaced)):
                path.unlink(missing_ok=True)

    def time_span(self) -> tuple[datetime | None, datetime | None]:
        return self._span

    def _kind_frame(self, kind: str | None, columns: list[str]) -> pl.DataFrame:
        """``columns`` of the rows of ``kind`` (constant nulls take no memory)."""
        out = _frame_of(
            [pl.read_ipc(self._files[(kind, c)]).get_column(c) for c in columns if (kind, c) in self._files],
            self._sizes[kind],
        )
        nulls = [c for c in columns if (kind, c) not in self._files]
        if nulls:
            out = out.with_columns(pl.lit(None, dtype=_dtype(c)).alias(c) for c in nulls)
        return out.select(columns)

    def select(
        self, *columns: str, kinds: tuple[str, ...] | list[str] | None = None, where: pl.Expr | None = None
    ) -> pl.DataFrame:
        _check_columns(columns)
        names = list(dict.fromkeys(columns))
        tested = list(dict.fromkeys(where.meta.root_names())) if where is not None else []
        _check_columns(tuple(tested))
        parts = []
        for kind in self.kinds:
            if kinds is not None and kind not in kinds:
                continue
            if where is None:
                parts.append(self._kind_frame(kind, names))
                continue
            # the condition's columns first; the others only for the rows it keeps
            test = self._kind_frame(kind, tested)
            keep = test.select(where.fill_null(False)).to_series()
            if not keep.any():
                continue
            have = test.filter(keep)
            del test
            rest = [c for c in names if c not in tested]
            part = pl.concat([self._kind_frame(kind, rest).filter(keep), have], how="horizontal") if rest else have
            parts.append(part.select(names))
        if not parts:
            return pl.DataFrame(schema={c: _dtype(c) for c in names}).select(columns)
        return pl.concat(parts, how="vertical").select(columns)

    def frame(self) -> pl.DataFrame:
        if self._frame is None:
            names = list(STORED_SCHEMA)
            parts = [self._kind_frame(kind, names) for kind in self.kinds]
            self._frame = pl.concat(parts, how="vertical") if parts else pl.DataFrame(schema=STORED_SCHEMA)
        return self._frame

    def close(self) -> None:
        self._frame = None
        self._dir.cleanup()


def _read_all(columns: list[str], parts: list[_Part]) -> pl.DataFrame:
    """``columns`` of every row of ``parts``, one source after the other."""
    frames = [p.read(columns) for p in parts]
    if not frames:
        return pl.DataFrame(schema={c: _dtype(c) for c in columns})
    return pl.concat(frames, how="vertical", rechunk=False)
