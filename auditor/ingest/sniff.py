"""Pick the source plugin for an input unit from its name and first bytes."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from ..problems import PluginProblem, ProblemLog, describe
from ..registry import Source
from .inputs import InputUnit


@functools.lru_cache(maxsize=8)
def head_text(head: bytes) -> str:
    """The first bytes of a file as text for a sniffer: UTF-8 (BOM dropped) or
    UTF-16 by its BOM, undecodable bytes replaced, CRLF as LF.

    Every sniffer of a file asks for the same head: it is decoded once (bytes
    keep their hash, so the cache costs one hash per file)."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", errors="replace").replace("\r\n", "\n")
    return head.decode("utf-8", errors="replace").replace("\r\n", "\n")


#: ``[`` then an object, or an empty array that is the whole text.
_ARRAY_START = re.compile(r"\[\s*(?:\{|\]\s*\Z)")


def looks_like_json_array(text: str) -> bool:
    """Does a file head start a JSON array (``[{...`` or a lone ``[]``)?

    A ``[`` and a ``]`` alone do not make one: Monolog lines end in ``[] []``
    (empty context and extra) and start with ``[2024-05-01 10:00:00]``, and a
    file cut mid-entry may begin with that ``[] []``.  Sniffers that would read
    such a file as one JSON document ask this instead of ``startswith("[")``."""
    return _ARRAY_START.match(text.lstrip()) is not None


def pick_source(
    unit: InputUnit, sources: dict[str, Source], problems: list[PluginProblem], memo: "SniffMemo | None" = None
) -> tuple[Source | None, bytes]:
    """Return the best-scoring source (ties broken by name) and the head bytes.

    A sniffer that raises is reported as a plugin problem and scored 0.  With a
    :class:`SniffMemo`, a file like one already sniffed is checked by that
    file's source alone (see there).
    """
    head = unit.head()
    base_name = unit.name.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    key = memo.key(unit.name) if memo is not None else None
    scores: dict[str, float] = {}  # each sniffer runs at most once on a file
    if key is not None:
        for name, expected in memo.known.get(key, ()):
            if name not in scores:
                scores[name] = _score(sources[name], name, base_name, head, problems)
            if scores[name] == expected:
                return sources[name], head
    for name in sorted(sources):
        if name not in scores:
            scores[name] = _score(sources[name], name, base_name, head, problems)
    scores = {name: scores[name] for name in sorted(sources)}
    best: tuple[float, str] | None = None
    for name, score in scores.items():
        if score > 0 and (best is None or score > best[0]):
            best = (score, name)
    if key is not None and best is not None:
        memo.learn(key, best, scores)
    return (sources[best[1]] if best else None), head


def _score(source: Source, name: str, base_name: str, head: bytes, problems: list[PluginProblem]) -> float:
    try:
        return float(source.sniff(base_name, head) or 0.0)
    except Exception as exc:  # noqa: BLE001 - plugin code
        if isinstance(problems, ProblemLog):
            problems.record(source.plugin, f"sniff {name}", exc)  # raises under --strict
        else:
            problem = PluginProblem(source.plugin, f"sniff {name}", describe(exc))
            if problem not in problems:
                problems.append(problem)
        return 0.0


#: What varies between like file names: runs of hex characters holding a digit
#: or four long (dates, counters, UUID parts, hashes).
_VARYING = re.compile(r"[0-9a-fA-F]*[0-9][0-9a-fA-F]*|[0-9a-fA-F]{4,}")


@dataclass
class SniffMemo:
    """What the sniffers said about like files of one folder.

    Archives hold thousands of files of one kind side by side (a webhook a
    file, an hourly log shard): running every sniffer on each costs more than
    parsing it.  Files are alike when they share their folder and the shape
    of their name (tokens with digits, dates, ids, hashes, replaced).  After a
    file of a shape was sniffed by every source and one won clearly (score
    ``sure`` or more, ``margin`` above the next), the next file of that shape
    is sniffed by the winner alone and taken when it scores exactly the same;
    any other score sends it through every sniffer again (a shape may have a
    few such forms).  Units come in sorted order, so the result does not
    depend on the file system.
    """

    sure: float = 0.85
    margin: float = 0.2
    #: like files may come in a few forms (a webhook envelope, a bare payload, a capture)
    forms: int = 4
    known: dict[tuple[str, str], list[tuple[str, float]]] = field(default_factory=dict)

    @staticmethod
    def key(unit_name: str) -> tuple[str, str]:
        folder, _, name = unit_name.replace("!", "/").rpartition("/")
        return folder, _VARYING.sub("#", name)

    def learn(self, key: tuple[str, str], best: tuple[float, str], scores: dict[str, float]) -> None:
        score, name = best
        runner_up = max((s for n, s in scores.items() if n != name), default=0.0)
        if score >= self.sure and score - runner_up >= self.margin:
            forms = self.known.setdefault(key, [])
            if (name, score) not in forms and len(forms) < self.forms:
                forms.append((name, score))
