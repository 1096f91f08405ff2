"""The five questions and the account tables in plain words, in every format.

A shop owner reads diagnoses by their ruleset titles and shops by their short
names; scripts find the rule ids and pixel ids in the JSON's new
``questions[].rules`` / ``questions[].accounts``.  Story numbers come from
sample_logs/README.md, like tests/test_sample_audit.py.
"""

from __future__ import annotations

import copy
import json
import re

import pytest

from conftest import SAMPLES

TOKEN_SHOP = "928374651029384"  # hudsonvalleybaking
UPDATED_SHOP = "1736450291837465"  # trailgear-outdoor
FLAKY_SHOP = "2049381726354810"  # hyggehjem
CUSTOM_SHOP = "873615209481726"  # Graph API responses only: no shop name
MAGENTO_PIXEL = "5523018846271093"  # the Magento extension's log: no shop name
SHOPIFY_PIXEL = "2231948576610394"  # nordic-wool


@pytest.fixture(scope="module")
def outputs():
    """One audit of sample_logs/ through the CLI in JSON, terminal and Markdown."""
    from typer.testing import CliRunner

    from auditor.cli import app

    runner = CliRunner()
    out = {}
    for fmt in ("json", "table", "markdown"):
        res = runner.invoke(app, ["audit", str(SAMPLES), "--format", fmt, "--no-db", "--quiet"], catch_exceptions=False)
        assert res.exit_code == 1, res.stderr  # the samples hold critical findings
        out[fmt] = res.stdout
    out["report"] = json.loads(out["json"])
    return out


@pytest.fixture(scope="module")
def titles():
    from auditor.plugin_manager import load_plugins
    from auditor.registry import Registry
    from auditor.ruleset import load_ruleset

    registry = Registry.collect(load_plugins([], None, []).pm)
    return {rid: row.title for rid, row in load_ruleset("default", registry.ruleset_files).rules.items()}


def _q(report):
    return {q["step"]: q for q in report["questions"]}


def test_question_details_name_titles_and_shops_not_ids(outputs, titles):
    report = outputs["report"]
    shop_accounts = {a["account"] for a in report["accounts"] if a.get("shops")}
    all_rules = {f["rule"] for f in report["findings"]}
    for q in report["questions"]:
        detail = q["detail"]
        assert not [r for r in all_rules if r in detail], detail
        assert not [a for a in shop_accounts if a in detail], detail  # a known shop is named, not its pixel id
        for rule in q["rules"]:
            assert titles[rule] in detail, (rule, detail)
    q = _q(report)
    assert q[1]["detail"] == ("Access token expired or invalidated since 2026-02-10 (hudsonvalleybaking, hyggehjem, pixel …1093); "
                              "Connector broken by a platform or plugin update since 2026-05-06 (trailgear-outdoor).")
    # stopped problems say when they happened; an account without a shop keeps the end of its pixel id
    assert "Sends throttled by Graph API rate limits from 2026-07-01 to 2026-07-02 (pixel …1726)" in q[3]["detail"]
    assert "Deduplication works only on some checkout paths from 2026-09-14 to 2026-09-15 (kaffebryggeriet)" in q[2]["detail"]


def test_json_keeps_the_ids_in_new_fields(outputs):
    report = outputs["report"]
    q = _q(report)
    assert q[1]["rules"] == ["token-expired", "integration-broken-after-update"]  # worst and ongoing first
    assert q[1]["accounts"] == sorted([TOKEN_SHOP, FLAKY_SHOP, UPDATED_SHOP, MAGENTO_PIXEL])
    assert set(q[5]["rules"]) == {"server-events-missing", "payload-rejected", "key-events-missing"}
    assert CUSTOM_SHOP in q[5]["accounts"] and SHOPIFY_PIXEL in q[5]["accounts"]
    for item in report["questions"]:
        assert set(item) >= {"step", "question", "verdict", "detail", "rules", "accounts"}
        # the ids are those of the findings the answer names
        named = {(f["rule"], f["account"]) for f in report["findings"] if f["rule"] in item["rules"]}
        assert {a for _, a in named if a} >= set(item["accounts"])
        assert all(any(r == rule for r, _ in named) for rule in item["rules"])


def test_numeric_answers_name_shops(audit_json):
    """Questions answered from the numbers (no finding) name the shops too."""
    from pathlib import Path

    healthy = Path(__file__).parent / "data" / "reconciliation" / "healthy"
    _, report, _ = audit_json(healthy, "--fail-on", "never")
    q5 = _q(report)[5]
    assert q5["verdict"] == "ok" and q5["rules"] == []
    # the pixel ids stay ids (a 10-digit id is not redacted as a phone number)
    assert q5["accounts"] == sorted(a["account"] for a in report["accounts"] if a["orders"])
    assert len(q5["accounts"]) == 2
    assert q5["detail"] == "Server purchases per backend order: alpha 1.00 (6 orders), beta 1.00 (6 orders)."
    for acc in report["accounts"]:
        assert acc["shops"] and acc["account"] not in q5["detail"]


def test_terminal_and_markdown_answer_with_the_same_words(outputs):
    report = outputs["report"]
    md = outputs["markdown"]
    flat_table = " ".join(re.sub(r"[│┃]", " ", outputs["table"]).split())
    for q in report["questions"]:
        assert f"| {q['step']} | {q['question']} | **{q['verdict']}** | {q['detail']} |" in md
        # the terminal wraps the detail column: compare the words
        for piece in q["detail"].split("; "):
            words = piece.split()
            assert " ".join(words[:4]) in flat_table, piece


def test_account_tables_name_the_shop_next_to_the_pixel(outputs):
    md = outputs["markdown"]
    assert f"| hyggehjem ({FLAKY_SHOP}) | 0 |" in md
    assert f"| nordic-wool ({SHOPIFY_PIXEL}) | 746 |" in md
    assert f"| {CUSTOM_SHOP} | 0 |" in md  # no shop known: the pixel id alone
    lines = outputs["table"].splitlines()
    row = next(i for i, line in enumerate(lines) if line.strip("│ ").startswith("trailgear-outdoor"))
    assert UPDATED_SHOP in lines[row + 1]  # the pixel id under the name, for Events Manager
    spark = lines[lines.index(next(x for x in lines if x.startswith("Per UTC day"))):]
    assert any(x.strip().startswith("hyggehjem ") for x in spark)
    assert any(x.strip().startswith(CUSTOM_SHOP + " ") for x in spark)


def test_plain_names_are_redacted(outputs):
    """A shop recorded as an e-mail never reaches the tables or answers in clear."""
    from auditor.report.render_text import render_markdown, render_table

    report = copy.deepcopy(outputs["report"])
    report["accounts"][0]["shops"] = ["maria.silva@example.com"]
    for text in (render_markdown(report), render_table(report, color=False)):
        for needle in ("maria.silva@example.com", "maria.silva", "EAAG", "203.0.113."):
            assert needle not in text


def test_many_accounts_and_findings_of_no_account(outputs, titles):
    """Five shops with the same diagnosis name three and count the rest; a
    finding that belongs to no account reads "all accounts"."""
    from auditor.report.plain import account_names, question_answer

    report = outputs["report"]
    (token,) = [f for f in report["findings"] if f["rule"] == "token-expired" and f["account"] == TOKEN_SHOP]
    shops = [a for a in report["accounts"] if a.get("shops")][:5]
    related = [dict(token, account=a["account"]) for a in shops] + [dict(token, account=None)]
    names = account_names(report["accounts"])
    text = question_answer("problem", "", related, titles, names)
    listed = sorted([names[a["account"]] for a in shops] + ["all accounts"])
    assert text == (f"Access token expired or invalidated since 2026-02-10 "
                    f"({', '.join(listed[:3])} and 3 more).")
    # a verdict that findings did not raise keeps its own words
    assert question_answer("ok", "12 server events sent.", related, titles, names) == "12 server events sent."
