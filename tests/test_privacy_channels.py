"""No output channel carries a secret or a customer value in clear, however it is encoded.

Values are generated (hypothesis): Meta access tokens, appsecret proofs,
e-mails (IDN domains, accented local parts), phones in national and
international forms without '+', IPv6 short forms; each is written plain,
percent-encoded once or twice, as HTML entities or as JSON \\u escapes, into
realistic WooCommerce connector logs (Graph error messages, request URIs,
event_source_url query strings).  The audit's every channel is then searched:
JSON, Markdown, HTML and terminal reports, the history database with its WAL,
watch alerts (jsonl and text) and webhook bodies, and the spilled rows.
"""

from __future__ import annotations

import io
import json
import string
import threading
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from auditor.cli import app
from auditor.redact import decoded, redact_expr, redact_text

from test_watch import exchange, wait_for

ALNUM = string.ascii_letters + string.digits

tokens = st.text(ALNUM, min_size=60, max_size=160).map(lambda s: "EAAG" + s)
proofs = st.text("0123456789abcdef", min_size=64, max_size=64)
local_parts = st.builds(
    lambda a, b, accent: a + accent + "." + b,
    st.text(string.ascii_lowercase, min_size=6, max_size=10),
    st.text(string.ascii_lowercase, min_size=4, max_size=8),
    st.sampled_from(["", "é", "ø", "ü"]),
)
domains = st.sampled_from(["example.com", "exämple.example", "shop.example.de", "xn--exmple-cua.example", "müller.example.org"])
emails = st.builds(lambda lp, d: f"{lp}@{d}", local_parts, domains)
digits = lambda n: st.text("0123456789", min_size=n, max_size=n)  # noqa: E731
phones = st.one_of(
    st.builds(lambda a, b: f"49{a}{b}", st.sampled_from(["151", "160", "170", "176"]), digits(8)),  # 4917033344455
    st.builds(lambda a, b: f"0{a}/{b}", st.sampled_from(["151", "170", "176"]), digits(7)),  # 0170/5556667
    st.builds(lambda b: f"07700 {b}", digits(6)),  # 07700 900462
    st.builds(lambda a, b: f"0049 {a} {b}", st.sampled_from(["151", "170"]), digits(7)),  # 0049 170 3334445
    st.builds(lambda b: f"+351 912 {b[:3]} {b[3:]}", digits(6)),
)
ipv6 = st.builds(lambda a, b: f"2001:db8:{a}::{b}", st.integers(1, 0xFFFF).map(lambda n: f"{n:x}"),
                 st.integers(1, 0xFFFF).map(lambda n: f"{n:x}"))

ENCODINGS = {
    "plain": lambda s: s,
    "percent": lambda s: quote(s, safe=""),
    "percent twice": lambda s: quote(quote(s, safe=""), safe=""),
    "html": lambda s: "".join(f"&#{ord(c)};" if c in "@=:+/" else c for c in s),
    "json": lambda s: "".join(f"\\u{ord(c):04x}" if c in "@=" or ord(c) > 127 else c for c in s),
}
encodings = st.sampled_from(sorted(ENCODINGS))


def _clear_forms(value: str) -> list[str]:
    """What must not appear: the value itself and the part of it that identifies the person."""
    forms = [value]
    if "@" in value:
        forms.append(value.split("@")[0])
    if value.startswith("EAAG"):
        forms.append(value[4:30])
    return forms


def _assert_clean(text: str, values: list[str], where: str) -> None:
    for candidate in {text, decoded(text)}:
        for value in values:
            for form in _clear_forms(value):
                assert form not in candidate, f"{where}: {form!r} in clear"
                for enc in ENCODINGS.values():
                    if enc(form) != form:
                        assert enc(form) not in candidate, f"{where}: {form!r} encoded"


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(tokens, proofs.map(lambda p: f"appsecret_proof={p}"), emails, phones, ipv6),
    enc=encodings,
    before=st.sampled_from(["", "error for ", "uri: https://graph.facebook.com/v21.0/1482736450918273/events?",
                            '{"message":"', "contact: "]),
    after=st.sampled_from(["", " (admin)", "&format=json", '","code":190}', ".\n"]),
)
def test_redaction_decodes_before_it_matches(value, enc, before, after):
    secret = value if not value.startswith("EAAG") else f"access_token={value}"
    text = before + ENCODINGS[enc](secret) + after
    out = redact_text(text)
    _assert_clean(out, [value.removeprefix("appsecret_proof=")], "redact_text")
    assert pl.select(redact_expr(pl.lit(text))).item() == out


KEPT = [
    "2026-03-03T22:04:09+00:00", "fb.1.1770763509867.1423723852", "1482736450918273", "event_time 1772575448",
    "v21.0", "duration: 0.41412s", "6391854075581702516", "10:04:09", "(#100) Missing Permission", "3.5.4",
]


@pytest.mark.parametrize("text", KEPT)
def test_what_diagnoses_need_is_kept(text):
    assert redact_text(text) == text


# --------------------------------------------------------------------------- every channel


PIXEL = "1482736450918273"


def _woo_log(token: str, proof: str, email: str, phone: str, ip: str, enc) -> str:
    """A WooCommerce connector log whose free text carries the values, encoded."""
    text = exchange(PIXEL) + exchange(PIXEL, error=True)
    url = "https:\\/\\/shop.example\\/checkout\\/?email=" + enc(email) + "&ph=" + enc(phone)
    text = text.replace("https:\\/\\/shop.example\\/", url, 1)
    text = text.replace(f"/{PIXEL}/events", f"/{PIXEL}/events?access_token%3D{token}%26appsecret_proof%3D{proof}", 1)
    text = text.replace("(admin maria.silva@example.com, +351 912 345 678)",
                        f"(admin {enc(email)}, {enc(phone)}, from {enc(ip)}, {enc('access_token=' + token)})")
    return text


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=tokens, proof=proofs, email=emails, phone=phones, ip=ipv6, enc=encodings)
def test_no_channel_carries_a_value_in_clear(tmp_path_factory, token, proof, email, phone, ip, enc):
    folder = tmp_path_factory.mktemp("leak")
    logs = folder / "wc-logs"
    logs.mkdir()
    log = logs / "facebook_for_woocommerce-2026-12-01-5f1d2e3c4b5a69788796a5b4c3d2e1f0.log"
    log.write_text(_woo_log(token, proof, email, phone, ip, ENCODINGS[enc]), encoding="utf-8")
    values = [token, proof, email, phone, ip]
    raw = log.read_text(encoding="utf-8")
    assert token in raw and ENCODINGS[enc](email) in raw  # the input really has them

    runner = CliRunner()
    db = folder / "history.db"
    for fmt in ("json", "markdown", "html", "table"):
        out = folder / f"report.{fmt}"
        res = runner.invoke(app, ["audit", str(logs), "--format", fmt, "--output", str(out), "--db", f"sqlite:///{db}",
                                  "--fail-on", "never"])
        assert res.exit_code == 0, res.output
        _assert_clean(out.read_text(encoding="utf-8"), values, f"{fmt} report")
        _assert_clean(res.output, values, f"{fmt} terminal")
    report = json.loads((folder / "report.json").read_text())
    assert any(f["rule"] == "token-expired" for f in report["findings"])  # the evidence lines were reported
    for stored in folder.glob("history.db*"):  # the database and its WAL / journal
        _assert_clean(stored.read_bytes().decode("utf-8", "replace"), values, stored.name)
    res = runner.invoke(app, ["history", "--db", f"sqlite:///{db}"])
    _assert_clean(res.output, values, "history")

    _assert_watch_is_clean(folder, logs, values)
    _assert_spill_is_clean(logs, values)


def _assert_watch_is_clean(folder: Path, logs: Path, values: list[str]) -> None:
    from auditor.plugin_manager import load_plugins
    from auditor.registry import Registry
    from auditor.ruleset import load_ruleset
    from auditor.store import get_engine
    from auditor.watch.delivery import StdoutSink, WebhookSender
    from auditor.watch.runner import WatchConfig, Watcher

    registry = Registry.collect(load_plugins().pm)
    jsonl, text = io.StringIO(), io.StringIO()
    sinks = [StdoutSink("jsonl", jsonl), StdoutSink("text", text)]
    bodies: list[dict] = []

    class Tee:
        def write(self, alert):
            for s in sinks:
                s.write(alert)
            bodies.append(WebhookSender.body(alert))

    notes: list[str] = []
    cfg = WatchConfig(paths=[str(logs)], from_beginning=True, quiet_s=0.2, tick_s=0.5, scan_s=2.0)
    w = Watcher(cfg, registry, load_ruleset("default", registry.ruleset_files), get_engine(f"sqlite:///{folder / 'watch.db'}"),
                sink=Tee(), note=notes.append)
    th = threading.Thread(target=w.run, daemon=True)
    th.start()
    try:
        wait_for(lambda: bodies, what="an alert")
    finally:
        w.stop()
        th.join(timeout=20)
    _assert_clean(jsonl.getvalue(), values, "watch jsonl")
    _assert_clean(text.getvalue(), values, "watch text")
    _assert_clean(json.dumps(bodies, ensure_ascii=False), values, "webhook body")
    _assert_clean("\n".join(notes), values, "watch notes")
    for stored in folder.glob("watch.db*"):
        _assert_clean(stored.read_bytes().decode("utf-8", "replace"), values, stored.name)


def _assert_spill_is_clean(logs: Path, values: list[str]) -> None:
    """The temporary rows of an audit (left on disk if it is killed) hold nothing in clear."""
    from auditor.pipeline import parse_units
    from auditor.ingest.inputs import expand
    from auditor.plugin_manager import load_plugins
    from auditor.registry import Registry

    units, _ = expand([str(logs)])
    rows, _, _, _ = parse_units(units, Registry.collect(load_plugins().pm))
    try:
        frame = rows.frame()
        for name, dtype in frame.schema.items():
            if dtype in (pl.String, pl.Categorical):
                for v in frame.get_column(name).cast(pl.String).drop_nulls().unique():
                    _assert_clean(v, values, f"spilled column {name}")
    finally:
        rows.close()
