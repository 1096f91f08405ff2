"""Run an audit on a Dask cluster (``capi-audit audit --cluster ADDRESS|local[:N]``).

The client plans the partitions (:mod:`auditor.cluster.partition`), submits
one task per partition (:func:`auditor.cluster.task.audit_partition`), shows
``partitions done / total`` on stderr, audits again as one the partitions
whose results share a pixel, shop or account, and merges everything
(:mod:`auditor.cluster.merge`).  A worker that dies mid-task is Dask's to
handle: the scheduler gives the task to another worker, and a task that
raises is tried again (``retries``).  A partition that still fails becomes
input errors for its files.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from ..pipeline import AuditResult
from ..ingest.inputs import InputUnit
from ..plugin_manager import disabled_names
from ..problems import StrictModeError
from ..registry import Registry
from ..ruleset import Ruleset
from . import partition
from .merge import failed_partition, merge_results
from .partition import Partition, joined, plan_partitions, regroup
from .task import PartitionResult, Setup, audit_partition

#: A task that raises is tried this many more times (a worker that dies is rescheduled by Dask itself).
RETRIES = 2
INSTALL_HINT = "pip install 'capi-auditor[cluster]'"
#: How long to try reaching a remote scheduler.
CONNECT_TIMEOUT = "10s"
_LOCAL = re.compile(r"^local(?::(.*))?$")
#: A LocalCluster on loopback, without a dashboard; its scheduler's HTTP API on any free
#: port (by default it tries 8787, which another cluster on the machine may hold)
LOCAL_ONLY = {"host": "127.0.0.1", "dashboard_address": None, "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}


class ClusterUsageError(Exception):
    """``--cluster`` cannot be used as given (exit 2)."""


def _dask():
    try:
        import distributed
    except ImportError:
        raise ClusterUsageError(f"--cluster needs Dask distributed, which is not installed: {INSTALL_HINT}") from None
    return distributed


def check_address(address: str) -> None:
    """Usage errors of ``--cluster ADDRESS`` that show before any work: Dask
    missing, a ``local:N`` without a worker count (reaching a scheduler is tried
    when the audit starts)."""
    _dask()
    local = _LOCAL.match(address.strip())
    if local and local.group(1) is not None:
        n = local.group(1).strip()
        if not n.isdigit() or int(n) < 1:
            raise ClusterUsageError(f"--cluster {address!r}: local:N needs a number of workers N >= 1")


def setup_for(plugins: list[str] | None, plugins_dir: Path | None, disable: list[str] | None, ruleset: str, strict: bool) -> Setup:
    """The client's plugin and ruleset choice, as every worker must repeat it."""

    def absolute(spec: str) -> str:  # a file the user named relative to here; module names stay
        return os.path.abspath(spec) if os.path.exists(spec) else spec

    return Setup(
        plugins=tuple(absolute(p) for p in plugins or ()),
        plugins_dir=os.path.abspath(plugins_dir) if plugins_dir else None,
        disable=tuple(disabled_names(disable)),
        autoload=os.environ.get("CAPI_AUDIT_DISABLE_AUTOLOAD", "") in ("", "0", "false"),
        ruleset=absolute(ruleset),
        strict=strict,
    )


def _share_cores(workers: int) -> dict[str, str]:
    """Worker environment of a LocalCluster: the machine's cores shared between the
    worker processes (each would otherwise start a Polars pool of every core)."""
    if os.environ.get("POLARS_MAX_THREADS"):
        return {}
    return {"POLARS_MAX_THREADS": str(max(1, (os.cpu_count() or 1) // workers))}


class _Connection:
    """A client of the scheduler at ``address``, or of a LocalCluster for ``local[:N]``."""

    def __init__(self, address: str):
        distributed = _dask()
        self.cluster = None
        local = _LOCAL.match(address.strip())
        try:
            if local:
                n = (local.group(1) or str(os.cpu_count() or 1)).strip()
                if not n.isdigit() or int(n) < 1:
                    raise ClusterUsageError(f"--cluster {address!r}: local:N needs a number of workers N >= 1")
                n = int(n)
                self.cluster = distributed.LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, silence_logs=40, env=_share_cores(n), **LOCAL_ONLY
                )
                self.client = distributed.Client(self.cluster)
            else:
                self.client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
        except ClusterUsageError:
            raise
        except (OSError, TimeoutError, ValueError, RuntimeError) as exc:
            self.close()
            raise ClusterUsageError(f"--cluster {address!r}: cannot reach the Dask scheduler ({type(exc).__name__}: {exc})") from None

    def close(self) -> None:
        for thing in (getattr(self, "client", None), self.cluster):
            if thing is not None:
                thing.close()


def _run_round(client, distributed, partitions: list[Partition], setup: Setup, force_source, options, timelines: bool,
               done: Callable[[], None]) -> list[PartitionResult]:
    """Audit ``partitions`` on the cluster; results in partition order."""
    futures = [
        client.submit(audit_partition, p, setup, force_source, options, timelines, retries=RETRIES, pure=False,
                      key=f"capi-audit-partition-{i}-{os.urandom(4).hex()}")
        for i, p in enumerate(partitions)
    ]
    index = {f.key: i for i, f in enumerate(futures)}
    results: list[PartitionResult | None] = [None] * len(partitions)
    try:
        for future in distributed.as_completed(futures):
            i = index[future.key]
            try:
                results[i] = future.result()
            except StrictModeError:
                raise
            except Exception as exc:  # noqa: BLE001 - a worker lost again and again, or a task that kept failing
                results[i] = failed_partition(partitions[i], f"{type(exc).__name__}: {exc}")
            done()
    finally:
        for future in futures:
            future.release()
    return results


def audit_on_cluster(
    address: str,
    units: list[InputUnit],
    registry: Registry,
    ruleset: Ruleset,
    setup: Setup,
    *,
    force_source: str | None = None,
    options: dict[str, Any] | None = None,
    quiet: bool = False,
    timelines: bool = False,
    partition_bytes: int | None = None,
) -> AuditResult:
    """The audit of ``units`` on the cluster at ``address`` (see the module doc);
    ``timelines``: bring back what the HTML report draws, too."""
    distributed = _dask()
    options = dict(options or {})
    connection = _Connection(address)
    try:
        slots = sum(connection.client.nthreads().values())
        size = partition_bytes or partition.partition_size(sum(u.size for u in units), slots)
        partitions = plan_partitions(units, size)
    except BaseException:
        connection.close()
        raise
    total = [len(partitions), 0]

    def done() -> None:
        total[1] += 1
        if not quiet:
            print(f"capi-audit: cluster: {total[1]}/{total[0]} partitions done", file=sys.stderr, flush=True)

    try:
        results = _run_round(connection.client, distributed, partitions, setup, force_source, options, timelines, done)
        planned, regrouped = len(partitions), 0
        while True:
            sets = regroup([r.identities for r in results], [r.order_keys for r in results], [r.purchase_keys for r in results])
            if not sets:
                break
            # what the heads missed: partitions that share an account are audited again as one
            regrouped += sum(len(s) for s in sets)
            again = [joined([partitions[i] for i in s]) for s in sets]
            total[0] += len(again)
            fresh = _run_round(connection.client, distributed, again, setup, force_source, options, timelines, done)
            drop = {i for s in sets for i in s}
            kept = [(p, r) for i, (p, r) in enumerate(zip(partitions, results)) if i not in drop]
            pairs = sorted([*kept, *zip(again, fresh)], key=lambda pr: pr[0].first)
            partitions, results = [p for p, _ in pairs], [r for _, r in pairs]
    finally:
        connection.close()
    grouping = {
        "grouped_by": "folder, and the pixel ids, shop domains and sGTM cloud projects named in file heads; "
                      "partitions that shared an account, shop or order key audited again together",
        "partitions": len(partitions),
        "planned_partitions": planned,
        "joined_after_audit": regrouped,
    }
    return merge_results(results, ruleset, list(registry.sources), grouping)
