"""``capi-audit plugins new NAME``: a ready-to-install plugin project.

The generated project has a pyproject with the ``capi_auditor`` entry point, a
source for a JSON-lines sender log, a check that reports a diagnosis row the
plugin ships in its own ruleset snippet, a sample log and a test that passes as
generated (it uses :mod:`auditor.testing`).

Installing the project must not change how anything else is read: the
generated sniff claims only lines that name this sender (``"sender": NAME``),
and a name a loaded plugin, source or check already has is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template
from typing import Iterable

from .plugin_manager import BUILTIN_PLUGINS

PYPROJECT = Template('''[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "capi-auditor-$dash"
version = "0.1.0"
description = "capi-auditor plugin: $slug sender logs"
requires-python = ">=3.11"
dependencies = ["capi-auditor>=0.1"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points.capi_auditor]
$slug = "capi_auditor_$slug"

[tool.setuptools]
packages = ["capi_auditor_$slug"]

[tool.setuptools.package-data]
capi_auditor_$slug = ["rules.yaml"]
''')

MODULE = Template('''"""capi-auditor plugin for the $slug CAPI sender log.

Input: one JSON object per line, written by the shop's own sender after each
call to the Conversions API, naming itself in ``sender``, e.g.

    {"sender": "$slug", "time": "2026-04-01T10:00:00Z", "pixel_id": "123", "event_name": "Purchase",
     "event_id": "1001", "order_id": "1001", "status": 200, "events_received": 1,
     "error_code": null, "error_subcode": null}

Each line gives a ``server_event`` row (what was sent) and an ``api_response``
row (what Meta answered).  The check reports the plugin's own diagnosis row
``$slug-sender-errors`` (see rules.yaml) when too many sends failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from auditor import Check, Source, evidence_from, hookimpl

RECORD = pl.Struct({
    "time": pl.String, "pixel_id": pl.String, "event_name": pl.String, "event_id": pl.String,
    "order_id": pl.String, "status": pl.Int64, "events_received": pl.Int64,
    "error_code": pl.Int64, "error_subcode": pl.Int64,
})


def sniff(file_name: str, head: bytes) -> float:
    """Ours only if the first line is a JSON object that names this sender.

    Claim nothing else: a sniff that also matches other formats (Graph API
    responses carry ``events_received`` too) would take their files away from
    the built-in sources.  Adapt the test to what only your log has.
    """
    first = head.lstrip(b"\\xef\\xbb\\xbf \\r\\n\\t").split(b"\\n", 1)[0]
    try:
        record = json.loads(first)
    except ValueError:  # not JSON, or the head cut the line
        return 0.0
    return 0.9 if isinstance(record, dict) and record.get("sender") == "$slug" else 0.0


def parse(batch: pl.DataFrame, ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    text = pl.col("text").str.strip_chars()
    whole = text.str.starts_with("{") & text.str.ends_with("}")
    rejects = batch.filter(~whole & (text != "")).select("file", "line", pl.lit("not a $slug sender record").alias("reason"))
    rec = batch.filter(whole).with_columns(text.str.json_decode(RECORD).alias("r")).unnest("r")
    common = [
        "file", "line",
        pl.col("time").str.to_datetime(format="%+", time_zone="UTC", strict=False).alias("logged_at"),
        pl.col("pixel_id"), pl.col("pixel_id").alias("account"), pl.col("event_name"), pl.col("event_id"),
        pl.col("order_id"), pl.format("{}:{}", "file", "line").alias("batch_id"), pl.lit(1, pl.Int64).alias("batch_size"),
        pl.lit("$slug").alias("connector"),
    ]
    sent = rec.select(*common, pl.lit("server_event").alias("kind"),
                      pl.format("sent {} {}", "event_name", "event_id").alias("message"))
    failed = pl.col("error_code").is_not_null() | (pl.col("status") >= 400)
    answered = rec.select(
        *common, pl.lit("api_response").alias("kind"), pl.col("status").alias("http_status"),
        pl.col("error_code"), pl.col("error_subcode"), pl.col("events_received"),
        pl.when(failed).then(pl.lit("graph_error")).otherwise(pl.lit("success")).alias("signal"),
        pl.format("HTTP {} code {}", "status", pl.col("error_code").fill_null(0)).alias("message"),
    )
    return pl.concat([sent, answered], how="diagonal_relaxed"), rejects


def sender_errors(ctx):
    """Share of failed sends per account above the ruleset's max_error_share."""
    th = ctx.thresholds("$slug-sender-errors")
    responses = ctx.select("account", "signal", "logged_at", "file", "line", "message",
                           kinds=["api_response"], where=pl.col("connector") == "$slug")
    for (account,), rows in sorted(responses.group_by(["account"]), key=lambda kv: kv[0][0] or ""):
        failed = rows.filter(pl.col("signal") != "success")
        share = failed.height / rows.height
        if failed.height and share > float(th["max_error_share"]):
            yield ctx.finding(
                "$slug-sender-errors", account=account, count=failed.height,
                first_seen=failed["logged_at"].min(), last_seen=failed["logged_at"].max(),
                summary=f"{failed.height} of {rows.height} sends failed ({share:.0%}).",
                evidence=evidence_from(failed), metrics={"share": round(share, 3)},
            )


@hookimpl
def capi_auditor_register_sources(register):
    register(Source(name="$slug", sniff=sniff, parse=parse, description="$slug CAPI sender log (JSON lines)"))


@hookimpl
def capi_auditor_register_checks(register):
    register(Check(name="$slug-sender-errors", rules=("$slug-sender-errors",), run=sender_errors, needs=("api_response",)))


@hookimpl
def capi_auditor_ruleset_files():
    return [Path(__file__).with_name("rules.yaml")]
''')

RULES = Template('''# Diagnosis rows shipped by the $slug plugin; users tune them like built-in
# rows (--ruleset with `extends: default`).
rules:
  $slug-sender-errors:
    title: "$slug sender: many failed sends"
    severity: high
    problem: >-
      Fewer server events reach Events Manager than the shop sends.
    cause: >-
      The $slug sender gets errors back from the Conversions API.
    verify: >-
      Look at the error codes in the sender log lines the finding lists.
    fix: >-
      Fix the error the codes point to (token, payload, permissions) and
      re-send the failed events if they are less than 7 days old.
    validate: >-
      Re-run the audit on new logs: the share of failed sends is below the threshold.
    evidence: >-
      api_response rows of the $slug connector whose signal is not success.
    thresholds:
      max_error_share: 0.05   # share of failed sends above which the row fires
''')

SAMPLE = Template('''{"sender": "$slug", "time": "2026-04-01T10:00:00Z", "pixel_id": "555000111222333", "event_name": "Purchase", "event_id": "1001", "order_id": "1001", "status": 200, "events_received": 1, "error_code": null, "error_subcode": null}
{"sender": "$slug", "time": "2026-04-01T10:05:00Z", "pixel_id": "555000111222333", "event_name": "Purchase", "event_id": "1002", "order_id": "1002", "status": 400, "events_received": null, "error_code": 100, "error_subcode": 2804003}
{"sender": "$slug", "time": "2026-04-01T10:09:00Z", "pixel_id": "555000111222333", "event_name": "Purchase", "event_id": "1003", "order_id": "1003", "status": 200, "events_received": 1, "error_code": null, "error_subcode": null}
''')

TEST = Template('''"""Generated by `capi-audit plugins new $slug`: passes as generated."""

from pathlib import Path

import capi_auditor_$slug as plugin
from auditor.testing import assert_canonical, audit_text, parse_text

SAMPLE = Path(__file__).resolve().parent.parent / "sample_logs" / "$slug-sender.jsonl"


def test_source_output_is_canonical():
    frame, rejects = parse_text("$slug", SAMPLE.read_text(), plugin, builtins=False)
    assert_canonical(frame)
    assert rejects == []
    assert frame.filter(frame["kind"] == "api_response").height == 3


def test_sniff_claims_only_this_sender():
    assert plugin.sniff("$slug-sender.jsonl", SAMPLE.read_bytes()) > 0
    graph_api = b'{"events_received": 1, "messages": [], "fbtrace_id": "AbC", "pixel_id": "1"}\\n'
    other_sender = SAMPLE.read_bytes().replace(b'"sender": "$slug"', b'"sender": "someone-else"')
    assert plugin.sniff("responses.ndjson", graph_api) == 0
    assert plugin.sniff("$slug-sender.jsonl", other_sender) == 0


def test_audit_reports_the_plugin_row():
    report = audit_text({"$slug-sender.jsonl": SAMPLE.read_text()}, plugin, builtins=False)
    rules = {f["rule"] for f in report["findings"]}
    assert "$slug-sender-errors" in rules
''')

README = Template('''# capi-auditor-$dash

A [capi-auditor](https://pypi.org/project/capi-auditor/) plugin that reads the
$slug CAPI sender log (JSON lines, see `sample_logs/`).

    pip install -e '.[test]' && pytest -q
    capi-audit plugins                 # lists "$slug"
    capi-audit audit sample_logs/
''')


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        raise ValueError(f"plugin name {name!r} must start with a letter")
    return slug


def scaffold(name: str, parent: Path, taken: Iterable[str] = ()) -> Path:
    """Create ``capi-auditor-<name>/`` under ``parent`` and return its path.

    ``taken``: source and check names already loaded; the plugin's own names
    (plugin and source ``<slug>``, check ``<slug>-sender-errors``) must differ
    from them and from the built-in plugins'.
    """
    slug = slugify(name)
    mine = {slug, f"{slug}-sender-errors"}
    clash = sorted(mine & ({*taken, *BUILTIN_PLUGINS}))
    if clash:
        raise ValueError(f"plugin name {name!r}: {clash[0]!r} is already the name of a loaded plugin, source or check; "
                         "choose another (e.g. your shop's name)")
    dash = slug.replace("_", "-")
    root = parent / f"capi-auditor-{dash}"
    if root.exists():
        raise FileExistsError(f"{root} already exists")
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"capi_auditor_{slug}/__init__.py": MODULE,
        f"capi_auditor_{slug}/rules.yaml": RULES,
        f"sample_logs/{slug}-sender.jsonl": SAMPLE,
        f"tests/test_{slug}.py": TEST,
    }
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.substitute(slug=slug, dash=dash), encoding="utf-8")
    return root
