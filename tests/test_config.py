"""Team settings: ``capi-audit.toml`` / ``[tool.capi-audit]`` / ``--config``, and
precedence: command line > environment variable > configuration file > default."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import DATA, INHOUSE_PLUGIN

LOG = DATA / "inhouse" / "sender.jsonl"
SHOPIFY = DATA / "shopify" / "envelopes.ndjson"
SECRET = "hush-test-webhook-secret-5f1d2e3c"  # the secret tests/data/shopify/envelopes.ndjson is signed with


def ruleset(folder, name, severity):
    path = folder / name
    path.write_text(f"extends: default\nrules:\n  token-expired:\n    severity: {severity}\n")
    return path


def severity_shown(cli, *args):
    res = cli(*args, "rules", "show", "token-expired")
    assert res.exit_code == 0, res.output
    return res.stdout.split("(severity ", 1)[1].split(")", 1)[0]


def test_capi_audit_toml_in_the_working_directory_then_env_then_command_line(cli, tmp_path, monkeypatch):
    (tmp_path / "team").mkdir()
    ruleset(tmp_path / "team", "team.yaml", "low")
    (tmp_path / "capi-audit.toml").write_text('ruleset = "team/team.yaml"\n')
    assert severity_shown(cli) == "low"  # relative to the file's folder
    monkeypatch.setenv("CAPI_AUDIT_RULESET", str(ruleset(tmp_path, "env.yaml", "medium")))
    assert severity_shown(cli) == "medium"
    res = cli("rules", "show", "token-expired", "--ruleset", str(ruleset(tmp_path, "cli.yaml", "info")))
    assert "(severity info)" in res.stdout


def test_pyproject_table_sets_fail_on_plugins_and_env_and_option_beat_it(cli, tmp_path, monkeypatch):
    shutil.copy(INHOUSE_PLUGIN, tmp_path / "inhouse_sender.py")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.capi-audit]\nfail-on = "never"\nplugins = ["inhouse_sender.py"]\n')
    res = cli("audit", str(LOG), "--format", "json", "--no-db")
    assert json.loads(res.stdout)["inputs"]["by_source"] == {"inhouse_sender": 4}  # the plugin from the file
    assert res.exit_code == 0  # a critical finding, but fail-on never from the file
    monkeypatch.setenv("CAPI_AUDIT_FAIL_ON", "critical")
    assert cli("audit", str(LOG), "--format", "json", "--no-db").exit_code == 1
    assert cli("audit", str(LOG), "--format", "json", "--no-db", "--fail-on", "never").exit_code == 0


def test_explicit_config_file_before_or_after_the_command(cli, tmp_path):
    elsewhere = tmp_path / "conf"
    elsewhere.mkdir()
    ruleset(elsewhere, "r.yaml", "medium")
    (elsewhere / "audit.toml").write_text('ruleset = "r.yaml"\n')
    (tmp_path / "capi-audit.toml").write_text('ruleset = "default"\n')  # --config wins over discovery
    assert severity_shown(cli, "--config", str(elsewhere / "audit.toml")) == "medium"
    res = cli("rules", "show", "token-expired", "--config", str(elsewhere / "audit.toml"))
    assert "(severity medium)" in res.stdout
    assert cli("--config", str(tmp_path / "nope.toml"), "rules").exit_code == 2


def test_secret_only_by_environment_variable_name(cli, tmp_path, monkeypatch):
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(SHOPIFY, logs / "envelopes.ndjson")
    (tmp_path / "capi-audit.toml").write_text('shopify-secret-env = "SHOP_SECRET_FOR_TEST"\n')

    def rules_found():
        res = cli("audit", str(logs), "--format", "json", "--no-db", "--fail-on", "never")
        assert res.exit_code == 0, res.output
        assert SECRET not in res.stdout + res.stderr
        return {f["rule"] for f in json.loads(res.stdout)["findings"]}

    assert "webhook-signature-invalid" not in rules_found()  # the variable is not set: nothing verified
    monkeypatch.setenv("SHOP_SECRET_FOR_TEST", SECRET)
    assert "webhook-signature-invalid" in rules_found()  # a forged delivery is caught with the secret

    (tmp_path / "capi-audit.toml").write_text(f'shopify-secret = "{SECRET}"\n')
    res = cli("audit", str(logs), "--no-db")
    assert res.exit_code == 2 and SECRET not in res.stderr
    assert 'shopify-secret: secrets are not written in the file' in res.stderr and "shopify-secret-env" in res.stderr


@pytest.mark.parametrize("toml, command, message", [
    ('fail_on = "never"\n', "audit", "unknown setting 'fail_on' (did you mean 'fail-on'?)"),
    ("fail-on = \n", "rules", "capi-audit.toml: not valid TOML"),
    ('fail-on = "sometimes"\n', "audit", "sometimes"),
    ('disable = ["woocomerce"]\n', "plugins", "did you mean 'woocommerce'?"),
])
def test_config_mistakes_are_usage_errors(cli, tmp_path, toml, command, message):
    (tmp_path / "capi-audit.toml").write_text(toml)
    res = cli("audit", str(LOG), "--no-db") if command == "audit" else cli(command)
    assert res.exit_code == 2 and message in res.stderr


def test_watch_takes_its_settings_from_the_file_too(cli, tmp_path, monkeypatch):
    (tmp_path / "capi-audit.toml").write_text('alert-webhook-env = "TEAM_HOOK"\nmin-severity = "high"\n')
    monkeypatch.setenv("TEAM_HOOK", "ftp://hooks.example.com/T000/B000/XXXX")
    # a missing path: if the file's webhook were not applied, this exits 2 for the path (never hangs)
    res = cli("watch", str(tmp_path / "missing.log"))
    assert res.exit_code == 2 and "--alert-webhook must be an http:// or https:// URL" in res.stderr
    assert "XXXX" not in res.stderr
