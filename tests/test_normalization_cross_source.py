"""pii-unhashed across sources: a server event's e-mail/phone hash compared with
the backend order (Shopify) of the same order_id, through run-keyed digests.

The Shopify orders hold ``  Maria.Silva@Example.com `` / ``+351 912 345 678``
(and two other customers); the WooCommerce Purchase events hash the e-mail as
typed or trimmed-but-not-lower-cased, and one phone without its country code.
Correct hashes (also with a Parameter Builder suffix) and events without a
known order stay silent.  Neither the clear values nor their SHA-256 may reach
the frame, a report or the history database.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

import polars as pl
import pytest

from auditor.pipeline import audit
from auditor.ingest.inputs import expand
from auditor.ruleset import load_ruleset
from auditor.schema import CATEGORICAL_COLUMNS, SCHEMA
from auditor.testing import make_registry
from auditor.userdata import (
    DIGEST_CHARS, RUN_KEY, add_sent_digests, digest_of_sent_hash, keyed_digest, order_variant_digests,
)

from conftest import DATA

FOLDER = DATA / "normalization"
PIXEL = "1033167457209826"

CLEAR = ["Maria.Silva@Example.com", "maria.silva@example.com", "Joao.Costa@Example.PT", "joao.costa@example.pt",
         "ana.pereira@example.pt", "+351 912 345 678", "351912345678", "912345678", "351961234567"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


#: every SHA-256 the inputs carry or that can be derived from the orders
RAW_HASHES = [_sha(v) for v in (
    "  Maria.Silva@Example.com ", "maria.silva@example.com", "Joao.Costa@Example.PT", "joao.costa@example.pt",
    "ana.pereira@example.pt", "912345678", "351912345678", "351961234567", "351931111222",
    "Someone@Else.com", "912000000",
)]


@pytest.fixture(scope="module")
def result():
    registry = make_registry(builtins=True)
    units, _ = expand([str(FOLDER)])
    return audit(units, registry, load_ruleset("default", registry.ruleset_files))


def _pii(findings, subject):
    return [f for f in findings if f.rule == "pii-unhashed" and f.subject == subject]


def test_digest_helpers_are_keyed_and_work_over_distinct_values():
    h = _sha("maria.silva@example.com")
    df = pl.DataFrame({
        "e": ["  Maria.Silva@Example.com ", "maria.silva@example.com", None],
        "p": ["+351 912 345 678", "912 345 678", None],
        "raw_ud_em": [[h], [h + ".AQYBAQIA"], ["Maria@x.com"]],
    })
    out = df.with_columns(order_variant_digests(pl.col("e"), pl.col("p")))
    digest = keyed_digest(h)
    assert len(digest) == DIGEST_CHARS and digest.isdigit() and digest not in h
    assert keyed_digest(h) == digest and keyed_digest(_sha("maria@example.com")) != digest
    # keyed by this run's secret: not a plain hash anyone could recompute
    assert digest != str(pl.select(pl.lit(h).hash(0)).item()).zfill(DIGEST_CHARS)
    assert RUN_KEY.hex() not in digest
    assert out["udh_em"].to_list() == [digest, digest, None]
    # as typed / trimmed only / lower-cased only; none for an already normalised e-mail
    assert out["udh_em_raw"][0].split() == [keyed_digest(_sha(v)) for v in (
        "  Maria.Silva@Example.com ", "Maria.Silva@Example.com", "  maria.silva@example.com ")]
    assert out["udh_em_raw"][1] is None
    assert out["udh_ph"][0] == keyed_digest(_sha("351912345678"))
    assert keyed_digest(_sha("912345678")) in out["udh_ph_nocc"][0].split()
    assert keyed_digest(_sha("351912345678")) not in out["udh_ph_nocc"][0].split()
    assert out["udh_ph_nocc"][1] is None  # national number: nothing to strip
    sent = add_sent_digests(df.select("raw_ud_em"))
    assert sent["udh_em"].to_list() == [digest, digest, None]
    upper = pl.select(digest_of_sent_hash(pl.lit(h.upper()))).item()
    assert upper is None  # only correct SHA-256 values get a digest


def test_schema_has_the_digest_columns_as_plain_strings():
    for col in ("udh_em", "udh_em_raw", "udh_ph", "udh_ph_nocc"):
        assert SCHEMA[col] == pl.String
        assert col not in CATEGORICAL_COLUMNS


def test_unnormalised_email_and_phone_without_country_code_are_found(result):
    em = _pii(result.findings, "em")
    assert len(em) == 1
    f = em[0]
    assert f.account == PIXEL and f.count == 2
    assert f.metrics["states"] == {"unnormalized_email_hash": 2}
    assert f.metrics["example_order_ids"] == ["7001000000000000001", "7001000000000000002"]
    assert "hashed without normalizing" in f.summary and "as typed" in f.summary

    ph = _pii(result.findings, "ph")
    assert len(ph) == 1
    assert ph[0].account == PIXEL and ph[0].count == 1
    assert ph[0].metrics["states"] == {"no_country_code_hash": 1}
    assert ph[0].metrics["example_order_ids"] == ["7001000000000000001"]
    assert "without country code" in ph[0].summary


def test_correct_hashes_and_unknown_orders_stay_silent(result):
    flagged = {e.line for f in _pii(result.findings, "em") + _pii(result.findings, "ph") for e in f.evidence}
    events = result.frame.filter(pl.col("kind") == "server_event").select("line", "order_id")
    silent = events.filter(pl.col("order_id").is_in(["7001000000000000003", "5999"]))
    assert silent.height == 2 and not flagged & set(silent["line"].to_list())
    # the correct resend (with a Parameter Builder suffix) of order ...001 is not flagged
    resend = events.filter(pl.col("order_id") == "7001000000000000001")["line"].to_list()
    assert len(resend) == 2 and len(flagged & set(resend)) == 1
    # every correct hash still has its digest (compared, but silent)
    assert result.frame.filter(pl.col("kind") == "server_event")["udh_em"].null_count() == 0


def test_orders_and_events_carry_digests_never_values_or_hashes(result):
    frame = result.frame
    orders = frame.filter(pl.col("kind") == "order")
    assert orders.height == 3 and orders["udh_em"].null_count() == 0 and orders["udh_ph_nocc"].null_count() == 0
    assert orders.filter(pl.col("order_id") == "7001000000000000003")["udh_em_raw"].item() is None
    text = frame.select(pl.col(c).cast(pl.String) for c in frame.columns).write_csv()
    for value in CLEAR + RAW_HASHES:
        assert value.lower() not in text.lower(), value


def test_report_and_database_hold_no_clear_value_or_raw_hash(cli, tmp_path, monkeypatch):
    db = tmp_path / "n.db"
    monkeypatch.setenv("CAPI_AUDIT_DB", f"sqlite:///{db}")
    res = cli("audit", str(FOLDER), "--format", "json", "--quiet")
    report = json.loads(res.stdout)
    assert {(f["subject"], f["count"]) for f in report["findings"] if f["rule"] == "pii-unhashed"} == {("em", 2), ("ph", 1)}
    outputs = [res.stdout, "\n".join(sqlite3.connect(db).iterdump())]
    for fmt in ("markdown", "html"):
        outputs.append(cli("audit", str(FOLDER), "--format", fmt, "--no-db", "--quiet").stdout)
    for out in outputs:
        for value in CLEAR + RAW_HASHES:
            assert value.lower() not in out.lower(), value
