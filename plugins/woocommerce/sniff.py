"""Decide whether a file is a Meta for WooCommerce log, from its name and first bytes."""

from __future__ import annotations

import os
import re

from auditor.ingest.sniff import head_text

from .patterns import ENTRY_START, FILE_NAME_HINT, META_MARKERS

# searched in "\n" + text: a literal first character lets ``re`` jump from line to line
_HEADER = re.compile("\n" + ENTRY_START.removeprefix("^"), re.MULTILINE)
# the markers, lower-cased: literal ones are tested with ``in``, the Graph URL by regex
_GRAPH_URL = re.compile(META_MARKERS[0])
_LITERAL_MARKERS = tuple(m.replace("\\", "").lower() for m in META_MARKERS[1:])
_NAME = re.compile(FILE_NAME_HINT)


def _has_marker(text: str) -> bool:
    lower = text.lower()
    if any(m in lower for m in _LITERAL_MARKERS):
        return True
    return "graph.facebook.com" in lower and _GRAPH_URL.search(lower) is not None


def sniff(file_name: str, head_bytes: bytes) -> float:
    """0.9+ for WooCommerce log headers with Meta plugin content; 0 for other content."""
    text = head_text(head_bytes)
    headers = _HEADER.search("\n" + text) is not None
    marker = _has_marker(text)
    named = _NAME.search(os.path.basename(file_name.split("!")[-1])) is not None
    if headers and marker:
        return 0.95 if named else 0.9
    if headers and named:
        return 0.8
    if headers:
        return 0.2  # a WooCommerce log of some other source
    if named and marker:
        return 0.5  # the file starts inside an entry
    return 0.0
