"""Pick the source plugin for an input unit from its name and first bytes."""

from __future__ import annotations

from ..redact import redact_text
from ..registry import PluginProblem, Source
from .inputs import InputUnit


def head_text(head: bytes) -> str:
    """The first bytes of a file as text for a sniffer: UTF-8 (BOM dropped) or
    UTF-16 by its BOM, undecodable bytes replaced, CRLF as LF."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", errors="replace").replace("\r\n", "\n")
    return head.decode("utf-8", errors="replace").replace("\r\n", "\n")


def pick_source(
    unit: InputUnit, sources: dict[str, Source], problems: list[PluginProblem]
) -> tuple[Source | None, bytes]:
    """Return the best-scoring source (ties broken by name) and the head bytes.

    A sniffer that raises is reported as a plugin problem and scored 0.
    """
    head = unit.head()
    best: tuple[float, str] | None = None
    base_name = unit.name.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
    for name in sorted(sources):
        source = sources[name]
        try:
            score = float(source.sniff(base_name, head) or 0.0)
        except Exception as exc:  # noqa: BLE001 - plugin code
            problems.append(PluginProblem(source.plugin, f"sniff {name}", redact_text(f"{type(exc).__name__}: {exc}")))
            continue
        if score > 0 and (best is None or score > best[0]):
            best = (score, name)
    return (sources[best[1]] if best else None), head
