"""Reading inputs: archives, directories, globs, bad bytes, bounded chunks."""

from __future__ import annotations

import gzip
import zlib
import os
import zipfile

import polars as pl
import pytest

from auditor.ingest.inputs import InputError, expand
from auditor.ingest.reader import read_batches

WOO_START = r"(\d\d-\d\d-\d{4} @ \d\d:\d\d:\d\d - |\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d [A-Za-z]+ )"


def _all_lines(unit, **kw):
    batches, rejects = [], []
    for b, r in read_batches(unit, **kw):
        batches.append(b)
        rejects.append(r)
    return pl.concat(batches), pl.concat(rejects)


def test_directory_glob_gz_zip_are_expanded_sorted(tmp_path):
    d = tmp_path / "logs"
    (d / "b").mkdir(parents=True)
    (d / "a.log").write_text("one\n")
    with gzip.open(d / "b" / "c.log.gz", "wt") as fh:
        fh.write("gz line\n")
    with zipfile.ZipFile(d / "export.zip", "w") as zf:
        zf.writestr("x/second.log", "z2\n")
        zf.writestr("first.log", "z1\n")
    units, skipped = expand([str(d)])
    names = [u.name for u in units]
    assert names == sorted(names)
    assert names == ["logs/a.log", "logs/b/c.log.gz", "logs/export.zip!first.log", "logs/export.zip!x/second.log"]
    assert skipped == []
    texts = {u.name: _all_lines(u)[0]["text"].to_list() for u in units}
    assert texts["logs/b/c.log.gz"] == ["gz line"]
    assert texts["logs/export.zip!x/second.log"] == ["z2"]
    glob_units, _ = expand([str(d / "*.log")])
    assert [u.name for u in glob_units] == [str(d / "a.log")]


def test_missing_and_unreadable_paths_raise_naming_the_path(tmp_path):
    with pytest.raises(InputError, match="nope.log: no such file"):
        expand([str(tmp_path / "nope.log")])
    f = tmp_path / "secret.log"
    f.write_text("x\n")
    f.chmod(0)
    if os.access(f, os.R_OK):  # running as root: permissions are not enforced
        pytest.skip("running as root")
    with pytest.raises(InputError, match="secret.log: permission denied"):
        expand([str(f)])


def test_crlf_bom_junk_and_half_written_last_line(tmp_path):
    f = tmp_path / "mixed.log"
    f.write_bytes(b"\xef\xbb\xbffirst\r\nsecond\r\n\x00\x01\xff\xfe\xfd\xfc binary\r\ncaf\xe9 latin\r\nhalf-writ")
    (unit,), _ = expand([str(f)])
    lines, rejects = _all_lines(unit)
    assert lines["text"].to_list() == ["first", "second", "caf\ufffd latin", "half-writ"]
    assert lines["line"].to_list() == [1, 2, 4, 5]
    assert rejects.select("line", "reason").rows() == [(3, "binary or undecodable bytes")]


def test_entries_are_never_split_across_chunks(tmp_path):
    entry = "2025-03-14T09:12:44+00:00 NOTICE Request\nmethod: POST\nbody: {\"data\":[]}\n"
    f = tmp_path / "big.log"
    f.write_text(entry * 500)
    (unit,), _ = expand([str(f)])
    batches = list(read_batches(unit, framing="entries", entry_start=WOO_START, chunk_bytes=1000))
    assert len(batches) > 10  # really chunked
    for batch, _ in batches:
        assert batch["text"][0].startswith("2025-03-14T09:12:44+00:00 NOTICE")
        assert batch.height % 3 == 0
    all_lines = pl.concat([b for b, _ in batches])
    assert all_lines["line"].to_list() == list(range(1, 1501))


def test_line_numbers_continue_across_chunks(tmp_path):
    f = tmp_path / "n.log"
    f.write_text("".join(f"line {i}\n" for i in range(1, 5001)))
    (unit,), _ = expand([str(f)])
    lines, _ = _all_lines(unit, chunk_bytes=4096)
    assert lines.height == 5000
    assert lines.select((pl.col("text") == pl.format("line {}", "line")).all()).item()


def test_document_framing_reads_whole_file(tmp_path):
    f = tmp_path / "arr.json.gz"
    with gzip.open(f, "wt") as fh:
        fh.write('[\n  {"a": 1},\n  {"a": 2}\n]\n')
    (unit,), _ = expand([str(f)])
    lines, _ = _all_lines(unit, framing="document")
    assert lines.height == 1 and '"a": 2' in lines["text"][0]


def test_utf16_file_is_decoded(tmp_path):
    f = tmp_path / "u16.log"
    f.write_bytes("hello\nwörld\n".encode("utf-16"))
    (unit,), _ = expand([str(f)])
    lines, _ = _all_lines(unit)
    assert lines["text"].to_list() == ["hello", "wörld"]


def test_corrupt_gzip_member_is_reported_not_fatal(tmp_path, audit_json):
    from conftest import INHOUSE_PLUGIN

    good = tmp_path / "ok.jsonl"
    good.write_text('{"at": "2026-04-01T10:00:00Z", "pixel": "1", "event": "Purchase", "order": 1, "http": 200, "error": null, "received": 1}\n')
    bad = tmp_path / "broken.jsonl.gz"
    lines = "".join(good.read_text().replace('"order": 1,', f'"order": {i},') for i in range(20000))
    data = gzip.compress(lines.encode())
    bad.write_bytes(data[: len(data) // 2])
    code, report, _ = audit_json(str(tmp_path), "--plugin", str(INHOUSE_PLUGIN))
    assert code == 0
    readable = zlib.decompressobj(31).decompress(data[: len(data) // 2]).count(b"\n")
    assert report["inputs"]["records"] == readable + 1  # every line decoded before the break is kept (+ ok.jsonl)
    reasons = [e["reason"] for e in report["inputs"]["errors"] if e["file"].endswith("broken.jsonl.gz")]
    assert any(r.startswith("stopped reading: EOFError") for r in reasons)


def test_parallel_parse_gives_the_same_rows_in_the_same_order(monkeypatch):
    """Batches of a thread-safe source are parsed two at a time; the result must
    not differ from parsing them one by one."""
    import dataclasses

    import auditor.pipeline as pipeline
    from auditor.plugin_manager import load_plugins
    from auditor.registry import Registry
    from conftest import SAMPLES

    registry = Registry.collect(load_plugins().pm)
    units, _ = expand([str(SAMPLES / "woocommerce"), str(SAMPLES / "graph_api")])
    parallel, summary_p, notes_p, _ = pipeline.parse_units(units, registry, batch_bytes=20_000)
    parallel = parallel.frame()
    for name, source in list(registry.sources.items()):
        registry.sources[name] = dataclasses.replace(source, thread_safe_parse=False)
    sequential, summary_s, notes_s, _ = pipeline.parse_units(units, registry, batch_bytes=20_000)
    sequential = sequential.frame()
    assert parallel.height > 2000
    assert parallel.equals(sequential)
    assert summary_p.errors == summary_s.errors and notes_p == notes_s


def _split_into_small_files(folder, tmp):
    """Every sample file cut at entry/record boundaries into pieces of a few lines,
    each its own file in the same folder order (what a webhook-per-file archive looks like)."""
    import gzip as _gzip

    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".zip" or path.name.endswith(".md"):
            continue
        data = _gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
        rel = path.relative_to(folder)
        target = tmp / rel.parent
        target.mkdir(parents=True, exist_ok=True)
        (target / rel.name.removesuffix(".gz")).write_bytes(data)
        out.append(target / rel.name.removesuffix(".gz"))
    return out


def test_packed_batches_give_the_same_rows_as_one_batch_per_file(monkeypatch, tmp_path):
    """Small files of one source are packed into one parse batch; every source must
    keep each file's records apart (a file's first lines never join the previous
    file's last entry) and give exactly the rows it gives file by file."""
    import auditor.pipeline as pipeline
    from auditor.plugin_manager import load_plugins
    from auditor.registry import Registry
    from conftest import SAMPLES

    registry = Registry.collect(load_plugins().pm)
    _split_into_small_files(SAMPLES, tmp_path)
    # a WooCommerce file that starts with the tail of an entry of the previous day's file,
    # and a Graph API log whose first line continues a record: packed right after others
    woo = tmp_path / "woocommerce" / "healthy-shop"
    (woo / "facebook_for_woocommerce-2026-03-03-zz0.log").write_text(
        "code: 200\nmessage: OK\nbody: {\"events_received\":1,\"messages\":[],\"fbtrace_id\":\"AzzzBTk0-IjK6b7gpLlZyY4\"}\n"
    )
    (tmp_path / "graph_api" / "zz-continued.log").write_text('  "fbtrace_id": "AbcdefghIjK6b7gpLlZyY4"}\n')
    units, _ = expand([str(tmp_path)])

    def rows_and_summary():
        rows, summary, notes, problems = pipeline.parse_units(units, registry)
        try:
            frame = rows.frame()
        finally:
            rows.close()
        return frame, summary, notes, problems

    packed, summary_p, notes_p, problems_p = rows_and_summary()
    monkeypatch.setattr(pipeline, "PACK_BYTES", 1)  # every file (every read block) its own batch
    single, summary_s, notes_s, problems_s = rows_and_summary()
    assert packed.height > 2000 and not problems_p and not problems_s
    assert summary_p.by_source == summary_s.by_source
    assert sorted(map(str, summary_p.errors)) == sorted(map(str, summary_s.errors))
    assert notes_p == notes_s
    assert packed.equals(single)


def test_a_zip_of_many_members_is_opened_once(tmp_path, monkeypatch):
    """Each member used to reopen the archive and re-read its central directory:
    quadratic in the number of members (50,000 tiny members did not finish)."""
    import auditor.ingest.inputs as inputs_module
    from auditor.plugin_manager import load_plugins
    from auditor.registry import Registry
    import auditor.pipeline as pipeline
    from conftest import SAMPLES

    lines = (SAMPLES / "graph_api" / "responses.ndjson").read_text().splitlines()
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(600):
            zf.writestr(f"r/{i:04d}.ndjson", lines[i % len(lines)] + "\n")
    opened = []
    real = zipfile.ZipFile

    class Counting(real):
        def __init__(self, *a, **k):
            opened.append(a[0])
            super().__init__(*a, **k)

    monkeypatch.setattr(inputs_module.zipfile, "ZipFile", Counting)
    units, _ = expand([str(archive)])
    rows, summary, _, problems = pipeline.parse_units(units, Registry.collect(load_plugins().pm))
    rows.close()
    assert summary.records == 600 and not summary.errors
    assert len(opened) <= 2  # listed once, read through one shared handle
