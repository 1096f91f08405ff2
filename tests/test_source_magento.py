"""Tests of the ``magento`` source: Meta's Business Extension for Magento 2.

Inputs under ``tests/data/magento/`` (provenance in its README: the records the
extension's source writes, with real pasted excerpts embedded) and variants
generated from them: Monolog 2 time stamps with offsets, noise before the first
record, binary junk, impossible dates, CRLF, ``.gz``.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from auditor.testing import audit_text, make_registry, parse_paths
from capi_auditor_plugins import magento

DATA = Path(__file__).parent / "data" / "magento"
GRAPH = Path(__file__).parent / "data" / "graph_api"
OLD = "facebook-business-extension.log"
NEW = "meta-business-extension.log"
TOKEN = "EAAGm0PX4ZCpsBAKZCZBxyzzy1234567890abcdEFGH"


def read(name: str) -> str:
    return (DATA / name).read_text()


def parse(*paths, **options) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical rows, rejects) of files under DATA (names) or elsewhere (paths)."""
    parsed = parse_paths("magento", *[DATA / p if isinstance(p, str) else p for p in paths], options=options)
    return parsed.frame, parsed.rejects


def at(frame: pl.DataFrame, line: int) -> dict:
    rows = frame.filter(pl.col("line") == line)
    assert rows.height == 1, line
    return rows.row(0, named=True)


def test_extension_1x_log_rows():
    frame, rejects = parse(OLD)
    assert rejects.height == 0
    # the real Guzzle excerpt: 400 with a body cut after is_transient
    cut = at(frame, 5)
    assert (cut["kind"], cut["signal"], cut["http_status"]) == ("api_response", "graph_error", 400)
    assert (cut["error_code"], cut["error_subcode"], cut["error_type"]) == (100, 2804014, "OAuthException")
    assert (cut["pixel_id"], cut["graph_version"]) == ("342428520349770", "v10.0")
    assert cut["logged_at"] == datetime(2021, 9, 29, 11, 4, 43, tzinfo=timezone.utc)
    assert at(frame, 16)["signal"] == "server_error_page" and at(frame, 16)["http_status"] == 502
    assert at(frame, 20)["signal"] == "transport_error"
    token_text = at(frame, 21)  # 400 whose body was cut before its code: the text says 190
    assert token_text["signal"] == "graph_error" and "Error validating access token" in token_text["message"]
    assert at(frame, 10)["signal"] == "token_missing"
    # a 190 from a catalog call says the shared token is dead: counted
    catalog = at(frame, 24)
    assert (catalog["signal"], catalog["error_code"], catalog["error_subcode"]) == ("graph_error", 190, 463)
    assert (catalog["kind"], catalog["http_status"]) == ("status", None)
    sends = frame.filter(pl.col("kind") == "server_event").sort("line")
    assert sends["line"].to_list() == [2, 4, 8]
    assert sends["event_id"].to_list()[1] == "000000123" and sends["event_name"].null_count() == 3
    assert at(frame, 9)["message"].startswith("exception logged as {}")
    # the multi-line stack trace is one record, the trace lines are not rows
    assert frame.filter(pl.col("line").is_between(13, 15)).height == 1
    assert frame.height == 16


def test_meta_1x_log_rows_iso_times_context_and_test_code():
    frame, rejects = parse(NEW)
    assert rejects.height == 0
    purchase = at(frame, 2)
    assert (purchase["kind"], purchase["event_name"], purchase["test_event_code"]) == ("server_event", "Purchase", "TEST4821")
    assert purchase["logged_at"] == datetime(2024, 9, 18, 11, 15, 3, 415871, tzinfo=timezone.utc)
    assert at(frame, 3)["test_event_code"] is None  # only the request the code was attached to
    ctx_row = at(frame, 7)
    assert (ctx_row["signal"], ctx_row["error_code"], ctx_row["connector_version"]) == ("graph_error", 190, "1.3.3")
    assert ctx_row["pixel_id"] == "1192835547762210"
    denied = at(frame, 10)
    assert (denied["error_code"], denied["http_status"], denied["fbtrace_id"]) == (200, 403, "A1b2C3d4E5f6G7h8I9")


def test_offsets_naive_times_and_the_site_timezone_option(put):
    text = read(NEW).replace("+00:00]", "+02:00]")
    frame, _ = parse(put(NEW, text))
    assert at(frame, 2)["logged_at"] == datetime(2024, 9, 18, 9, 15, 3, 415871, tzinfo=timezone.utc)
    naive = "[2024-03-31 01:30:00] FBE.INFO: Sending event Purchase with ID : a1 [] []\n"
    assert parse(put("x.log", naive))[0]["logged_at"][0] == datetime(2024, 3, 31, 1, 30, tzinfo=timezone.utc)
    local = parse(put("x.log", naive), site_timezone="Europe/Berlin")[0]
    assert local["logged_at"][0] == datetime(2024, 3, 31, 0, 30, tzinfo=timezone.utc)


def test_noise_binary_junk_impossible_dates_crlf_and_gz(put):
    noisy = (
        "...rotated: the end of an earlier record\n#1 {main} [] []\n"
        + read(OLD).replace("[2021-09-29 11:05:10]", "[2021-13-29 11:05:10]")
    ).replace("\n", "\r\n").encode() + b"\x00\x00\xff\xfe\x01binary\x00\n[2021-09-29 12:00:00] FBE.INFO: Sending event tail-1 [] []\n"
    frame, rejects = parse(put(OLD, noisy))
    reasons = dict(zip(rejects["line"].to_list(), rejects["reason"].to_list()))
    assert "before the first log header" in reasons[1] and 2 in reasons
    assert any("impossible date" in r for r in reasons.values())
    assert any("binary" in r or "undecodable" in r for r in reasons.values())
    assert frame.filter(pl.col("kind") == "server_event")["event_id"].to_list()[-1] == "tail-1"
    plain, _ = parse(OLD)
    packed, _ = parse(put(OLD + ".1.gz", gzip.compress(read(OLD).encode())))
    cols = ["line", "kind", "signal", "error_code", "error_subcode", "http_status", "event_id", "logged_at"]
    assert packed.select(cols).sort("line").equals(plain.select(cols).sort("line"))


def test_sniffing_takes_extension_logs_and_leaves_graph_logs():
    registry = make_registry(builtins=True)
    sources = registry.sources.values() if isinstance(registry.sources, dict) else registry.sources

    def winner(name: str, head: bytes) -> str:
        return max(sources, key=lambda s: (s.sniff(name, head), s.name)).name

    for name in (OLD, NEW):
        assert winner(name, (DATA / name).read_bytes()) == "magento"
    for name in ("guzzle.log", "timestamps.log", "bare.ndjson"):
        assert winner(name, (GRAPH / name).read_bytes()) == "graph_api", name
    system_log = (
        b"[2021-05-08 10:00:00] main.INFO: Cache cleared [] []\n"
        b"[2021-05-08 10:00:01] main.CRITICAL: Error: Call to undefined method "
        b"FacebookAds\\Object\\ServerSide\\Event::setActionSource() in /var/www/html/app/code/Facebook/x.php:38 [] []\n"
    )
    assert magento.sniff("system.log", system_log) > 0.8
    assert magento.sniff("system.log", b"[2021-05-08 10:00:00] main.INFO: Cache cleared [] []\n") == 0.0


def test_audit_diagnoses_by_code_and_keeps_secrets_out():
    text = read(OLD) + "[2021-09-29 12:01:00] FBE.INFO: Updated Access token for jane.doe@example.com at 203.0.113.9 [] []\n"
    report = audit_text({"shop/" + OLD: text})
    assert report["inputs"]["by_source"] == {"magento": 17}
    by_rule = {f["rule"]: f for f in report["findings"]}
    assert {"token-expired", "payload-rejected", "connectivity-failure"} <= set(by_rule)
    assert by_rule["payload-rejected"]["account"] == "342428520349770"
    dumped = json.dumps(report)
    for secret in (TOKEN, "jane.doe@example.com", "203.0.113.9"):
        assert secret not in dumped
