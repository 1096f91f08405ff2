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

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from .schema import SCHEMA, compact_dtype

#: Sort key of the rows within each kind.
TIME_ORDER = ("logged_at", "file", "line")
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
        _text_rank(c) if keys.schema[c] in (pl.String, pl.Categorical) else pl.col(c) for c in KEY_COLUMNS
    ).with_row_index("_i")
    kinds = keys.get_column("kind").cast(pl.String).unique().sort(nulls_last=True).to_list()
    ordered = ranked.sort(*KEY_COLUMNS, nulls_last=True, maintain_order=True)
    groups = {key[0]: part.get_column("_i") for key, part in ordered.group_by("kind", maintain_order=True)}
    # the kind ranks follow name order; map each group back to its kind's name
    by_rank = [groups[k] for k in sorted(groups, key=lambda r: (r is None, r))]
    return dict(zip(kinds, by_rank))


#: ``account`` as the checks see it: the pixel id, else the shop.
ACCOUNT = pl.coalesce("account", "pixel_id", "shop")


def _narrow(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """A frame of ``names`` built from the Series themselves: an eager select on
    a wide frame of many batch chunks would rechunk far more than it names."""
    return pl.DataFrame([frame.get_column(n) for n in names])


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
    kinds = list(orders)
    schema = frame.schema
    names = frame.columns
    kind_text = frame.get_column("kind").cast(pl.String)

    def kinds_filling(name: str) -> list[bool]:
        """Per kind (order of ``orders``): does any row of that kind fill ``name``?"""
        filled = pl.DataFrame([kind_text, frame.get_column(name).is_not_null()]).group_by("kind").agg(pl.col(name).any())
        found = dict(filled.iter_rows())
        return [bool(found.get(k)) for k in kinds]

    fills_of = {name: kinds_filling(name) for name in names if name != "kind" and name not in replaced}
    for name in ("kind", *replaced):  # computed columns are gathered whole
        fills_of[name] = [True] * len(orders)
    del kind_text
    groups: list[dict[str, pl.Series | None]] = [{} for _ in orders]
    for name in names:
        fills = fills_of[name]
        col = replaced.pop(name, None)
        if col is None:
            col = frame.drop_in_place(name) if any(fills) else None
        else:
            frame.drop_in_place(name)
        for group, order, fill in zip(groups, orders.values(), fills):
            group[name] = col.gather(order) if fill else None  # None: a constant null
        del col
    del frame
    parts = []
    for group, order in zip(groups, orders.values()):
        part = pl.DataFrame([s for s in group.values() if s is not None], height=len(order))
        part = part.with_columns(pl.lit(None, dtype=schema[n]).alias(n) for n, s in group.items() if s is None)
        parts.append(part.select(names))
        group.clear()
    return pl.concat(parts, how="vertical")


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

    def select(self, *columns: str, kinds: tuple[str, ...] | list[str] | None = None) -> pl.DataFrame:
        """The named columns of the rows of ``kinds`` (default every row), in row order.

        Only these columns are read, so a check that names the six columns it
        uses costs six columns of memory, not the whole audit.
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


def _check_columns(columns: tuple[str, ...]) -> None:
    unknown = [c for c in columns if c not in STORED_SCHEMA]
    if unknown:
        raise pl.exceptions.ColumnNotFoundError(f"not a canonical column: {', '.join(unknown)}")


class FrameRows(CanonicalRows):
    """Rows held in memory as one canonical frame, already grouped by kind
    (:func:`auditor.engine.canonical_frame`)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame
        self.height = frame.height
        self.kinds = frame.get_column("kind").unique(maintain_order=True).to_list()

    def select(self, *columns: str, kinds: tuple[str, ...] | list[str] | None = None) -> pl.DataFrame:
        _check_columns(columns)
        lf = self._frame.lazy()
        if kinds is not None:
            lf = lf.filter(pl.col("kind").is_in(list(kinds)))
        return lf.select(columns).collect()

    def frame(self) -> pl.DataFrame:
        return self._frame


@dataclass
class _Part:
    """One source's rows on disk: the parse batches, and files of columns that
    replace the batches' ones for every row of the source (``finalize`` output)."""

    name: str
    batches: list[tuple[Path, frozenset[str]]] = field(default_factory=list)
    replaced: list[tuple[Path, frozenset[str]]] = field(default_factory=list)
    height: int = 0

    def has(self, column: str) -> bool:
        return any(column in cols for _, cols in (*self.replaced, *self.batches))

    def read(self, columns: list[str]) -> pl.DataFrame:
        """``columns`` for every row of the source (a column it has none of is a constant null)."""
        where: dict[Path | None, list[str]] = {}
        for c in columns:
            path = next((p for p, cols in reversed(self.replaced) if c in cols), None)
            if path is None and not any(c in cols for _, cols in self.batches):
                continue  # absent: a constant null below
            where.setdefault(path, []).append(c)
        found: dict[str, pl.Series] = {}
        for path, names in where.items():
            if path is None:  # from the batches, each holding some of the names
                parts = []
                for p, cols in self.batches:
                    part = pl.read_ipc(p, columns=[n for n in names if n in cols])
                    parts.append(part.with_columns(
                        pl.lit(None, dtype=_dtype(n)).alias(n) for n in names if n not in cols
                    ).select(names))
                df = pl.concat(parts, how="vertical_relaxed", rechunk=False) if parts else pl.DataFrame()
                parts.clear()
            else:
                df = pl.read_ipc(path, columns=names)
            found.update({n: df.get_column(n) for n in names})
            del df
        out = pl.DataFrame([found[c] for c in columns if c in found], height=self.height)
        missing = [c for c in columns if c not in found]
        if missing:
            out = out.with_columns(pl.lit(None, dtype=_dtype(c)).alias(c) for c in missing)
        return out.select(columns)


def _dtype(name: str) -> pl.DataType:
    return STORED_SCHEMA.get(name) or pl.Null()


class SpillWriter:
    """Collects each source's canonical rows on disk while an audit parses.

    The files live in a temporary folder (under ``TMPDIR``) that is removed
    when the :class:`SpilledRows` made by :meth:`finish` is closed or collected.
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="capi-audit-")
        self._parts: dict[str, _Part] = {}
        self._n = 0

    @property
    def sources(self) -> list[str]:
        return sorted(n for n, p in self._parts.items() if p.height)

    def height(self, source: str) -> int:
        return self._parts[source].height

    def columns(self, source: str) -> list[str]:
        """Every column the source's rows have (private ``_`` working columns too)."""
        part = self._parts[source]
        names = {c for _, cols in (*part.batches, *part.replaced) for c in cols}
        return [c for c in STORED_SCHEMA if c in names] + sorted(c for c in names if c not in STORED_SCHEMA)

    def _write(self, df: pl.DataFrame) -> tuple[Path, frozenset[str]]:
        self._n += 1
        path = Path(self._dir.name) / f"{self._n:06d}.arrow"
        df.write_ipc(path, compression="lz4")
        return path, frozenset(df.columns)

    def append(self, source: str, rows: pl.DataFrame) -> None:
        """Add a parsed batch of ``source`` (canonical, compact; private columns kept)."""
        if not rows.height:
            return
        part = self._parts.setdefault(source, _Part(source))
        part.batches.append(self._write(rows))
        part.height += rows.height

    def read(self, source: str, columns: list[str] | None = None) -> pl.DataFrame:
        """``columns`` (default all) of every row of ``source``, in parse order."""
        names = self.columns(source)
        return self._parts[source].read([c for c in names if columns is None or c in columns])

    def replace_columns(self, source: str, columns: pl.DataFrame) -> None:
        """Store ``columns`` (one value per row of the source, in parse order) in
        place of the source's columns of the same names."""
        part = self._parts[source]
        if columns.height != part.height:
            raise ValueError(f"{columns.height} rows given for the {part.height} rows of source {source!r}")
        if columns.width:
            part.replaced.append(self._write(columns))

    def replace_rows(self, source: str, rows: pl.DataFrame) -> None:
        """Store ``rows`` as the source's whole content (a ``finalize`` that adds or drops rows)."""
        part = self._parts[source] = _Part(source)
        if rows.height:
            part.batches.append(self._write(rows))
            part.height = rows.height

    def drop(self, source: str) -> None:
        self._parts.pop(source, None)

    def finish(self) -> "SpilledRows":
        """The rows of every source, read-only, ordered for checks."""
        parts = [self._parts[n] for n in self.sources]
        return SpilledRows(parts, self._dir)


class SpilledRows(CanonicalRows):
    """Rows spilled to disk by :class:`SpillWriter`, read a few columns at a time."""

    def __init__(self, parts: list[_Part], directory: tempfile.TemporaryDirectory) -> None:
        self._parts = parts
        self._dir = directory
        self._offsets = [0]
        for p in parts:
            self._offsets.append(self._offsets[-1] + p.height)
        self.height = self._offsets[-1]
        self._frame: pl.DataFrame | None = None
        keys = self._read_all(list(KEY_COLUMNS), parts)
        self._orders = kind_orders(keys)
        self.kinds = list(self._orders)
        times = keys.get_column("logged_at").drop_nulls()
        self._span = (times.min(), times.max()) if len(times) else (None, None)
        # per kind, which sources hold its rows (a read skips the others)
        starts = pl.Series(self._offsets[1:-1], dtype=pl.UInt32)
        self._sources_of: dict[str | None, set[int]] = {
            k: set(_source_index(order, starts).unique().to_list()) for k, order in self._orders.items()
        }

    def _read_all(self, columns: list[str], parts: list[_Part]) -> pl.DataFrame:
        frames = [p.read(columns) for p in parts]
        if not frames:
            return pl.DataFrame(schema={c: _dtype(c) for c in columns})
        return pl.concat(frames, how="vertical", rechunk=False)

    def time_span(self) -> tuple[datetime | None, datetime | None]:
        return self._span

    def select(self, *columns: str, kinds: tuple[str, ...] | list[str] | None = None) -> pl.DataFrame:
        _check_columns(columns)
        chosen = [k for k in self._orders if kinds is None or k in kinds]
        if not chosen:
            return pl.DataFrame(schema={c: _dtype(c) for c in columns})
        index = pl.concat([self._orders[k] for k in chosen], rechunk=True)
        needed = sorted(set().union(*(self._sources_of[k] for k in chosen)))
        if len(needed) < len(self._parts):  # read only the sources holding these kinds
            starts = pl.Series(self._offsets[1:-1], dtype=pl.UInt32)
            src = _source_index(index, starts)
            shift = [0] * len(self._parts)
            kept = 0
            for i, p in enumerate(self._parts):
                shift[i] = self._offsets[i] - kept
                kept += p.height if i in needed else 0
            index = index - pl.Series(shift, dtype=pl.UInt32).gather(src)
        parts = [self._parts[i] for i in needed]
        data = self._read_all(list(columns), parts)
        return data.select(pl.all().gather(index)) if data.width else pl.DataFrame(height=len(index))

    def frame(self) -> pl.DataFrame:
        if self._frame is None:
            self._frame = grouped_by_kind([self._read_all(self.columns, self._parts)])
        return self._frame

    def close(self) -> None:
        self._frame = None
        self._dir.cleanup()


def _source_index(positions: pl.Series, starts: pl.Series) -> pl.Series:
    """For global row positions: the index of the source each falls in (``starts``:
    the first position of every source but the first)."""
    if not len(starts):
        return pl.zeros(len(positions), dtype=pl.UInt32, eager=True)
    return starts.search_sorted(positions, side="right").cast(pl.UInt32)
