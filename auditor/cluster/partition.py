"""Group the inputs of a cluster run into partitions that can be audited apart.

Every check looks at one account (a pixel, else a shop) or one shop at a time,
and several sources fill a row's pixel or shop from the other files of its
folder.  So a partition must hold whole folders, and every folder that names
the same pixel or shop.  The pre-scan decides that cheaply, before anything is
parsed:

* every input file belongs to its folder (an archive is its own folder, as in
  :func:`auditor.attribution.folder_of`);
* the heads of the first few files of each folder are searched for pixel ids
  and Shopify shop domains; folders naming the same one are joined.

Joined folders form groups; small groups are packed together in name order
up to :func:`partition_size` (about four partitions per worker).  What the
heads miss, the workers see: :func:`regroup` joins the partitions whose audits found the same pixel, shop or account, or an order
key one's Purchase events and the other's backend orders share, and those are
audited again as one (:mod:`auditor.cluster.run`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from ..attribution import folder_of
from ..ingest.inputs import InputUnit

#: Partitions are packed up to this many input bytes (a bigger group stays whole) ...
PARTITION_BYTES = 128 * 1024 * 1024
#: ... or less, so that every worker gets about four (but not below this: a task costs ~0.1 s).
MIN_PARTITION_BYTES = 8 * 1024 * 1024


def partition_size(total_bytes: int, workers: int) -> int:
    """The packing size for ``total_bytes`` of input on ``workers`` worker threads."""
    return int(min(PARTITION_BYTES, max(MIN_PARTITION_BYTES, total_bytes / (4 * max(workers, 1)))))
#: Files of a folder whose heads are searched, and how much of each.
HEAD_FILES = 3
HEAD_SCAN_BYTES = 32 * 1024

_IDS = re.compile(
    # "pixel_id": "123..", Pixel ID: 123.. (also JSON-escaped), Graph URL /v19.0/123../events
    rb"(?i)(?:pixel[ _]?id[\\\"']*\s*[:=]\s*[\\\"']*|/v\d+\.\d+/)(\d{15,17})\b"
    rb"|\b([a-z0-9][a-z0-9-]*\.myshopify\.com)\b"  # a Shopify shop domain
    rb"|x-shopify-shop-domain[\\\"']*\s*[:=]\s*[\\\"']*([a-z0-9][a-z0-9.-]*[a-z0-9])"
    # the Google Cloud project of server-side GTM logs: rows without a pixel take their container's
    rb"|projects/([a-z][a-z0-9-]{4,28}[a-z0-9])/logs/"
)
_KINDS = ("pixel", "shop", "shop", "gcp")


@dataclass(frozen=True)
class FileRef:
    """One file on disk as the workers open it again: its path, the name the
    report uses, and (for a ``.zip``) the members to read."""

    path: str
    display: str
    members: tuple[str, ...] | None = None


@dataclass
class Partition:
    """Files audited together on one worker."""

    files: list[FileRef]
    units: int
    bytes: int
    first: str = field(default="")  # the first unit name: partitions are ordered by it


def head_ids(head: bytes) -> set[str]:
    """Pixel ids, shop domains and sGTM cloud projects named in the first bytes
    of a file, as ``kind:value``."""
    found = set()
    for m in _IDS.finditer(head):
        i = next(i for i, g in enumerate(m.groups()) if g)
        found.add(f"{_KINDS[i]}:{m.group(i + 1).decode('ascii', 'replace').lower()}")
    return found


def _folders(names: list[str]) -> list[str]:
    return pl.Series("file", names, dtype=pl.String).to_frame().select(folder_of(pl.col("file"))).to_series().to_list()


class _Union:
    """Union-find over hashable keys (the smallest key names a set)."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, key):
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def _file_refs(units: list[InputUnit]) -> list[FileRef]:
    """The disk files of ``units`` (one per path; a zip lists its members)."""
    by_path: dict[str, list[InputUnit]] = {}
    for unit in units:
        by_path.setdefault(unit.path or unit.name, []).append(unit)
    refs = []
    for path, group in by_path.items():
        if len(group) == 1 and "!" not in group[0].name:
            refs.append(FileRef(path, group[0].name))
        else:  # archive members are named "archive!member"
            display = group[0].name.rsplit("!", 1)[0]
            refs.append(FileRef(path, display, tuple(u.name for u in group)))
    return refs


def plan_partitions(units: list[InputUnit], partition_bytes: int = PARTITION_BYTES) -> list[Partition]:
    """Partitions of ``units`` (sorted by name, as :func:`auditor.ingest.inputs.expand` gives them)."""
    if not units:
        return []
    union = _Union()
    folders = _folders([u.name for u in units])
    scanned: dict[str, int] = {}
    for unit, folder in zip(units, folders):
        union.find(("folder", folder))
        if scanned.get(folder, 0) >= HEAD_FILES:
            continue
        scanned[folder] = scanned.get(folder, 0) + 1
        try:
            head = unit.head(HEAD_SCAN_BYTES)
        except Exception:  # noqa: BLE001 - unreadable here: the worker reports it as an input error
            continue
        for ident in head_ids(head):
            union.join(("folder", folder), ("id", ident))
    groups: dict = {}
    for unit, folder in zip(units, folders):
        groups.setdefault(union.find(("folder", folder)), []).append(unit)
    ordered = sorted(groups.values(), key=lambda g: g[0].name)
    return pack(ordered, partition_bytes)


def pack(groups: list[list[InputUnit]], partition_bytes: int) -> list[Partition]:
    """Consecutive groups packed into partitions of up to ``partition_bytes``."""
    partitions: list[Partition] = []
    current: list[InputUnit] = []
    for group in groups:
        size = sum(u.size for u in group)
        if current and sum(u.size for u in current) + size > partition_bytes:
            partitions.append(_partition(current))
            current = []
        current.extend(group)
    if current:
        partitions.append(_partition(current))
    return partitions


def _partition(units: list[InputUnit]) -> Partition:
    units = sorted(units, key=lambda u: u.name)
    return Partition(_file_refs(units), len(units), sum(u.size for u in units), units[0].name)


def regroup(identities: list[frozenset[str]], order_keys: list[frozenset[str]] | None = None,
            purchase_keys: list[frozenset[str]] | None = None) -> list[list[int]]:
    """Indexes of partitions that must be audited together, from what each
    partition's audit found: partitions naming the same pixel, shop or account
    (``identities``), and partitions where a Purchase event could match an order
    of another (the same key in ``purchase_keys`` of one and ``order_keys`` of
    the other; matching looks across shops).  Only sets of two or more, in order."""
    n = len(identities)
    union = _Union()
    for i, ids in enumerate(identities):
        union.find(("p", i))
        for ident in ids:
            union.join(("p", i), ("id", ident))
    having: dict[str, list[int]] = {}
    for i, keys in enumerate(order_keys or []):
        for key in keys:
            having.setdefault(key, []).append(i)
    for i, keys in enumerate(purchase_keys or []):
        for key in keys:
            for j in having.get(key, ()):
                union.join(("p", i), ("p", j))
    sets: dict = {}
    for i in range(n):
        sets.setdefault(union.find(("p", i)), []).append(i)
    return [sorted(s) for s in sorted(sets.values()) if len(s) > 1]


def joined(partitions: list[Partition]) -> Partition:
    """One partition of the files of ``partitions``."""
    files = sorted({f for p in partitions for f in p.files}, key=lambda f: f.display)
    return Partition(files, sum(p.units for p in partitions), sum(p.bytes for p in partitions),
                     min(p.first for p in partitions))
