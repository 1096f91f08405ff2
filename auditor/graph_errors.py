"""Graph API errors and transport failures: what they mean, in one place.

Every source that logs ``POST /{pixel}/events`` exchanges (WooCommerce, sGTM/Stape,
raw Graph logs) and every check that judges them read the same vocabulary from
here, so a Graph error is named the same way whichever log it came from:

* :func:`catalogue` -- the Graph error catalogue (``rulesets/catalogues/graph_errors.yaml``):
  (code, subcode, message pattern) -> diagnosis row, most specific entry first;
* :func:`row_expr` / :func:`meaning_expr` -- that classification as Polars
  expressions over the ``error_code``, ``error_subcode`` and ``message`` columns;
* :func:`classify` -- the same for one error, in Python;
* :data:`EVENTS_URL`, :data:`EVENTS_PATH`, :data:`TRANSPORT_TEXT`,
  :data:`HTML_PAGE`, :data:`SDK_ERROR` -- the patterns sources use to find the
  Graph endpoint, a failure without an answer, an HTML error page and an SDK
  error line that kept only its message.

Patterns use syntax both Python ``re`` and Rust ``regex`` (Polars) accept.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import polars as pl
import yaml

# ---------------------------------------------------------------------------
# Patterns shared by the sources
# ---------------------------------------------------------------------------

#: The Graph host.
GRAPH_HOST = r"graph\.facebook\.com"
#: ``/v20.0/<pixel>/events`` in a URL or a logged path, the version optional:
#: groups ``gv`` (1, the version) and ``px`` (2, the pixel id).
EVENTS_PATH = r"(?:/(?P<gv>v\d+(?:\.\d+)?))?/(?P<px>\d{5,20})/events\b"
#: ``https://graph.facebook.com/v20.0/<pixel>/events`` (the host required; same groups).
EVENTS_URL = GRAPH_HOST + EVENTS_PATH
#: Names the Graph endpoint somewhere in a line.
GRAPH_ENDPOINT = r"(?i)graph\.facebook\.com|/events\b"
#: Words of a send that got no answer: timeouts, DNS, TLS, refused or reset
#: connections, cURL/WP_Error and Node socket errors (case-insensitive).
TRANSPORT_WORDS = (
    r"curl error \d+|curl error|timed? ?out|could not resolve|resolve host|"
    r"\bssl\b|\btls\b|certificate|connection (?:refused|reset)|failed to connect|empty reply|"
    r"http_request_failed|wp_error|network is unreachable|no route to host|"
    r"econnreset|etimedout|econnrefused|enotfound|eai_again|socket hang up"
)
TRANSPORT_TEXT = rf"(?i)(?:{TRANSPORT_WORDS})"
#: An HTML page (Meta's 5xx "Sorry, something went wrong." page, a proxy's error page).
HTML_PAGE = r"(?i)<!doctype html|<html[\s>]|<h1 id=\"sorry\">|sorry, something went wrong"
#: A status-prefix line some HTTP clients log before the body:
#: ``[502] "Content-Type":["text/html; charset=utf-8"]`` (group 1 the status).
STATUS_PREFIX = r"^\s*\[([1-5]\d\d)\]\s*[\"{]"
#: An SDK error line that kept only the message:
#: ``FacebookRequestError: Missing Advertiser Tracking Enabled Flag: ...`` (Node),
#: ``FacebookAds\Http\Exception\AuthorizationException: ...`` (PHP business SDK),
#: ``facebook_business.exceptions.FacebookRequestError: ...`` (Python).
#: Group 1 the exception class, group 2 the message.
SDK_ERROR = (
    r"((?:FacebookAds\\Http\\Exception\\|facebook_business\.exceptions\.|Facebook\\Exceptions\\)[A-Za-z]+"
    r"|\bFacebook[A-Za-z]*(?:Exception|Error))\s*:[ \t]+(\S.*)$"
)
#: PHP's uncaught-exception line: ``Uncaught exception 'Facebook\Exceptions\...'
#: with message '(#32) Page request limited reached'`` (groups as :data:`SDK_ERROR`).
SDK_UNCAUGHT = r"Uncaught exception '([^']*Facebook[^']*)' with message '([^']*)'"
#: A Graph code written into a message: ``(#100) Missing Permission`` (group 1).
CODE_IN_TEXT = r"\(#(\d+)\)"

# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------

CATALOGUE_PACKAGE = "capi_auditor_rulesets"
CATALOGUE_FILE = "catalogues/graph_errors.yaml"
_ENTRY_KEYS = ("row", "code", "subcode", "message", "means", "seen")


@dataclass(frozen=True)
class GraphError:
    """One catalogue entry: which errors it recognises and the row they lead to."""

    row: str
    means: str
    codes: tuple[int, ...] = ()
    subcodes: tuple[int, ...] = ()
    message: str | None = None
    seen: str = ""
    order: int = 0

    @property
    def specificity(self) -> int:
        """A subcode outweighs a message, which outweighs a code alone."""
        return 4 * bool(self.subcodes) + 2 * bool(self.message) + bool(self.codes)

    def matches(self, code: int | None, subcode: int | None, text: str | None) -> bool:
        if self.codes and code not in self.codes:
            return False
        if self.subcodes and subcode not in self.subcodes:
            return False
        return not self.message or re.search(self.message, text or "", re.IGNORECASE) is not None

    def describe(self) -> str:
        """``code 100 / subcode 2804016 / message "not hashed"`` for people."""
        parts = []
        if self.codes:
            parts.append("code " + _ranges(self.codes))
        if self.subcodes:
            parts.append("subcode " + ", ".join(str(s) for s in self.subcodes))
        if self.message:
            parts.append(f'message matching "{self.message}"')
        return " / ".join(parts)


def _ranges(values: tuple[int, ...]) -> str:
    """``200-299`` for a run, ``613, 341`` otherwise."""
    if len(values) > 2 and list(values) == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}-{values[-1]}"
    return ", ".join(str(v) for v in values)


def _ints(value: Any, where: str) -> tuple[int, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[int] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            out.append(item)
        elif isinstance(item, str) and re.fullmatch(r"\d+-\d+", item.strip()):
            lo, hi = (int(x) for x in item.split("-"))
            out.extend(range(lo, hi + 1))
        else:
            raise ValueError(f"{where}: {item!r} is not a number or a range like 200-299")
    return tuple(out)


def parse_catalogue(data: Any, origin: str = CATALOGUE_FILE) -> tuple[GraphError, ...]:
    """Entries of a catalogue mapping, most specific first (file order among equals)."""
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list):
        raise ValueError(f"{origin}: expected a mapping with an 'errors' list")
    entries = []
    for i, raw in enumerate(data["errors"]):
        where = f"{origin}: errors[{i}]"
        if not isinstance(raw, dict) or not raw.get("row") or not raw.get("means"):
            raise ValueError(f"{where}: needs 'row' and 'means'")
        unknown = set(raw) - set(_ENTRY_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        message = raw.get("message")
        if message is not None:
            re.compile(message)  # a broken pattern fails here, not in a check
            pl.select(pl.lit("").str.contains(message))  # and Rust regex must accept it too
        entry = GraphError(
            row=str(raw["row"]), means=str(raw["means"]), codes=_ints(raw.get("code"), where),
            subcodes=_ints(raw.get("subcode"), where), message=message, seen=str(raw.get("seen", "")), order=i,
        )
        if not (entry.codes or entry.subcodes or entry.message):
            raise ValueError(f"{where}: names no code, subcode or message")
        entries.append(entry)
    return tuple(sorted(entries, key=lambda e: (-e.specificity, e.order)))


@functools.lru_cache(maxsize=1)
def catalogue() -> tuple[GraphError, ...]:
    """The built-in catalogue, most specific entry first."""
    text = resources.files(CATALOGUE_PACKAGE).joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text))


def catalogue_version() -> str:
    text = resources.files(CATALOGUE_PACKAGE).joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return str((yaml.safe_load(text) or {}).get("version", ""))


def classify(code: int | None, subcode: int | None = None, message: str | None = None) -> GraphError | None:
    """The catalogue entry for one error, or None when no entry knows it."""
    return next((e for e in catalogue() if e.matches(code, subcode, message)), None)


def entries_for(row: str) -> list[GraphError]:
    """The entries that lead to ``row`` (for ``capi-audit rules show``), most specific first."""
    return [e for e in catalogue() if e.row == row]


def rows() -> list[str]:
    """Every row the catalogue can lead to, in first-seen order."""
    return list(dict.fromkeys(e.row for e in sorted(catalogue(), key=lambda e: e.order)))


def _condition(entry: GraphError, code: pl.Expr, subcode: pl.Expr, message: pl.Expr) -> pl.Expr:
    cond = pl.lit(True)
    if entry.codes:
        cond = cond & code.is_in(list(entry.codes))
    if entry.subcodes:
        cond = cond & subcode.is_in(list(entry.subcodes))
    if entry.message:
        cond = cond & message.cast(pl.String).fill_null("").str.contains("(?i)" + entry.message)
    return cond.fill_null(False)


def _chain(values: list[str], code: pl.Expr, subcode: pl.Expr, message: pl.Expr) -> pl.Expr:
    entries = catalogue()
    expr: Any = pl
    for entry, value in zip(entries, values):
        expr = expr.when(_condition(entry, code, subcode, message)).then(pl.lit(value))
    return expr.otherwise(pl.lit(None, dtype=pl.String))


def row_expr(code: pl.Expr | str = "error_code", subcode: pl.Expr | str = "error_subcode",
             message: pl.Expr | str = "message") -> pl.Expr:
    """The diagnosis row of each error (String, null when no entry knows it).

    Run it on the error rows only (a few per audit): it is one ``when`` per entry."""
    c, s, m = (pl.col(x) if isinstance(x, str) else x for x in (code, subcode, message))
    return _chain([e.row for e in catalogue()], c, s, m)


def meaning_expr(code: pl.Expr | str = "error_code", subcode: pl.Expr | str = "error_subcode",
                 message: pl.Expr | str = "message") -> pl.Expr:
    """What each error means in a few words (the entry's ``means``), or null."""
    c, s, m = (pl.col(x) if isinstance(x, str) else x for x in (code, subcode, message))
    return _chain([e.means for e in catalogue()], c, s, m)
