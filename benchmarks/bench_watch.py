"""Benchmark `capi-audit watch` against a writer appending 5,000 lines/second.

A writer thread appends realistic Meta-for-WooCommerce Request/Response
entries (10 lines per exchange) to a daily log file at ``--rate`` lines per
second for ``--seconds`` seconds, in small bursts every 10 ms like a busy PHP
site.  Once a second one exchange is a 190/463 token error for a *new* pixel,
so each one must raise its own ``token-expired`` alert.  The watcher runs as a
subprocess with ``--format jsonl``; the benchmark reports:

* lines/second sustained (lines the watcher read / writing time, and whether
  it had caught up with the writer when writing stopped);
* alert latency: time from the error line written to its alert on stdout
  (median, p95, max);
* CPU of the watcher process while the writer runs (from /proc, 100% = one core).

    python benchmarks/bench_watch.py                   # 5,000 lines/s for 20 s
    python benchmarks/bench_watch.py --rate 20000 --seconds 30

Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from auditor.testing.woocommerce_log import entry, php_json, request, response

ROOT = Path(__file__).resolve().parent.parent
LINES_PER_EXCHANGE = 10


TOKEN_ERROR_BODY = ('{"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException",'
                    '"code":190,"error_subcode":463,"fbtrace_id":"AnnqtPx-obkaibqS-Ll2EzY"}}')


def exchange(pixel: str, at: datetime, error: bool) -> str:
    t = int(at.timestamp())
    event = {"action_source": "website", "event_time": t, "event_id": str(uuid.uuid4()), "event_source_url": "https://shop.example/",
             "user_data": {"client_ip_address": "192.0.2.10", "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                           "fbp": "fb.1.1770607209275.1543527058"}, "event_name": "PageView"}
    req = request(f"https://graph.facebook.com/v21.0/{pixel}/events", "Facebook-for-WooCommerce/3.7.1 (WooCommerce/9.9.5; WordPress/6.8.2)",
                  php_json({"data": [event], "partner_agent": "woocommerce-9.9.5-3.7.1"}), "0.31s")
    if error:
        resp = response(400, "Bad Request", TOKEN_ERROR_BODY)
    else:
        resp = response(200, "OK", '{"events_received":1,"messages":[],"fbtrace_id":"A-S5djsVWaSNYvKS9y0i97Z"}')
    return entry(t, req) + entry(t, resp)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=5000, help="lines per second written")
    ap.add_argument("--seconds", type=float, default=20.0, help="how long the writer runs")
    ap.add_argument("--poll", action="store_true", help="run the watcher with --poll")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    logs = work / "wc-logs"
    logs.mkdir()
    log = logs / f"facebook_for_woocommerce-{datetime.now(UTC):%Y-%m-%d}-0123456789abcdef0123456789abcdef.log"
    log.touch()
    cmd = [sys.executable, "-m", "auditor", "watch", str(logs), "--format", "jsonl", "--db", f"sqlite:///{work / 'watch.db'}",
           "--remind", "0"] + (["--poll"] if args.poll else [])
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    written_at: dict[str, float] = {}
    latencies: dict[str, float] = {}
    stderr: list[str] = []
    started = threading.Event()

    def read_out():
        for line in proc.stdout:
            alert = json.loads(line)
            if alert["rule"] == "token-expired" and alert["state"] == "firing" and alert["account"] in written_at:
                latencies.setdefault(alert["account"], time.monotonic() - written_at[alert["account"]])

    def read_err():
        for line in proc.stderr:
            stderr.append(line)
            if "Ctrl-C to stop" in line:
                started.set()

    threading.Thread(target=read_out, daemon=True).start()
    threading.Thread(target=read_err, daemon=True).start()
    if not started.wait(60):
        proc.kill()
        sys.exit("watcher did not start:\n" + "".join(stderr))

    burst_s = 0.01
    per_burst = max(1, round(args.rate * burst_s / LINES_PER_EXCHANGE))
    lines_written = 0
    errors = 0
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    next_error = t0 + 1.0
    with open(log, "a", encoding="utf-8") as fh:
        tick = t0
        while time.monotonic() - t0 < args.seconds:
            now = datetime.now(UTC)
            parts = [exchange("1482736450918273", now, False) for _ in range(per_burst)]
            pixel = None
            if time.monotonic() >= next_error:
                errors += 1
                pixel = f"77{errors:013d}"
                parts[-1] = exchange(pixel, now, True)
                next_error += 1.0
            fh.write("".join(parts))
            fh.flush()
            if pixel:
                written_at[pixel] = time.monotonic()
            lines_written += per_burst * LINES_PER_EXCHANGE
            tick += burst_s
            delay = tick - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    t1 = time.monotonic()
    cpu1 = cpu_seconds(proc.pid)
    size = os.path.getsize(log)

    def committed() -> int:
        import sqlite3

        try:
            with sqlite3.connect(work / "watch.db") as con:
                row = con.execute('SELECT MAX("offset") FROM watchcheckpoint').fetchone()
            return int(row[0] or 0)
        except sqlite3.Error:
            return 0

    deadline = time.monotonic() + 60
    while (len(latencies) < errors or committed() < size) and time.monotonic() < deadline:
        time.sleep(0.05)
    caught_up_after = time.monotonic() - t1
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    summary = next((s for s in stderr if s.startswith("watch stopped")), "").strip()
    lines_read = int(summary.split(" line(s) read")[0].rsplit(" ", 1)[1]) if "line(s) read" in summary else -1

    lat = sorted(latencies.values())
    wall = t1 - t0
    print(f"writer: {lines_written} lines in {wall:.1f}s = {lines_written / wall:,.0f} lines/s "
          f"({os.path.getsize(log) / wall / 1e6:.2f} MB/s), {errors} token errors for new pixels")
    print(f"watcher: read {lines_read} of {lines_written} lines = {lines_read / wall:,.0f} lines/s sustained; "
          f"every alert out and every byte committed {caught_up_after:.1f}s after the writer stopped "
          f"(incl. the 1 s quiet period that completes the last entry)")
    if lat:
        p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
        print(f"alert latency (line written -> alert on stdout): median {statistics.median(lat):.2f}s, "
              f"p95 {p95:.2f}s, max {lat[-1]:.2f}s over {len(lat)}/{errors} alerts")
    print(f"watcher CPU while writing: {(cpu1 - cpu0) / wall:.0%} of one core ({os.cpu_count()} cores on this machine)")
    print(summary)


if __name__ == "__main__":
    main()
