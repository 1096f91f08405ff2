"""Write Meta for WooCommerce debug-log entries, the way the plugin and the
WooCommerce file handler write them: the one writer behind the sample logs
(scripts/samplegen), the test fixtures and the benchmark inputs.

    from auditor.testing.woocommerce_log import entry, php_json, request, response

    text = entry(t, request(uri, user_agent, php_json({"data": [event]}), 0.41823))
    text += entry(t + 1, response(200, "OK", php_json({"events_received": 1})))

* :func:`request` / :func:`response` - the message of a ``Request`` /
  ``Response`` entry (``get_api_log_message()``: ``key: value`` lines,
  ``print_r`` header blocks, ending in a newline);
* :func:`entry` - one log entry around a message: file handler v2
  (``<gmdate('c')> NOTICE <message>``, with ``style="v2legacy"`` the
  `` CONTEXT: {"_legacy":true}`` suffix of ``WC_Logger::add()`` callers) or
  legacy v1 (``MM-DD-YYYY @ HH:MM:SS - <message>`` in site-local time);
* :func:`php_json`, :func:`print_r`, :func:`php_duration` - PHP's encodings.

Times are UTC epoch seconds (``int``).

Standard library only, and it imports nothing from ``auditor``: the sample
generator must run without the project's dependencies, and importing
``auditor.testing.woocommerce_log`` runs ``auditor/__init__`` (which loads
Polars), so scripts/samplegen loads this file by its path instead
(``importlib.util.spec_from_file_location``).  Tests and benchmarks import it
normally.
"""

from __future__ import annotations

import datetime as _dt
import json

__all__ = ["api_log_message", "entry", "iso_wc", "legacy_header", "php_duration", "php_json", "print_r", "request", "response"]

LEGACY_CONTEXT = ' CONTEXT: {"_legacy":true}'


def php_json(obj) -> str:
    """``json_encode()`` with PHP's defaults: compact, ``\\uXXXX`` for
    non-ASCII, ``/`` escaped as ``\\/``."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def php_duration(seconds: float) -> str:
    """``round(microtime delta, 5) . 's'``: PHP drops trailing zeros
    (``0.4100`` -> ``"0.41s"``)."""
    return ("%.5f" % seconds).rstrip("0").rstrip(".") + "s"


def print_r(d: dict) -> str:
    """``print_r($array, true)``, trimmed like the plugin's ``get_api_log_message()``."""
    return "Array\n(\n" + "".join("    [%s] => %s\n" % (k, v) for k, v in d.items()) + ")"


def api_log_message(kind: str, pairs, *, twice: bool = False, trim: bool = True) -> str:
    """Meta for WooCommerce ``get_api_log_message()``: ``kind`` then one
    ``key: value`` line per pair (a dict value is printed with :func:`print_r`,
    ``None`` as empty), ending in a newline.  ``twice=True``: plugin 2.x printed
    the kind twice.  ``trim=False`` keeps the space of an empty value
    (``"code: "``), as some hand-written fixtures have it."""
    lines = [kind]
    for key, value in pairs:
        if isinstance(value, dict):
            value = print_r(value)
        line = "%s: %s" % (key, "" if value is None else value)
        lines.append(line.strip() if trim else line)
    msg = "\n".join(lines) + "\n"
    return kind + "\n" + msg if twice else msg


def request(uri: str, user_agent: str, body: str, duration: str | float, *, method: str = "POST",
            headers: dict | None = None, twice: bool = False) -> str:
    """The message of a ``Request`` entry: ``method``, ``uri``, ``user-agent``,
    ``headers`` (print_r, if given), ``body`` (already encoded, e.g. by
    :func:`php_json`) and ``duration`` (a float in seconds goes through
    :func:`php_duration`; a string is written as is)."""
    if not isinstance(duration, str):
        duration = php_duration(duration)
    pairs = [("method", method), ("uri", uri), ("user-agent", user_agent)]
    if headers is not None:
        pairs.append(("headers", headers))
    return api_log_message("Request", [*pairs, ("body", body), ("duration", duration)], twice=twice)


def response(code: int | str, message: str, body: str, *, headers: dict | None = None, twice: bool = False,
             trim: bool = True) -> str:
    """The message of a ``Response`` entry: ``code``, ``message``, ``headers``
    (print_r, if given) and ``body``.  After a transport failure the plugin
    logs them empty: ``response("", "", "")``."""
    pairs = [("code", code), ("message", message)]
    if headers is not None:
        pairs.append(("headers", headers))
    return api_log_message("Response", [*pairs, ("body", body)], twice=twice, trim=trim)


def _utc(t: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc)


def iso_wc(t: int) -> str:
    """``gmdate('c')`` as the WooCommerce v2 file handler writes it: ``2026-03-02T10:00:00+00:00``."""
    return _utc(t).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def legacy_header(t: int, offset_hours: float) -> str:
    """``date_i18n('m-d-Y @ H:i:s')`` of the v1 handler: site-local time, no offset written."""
    return (_utc(t) + _dt.timedelta(hours=offset_hours)).strftime("%m-%d-%Y @ %H:%M:%S")


def entry(t: int, message: str, *, style: str = "v2", level: str = "notice", offset_hours: float | None = None) -> str:
    """One log entry holding ``message``, ending in a newline.

    ``style``: ``"v2"`` - ``<ISO> NOTICE <message>`` (file handler v2);
    ``"v2legacy"`` - the same with `` CONTEXT: {"_legacy":true}`` after the
    message (on its own line after a multi-line message);
    ``"viewer"`` - a line copied from the WooCommerce log viewer (``Notice``);
    ``"v1"`` - ``MM-DD-YYYY @ HH:MM:SS - <message>`` at ``offset_hours`` from
    UTC, followed by PHP_EOL even after a multi-line message (so a blank line).
    """
    if style == "v1":
        return "%s - %s\n" % (legacy_header(t, offset_hours), message)
    if style == "v2legacy":
        message += LEGACY_CONTEXT
    elif style not in ("v2", "viewer"):
        raise ValueError(f"unknown style {style!r}")
    text = "%s %s %s" % (iso_wc(t), level.capitalize() if style == "viewer" else level.upper(), message)
    return text if text.endswith("\n") else text + "\n"
