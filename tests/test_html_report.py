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
CUSTOM_SHOP = "873615209481726"  # Graph API responses only
SHOPIFY_PIXEL = "2231948576610394"  # GTM server container + Shopify orders

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
    from auditor.pipeline import audit
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
        # orders are counted where the account table counts them (a shop linked to its pixel)
        assert sum(d["orders"] for d in days) == acc["orders"]
        placed = sum(d["server_events"] for d in days)
        if acc["server_events_from"] == "requests":
            assert placed == acc["server_events"]
        else:  # raw Graph responses: the bare bodies in responses.ndjson carry no time, so no day holds their 237 events
            assert acc["account"] == CUSTOM_SHOP and (placed, acc["server_events"]) == (4946, 4946 + 237)
    updated = next(a for a in report["accounts"] if a["account"] == UPDATED_SHOP)
    assert [d["server_events"] for d in updated["daily"]][-3:] == [0, 0, 0]  # the silence, day by day
    shop = next(a for a in report["accounts"] if a["account"] == SHOPIFY_PIXEL)
    assert shop["orders"] == 746 and sum(d["orders"] for d in shop["daily"]) == 746
    json.dumps(report)  # still plain JSON


def _kpis(html: str, account: str) -> dict[str, str]:
    """The number cards of one account's block in the HTML report."""
    block = re.search(r'<section class="account" id="account-\d+">(?:(?!</section>).)*?<span class="acct-id">'
                      + re.escape(account) + r'</span>.*?</section>', html, re.S).group(0)
    return {label: value.replace(",", "") for value, label in
            re.findall(r'<div class="kpi[^"]*"[^>]*><b>([^<]*)</b><span>([^<]*)</span></div>', block)}


def test_account_numbers_agree_in_table_json_and_html(cli, cli_html, audited):
    """One source of truth: the terminal/Markdown account table, the JSON
    accounts[] and the HTML account cards give the same counts."""
    _, report = audited
    html = cli_html[0].read_text(encoding="utf-8")
    md = cli("audit", str(SAMPLES), "--format", "markdown", "--no-db", "--quiet").stdout
    # the account cell: "hyggehjem (2049381726354810)", the pixel id alone when no shop is known
    rows = {re.sub(r"^.* \((\d+)\)$", r"\1", cells[0]): cells for cells in (
        [c.strip() for c in line.strip().strip("|").split("|")] for line in md.splitlines() if line.startswith("| "))}
    graph_only = next(a for a in report["accounts"] if a["account"] == CUSTOM_SHOP)
    # an account seen only through Graph API responses sent events: not 0
    assert graph_only["server_events"] > graph_only["accepted_responses"] > 0
    for acc in report["accounts"]:
        md_row = rows[acc["account"]]
        # the table marks a count taken from responses: "5183 (responses)"
        assert [md_row[1], md_row[2].split()[0], md_row[3]] == [str(acc["orders"]), str(acc["server_events"]), str(acc["server_purchases"])], acc["account"]
        cards = _kpis(html, acc["account"])
        assert cards["server events"] == str(acc["server_events"]), acc["account"]
        assert cards["accepted responses"] == str(acc["accepted_responses"])
        assert cards["error lines"] == str(acc["error_lines"])
        assert cards["backend orders"] == str(acc["orders"])
        assert cards["server purchases"] == str(acc["server_purchases"])


def test_what_to_do_comes_first(cli_html, audited):
    """Per account with findings: what broke, since when, what it cost and the fix, before anything else."""
    result, report = audited
    html = cli_html[0].read_text(encoding="utf-8")
    assert html.index('id="todo"') < html.index('id="questions"') < html.index('id="accounts"') < html.index('class="account"')
    todo = html[html.index('id="todo"'):html.index('id="questions"')]
    cards = re.findall(r'<article class="todo" id="todo-\d+" data-account="([^"]+)">(.*?)</article>', todo, re.S)
    with_findings = {f["account"] for f in report["findings"]}
    assert {a for a, _ in cards} == with_findings
    # the connector that is still broken, with the most failed records, leads
    assert cards[0][0] == UPDATED_SHOP
    for account, card in cards:
        rules = {f["rule"] for f in report["findings"] if f["account"] == account}
        actions = re.findall(r'<li class="action">(.*?)</li>', card, re.S)
        assert len(actions) == len(rules)
        for action in actions:
            assert re.search(r'<div class="when">[^<]+</div><div class="cost">[^<]+</div>', action)
            assert '<div class="fix"><b>Fix:</b> ' in action
    token = dict(cards)[TOKEN_SHOP]
    assert "Access token expired or invalidated" in token
    assert "since 2026-02-10 16:01 UTC, still going on at the end of the evidence" in token
    assert "52 of 185 sends failed" in token
    assert "Fix:</b> Create a new token." in token
    nordic = htmllib.unescape(dict(cards)[SHOPIFY_PIXEL])
    assert "279 of 746 backend orders without a server Purchase" in nordic
    healthy = todo[todo.index('class="healthy"'):]
    assert "cafe-aroma" in healthy and "nothing to fix" in healthy


def test_navigation_uses_short_names(cli_html, audited):
    _, report = audited
    html = cli_html[0].read_text(encoding="utf-8")
    nav = re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)
    labels = [htmllib.unescape(x) for x in re.findall(r'</i>([^<]+)</a>', nav)]
    assert len(labels) == len(report["accounts"]) == len(set(labels))
    assert all(len(x) <= 22 for x in labels), labels
    assert "hyggehjem" in labels and "pixel …1726" in labels  # the shop's name, else the pixel's last digits
    assert not re.search(r">\d{12,}<", nav)  # no pixel id as link text (the id is the tooltip)


def test_findings_and_questions_in_plain_words(cli_html, audited):
    _, report = audited
    html = htmllib.unescape(cli_html[0].read_text(encoding="utf-8"))
    findings = html[html.index('id="findings"'):html.index('id="notes"')]
    findings = re.sub(r'<div class="evidence">.*?</div></div>', "", findings, flags=re.S)  # the log lines themselves
    # no raw metric internals: key=value pairs, field names, shares of 1
    assert not re.search(r"\b[a-z]+_[a-z_]+=", findings)
    for internal in ("orders_inside", "browser_events_inside", "sends_affected", "share_ok", "0.1617", "start="):
        assert internal not in findings, internal
    perm = findings[findings.index('id="rule-permission-revoked"'):findings.index("</section>", findings.index('id="rule-permission-revoked"'))]
    assert "<dt>share</dt><dd>16%</dd>" in perm and "<dt>all sends of the account</dt><dd>235</dd>" in perm
    missing = findings[findings.index('id="rule-server-events-missing"'):]
    assert "<h4>silent stretches (longest first)</h4>" in missing
    assert "<td>2026-10-16 09:52 UTC</td><td>2026-10-28 09:41 UTC</td><td>287.8 h</td><td>258</td>" in missing
    # question cards: diagnoses by title at shop names, no rule ids or pixel ids
    questions = html[html.index('id="questions"'):html.index('id="accounts"')]
    for rule in {f["rule"] for f in report["findings"]}:
        assert rule not in questions, rule
    assert not re.search(r"\d{12,}", questions)
    assert "Access token expired or invalidated since 2026-02-10 (hudsonvalleybaking, hyggehjem, pixel …1093)" in questions
    assert "Connector broken by a platform or plugin update since 2026-05-06 (trailgear-outdoor)" in questions
    # the same words as the JSON, terminal and Markdown reports
    for q in report["questions"]:
        assert q["detail"] in questions, q["detail"]
    # the account table's diagnosis chips: titles, the rule id only in the tooltip
    raw = cli_html[0].read_text(encoding="utf-8")
    table = raw[raw.index('<table class="accounts"'):raw.index("</table>")]
    chips = [(htmllib.unescape(tip), htmllib.unescape(text))
             for tip, text in re.findall(r'<span class="chip[^"]*" title="([^"]*)">([^<]*)</span>', table)]
    assert len(chips) == len({(f["account"], f["rule"]) for f in report["findings"]})
    rules = {f["rule"] for f in report["findings"]}
    for tip, text in chips:
        assert not [r for r in rules if r in text], text
        assert tip.split(" · ")[0] in rules, tip
    assert "● Connector broken by a platform or plugin update" in [t for _, t in chips]


def test_new_report_text_is_redacted(audited):
    """Plain-word metrics, names and answers pass the redaction like the rest of the page."""
    import copy

    from auditor.report.html import render_html

    result, report = audited
    report = copy.deepcopy(report)
    secret = {"contact": "maria.silva@example.com", "phone_seen": "+351 912 345 678", "ip": "203.0.113.7",
              "rows": [{"start": "2026-06-10T09:20:00Z", "who": "maria.silva@example.com", "token": "EAAGm0PX4ZCpsBAKZDZCZBzR7vN3kLq9ZBQX1ZAy"}]}
    report["findings"][0]["metrics"].update(secret)
    report["accounts"][0]["shops"] = ["maria.silva@example.com"]
    page = render_html(report, result)
    for needle in FORBIDDEN:
        assert needle.lower() not in page.lower(), needle


def test_quiet_nights_are_not_silences(audited):
    from auditor.report.timeline import account_timelines, silence_windows

    result, _ = audited
    gaps = silence_windows(result.rows)
    nights = gaps.filter(gaps["account"].cast(str) == SHOPIFY_PIXEL)
    assert nights.height >= 20  # five weeks of nights: each leaves six quiet hours
    silences = account_timelines(result.rows)[SHOPIFY_PIXEL].silences
    assert 1 <= len(silences) <= 5
    assert all(s["orders_inside"] or s["browser_inside"] for s in silences)  # something was missed in each
    longest = max(silences, key=lambda s: s["hours"])
    assert (longest["hours"], longest["orders_inside"]) == (287.8, 258)


def _rows(*items):
    import polars as pl

    from auditor.schema import conform

    frame = pl.DataFrame([{"account": "111", "logged_at": t, "kind": k, "event_name": e, "source": "test"}
                          for t, k, e in items],
                         schema={"account": pl.String, "logged_at": pl.Datetime("us", "UTC"), "kind": pl.String,
                                 "event_name": pl.String, "source": pl.String})
    return conform(frame)


def test_silence_is_judged_by_what_happened_inside():
    """Without order or browser evidence a gap counts in business hours only;
    with browser events of a kind the server sends, it counts when they fall inside."""
    from datetime import datetime, timedelta, timezone

    from auditor.report.timeline import significant_silences, silence_windows

    t0 = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)
    day1 = [(t0 + timedelta(minutes=30 * i), "server_event", "Purchase") for i in range(33)]  # 06:00 .. 22:00
    night = [(t0 + timedelta(hours=h), "status", None) for h in (19, 21)]  # 01:00, 03:00: connector lines only
    day2 = [(t0 + timedelta(hours=24, minutes=30 * i), "server_event", "Purchase") for i in range(9)]  # 06:00 .. 10:00
    noon = [(t0 + timedelta(hours=h), "status", None) for h in (30, 32)]  # 12:00, 14:00
    evening = [(t0 + timedelta(hours=36, minutes=30 * i), "server_event", "Purchase") for i in range(4)]  # from 18:00
    rows = _rows(*day1, *night, *day2, *noon, *evening)
    gaps = silence_windows(rows)
    assert gaps["hours"].to_list() == [8.0, 8.0]  # the night and the afternoon
    kept = significant_silences(rows, gaps)
    assert [s.hour for s in kept["start"].to_list()] == [10]  # the afternoon only: 8 h inside 08:00-22:00
    assert kept["business_hours"].to_list() == [8.0]
    # the same night with shoppers buying in the browser while the server sent nothing
    shoppers = [(t0 + timedelta(hours=h), "browser_event", "Purchase") for h in (18, 20)]
    rows = _rows(*day1, *night, *shoppers, *day2, *noon, *evening)
    kept = significant_silences(rows, silence_windows(rows))
    assert [(s.hour, n) for s, n in kept.select("start", "browser_inside").iter_rows()] == [(22, 2)]
    # page views the server never sends do not make a night a silence (business hours decide again)
    views = [(t0 + timedelta(hours=h), "browser_event", "PageView") for h in (18, 20)]
    rows = _rows(*day1, *night, *views, *day2, *noon, *evening)
    kept = significant_silences(rows, silence_windows(rows))
    assert [(s.hour, n) for s, n in kept.select("start", "browser_inside").iter_rows()] == [(10, 0)]


def test_silence_labels_do_not_overlap():
    from datetime import datetime, timedelta, timezone

    from matplotlib import dates as mdates

    from auditor.report.html import _silence_labels
    from auditor.report.timeline import as_naive_utc

    t0 = datetime(2026, 10, 1, 22, 0, tzinfo=timezone.utc)
    nights = [{"start": t0 + timedelta(days=d), "end": t0 + timedelta(days=d, hours=8 + d % 3), "hours": 8.0 + d % 3}
              for d in range(30)]
    long = [{"start": t0 + timedelta(days=d, hours=12), "end": t0 + timedelta(days=d + 2), "hours": 36.0} for d in (10, 11, 20)]
    x0, x1 = (mdates.date2num(as_naive_utc(t0)), mdates.date2num(as_naive_utc(t0 + timedelta(days=31))))
    labels = _silence_labels(nights + long, x0, x1, 10.26)
    texts = [t for _, t in labels]
    # only the day-long silences get a label, and only where one fits: 10 and 11 are too close
    assert texts == ["no server events for 36.0 h"] * 2
    xs = [x for x, _ in labels]
    assert xs[1] - xs[0] > 5  # days apart on the axis
    # nights alone: one label, on the longest
    assert [t for _, t in _silence_labels(nights, x0, x1, 10.26)] == ["no server events for 10.0 h"]


def test_backend_orders_are_drawn_for_orders_without_server_purchases(audited):
    from auditor.report.timeline import account_timelines

    result, report = audited
    assert any(f["rule"] == "server-events-missing" and f["account"] == SHOPIFY_PIXEL for f in report["findings"])
    timelines = account_timelines(result.rows)
    # the orders of the linked Shopify shop, under its pixel, test/draft/POS orders left out
    assert sum(timelines[SHOPIFY_PIXEL].series["orders"].to_list()) == 746
    shop = timelines.get("nordic-wool.myshopify.com")
    assert shop is None or sum(shop.series["orders"].to_list()) == 0


def test_table_report_shows_a_daily_sparkline(cli):
    out = cli("audit", str(SAMPLES), "--format", "table", "--no-db", "--quiet").stdout
    # named like the account table: the shop's short name (the pixel id when no shop is known)
    line = next(x for x in out.splitlines() if x.strip().startswith("trailgear-outdoor ") and "server events" in x)
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


#: Height of the first screen: what a 1400 x 900 laptop window shows before scrolling.
FOLD_PX = 900

#: Measured in the page by the browser itself: where the first account's
#: what/when/cost/fix sit in a 1400 x 900 viewport, and whether anything is
#: wider than the page.  Injected into a copy only: the report has no script.
MEASURE_JS = """
(function () {
  const W = document.documentElement.clientWidth, H = window.innerHeight;
  const first = document.querySelector('article.todo');
  const box = (el) => { const b = el.getBoundingClientRect(); return {top: b.top, bottom: b.bottom, left: b.left, right: b.right}; };
  const actions = [...first.querySelectorAll('li.action')].map((li) => ({
    what: box(li.querySelector('.what strong')), when: box(li.querySelector('.when')),
    cost: box(li.querySelector('.cost')), fix: box(li.querySelector('.fix')),
    fixText: li.querySelector('.fix').textContent}));
  const wide = [...document.querySelectorAll('body *')].filter((el) => {
    const b = el.getBoundingClientRect(); return b.width > 0 && (b.right > W + 1 || b.left < -1); })
    .map((el) => el.tagName + '.' + el.getAttribute('class'));
  const out = {width: window.innerWidth, height: H, clientWidth: W, scrollWidth: document.documentElement.scrollWidth,
    account: first.dataset.account, actions: actions, overflowing: wide.slice(0, 10)};
  const pre = document.createElement('pre'); pre.id = 'measure'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""


def test_first_screen_holds_the_fixes(cli_html, audited, browser, tmp_path):
    """At 1400 x 900 the first screen shows, for the first account, what broke,
    since when, what it cost and the fix; nothing overflows sideways."""
    _, report = audited
    html = cli_html[0].read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", f"<script>{MEASURE_JS}</script></body>"), encoding="utf-8")
    run = _chromium(browser, tmp_path / "p", "--window-size=1400,900", "--dump-dom", probe.resolve().as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'<pre id="measure">(.*?)</pre>', run.stdout, re.S)
    assert found, run.stdout[-500:]
    m = json.loads(htmllib.unescape(found.group(1)))
    # the layout width is the window's; the fold is the 900 px a 1400 x 900 screenshot shows
    # (headless Chromium's --dump-dom window keeps some height for its own frame)
    assert m["width"] == 1400
    assert m["scrollWidth"] <= m["clientWidth"] and m["overflowing"] == []  # no sideways scrolling, nav included
    first_rules = {f["rule"] for f in report["findings"] if f["account"] == m["account"]}
    assert len(m["actions"]) == len(first_rules) >= 1
    for action in m["actions"]:
        for part in ("what", "when", "cost", "fix"):
            assert 0 <= action[part]["top"] and action[part]["bottom"] <= FOLD_PX, (part, action)
        assert action["fixText"].startswith("Fix: ")

    # the same first screen as a picture (looked at by hand: docs/report.png is made the same way)
    png = tmp_path / "first-screen.png"
    shot = _chromium(browser, tmp_path / "p2", f"--screenshot={png}", "--window-size=1400,900", cli_html[0].resolve().as_uri())
    assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    assert struct.unpack(">II", png.read_bytes()[16:24]) == (1400, 900)
    assert png.stat().st_size > 50_000


def test_network_check_catches_an_external_resource(browser, tmp_path):
    """Control for the NetLog check above: a page that does load something is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://capi-audit-test.invalid/pixel.png"></body></html>',
                    encoding="utf-8")
    netlog = tmp_path / "net.json"
    run = _chromium(browser, tmp_path / "p", f"--log-net-log={netlog}", "--dump-dom", page.resolve().as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert any("capi-audit-test.invalid" in u for u in _page_requests(netlog))
