"""How the command line complains: one redacted line on stderr, then exit 2."""

from __future__ import annotations

import typer
from rich.console import Console

from ..redact import redact_text

#: diagnostics, progress and the summary line; stdout stays clean for reports
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """Print ``capi-audit: error: message`` (redacted) and exit with ``code``."""
    err.print(f"capi-audit: error: {redact_text(message)}", markup=False)
    raise typer.Exit(code)
