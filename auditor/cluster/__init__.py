"""Cluster mode: one audit fanned out over a Dask cluster, one report.

``capi-audit audit PATH... --cluster tcp://host:8786`` (or ``local[:N]``)
groups the inputs so that each account's evidence stays in one partition
(:mod:`.partition`), audits each partition on a worker with the
single-machine pipeline (:mod:`.task`), and merges the small results into the
report a single machine would have written (:mod:`.merge`, :mod:`.run`).
Dask is the optional extra ``capi-auditor[cluster]``; only :mod:`.run`
imports it.
"""

from .run import ClusterUsageError, audit_on_cluster, check_address, setup_for

__all__ = ["ClusterUsageError", "audit_on_cluster", "check_address", "setup_for"]
