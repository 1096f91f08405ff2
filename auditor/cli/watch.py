"""``capi-audit watch PATH...``: follow logs live and alert as problems start and stop.

Shares its loading and input options with ``audit`` (:mod:`.options`); what is
here is only what following files needs.
"""

from __future__ import annotations

import re
import signal
from enum import Enum
from typing import Annotated, Optional

import typer

from ..ingest.inputs import InputError
from ..redact import redact_text
from . import loading
from .errors import err, fail
from .options import (
    ConfigOpt, DbOpt, DisableOpt, MinSeverity, PluginOpt, PluginsDirOpt, RulesetOpt, SetOpt, ShopifySecretOpt,
    SiteTimezoneOpt, SourceOpt,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(text: str, what: str) -> float:
    """``90s``, ``30m``, ``1.5h``, ``2d`` or plain seconds -> seconds."""
    m = _DURATION.match(text or "")
    if not m:
        raise typer.BadParameter(f"{what}: expected a duration such as 90s, 30m or 2h, got {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


class WatchFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


def watch_command(
    paths: Annotated[list[str], typer.Argument(help="Log files, directories (followed recursively) or globs to follow.")],
    format: Annotated[WatchFormat, typer.Option("--format", "-f", help="text: one human line per alert; jsonl: one JSON object per alert (report finding fields plus state).", case_sensitive=False, envvar="CAPI_AUDIT_WATCH_FORMAT")] = WatchFormat.text,
    poll: Annotated[bool, typer.Option("--poll", help="Poll with stat() instead of native notifications (NFS/CIFS, containers, bind mounts).", envvar="CAPI_AUDIT_POLL")] = False,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="Read files that exist at start-up from their beginning (default: from their end).")] = False,
    remind: Annotated[str, typer.Option("--remind", help="Repeat a firing alert at most this often (e.g. 30m, 2h; 0 = never).", envvar="CAPI_AUDIT_REMIND")] = "30m",
    resolve_after: Annotated[str, typer.Option("--resolve-after", help="Resolve a firing alert only after its problem looked over this long (intermittent failures stay one alert).", envvar="CAPI_AUDIT_RESOLVE_AFTER")] = "60s",
    alert_webhook: Annotated[Optional[str], typer.Option("--alert-webhook", help="POST each alert as JSON ({'text': ..., 'alert': {...}}, Slack-compatible) to this URL.", envvar="CAPI_AUDIT_WEBHOOK", show_envvar=True)] = None,
    window: Annotated[str, typer.Option("--window", help="Sliding window of recent rows the checks are evaluated over.", envvar="CAPI_AUDIT_WINDOW")] = "60m",
    window_rows: Annotated[int, typer.Option("--window-rows", help="Most rows kept in the window (oldest leave first).", min=1000)] = 200_000,
    min_severity: Annotated[MinSeverity, typer.Option("--min-severity", help="Alert on findings of at least this severity.", case_sensitive=False, envvar="CAPI_AUDIT_MIN_SEVERITY")] = MinSeverity.low,
    quiet_period: Annotated[str, typer.Option("--quiet-period", help="A multi-line entry is complete after the file was quiet this long (or at the next entry header).")] = "1s",
    tick: Annotated[str, typer.Option("--tick", help="Re-evaluate at least this often, so silences alert without new lines.")] = "5s",
    scan_interval: Annotated[str, typer.Option("--scan-interval", help="Safety re-scan of the watched paths for missed events.")] = "10s",
    poll_interval: Annotated[str, typer.Option("--poll-interval", help="stat() interval of --poll.")] = "1s",
    rotate_wait: Annotated[str, typer.Option("--rotate-wait", help="Keep reading a rotated or deleted file this long after its last write.")] = "5s",
    source: SourceOpt = None,
    site_timezone: SiteTimezoneOpt = None,
    shopify_secret: ShopifySecretOpt = None,
    set_: SetOpt = None,
    ruleset: RulesetOpt = None,
    plugin: PluginOpt = None,
    plugins_dir: PluginsDirOpt = None,
    disable: DisableOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,  # noqa: ARG001 - read by the app before the command (auditor.cli.config)
) -> None:
    """Follow connector logs live and alert as problems start, continue and stop.

    Checkpoints and alerts are stored with the audit history, so a restart
    (even after kill -9) neither loses nor repeats a line or an alert.
    """
    from ..store import get_engine
    from ..watch.persist import StoreBusy
    from ..watch.runner import WatchConfig, Watcher
    from ..watch.tailer import make_specs

    try:
        remind_s = parse_duration(remind, "--remind")
        cfg = WatchConfig(
            paths=list(paths), fmt=format.value, poll=poll, poll_interval=parse_duration(poll_interval, "--poll-interval"),
            from_beginning=from_beginning, remind_s=remind_s or None, window_s=parse_duration(window, "--window"),
            window_rows=window_rows, quiet_s=parse_duration(quiet_period, "--quiet-period"),
            tick_s=max(0.2, parse_duration(tick, "--tick")), scan_s=max(0.5, parse_duration(scan_interval, "--scan-interval")),
            rotate_wait_s=parse_duration(rotate_wait, "--rotate-wait"), min_severity=min_severity.value,
            force_source=source, webhook=alert_webhook, resolve_after_s=parse_duration(resolve_after, "--resolve-after"),
        )
    except typer.BadParameter as exc:
        fail(str(exc))
    registry = loading.registry_for(loading.PluginChoice(plugin, plugins_dir, disable))
    rules = loading.ruleset(ruleset, registry)
    loading.check_source(source, registry)
    cfg.options = loading.source_options(set_, registry, site_timezone=site_timezone, shopify_secret=shopify_secret)
    if alert_webhook and not re.match(r"^https?://", alert_webhook):
        fail("--alert-webhook must be an http:// or https:// URL")
    try:
        make_specs(cfg.paths)
    except InputError as exc:
        fail(str(exc))
    try:
        engine = get_engine(db)
    except Exception as exc:  # noqa: BLE001
        fail(f"cannot open the store: {exc}")

    def note(msg: str) -> None:
        err.print(f"capi-audit watch: {redact_text(msg)}", markup=False, style="dim")

    watcher = Watcher(cfg, registry, rules, engine, note=note)

    def on_signal(signum, frame):  # noqa: ARG001
        watcher.stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = watcher.run()
    except (InputError, StoreBusy) as exc:
        fail(str(exc))
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    err.print(summary.text(), markup=False)
    raise typer.Exit(0)
