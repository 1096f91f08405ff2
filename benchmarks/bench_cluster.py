"""Benchmark cluster mode: one process vs a local Dask cluster on the same archive.

    pip install -e '.[cluster]'
    python benchmarks/bench_cluster.py                     # ~40 shops, 2 workers
    python benchmarks/bench_cluster.py --scale 0.3 --workers 4 --keep /tmp/bc

Generates an agency archive of ~40 shops in the formats the tool reads (28
WooCommerce shops, 10 Shopify shops, 3 custom Graph API senders; deterministic
from ``--seed``, built from the generators of ``bench_archives.py``), then
measures on the same files:

* **1 process** -- ``capi-audit audit DIR --format json --no-db`` as a subprocess;
* **cluster** -- the same with ``--cluster local:N`` (LocalCluster start-up
  included) and with ``--cluster tcp://...`` of a cluster started beforehand
  (what a standing cluster costs);
* **merge overhead** -- in this process, with the same standing cluster: the
  client's pre-scan (:func:`auditor.cluster.partition.plan_partitions`), the
  partitions' audits (sum of task times on the workers, and wall time), and
  the client's merge and report (:func:`auditor.cluster.merge.merge_results` +
  ``build_report``).

The reports of both runs are compared (apart from the run's own ``tool`` and
``cluster`` fields).  This is a script:
speed is measured and printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_archives as ba  # noqa: E402


def generate(out: Path, scale: float, seed: int) -> dict:
    """~40 independent shops: each has its own folder, pixel and domain."""
    rng = ba.R(seed * 1000 + 16)
    days_f = 30 * scale
    n_days = max(1, math.ceil(days_f))
    k = days_f / n_days
    start = ba.epoch(2026, 9, 1)
    woo = []
    for copy in range(4):
        for i, (slug, site, cur, loc, plugin, wc, legacy) in enumerate(ba.WOO_SPEC[: 7]):
            name = f"{slug}-{copy}"
            woo.append(ba.WooShop(rng, name, site.replace(".example.com", f"-{copy}.example.com"), cur, loc, plugin, wc, legacy))
    for shop in woo[::9]:
        shop.token_expired_from = start + int(n_days * 0.6 * 86400)
    for shop in woo:
        for dd in range(n_days):
            shop.write_day(out / "woocommerce", start + dd * 86400, 0.25 * ba.MB * k * rng.uniform(0.5, 1.5), gz=rng.random() < 0.2)
    shops = ba.make_shops(rng, 10, first=6)
    for shop in shops:
        orders = ba.shop_orders(rng, shop, start, days_f if days_f < n_days else n_days, max(1, round(600 * scale * rng.uniform(0.7, 1.3))))
        ba.write_deliveries(out / "shopify", rng, shop, orders)
    for slug in ("ribeira-custom-sender", "nordlys-headless", "atelier-api"):
        pixel = str(rng.randint(10**14, 10**16 - 1))
        for dd in range(n_days):
            ba.write_graph_day(out / "graph", rng, slug, pixel, start + dd * 86400, 0.3 * ba.MB * k, rng.uniform(0.02, 0.05))
    return {"shops": len(woo) + len(shops) + 3}


def run_cli(inp: Path, *extra: str) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "auditor", "audit", str(inp), "--format", "json", "--no-db", "--fail-on", "never", "-q", *extra]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, json.loads(out.stdout)


def comparable(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("tool", "cluster")}


def _timed_partition(partition, setup, force_source, options):
    from auditor.cluster.task import audit_partition

    t0 = time.perf_counter()
    result = audit_partition(partition, setup, force_source, options)
    return time.perf_counter() - t0, result


def merge_overhead(address: str, inp: Path, workers: int) -> dict:
    """Client pre-scan, worker time and client merge of one cluster audit, in this process."""
    import distributed

    from auditor.cluster import setup_for
    from auditor.cluster.merge import merge_results
    from auditor.cluster.partition import partition_size, plan_partitions
    from auditor.ingest.inputs import expand
    from auditor.report.model import build_report
    from auditor.ruleset import load_ruleset
    from auditor.testing import make_registry

    registry = make_registry(builtins=True)
    rules = load_ruleset("default", registry.ruleset_files)
    units, _ = expand([str(inp)])
    t0 = time.perf_counter()
    partitions = plan_partitions(units, partition_size(sum(u.size for u in units), workers))
    t_plan = time.perf_counter() - t0
    setup = setup_for(None, None, None, "default", False)
    with distributed.Client(address) as client:
        t0 = time.perf_counter()
        timed = client.gather(client.map(_timed_partition, partitions, setup=setup, force_source=None, options={}, pure=False))
        t_tasks_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_report(merge_results([r for _, r in timed], rules, list(registry.sources), {}))
    t_merge = time.perf_counter() - t0
    return {"partitions": len(partitions), "plan_s": t_plan, "tasks_wall_s": t_tasks_wall,
            "tasks_sum_s": sum(t for t, _ in timed), "merge_s": t_merge}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="days of evidence / 30 (sizes follow; 1.0: ~250 MB)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="write the archive here and reuse it on later runs")
    args = ap.parse_args()

    import distributed

    from auditor.cluster.run import LOCAL_ONLY

    with tempfile.TemporaryDirectory() as tmp:
        inp = (args.keep or Path(tmp)) / f"cluster-s{args.scale}-seed{args.seed}"
        if not (inp / "manifest.json").exists():
            info = generate(inp, args.scale, args.seed)
            (inp / "manifest.json").write_text(json.dumps(info))
        shops = json.loads((inp / "manifest.json").read_text())["shops"]
        size = sum(f.stat().st_size for f in inp.rglob("*") if f.is_file())
        files = sum(1 for f in inp.rglob("*") if f.is_file())
        print(f"archive: {shops} shops, {files} files, {size / 1e6:.1f} MB ({inp})")

        t_single, single = run_cli(inp)
        t_local, local = run_cli(inp, "--cluster", f"local:{args.workers}")
        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                      silence_logs=40, **LOCAL_ONLY) as cluster:
            t_standing, standing = run_cli(inp, "--cluster", cluster.scheduler_address)
            over = merge_overhead(cluster.scheduler_address, inp, args.workers)
    same = comparable(single) == comparable(local) == comparable(standing)
    print(f"{'run':<38}{'seconds':>9}{'speed-up':>10}")
    print(f"{'1 process':<38}{t_single:>9.2f}{1:>10.2f}")
    print(f"{f'--cluster local:{args.workers} (start-up included)':<38}{t_local:>9.2f}{t_single / t_local:>10.2f}")
    print(f"{f'--cluster tcp:// ({args.workers} standing workers)':<38}{t_standing:>9.2f}{t_single / t_standing:>10.2f}")
    print(f"partitions: {over['partitions']} (report: {standing.get('cluster', {}).get('partitions')} after joining)")
    print(f"client pre-scan {over['plan_s']:.2f} s; partition audits {over['tasks_sum_s']:.2f} s of worker time in "
          f"{over['tasks_wall_s']:.2f} s wall; client merge + report {over['merge_s']:.2f} s "
          f"({100 * (over['plan_s'] + over['merge_s']) / max(over['tasks_wall_s'], 1e-9):.1f} % of the audits' wall time)")
    print(f"reports equal (apart from the tool and cluster fields): {'yes' if same else 'NO'}")
    print(f"cores on this machine: {os.cpu_count()}")


if __name__ == "__main__":
    main()
