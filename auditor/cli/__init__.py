"""The ``capi-audit`` command line (Typer): one module per command.

* :mod:`.application` — the app, the root options (``--version``, ``--config``), ``main()``;
* :mod:`.options` — option declarations the commands share;
* :mod:`.config` — ``capi-audit.toml`` / ``[tool.capi-audit]`` settings;
* :mod:`.loading` — plugins, ruleset and source options, checked before input is read;
* :mod:`.errors`, :mod:`.output`, :mod:`.summary` — complaints, report output, the summary line;
* :mod:`.audit`, :mod:`.watch`, :mod:`.rules`, :mod:`.plugins`, :mod:`.history` — the commands.

Commands and exit codes follow ``docs/report-contract.md``.
"""

from .application import app, main

__all__ = ["app", "main"]
