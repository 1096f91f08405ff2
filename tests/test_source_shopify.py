"""The shopify source, driven the way the core drives it:
expand -> read_batches -> Source.parse -> conform -> concat -> finalize -> conform.

Inputs under ``tests/data/shopify/`` (made with a fixed secret, see SECRET):

* ``orders-create-820982911946154508.json`` -- one delivery, pretty-printed, +02:00;
* ``orders-array.json`` -- JSON array: web order (-05:00), draft, POS and test orders;
* ``orders-paid.ndjson`` -- NDJSON of bare payloads (+07:00);
* ``envelopes.ndjson`` -- ``{"headers", "body": "<raw string>"}``: a duplicate delivery,
  orders/paid of the same order, lower-case headers, an altered body, checkouts/create;
* ``envelopes-object-body.ndjson`` -- body stored as an object (unverifiable), Go-style list headers;
* ``capture-orders-create.http`` -- two raw HTTP captures with CRLF, lower-case headers;
* ``rest-orders-export.json`` / ``rest-order-*.json`` -- REST ``{"orders": [...]}`` / ``{"order": {...}}``;
* ``checkout-create.json`` -- a bare checkouts/create payload.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from auditor.testing import parse_paths
import pytest

from auditor.ingest.inputs import expand
from auditor.ingest.sniff import pick_source
from auditor.plugin_manager import load_plugins
from auditor.registry import Registry

DATA = Path(__file__).parent / "data" / "shopify"
SECRET = "hush-test-webhook-secret-5f1d2e3c"
SHOP = "example-store.myshopify.com"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def run(*paths, **options):
    """(canonical frame, rejects, notes) for files under tests/data/shopify (or absolute paths)."""
    parsed = parse_paths("shopify", *[p if Path(p).is_absolute() else DATA / p for p in paths], options=options)
    return parsed.frame, parsed.rejects, parsed.notes


def extra(row: dict) -> dict:
    return json.loads(row["extra"])


def one(frame: pl.DataFrame, **where) -> dict:
    rows = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert rows.height == 1, rows
    return rows.row(0, named=True)


@pytest.fixture(autouse=True)
def _no_env_secret(monkeypatch):
    monkeypatch.delenv("SHOPIFY_WEBHOOK_SECRET", raising=False)


def test_every_variant_is_sniffed_as_shopify():
    registry = Registry.collect(load_plugins().pm)
    units, _ = expand([str(DATA)])
    assert len(units) == 9
    for unit in units:
        picked, _ = pick_source(unit, registry.sources, [])
        assert picked is not None and picked.name == "shopify", unit.name


def test_sniff_takes_envelopes_and_leaves_logs_that_quote_shopify_headers():
    """Only the head of a file decides.  A capture envelope (headers first) is
    a delivery; a Cloud Logging entry or a Graph response that quotes the same
    headers is not, wherever its own keys stand."""
    registry = Registry.collect(load_plugins().pm)
    sniff = registry.sources["shopify"].sniff
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": "b7504392"}
    body = json.dumps({"id": 1, "total_price": "10.00", "order_number": 1001})
    envelope = {"headers": headers, "body": body}
    assert sniff("d.json", json.dumps(envelope).encode()) == 0.95
    assert sniff("d.json", json.dumps(envelope, indent=2).encode()) == 0.95
    assert sniff("d.json", json.dumps({"body": body, "headers": headers}).encode()) == 0.95
    entry = {"jsonPayload": {"message": "webhook in", "headers": headers}, "insertId": "abc", "logName": "projects/p/logs/run"}
    assert sniff("shard.json", json.dumps(entry).encode()) == 0.0
    graph = {"headers": ["X-Shopify-Topic: orders/create"], "fbtrace_id": "A1b2", "events_received": 1}
    assert sniff("graph.json", json.dumps(graph).encode()) == 0.0


def test_single_pretty_printed_delivery_time_zone_and_big_id():
    df, rejects, notes = run("orders-create-820982911946154508.json")
    assert rejects.is_empty()
    row = one(df)
    assert row["kind"] == "order" and row["source"] == "shopify"
    assert row["order_id"] == "820982911946154508"  # > 2^53: exact, a string
    assert df.schema["order_id"] == pl.String
    assert row["event_time"] == utc(2025, 5, 25, 12, 30, 12)  # 14:30:12+02:00
    assert row["event_time_raw"] == "2025-05-25T14:30:12+02:00"
    assert row["logged_at"] == utc(2025, 5, 25, 12, 30, 11)  # no Triggered-At: processed_at
    assert (row["value"], row["value_raw"], row["currency"]) == (49.0, "49.00", "EUR")
    assert row["connector"] == "shopify"
    # no X-Shopify-Shop-Domain: the storefront host of order_status_url
    assert row["shop"] == row["account"] == "shop.example"
    assert any("order_status_url" in n for n in notes)
    ex = extra(row)
    assert ex["name"] == "#1234" and ex["order_number"] == "1234"
    assert ex["record"] == "order" and ex["source_name"] == "web" and ex["test"] is False and ex["ignored"] is None
    assert ex["landing_fbclid"] is True and ex["note_fbp"] is True and ex["facebook_referrer"] is True
    assert ex["hmac"] == "unchecked" and ex["hmac_unchecked_reason"] == "no_header"
    assert ex["processed_at"] == "2025-05-25T12:30:11Z"
    assert row["ud_em"] == "clear" and row["ud_ph"] == "clear" and row["ud_fn"] == "clear"
    assert row["ud_client_ip_address"] == "present" and row["ud_client_user_agent"] == "present"
    assert row["ud_fbp"] == "present" and row["ud_external_id"] == "present"


def test_shop_option_wins_over_the_storefront_host():
    df, _, _ = run("orders-create-820982911946154508.json", shop="Example-Store.myshopify.com")
    assert one(df)["shop"] == SHOP


def test_json_array_marks_test_draft_and_pos_orders_ignored():
    df, rejects, notes = run("orders-array.json")
    assert rejects.is_empty() and df.height == 4
    assert df["line"].to_list() == [2, 69, 92, 154]  # each element's first line
    ignored = {r["order_id"]: extra(r)["ignored"] for r in df.iter_rows(named=True)}
    assert ignored == {"5590760685790": None, "6200407294252": "draft", "5590760685782": "pos", "5590760685783": "test"}
    web = one(df, order_id="5590760685790")
    assert web["event_time"] == utc(2025, 1, 25, 4, 45)  # 23:45-05:00: the next day in UTC
    draft = one(df, order_id="6200407294252")
    assert draft["ud_em"] == "empty" and draft["ud_fn"] is None  # "email": "", no billing address
    assert draft["currency"] == "HKD" and draft["value"] == 186.9
    assert "(ignored: draft)" in draft["message"]
    assert any("1 draft, 1 pos, 1 test" in n for n in notes)


def test_ndjson_of_bare_payloads_converts_plus_seven():
    df, rejects, _ = run("orders-paid.ndjson")
    assert rejects.is_empty() and df.height == 3
    assert df["line"].to_list() == [1, 2, 3]
    first = one(df, line=1)
    assert first["event_time"] == utc(2025, 5, 25, 17, 0, 0)  # 2025-05-26T00:00:00+07:00
    assert first["order_id"] == "820982911946154600"


def test_envelopes_with_a_secret_duplicates_topics_and_hmac():
    df, rejects, notes = run("envelopes.ndjson", shopify_secret=SECRET)
    assert rejects.is_empty()
    orders = df.filter(pl.col("kind") == "order")
    # 6 lines: a retry of the first delivery is dropped; the altered one is no order (a secret was given)
    assert df.height == 5 and orders.height == 3
    assert any("1 duplicate webhook deliveries" in n for n in notes)
    a = orders.filter(pl.col("order_id") == "6123456789012345678")
    assert sorted(extra(r)["topic"] for r in a.iter_rows(named=True)) == ["orders/create", "orders/paid"]
    assert orders["order_id"].drop_nulls().n_unique() == 2
    created = one(a, line=1)
    assert created["logged_at"] == utc(2025, 6, 2, 8, 0, 2, 234647)  # X-Shopify-Triggered-At, ns cut to us
    assert created["event_time"] == utc(2025, 6, 2, 8, 0, 0)
    assert created["shop"] == created["account"] == SHOP
    ex = extra(created)
    assert ex["hmac"] == "valid" and ex["webhook_id"] == "b7504392-2461-4993-848c-1b59c87c8a87"
    assert ex["shopify_event_id"] == "218e46c3-e7ef-4b50-a615-56b67ba789b7" and ex["api_version"] == "2024-07"
    paid = one(a, line=3)  # lower-case header names
    assert extra(paid)["hmac"] == "valid" and paid["shop"] == SHOP and paid["signal"] is None
    altered = one(df, order_id="6123456789012345680")
    assert altered["signal"] == "hmac_invalid" and extra(altered)["hmac"] == "invalid"
    assert altered["kind"] == "status"  # not trusted as backend truth
    assert altered["value"] == 1000.0  # the altered total, as delivered
    assert "HMAC does not match" in altered["message"]
    checkout = one(df, kind="status", signal="log")
    assert checkout["signal"] == "log" and checkout["order_id"] is None
    ex = extra(checkout)
    assert ex["record"] == "checkout" and ex["topic"] == "checkouts/create" and ex["hmac"] == "valid"
    assert ex["checkout_id"] == "35016234567890123" and ex["token"] == "e1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert any("4 valid, 1 invalid" in n for n in notes)


def _delivery_facts(df: pl.DataFrame) -> list[tuple]:
    return sorted(
        (str(r["order_id"]), r["kind"], r["shop"], r["logged_at"], extra(r)["topic"], extra(r)["hmac"], extra(r).get("webhook_id"))
        for r in df.iter_rows(named=True)
    )


def test_envelope_layouts_read_like_the_plain_one(tmp_path):
    """The headers of a raw-body envelope are cut from its text when that is
    safe; escaped, nested, repeated or reordered headers take the JSON path.
    Either way the deliveries read the same."""
    plain, rejects, _ = run("envelopes.ndjson", shopify_secret=SECRET)
    assert rejects.is_empty()
    envelopes = [json.loads(line) for line in (DATA / "envelopes.ndjson").read_text().splitlines() if line.strip()]
    layouts = {
        # \u escapes and escaped slashes in header values (PHP json_encode, ensure_ascii writers)
        "escaped": lambda e: json.dumps(e).replace("orders/", "orders\\u002f").replace("/", "\\/"),
        # a nested "headers" object ahead of the real one
        "nested": lambda e: json.dumps({"meta": {"headers": {"X-Shopify-Topic": "products/update"}}, **e}),
        # body first, headers pretty-printed after it, on one line
        "reordered": lambda e: json.dumps({"body": e["body"], "headers": e["headers"]}, indent=None, separators=(" , ", " : ")),
    }
    for name, write in layouts.items():
        path = tmp_path / f"{name}.ndjson"
        path.write_text("".join(write(e) + "\n" for e in envelopes))
        df, rejects, _ = run(path, shopify_secret=SECRET)
        assert rejects.is_empty(), name
        assert _delivery_facts(df) == _delivery_facts(plain), name


def test_wrong_secret_fails_every_signed_delivery():
    df, _, notes = run("envelopes.ndjson", "capture-orders-create.http", shopify_secret="not-the-secret")
    verdicts = [extra(r)["hmac"] for r in df.iter_rows(named=True)]
    assert set(verdicts) == {"invalid"}
    assert df.filter(pl.col("signal") == "hmac_invalid").height == df.height
    assert any("none matched" in n for n in notes)


def test_secret_from_the_environment(monkeypatch):
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET", SECRET)
    df, _, _ = run("capture-orders-create.http")
    assert [extra(r)["hmac"] for r in df.iter_rows(named=True)] == ["valid", "valid"]


def test_without_a_secret_nothing_is_verified():
    df, _, notes = run("envelopes.ndjson")
    assert {extra(r)["hmac"] for r in df.iter_rows(named=True)} == {"unchecked"}
    assert {extra(r)["hmac_unchecked_reason"] for r in df.iter_rows(named=True)} == {"no_secret"}
    assert df.filter(pl.col("signal") == "hmac_invalid").is_empty()
    assert any("shopify_secret" in n and "SHOPIFY_WEBHOOK_SECRET" in n for n in notes)


def test_object_body_is_unverifiable_and_list_headers_are_read():
    df, rejects, notes = run("envelopes-object-body.ndjson", shopify_secret=SECRET)
    assert rejects.is_empty()
    row = one(df)
    ex = extra(row)
    assert ex["hmac"] == "unchecked" and ex["hmac_unchecked_reason"] == "body_reserialised"
    assert ex["topic"] == "orders/updated" and row["shop"] == SHOP
    assert row["logged_at"] == utc(2025, 6, 2, 11, 0, 0)
    assert row["order_id"] == "6123456789012345681"
    assert any("unverifiable" in n for n in notes)


def test_raw_http_captures_with_crlf():
    df, rejects, _ = run("capture-orders-create.http", shopify_secret=SECRET)
    assert rejects.is_empty()
    assert df["line"].to_list() == [1, 19]
    first = one(df, line=1)
    assert first["order_id"] == "5590760685799" and first["shop"] == SHOP
    assert first["logged_at"] == utc(2024, 8, 3, 18, 28, 37, 234647)
    assert first["event_time"] == utc(2024, 8, 3, 18, 28, 36)  # 11:28:36-07:00
    assert extra(first)["hmac"] == "valid" and extra(first)["topic"] == "orders/create"
    assert [extra(r)["hmac"] for r in df.iter_rows(named=True)] == ["valid", "valid"]


def test_rest_exports():
    df, rejects, _ = run("rest-orders-export.json", "rest-order-4400000000000000009.json")
    assert rejects.is_empty()
    assert sorted(df["order_id"].to_list()) == ["4400000000000000001", "4400000000000000002", "4400000000000000009"]
    listed = one(df, order_id="4400000000000000001")
    assert extra(listed)["rest_wrapper"] == "orders"
    assert listed["event_time"] == utc(2025, 3, 1, 9, 0)  # "2025-03-01 10:00:00 +0100"
    single = one(df, order_id="4400000000000000009")
    assert extra(single)["rest_wrapper"] == "order" and single["event_time"] == utc(2025, 3, 5, 9, 0)


def test_bare_checkout_is_a_status_row():
    df, _, _ = run("checkout-create.json")
    row = one(df)
    assert row["kind"] == "status" and row["signal"] == "log" and row["order_id"] is None
    assert extra(row)["record"] == "checkout" and extra(row)["checkout_id"] == "35016234567890123"
    assert row["event_time"] == utc(2025, 6, 2, 7, 58) and row["value"] == 421.88


def test_folder_shop_fills_payloads_without_headers():
    df, _, notes = run(str(DATA))
    assert df.filter(pl.col("shop").is_null()).is_empty()
    assert set(df["shop"].unique()) == {SHOP}
    assert any("only shop named in their folder" in n for n in notes)


def test_compact_array_and_rejects(tmp_path):
    orders = json.loads((DATA / "orders-array.json").read_text())
    (tmp_path / "compact.json").write_text(json.dumps(orders[:2], separators=(",", ":")))
    (tmp_path / "product.json").write_text('{"id": 788032119674292922, "title": "Hoodie", "created_at": "2025-01-01T00:00:00Z"}\n')
    (tmp_path / "cut.ndjson").write_text('{"id": 1, "total_price": "1.00", "created_at": "2025-01-01T00:00:00Z"}\n{"id": 2, "total_pri\n')
    (tmp_path / "notes.txt").write_text("hello\n")
    df, rejects, _ = run(tmp_path / "compact.json", tmp_path / "product.json", tmp_path / "cut.ndjson", tmp_path / "notes.txt")
    assert sorted(df["order_id"].to_list()) == ["1", "5590760685790", "6200407294252"]
    reasons = {(Path(f).name, line): r for f, line, r in rejects.iter_rows()}
    assert reasons[("product.json", 1)] == "JSON is not a Shopify order or checkout"
    assert reasons[("cut.ndjson", 2)].startswith("body is not a JSON object")
    assert reasons[("notes.txt", 1)].startswith("not a Shopify webhook payload")


def test_no_pii_secret_or_signature_in_any_string_column():
    df, _, notes = run(str(DATA), shopify_secret=SECRET)
    raw = "\n".join(p.read_text(encoding="utf-8") for p in DATA.iterdir())
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", raw))
    ips = set(re.findall(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", raw))
    signatures = set(re.findall(r"hmac-sha256[\"']?\s*[:=]\s*\[?\s*\"?([A-Za-z0-9+/=]{40,})", raw, flags=re.I))
    assert len(emails) > 10 and len(ips) > 5 and len(signatures) > 5
    secrets = emails | ips | signatures | {SECRET, "+49 30 1234567", "(650) 555-1212", "555-555-1234", "Schmidt", "Mustermann", "Kittisak"}
    text = "\n".join(
        str(v) for c, t in df.schema.items() if t == pl.String for v in df[c].drop_nulls().to_list()
    ) + "\n".join(notes)
    leaked = sorted(s for s in secrets if s in text)
    assert leaked == []


def test_other_topics_are_skipped_and_counted(tmp_path):
    draft_order = {"id": 994118539, "name": "#D2", "status": "open", "total_price": "19.00", "currency": "EUR",
                   "created_at": "2025-06-01T10:00:00+02:00", "invoice_url": "https://shop.example/i/abc"}
    refund = {"id": 509562969, "order_id": 820982911946154508, "created_at": "2025-06-01T10:00:00+02:00"}
    lines = [
        {"headers": {"X-Shopify-Topic": "draft_orders/create", "X-Shopify-Shop-Domain": SHOP}, "body": json.dumps(draft_order)},
        {"headers": {"x-shopify-topic": "refunds/create", "x-shopify-shop-domain": SHOP}, "body": json.dumps(refund)},
        {"headers": {"x-shopify-topic": "refunds/create", "x-shopify-shop-domain": SHOP}, "body": json.dumps(refund)},
    ]
    (tmp_path / "mixed.ndjson").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    df, rejects, notes = run(tmp_path / "mixed.ndjson", DATA / "checkout-create.json")
    assert rejects.is_empty()
    assert df.filter(pl.col("kind") == "order").is_empty()
    assert any(n.endswith("1 draft_orders/create, 2 refunds/create") for n in notes)


def test_forged_delivery_is_a_finding_with_evidence(cli, tmp_path):
    """`--shopify-secret` on the CLI: the altered delivery is reported as a finding."""
    import json as _json
    import shutil

    shutil.copy(DATA / "envelopes.ndjson", tmp_path / "envelopes.ndjson")
    res = cli("audit", str(tmp_path), "--shopify-secret", SECRET, "--format", "json", "--no-db", "--quiet")
    report = _json.loads(res.stdout)
    (forged,) = [f for f in report["findings"] if f["rule"] == "webhook-signature-invalid"]
    assert forged["account"] == SHOP and forged["count"] == 1 and forged["severity"] == "high"
    assert forged["evidence"][0]["file"].endswith("envelopes.ndjson")
    assert SECRET not in res.stdout
    # without the secret nothing can be judged: no finding, a note saying how to verify
    res = cli("audit", str(tmp_path), "--format", "json", "--no-db", "--quiet")
    report = _json.loads(res.stdout)
    assert not [f for f in report["findings"] if f["rule"] == "webhook-signature-invalid"]
    assert any("--shopify-secret" in n for n in report["notes"])


def test_with_a_secret_only_verified_orders_count(tmp_path, audit_json):
    """Forged, unsigned (no or empty header) and re-serialised deliveries are reported with
    their counts and left out of the orders, the ratio and --orders-out."""
    envelopes = (DATA / "envelopes.ndjson").read_text().splitlines()
    unsigned = []
    for line in envelopes[:2]:
        d = json.loads(line)
        headers = d["headers"]
        key = next(k for k in headers if k.lower() == "x-shopify-hmac-sha256")
        d = {**d, "headers": {**headers, key: ""}}  # an empty signature header
        d["headers"][next(k for k in headers if k.lower() == "x-shopify-webhook-id")] = f"unsigned-{len(unsigned)}"
        unsigned.append(json.dumps(d))
    (tmp_path / "deliveries.ndjson").write_text("\n".join(envelopes + unsigned) + "\n")
    orders_out = tmp_path / "orders.csv"
    code, report, _ = audit_json(str(tmp_path), "--shopify-secret", SECRET, "--orders-out", str(orders_out))
    (finding,) = [f for f in report["findings"] if f["rule"] == "webhook-signature-invalid"]
    assert finding["metrics"] == {"invalid_deliveries": 1, "unverified_deliveries": 2}
    assert "left out of the orders" in finding["summary"]
    q5 = report["questions"][4]  # the plugin's own row answers "do the numbers match reality?"
    assert q5["verdict"] == "problem" and "webhook-signature-invalid" in q5["rules"]
    assert "Shopify webhook deliveries fail their HMAC check" in q5["detail"]  # the plugin row's own title
    (account,) = [a for a in report["accounts"] if a.get("orders") is not None] or report["accounts"]
    assert account["orders"] == 2  # the two verified orders; without the secret all five would count
    exported = orders_out.read_text().splitlines()[1:]
    assert len(exported) == 2 and not any("6123456789012345680" in row for row in exported)
    code, report, _ = audit_json(str(tmp_path), "--orders-out", str(orders_out))
    assert not [f for f in report["findings"] if f["rule"] == "webhook-signature-invalid"]
