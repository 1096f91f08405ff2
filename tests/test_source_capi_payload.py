"""Tests of the ``capi_payload`` source: saved CAPI request payloads.

Inputs under ``tests/data/capi_payload/`` (provenance in its README) and
variants generated from them: NDJSON and pretty-printed, with and without the
saved response, ``data`` as a JSON string, junk lines, binary noise, ``.gz``.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from auditor.testing import audit_text, make_registry, parse_paths
from capi_auditor_plugins import capi_payload
from capi_auditor_plugins.capi_payload.records import ENTRY_START

DATA = Path(__file__).parent / "data" / "capi_payload"
GRAPH = Path(__file__).parent / "data" / "graph_api"
TOKEN = "EAAGm0PX4ZCpsBAKZCZBxyzzy1234567890abcdEFGH"
SECRETS = (TOKEN, "jane.doe@example.com", "23456789", "203.0.113.24", "254.254.254.254")


def read(name: str) -> str:
    return (DATA / name).read_text()


def parse(*paths, **options) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(canonical rows, rejects) of files under DATA (names) or elsewhere (paths)."""
    parsed = parse_paths("capi_payload", *[DATA / p if isinstance(p, str) else p for p in paths], options=options)
    return parsed.frame, parsed.rejects


def events_and_answers(name: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """All rows, the server events and the API responses (in line order) of a file that parses cleanly."""
    frame, rejects = parse(name)
    assert rejects.height == 0
    return (frame, frame.filter(pl.col("kind") == "server_event").sort("line"),
            frame.filter(pl.col("kind") == "api_response").sort("line"))


def no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def test_pretty_printed_payload_is_one_server_event_per_data_item():
    frame, rejects = parse("pageview-request.json")
    assert rejects.height == 0
    ev = frame.row(0, named=True)
    assert frame.height == 1
    assert (ev["kind"], ev["event_name"], ev["action_source"]) == ("server_event", "PageView", "website")
    # the sender wrote an ISO string: kept raw, not read as a time
    assert ev["event_time"] is None and ev["event_time_raw"] == "2023-08-14T09:21:07.512Z"
    assert ev["test_event_code"] == "TEST10153"
    # the sender hashed a placeholder, not a customer's address: the state says so
    assert ev["ud_em"] == "placeholder_hash" and ev["ud_client_ip_address"] is not None
    assert ev["connector"] == "capi-payload" and ev["batch_size"] == 1
    no_secrets(str(frame.rows()))


def test_response_saved_after_its_request_joins_its_batch():
    frame, events, answers = events_and_answers("sender.ndjson")
    assert events["line"].to_list() == [1, 3, 5]
    assert answers["line"].to_list() == [2, 4, 6]
    # each answer carries the batch of the request on the line before it
    assert answers["batch_id"].to_list() == events["batch_id"].to_list()
    assert events["batch_id"].n_unique() == 3
    assert answers["signal"].cast(pl.String).to_list() == ["success", "success", "graph_error"]
    err = answers.row(2, named=True)
    assert (err["error_code"], err["error_subcode"], err["is_transient"]) == (100, 2804003, False)
    assert err["fbtrace_id"] == "Asu2mk752HZ0oT07IksFAwN"
    assert "Event Timestamp Too Old" in err["message"]
    assert events["event_time"].to_list()[0] == datetime(2025, 12, 5, 10, 20, tzinfo=timezone.utc)
    assert events["ud_em"].cast(pl.String).to_list() == ["sha256", "clear", "sha256"]
    assert events["partner_agent"].cast(pl.String).unique().to_list() == ["inhouse-sender-2.3"]
    assert events["order_id"].to_list() == ["51001", "51002", "50990"]
    assert events["value"].to_list() == [49.9, 19.0, 75.0]
    no_secrets(str(frame.rows()))


def test_wrapped_request_and_response_with_data_as_a_json_string():
    _, events, answers = events_and_answers("wrapped.ndjson")
    assert events["event_name"].cast(pl.String).to_list() == ["Lead", "Purchase"]
    assert events["pixel_id"].cast(pl.String).unique().to_list() == ["1192835547762210"]
    assert events["graph_version"].cast(pl.String).unique().to_list() == ["v21.0"]
    assert events["logged_at"].to_list() == [
        datetime(2025, 12, 5, 10, 0, 4, tzinfo=timezone.utc), datetime(2025, 12, 5, 9, 5, tzinfo=timezone.utc),
    ]
    assert events["currency"].to_list() == [None, None] and events["value"].to_list()[1] == 12.5
    assert answers["http_status"].to_list() == [200, 400]
    assert answers["error_subcode"].to_list() == [None, 2804010]
    assert answers["batch_id"].to_list() == events["batch_id"].to_list()


def test_batch_ids_are_unique_across_files_and_independent_of_the_folder(put):
    frame, _ = parse(put("a/sender.ndjson", read("sender.ndjson")), put("b/sender.ndjson", read("sender.ndjson")))
    ev = frame.filter(pl.col("kind") == "server_event")
    assert ev["batch_id"].n_unique() == 6
    assert sorted(ev["batch_id"].unique().to_list()) == ["p1:1", "p1:3", "p1:5", "p2:1", "p2:3", "p2:5"]


def test_junk_lines_binary_noise_and_a_cut_last_line_are_skipped_and_counted(put):
    lines = read("sender.ndjson").splitlines()
    noisy = "\n".join([
        "# exported by sender v2.3",
        lines[0], lines[1],
        "Traceback (most recent call last): ...",
        lines[2], lines[3],
        '{"data":[{"event_name":"Purchase","event_time":17649',  # half-written
        '{"foo": 1}',
        '{"data": []}',
        lines[4], lines[5],
        lines[0][: len(lines[0]) // 2],  # cut last line
    ]).encode() + b"\n\x00\x01\x02\xff\xfe garbage \x00\x00\n"
    frame, rejects = parse(put("noisy.ndjson", noisy))
    assert frame.filter(pl.col("kind") == "server_event").height == 3
    assert frame.filter(pl.col("kind") == "api_response").height == 3
    reasons = dict(zip(rejects["line"].to_list(), rejects["reason"].to_list()))
    assert {1, 4, 7, 8, 9, 12} <= set(reasons)
    assert "without events" in reasons[9]
    assert "neither" in reasons[8]


def test_gz_gives_the_same_rows_as_plain_text(put):
    plain, _ = parse("sender.ndjson")
    packed, _ = parse(put("sender.ndjson.gz", gzip.compress(read("sender.ndjson").encode())))
    cols = ["line", "kind", "event_name", "event_id", "batch_id", "signal", "error_subcode", "ud_em"]
    assert packed.select(cols).sort("line", "kind").equals(plain.select(cols).sort("line", "kind"))


def test_pretty_printed_payloads_one_after_another_and_crlf(put):
    pretty = json.dumps(json.loads(read("sender.ndjson").splitlines()[0]), indent=2)
    text = (pretty + "\n" + read("pageview-request.json")).replace("\n", "\r\n")
    frame, rejects = parse(put("two.json", text))
    assert rejects.height == 0
    assert frame.sort("line")["event_name"].cast(pl.String).to_list() == ["Purchase", "PageView"]
    assert frame.sort("line")["line"].to_list() == [1, pretty.count("\n") + 2]


def test_entry_start_never_cuts_between_a_request_and_its_response():
    assert re.match(ENTRY_START, '{"data":[{"event_name":"Purchase"}]}')
    assert re.match(ENTRY_START, "{")
    for answer in ('{"events_received":1}', '{ "error": {"code": 100}}', '{"fbtrace_id":"x"}'):
        assert re.match(ENTRY_START, answer) is None


def test_sniffing_keeps_payload_files_and_response_logs_apart():
    registry = make_registry(builtins=True)
    sources = registry.sources.values() if isinstance(registry.sources, dict) else registry.sources

    def winner(path: Path) -> str:
        head = path.read_bytes()[:65536]
        return max(sources, key=lambda s: (s.sniff(path.name, head), s.name)).name

    for name in ("pageview-request.json", "sender.ndjson", "wrapped.ndjson"):
        assert winner(DATA / name) == "capi_payload", name
    # a response log that only now and then keeps the request stays graph_api's
    assert winner(GRAPH / "wrapped.ndjson") == "graph_api"
    assert winner(GRAPH / "bare.ndjson") == "graph_api"
    assert capi_payload.sniff("x.ndjson", b'{"events_received":1}\n') == 0.0


def test_audit_without_a_pixel_says_how_to_name_it():
    report = audit_text({"shop/sender.ndjson": read("sender.ndjson")})
    assert any("name no pixel" in n and "--set pixel_id" in n for n in report["notes"])


def test_audit_applies_the_payload_checks_and_keeps_secrets_out():
    # bare payloads name no pixel: the user names it (--set pixel_id=ID)
    report = audit_text({
        "shop/pageview-request.json": read("pageview-request.json"),
        "shop/sender.ndjson": read("sender.ndjson"),
    }, options={"pixel_id": "826718561974990"})
    assert report["inputs"]["by_source"] == {"capi_payload": 7}
    rules = {f["rule"] for f in report["findings"]}
    assert {"pii-unhashed", "test-event-code-in-production", "event-time-wrong", "payload-rejected"} <= rules
    no_secrets(json.dumps(report))
