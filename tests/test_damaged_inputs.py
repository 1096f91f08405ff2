"""Damaged archives lose nothing readable; hostile bytes neither hang the audit nor exhaust memory.

Bombs are made on the fly as compressed streams (a few hundred KB on disk,
hundreds of MB decompressed), never committed.  Memory is checked in a child
process (its peak RSS), never with timings.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path

import pytest

from conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
RESPONSES = (SAMPLES / "graph_api" / "responses.ndjson").read_bytes()
N_RESPONSES = RESPONSES.count(b"\n")
WOO = sorted((SAMPLES / "woocommerce" / "healthy-shop").glob("*.log"))[0]


def _audit(*paths: Path, extra: tuple[str, ...] = ()) -> tuple[int, dict | None, str]:
    """The real CLI in a child process: exit code, JSON report, stderr (and peak RSS in the report)."""
    cmd = [sys.executable, "-m", "auditor", "audit", *map(str, paths), "--format", "json", "--no-db", "--quiet",
           "--fail-on", "never", *extra]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err)
        killer = threading.Timer(300, proc.kill)  # a hang fails the test instead of stalling CI
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    report = json.loads(stdout) if stdout.strip() else None
    if report is not None:
        report["_peak_rss_mb"] = usage.ru_maxrss / 1024
    return proc.returncode, report, stderr


def _errors(report: dict, name: str) -> list[str]:
    return [e["reason"] for e in report["inputs"]["errors"] if e["file"].endswith(name)]


def _gzip_stream(parts, level: int = 6) -> bytes:
    """gzip bytes of the concatenated ``parts`` (an iterable of bytes), compressed as they come."""
    comp = zlib.compressobj(level, zlib.DEFLATED, 31)
    out = [comp.compress(p) for p in parts]
    out.append(comp.flush())
    return b"".join(out)


def test_gz_with_trailing_garbage_keeps_every_record(tmp_path):
    (tmp_path / "responses.ndjson.gz").write_bytes(gzip.compress(RESPONSES) + b"\x00\x17garbage appended by a broken copy")
    code, report, _ = _audit(tmp_path)
    assert code == 0
    assert report["inputs"]["records"] == N_RESPONSES
    (reason,) = _errors(report, "responses.ndjson.gz")
    assert "trailing garbage" in reason


def test_gz_padded_with_zeros_is_not_damaged(tmp_path):
    (tmp_path / "responses.ndjson.gz").write_bytes(gzip.compress(RESPONSES) + b"\x00" * 4096)
    code, report, _ = _audit(tmp_path)
    assert report["inputs"]["records"] == N_RESPONSES and not report["inputs"]["errors"]


def test_multi_member_gz_is_read_to_its_end(tmp_path):
    half = RESPONSES.index(b"\n", len(RESPONSES) // 2) + 1
    (tmp_path / "r.ndjson.gz").write_bytes(gzip.compress(RESPONSES[:half]) + gzip.compress(RESPONSES[half:]))
    code, report, _ = _audit(tmp_path)
    assert report["inputs"]["records"] == N_RESPONSES and not report["inputs"]["errors"]


def test_truncated_gz_keeps_what_was_decoded(tmp_path):
    big = RESPONSES * 40
    data = gzip.compress(big)
    cut = data[: int(len(data) * 0.7)]
    (tmp_path / "r.ndjson.gz").write_bytes(cut)
    readable = zlib.decompressobj(31).decompress(cut).count(b"\n")
    code, report, _ = _audit(tmp_path)
    assert code == 0
    assert report["inputs"]["records"] == readable  # nothing decodable is lost, not even the last MiB
    assert any("truncated gzip stream" in r for r in _errors(report, "r.ndjson.gz"))


def test_corrupt_deflate_stream_is_an_input_error_and_the_rest_is_audited(tmp_path):
    data = bytearray(gzip.compress(RESPONSES * 20))
    for i in range(len(data) // 2, len(data) // 2 + 40):
        data[i] ^= 0x5A
    (tmp_path / "a-corrupt.ndjson.gz").write_bytes(bytes(data))
    (tmp_path / "b-good.ndjson").write_bytes(RESPONSES)
    code, report, stderr = _audit(tmp_path)
    assert code == 0, stderr
    assert "internal error" not in stderr
    assert report["inputs"]["records"] >= N_RESPONSES  # the good file, plus what decoded before the break
    assert report["inputs"]["unreadable_files"] <= 1
    assert any(r.startswith("stopped reading") for r in _errors(report, "a-corrupt.ndjson.gz"))


def test_zip_member_with_a_bad_crc_is_an_input_error_and_the_rest_is_audited(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a-bad.ndjson", RESPONSES)
        zf.writestr("b-good.ndjson", RESPONSES)
    raw = bytearray(archive.read_bytes())
    at = raw.index(RESPONSES[200:240])  # flip bytes inside the first (stored) member: its CRC no longer matches
    raw[at:at + 4] = b"XXXX"
    archive.write_bytes(bytes(raw))
    code, report, stderr = _audit(archive)
    assert code == 0, stderr
    assert "internal error" not in stderr
    assert report["inputs"]["by_source"].get("graph_api", 0) >= N_RESPONSES  # the good member
    assert _errors(report, "a-bad.ndjson")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_pipes_and_devices_are_never_read(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "responses.ndjson").write_bytes(RESPONSES)
    os.mkfifo(logs / "queue.log")  # nobody writes to it: reading it would block forever
    (logs / "zero.log").symlink_to("/dev/zero")  # reading it would never end
    code, report, _ = _audit(logs)
    assert code == 0 and report["inputs"]["records"] == N_RESPONSES
    assert "named pipe" in _errors(report, "queue.log")[0]
    assert "character device" in _errors(report, "zero.log")[0]
    for direct in (logs / "queue.log", Path("/dev/zero")):
        code, report, stderr = _audit(direct)
        assert code == 2 and report is None
        assert stderr.strip().count("\n") == 0 and str(direct) in stderr and "not a regular file" in stderr


def test_a_line_without_end_keeps_memory_bounded(tmp_path):
    """One valid line, then 600 MB of NUL bytes without a newline (a 600 KB .gz)."""
    zeros = b"\x00" * (8 << 20)
    (tmp_path / "r.ndjson.gz").write_bytes(_gzip_stream([RESPONSES.split(b"\n")[0] + b"\n", *([zeros] * 75)], level=9))
    code, report, stderr = _audit(tmp_path, extra=("--source", "graph_api"))
    assert code == 0, stderr
    assert report["inputs"]["records"] == 1
    assert report["inputs"]["skipped_lines"] >= 1
    assert report["_peak_rss_mb"] < 700


def test_a_file_of_newlines_only_is_not_a_crash(tmp_path):
    (tmp_path / "r.ndjson.gz").write_bytes(_gzip_stream([RESPONSES, *([b"\n" * (8 << 20)] * 8)], level=9))
    code, report, stderr = _audit(tmp_path)
    assert code == 0, stderr
    assert report["inputs"]["records"] == N_RESPONSES


def test_utf16_files_are_read_in_blocks(tmp_path):
    text = WOO.read_text(encoding="utf-8")
    (tmp_path / WOO.name).write_bytes(text.encode("utf-16"))  # with BOM
    code, report, _ = _audit(tmp_path)
    code8, report8, _ = _audit(WOO)
    assert report["inputs"]["records"] == report8["inputs"]["records"] > 0
    assert [f["rule"] for f in report["findings"]] == [f["rule"] for f in report8["findings"]]


def test_many_tiny_files_cost_little_memory_each(tmp_path):
    """20,000 tiny files once took 1.76 GB (~85 KB a file) and 8 minutes: they are
    packed into few batches now; 4,000 stay far below that per-file cost."""
    lines = RESPONSES.decode().splitlines()
    for i in range(4000):
        folder = tmp_path / f"d{i // 500}"
        folder.mkdir(exist_ok=True)
        (folder / f"r-{i:05d}.ndjson").write_text(lines[i % len(lines)] + "\n")
    code, report, stderr = _audit(tmp_path)
    assert code == 0, stderr
    assert report["inputs"]["records"] == 4000 and report["inputs"]["files"] == 4000
    assert report["_peak_rss_mb"] < 400  # 85 KB a file would be 340 MB on top of the ~150 MB base


def test_a_folder_of_only_corrupt_archives_is_no_readable_input(tmp_path):
    """It exited 0 with '0 records': a run that read nothing must not look green."""
    bad = bytearray(gzip.compress(RESPONSES))
    bad[10:40] = b"\xff" * 30  # the deflate stream breaks at once
    (tmp_path / "a.ndjson.gz").write_bytes(bytes(bad))
    (tmp_path / "b.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 60)  # not a zip after all
    code, report, stderr = _audit(tmp_path)
    assert code == 2 and report is None
    assert "no readable input" in stderr and stderr.strip().count("\n") == 0
