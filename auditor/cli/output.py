"""Where a report goes and in which format, decided (and checked) before the audit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..report.render_text import render_markdown, render_table
from .errors import fail
from .options import ReportFormat

#: ``-o report.html`` without ``--format`` writes HTML
EXTENSIONS = {".json": ReportFormat.json, ".md": ReportFormat.markdown, ".markdown": ReportFormat.markdown,
              ".html": ReportFormat.html, ".htm": ReportFormat.html, ".txt": ReportFormat.table}


def choose_format(fmt: ReportFormat | None, output: Path | None) -> ReportFormat:
    """``--format``, else the output file's extension, else table on a terminal, else JSON."""
    if fmt is not None:
        return fmt
    if output is not None:
        return EXTENSIONS.get(output.suffix.lower(), ReportFormat.json)
    return ReportFormat.table if sys.stdout.isatty() else ReportFormat.json


def check_writable(path: Path | None, option: str) -> None:
    """A file the command will write must have an existing folder (checked before the work)."""
    if path is None:
        return
    if path.is_dir():
        fail(f"{option} {path}: is a directory")
    if not path.parent.is_dir():
        fail(f"{option} {path}: folder {path.parent} does not exist")


def render(report: dict[str, Any], fmt: ReportFormat, color: bool = False, result: Any = None) -> str:
    if fmt == ReportFormat.html:
        from ..report.html import render_html

        return render_html(report, result)
    if fmt == ReportFormat.json:
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == ReportFormat.markdown:
        return render_markdown(report)
    return render_table(report, color=color)
