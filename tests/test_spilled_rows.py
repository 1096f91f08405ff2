"""Batch audits keep the canonical rows on disk (auditor.rows): what checks read
must be exactly what an in-memory frame would give, temporary files must go,
and a source's narrow finalize (``finalize_columns``) must match a whole-frame one.

Built from the real sample logs, so every built-in source and finalize is part of it.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime

import polars as pl
import pytest
from conftest import SAMPLES

import auditor.rows as rows_module
from auditor import Check, Source, hookimpl
from auditor.pipeline import parse_units
from auditor.ingest.inputs import expand
from auditor.plugin_manager import load_plugins
from auditor.registry import Registry
from auditor.rows import FrameRows, SpilledRows
from auditor.testing import audit_text, make_registry


def _parse(registry: Registry, paths: list[str], batch_bytes: int | None = None):
    units, _ = expand(paths)
    rows, summary, notes, problems = parse_units(units, registry, batch_bytes=batch_bytes)
    assert not problems
    return rows, summary, notes


@pytest.fixture(scope="module")
def spilled() -> SpilledRows:
    rows, _, _ = _parse(Registry.collect(load_plugins().pm), [str(SAMPLES)])
    assert isinstance(rows, SpilledRows)
    yield rows
    rows.close()


@pytest.fixture(scope="module")
def in_memory(spilled) -> FrameRows:
    return FrameRows(spilled.frame())


@pytest.mark.parametrize(
    ("columns", "kinds", "where"),
    [
        (("account", "logged_at", "file", "line", "message"), None, None),
        (("event_id", "ud_em", "value", "currency"), ("server_event",), pl.col("value") > 10),
        (("error_code", "error_subcode", "fbtrace_id", "signal"), ("api_response", "status"), pl.col("error_code").is_not_null()),
        (("order_id", "shop", "extra"), ("order",), None),
        # a condition on columns that are not returned, and one on columns that are
        (("file", "line"), None, pl.col("signal").is_in(["graph_error", "transport_error"])),
        (("signal", "http_status"), ("api_response",), pl.col("http_status") >= 500),
        # a kind that does not fill a column reads it as nulls
        (("events_received",), ("order",), None),
    ],
)
def test_select_reads_what_the_in_memory_frame_holds(spilled, in_memory, columns, kinds, where):
    got = spilled.select(*columns, kinds=kinds, where=where)
    want = in_memory.select(*columns, kinds=kinds, where=where)
    assert got.height > 0 or want.height == 0
    assert got.equals(want)


def test_select_rejects_a_column_that_is_not_canonical(spilled):
    with pytest.raises(pl.exceptions.ColumnNotFoundError, match="not a canonical column: emails"):
        spilled.select("emails")


def test_rows_span_kinds_and_window_as_the_frame(spilled, in_memory):
    frame = in_memory.frame()
    assert spilled.height == frame.height
    assert spilled.kinds == in_memory.kinds
    times = frame.get_column("logged_at").drop_nulls()
    assert spilled.time_span() == (times.min(), times.max())


def test_many_small_files_give_the_same_rows(spilled, monkeypatch):
    """Parse batches cut small and spilled a few rows a file: the private working
    columns differ from file to file, and nothing may depend on where a cut falls."""
    monkeypatch.setattr(rows_module, "SPILL_ROWS", 300)
    small, _, _ = _parse(Registry.collect(load_plugins().pm), [str(SAMPLES)], batch_bytes=20_000)
    try:
        assert small.frame().equals(spilled.frame())
    finally:
        small.close()


def test_narrow_finalize_matches_a_whole_frame_finalize(spilled):
    """woocommerce and graph_api finalize on the columns they declare; given every
    column (as a third-party finalize without finalize_columns is) they must agree."""
    registry = Registry.collect(load_plugins().pm)
    narrowed = [name for name, s in registry.sources.items() if s.finalize_columns]
    assert {"woocommerce", "graph_api"} <= set(narrowed)
    for name in narrowed:
        registry.sources[name] = dataclasses.replace(registry.sources[name], finalize_columns=())
    whole, _, _ = _parse(registry, [str(SAMPLES)])
    try:
        assert whole.frame().equals(spilled.frame())
    finally:
        whole.close()


def test_closing_removes_the_spilled_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    rows, _, _ = _parse(Registry.collect(load_plugins().pm), [str(SAMPLES / "woocommerce")])
    spill_dirs = [p for p in tmp_path.iterdir() if p.name.startswith("capi-audit-")]
    assert len(spill_dirs) == 1 and any(spill_dirs[0].iterdir())
    rows.close()
    assert not spill_dirs[0].exists()


def test_a_cli_audit_leaves_no_temporary_files(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "auditor", "audit", str(SAMPLES), "--no-db", "--quiet", "-f", "json", "--fail-on", "never"],
        capture_output=True, text=True, env=env, check=False,
    )
    assert out.returncode == 0, out.stderr
    assert '"findings"' in out.stdout
    assert list(tmp_path.iterdir()) == []


# --- the finalize_columns contract, seen by a third-party source -------------------------

LOG = "\n".join(f"2026-05-06T10:0{i}:00Z sent Purchase pixel=111 value={i}" for i in range(5)) + "\n"
SEEN: dict[str, list[str]] = {}


def _sniff(name: str, head: bytes) -> float:
    return 1.0 if b" sent Purchase pixel=" in head else 0.0


def _parse_sent(batch: pl.DataFrame, ctx) -> pl.DataFrame:
    text = pl.col("text")
    return batch.select(
        "file", "line",
        pl.lit("server_event").alias("kind"),
        text.str.slice(0, 20).str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_zone="UTC").alias("logged_at"),
        pl.lit("Purchase").alias("event_name"),
        text.str.extract(r"pixel=(\d+)").alias("pixel_id"),
        text.str.extract(r"value=(\d+)").cast(pl.Float64).alias("value"),
        pl.lit("USD").alias("_cur"),  # a private working column for finalize
    )


def _fill_currency(frame: pl.DataFrame, ctx) -> pl.DataFrame:
    SEEN["columns"] = frame.columns
    return frame.with_columns(pl.col("_cur").alias("currency"))


def _drop_a_row(frame: pl.DataFrame, ctx) -> pl.DataFrame:
    return frame.drop("_row").head(frame.height - 1)


def _drop_value_2(frame: pl.DataFrame, ctx) -> pl.DataFrame:
    # a deduplication: the kept rows, named by their _row, in another order than given
    return frame.filter(pl.col("_row") != 2).reverse().with_columns(pl.lit("222").alias("pixel_id"))


def _name_a_row_twice(frame: pl.DataFrame, ctx) -> pl.DataFrame:
    return pl.concat([frame, frame.tail(1)])


class _Plugin:
    def __init__(self, finalize, columns):
        self.source = Source(name="sent_log", sniff=_sniff, parse=_parse_sent, finalize=finalize, finalize_columns=columns)
        self.PLUGIN_NAME = f"sent_log_{finalize.__name__}"

    @hookimpl
    def capi_auditor_register_sources(self, register):
        register(self.source)


def test_finalize_gets_only_its_declared_columns_and_its_output_is_kept():
    SEEN.clear()
    registry = make_registry(_Plugin(_fill_currency, ("_cur", "currency")))
    units, _ = expand([str(_write_log())])
    rows, summary, _, problems = parse_units(units, registry)
    try:
        assert not problems
        # canonical first, then private, then each row's position; nothing else
        assert SEEN["columns"] == ["currency", "_cur", "_row"]
        got = rows.select("value", "currency", "pixel_id", "account")
        assert got.get_column("currency").cast(pl.String).to_list() == ["USD"] * 5
        assert got.get_column("value").to_list() == [0.0, 1.0, 2.0, 3.0, 4.0]
        assert got.get_column("account").cast(pl.String).to_list() == ["111"] * 5  # filled from pixel_id
    finally:
        rows.close()


def test_a_narrow_finalize_that_drops_rows_without_saying_which_is_reported_and_the_rows_kept():
    for finalize, says in ((_drop_a_row, "must keep every row"), (_name_a_row_twice, "each once")):
        registry = make_registry(_Plugin(finalize, ("value",)))
        units, _ = expand([str(_write_log())])
        rows, summary, _, problems = parse_units(units, registry)
        try:
            assert [p.what for p in problems] == ["finalize sent_log"]
            assert says in problems[0].error
            assert rows.height == 5 and summary.by_source == {"sent_log": 5}
        finally:
            rows.close()


def test_a_narrow_finalize_drops_rows_by_their_position_and_every_column_follows(monkeypatch):
    """Deduplication on a few columns: the rows it keeps keep all their other
    columns (the spill files rewritten one at a time, never loaded whole), in
    parse order."""
    import auditor.rows

    monkeypatch.setattr(auditor.rows, "SPILL_ROWS", 2)  # rows 1-2, 3-4, 5: three spill files
    registry = make_registry(_Plugin(_drop_value_2, ("pixel_id",)))
    units, _ = expand([str(_write_log())])
    rows, summary, _, problems = parse_units(units, registry, batch_bytes=64)
    try:
        assert not problems
        assert rows.height == 4 and summary.by_source == {"sent_log": 4}
        got = rows.select("line", "value", "pixel_id", "account")
        assert got.get_column("line").to_list() == [1, 2, 4, 5]
        assert got.get_column("value").to_list() == [0.0, 1.0, 3.0, 4.0]  # a column finalize never saw
        assert got.get_column("pixel_id").to_list() == ["222"] * 4  # what it wrote
        assert got.get_column("account").cast(pl.String).to_list() == ["222"] * 4
    finally:
        rows.close()


def _write_log():
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="sent-log-"))
    path = folder / "sent.log"
    path.write_text(LOG)
    return path


def test_a_check_reads_its_rows_with_ctx_select():
    calls = []

    def run(ctx):
        rows = ctx.select("account", "value", "logged_at", kinds=["server_event"], where=pl.col("value") >= 3)
        calls.append(rows)
        yield ctx.finding("payload-rejected", account=rows["account"][0], count=rows.height,
                          first_seen=rows["logged_at"].min(), last_seen=rows["logged_at"].max(), summary="big values")

    class Checks:
        PLUGIN_NAME = "select_check"

        @hookimpl
        def capi_auditor_register_checks(self, register):
            register(Check(name="big-values", rules=("payload-rejected",), run=run, needs=("server_event",)))

    report = audit_text({"sent.log": LOG}, _Plugin(_fill_currency, ("_cur", "currency")), Checks(), builtins=False)
    (rows,) = calls
    assert rows.columns == ["account", "value", "logged_at"] and rows.height == 2
    (finding,) = [f for f in report["findings"] if f["summary"] == "big values"]
    assert finding["count"] == 2 and finding["first_seen"].startswith("2026-05-06T10:03")
    assert datetime(2026, 5, 6, 10, 4, tzinfo=UTC) == rows["logged_at"].max()


def test_spilled_rows_hold_no_email_or_token_in_clear(spilled):
    """The temporary files are data at rest: they hold only the canonical rows,
    which keep user data as states and digests, never the values."""
    import re

    raw = "\n".join(p.read_text(errors="replace") for p in SAMPLES.rglob("*") if p.is_file() and p.suffix in (".log", ".ndjson", ".json", ".txt"))
    emails = set(re.findall(r"[\w.%+-]+@[\w-]+\.[a-z]{2,}", raw))
    tokens = set(re.findall(r"access_token=([A-Za-z0-9]{20,})", raw))
    assert emails and tokens  # the samples do hold them
    frame = spilled.frame()
    for name, dtype in frame.schema.items():
        if dtype in (pl.String, pl.Categorical):
            text = frame.get_column(name).cast(pl.String).drop_nulls()
            assert not text.str.contains(r"[\w.%+-]+@[\w-]+\.[a-z]{2,}").any(), name
            assert not text.str.contains("|".join(sorted(tokens)[:20])).any(), name


def test_spill_folders_of_killed_audits_are_swept_after_a_day(tmp_path):
    from auditor.rows import sweep_stale_spills

    stale, fresh, other = tmp_path / "capi-audit-old1", tmp_path / "capi-audit-new1", tmp_path / "not-ours"
    for folder in (stale, fresh, other):
        folder.mkdir()
        (folder / "000001.arrow").write_bytes(b"rows")
    day_ago = datetime.now(UTC).timestamp() - 25 * 3600
    os.utime(stale, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))
    sweep_stale_spills(tmp_path)
    assert not stale.exists()
    assert fresh.exists() and other.exists()
