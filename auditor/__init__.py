"""capi-auditor: find out why a Meta Conversions API integration loses,
double-counts or delays conversions, from the logs a shop already has.

The public plugin API is what this module exports: ``hookimpl`` to mark hook
implementations, :class:`Source` and :class:`Check` to register, the
:class:`ParseContext` / :class:`CheckContext` they receive, :class:`Finding` /
:class:`Evidence` to report, and the canonical schema helpers.
"""

import os
from importlib.metadata import PackageNotFoundError, version

# Polars allocates through jemalloc, which by default keeps freed pages for
# seconds; an audit frees large parse batches one after another, so hand them
# back within 0.3 s and keep the resident size close to the live data.  Not
# sooner: every page returned is zeroed and faulted in again by the kernel
# (at 0 s a third of the CPU time of a 1 GB audit; at 0.1 s still ~25 %, and
# 0.3 s is ~10 % faster for the same peak on that input: README, Performance).
# Must be set before Polars loads; a value the user set wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:300,muzzy_decay_ms:0")

from .findings import Evidence, Finding, evidence_from
from .hookspecs import hookimpl
from .registry import Check, CheckContext, ParseContext, Source
from .schema import COLUMNS, KINDS, MESSAGE_CHARS, REJECT_SCHEMA, SCHEMA, USER_DATA_KEYS, conform, empty_frame, plain
from .userdata import classify_user_data

try:
    __version__ = version("capi-auditor")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "COLUMNS", "KINDS", "MESSAGE_CHARS", "REJECT_SCHEMA", "SCHEMA", "USER_DATA_KEYS", "Check", "CheckContext", "Evidence",
    "Finding", "ParseContext", "Source", "__version__", "classify_user_data", "conform",
    "empty_frame", "evidence_from", "hookimpl", "plain",
]
