"""The plugin hook API of capi-auditor.  This module is the reference.

Every built-in source and check is a plugin written against these hooks only,
exactly like a third-party plugin.  A plugin is a module (or object) with
functions decorated ``@auditor.hookimpl`` whose names are the hooks below.
It is found through the ``capi_auditor`` entry-point group, ``--plugin
MODULE_OR_FILE`` or ``--plugins-dir DIR`` (see ``docs/plugins.md``).

Order at start-up: plugins are loaded and registered; then, once per command,
:func:`capi_auditor_register_sources`, :func:`capi_auditor_register_checks` and
:func:`capi_auditor_ruleset_files` are called once per plugin.  During
``audit``/``watch`` the registered objects' own callables run: ``Source.sniff``
per input file, ``Source.parse`` per batch of lines (small files of a source
packed together: ``docs/plugins.md``), ``Source.finalize`` once
per source, ``Check.run`` once per audit (per window in ``watch``).

Hook implementations must accept only the arguments they need (pluggy passes
keyword arguments; a hook can gain arguments later without breaking plugins)
and must not give their arguments default values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from .registry import Check, Source

PROJECT = "capi_auditor"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def capi_auditor_register_sources(register: "Callable[[Source], None]") -> None:
    """Register the input formats this plugin can read.

    :param register: call ``register(Source(...))`` once per source.  The core
        validates the object (unique lowercase name, callables, framing) and
        raises ``ValueError``/``TypeError`` from ``register`` if it is wrong.

    Fires once per command, before any input is read.  Returns nothing.  See
    :class:`auditor.Source` for ``sniff`` (pick the file), ``parse`` (turn a
    batch of lines into canonical rows) and ``finalize`` (fix-ups that need all
    rows of the source).
    """


@hookspec
def capi_auditor_register_checks(register: "Callable[[Check], None]") -> None:
    """Register diagnoses this plugin computes.

    :param register: call ``register(Check(...))`` once per check.  A check
        names the diagnosis rows (ids from the ruleset) it may report; its
        ``run(ctx)`` receives an :class:`auditor.CheckContext` that reads the
        canonical rows (``ctx.select(columns, kinds=, where=)``) and holds the
        ruleset thresholds and the evidence window, and
        returns :class:`auditor.Finding` objects (build them with
        ``ctx.finding(rule, ...)``).

    Fires once per command, after sources are registered.  Returns nothing.
    """


@hookspec
def capi_auditor_ruleset_files() -> "Iterable[str | Path]":
    """Ship diagnosis rows with a plugin.

    Return paths of YAML files in the ruleset format (``rules:`` mapping of
    row id to title, severity, problem, cause, verify, fix, validate, evidence,
    thresholds).  They are merged into every ruleset before user overrides, so
    users can tune or disable the plugin's rows like built-in ones.  A plugin
    may not redefine a row that already exists.

    Fires once per command, while the ruleset is loaded.  Returns an iterable of
    paths (or nothing).
    """
