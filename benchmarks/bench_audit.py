"""Benchmark `capi-audit audit` on a large generated WooCommerce + Graph API input.

Generates a realistic Meta-for-WooCommerce debug log (plugin >= 3.5 format:
Request/Response multi-line entries with JSON bodies, a few percent of Graph
errors and cURL timeouts) plus an NDJSON file of Graph API responses, then runs
the real CLI in a subprocess and reports records/second, MB/second and the
peak resident memory of the audit process.

    python benchmarks/bench_audit.py --size-mb 1024          # the README figure
    python benchmarks/bench_audit.py --size-mb 50 --keep /tmp/bench   # again: reuses the input

Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditor.testing.woocommerce_log import entry as woo_entry
from auditor.testing.woocommerce_log import php_json, request, response

PIXELS = ["1033167457209826", "2044278568310937", "3055389679421048"]
EVENTS = ["PageView", "ViewContent", "AddToCart", "InitiateCheckout", "Purchase"]
UAS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
]


def _h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def _request_entry(rng: random.Random, t: datetime, pixel: str, order: int) -> str:
    name = rng.choice(EVENTS)
    ev = {
        "action_source": "website",
        "event_time": int(t.timestamp()) - rng.randint(0, 3),
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event_source_url": f"https://shop.example/product/item-{order % 500}/",
        "custom_data": {"content_ids": f'["wc_post_id_{order % 500}"]', "content_type": "product", "value": f"{rng.randint(5, 300)}.00", "currency": "EUR"},
        "user_data": {
            "client_ip_address": f"203.0.113.{rng.randint(1, 254)}", "client_user_agent": rng.choice(UAS),
            "em": _h(f"customer{order}@example.com"), "ph": _h(f"3519{order:08d}"), "fn": _h("maria"), "ln": _h("silva"),
            "ct": _h("lisboa"), "zp": _h("1000"), "country": _h("pt"), "external_id": _h(str(order)),
            "fbp": f"fb.1.{int(t.timestamp() * 1000) - 50000}.{rng.randint(10**8, 10**9)}",
        },
        "event_name": name,
    }
    if name == "Purchase":
        ev["custom_data"]["order_id"] = order
    body = php_json({"data": [ev], "partner_agent": "woocommerce-9.7.1-3.5.2"})
    msg = request(f"https://graph.facebook.com/v20.0/{pixel}/events", "Facebook-for-WooCommerce/3.5.2 (WooCommerce/9.7.1; WordPress/6.7.2)",
                  body, f"0.{rng.randint(10000, 99999)}s")
    return woo_entry(int(t.timestamp()), msg)


def _response_entry(rng: random.Random, t: datetime) -> str:
    roll = rng.random()
    trace = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") for _ in range(23))
    at = int(t.timestamp())
    if roll < 0.02:
        body = json.dumps({"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, "error_subcode": 2804003, "is_transient": False, "fbtrace_id": trace}})
        return woo_entry(at, response(400, "Bad Request", body))
    if roll < 0.03:  # a transport failure: empty Response values, then the plugin's error line
        return (woo_entry(at, response("", "", "", trim=False))
                + woo_entry(at, "Could not send Pixel event: cURL error 28: Operation timed out after 5001 milliseconds with 0 bytes received"))
    return woo_entry(at, response(200, "OK", php_json({"events_received": 1, "messages": [], "fbtrace_id": trace})))


def _write_until(path: Path, size: int, make, flush_every: int) -> None:
    """Write ``make(1)``, ``make(2)``, ... to ``path`` until ``size`` characters
    are written, ``flush_every`` texts at a time."""
    written = k = 0
    buf: list[str] = []
    with open(path, "w") as fh:
        while written < size:
            k += 1
            text = make(k)
            buf.append(text)
            written += len(text)
            if len(buf) >= flush_every:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))


def generate(out: Path, size_mb: int, seed: int = 7) -> int:
    """Write ~size_mb of input under ``out``; return the byte count."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    target = size_mb * 1024 * 1024
    woo_target = int(target * 0.9)
    clock = [datetime(2026, 3, 1, tzinfo=UTC)]  # one timeline: the Graph responses follow the WooCommerce log

    def tick(max_s: int) -> datetime:
        clock[0] += timedelta(seconds=rng.randint(1, max_s))
        return clock[0]

    def exchange(k: int) -> str:
        t, order = tick(20), 1000 + k
        return _request_entry(rng, t, PIXELS[order % len(PIXELS)], order) + _response_entry(rng, t + timedelta(seconds=1))

    def graph_line(_: int) -> str:
        t = tick(10)
        body = {"events_received": 50, "messages": [], "fbtrace_id": "A" + str(rng.getrandbits(64))}
        if rng.random() < 0.01:
            body = {"error": {"message": "(#17) User request limit reached", "type": "OAuthException", "code": 17, "is_transient": True, "fbtrace_id": "B" + str(rng.getrandbits(64))}}
        return json.dumps({"ts": t.isoformat().replace("+00:00", "Z"), "pixel_id": PIXELS[0], "status": 200 if "events_received" in body else 400, "sent": 50, "response": body}) + "\n"

    _write_until(out / "facebook_for_woocommerce-2026-03-01-5f1d0c2b7a9e4d3f8c6b1a0e9d8c7b6a.log", woo_target, exchange, 2000)
    _write_until(out / "graph-responses.ndjson", target - woo_target, graph_line, 5000)
    return sum(p.stat().st_size for p in out.iterdir())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep it (an input already there is reused)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="capi-bench-"))
    try:
        t0 = time.perf_counter()
        kept = sorted((work / "input").glob("*")) if args.keep else []
        size = sum(p.stat().st_size for p in kept) if kept else generate(work / "input", args.size_mb)
        gen_s = time.perf_counter() - t0
        report = work / "report.json"
        cmd = [sys.executable, "-m", "auditor", "audit", str(work / "input"), "--format", "json", "--no-db", "--quiet", "--output", str(report), "--fail-on", "never"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t1 = time.perf_counter()
        subprocess.run(cmd, check=True, env={**os.environ, "COLUMNS": "120"})
        elapsed = time.perf_counter() - t1
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        data = json.loads(report.read_text())
        records = data["inputs"]["records"]
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"input        {size / 1048576:,.0f} MB ({'reused' if kept else f'{gen_s:.0f} s to generate'})")
        print(f"records      {records:,}")
        print(f"wall time    {elapsed:.1f} s   (cpu {cpu:.1f} s, {cpu / elapsed:.2f} cores)")
        print(f"throughput   {records / elapsed:,.0f} records/s   {size / 1048576 / elapsed:,.1f} MB/s")
        print(f"peak memory  {after.ru_maxrss / 1024:,.0f} MB (max RSS of the audit process)")
        print(f"findings     {len(data['findings'])}: " + ", ".join(sorted({f['rule'] for f in data['findings']})))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
