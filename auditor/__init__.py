"""capi-auditor: find out why a Meta Conversions API integration loses,
double-counts or delays conversions, from the logs a shop already has.

The public plugin API is what this module exports: ``hookimpl`` to mark hook
implementations, :class:`Source` and :class:`Check` to register, the
:class:`ParseContext` / :class:`CheckContext` they receive, :class:`Finding` /
:class:`Evidence` to report, and the canonical schema helpers.
"""

from importlib.metadata import PackageNotFoundError, version

from .findings import Evidence, Finding, evidence_from
from .hookspecs import hookimpl
from .registry import Check, CheckContext, ParseContext, Source
from .schema import COLUMNS, KINDS, SCHEMA, USER_DATA_KEYS, conform, empty_frame
from .userdata import classify_user_data

try:
    __version__ = version("capi-auditor")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "COLUMNS", "KINDS", "SCHEMA", "USER_DATA_KEYS", "Check", "CheckContext", "Evidence",
    "Finding", "ParseContext", "Source", "__version__", "classify_user_data", "conform",
    "empty_frame", "evidence_from", "hookimpl",
]
