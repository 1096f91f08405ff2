"""What plugins register: sources (parsers) and checks (diagnoses).

Plugins *push* :class:`Source` and :class:`Check` objects through the
``register`` callbacks of the ``capi_auditor_register_*`` hooks (the llm/tox
pattern).  The core validates each object here, remembers which plugin gave it,
and contains a plugin that raises so the other plugins still run.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal

import polars as pl

from .plugin_manager import BUILTIN_PLUGINS
from .problems import PluginProblem, describe

if TYPE_CHECKING:
    import pluggy

    from .findings import Finding
    from .rows import CanonicalRows
    from .ruleset import Ruleset

_NAME = re.compile(r"^[a-z][a-z0-9_\-]*$")

Framing = Literal["lines", "entries", "document"]


def add_counts(totals: dict[str, int], counts: dict[str, int]) -> dict[str, int]:
    """``totals`` plus ``counts``, name by name (a new dict): how the counts of a
    :meth:`ParseContext.tally` add up, over batches and over cluster partitions."""
    out = dict(totals)
    for name, n in counts.items():
        out[name] = out.get(name, 0) + int(n)
    return out


@dataclass
class ParseContext:
    """Handed to :attr:`Source.parse` and :attr:`Source.finalize`.

    ``options`` holds user options (``site_timezone``, anything given with
    ``--set key=value``); :meth:`note` records a sentence for the report's
    ``notes`` (e.g. which time zone was inferred and why).
    """

    source: str
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: held while updating :meth:`shared` state (parse may run on two batches at once)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _shared: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _keyed: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    #: counting notes (:meth:`tally`): key -> (totals, render)
    tallies: dict[str, tuple[dict[str, int], Callable[[dict[str, int]], str]]] = field(
        default_factory=dict, repr=False, compare=False)

    def note(self, text: str, key: str | None = None) -> None:
        """Add ``text`` to the report's notes once.  With ``key``, it replaces the
        previous note of that key in place (a count kept up to date across batches)."""
        with self.lock:  # parse may run on two batches at once (Source.thread_safe_parse)
            old = self._keyed.get(key) if key is not None else None
            if old is not None and old in self.notes:
                self.notes[self.notes.index(old)] = text
            elif text not in self.notes:
                self.notes.append(text)
            if key is not None:
                self._keyed[key] = text

    def tally(self, key: str, counts: dict[str, int], render: Callable[[dict[str, int]], str]) -> None:
        """A note that counts over the whole source ("62 noise lines skipped"):
        ``counts`` are added to the running totals of ``key`` and the note reads
        ``render(totals)``.  Counts from every batch add up, and so do those of
        the partitions of a cluster run, which a plain :meth:`note` with numbers
        in its text cannot do.  ``render`` must be a module-level function."""
        with self.lock:
            totals = add_counts(self.tallies.get(key, ({}, render))[0], counts)
            self.tallies[key] = (totals, render)
            self.note(render(totals), key="tally:" + key)

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        """State of this source that lives across batches (e.g. a counter): made by
        ``factory`` on first use.  Update it while holding :attr:`lock`."""
        with self.lock:
            if key not in self._shared:
                self._shared[key] = factory()
            return self._shared[key]


@dataclass(frozen=True)
class Source:
    """A parser turning raw input into canonical rows (:mod:`auditor.schema`).

    :param name: unique short name (``--source NAME``), lowercase.
    :param sniff: ``sniff(file_name, head_bytes) -> float`` confidence 0..1 that
        this source reads the file; ``head_bytes`` are the first 64 KiB
        (decompressed).  The highest score wins; 0 means "not mine".
    :param parse: ``parse(batch, ctx) -> DataFrame | (DataFrame, rejects)``.
        ``batch`` is a frame with columns ``file`` (str), ``line`` (1-based int)
        and ``text`` (one decoded line without its newline; for ``document``
        framing one row per file).  A batch may hold several files packed
        together: a file's rows are contiguous and in order, and state carried
        from row to row must restart where ``file`` changes.  Return canonical rows, and
        optionally a ``rejects`` frame with ``file``, ``line``, ``reason`` for
        input that could not be understood.  Must be vectorized.
    :param framing: ``lines`` (any line boundary is a record boundary),
        ``entries`` (records span lines; a record starts at a line matching
        ``entry_start``, and batches are only cut before such lines), or
        ``document`` (the whole file at once, e.g. a JSON array).
    :param entry_start: regular expression matched at the start of a line,
        required for ``entries`` framing.
    :param finalize: optional ``finalize(frame, ctx) -> DataFrame`` called once
        with every canonical row of this source, after all files are parsed;
        for corrections that need all the evidence (e.g. inferring a site's
        time zone).  The rows come in parse order (files in input order, each
        file's batches in order); private ``_`` columns from ``parse`` are there.
    :param finalize_columns: the columns ``finalize`` reads or writes.  When
        given, ``finalize`` gets only those (the ones the rows have) plus
        ``_row``, each row's position, and returns either the same rows in the
        same order, or the rows it keeps with their ``_row`` (a deduplication
        drops rows this way; any order, each row once).  Each column it returns
        replaces the stored one, the others stay as they are (for the kept
        rows).  The rest of the rows stays on disk, so finalizing a multi-GB
        source costs a few columns of memory.  Empty (the default): ``finalize``
        gets every column and may add or drop rows, at the cost of holding the
        whole source in memory.
    :param options: the ``ctx.options`` keys this source reads (``--set KEY=VALUE``,
        ``site_timezone``...).  The command line refuses a ``--set`` key no
        loaded source declares, before reading any input.
    :param thread_safe_parse: ``parse`` keeps no state between batches (it only
        reads ``ctx.options`` and calls ``ctx.note``), so the core may parse two
        batches of a file at once on two cores.  Results are still taken in
        input order.  Default ``False``: batches are parsed one by one.
    """

    name: str
    sniff: Callable[[str, bytes], float]
    parse: Callable[[pl.DataFrame, ParseContext], Any]
    framing: Framing = "lines"
    entry_start: str | None = None
    finalize: Callable[[pl.DataFrame, ParseContext], pl.DataFrame] | None = None
    finalize_columns: tuple[str, ...] = ()
    description: str = ""
    thread_safe_parse: bool = False
    options: tuple[str, ...] = ()
    plugin: str = ""

    def validate(self) -> None:
        if isinstance(self.options, str) or not all(isinstance(o, str) for o in self.options):
            raise ValueError(f"source {self.name!r}: options must be a tuple of option names")
        if not _NAME.match(self.name):
            raise ValueError(f"source name {self.name!r} must be lowercase letters, digits, '_' or '-'")
        if self.framing not in ("lines", "entries", "document"):
            raise ValueError(f"source {self.name!r}: unknown framing {self.framing!r}")
        if self.framing == "entries":
            if not self.entry_start:
                raise ValueError(f"source {self.name!r}: framing 'entries' needs entry_start")
            re.compile(self.entry_start)
        if self.finalize_columns and (self.finalize is None or isinstance(self.finalize_columns, str)):
            raise ValueError(f"source {self.name!r}: finalize_columns needs a finalize and a tuple of names")
        for attr in ("sniff", "parse"):
            if not callable(getattr(self, attr)):
                raise ValueError(f"source {self.name!r}: {attr} must be callable")


@dataclass
class CheckContext:
    """Handed to :attr:`Check.run`.

    :ivar rows: every canonical row of the audit (:class:`auditor.rows.CanonicalRows`),
        grouped by ``kind`` (kinds in name order), each group sorted by
        ``logged_at``, ``file``, ``line``; ``account`` is filled (pixel id, else
        shop); low-cardinality text columns are compact (see
        :data:`auditor.schema.COMPACT_COLUMNS`).  In a batch audit they are on
        disk: read the columns you need with :meth:`select`.
    :ivar ruleset: the active :class:`~auditor.ruleset.Ruleset`.
    :ivar window_start / window_end: the time span the evidence covers; "late",
        "silent" and "ongoing" are judged against these, never against today.
    """

    rows: "CanonicalRows"
    ruleset: "Ruleset"
    window_start: datetime | None
    window_end: datetime | None
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: held while making or updating :meth:`shared` state (a watch full pass runs on a worker thread)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _shared: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        """Work several checks of this audit need (matched tables, a per-account
        summary): made by ``factory`` the first time a check asks, then shared.
        Name keys after your plugin (``"reconciliation.tables"``)."""
        with self.lock:
            if key not in self._shared:
                self._shared[key] = factory()
            return self._shared[key]

    def select(self, *columns: str, kinds: Iterable[str] | None = None, where: pl.Expr | None = None) -> pl.DataFrame:
        """``columns`` of the rows of ``kinds`` (default all rows) for which
        ``where`` holds, in row order.

        The way to read rows: only the named columns are loaded, and only the
        chosen rows kept, so a check costs the memory of what it uses::

            errors = ctx.select("account", "logged_at", "error_code",
                                kinds=["api_response"], where=pl.col("error_code").is_not_null())
        """
        return self.rows.select(*columns, kinds=None if kinds is None else tuple(kinds), where=where)

    @property
    def columns(self) -> list[str]:
        """The canonical column names."""
        return self.rows.columns

    @property
    def frame(self) -> pl.DataFrame:
        """Every column of every row in one frame: simple, but it holds the
        whole audit in memory (a multi-GB archive: GBs).  Prefer :meth:`select`."""
        return self.rows.frame()

    def thresholds(self, rule: str) -> dict[str, Any]:
        """The ruleset thresholds of ``rule`` (after user overrides)."""
        return dict(self.ruleset.rule(rule).thresholds)

    def finding(self, rule: str, **kwargs: Any) -> "Finding":
        """Build a :class:`~auditor.findings.Finding` for ``rule``, taking
        severity, fix and validate from the ruleset unless given."""
        from .findings import Finding

        row = self.ruleset.rule(rule)
        kwargs.setdefault("severity", row.severity)
        kwargs.setdefault("fix", row.fix)
        kwargs.setdefault("validate", row.validate)
        return Finding(rule=rule, **kwargs)


@dataclass(frozen=True)
class Check:
    """A diagnosis: turns canonical rows into findings of one or more rows.

    :param name: unique short name.
    :param rules: diagnosis row ids (``rulesets/default.yaml`` or rows a plugin
        ships) this check can report.  A check whose rows are all disabled in
        the ruleset is not run.
    :param run: ``run(ctx: CheckContext) -> Iterable[Finding]``.  Read the
        columns it needs with ``ctx.select(...)`` and use Polars expressions over
        them; loop only over small aggregates.
    :param needs: kinds of rows (``server_event``, ``order`` ...) the check
        needs; it is skipped when the input has none of them.
    """

    name: str
    rules: tuple[str, ...]
    run: Callable[[CheckContext], Iterable["Finding"]]
    needs: tuple[str, ...] = ()
    description: str = ""
    plugin: str = ""

    def validate(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"check name {self.name!r} must be lowercase letters, digits, '_' or '-'")
        if not self.rules:
            raise ValueError(f"check {self.name!r} declares no diagnosis rows")
        if not callable(self.run):
            raise ValueError(f"check {self.name!r}: run must be callable")


@dataclass
class Registry:
    """Sources and checks collected from every registered plugin."""

    sources: dict[str, Source] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)
    ruleset_files: list[tuple[str, str]] = field(default_factory=list)
    problems: list[PluginProblem] = field(default_factory=list)
    _protected: frozenset[str] = field(default=frozenset(), repr=False)
    _refused: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def collect(cls, pm: "pluggy.PluginManager", protected: Iterable[str] | None = None) -> "Registry":
        """Call the registration hooks one implementation at a time, so one
        broken plugin is named and skipped instead of breaking the others.

        A plugin that registers a source or check under a name of a
        ``protected`` plugin (default: the built-ins) is refused as a whole:
        it cannot silently replace how built-in formats are read or judged.
        """
        reg = cls(_protected=frozenset(BUILTIN_PLUGINS if protected is None else protected))
        hooks = pm.hook
        for impl in hooks.capi_auditor_register_sources.get_hookimpls():
            reg._call(impl, "register_sources", lambda obj, p=impl.plugin_name: reg._add_source(obj, p))
        for impl in hooks.capi_auditor_register_checks.get_hookimpls():
            reg._call(impl, "register_checks", lambda obj, p=impl.plugin_name: reg._add_check(obj, p))
        for impl in hooks.capi_auditor_ruleset_files.get_hookimpls():
            try:
                files = impl.function() or []
                reg.ruleset_files.extend((impl.plugin_name, str(f)) for f in files)
            except Exception as exc:  # noqa: BLE001 - plugin code
                reg.problems.append(PluginProblem(impl.plugin_name, "ruleset_files", describe(exc)))
        reg._drop_refused()
        return reg

    def _clash(self, what: str, name: str, held_by: str, plugin: str) -> str | None:
        """When a plugin takes a protected plugin's source or check name, refuse
        the unprotected one: ``"skip"`` the new object or ``"replace"`` the old."""
        if (held_by in self._protected) == (plugin in self._protected):
            return None
        intruder, owner = (plugin, held_by) if held_by in self._protected else (held_by, plugin)
        self._refused.setdefault(intruder, f"its {what} {name!r} has the name of a built-in {what} (plugin {owner})")
        return "skip" if intruder == plugin else "replace"

    def _drop_refused(self) -> None:
        for plugin, why in sorted(self._refused.items()):
            self.sources = {k: v for k, v in self.sources.items() if v.plugin != plugin}
            self.checks = {k: v for k, v in self.checks.items() if v.plugin != plugin}
            self.ruleset_files = [(p, f) for p, f in self.ruleset_files if p != plugin]
            self.problems.append(PluginProblem(plugin, "register", f"refused: {why}; rename it"))

    def _call(self, impl: Any, what: str, register: Callable[[Any], None]) -> None:
        try:
            impl.function(register=register)
        except Exception as exc:  # noqa: BLE001 - plugin code
            self.problems.append(PluginProblem(impl.plugin_name, what, describe(exc)))

    def _add_source(self, source: Source, plugin: str) -> None:
        if not isinstance(source, Source):
            raise TypeError(f"register() for sources expects auditor.Source, got {type(source).__name__}")
        source.validate()
        clash = self._clash("source", source.name, self.sources[source.name].plugin, plugin) if source.name in self.sources else None
        if clash == "skip":
            return
        if source.name in self.sources and clash is None:
            raise ValueError(f"source {source.name!r} already registered by {self.sources[source.name].plugin}")
        self.sources[source.name] = replace(source, plugin=plugin)

    def _add_check(self, check: Check, plugin: str) -> None:
        if not isinstance(check, Check):
            raise TypeError(f"register() for checks expects auditor.Check, got {type(check).__name__}")
        check.validate()
        clash = self._clash("check", check.name, self.checks[check.name].plugin, plugin) if check.name in self.checks else None
        if clash == "skip":
            return
        if check.name in self.checks and clash is None:
            raise ValueError(f"check {check.name!r} already registered by {self.checks[check.name].plugin}")
        self.checks[check.name] = replace(check, plugin=plugin)
