"""The self-contained HTML report (`--format html`), its time aggregates, and
the page as a real browser renders it (headless Chromium, skipped when absent).

Story numbers come from sample_logs/README.md, like tests/test_sample_audit.py.
"""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SAMPLES

HEALTHY = "1482736450918273"
TOKEN_SHOP = "928374651029384"
UPDATED_SHOP = "1736450291837465"
FLAKY_SHOP = "2049381726354810"
CUSTOM_SHOP = "873615209481726"

# the same privacy traps as tests/test_sample_audit.py, plus the documentation IP ranges
FORBIDDEN = ["maria.silva@example.com", "maria.silva", "912 345 678", "EAAG", "203.0.113.",
             "198.51.100.", "192.0.2.", "2001:db8", "lisboa"]

MAX_BYTES = 2 * 1024 * 1024
BROWSER_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def _info(capsys, text: str) -> None:
    """Print a measurement (information only, never asserted)."""
    with capsys.disabled():
        print(f"\n[html report] {text}")


@pytest.fixture(scope="module")
def cli_html(tmp_path_factory):
    """`capi-audit audit sample_logs --format html --output X --no-db`, timed."""
    from typer.testing import CliRunner

    from auditor.cli import app

    out = tmp_path_factory.mktemp("html") / "report.html"
    started = time.perf_counter()
    res = CliRunner().invoke(app, ["audit", str(SAMPLES), "--format", "html", "--output", str(out), "--no-db", "--quiet"],
                             catch_exceptions=False)
    seconds = time.perf_counter() - started
    assert res.exit_code == 1, res.stderr  # the samples hold critical findings
    assert res.stdout == ""  # --output: nothing on stdout
    return out, seconds


@pytest.fixture(scope="module")
def audited():
    """The same audit in-process: (AuditResult, report dict)."""
    from auditor.engine import audit
    from auditor.ingest.inputs import expand
    from auditor.plugin_manager import load_plugins
    from auditor.registry import Registry
    from auditor.report.model import build_report
    from auditor.ruleset import load_ruleset

    loaded = load_plugins([], None, [])
    registry = Registry.collect(loaded.pm)
    registry.problems[:0] = loaded.problems
    units, _ = expand([str(SAMPLES)])
    result = audit(units, registry, load_ruleset("default", registry.ruleset_files))
    return result, build_report(result)


# -- the file ------------------------------------------------------------------
def test_html_is_one_small_self_contained_file(cli_html, capsys):
    path, seconds = cli_html
    data = path.read_bytes()
    html = data.decode("utf-8")
    _info(capsys, f"{len(data) / 1024:.0f} kB, audit + render via the CLI in {seconds:.2f} s")
    assert len(data) < MAX_BYTES
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    # nothing is fetched: no scripts, stylesheets, frames, images or fonts from anywhere
    for tag in ("<script", "<link", "<iframe", "<img", "<object", "<embed", "<video", "<audio", "<source"):
        assert tag not in html.lower(), tag
    assert "@import" not in html and "@font-face" not in html
    external = [
        (tag, value)
        for tag in re.findall(r"<[a-zA-Z][^>]*>", html)
        for value in re.findall(r"""(?i)\s(?:src|href|xlink:href|action|poster|data|srcset|background)\s*=\s*["']?([^"'\s>]*)""", tag)
        if not value.startswith("#")
    ]
    assert external == [], external[:5]  # only in-page anchors (href="#...")
    assert not re.search(r"""(?i)url\(\s*['"]?\s*(?!#)""", html)  # CSS/SVG url() only for in-page ids
    assert not re.search(r"(?i)(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", html)
    # charts are inline SVG made by matplotlib, text kept as text
    assert html.count('<svg class="chart"') >= 5
    assert "<text" in html


def test_no_personal_data_or_secret_in_the_html(cli_html):
    html = cli_html[0].read_text(encoding="utf-8")
    for needle in FORBIDDEN:
        assert needle.lower() not in html.lower(), needle


def test_chart_labels_and_tooltips_are_redacted(cli_html):
    from auditor.redact import redact_text

    html = cli_html[0].read_text(encoding="utf-8")
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", html)
    tips = re.findall(r'(?:title|aria-label)="([^"]*)"', html)
    assert texts and tips
    for t in texts + tips:
        plain = htmllib.unescape(t)
        assert redact_text(plain) == plain, plain


def test_same_input_gives_byte_identical_html(cli_html, audited, capsys):
    from auditor.report.html import render_html

    result, report = audited
    started = time.perf_counter()
    first = render_html(report, result)
    seconds = time.perf_counter() - started
    second = render_html(report, result)
    _info(capsys, f"render_html alone: {seconds:.2f} s")
    assert first == second
    assert cli_html[0].read_text(encoding="utf-8") == first  # another process, same bytes


def test_page_order_and_content(cli_html, audited):
    result, report = audited
    html = cli_html[0].read_text(encoding="utf-8")
    q, a, f = html.index('id="questions"'), html.index('id="accounts"'), html.index('id="findings"')
    assert q < a < f
    # the five questions first, each with its verdict badge
    for item in report["questions"]:
        assert f'<span class="badge v-{item["verdict"]}">' in html
        assert f'{item["step"]}. {item["question"]}' in html
    # accounts with problems first: the healthy shop's block comes last
    blocks = [m.group(1) for m in re.finditer(r'<section class="account" id="account-\d+">.*?<span class="acct-id">([^<]+)</span>', html)]
    assert set(blocks) == {acc["account"] for acc in report["accounts"]}
    with_findings = {x["account"] for x in report["findings"]}
    flags = [b in with_findings for b in blocks]
    assert flags == sorted(flags, reverse=True)  # every account with findings before any without
    assert HEALTHY in blocks and HEALTHY not in with_findings
    # match quality is labelled an estimate; delays are in the table
    assert "Match quality (est.)" in html and "not Meta's Event Match Quality" in html
    assert "Delay median / p95" in html
    # every finding with its numbers, redacted evidence, fix and how to validate
    assert html.count('<article class="finding"') == len(report["findings"])
    for rule in {x["rule"] for x in report["findings"]}:
        assert f'id="rule-{rule}"' in html
    assert html.count("<h4>Fix</h4>") >= len({x["rule"] for x in report["findings"]})
    assert "How to validate" in html and "Evidence (redacted)" in html
    # the silence after the plugin update is marked and explained
    assert "no server events for 73.7 h" in html
    assert "2026-05-06 10:11 UTC → 2026-05-09 11:51 UTC" in html


def test_html_without_output_goes_to_stdout(cli, tmp_path):
    log = tmp_path / "responses.ndjson"
    log.write_text((SAMPLES / "graph_api" / "responses.ndjson").read_text(encoding="utf-8"), encoding="utf-8")
    res = cli("audit", str(log), "--format", "html", "--no-db", "--quiet")
    assert res.stdout.startswith("<!DOCTYPE html>") and '<svg class="chart"' in res.stdout


# -- the aggregates behind the charts -----------------------------------------------
def test_timeline_aggregates_tell_the_sample_stories(audited):
    from auditor.report.timeline import account_timelines

    result, report = audited
    tl = account_timelines(result.frame)
    assert [s["hours"] for s in tl[UPDATED_SHOP].silences] == [73.7]
    assert tl[HEALTHY].silences == [] and tl[TOKEN_SHOP].silences == []
    (burst,) = [b for b in tl[FLAKY_SHOP].bursts if b["start"].isoformat().startswith("2026-06-09T13:02:11")]
    assert burst["end"].isoformat().startswith("2026-06-09T13:12:20")
    assert tl[HEALTHY].every == "1h"
    assert tl[HEALTHY].delay["events"] == 385 and tl[HEALTHY].delay["p95_s"] <= 4
    assert sum(n for _, n in tl[HEALTHY].delay_hist) == 385
    cov = {c["key"]: c for c in tl[HEALTHY].coverage}
    assert round(cov["em"]["usable"] * 385) == 60 and cov["em"]["wrong"] == 0.0  # hashed e-mail on the 60 purchases
    assert cov["client_ip_address"]["usable"] == 1.0
    assert cov["db"]["usable"] == 0.0  # never sent: 0, not missing
    totals = tl[TOKEN_SHOP].series.select("sent", "accepted", "rejected").sum().row(0)
    assert totals == (185, 133, 52)  # 185 sends, 133 x 200 OK, 52 x code 190


def test_report_dict_carries_a_daily_series_per_account(audited):
    _, report = audited
    for acc in report["accounts"]:
        days = acc["daily"]
        assert days and [d["date"] for d in days] == sorted(d["date"] for d in days)
        assert set(days[0]) == {"date", "orders", "server_events", "server_purchases", "errors"}
        assert sum(d["errors"] for d in days) == acc["error_lines"]
        assert sum(d["server_purchases"] for d in days) == acc["server_purchases"]
        placed = sum(d["server_events"] for d in days)
        if acc["server_events_from"] == "requests":
            assert placed == acc["server_events"]
        else:  # raw Graph responses: the bare bodies in responses.ndjson carry no time, so no day holds their 237 events
            assert acc["account"] == CUSTOM_SHOP and (placed, acc["server_events"]) == (4946, 4946 + 237)
    updated = next(a for a in report["accounts"] if a["account"] == UPDATED_SHOP)
    assert [d["server_events"] for d in updated["daily"]][-3:] == [0, 0, 0]  # the silence, day by day
    json.dumps(report)  # still plain JSON


def test_table_report_shows_a_daily_sparkline(cli):
    out = cli("audit", str(SAMPLES), "--format", "table", "--no-db", "--quiet").stdout
    line = next(x for x in out.splitlines() if x.strip().startswith(UPDATED_SHOP) and "server events" in x)
    assert "05-04" in line and "05-09" in line
    assert re.search(r"[▁▂▃▄▅▆▇█]+···", line)  # events, then three silent days


# -- a real browser ----------------------------------------------------------------
def _browser() -> str | None:
    env = os.environ.get("CAPI_AUDIT_BROWSER")
    if env:
        return env
    for cand in BROWSER_CANDIDATES:
        found = shutil.which(cand) if not cand.startswith("/") else (cand if os.access(cand, os.X_OK) else None)
        if found:
            return found
    return None


def _chromium(browser: str, profile: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    cmd = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--hide-scrollbars", "--force-device-scale-factor=1", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _page_requests(netlog: Path) -> list[str]:
    """URLs the *page* asked the network stack for, from a Chromium NetLog.

    Requests the browser makes on its own (update checks, clock sync) carry no
    initiator ("not an origin") and are not the page's doing; a file:// page
    that loads anything has an initiator of "null" or "file://".
    """
    raw = netlog.read_text(encoding="utf-8", errors="replace").strip()
    try:
        log = json.loads(raw)
    except json.JSONDecodeError:  # the browser may stop before closing the JSON
        log = json.loads(raw.rstrip(",") + ("]}" if not raw.endswith("]}") else ""))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        ev["params"]["url"] for ev in log["events"]
        if ev.get("type") == start and ev.get("params", {}).get("initiator", "not an origin") != "not an origin"
    ]


@pytest.fixture(scope="module")
def browser():
    found = _browser()
    if not found:
        pytest.skip("no headless Chromium found (Debian: apt-get install chromium; .ci/run installs it when root)")
    return found


def test_page_in_headless_chromium(cli_html, browser, tmp_path, capsys):
    html_path = cli_html[0]
    url = html_path.resolve().as_uri()

    # 1. the DOM after load, with a NetLog of every network request
    netlog = tmp_path / "net.json"
    started = time.perf_counter()
    dom_run = _chromium(browser, tmp_path / "p1", f"--log-net-log={netlog}", "--net-log-capture-mode=Default",
                        "--enable-logging=stderr", "--v=1", "--dump-dom", url)
    dom_seconds = time.perf_counter() - started
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    dom = dom_run.stdout
    assert "Troubleshooting questions" in dom
    assert re.search(r'class="badge v-problem">Problem</span><div><div class="q-title">1\. Are server events arriving at all\?', dom)
    # the agency client without event_id double counts (sample_logs/agency/)
    assert re.search(r'class="badge v-problem">Problem</span><div><div class="q-title">2\. ', dom)
    for rule in ("token-expired", "integration-broken-after-update", "connectivity-failure", "payload-rejected",
                 "permission-revoked", "rate-limited"):
        assert f'id="rule-{rule}"' in dom, rule
    assert dom.count('<article class="finding"') >= 10
    assert "still going on at the end of the evidence" in dom
    assert dom.count("<svg") >= 3 * 4 and dom.count("<svg") == cli_html[0].read_text(encoding="utf-8").count("<svg")
    assert "no server events for 73.7 h" in dom
    for needle in FORBIDDEN:
        assert needle.lower() not in dom.lower(), needle
    # no request from the page to the network; browser-internal requests are not the page's
    # (and --host-resolver-rules sends them nowhere anyway)
    assert netlog.exists(), "Chromium wrote no NetLog"
    assert _page_requests(netlog) == []
    verbose_urls = {u for u in re.findall(r"(?:https?|wss?)://[^\s\"'<>]+", dom_run.stderr) if "example" in u}
    assert verbose_urls == set()  # nothing from the shops' own domains was ever fetched

    # 2. a screenshot at laptop width
    png = tmp_path / "report.png"
    started = time.perf_counter()
    shot_run = _chromium(browser, tmp_path / "p2", f"--screenshot={png}", "--window-size=1280,2000", url)
    shot_seconds = time.perf_counter() - started
    assert shot_run.returncode == 0 and png.exists(), shot_run.stderr[-2000:]
    head = png.read_bytes()[:32]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (1280, 2000)
    assert png.stat().st_size > 50_000  # a rendered page, not a blank one
    _info(capsys, f"headless Chromium: DOM dump {dom_seconds:.2f} s, screenshot {shot_seconds:.2f} s (information only)")


def test_network_check_catches_an_external_resource(browser, tmp_path):
    """Control for the NetLog check above: a page that does load something is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://capi-audit-test.invalid/pixel.png"></body></html>',
                    encoding="utf-8")
    netlog = tmp_path / "net.json"
    run = _chromium(browser, tmp_path / "p", f"--log-net-log={netlog}", "--dump-dom", page.resolve().as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert any("capi-audit-test.invalid" in u for u in _page_requests(netlog))
