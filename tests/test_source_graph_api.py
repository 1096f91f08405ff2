"""Tests of the ``graph_api`` / ``graph_api_array`` source plugin.

Inputs under ``tests/data/graph_api/`` are small files in the real formats;
every test reads them the way the engine does: ``inputs.expand`` ->
``reader.read_batches`` (with the source's framing) -> ``Source.parse`` ->
``schema.conform`` / ``schema.validate``.
"""

from __future__ import annotations

import gzip
import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from auditor.testing import parse_paths
import pytest

from auditor import ParseContext, schema
from auditor.ingest import inputs
from capi_auditor_plugins import graph_api

DATA = Path(__file__).parent / "data" / "graph_api"
SAMPLES = Path(__file__).parent.parent / "sample_logs" / "graph_api"
TOKEN = "EAAGm0PX4ZCpsBAKZCZBxyzzy1234567890abcdEFGH"
EMAIL = "jane.doe@example.com"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def run(name: str | Path, source=graph_api.SOURCE, chunk_bytes: int | None = None, options=None):
    """Parse one input like the engine: returns (canonical rows, rejects, notes)."""
    parsed = parse_paths(source.name, DATA / name, options=options, batch_bytes=chunk_bytes)  # an absolute path ignores DATA
    return parsed.frame, parsed.rejects, parsed.notes


def row(df: pl.DataFrame, line: int) -> dict:
    hits = df.filter(pl.col("line") == line)
    assert hits.height == 1, f"expected one row at line {line}, got {hits.height}"
    return hits.row(0, named=True)


def common_contract(df: pl.DataFrame) -> None:
    assert df.height > 0
    assert set(df["kind"].unique()) == {"api_response"}
    assert set(df["connector"].unique()) == {"graph-api-log"}
    assert set(df["signal"].unique()) <= {"success", "graph_error", "server_error_page", "transport_error"}
    assert df["message"].str.len_chars().max() <= 200
    assert df.filter(pl.col("account") != pl.col("pixel_id")).height == 0
    assert df["logged_at"].dtype == pl.Datetime("us", "UTC")


# --------------------------------------------------------------------------
# 1. NDJSON of bare bodies
# --------------------------------------------------------------------------

def test_bare_ndjson_success_and_errors():
    df, rejects, _ = run("bare.ndjson")
    common_contract(df)
    assert df.height == 13
    ok = row(df, 1)
    assert ok["signal"] == "success" and ok["events_received"] == 1
    assert ok["fbtrace_id"] == "A7R91WcJM_LjxgxgcURz1RQ"
    assert ok["message"] == "events_received=1"
    assert ok["logged_at"] is None and ok["pixel_id"] is None and ok["http_status"] is None
    assert row(df, 2)["events_received"] == 50
    old = row(df, 15)
    assert (old["error_code"], old["error_subcode"], old["error_type"], old["is_transient"]) == (100, 2804003, "OAuthException", False)
    assert old["message"].startswith("code 100/2804003 OAuthException: Invalid parameter")


def test_danish_localised_2804050_is_classified_by_code():
    df, _, _ = run("bare.ndjson")
    dk = row(df, 3)
    assert dk["signal"] == "graph_error"
    assert (dk["error_code"], dk["error_subcode"], dk["is_transient"]) == (100, 2804050, False)
    assert dk["fbtrace_id"] == "Asu2mk752HZ0oT07IksFAwN"
    assert "tilføjet" in dk["message"]  # \u escapes decoded, text kept for humans only
    assert dk["message"].startswith("code 100/2804050 ")


@pytest.mark.parametrize(("line", "subcode", "text"), [(4, 463, "Session has expired"), (5, 460, "password")])
def test_token_errors_190(line, subcode, text):
    df, _, _ = run("bare.ndjson")
    r = row(df, line)
    assert (r["signal"], r["error_code"], r["error_subcode"], r["error_type"]) == ("graph_error", 190, subcode, "OAuthException")
    assert text in r["message"]


@pytest.mark.parametrize(("line", "code", "subcode"), [(6, 4, None), (7, 17, 2446079), (8, 613, None), (9, 2, None)])
def test_rate_limits_and_transient(line, code, subcode):
    df, _, _ = run("bare.ndjson")
    r = row(df, line)
    assert (r["error_code"], r["error_subcode"], r["is_transient"]) == (code, subcode, True)
    assert r["signal"] == "graph_error"


def test_malformed_and_noise_lines_are_rejected_with_file_and_line():
    df, rejects, _ = run("bare.ndjson")
    assert set(df["line"]) == {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 17}
    by_line = dict(zip(rejects["line"], rejects["reason"]))
    assert set(rejects["file"]) == {str(DATA / "bare.ndjson")}
    assert by_line[12].startswith("malformed JSON")  # cut-off line (+ the noise glued to it)
    assert by_line[14] == "not a Graph API response"  # valid JSON, not a response
    assert by_line[16] == "malformed JSON"  # missing comma
    assert by_line[18] == "binary or undecodable bytes"  # dropped by the reader, never parsed


def test_unexpected_shapes_fall_back_without_losing_rows():
    """A wrapper key holding an object where a scalar is expected makes the
    typed decode fail: the batch falls back to JSON paths, not to rejects;
    bodies nested as JSON strings inside JSON strings are still read."""
    df, rejects, _ = run("odd_shapes.ndjson")
    assert df["events_received"].to_list() == [1, 2, 4]
    assert rejects.height == 0
    assert row(df, 1)["logged_at"] is None
    nested = row(df, 3)
    assert (nested["logged_at"], nested["pixel_id"], nested["fbtrace_id"]) == (
        utc(2026, 7, 1, 10, 0, 0), "1033167457209826", "Z3aB2cD3eF4gH5iJ6kL7mN8")


# --------------------------------------------------------------------------
# 2. NDJSON of wrapped bodies
# --------------------------------------------------------------------------

def test_wrapped_object_body_with_timestamp_pixel_status_sent():
    df, _, _ = run("wrapped.ndjson")
    common_contract(df)
    r = row(df, 1)
    assert r["logged_at"] == utc(2026, 7, 1, 10, 0, 1)
    assert (r["pixel_id"], r["account"], r["http_status"], r["batch_size"], r["events_received"]) == (
        "1033167457209826", "1033167457209826", 200, 50, 50)
    r2 = row(df, 2)  # numeric pixel id, milliseconds, fewer received than sent
    assert r2["pixel_id"] == "1033167457209826"
    assert r2["logged_at"] == utc(2026, 7, 1, 10, 5, 0, 250000)
    assert (r2["events_received"], r2["batch_size"]) == (48, 50)


def test_wrapped_string_body_epoch_seconds_and_url():
    df, _, _ = run("wrapped.ndjson")
    r = row(df, 3)
    assert r["logged_at"] == datetime.fromtimestamp(1751364001, timezone.utc)
    assert (r["error_code"], r["error_subcode"], r["is_transient"]) == (100, 2804003, False)
    assert (r["pixel_id"], r["graph_version"]) == ("1033167457209826", "v20.0")
    assert r["fbtrace_id"] == "A6UyEgg_HdoiRX9duxcBOjb"


def test_wrapped_alternative_keys():
    df, _, _ = run("wrapped.ndjson")
    r = row(df, 4)  # time (epoch ms), dataset_id, http_status as string, events_sent, data
    assert r["logged_at"] == utc(2025, 7, 1, 10, 1, 0, 123000)
    assert (r["pixel_id"], r["http_status"], r["batch_size"], r["error_code"]) == ("987654321012345", 400, 3, 100)
    r = row(df, 5)  # logged_at naive, pixel, status_code, batch_size, result
    assert r["logged_at"] == utc(2026, 7, 1, 10, 10, 0)
    assert (r["http_status"], r["batch_size"], r["error_code"], r["is_transient"]) == (500, 10, 1, True)
    r = row(df, 6)  # date with offset, path, response as a JSON string
    assert r["logged_at"] == utc(2026, 7, 1, 10, 10, 0)
    assert (r["pixel_id"], r["graph_version"], r["events_received"]) == ("1033167457209826", "v19.0", 10)


def test_wrapped_transport_error_and_html_body():
    df, rejects, _ = run("wrapped.ndjson")
    t = row(df, 7)
    assert t["signal"] == "transport_error"
    assert "cURL error 28" in t["message"]
    page = row(df, 8)
    assert (page["signal"], page["http_status"]) == ("server_error_page", 502)
    assert "Sorry, something went wrong" in page["message"]
    assert row(df, 9)["events_received"] == 5  # a 'data' array elsewhere does not break decoding
    assert dict(zip(rejects["line"], rejects["reason"]))[10].startswith("not a Graph API response")
    node = row(df, 11)  # a client-side error object ({"code": "ETIMEDOUT"}) is not a Graph error
    assert (node["signal"], node["error_code"], node["message"]) == ("transport_error", None, "connect ETIMEDOUT [ip]:443")


# --------------------------------------------------------------------------
# 3. '<timestamp> <json>' lines, CRLF
# --------------------------------------------------------------------------

def test_timestamp_prefixed_lines_with_crlf():
    assert b"\r\n" in (DATA / "prefixed_crlf.log").read_bytes()
    df, rejects, notes = run("prefixed_crlf.log")
    common_contract(df)
    assert row(df, 1)["logged_at"] == utc(2026, 7, 1, 10, 0, 1)
    r = row(df, 2)
    assert r["logged_at"] == utc(2026, 7, 1, 10, 0, 2, 123000)
    assert (r["error_code"], r["error_subcode"]) == (190, 460)
    assert row(df, 3)["logged_at"] == utc(2026, 7, 1, 10, 0, 3)  # 'YYYY-MM-DD HH:MM:SS', read as UTC
    assert any("without a zone" in n for n in notes)
    r = row(df, 4)
    assert r["logged_at"] == utc(2026, 7, 1, 10, 0, 4)  # +02:00 converted
    assert (r["error_code"], r["is_transient"]) == (613, True)
    r = row(df, 5)  # Monolog: '[ts] channel.LEVEL: text {json} [] []'
    assert (r["logged_at"], r["error_code"]) == (utc(2026, 7, 1, 10, 0, 5), 17)
    assert row(df, 8)["logged_at"] == utc(2026, 7, 1, 10, 0, 8, 500000)
    assert not any("\r" in (m or "") for m in df["message"])
    reasons = dict(zip(rejects["line"], rejects["reason"]))
    assert reasons[6] == "not a Graph API response"
    assert reasons[7].startswith("malformed JSON")


def test_site_timezone_applies_to_naive_timestamps():
    df, _, _ = run("prefixed_crlf.log", options={"site_timezone": "Europe/Copenhagen"})
    assert row(df, 3)["logged_at"] == utc(2026, 7, 1, 8, 0, 3)
    assert row(df, 1)["logged_at"] == utc(2026, 7, 1, 10, 0, 1)  # zoned values unaffected


# --------------------------------------------------------------------------
# 4. Python business SDK blocks
# --------------------------------------------------------------------------

def test_python_sdk_blocks():
    df, rejects, _ = run("python_sdk.log")
    common_contract(df)
    assert df.height == 5
    a = row(df, 2)  # logging prefix line + block
    assert a["logged_at"] == utc(2026, 7, 3, 12, 0, 5, 114000)
    assert (a["pixel_id"], a["graph_version"], a["http_status"]) == ("1033167457209826", "v20.0", 400)
    assert (a["error_code"], a["error_subcode"], a["is_transient"]) == (100, 2804003, False)
    assert a["fbtrace_id"] == "A6UyEgg_HdoiRX9duxcBOjb"
    b = row(df, 24)  # logger.exception: the block twice (message + traceback) -> one row
    assert (b["error_code"], b["error_subcode"], b["logged_at"]) == (190, 463, utc(2026, 7, 3, 12, 5, 0, 2000))
    assert row(df, 53)["events_received"] == 20  # a printed Python repr of a success body
    c = row(df, 56)  # print(e): no prefix line, no timestamp
    assert c["logged_at"] is None
    assert (c["graph_version"], c["http_status"], c["error_code"], c["is_transient"]) == ("v18.0", 500, 1, True)
    d = row(df, 73)  # SDK block whose body is an HTML page
    assert (d["signal"], d["http_status"]) == ("server_error_page", 502)
    assert dict(zip(rejects["line"], rejects["reason"])) == {1: "not a Graph API response"}


# --------------------------------------------------------------------------
# 5. Guzzle truncated bodies
# --------------------------------------------------------------------------

def test_guzzle_truncated_bodies():
    df, rejects, _ = run("guzzle.log")
    common_contract(df)
    r = row(df, 1)
    assert r["logged_at"] == utc(2021, 9, 29, 11, 4, 43)
    assert (r["pixel_id"], r["graph_version"], r["http_status"]) == ("342428520349770", "v10.0", 400)
    assert (r["error_code"], r["error_subcode"], r["error_type"], r["is_transient"]) == (100, 2804014, "OAuthException", False)
    assert r["signal"] == "graph_error"
    cut = row(df, 3)  # body cut inside the message: no code, status and text still read
    assert (cut["signal"], cut["http_status"], cut["error_code"]) == ("graph_error", 400, None)
    assert "Error validating access token" in cut["message"]
    short = row(df, 5)  # short body printed in full on the next line
    assert (short["http_status"], short["error_code"]) == (500, 1)
    page = row(df, 7)
    assert (page["signal"], page["http_status"]) == ("server_error_page", 502)
    curl = row(df, 11)
    assert curl["signal"] == "transport_error" and curl["pixel_id"] == "342428520349770"
    assert dict(zip(rejects["line"], rejects["reason"])) == {12: "not a Graph API response"}


# --------------------------------------------------------------------------
# 6. HTML error pages
# --------------------------------------------------------------------------

def test_html_error_pages():
    df, rejects, _ = run("html_page.log")
    common_contract(df)
    assert df.height == 3 and rejects.height == 0
    page = row(df, 1)
    assert (page["signal"], page["http_status"], page["logged_at"]) == ("server_error_page", 503, utc(2026, 7, 5, 8, 0, 0))
    assert page["message"] == "HTML error page (HTTP 503): Sorry, something went wrong."
    assert row(df, 15)["events_received"] == 12
    bare_page = row(df, 17)
    assert bare_page["signal"] == "server_error_page" and bare_page["logged_at"] is None


# --------------------------------------------------------------------------
# 6b. HTTP captures: '<ts> POST <url> -> HTTP 502 ... (..., 1583 bytes)' + body
# --------------------------------------------------------------------------

def test_http_capture_html_page_is_one_row_with_url_time_and_status():
    df, rejects, _ = run("http_capture.log")
    common_contract(df)
    assert df["line"].to_list() == [1, 28, 34, 36, 41, 42, 44]
    page = row(df, 1)  # the announcing line and its 25-line HTML page: one record
    assert (page["signal"], page["http_status"], page["logged_at"]) == ("server_error_page", 502, utc(2026, 7, 4, 2, 13, 55))
    assert (page["pixel_id"], page["account"], page["graph_version"]) == ("1033167457209826", "1033167457209826", "v25.0")
    assert page["message"] == "HTML error page (HTTP 502): Sorry, something went wrong."
    no_doctype = row(df, 28)  # page starting at <html>, no doctype
    assert (no_doctype["signal"], no_doctype["http_status"]) == ("server_error_page", 500)
    assert '"format":"http-capture"' in page["extra"]
    assert rejects.filter(pl.col("line") < 44).height == 0  # no page line comes back alone


def test_http_capture_json_bodies_and_status_lines():
    df, rejects, _ = run("http_capture.log")
    bad = row(df, 34)  # '-> HTTP 400 Bad Request (application/json, ...)' + JSON body
    assert (bad["signal"], bad["http_status"], bad["error_code"], bad["error_subcode"]) == ("graph_error", 400, 100, 2804003)
    assert bad["logged_at"] == utc(2026, 7, 4, 2, 15, 10)
    reason_only = row(df, 36)  # '-> HTTP 503 Service Unavailable' (no parenthesis) + page
    assert (reason_only["http_status"], reason_only["graph_version"], reason_only["signal"]) == (503, "v24.0", "server_error_page")
    empty = row(df, 41)  # 'HTTP/1.1 504', no body at all: still a server error
    assert (empty["signal"], empty["http_status"], empty["message"]) == ("server_error_page", 504, "Server error (HTTP 504)")
    ok = row(df, 42)
    assert (ok["signal"], ok["http_status"], ok["events_received"]) == ("success", 200, 2)
    status_line = row(df, 44)  # 'HTTP/1.1 500 ...' status line followed by the JSON body
    assert (status_line["http_status"], status_line["error_code"], status_line["is_transient"]) == (500, 1, True)
    # a 200 with no body says nothing about the events
    assert dict(zip(rejects["line"], rejects["reason"])) == {47: "not a Graph API response"}


def test_http_capture_sample_is_claimed_by_graph_api():
    """'<ISO> POST https://graph...' looks like a WooCommerce v2 header to the
    woocommerce sniffer; the capture must still be read by graph_api."""
    from capi_auditor_plugins import woocommerce

    for path in (DATA / "http_capture.log", SAMPLES / "graph-5xx.html.log"):
        head = path.read_bytes()[:65536]
        assert graph_api.SOURCE.sniff(path.name, head) > woocommerce.SOURCE.sniff(path.name, head)


def test_http_capture_sample_file():
    df, rejects, _ = run(SAMPLES / "graph-5xx.html.log")
    assert rejects.height == 0
    assert df.select("line", "logged_at", "account", "graph_version", "http_status", "signal").rows() == [
        (1, utc(2026, 7, 4, 2, 13, 55), "873615209481726", "v25.0", 502, "server_error_page"),
        (57, utc(2026, 7, 4, 2, 14, 31), "873615209481726", "v25.0", 500, "server_error_page"),
    ]
    assert not any("EAAG" in m or "access_token" in m for m in df["message"])


# --------------------------------------------------------------------------
# 6c. Timestamp prefixes
# --------------------------------------------------------------------------

def test_timestamp_prefix_variants():
    df, rejects, notes = run("timestamps.log")
    common_contract(df)
    guzzle = row(df, 1)  # OpenCart 'Y-m-d G:i:s': hour without leading zero
    assert guzzle["logged_at"] == utc(2026, 7, 4, 2, 14, 2)
    assert (guzzle["http_status"], guzzle["pixel_id"], guzzle["signal"]) == (500, "1033167457209826", "graph_error")
    assert row(df, 5)["logged_at"] == utc(2026, 7, 4, 2, 20, 7, 123000)  # Python logging ',123'
    assert row(df, 5)["error_code"] == 17
    assert row(df, 6)["logged_at"] == utc(2026, 7, 4, 2, 21, 8)  # 2026/07/04
    php = row(df, 7)  # PHP error_log '[04-Jul-2026 02:22:09 UTC]'
    assert (php["logged_at"], php["error_subcode"]) == (utc(2026, 7, 4, 2, 22, 9), 2804003)
    assert row(df, 8)["logged_at"] == utc(2026, 7, 4, 3, 23, 10)  # Europe/Lisbon is UTC+1 in July
    assert any("without a zone" in n for n in notes)
    # a one-digit-hour line starts its own record: the PHP notice is not glued
    # to the Guzzle record before it, and comes back as a reject of its own
    assert dict(zip(rejects["line"], rejects["reason"])) == {4: "not a Graph API response", 9: "not a Graph API response"}


def test_site_timezone_applies_to_new_naive_prefixes_only():
    df, _, _ = run("timestamps.log", options={"site_timezone": "Europe/Lisbon"})
    assert row(df, 1)["logged_at"] == utc(2026, 7, 4, 1, 14, 2)  # naive: read as Lisbon (UTC+1)
    assert row(df, 6)["logged_at"] == utc(2026, 7, 4, 1, 21, 8)
    assert row(df, 7)["logged_at"] == utc(2026, 7, 4, 2, 22, 9)  # says UTC: unaffected
    assert row(df, 8)["logged_at"] == utc(2026, 7, 4, 3, 23, 10)  # names its zone: unaffected


def test_guzzle_sample_one_digit_hour():
    df, rejects, _ = run(SAMPLES / "guzzle.log")
    first = row(df, 1)
    assert (first["logged_at"], first["http_status"], first["account"]) == (utc(2026, 7, 4, 2, 14, 2), 500, "873615209481726")
    assert df["logged_at"].null_count() == 0
    assert dict(zip(rejects["line"], rejects["reason"])) == {4: "not a Graph API response"}


# --------------------------------------------------------------------------
# 7. JSON array documents
# --------------------------------------------------------------------------

def test_json_array_gz_export():
    df, rejects, _ = run("export.json.gz", source=graph_api.ARRAY_SOURCE)
    common_contract(df)
    assert df["line"].to_list() == [2, 13, 30, 44, 49]
    first = row(df, 2)
    assert first["logged_at"] == utc(2026, 7, 2, 9, 0, 0, 123456)
    assert (first["events_received"], first["batch_size"], first["http_status"]) == (20, 20, 200)
    dk = row(df, 13)
    assert (dk["error_code"], dk["error_subcode"], dk["pixel_id"]) == (100, 2804050, "1033167457209826")
    assert (row(df, 30)["error_code"], row(df, 30)["is_transient"]) == (613, True)
    assert row(df, 44)["events_received"] == 1  # bare body element
    assert row(df, 49)["events_received"] == 7  # jsonPayload LogEntry
    assert dict(zip(rejects["line"], rejects["reason"])) == {58: "not a Graph API response (wrapper without a response body)"}


def test_json_array_mixed_shapes_and_non_objects():
    df, rejects, _ = run("export_mixed.json", source=graph_api.ARRAY_SOURCE)
    assert df["line"].to_list() == [1, 2, 4]
    assert row(df, 2)["error_subcode"] == 463  # response given as a JSON string
    assert row(df, 4)["error_code"] == 4
    assert dict(zip(rejects["line"], rejects["reason"])) == {3: "not a Graph API response"}


def test_broken_json_array_is_rejected():
    df, rejects, _ = run("broken_array.json", source=graph_api.ARRAY_SOURCE)
    assert df.height == 0
    assert rejects["reason"][0].startswith("malformed JSON array")


# --------------------------------------------------------------------------
# Cross-cutting
# --------------------------------------------------------------------------

ALL_LINE_FILES = [
    "bare.ndjson", "wrapped.ndjson", "prefixed_crlf.log", "python_sdk.log", "guzzle.log", "html_page.log",
    "odd_shapes.ndjson", "http_capture.log", "timestamps.log",
]


@pytest.mark.parametrize("name", ALL_LINE_FILES)
@pytest.mark.parametrize("chunk_bytes", [450, 700, 1100])
def test_batch_cuts_do_not_change_records(name, chunk_bytes):
    """Small read chunks make the reader cut batches at entry starts; records
    (Guzzle body lines after 'response:', SDK blocks, HTML pages) must come
    out the same as from one batch.  (Chunks stay above a quarter of the
    largest entry: the reader force-cuts entries longer than 4 chunks.)"""
    whole, whole_rej, _ = run(name)
    cut, cut_rej, _ = run(name, chunk_bytes=chunk_bytes)
    assert cut.equals(whole)
    assert sorted(cut_rej.rows()) == sorted(whole_rej.rows())


@pytest.mark.parametrize(
    ("text", "cut_before"),
    [
        ("x resulted in a `400 Bad Request` response:\n{\"error\":{\"code\":1}}\n", False),
        ("x resulted in a `400 Bad Request` response:\r\n{\"error\":{\"code\":1}}\r\n", False),
        ("x response: \n<!DOCTYPE html>\n", False),
        ("<!DOCTYPE html>\n<html lang=\"en\">\n", False),
        ("{\"events_received\":1}\n{\"events_received\":2}\n", True),
        ("{\"events_received\":1}\n<!doctype html>\n", True),
        ("    }\n2026-07-03 12:00:05,114 ERROR x: \n", True),
        ("x\n[2026-07-01 10:00:05] app.ERROR: y\n", True),
        ("x\n    \"code\": 100,\n", False),
        ("x\n  Message: Call was not successful\n", False),
        # HTTP captures: the body belongs to the line that announced it
        ("t POST https://graph.facebook.com/v25.0/1/events -> HTTP 502 Bad Gateway "
         "(content-type: text/html; charset=\"utf-8\", 1583 bytes)\n<!DOCTYPE html>\n", False),
        ("t POST /v25.0/1/events -> HTTP 503 Service Unavailable\n<!DOCTYPE html>\n", False),
        ("t POST /v25.0/1/events -> HTTP 502\r\n<html lang=\"en\">\r\n", False),
        ("t POST /v25.0/1/events -> HTTP 400 Bad Request\n{\"error\":{\"code\":100}}\n", False),
        ("HTTP/1.1 500 Internal Server Error\n{\"error\":{\"code\":1}}\n", False),
        ("<!-- ServerType: PROXYGEN -->\n<!DOCTYPE html>\n", True),
        # timestamp prefixes
        ("x\n2026-07-04 2:14:02 - Facebook Business Extension :: x\n", True),
        ("x\n2026/07/04 02:14:02 capi response: {}\n", True),
        ("x\n[04-Jul-2026 02:14:02 UTC] PHP Warning: x\n", True),
        ("x\n2026-07-04 02:14:02,123 ERROR capi_sender: x\n", True),
    ],
)
def test_entry_start_as_the_reader_uses_it(text, cut_before):
    """The reader cuts batches before ``\\n(?=ENTRY_START)`` (Python ``re`` on bytes)."""
    pattern = graph_api.ENTRY_START.removeprefix("^")
    rx = re.compile(b"\n(?=" + pattern.encode() + b")")
    first_newline = text.index("\n")
    hits = [m.start() for m in rx.finditer(text.encode())]
    assert (first_newline in hits) is cut_before


@pytest.mark.parametrize(
    "path", [DATA / n for n in ALL_LINE_FILES] + sorted(SAMPLES.glob("*.log")), ids=lambda p: p.name
)
def test_reader_cuts_only_where_records_start(path):
    """Every line the reader may cut a batch before (ENTRY_START) must be a
    line where the record grouping starts a record, or a cut would split one."""
    from capi_auditor_plugins.graph_api.records import group_records

    data = path.read_bytes()
    rx = re.compile(b"\n(?=" + graph_api.ENTRY_START.removeprefix("^").encode() + b")")
    cut_lines = {data.count(b"\n", 0, m.start()) + 2 for m in rx.finditer(data)}
    text = data.decode("utf-8", errors="replace").split("\n")
    batch = pl.DataFrame(
        {"file": "f", "line": range(1, len(text) + 1), "text": [t.removesuffix("\r") for t in text]},
        schema={"file": pl.String, "line": pl.Int64, "text": pl.String},
    )
    starts = set(group_records(batch)["line"])
    assert cut_lines, "the reader should find some cut points"
    assert cut_lines <= starts, sorted(cut_lines - starts)


@pytest.mark.parametrize(
    ("name", "source"),
    [(n, graph_api.SOURCE) for n in ALL_LINE_FILES]
    + [("export.json.gz", graph_api.ARRAY_SOURCE), ("export_mixed.json", graph_api.ARRAY_SOURCE)],
)
def test_no_token_or_email_in_any_string_column(name, source):
    raw = (gzip.decompress((DATA / name).read_bytes()) if name.endswith(".gz") else (DATA / name).read_bytes()).decode(errors="replace")
    df, rejects, _ = run(name, source=source)
    for frame in (df, rejects):
        for col in frame.select(pl.col(pl.String)).columns:
            for value in frame[col].drop_nulls():
                assert "EAAG" not in value and EMAIL not in value, (col, value)
                assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", value), (col, value)
    if TOKEN in raw or EMAIL in raw:  # the input really had them
        assert df.height > 0


def test_redaction_of_messages_that_carry_secrets():
    df, _, _ = run("bare.ndjson")
    assert row(df, 10)["message"].endswith("Cannot parse access token [token]")
    assert "[email]" in row(df, 11)["message"]
    w, _, _ = run("guzzle.log")
    assert row(w, 11)["message"] == (
        "cURL error 28: Operation timed out after 10001 milliseconds with 0 bytes received "
        "for https://graph.facebook.com/v10.0/342428520349770/events?…"
    )


def test_sniff_scores():
    def head(name):
        unit = inputs.expand([str(DATA / name)])[0][0]
        return unit.name, unit.head()

    for name in ALL_LINE_FILES:
        assert graph_api.SOURCE.sniff(*head(name)) >= 0.6, name
        assert graph_api.ARRAY_SOURCE.sniff(*head(name)) == 0.0, name
    for name in ("export.json.gz", "export_mixed.json"):
        assert graph_api.ARRAY_SOURCE.sniff(*head(name)) == pytest.approx(0.8)
        assert graph_api.SOURCE.sniff(*head(name)) <= 0.1
    woo = (
        b"2025-03-14T09:12:44+00:00 NOTICE Request\nmethod: POST\n"
        b"uri: https://graph.facebook.com/v20.0/1033167457209826/events\n"
        b"user-agent: Facebook-for-WooCommerce/3.4.1 (WooCommerce/9.7.1; WordPress/6.7.2)\n"
        b"2025-03-14T09:12:45+00:00 NOTICE Response\ncode: 200\nmessage: OK\n"
        b'body: {"events_received":1,"messages":[],"fbtrace_id":"A-zuml9VMVVsDM853uIaISZ"}\n'
    )
    assert graph_api.SOURCE.sniff("facebook_for_woocommerce-2025-03-14-abc.log", woo) <= 0.2
    legacy = b"04-21-2021 @ 22:25:38 - Response\ncode: 200\nbody: {\"events_received\":1,\"messages\":[],\"fbtrace_id\":\"x\"}\n"
    assert graph_api.SOURCE.sniff("x.log", legacy) <= 0.2
    sgtm = (
        b'{"jsonPayload":{"Name":"Facebook","Type":"Response","ResponseStatusCode":200,'
        b'"ResponseBody":"{\\"events_received\\":1,\\"messages\\":[],\\"fbtrace_id\\":\\"A7R\\"}"},'
        b'"logName":"projects/p/logs/run.googleapis.com%2Fstdout","timestamp":"2025-05-25T12:31:02.210934Z"}\n'
    )
    assert graph_api.SOURCE.sniff("s.json", sgtm) <= 0.3
    assert graph_api.SOURCE.sniff("app.log", b"2026-07-01 10:00:00 INFO started\nhello\n") == 0.0


def test_empty_batch_and_registration():
    rows, rejects = graph_api.parse_lines(
        pl.DataFrame(schema={"file": pl.String, "line": pl.Int64, "text": pl.String}), ParseContext(source="graph_api")
    )
    assert rows.height == 0 and rejects.height == 0
    assert schema.validate(schema.conform(rows)) == []
    got = []
    graph_api.capi_auditor_register_sources(register=got.append)
    assert [s.name for s in got] == ["graph_api", "graph_api_array"]
    for s in got:
        s.validate()
    assert got[0].framing == "entries" and got[1].framing == "document"


def test_registered_through_entry_point():
    from auditor.plugin_manager import load_plugins
    from auditor.registry import Registry

    loaded = load_plugins()
    reg = Registry.collect(loaded.pm)
    assert {"graph_api", "graph_api_array"} <= set(reg.sources)
    assert reg.sources["graph_api"].plugin == "graph_api"
