"""Cluster mode (`capi-audit audit --cluster`): a real Dask LocalCluster of two
worker processes on this machine (loopback only) must give the report of a
plain audit of the same inputs, survive a killed worker, and turn input it
cannot read into input errors."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from auditor.cluster import audit_on_cluster, partition, setup_for
from auditor.cluster.partition import head_ids, plan_partitions, regroup
from auditor.cluster.run import LOCAL_ONLY
from auditor.pipeline import audit
from auditor.ingest.inputs import expand
from auditor.report.model import build_report
from auditor.ruleset import load_ruleset
from auditor.testing import make_registry

from conftest import DATA, ROOT, SAMPLES

distributed = pytest.importorskip("distributed")

HELD_PLUGIN = DATA / "plugins" / "held_sender.py"


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, no dashboard: the scheduler address."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, silence_logs=40, **LOCAL_ONLY) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def agency(tmp_path_factory):
    """A generated agency archive (benchmarks/bench_archives.py): 8 WooCommerce
    shops, 4 Shopify shops (2 with a server-side GTM container), 3 Graph senders."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_archives
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    out = tmp_path_factory.mktemp("agency") / "agency"
    bench_archives.gen_mixed(out, 0.03, 7)
    return out


@pytest.fixture
def small_partitions(monkeypatch):
    """Every folder group its own partition, so the merge is really exercised."""
    monkeypatch.setattr(partition, "PARTITION_BYTES", 1)
    monkeypatch.setattr(partition, "MIN_PARTITION_BYTES", 1)


def _without_run_fields(report: dict) -> dict:
    report = dict(report)
    report.pop("tool")
    report.pop("cluster", None)
    return report


def _single(paths, plugins=()):
    registry = make_registry(*map(str, plugins), builtins=True)
    rules = load_ruleset("default", registry.ruleset_files)
    units, _ = expand([str(p) for p in paths])
    return registry, rules, units, build_report(audit(units, registry, rules))


def test_sample_logs_cluster_report_equals_the_plain_report(cli, cluster, small_partitions):
    plain = cli("audit", SAMPLES, "--format", "json", "--no-db", "--quiet", "--fail-on", "never")
    res = cli("audit", SAMPLES, "--format", "json", "--no-db", "--fail-on", "never", "--cluster", cluster)
    assert res.exit_code == 0, res.stderr
    single, multi = json.loads(plain.stdout), json.loads(res.stdout)
    grouping = multi["cluster"]
    assert grouping["planned_partitions"] > 5 and grouping["partitions"] > 1  # the merge is exercised
    # progress on stderr: partitions done / total
    assert re.search(r"cluster: (\d+)/(\d+) partitions done", res.stderr)
    assert _without_run_fields(multi) == _without_run_fields(single)


def test_multi_shop_archive_cluster_report_equals_the_plain_report(cluster, agency, small_partitions):
    registry, rules, units, single = _single([agency])
    result = audit_on_cluster(cluster, units, registry, rules, setup_for(None, None, None, "default", False), quiet=True)
    multi = build_report(result)
    assert multi["cluster"]["partitions"] >= 10
    assert len(single["accounts"]) >= 12 and single["findings"]
    # notes that count over a source ("12 rows without X-Shopify-Shop-Domain ...") add up the
    # counts of the partitions (ParseContext.tally): the same notes, the same numbers
    assert multi["notes"] == single["notes"]
    assert _without_run_fields(multi) == _without_run_fields(single)


def test_cluster_local_two_workers_from_the_command_line(cli):
    plain = cli("audit", SAMPLES / "agency", "--format", "json", "--no-db", "--quiet", "--fail-on", "never")
    res = cli("audit", SAMPLES / "agency", "--format", "json", "--no-db", "--quiet", "--fail-on", "never", "--cluster", "local:2")
    assert res.exit_code == 0, res.stderr
    assert _without_run_fields(json.loads(res.stdout)) == _without_run_fields(json.loads(plain.stdout))


def test_a_killed_worker_is_replaced_and_the_report_is_complete(cluster, agency, tmp_path, small_partitions):
    held = tmp_path / "held" / "sender"
    held.mkdir(parents=True)
    started, release = tmp_path / "started", tmp_path / "release"
    (held / "answers.jsonl").write_text(
        json.dumps({"held": {"started": str(started), "release": str(release)}}) + "\n"
        + "".join(json.dumps({"at": f"2026-09-01T0{h}:00:00Z", "pixel": "1111111111111111", "http": 200}) + "\n" for h in range(4)),
        encoding="utf-8",
    )
    registry = make_registry(str(HELD_PLUGIN), builtins=True)
    rules = load_ruleset("default", registry.ruleset_files)
    units, _ = expand([str(agency), str(tmp_path / "held")])
    setup = setup_for([str(HELD_PLUGIN)], None, None, "default", False)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = audit_on_cluster(cluster, units, registry, rules, setup, quiet=True)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while not (started.exists() and started.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = int(started.read_text().split()[0])  # the worker busy with the held partition
    os.kill(victim, signal.SIGKILL)
    release.write_text("go")
    thread.join(300)
    assert "error" not in outcome, outcome.get("error")
    attempts = started.read_text().split()
    assert len(attempts) >= 2 and attempts[-1] != str(victim)  # audited again by another worker process

    single = build_report(audit(units, registry, rules))
    multi = build_report(outcome["result"])
    assert "1111111111111111" in [a["account"] for a in multi["accounts"]]
    assert multi["inputs"]["unreadable_files"] == 0
    assert multi["notes"] == single["notes"]
    assert _without_run_fields(multi) == _without_run_fields(single)


def test_input_a_worker_cannot_read_is_an_input_error_not_a_missing_shop(cluster, tmp_path, small_partitions):
    for shop in ("bergfeld-tee", "kaffebryggeriet"):
        (tmp_path / shop).mkdir()
        for f in (SAMPLES / "agency" / shop).iterdir():
            (tmp_path / shop / f.name).write_bytes(f.read_bytes())
    registry, rules, units, _ = _single([tmp_path])
    gone = sorted((tmp_path / "kaffebryggeriet").iterdir())[0]
    gone.unlink()  # listed on the client, missing where the workers look
    report = build_report(audit_on_cluster(cluster, units, registry, rules, setup_for(None, None, None, "default", False), quiet=True))
    assert report["inputs"]["files"] == len(units)
    assert report["inputs"]["unreadable_files"] == 1
    error = next(e for e in report["inputs"]["errors"] if e["file"].endswith(gone.name))
    assert error["reason"].startswith("cannot read on the worker: FileNotFoundError")
    assert {"www.bergfeld-tee.example.com", "kaffebryggeriet.example.com"} <= {s for a in report["accounts"] for s in a["shops"]}


def test_without_dask_cluster_is_a_usage_error_naming_the_extra(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    res = cli("audit", SAMPLES / "agency", "--format", "json", "--no-db", "--quiet", "--cluster", "local:2")
    assert res.exit_code == 2
    assert "capi-auditor[cluster]" in res.stderr and res.stdout == ""


def test_unreachable_scheduler_or_bad_local_is_a_usage_error(cli, monkeypatch):
    monkeypatch.setattr("auditor.cluster.run.CONNECT_TIMEOUT", "1s")
    res = cli("audit", SAMPLES / "agency", "--no-db", "--quiet", "--cluster", "tcp://127.0.0.1:9")
    assert res.exit_code == 2 and "cannot reach the Dask scheduler" in res.stderr
    res = cli("audit", SAMPLES / "agency", "--no-db", "--quiet", "--cluster", "local:x")
    assert res.exit_code == 2 and "local:N needs a number of workers" in res.stderr


def test_orders_out_needs_the_rows_here(cli, tmp_path):
    res = cli("audit", SAMPLES / "agency", "--no-db", "--quiet", "--cluster", "local:1", "--orders-out", tmp_path / "o.csv")
    assert res.exit_code == 2 and "--orders-out" in res.stderr and not (tmp_path / "o.csv").exists()


# the plan and the regrouping, without a cluster --------------------------------------------------

def test_heads_name_pixels_shops_and_sgtm_projects():
    head = (b'{"pixel_id": "1234567890123456"} \\"Pixel ID\\": \\"2234567890123456\\" POST /v19.0/3234567890123456/events '
            b'X-Shopify-Shop-Domain: shop-b.myshopify.com "logName":"projects/acme-sgtm/logs/run.googleapis.com%2Fstdout" '
            b'order 4711 at 1726000000123')
    assert head_ids(head) == {"pixel:1234567890123456", "pixel:2234567890123456", "pixel:3234567890123456",
                              "shop:shop-b.myshopify.com", "gcp:acme-sgtm"}


def test_plan_keeps_folders_whole_and_joins_folders_naming_one_pixel(tmp_path):
    pixel_line = '[2026-09-14 10:00:00] POST https://graph.facebook.com/v19.0/1190384756221038/events\n'
    for folder in ("shop-a/2026-09-14", "shop-a/2026-09-15", "shop-b"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "shop-a/2026-09-14/one.log").write_text(pixel_line)
    (tmp_path / "shop-a/2026-09-14/two.log").write_text("nothing\n")
    (tmp_path / "shop-a/2026-09-15/three.log").write_text(pixel_line)
    (tmp_path / "shop-b/four.log").write_text(pixel_line.replace("1190384756221038", "1902846371552087"))
    units, _ = expand([str(tmp_path)])
    parts = plan_partitions(units, 1)
    names = [sorted(Path(f.display).name for f in p.files) for p in parts]
    assert names == [["one.log", "three.log", "two.log"], ["four.log"]]
    assert [p.units for p in parts] == [3, 1]
    # the default size packs both groups into one partition
    assert len(plan_partitions(units)) == 1
    assert partition.partition_size(10**6, 2) == partition.MIN_PARTITION_BYTES
    assert partition.partition_size(8 * 10**9, 4) == partition.PARTITION_BYTES
    assert partition.partition_size(800 * 2**20, 4) == 50 * 2**20


def test_regroup_joins_shared_accounts_and_orders_matched_across_partitions():
    ids = [frozenset({"111"}), frozenset({"222"}), frozenset({"111", "shop.example"}), frozenset({"333"}), frozenset({"444"})]
    orders = [frozenset(), frozenset({"1001"}), frozenset(), frozenset(), frozenset()]
    purchases = [frozenset(), frozenset(), frozenset(), frozenset({"1001"}), frozenset({"9999"})]
    # 0 and 2 share an account; 3's Purchase names an order of 1; 4 matches nobody
    assert regroup(ids, orders, purchases) == [[0, 2], [1, 3]]
    # two partitions whose Purchases share a key but no order has it stay apart
    assert regroup([frozenset({"a"}), frozenset({"b"})], [frozenset(), frozenset()], [frozenset({"1"}), frozenset({"1"})]) == []


def test_html_report_of_a_cluster_run_draws_the_same_timelines(cluster, small_partitions):
    from auditor.report.html import render_html

    paths = [SAMPLES / "agency"]
    registry = make_registry(builtins=True)
    rules = load_ruleset("default", registry.ruleset_files)
    units, _ = expand([str(p) for p in paths])
    single = audit(units, registry, rules)
    merged = audit_on_cluster(cluster, units, registry, rules, setup_for(None, None, None, "default", False),
                              quiet=True, timelines=True)
    multi_report = build_report(merged)
    assert multi_report["cluster"]["partitions"] == 3  # one per shop
    html = render_html(multi_report, merged)
    assert html.count("<svg") >= len(multi_report["accounts"])  # a chart per account
    assert html == render_html(build_report(single), single)


def test_a_partition_no_worker_can_audit_is_input_errors_for_its_files(cluster, tmp_path, small_partitions):
    # the workers cannot load the ruleset the client used (not on the shared file system)
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_text((ROOT / "rulesets" / "default.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    registry = make_registry(builtins=True)
    rules = load_ruleset(str(ruleset), registry.ruleset_files)
    units, _ = expand([str(SAMPLES / "agency")])
    setup = setup_for(None, None, None, str(ruleset), False)
    ruleset.unlink()
    report = build_report(audit_on_cluster(cluster, units, registry, rules, setup, quiet=True))
    assert report["inputs"]["files"] == len(units) == report["inputs"]["unreadable_files"]
    assert report["accounts"] == [] and report["findings"] == []
    assert sorted(e["file"] for e in report["inputs"]["errors"]) == sorted(u.name for u in units)
    assert all(e["reason"].startswith("cannot audit on the cluster: RulesetError") for e in report["inputs"]["errors"])


def test_cluster_output_carries_no_personal_data(cli, cluster, tmp_path, small_partitions):
    # a customer's e-mail and IP in a folder name end up in file names, errors and evidence
    shop = tmp_path / "jane.doe@example.com-203.0.113.9"
    shop.mkdir()
    for f in (SAMPLES / "agency" / "bergfeld-tee").iterdir():
        (shop / f.name).write_bytes(f.read_bytes())
    (shop / "junk.log").write_bytes(b"\x00\x01 jane.doe@example.com +4915112345678\n")
    res = cli("audit", tmp_path, "--format", "json", "--no-db", "--fail-on", "never", "--cluster", cluster)
    assert res.exit_code == 0, res.stderr
    for text in (res.stdout, res.stderr):
        assert "jane.doe@example.com" not in text and "203.0.113.9" not in text and "4915112345678" not in text
    assert json.loads(res.stdout)["inputs"]["files"] == 3
