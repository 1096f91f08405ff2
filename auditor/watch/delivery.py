"""Where alerts go: stdout (``text`` or ``jsonl``) and an optional webhook.

The webhook gets a JSON POST ``{"text": <one Slack-compatible line>, "alert":
<the jsonl object>}`` from a background thread, retried with exponential
backoff; the tailer never waits for it.  Outcomes come back through
:meth:`WebhookSender.results` so the main thread records them in the store
(an alert still ``pending`` when the watcher stops is sent on the next start).
Every payload is redacted before it gets here and once more on the way out.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import IO, Any

from .. import __version__
from ..redact import redact_obj, redact_text

_MARK = {"firing": "FIRING", "resolved": "RESOLVED"}


def headline(alert: dict[str, Any]) -> str:
    state = "REMINDER" if alert.get("reminder") else _MARK.get(alert["state"], alert["state"].upper())
    who = f"account {alert['account']}" if alert.get("account") else "all accounts"
    return f"{state} {alert['severity']} {alert['rule']} ({who})"


def format_text(alert: dict[str, Any]) -> str:
    """One human line: time, state, severity, rule, account, summary (and the fix when it fires)."""
    line = f"{alert.get('alerted_at') or ''} {headline(alert)}: {alert.get('summary', '')}"
    if alert["state"] == "firing" and not alert.get("reminder") and alert.get("fix"):
        line += f" Fix: {' '.join(str(alert['fix']).split())}"
    return redact_text(line)


def slack_text(alert: dict[str, Any]) -> str:
    icon = ":white_check_mark:" if alert["state"] == "resolved" else (":bell:" if alert.get("reminder") else ":rotating_light:")
    text = f"{icon} *{headline(alert)}*\n{alert.get('summary', '')}"
    if alert["state"] == "firing" and alert.get("fix"):
        text += f"\n*Fix:* {' '.join(str(alert['fix']).split())}"
    return redact_text(text)


class StdoutSink:
    def __init__(self, fmt: str = "text", stream: IO[str] | None = None):
        self.fmt = fmt
        self.stream = stream

    def write(self, alert: dict[str, Any]) -> None:
        stream = self.stream or sys.stdout
        alert = redact_obj(alert)
        if self.fmt == "jsonl":
            stream.write(json.dumps(alert, ensure_ascii=False, default=str) + "\n")
        else:
            stream.write(format_text(alert) + "\n")
        stream.flush()


class WebhookSender:
    """POST alerts to ``url`` on a daemon thread; retry with backoff."""

    def __init__(self, url: str, *, max_attempts: int = 8, first_backoff: float = 1.0, max_backoff: float = 60.0,
                 timeout: float = 10.0):
        self.url = url
        self.max_attempts = max_attempts
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self._todo: queue.Queue[tuple[int | None, dict[str, Any]] | None] = queue.Queue()
        self._done: queue.Queue[tuple[int | None, str, int]] = queue.Queue()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="capi-audit-webhook", daemon=True)
        self._thread.start()

    @staticmethod
    def body(alert: dict[str, Any]) -> dict[str, Any]:
        alert = redact_obj(alert)
        return {"text": slack_text(alert), "alert": alert}

    def send(self, alert_id: int | None, alert: dict[str, Any]) -> None:
        self._idle.clear()
        self._todo.put((alert_id, self.body(alert)))

    def results(self) -> list[tuple[int | None, str, int]]:
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                return out

    def close(self, grace: float = 3.0) -> None:
        """Give queued alerts ``grace`` seconds, then stop (the rest stays pending in the store)."""
        deadline = time.monotonic() + grace
        while not self._todo.empty() or not self._idle.is_set():
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        self._stop.set()
        self._todo.put(None)
        self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._todo.get(timeout=0.5)
            except queue.Empty:
                self._idle.set()
                continue
            if item is None:
                break
            self._idle.clear()
            alert_id, body = item
            status, attempts = self._deliver(body)
            self._done.put((alert_id, status, attempts))
            if self._todo.empty():
                self._idle.set()

    def _deliver(self, body: dict[str, Any]) -> tuple[str, int]:
        data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
        backoff = self.first_backoff
        for attempt in range(1, self.max_attempts + 1):
            req = urllib.request.Request(self.url, data=data, method="POST", headers={
                "Content-Type": "application/json", "User-Agent": f"capi-audit/{__version__}"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - user-given URL
                    if 200 <= resp.status < 300:
                        return "sent", attempt
            except urllib.error.HTTPError as exc:
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    return "failed", attempt  # the receiver refuses this payload: retrying will not help
            except (urllib.error.URLError, OSError, TimeoutError):
                pass
            if attempt == self.max_attempts or self._stop.wait(backoff):
                break
            backoff = min(backoff * 2, self.max_backoff)
        return ("failed" if not self._stop.is_set() else "pending"), attempt
