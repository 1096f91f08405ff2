"""Watch mode: real files in temp dirs, the real watchdog observer, and the
watcher as a subprocess where a restart or a kill is involved.

Every wait is a poll with a deadline (never a fixed sleep used as an
assertion), so the tests stay robust on a loaded two-core machine.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auditor.plugin_manager import load_plugins
from auditor.registry import Registry
from auditor.ruleset import load_ruleset
from auditor.store import get_engine
from auditor.testing.woocommerce_log import entry, php_json, request, response
from auditor.cli.watch import parse_duration
from auditor.watch.framing import entry_regex, ready_bytes
from auditor.watch.runner import WatchConfig, Watcher

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 30.0
LOG_NAME = "facebook_for_woocommerce-{day}-5f1d2e3c4b5a69788796a5b4c3d2e1f0.log"

# --------------------------------------------------------------------------- log lines


TOKEN_ERROR_BODY = (
    '{"error":{"message":"Error validating access token: Session has expired on Tuesday, 10-Feb-26 08:00:00 PST.'
    ' (admin maria.silva@example.com, +351 912 345 678)",'
    '"type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AnnqtPx-obkaibqS-Ll2EzY"}}'
)


def exchange(pixel: str, *, at: datetime | None = None, error: bool = False, version: str = "3.7.1",
             eol: str = "\n") -> str:
    """A WooCommerce v2 Request + Response pair (as plugin >= 3.5 logs it), ``error`` = 190/463."""
    t = int((at or datetime.now(UTC)).timestamp())
    event = {
        "action_source": "website", "event_time": t, "event_id": str(uuid.uuid4()),
        "event_source_url": "https://shop.example/", "event_name": "PageView",
        "user_data": {"client_ip_address": "192.0.2.10", "client_user_agent": "Mozilla/5.0", "fbp": "fb.1.1770607209275.1543527058"},
    }
    body = php_json({"data": [event], "partner_agent": f"woocommerce-9.9.5-{version}"})
    req = request(f"https://graph.facebook.com/v21.0/{pixel}/events",
                  f"Facebook-for-WooCommerce/{version} (WooCommerce/9.9.5; WordPress/6.8.2)", body, "0.31s")
    if error:
        resp = response(400, "Bad Request", TOKEN_ERROR_BODY)
    else:
        resp = response(200, "OK", '{"events_received":1,"messages":[],"fbtrace_id":"A-S5djsVWaSNYvKS9y0i97Z"}')
    return (entry(t, req) + entry(t, resp)).replace("\n", eol)


def log_path(directory: Path) -> Path:
    return directory / LOG_NAME.format(day=datetime.now(UTC).strftime("%Y-%m-%d"))


@pytest.fixture
def wc_log(tmp_path) -> Path:
    """Today's (empty) connector log in a fresh ``wc-logs`` folder: the setup most tests share."""
    logs = tmp_path / "wc-logs"
    logs.mkdir()
    path = log_path(logs)
    path.touch()
    return path


def append(path: Path, text: str | bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(text.encode() if isinstance(text, str) else text)
        fh.flush()


def wait_for(cond, timeout: float = DEADLINE, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


# --------------------------------------------------------------------------- in-process watcher


class Sink:
    def __init__(self):
        self.alerts: list[dict] = []
        self.lock = threading.Lock()

    def write(self, alert: dict) -> None:
        with self.lock:
            self.alerts.append(alert)

    def of(self, rule: str | None = None, account: str | None = None, state: str | None = None) -> list[dict]:
        with self.lock:
            return [a for a in self.alerts if (rule is None or a["rule"] == rule)
                    and (account is None or a["account"] == account) and (state is None or a["state"] == state)]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.collect(load_plugins([], None, []).pm)


@pytest.fixture
def watch(tmp_path, registry):
    """Start a Watcher on a thread; returns (start(paths, ruleset=..., **config) -> (watcher, sink))."""
    started: list[tuple[Watcher, threading.Thread]] = []

    def start(paths, ruleset: str = "default", **kw):
        kw.setdefault("quiet_s", 0.5)
        kw.setdefault("tick_s", 0.5)
        kw.setdefault("scan_s", 2.0)
        kw.setdefault("rotate_wait_s", 1.0)
        kw.setdefault("resolve_after_s", 0.0)
        cfg = WatchConfig(paths=[str(p) for p in paths], **kw)
        sink = Sink()
        engine = get_engine(f"sqlite:///{tmp_path / 'watch.db'}")
        w = Watcher(cfg, registry, load_ruleset(ruleset, registry.ruleset_files), engine, sink=sink)
        errors: list[BaseException] = []

        def run():
            try:
                w.run()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                raise

        th = threading.Thread(target=run, daemon=True)
        th.start()
        started.append((w, th))
        wait_for(lambda: w.ready.is_set() or errors, what="watcher start")
        assert not errors, errors
        return w, sink

    yield start
    for w, th in started:
        w.stop()
        th.join(timeout=20)


def token_alerts(sink: Sink, pixel: str, state: str = "firing") -> list[dict]:
    return [a for a in sink.of("token-expired", pixel, state) if not a["reminder"]]


# --------------------------------------------------------------------------- unit level


def test_durations():
    assert parse_duration("30m", "x") == 1800
    assert parse_duration("1.5h", "x") == 5400
    assert parse_duration("250ms", "x") == 0.25
    assert parse_duration("42", "x") == 42


def test_framing_holds_partial_lines_and_last_entry():
    rx = entry_regex(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-]\d\d:?\d\d|Z) [A-Za-z]+(?:[ \t\r\n]|$)")
    a = b"2026-01-01T00:00:00+00:00 NOTICE Request\nmethod: POST\n"
    b = b"2026-01-01T00:00:01+00:00 NOTICE Response\ncode: 200\n"
    assert ready_bytes(a + b"2026-01-01T00:00:01+00:00 NOT", rx, quiet=False).ready == 0
    assert ready_bytes(a + b, rx, quiet=False).ready == len(a)  # the response waits for the next header
    assert ready_bytes(a + b, rx, quiet=True).ready == len(a + b)  # ...or for the quiet period
    assert ready_bytes(a + b + b"partial", rx, quiet=True).ready == len(a)  # the entry is still being written
    assert ready_bytes(a + b + b"partial", rx, quiet=True, final=True).ready == len(a + b)  # never a partial line
    assert ready_bytes(b"x" * 100, None, quiet=True, max_line_bytes=50).skip_partial


# --------------------------------------------------------------------------- tailing (in-process, real observer)


def test_append_starts_at_end_and_alerts_once(tmp_path, watch):
    logs = tmp_path / "wc-logs"
    logs.mkdir()
    path = log_path(logs)
    append(path, exchange("111111111111111", error=True))  # before the start: not read by default
    w, sink = watch([logs])
    append(path, exchange("222222222222222") + exchange("222222222222222", error=True))
    alert = wait_for(lambda: token_alerts(sink, "222222222222222"), what="token-expired alert")[0]
    # same field names as report findings, plus state
    for key in ("rule", "severity", "account", "count", "first_seen", "last_seen", "summary", "evidence", "fix", "validate", "state"):
        assert key in alert
    assert alert["state"] == "firing" and alert["severity"] == "critical"
    assert alert["evidence"] and alert["evidence"][0]["file"] == str(path)
    assert "maria.silva" not in json.dumps(alert) and "912 345" not in json.dumps(alert)  # redacted
    append(path, exchange("222222222222222", error=True))  # the same problem going on: no new alert
    wait_for(lambda: w.tailer.stats.lines == 30, what="all lines read")
    evals = w.summary.evaluations
    wait_for(lambda: w.summary.evaluations >= evals + 2, what="two more evaluations")
    assert len(token_alerts(sink, "222222222222222")) == 1
    assert not sink.of(account="111111111111111")


def test_new_file_and_crlf_are_read_from_their_start(tmp_path, watch):
    logs = tmp_path / "wc-logs"
    logs.mkdir()
    w, sink = watch([logs])
    newer = logs / "facebook_for_woocommerce-2031-01-02-0123456789abcdef0123456789abcdef.log"
    append(newer, exchange("333333333333333", error=True, eol="\r\n"))
    wait_for(lambda: token_alerts(sink, "333333333333333"), what="alert from a new CRLF file")
    assert w.tailer.stats.lines == 10


def test_partial_line_is_not_parsed_before_its_newline(tmp_path, watch, wc_log):
    path = wc_log
    logs = path.parent
    w, sink = watch([logs])
    text = exchange("444444444444444", error=True)
    cut = text.index('"code":190') + 3  # mid-line: the error code is split in two writes
    append(path, text[:cut])
    wait_for(lambda: w.tailer.stats.bytes == cut, what="partial bytes read")
    evals = w.summary.evaluations
    wait_for(lambda: w.summary.evaluations >= evals + 2, what="two evaluations after the partial write")
    assert not sink.of(account="444444444444444")
    assert w.tailer.stats.lines == text[:cut].count("\n") - 3  # request entry out; the response entry is held
    append(path, text[cut:])
    alert = wait_for(lambda: token_alerts(sink, "444444444444444"), what="alert once the line is complete")[0]
    assert "190/463" in alert["summary"]
    assert w.tailer.stats.lines == 10


def _each_alerted_once(w, sink, prefix: str) -> None:
    """Pixels prefix+1..3 each wrote one token error (10 lines): all read, one alert each."""
    for pixel in (prefix + "2", prefix + "3"):
        wait_for(lambda p=pixel: token_alerts(sink, p), what=f"alert for {pixel}")
    wait_for(lambda: w.tailer.stats.lines == 30, what="30 lines read")
    assert [len(token_alerts(sink, prefix + n)) for n in "123"] == [1, 1, 1]


def _alerted_before_rotation(watch, path: Path, prefix: str):
    """Watch the log's folder until pixel prefix+1's token error has raised its alert."""
    w, sink = watch([path.parent])
    append(path, exchange(prefix + "1", error=True))
    wait_for(lambda: token_alerts(sink, prefix + "1"), what="alert before rotation")
    return w, sink


def test_rename_rotation_reads_everything_once(tmp_path, watch, wc_log):
    path = wc_log
    logs = path.parent
    w, sink = _alerted_before_rotation(watch, path, "50000000000000")
    rotated = logs / path.name.replace("facebook_for_woocommerce-", "facebook_for_woocommerce.0-")
    os.rename(path, rotated)  # WooCommerce's size rotation: rename, then a new file under the old name
    append(rotated, exchange("500000000000002", error=True))  # a late write to the old handle
    append(path, exchange("500000000000003", error=True))
    _each_alerted_once(w, sink, "50000000000000")
    late = token_alerts(sink, "500000000000002")[0]
    assert late["evidence"][0]["file"] == str(rotated)
    assert w.tailer.stats.rotations >= 1


def test_copytruncate_loses_and_repeats_nothing(tmp_path, watch, wc_log):
    path = wc_log
    w, sink = _alerted_before_rotation(watch, path, "60000000000000")
    # logrotate copytruncate: lines written right before the copy may never be read from the original
    append(path, exchange("600000000000002", error=True))
    copy = Path(str(path) + ".1")
    shutil.copyfile(path, copy)
    with open(path, "r+b") as fh:
        fh.truncate(0)
    append(path, exchange("600000000000003", error=True))
    _each_alerted_once(w, sink, "60000000000000")
    assert w.tailer.stats.truncations >= 1


def test_deleted_file_is_read_to_its_end(tmp_path, watch, wc_log):
    path = wc_log
    logs = path.parent
    w, sink = watch([logs], rotate_wait_s=0.5)
    fh = open(path, "ab")
    fh.write(exchange("700000000000001", error=True).encode())
    fh.flush()
    os.unlink(path)  # deleted while the connector still holds it open
    fh.write(exchange("700000000000002", error=True).encode())
    fh.close()
    for pixel in ("700000000000001", "700000000000002"):
        wait_for(lambda p=pixel: token_alerts(sink, p), what=f"alert for {pixel}")
    wait_for(lambda: not w.tailer.files, what="deleted file released")


def test_resolved_when_sends_succeed_again(tmp_path, watch, wc_log):
    path = wc_log
    logs = path.parent
    w, sink = watch([logs])
    before = datetime.now(UTC) - timedelta(seconds=3)  # log times have one-second resolution
    append(path, exchange("800000000000001", at=before) + exchange("800000000000001", at=before, error=True))
    wait_for(lambda: token_alerts(sink, "800000000000001"), what="firing alert")
    append(path, exchange("800000000000001"))
    resolved = wait_for(lambda: sink.of("token-expired", "800000000000001", "resolved"), what="resolved alert")
    assert len(resolved) == 1 and resolved[0]["ongoing"] is False


def test_silence_alert_fires_from_the_timer(tmp_path, watch, wc_log):
    """A plugin update followed by no server event: nothing is written, the clock alone raises it."""
    path = wc_log
    logs = path.parent
    ruleset = tmp_path / "fast-silence.yaml"
    ruleset.write_text(
        "name: fast-silence\nversion: '1'\nextends: default\nrules:\n"
        "  integration-broken-after-update:\n    thresholds:\n      silence_hours: 0.002\n"  # 7.2 s
    )
    w, sink = watch([logs], ruleset=str(ruleset))
    now = datetime.now(UTC)
    pixel = "900000000000001"
    append(path, "".join(exchange(pixel, at=now - timedelta(seconds=s), version="3.4.1") for s in (6, 5, 4, 3)))
    append(path, exchange(pixel, at=now - timedelta(seconds=1), version="3.7.1"))  # the update, then silence
    wait_for(lambda: w.tailer.stats.lines == 50, what="lines read")
    lines_then = w.tailer.stats.lines
    alert = wait_for(lambda: sink.of("integration-broken-after-update", pixel, "firing"), what="silence alert")[0]
    assert w.tailer.stats.lines == lines_then  # raised by the timer: no line arrived in between
    assert "no server event" in alert["summary"]
    append(path, exchange(pixel, version="3.7.1"))  # server events resume
    wait_for(lambda: sink.of("integration-broken-after-update", pixel, "resolved"), what="silence resolved")


# --------------------------------------------------------------------------- subprocess watcher


def _spawn(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "auditor", "watch", *args, "--db", f"sqlite:///{tmp_path / 'proc.db'}",
           "--format", "jsonl", "--quiet-period", "0.5s", "--tick", "1s", "--scan-interval", "2s", "--resolve-after", "0s"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _started_watcher(tmp_path: Path, logs: Path) -> tuple[subprocess.Popen, "Reader"]:
    """A watcher subprocess on ``logs``, once it says it has started (killed if it never does)."""
    proc = _spawn(tmp_path, str(logs))
    out = Reader(proc)
    try:
        wait_for(out.started, what="watcher start")
    except BaseException:
        proc.kill()
        raise
    return proc, out


class Reader:
    """Collects a subprocess' stdout lines (JSON alerts) and stderr on threads."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.alerts: list[dict] = []
        self.stderr: list[str] = []
        threading.Thread(target=self._out, daemon=True).start()
        threading.Thread(target=self._err, daemon=True).start()

    def _out(self):
        for line in self.proc.stdout:
            if line.strip():
                self.alerts.append(json.loads(line))

    def _err(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def started(self) -> bool:
        return any("Ctrl-C to stop" in s for s in self.stderr)

    def firing(self, pixel: str) -> list[dict]:
        return [a for a in self.alerts if a["rule"] == "token-expired" and a["account"] == pixel and a["state"] == "firing" and not a["reminder"]]


def _stored_alerts(db: Path) -> list[tuple[str, str, int]]:
    import sqlite3

    with sqlite3.connect(db) as con:
        return con.execute("SELECT account, state, reminder FROM watchalert WHERE rule='token-expired'").fetchall()


def _offsets(db: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT path, \"offset\" FROM watchcheckpoint").fetchall())


def test_restart_after_kill_9_loses_and_repeats_nothing(tmp_path, wc_log):
    path = wc_log
    logs = path.parent
    proc, out = _started_watcher(tmp_path, logs)
    try:
        append(path, exchange("100000000000001", error=True))
        wait_for(lambda: out.firing("100000000000001"), what="first alert")
        # keep writing while the watcher is killed at an arbitrary moment
        writer_done = threading.Event()

        def writer():
            for i in range(2, 40):
                append(path, exchange(f"1000000000000{i:02d}", error=True))
                time.sleep(0.02)
            writer_done.set()

        th = threading.Thread(target=writer)
        th.start()
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=20)
        th.join()
    finally:
        if proc.poll() is None:
            proc.kill()
    append(path, exchange("100000000000001", error=True))  # the old problem goes on: no second alert
    proc2 = _spawn(tmp_path, str(logs))
    out2 = Reader(proc2)
    try:
        wait_for(lambda: path.stat().st_size == _offsets(tmp_path / "proc.db").get(str(path)), what="checkpoint at end of file")
        expected = {"100000000000001"} | {f"1000000000000{i:02d}" for i in range(2, 40)}
        stored = _stored_alerts(tmp_path / "proc.db")
        firing = [acc for acc, state, reminder in stored if state == "firing" and not reminder]
        assert sorted(firing) == sorted(expected)  # every account alerted exactly once across the two runs
        assert not out2.firing("100000000000001")
        printed = [(a["rule"], a["account"]) for a in out.alerts + out2.alerts if a["state"] == "firing" and not a["reminder"]]
        assert len(printed) == len(set(printed))  # no (rule, account) alert printed twice across the restart
    finally:
        proc2.send_signal(signal.SIGINT)
        proc2.wait(timeout=30)
    assert proc2.returncode == 0
    assert any("watch stopped" in s for s in out2.stderr)


@pytest.mark.parametrize("junk", [
    'PHP Warning:  Undefined array key "billing" in /var/www/html/wp-content/plugins/x/x.php on line 12\n',
    "{not json at all\n",
    "body: {\"events_received\":1}\n",  # a body line arriving long after its header
])
def test_one_unparseable_line_neither_stops_the_watcher_nor_a_restart(tmp_path, junk, wc_log):
    """Regression: a line that parses to nothing, after a fresh entry, ended the watcher
    (ColumnNotFoundError) at once and again on every restart."""
    path = wc_log
    logs = path.parent
    proc, out = _started_watcher(tmp_path, logs)
    try:
        append(path, exchange("120000000000001"))
        wait_for(lambda: _offsets(tmp_path / "proc.db").get(str(path)) == path.stat().st_size, what="entry read")
        time.sleep(1.2)  # past the quiet period: the junk line arrives on its own
        append(path, junk)
        wait_for(lambda: out.stderr and _offsets(tmp_path / "proc.db").get(str(path)) == path.stat().st_size
                 or proc.poll() is not None, what="junk line read")
        time.sleep(1.2)  # an evaluation or two on the window with the junk
        append(path, exchange("120000000000002", error=True))
        wait_for(lambda: out.firing("120000000000002") or proc.poll() is not None, what="alert after the junk line")
        assert proc.poll() is None, "".join(out.stderr)
        assert out.firing("120000000000002")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0, "".join(out.stderr)
    # restarted on the same store and files, with the same rows back in its window
    proc2 = _spawn(tmp_path, str(logs))
    out2 = Reader(proc2)
    try:
        wait_for(out2.started, what="restart")
        append(path, exchange("120000000000003", error=True))
        wait_for(lambda: out2.firing("120000000000003") or proc2.poll() is not None, what="alert after restart")
        assert proc2.poll() is None, "".join(out2.stderr)
    finally:
        proc2.send_signal(signal.SIGINT)
        proc2.wait(timeout=30)
    assert proc2.returncode == 0, "".join(out2.stderr)
    assert not any("internal error" in s for s in out.stderr + out2.stderr)


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []
    fail_first = 0

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_delivery_with_retry(tmp_path, wc_log):
    _Hook.received = []
    _Hook.fail_first = 1  # the first attempt fails: delivered by the retry
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = wc_log
    logs = path.parent
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    proc = _spawn(tmp_path, str(logs), "--alert-webhook", url)
    out = Reader(proc)
    try:
        wait_for(out.started, what="watcher start")
        append(path, exchange("120000000000001", error=True))
        got = wait_for(lambda: list(_Hook.received), what="webhook POST")[0]
        assert "token-expired" in got["text"]
        assert got["alert"]["rule"] == "token-expired" and got["alert"]["state"] == "firing"
        assert got["alert"]["account"] == "120000000000001"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        server.shutdown()
    assert any("webhook: 1 sent" in s for s in out.stderr), out.stderr


def test_poll_mode(tmp_path, wc_log):
    path = wc_log
    logs = path.parent
    proc = _spawn(tmp_path, str(logs), "--poll", "--poll-interval", "0.5s")
    out = Reader(proc)
    try:
        wait_for(out.started, what="watcher start")
        assert any("polling" in s for s in out.stderr)
        append(path, exchange("130000000000001", error=True))
        wait_for(lambda: out.firing("130000000000001"), what="alert in poll mode")
        other = logs / "facebook_for_woocommerce-2031-02-03-00112233445566778899aabbccddeeff.log"
        append(other, exchange("130000000000002", error=True))
        wait_for(lambda: out.firing("130000000000002"), what="alert from a new file in poll mode")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0


# --------------------------------------------------------------------------- alert hygiene


def test_alert_book_fast_and_full_passes_do_not_flap():
    from auditor.findings import Finding
    from auditor.watch.alerts import AlertBook

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    f = Finding(rule="token-expired", severity="critical", summary="s", account="1", ongoing=True)
    book = AlertBook(remind=timedelta(minutes=30))
    assert [e.state for e in book.update([f], t0, {"1"}, full=False)] == ["firing"]
    # the full window does not show it (e.g. a share below a threshold) while recent rows do: stays open
    assert book.update([], t0 + timedelta(seconds=5), {"1"}, full=True) == []
    assert book.update([f], t0 + timedelta(minutes=10), {"1"}, full=True) == []  # no reminder yet
    ev = book.update([f], t0 + timedelta(minutes=31), {"1"}, full=True)
    assert [(e.state, e.reminder) for e in ev] == [("firing", True)]
    assert book.update([], t0 + timedelta(minutes=32), {"1"}, full=False) == []  # fast passes never resolve by absence
    ev = book.update([], t0 + timedelta(minutes=33), {"1"}, full=True)
    assert [e.state for e in ev] == ["resolved"]
    # gone only because the account left the window: kept open
    book2 = AlertBook()
    book2.update([f], t0, {"1"})
    assert book2.update([], t0, {"2"}) == []


def test_a_new_file_sharing_only_its_first_bytes_is_read(tmp_path, watch):
    """Files of one shape may begin with the same 256 bytes (the same first request):
    that alone never made a new file a copy of a followed one."""
    logs = tmp_path / "wc-logs"
    logs.mkdir()
    at = datetime.now(UTC) - timedelta(seconds=2)
    shared = exchange("130000000000001", at=at)
    first = logs / "facebook_for_woocommerce-2031-01-01-0123456789abcdef0123456789abcdef.log"
    first.write_text(shared)
    w, sink = watch([logs], from_beginning=True)
    append(first, exchange("130000000000001", at=at))
    second = logs / "facebook_for_woocommerce-2031-01-02-0123456789abcdef0123456789abcdef.log"
    append(second, shared + exchange("130000000000002", at=at, error=True))
    wait_for(lambda: token_alerts(sink, "130000000000002"), what="alert from the new file")
    assert w.tailer.stats.copies_skipped == 0


def test_a_second_watcher_on_the_same_store_is_refused(tmp_path):
    """Two watchers on one store sent every alert twice: the second is refused with a
    clear message (exit 2) while the first runs, and may start once it stopped."""
    logs = tmp_path / "wc-logs"
    logs.mkdir()
    log_path(logs).touch()
    first = _spawn(tmp_path, str(logs))
    out = Reader(first)
    try:
        wait_for(out.started, what="first watcher")
        second = _spawn(tmp_path, str(logs))
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert "another capi-audit watch" in err and f"pid {first.pid}" in err and err.strip().count("\n") == 0
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=30)
    third = _spawn(tmp_path, str(logs))
    out3 = Reader(third)
    try:
        wait_for(out3.started, what="a watcher after the first stopped")
    finally:
        third.send_signal(signal.SIGINT)
        third.wait(timeout=30)
    assert third.returncode == 0


def test_an_intermittent_failure_is_one_alert_not_a_flapping_pair():
    """Resolved only after the problem looked over for the settle period: failing, ok,
    failing again within it is one firing alert, no resolved/firing pair."""
    from auditor.findings import Finding
    from auditor.watch.alerts import AlertBook

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    failing = Finding(rule="token-expired", severity="critical", summary="s", account="1", ongoing=True)
    over = Finding(rule="token-expired", severity="critical", summary="s", account="1", ongoing=False)
    book = AlertBook(settle=timedelta(seconds=60))
    assert [e.state for e in book.update([failing], t0, {"1"})] == ["firing"]
    events = []
    for i in range(1, 20):  # every other evaluation looks healthy for a moment
        events += book.update([over if i % 2 else failing], t0 + timedelta(seconds=i / 2), {"1"})
    assert events == []
    assert book.update([over], t0 + timedelta(seconds=30), {"1"}) == []  # quiet, but not long enough
    assert [e.state for e in book.update([over], t0 + timedelta(seconds=91), {"1"})] == ["resolved"]
    assert book.update([over], t0 + timedelta(seconds=95), {"1"}) == []  # once


def test_two_tier_evaluation_on_a_big_window(tmp_path, watch, wc_log):
    path = wc_log
    logs = path.parent
    w, sink = watch([logs], fast_rows=1000, tick_s=1.0)
    early = datetime.now(UTC) - timedelta(seconds=10)
    append(path, "".join(exchange("140000000000001", at=early) for _ in range(700)))  # 1,400 rows: more than the fast pass
    wait_for(lambda: w.window.rows > 1000, what="a window bigger than the fast pass")
    append(path, exchange("140000000000001", at=datetime.now(UTC) - timedelta(seconds=3), error=True))
    wait_for(lambda: token_alerts(sink, "140000000000001"), what="alert")
    append(path, exchange("140000000000001"))
    wait_for(lambda: sink.of("token-expired", "140000000000001", "resolved"), what="resolved")
    assert len(token_alerts(sink, "140000000000001")) == 1
