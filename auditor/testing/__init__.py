"""Helpers for plugin authors' own tests (and ours).

    from auditor.testing import audit_text, make_registry, parse_text, schema_problems

* :func:`make_registry` — a registry holding only the plugins you name (no
  entry points), so a test sees exactly your source and checks;
* :func:`parse_text` — run one source over text (or bytes) through the real
  reader, ``parse``, ``finalize`` and schema conformance, returning the
  canonical frame and the rejected lines;
* :func:`parse_paths` — the same for files on disk (fixtures), with the
  notes, and a ``batch_bytes`` knob to show batch cuts change nothing;
* :func:`schema_problems` / :func:`assert_canonical` — say which column of a
  source's output is wrong;
* :func:`audit_text` — audit given files' text with your plugins (and,
  optionally, the built-ins) and return the JSON report dict.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

import polars as pl

from ..pipeline import audit, parse_units
from ..ingest.inputs import expand
from ..plugin_manager import load_plugins
from ..registry import Registry
from ..report.model import build_report
from ..ruleset import load_ruleset
from ..schema import REJECT_SCHEMA, plain, validate

__all__ = [
    "Parsed", "assert_canonical", "audit_text", "iter_plugin_hooks", "make_registry", "parse_paths", "parse_text",
    "schema_problems",
]


def make_registry(*plugins: ModuleType | object | str, builtins: bool = False) -> Registry:
    """A registry of exactly ``plugins`` (modules, objects, or module/file
    names); with ``builtins=True`` the built-in plugins too.  Other installed
    third-party plugins are never loaded, so a test does not depend on them."""
    loaded = load_plugins([p for p in plugins if isinstance(p, str)], builtins=builtins, autoload=False)
    pm = loaded.pm
    objects = [p for p in plugins if not isinstance(p, str)]
    for obj in objects:
        name = getattr(obj, "PLUGIN_NAME", None) or getattr(obj, "__name__", None) or type(obj).__name__
        if not pm.has_plugin(name) and not pm.is_registered(obj):  # e.g. also found as an entry point
            pm.register(obj, name=name)
    registry = Registry.collect(pm)
    registry.problems[:0] = loaded.problems
    return registry


def _write(files: dict[str, str | bytes] | str | bytes, folder: Path, default_name: str) -> list[str]:
    if isinstance(files, (str, bytes)):
        files = {default_name: files}
    paths = []
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths.append(str(path))
    return paths


def parse_text(
    source: str,
    text: str | bytes | dict[str, str | bytes],
    *plugins: ModuleType | object | str,
    options: dict[str, Any] | None = None,
    file_name: str = "input.log",
    builtins: bool = True,
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Parse ``text`` with the source called ``source`` (forced, no sniffing).

    Returns ``(canonical_frame, rejects)``; ``rejects`` are the input errors
    (``file``, ``line``, ``reason``) the core would report.  Plugin failures
    raise, so a test sees the traceback.
    """
    registry = make_registry(*plugins, builtins=builtins)
    if source not in registry.sources:
        raise KeyError(f"no source {source!r}; registered: {sorted(registry.sources)}")
    with tempfile.TemporaryDirectory() as tmp:
        units, _ = expand(_write(text, Path(tmp), file_name))
        rows, summary, _, problems = parse_units(units, registry, force_source=source, options=options, strict=True)
        frame = rows.frame()
        rows.close()
        prefix = tmp + "/"
    if problems:
        raise AssertionError(f"plugin problems: {problems}")
    errors = [{**e, "file": e["file"].replace(prefix, "")} for e in summary.errors]
    return frame.with_columns(pl.col("file").cast(pl.String).str.replace(prefix, "", literal=True)), errors


@dataclass(frozen=True)
class Parsed:
    """What :func:`parse_paths` gives: the canonical rows in file/line order
    (compact columns as plain strings),
    the input errors (``file``, ``line``, ``reason``) and the source's notes."""

    frame: pl.DataFrame
    rejects: pl.DataFrame
    notes: list[str]


def parse_paths(
    source: str,
    *paths: str | Path,
    options: dict[str, Any] | None = None,
    batch_bytes: int | None = None,
    plugins: tuple[ModuleType | object | str, ...] = (),
    builtins: bool = True,
) -> Parsed:
    """Parse files (or folders, globs, archives) with the source called
    ``source`` through the production path: reader, packing into batches,
    ``parse`` on the pool, spill, ``finalize`` with its declared columns and
    account filling.  ``batch_bytes`` makes batches that small.  Plugin
    failures raise, so a test sees the traceback."""
    registry = make_registry(*plugins, builtins=builtins)
    if source not in registry.sources:
        raise KeyError(f"no source {source!r}; registered: {sorted(registry.sources)}")
    units, _ = expand([str(p) for p in paths])
    if not units:
        raise FileNotFoundError(f"no input in {paths}")
    rows, summary, notes, problems = parse_units(
        units, registry, force_source=source, options=options, strict=True, batch_bytes=batch_bytes
    )
    frame = rows.frame()
    rows.close()
    if problems:
        raise AssertionError(f"plugin problems: {problems}")
    errors = pl.DataFrame(summary.errors, schema=REJECT_SCHEMA) if summary.errors else pl.DataFrame(schema=REJECT_SCHEMA)
    order = [c for c in ("file", "line", "event_id", "order_id") if c in frame.columns]
    frame = plain(frame).sort(order, maintain_order=True, nulls_last=True)  # compact columns as plain strings
    return Parsed(frame, errors.sort("file", "line", maintain_order=True), notes)


def schema_problems(df: pl.DataFrame) -> list[str]:
    """What is wrong with ``df`` as canonical output (empty = valid)."""
    return validate(df)


def assert_canonical(df: pl.DataFrame) -> None:
    """Fail with every wrong column named."""
    problems = validate(df)
    if problems:
        raise AssertionError("not canonical: " + "; ".join(problems))


def audit_text(
    files: dict[str, str | bytes] | str | bytes,
    *plugins: ModuleType | object | str,
    builtins: bool = True,
    ruleset: str = "default",
    options: dict[str, Any] | None = None,
    source: str | None = None,
    file_name: str = "input.log",
) -> dict[str, Any]:
    """Audit ``files`` (name -> text, or one text) and return the JSON report."""
    registry = make_registry(*plugins, builtins=builtins)
    rules = load_ruleset(ruleset, registry.ruleset_files)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "input"
        units, _ = expand(_write(files, folder, file_name))
        result = audit(units, registry, rules, force_source=source, options=options)
        report = build_report(result)
    # file names relative to the temporary folder keep reports comparable
    prefix = str(folder) + "/"
    for err in report["inputs"]["errors"]:
        err["file"] = err["file"].replace(prefix, "")
    for f in report["findings"]:
        for e in f["evidence"]:
            e["file"] = e["file"].replace(prefix, "")
    return report


def iter_plugin_hooks() -> Iterable[str]:
    """Names of every hook of the plugin API."""
    from .. import hookspecs

    return sorted(n for n in dir(hookspecs) if n.startswith("capi_auditor_"))
