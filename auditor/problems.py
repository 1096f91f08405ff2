"""Plugin problems: recorded in one place, with one meaning of ``--strict``.

A plugin that fails to load, register, sniff, parse, finalize or check is
named in the report's ``plugin_problems`` and the audit goes on with the other
plugins; with ``--strict`` the first problem stops the command instead.
Everything that catches plugin code calls :meth:`ProblemLog.record`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterable


class StrictModeError(RuntimeError):
    """A plugin failed while ``--strict`` was given."""


@dataclass(frozen=True)
class PluginProblem:
    """A plugin that failed to load, register or run (reported, not fatal)."""

    plugin: str
    what: str
    error: str


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, redacted (exception texts echo input)."""
    from .redact import redact_text

    return redact_text(f"{type(exc).__name__}: {exc}")


class ProblemLog(list):
    """The problems of one command, each once (a plain list of :class:`PluginProblem`).

    Safe to record into from the parse workers.
    """

    def __init__(self, items: Iterable[PluginProblem] = (), *, strict: bool = False):
        super().__init__()
        self.strict = strict
        self._lock = threading.Lock()
        for item in items:
            self.add(item)

    def add(self, problem: PluginProblem) -> None:
        with self._lock:
            if problem not in self:
                self.append(problem)

    def record(self, plugin: str, what: str, exc: BaseException) -> PluginProblem:
        """Note that ``plugin`` failed in ``what``; under ``strict``, raise :class:`StrictModeError`."""
        problem = PluginProblem(plugin, what, describe(exc))
        if self.strict:
            raise StrictModeError(f"plugin {plugin!r} failed in {what}: {problem.error}") from exc
        self.add(problem)
        return problem
