"""Decide whether a file is a Meta for WooCommerce log, from its name and first bytes."""

from __future__ import annotations

import os
import re

from auditor.ingest.sniff import head_text

from .patterns import ENTRY_START, FILE_NAME_HINT, META_MARKERS

_HEADER = re.compile(ENTRY_START, re.MULTILINE)
_MARKER = re.compile("|".join(META_MARKERS), re.IGNORECASE)
_NAME = re.compile(FILE_NAME_HINT)




def sniff(file_name: str, head_bytes: bytes) -> float:
    """0.9+ for WooCommerce log headers with Meta plugin content; 0 for other content."""
    text = head_text(head_bytes)
    headers = _HEADER.search(text) is not None
    marker = _MARKER.search(text) is not None
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
