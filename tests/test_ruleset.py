"""The ruleset carries every diagnosis row and validates user rulesets."""

from __future__ import annotations

import pytest

from auditor.ruleset import RulesetError, load_ruleset

# The public row ids of the diagnosis table (rulesets/default.yaml); never renamed.
DECISION_TABLE_IDS = {
    "token-expired", "integration-broken-after-update", "dedup-missing-event-id", "dedup-partial",
    "events-delayed", "event-time-wrong", "emq-low", "pii-unhashed", "nonstandard-event-name",
    "missing-value-currency", "totals-mismatch", "permission-revoked", "server-events-missing",
    "connectivity-failure", "payload-rejected", "rate-limited", "pixel-id-mismatch",
    "key-events-missing", "test-event-code-in-production", "action-source-invalid",
}


def test_default_ruleset_has_every_row_with_all_texts():
    rules = load_ruleset("default")
    assert DECISION_TABLE_IDS <= set(rules.rules)
    for row in rules.rules.values():
        for key in ("title", "problem", "cause", "verify", "fix", "validate", "evidence"):
            assert len(getattr(row, key).strip()) > 20 or key == "title", (row.id, key)
        assert row.severity in ("critical", "high", "medium", "low", "info")


def test_user_ruleset_extends_default_and_overrides(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(
        "name: my-shop\nversion: '3'\nextends: default\nrules:\n"
        "  rate-limited:\n    severity: low\n"
        "  events-delayed:\n    thresholds: {good_seconds: 60}\n"
        "  totals-mismatch:\n    enabled: false\n"
    )
    rules = load_ruleset(str(f))
    assert (rules.name, rules.version) == ("my-shop", "3")
    assert rules.rule("rate-limited").severity == "low"
    assert rules.rule("events-delayed").thresholds["good_seconds"] == 60
    # untouched thresholds are inherited
    assert rules.rule("events-delayed").thresholds["investigate_seconds"] == 300
    assert not rules.enabled("totals-mismatch")
    assert rules.rule("token-expired").severity == "critical"


@pytest.mark.parametrize(
    "body, expected",
    [
        ("extends: default\nrules:\n  rate-limited:\n    severity: urgent\n", "rules.rate-limited.severity"),
        ("extends: default\nrules:\n  rate-limited:\n    colour: red\n", "rules.rate-limited.colour"),
        ("extends: default\nrules:\n  events-delayed:\n    thresholds: {good_seconds: soon}\n", "thresholds.good_seconds"),
        ("extends: default\nrules:\n  my-new-row:\n    title: x\n", "rules.my-new-row: new row is missing"),
        ("extends: default\nrulez: {}\n", "rulez: unknown key"),
        ("extends: default\nrules:\n  rate-limited:\n    questions: [7]\n", "rules.rate-limited.questions"),
        ("extends: default\nrules: [1, 2\n", "invalid YAML"),
    ],
)
def test_ruleset_mistakes_name_file_and_key(tmp_path, body, expected):
    f = tmp_path / "bad.yaml"
    f.write_text(body)
    with pytest.raises(RulesetError) as info:
        load_ruleset(str(f))
    assert str(f) in str(info.value)
    assert expected in str(info.value)


def test_unknown_ruleset_name_lists_builtins():
    with pytest.raises(RulesetError, match="built-in: default"):
        load_ruleset("no-such-ruleset")


def test_plugin_rows_merge_but_cannot_redefine(tmp_path):
    row = "\n".join(f"    {k}: some text for {k} long enough" for k in ("title", "problem", "cause", "verify", "fix", "validate", "evidence"))
    good = tmp_path / "plugin_rows.yaml"
    good.write_text(f"rules:\n  inhouse-queue-stuck:\n{row}\n    severity: high\n")
    rules = load_ruleset("default", [("inhouse", str(good))])
    assert rules.rule("inhouse-queue-stuck").severity == "high"
    bad = tmp_path / "clash.yaml"
    bad.write_text(f"rules:\n  token-expired:\n{row}\n    severity: low\n")
    with pytest.raises(RulesetError, match="already defined"):
        load_ruleset("default", [("inhouse", str(bad))])


def test_rules_cli_lists_and_shows(cli):
    listing = cli("rules")
    assert listing.exit_code == 0
    for rid in ("token-expired", "action-source-invalid"):
        assert rid in listing.stdout
    shown = cli("rules", "show", "token-expired")
    assert shown.exit_code == 0
    for label in ("Problem", "Likely cause", "How to verify", "Fix", "How to validate"):
        assert label in shown.stdout
    assert cli("rules", "show", "no-such-row").exit_code == 2


def test_which_rows_answer_each_question_is_ruleset_data(tmp_path):
    """The five questions take their rows from the ruleset: a user (or a plugin's own
    row) can make a row answer a question."""
    from auditor.questions import rules_answering

    rules = load_ruleset("default")
    assert set(rules_answering(rules, 1)) >= {"token-expired", "server-events-missing", "connectivity-failure"}
    assert "server-events-missing" in rules_answering(rules, 5)
    assert "rate-limited" not in rules_answering(rules, 1)
    f = tmp_path / "mine.yaml"
    f.write_text("extends: default\nrules:\n  rate-limited:\n    questions: [1, 3]\n")
    mine = load_ruleset(str(f))
    assert "rate-limited" in rules_answering(mine, 1) and "rate-limited" in rules_answering(mine, 3)
