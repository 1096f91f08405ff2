"""The woocommerce source, driven the way the core drives it:
expand -> read_batches -> Source.parse -> conform -> concat -> finalize -> conform."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from auditor.testing import parse_paths
import pytest

import capi_auditor_plugins.woocommerce as woocommerce
from auditor import ParseContext, conform
from auditor.ingest.inputs import expand
from auditor.ingest.reader import read_batches
from auditor.plugin_manager import new_plugin_manager
from auditor.registry import Registry

DATA = Path(__file__).parent / "data" / "woocommerce"
V1 = "facebook_for_woocommerce-3b1f0c2a9d8e7f6a5b4c3d2e1f0a9b8c.log"  # WC file handler v1, plugin 2.3.5, New York
V2 = "facebook_for_woocommerce-2025-03-14-5f1d2e3c4b5a69788796a5b4c3d2e1f0.log"  # v2 + CONTEXT, plugin 3.4.1
V35 = "facebook_for_woocommerce-2026-06-10-9a8b7c6d5e4f30211203948576afbecd.log"  # plugin >= 3.5 log() lines
CRLF = "facebook_for_woocommerce-2025-03-14-crlf.log"
DAMAGED = "facebook_for_woocommerce-2025-04-02-damaged.log"
PII = ("jane.doe@example.com", "jane.doe%40example.com", "sam@example.org", "203.0.113.7", "198.51.100.23", "415 555 0134")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def source():
    pm = new_plugin_manager()
    pm.register(woocommerce, name="woocommerce")
    return Registry.collect(pm).sources["woocommerce"]


def run(source, *paths, chunk_bytes=None, **options):
    """(canonical frame, rejects, notes) for files under tests/data/woocommerce (or absolute paths)."""
    parsed = parse_paths(source.name, *[DATA / p for p in paths], options=options, batch_bytes=chunk_bytes)
    return parsed.frame, parsed.rejects, parsed.notes


def at(frame: pl.DataFrame, line: int) -> dict:
    rows = frame.filter(pl.col("line") == line)
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_sniff(source):
    for name in (V1, V2, V35, CRLF, DAMAGED):
        assert source.sniff(name, (DATA / name).read_bytes()[:65536]) >= 0.9, name
    assert source.sniff("orders.ndjson", b'{"id":1,"email":"a@b.c","total_price":"9.00"}\n{"id":2}\n') == 0
    assert source.sniff("orders-create.json", b'{"id": 820982911946154508, "line_items": []}') == 0
    assert source.sniff("other-2025-01-01-abc.log", b"2025-01-01T00:00:00+00:00 INFO Payment complete\n") < 0.5


def test_entry_start_matches_every_header_generation(source):
    import re

    start = re.compile(source.entry_start)
    for line in ("04-21-2021 @ 22:25:37 - Request", "2025-03-14T09:12:44+00:00 NOTICE Request",
                 "2025-09-01T14:09:05+00:00 Error Error persisting Meta logs", "2025-09-01T14:09:05+00:00 Notice x"):
        assert start.match(line), line
    for line in ("Request", " CONTEXT: {\"_legacy\":true}", "body: {\"data\":[]}", "    [date] => Wed, 21 Apr 2021"):
        assert not start.match(line), line


def test_v1_legacy_print_r_doubled_request_blank_lines(source):
    frame, rejects, _ = run(source, V1)
    assert rejects.is_empty()
    assert frame["kind"].to_list() == ["server_event", "api_response"] * 3 + ["status"]
    purchase = at(frame, 59)
    assert purchase["event_name"] == "Purchase" and purchase["value"] == 49.0 and purchase["value_raw"] == "49.00"
    assert purchase["order_id"] == "1234" and purchase["currency"] == "USD"
    assert (purchase["pixel_id"], purchase["account"], purchase["graph_version"]) == ("1033167457209826",) * 2 + ("v9.0",)
    assert purchase["connector"] == "facebook-for-woocommerce" and purchase["connector_version"] == "2.3.5"
    assert purchase["partner_agent"] == "woocommerce-5.2.2-2.3.5" and purchase["batch_size"] == 1
    assert (purchase["ud_em"], purchase["ud_ph"], purchase["ud_fbc"], purchase["ud_fbp"]) == ("sha256", "clear", "empty", "present")
    assert purchase["message"] == "Request POST /v9.0/1033167457209826/events Purchase"
    ok = at(frame, 15)
    assert (ok["signal"], ok["http_status"], ok["events_received"]) == ("success", 200, 1)
    assert ok["fbtrace_id"] == "A-zuml9VMVVsDM853uIaIS0" and ok["batch_id"] == at(frame, 1)["batch_id"]
    error = at(frame, 73)
    assert (error["signal"], error["http_status"], error["error_code"], error["error_subcode"]) == ("graph_error", 400, 100, 2804009)
    assert error["is_transient"] is False and error["batch_id"] == purchase["batch_id"]
    could_not = at(frame, 84)  # takes the code of the response just before it
    assert (could_not["kind"], could_not["signal"], could_not["error_type"]) == ("status", "graph_error", "OAuthException")
    assert (could_not["error_code"], could_not["error_subcode"], could_not["batch_id"]) == (100, 2804009, purchase["batch_id"])


def test_v2_context_suffix_and_batches(source):
    frame, rejects, notes = run(source, V2)
    assert rejects.is_empty() and not notes  # ISO headers are UTC: nothing to infer
    assert not frame["message"].str.contains("CONTEXT").any()
    batch = frame.filter(pl.col("line") == 1)
    assert batch.height == 2 and batch["batch_size"].to_list() == [2, 2] and batch["batch_id"].n_unique() == 1
    assert batch["logged_at"].to_list() == [utc(2025, 3, 14, 9, 12, 44)] * 2  # +00:00 headers are never shifted
    assert batch["connector_version"].to_list() == ["3.4.1"] * 2 and batch["graph_version"].to_list() == ["v20.0"] * 2
    too_old = at(frame, 9)
    assert (too_old["error_code"], too_old["error_subcode"], too_old["fbtrace_id"]) == (100, 2804003, "A6UyEgg_HdoiRX9duxcBOjb")
    assert too_old["batch_id"] == batch["batch_id"][0] and "Event Timestamp Too Old" in too_old["message"]


def test_event_time_raw_keeps_milliseconds(source):
    frame, _, _ = run(source, V2)
    view = frame.filter(pl.col("event_name") == "ViewContent").row(0, named=True)
    assert view["event_time_raw"] == "1741943562500" and view["event_time"] is None
    purchase = frame.filter(pl.col("event_name") == "Purchase").row(0, named=True)
    assert purchase["event_time_raw"] == "1741943563" and purchase["event_time"] == utc(2025, 3, 14, 9, 12, 43)


def test_transport_error_with_empty_response_code(source):
    frame, _, _ = run(source, V2)
    response, could_not = at(frame, 53), at(frame, 59)
    assert (response["kind"], response["signal"], response["http_status"]) == ("api_response", "transport_error", None)
    assert (could_not["kind"], could_not["signal"]) == ("status", "transport_error")
    assert response["batch_id"] == could_not["batch_id"] == at(frame, 45)["batch_id"]
    assert "cURL error 28" in could_not["message"]


def test_html_503_body_and_non_capi_calls(source):
    frame, _, _ = run(source, V2)
    page = at(frame, 69)
    assert (page["kind"], page["signal"], page["http_status"]) == ("api_response", "server_error_page", 503)
    # a catalog call and its answer are not CAPI traffic
    assert (at(frame, 31)["kind"], at(frame, 39)["kind"], at(frame, 39)["signal"]) == ("status", "status", "log")
    assert frame.filter(pl.col("kind") == "api_response").height == 4


def test_single_line_status_entries(source):
    frame, rejects, _ = run(source, V35)
    assert rejects.is_empty()
    signals = frame.filter(pl.col("kind") == "status")["signal"].to_list()
    assert signals == ["token_missing", "connection_invalid", "transport_error", "transport_error", "crawler_blocked",
                       "plugin_updated", "plugin_updated", "connection_invalid", "log"]
    invalid = at(frame, 2)
    assert (invalid["error_code"], invalid["error_subcode"], invalid["batch_id"]) == (190, 460, None)
    # pixel back-filled to lines before the first request; version only carried forward
    assert at(frame, 1)["account"] == "1033167457209826" and at(frame, 1)["connector_version"] is None
    assert at(frame, 6)["connector_version"] == "3.7.1"
    request = at(frame, 9)  # user agent without plugin version: taken from woocommerce_<flags>-<wc>-<plugin>
    assert (request["connector_version"], request["test_event_code"], request["graph_version"]) == ("3.7.1", "TEST4321", "v22.0")
    assert request["value"] == 120.0 and request["order_id"] == "5678" and request["ud_external_id"] == "sha256"
    # >= 3.7.1 logs the connection check before the exchange it belongs to
    assert at(frame, 8)["batch_id"] == at(frame, 16)["batch_id"] == request["batch_id"]
    assert (at(frame, 16)["http_status"], at(frame, 16)["error_code"]) == (401, 190)


def test_crlf_input_parses_like_lf(source):
    crlf, rejects, _ = run(source, CRLF)
    lf, _, _ = run(source, V2)
    assert rejects.is_empty()
    cols = [c for c in crlf.columns if c not in ("file", "batch_id")]
    assert crlf.select(cols).equals(lf.filter(pl.col("line") <= 15).select(cols))


def test_damaged_file_reports_rejects_and_keeps_going(source):
    frame, rejects, _ = run(source, DAMAGED)
    assert frame.filter(pl.col("kind") == "server_event")["event_id"].to_list() == ["d00dfeed-0000-4000-8000-000000000001"]
    found = {line: reason for line, reason in rejects.select("line", "reason").iter_rows()}
    assert set(found) == {1, 2, 3, 7, 13, 23, 31}
    assert "before the first log header" in found[1] and found[2] == found[1] and "binary" in found[7] and "date/time" in found[13]
    assert "not valid JSON" in found[23] and "not valid JSON" in found[31]  # broken mid-file / half-written at EOF
    assert rejects["file"].str.ends_with(DAMAGED).all()


def test_timezone_inferred_for_legacy_headers(source):
    frame, _, notes = run(source, V1)
    first = at(frame, 1)
    assert first["logged_at"] == utc(2021, 1, 15, 14, 0, 5)  # header said 09:00:05 New York time
    events = frame.filter(pl.col("kind") == "server_event")
    lag = (events["logged_at"] - events["event_time"]).dt.total_seconds()
    assert lag.abs().max() < 60  # no false delay
    assert len(notes) == 1 and "UTC-5" in notes[0] and "site-local" in notes[0] and "--site-timezone" in notes[0]


@pytest.mark.parametrize("zone", ["America/New_York", "-05:00", "UTC-5"])
def test_timezone_from_option(source, zone):
    frame, _, notes = run(source, V1, V2, site_timezone=zone)
    assert at(frame.filter(pl.col("file").str.ends_with(V1)), 1)["logged_at"] == utc(2021, 1, 15, 14, 0, 5)
    assert at(frame.filter(pl.col("file").str.ends_with(V2)), 9)["logged_at"] == utc(2025, 3, 14, 9, 12, 45)  # UTC stays
    assert len(notes) == 1 and "site_timezone" in notes[0]


def test_timezone_option_is_dst_aware(source, tmp_path):
    log = tmp_path / "facebook_for_woocommerce-summer.log"
    local = ["07-15-2021 @ 10:00:00", "11-07-2021 @ 01:30:00", "11-07-2021 @ 01:10:00", "01-15-2022 @ 10:00:00"]
    log.write_text("".join(f"{t} - Blocked CAPI event for crawler: Googlebot\n\n" for t in local))
    frame, _, _ = run(source, str(log), site_timezone="America/New_York")
    # summer EDT, the repeated autumn hour read in write order (EDT, then EST), winter EST
    assert frame["logged_at"].to_list() == [utc(2021, 7, 15, 14), utc(2021, 11, 7, 5, 30), utc(2021, 11, 7, 6, 10), utc(2022, 1, 15, 15)]
    frame, _, notes = run(source, str(log))
    assert frame["logged_at"][0] == utc(2021, 7, 15, 10) and "assumed UTC" in notes[0]


def test_results_do_not_depend_on_batch_boundaries(source):
    whole, _, _ = run(source, V1, V2, V35)
    pieces, _, _ = run(source, V1, V2, V35, chunk_bytes=1024)
    assert pieces.equals(whole)


def test_no_clear_pii_in_any_string_column(source):
    frame, rejects, _ = run(source, V1, V2, V35, CRLF, DAMAGED)
    texts = pl.concat([frame.select(pl.col(pl.String)).unpivot()["value"], rejects["reason"]]).drop_nulls()
    for needle in PII:
        assert not texts.str.contains(needle, literal=True).any(), needle
    assert at(frame.filter(pl.col("file").str.ends_with(V35)), 21)["message"] == (
        "Order 5678 synced for customer [email] from [ip], phone [phone]"
    )


def test_context_suffix_on_the_same_line(source, tmp_path):
    log = tmp_path / "facebook_for_woocommerce-2025-05-01-same-line.log"
    log.write_text(
        '2025-05-01T10:00:00+00:00 NOTICE Response\nResponse\ncode: 200\nmessage: OK\n'
        'body: {"events_received":1,"messages":[],"fbtrace_id":"AsameLine"} CONTEXT: {"_legacy":true}\n'
        '2025-05-01T10:00:01+00:00 NOTICE Blocked CAPI event for crawler: Bingbot CONTEXT: {"_legacy":true}\n'
    )
    frame, rejects, _ = run(source, str(log))
    assert rejects.is_empty()
    assert frame["signal"].to_list() == ["success", "crawler_blocked"] and frame["fbtrace_id"][0] == "AsameLine"
    assert frame["message"][1] == "Blocked CAPI event for crawler: Bingbot"


def test_day_files_of_one_log_share_account_and_version(source, tmp_path):
    request = (DATA / V2).read_text().split(" CONTEXT:")[0]  # the first request entry of the v2 sample
    day1 = tmp_path / "shop" / "facebook_for_woocommerce-2025-03-14-5f1d2e3c4b5a69788796a5b4c3d2e1f0.log"
    day2 = tmp_path / "shop" / "facebook_for_woocommerce-2025-03-15-0a1b2c3d4e5f60718293a4b5c6d7e8f9.log"
    other = tmp_path / "other-shop" / "facebook_for_woocommerce-2025-03-15-0a1b2c3d4e5f60718293a4b5c6d7e8f9.log"
    for path in (day1, day2, other):
        path.parent.mkdir(exist_ok=True)
    day1.write_text(request)
    day2.write_text("2025-03-15T08:00:00+00:00 ERROR Error persisting Meta logs: Cannot create the API instance because the access token is missing. : []\n")
    other.write_text(day2.read_text())
    frame, _, _ = run(source, str(day1), str(day2), str(other))
    lines = frame.filter(pl.col("signal") == "token_missing").sort("file")
    assert lines["account"].to_list() == [None, "1033167457209826"]  # other-shop/ sorts first
    assert lines["connector_version"].to_list() == [None, "3.4.1"]


def test_finalize_twice_changes_nothing(source):
    ctx = ParseContext(source="woocommerce")
    (unit,), _ = expand([str(DATA / V1)])
    rows = pl.concat([conform(source.parse(b, ctx)[0], keep_private=True) for b, _ in read_batches(unit, "entries", source.entry_start)])
    once = source.finalize(rows, ctx)
    assert conform(source.finalize(once, ctx)).equals(conform(once))


def test_batch_id_is_short_and_unique_per_request(source, tmp_path):
    twin = tmp_path / "copy" / V2  # same name and line numbers, other folder: must not share ids
    twin.parent.mkdir()
    twin.write_bytes((DATA / V2).read_bytes())
    frame, _, _ = run(source, V1, V2, V35, str(twin))
    ids = frame["batch_id"].drop_nulls()
    assert ids.str.contains(r"^\d+:\d+$").all() and ids.str.len_bytes().max() <= 12  # inline in a string view
    requests = frame.filter(pl.col("kind") == "server_event")
    assert requests["batch_id"].null_count() == 0
    assert requests.select("file", "line").n_unique() == requests["batch_id"].n_unique() == 12


def test_extra_keeps_only_informative_fields(source):
    frame, _, _ = run(source, V2, V35)
    v2 = frame.filter(pl.col("file").str.ends_with(V2))
    v35 = frame.filter(pl.col("file").str.ends_with(V35))
    assert v2.filter(pl.col("line") == 1)["extra"].to_list() == ['{"duration_s":0.41823}'] * 2  # no NOTICE on every row
    assert at(v2, 9)["extra"] is None and at(v2, 15)["extra"] is None
    assert at(v2, 31)["extra"] == '{"endpoint":"/v20.0/2233445566778899/items_batch"}'
    assert at(v35, 1)["extra"] == '{"level":"ERROR"}' and at(v35, 6)["extra"] is None  # INFO dropped
    assert at(v35, 9)["extra"] == '{"level":"DEBUG","duration_s":0.2}'


def test_finalize_keeps_row_order_and_chunk_layout(source):
    """finalize works on narrow frames: the wide frame is neither reordered nor
    rechunked (a new column cut differently would make the next step copy all)."""
    ctx = ParseContext(source="woocommerce")
    units, _ = expand([str(DATA / p) for p in (V1, V2, V35)])
    parts = [
        conform(source.parse(b, ctx)[0], keep_private=True)
        for unit in units for b, _ in read_batches(unit, "entries", source.entry_start, chunk_bytes=1024)
    ]
    rows = pl.concat(parts)
    out = source.finalize(rows, ctx)
    assert out.select("file", "line", "event_id").equals(rows.select("file", "line", "event_id"))
    layout = out["line"].chunk_lengths()
    assert len(layout) > 1
    for col in ("batch_id", "account", "pixel_id", "connector_version", "error_code", "kind", "signal"):
        assert out[col].chunk_lengths() == layout, col
