"""The gtm_server source, driven the way the core drives it:
expand -> read_batches -> Source.parse -> conform -> concat -> finalize -> conform.

Inputs under ``tests/data/gtm_server/``:

* ``gcs-sink/run.googleapis.com/stdout/2025/05/25/12:00:00_12:59:59_S0.json`` -- Cloud Storage sink
  NDJSON of stdout: Stape Request/Response as ``textPayload`` and ``jsonPayload``, a failure, a
  ``Listening`` line, a ``googletagmanager.com/sgtm/a`` ping, a TikTok tag log, an answer whose
  request is not in the export, and one entry written twice; ``..._A0.json`` repeats one entry;
* ``gcs-sink/run.googleapis.com/requests/...S0.json`` -- request logs: GA4 hits (the browser leg),
  a batched hit without ``en``, ``user_engagement``, ``/healthz`` and ``/gtm.js``;
* ``gcloud-logging-read.json`` -- ``gcloud logging read --format=json`` (pretty array): TraceId,
  two pixels answered in reverse order, ``-ee`` partner agent, ``appsecret_proof``;
* ``gcloud-logging-read-1400.json.gz`` -- the same layout gzipped: a transient 500;
* ``stape-bigquery-export.ndjson`` -- Stape's snake_case BigQuery copy (ms timestamps, bodies
  stringified, ``response_body`` twice), Meta's ``gtmss-`` partner agent, a failure, a ``Message``;
* ``docker-stdout/sgtm-stdout.ndjson`` -- raw stdout of a self-hosted container: bare tag objects,
  two events in one request, an older tag version whose Response names no pixel;
* ``broken/shard-cut.json`` -- a good line, a cut line and a JSON object that is no log entry;
* ``odd-bodies/shard.json`` -- bodies of every JSON type in one shard: ``ResponseBody`` logged as an
  object (``jsonPayload``, ``textPayload``, raw stdout), ``RequestBody`` as a JSON string, a body
  stringified twice, ``RequestBody`` ``{}`` / ``null`` / with a ``data`` string, a cut line.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from auditor.testing import parse_paths
import pytest

from auditor.ingest.inputs import expand
from auditor.ingest.sniff import pick_source
from auditor.plugin_manager import load_plugins
from auditor.registry import Registry

DATA = Path(__file__).parent / "data" / "gtm_server"
STDOUT = "gcs-sink/run.googleapis.com/stdout"
REQUESTS = "gcs-sink/run.googleapis.com/requests"
GCLOUD = "gcloud-logging-read.json"
PIXEL_A, PIXEL_B = "1033167457209826", "2049381726354811"
TOKEN = "EAAGm0PX4ZCpsBAKZCZBxyzzy1234567890abcdEFGH"
PROOF = "5b1e3c9d8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"
PII = (
    TOKEN, PROOF, "EAAGm0PX4", "jon@example.com", "jon%40example.com", "jon%2540example.com",
    "203.0.113.24", "198.51.100.9", "iPhone OS 17_4",
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def run(*paths, chunk_bytes=None, **options):
    """(canonical frame, rejects, notes) for paths under tests/data/gtm_server (or absolute)."""
    parsed = parse_paths("gtm_server", *[p if Path(p).is_absolute() else DATA / p for p in paths],
                         options=options, batch_bytes=chunk_bytes)
    return parsed.frame, parsed.rejects, parsed.notes


def one(frame: pl.DataFrame, **where) -> dict:
    rows = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def name(row: dict) -> str:
    return Path(row["file"]).name


def test_every_variant_is_sniffed_as_gtm_server():
    registry = Registry.collect(load_plugins().pm)
    units, _ = expand([str(DATA)])
    assert len(units) == 9
    for unit in units:
        picked, _ = pick_source(unit, registry.sources, [])
        assert picked is not None and picked.name == "gtm_server", unit.name


def test_gcs_sink_shard_requests_responses_failures():
    df, rejects, notes = run(STDOUT)
    assert rejects.is_empty()
    req = one(df, kind="server_event", order_id="1234")
    assert req["logged_at"] == utc(2025, 5, 25, 12, 30, 15, 104221)
    assert req["event_time"] == utc(2025, 5, 25, 12, 30, 15) and req["event_time_raw"] == "1748176215"
    assert (req["pixel_id"], req["account"], req["graph_version"]) == (PIXEL_A, PIXEL_A, "v24.0")
    assert (req["event_name"], req["event_id"], req["value"], req["currency"]) == ("Purchase", "1234", 49.0, "EUR")
    assert (req["connector"], req["connector_version"], req["partner_agent"]) == ("stape-facebook-tag", "2.1.3", "stape-gtmss-2.1.3")
    assert req["action_source"] == "website" and req["shop"] == "shop.example" and req["batch_size"] == 1
    assert req["ud_em"] == "sha256" and req["ud_client_ip_address"] == "present" and req["ud_fbp"] == "present"
    assert req["message"] == f"Request POST /v24.0/{PIXEL_A}/events Purchase"
    # textPayload response: the Graph body is a JSON string inside the JSON string
    err = one(df, kind="api_response", http_status=400)
    assert (err["signal"], err["error_code"], err["error_subcode"], err["error_type"]) == ("graph_error", 100, 2804050, "OAuthException")
    assert err["is_transient"] is False and err["fbtrace_id"] == "Asu2mk752HZ0oT07IksFAwN"
    assert err["batch_id"] == req["batch_id"] and err["pixel_id"] == PIXEL_A
    # Meta's (localised) title follows: the Graph error catalogue may read it
    assert err["message"].startswith("HTTP 400: Invalid parameter (code 100, subcode 2804050): Du har ikke")
    assert json.loads(err["extra"])["error_user_title"].startswith("Du har ikke")
    # jsonPayload request/response pair
    req2 = one(df, kind="server_event", order_id="1235")
    ok = one(df, kind="api_response", fbtrace_id="A7R91WcJM_LjxgxgcURz1RQ")
    assert ok["signal"] == "success" and ok["events_received"] == 1 and ok["batch_id"] == req2["batch_id"]
    assert ok["connector_version"] == "2.1.3" and ok["message"] == "events_received=1"
    # "Request failed or timed out" -> transport_error, paired with its request
    req3 = one(df, kind="server_event", order_id="1236")
    assert req3["value"] == 19.9 and req3["value_raw"] == "19.90"
    fail = one(df, kind="status")
    assert fail["signal"] == "transport_error" and fail["pixel_id"] == PIXEL_A and fail["batch_id"] == req3["batch_id"]
    assert fail["message"].startswith("Request failed or timed out. Pixel ID: 1033167457209826 Reason:")
    # the answer whose request was logged before the export starts stays unpaired
    orphan = one(df, kind="api_response", fbtrace_id="A0rphanTr4ceXXXXXXXXXXX")
    assert orphan["batch_id"] is None
    assert any("1 of 4 Meta tag responses/failures could not be paired" in n for n in notes)
    # noise and other tags are skipped and counted, never rejected
    assert any("2 sGTM noise lines" in n and "1 logs of non-Meta tags" in n for n in notes)
    assert df.filter(pl.col("event_name") == "CompletePayment").is_empty()


def test_duplicate_entries_are_counted_once():
    df, _, notes = run(STDOUT)
    server = df.filter(pl.col("kind") == "server_event")
    assert sorted(server["order_id"].to_list()) == ["1234", "1235", "1236"]
    assert any("2 duplicate log entries" in n for n in notes)


def test_ga4_request_logs_are_the_browser_leg():
    df, rejects, notes = run(REQUESTS)
    assert rejects.is_empty()
    assert set(df["kind"]) == {"browser_event"}
    assert df["event_name"].to_list() == ["PageView", "ViewContent", "AddToCart", "InitiateCheckout", "Purchase", "Purchase"]
    first = one(df, order_id="1234")
    assert first["event_id"] == "1234" and first["value"] == 49.0 and first["currency"] == "EUR"
    assert first["http_status"] == 200 and first["connector"] == "ga4" and first["shop"] == "shop.example"
    assert first["logged_at"] == utc(2025, 5, 25, 12, 30, 14, 900000)
    assert first["ud_client_ip_address"] == "present" and first["ud_client_user_agent"] == "present"
    assert first["event_source_url"].startswith("https://shop.example/checkout/thank-you?email=")
    ex = json.loads(first["extra"])
    assert ex["ga4_event"] == "purchase" and ex["measurement_id"] == "G-ABC123XYZ" and ex["debug"] is False
    second = one(df, line=6)
    assert second["order_id"] == "#1235"  # ep.transaction_id=%231235, percent-decoded
    assert second["value_raw"] == "49.00" and json.loads(second["extra"])["debug"] is True
    assert one(df, line=2)["event_id"] == "vi-77"
    note = next(n for n in notes if "skipped" in n)
    assert "1 GA4 hits without the event name" in note and "1 GA4 hits of events the Meta tags do not map" in note
    assert "2 other request logs" in note


def test_gcloud_pretty_array_trace_ids_and_two_pixels():
    df, rejects, notes = run(GCLOUD)
    assert rejects.is_empty()
    assert df.filter(pl.col("kind") == "server_event")["line"].to_list() == [23, 74]
    req_a = one(df, kind="server_event", pixel_id=PIXEL_A)
    req_b = one(df, kind="server_event", pixel_id=PIXEL_B)
    # answers came back B first, then A: TraceId + pixel pair them, not their order
    assert one(df, kind="api_response", pixel_id=PIXEL_B)["batch_id"] == req_b["batch_id"] == f"{req_b['file']}:74"
    assert one(df, kind="api_response", pixel_id=PIXEL_A)["batch_id"] == req_a["batch_id"]
    ex = json.loads(req_a["extra"])
    assert ex["trace_id"] == "c0ffee00-1111-4222-8333-444455556666" and ex["event_enhancement"] is True
    assert req_a["partner_agent"] == "stape-gtmss-2.1.3-ee" and req_a["connector_version"] == "2.1.3"
    hit = one(df, kind="browser_event")
    assert hit["order_id"] == "1240" and hit["pixel_id"] is None  # the container sends to two pixels
    assert any("1 sGTM noise lines" in n for n in notes)


def test_results_do_not_depend_on_batch_boundaries():
    whole, _, _ = run(GCLOUD, STDOUT)
    small, _, _ = run(GCLOUD, STDOUT, chunk_bytes=700)
    assert small.equals(whole)


def test_gzipped_array_transient_server_error():
    df, rejects, _ = run("gcloud-logging-read-1400.json.gz")
    assert rejects.is_empty()
    row = one(df, kind="api_response")
    assert (row["http_status"], row["signal"], row["error_code"], row["is_transient"]) == (500, "graph_error", 2, True)
    assert row["batch_id"] == one(df, kind="server_event")["batch_id"]


def test_bigquery_snake_case_copy():
    df, rejects, _ = run("stape-bigquery-export.ndjson")
    assert rejects.is_empty()
    req = one(df, kind="server_event", order_id="1260")
    assert req["logged_at"] == utc(2025, 5, 25, 15, 0, 0, 123000)  # "timestamp": "1748185200123" (ms, a string)
    assert (req["connector"], req["connector_version"]) == ("meta-sgtm-tag", "1.0.0-0.0.9")
    ok = one(df, kind="api_response")
    assert ok["logged_at"] == utc(2025, 5, 25, 15, 0, 0, 456000)  # a number
    assert ok["events_received"] == 1 and ok["fbtrace_id"] == "BQtraceOK00000000000000"  # body stringified twice
    assert ok["batch_id"] == req["batch_id"] and ok["connector"] == "meta-sgtm-tag"
    fail = one(df, signal="transport_error")
    assert fail["batch_id"] == one(df, kind="server_event", order_id="1261")["batch_id"]
    message = one(df, signal="log")
    assert message["kind"] == "status" and message["message"].startswith("Something went wrong.")
    assert message["pixel_id"] == PIXEL_A  # the only pixel of that folder


def test_raw_stdout_objects_and_old_tag_without_pixel_in_response():
    df, rejects, notes = run("docker-stdout")
    assert rejects.is_empty()
    events = df.filter(pl.col("kind") == "server_event")
    assert events["order_id"].to_list() == ["1270", "1271"] and events["batch_size"].to_list() == [2, 2]
    assert events["logged_at"].null_count() == 2  # stdout copies carry no time
    resp = one(df, kind="api_response")
    assert resp["pixel_id"] == PIXEL_A and resp["events_received"] == 2
    assert resp["batch_id"] == events["batch_id"][0]
    assert any("the only pixel its Meta tag sends to" in n for n in notes)


def test_broken_lines_are_rejected_and_the_rest_is_read():
    df, rejects, _ = run("broken")
    assert one(df)["order_id"] == "1280"
    reasons = dict(rejects.select("line", "reason").iter_rows())
    assert reasons[2].startswith("not valid JSON")
    assert reasons[3].startswith("JSON that is neither a Cloud Logging entry nor a tag log")


@pytest.mark.parametrize("chunk_bytes", [None, 1500])
def test_bodies_of_any_json_type_are_read(chunk_bytes):
    """A body whose type the one-pass decode does not expect (an object ResponseBody, a
    string RequestBody) is still read, and costs its neighbours in the batch nothing."""
    df, rejects, _ = run("odd-bodies", chunk_bytes=chunk_bytes)
    requests = {r["event_id"]: r for r in df.filter(pl.col("kind") == "server_event").iter_rows(named=True)}
    assert sorted(requests) == ["ord-3001", "ord-3002", "ord-3003", "ord-3004", "ord-3009"]
    assert {r["order_id"] for r in requests.values()} == {"3001", "3002", "3003", "3004", "3009"}
    answers = {r["fbtrace_id"]: r for r in df.filter(pl.col("kind") == "api_response").iter_rows(named=True)}
    for trace, order in [("answer-object", "3001"), ("answer-string", "3002"), ("answer-text-object", "3003"),
                         ("answer-raw-object", "3004"), ("answer-twice", "3009")]:
        assert answers[trace]["signal"] == "success" and answers[trace]["events_received"] == 1, trace
        assert answers[trace]["batch_id"] == requests[f"ord-{order}"]["batch_id"], trace
    reasons = dict(rejects.select("line", "reason").iter_rows())
    assert reasons == {
        7: "Meta tag RequestBody has no events in 'data'",
        8: "Meta tag Request log without a RequestBody",
        9: "Meta tag RequestBody is not JSON of the expected shape",
        10: "not valid JSON (a cut line, or several objects compacted on one line?)",
    }


def _entry(ts: str, obj: dict, insert: str) -> str:
    return json.dumps({"insertId": insert, "jsonPayload": obj, "timestamp": ts,
                       "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
                       "resource": {"type": "cloud_run_revision", "labels": {"service_name": "sgtm", "project_id": "p"}}})


def _req(order: str) -> dict:
    return {"Name": "Facebook", "Type": "Request", "EventName": "Purchase", "RequestMethod": "POST",
            "RequestUrl": f"https://graph.facebook.com/v24.0/{PIXEL_A}/events?access_token={TOKEN}",
            "RequestBody": {"data": [{"event_name": "Purchase", "event_time": 1748176215, "event_id": order,
                                      "custom_data": {"order_id": order}}], "partner_agent": "stape-gtmss-2.1.3"}}


def _resp(trace: str) -> dict:
    return {"Name": "Facebook", "Type": "Response", "EventName": "Purchase", "ResponseStatusCode": 200,
            "ResponseBody": json.dumps({"events_received": 1, "fbtrace_id": trace}), "Message": f"Pixel ID: {PIXEL_A}"}


@pytest.mark.parametrize(("seconds", "late_paired"), [(None, False), ("600", True)])
def test_pairing_is_fifo_per_event_and_pixel(tmp_path, seconds, late_paired):
    lines = [
        _entry("2025-05-25T12:00:00Z", _resp("orphan"), "1"),
        _entry("2025-05-25T12:00:10Z", _req("A"), "2"),
        _entry("2025-05-25T12:00:11Z", _req("B"), "3"),
        _entry("2025-05-25T12:00:12Z", _resp("first"), "4"),
        _entry("2025-05-25T12:00:13Z", _resp("second"), "5"),
        _entry("2025-05-25T12:01:40Z", _req("C"), "6"),
        _entry("2025-05-25T12:06:40Z", _resp("late"), "7"),  # 300 s after its request
    ]
    (tmp_path / "shard.json").write_text("\n".join(lines) + "\n")
    options = {"gtm_link_seconds": seconds} if seconds else {}
    df, _, _ = run(tmp_path / "shard.json", **options)
    batch = {r["event_id"]: r["batch_id"] for r in df.filter(pl.col("kind") == "server_event").iter_rows(named=True)}
    answered = {r["fbtrace_id"]: r["batch_id"] for r in df.filter(pl.col("kind") == "api_response").iter_rows(named=True)}
    assert answered["orphan"] is None
    assert answered["first"] == batch["A"] and answered["second"] == batch["B"]
    assert (answered["late"] == batch["C"]) is late_paired


def test_no_token_or_pii_in_any_string_column():
    df, _, notes = run(".")
    assert df.height > 20
    text = "\n".join(
        str(v) for c, t in df.schema.items() if t == pl.String for v in df[c].drop_nulls().to_list()
    ) + "\n".join(notes)
    assert [p for p in PII if p in text] == []
