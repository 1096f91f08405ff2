"""Every source's parse and finalize on random and mutated real input: no exception,
bounded output, canonical rows, and no secret or e-mail in clear in any string column.

Real lines come from ``sample_logs/`` (each source gets the files it is picked for);
hypothesis cuts, splices, duplicates and flips them and mixes in random text and
bytes.  Examples are bounded so the suite stays fast in CI.
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.ingest.inputs import expand
from auditor.ingest.reader import Piece, lines_frame, read_pieces
from auditor.ingest.sniff import pick_source
from auditor.plugin_manager import load_plugins
from auditor.registry import ParseContext, Registry
from auditor.schema import conform

from conftest import SAMPLES

REGISTRY = Registry.collect(load_plugins().pm)
# a token starts a word (as the redaction rule says): "EAA" inside a click id
# (fbclid ``...CMTEAARBO7g3...``) is not one
TOKEN = re.compile(r"\bEAA[A-Za-z0-9]{20,}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[a-z]{2,}")


def _real_lines() -> dict[str, list[str]]:
    """Lines of the sample files, by the source that reads them."""
    out: dict[str, list[str]] = {}
    units, _ = expand([str(SAMPLES)])
    for unit in units:
        source, _ = pick_source(unit, REGISTRY.sources, [])
        if source is None:
            continue
        for piece in read_pieces(unit, source.framing, source.entry_start):
            out.setdefault(source.name, []).extend(piece.text.split("\n")[:400])
    return out


LINES = _real_lines()
SOURCES = sorted(LINES)


def test_every_built_in_source_has_real_lines_to_fuzz():
    assert {"woocommerce", "graph_api", "gtm_server", "shopify", "capi_payload", "magento"} <= set(SOURCES)


def _mutate(lines: list[str], data) -> list[str]:
    """A few real lines, then cut / spliced / duplicated / flipped / random ones."""
    start = data.draw(st.integers(0, max(0, len(lines) - 1)))
    picked = lines[start:start + data.draw(st.integers(1, 40))]
    out = []
    for line in picked:
        op = data.draw(st.sampled_from(["keep", "keep", "cut", "splice", "twice", "flip", "random", "drop"]))
        if op == "keep":
            out.append(line)
        elif op == "cut" and line:
            out.append(line[: data.draw(st.integers(0, len(line)))])
        elif op == "splice":
            other = data.draw(st.sampled_from(lines))
            out.append(line[: len(line) // 2] + other[len(other) // 2:])
        elif op == "twice":
            out += [line, line]
        elif op == "flip" and line:
            at = data.draw(st.integers(0, len(line) - 1))
            out.append(line[:at] + data.draw(st.characters(codec="utf-8")) + line[at + 1:])  # decoded text has no lone surrogates
        elif op == "random":
            out.append(data.draw(st.text(st.characters(codec="utf-8"), max_size=200)))
    if data.draw(st.booleans()):
        out.insert(data.draw(st.integers(0, len(out))), data.draw(st.binary(max_size=64)).decode("latin-1"))
    return out


def _batch(source, lines: list[str]) -> pl.DataFrame:
    text = "\n".join(lines) + "\n"
    if source.framing == "document":
        piece = Piece("fuzz/input.log", 1, text, False, document=True)
    else:
        piece = Piece("fuzz/input.log", 1, text, True)
    batch, _ = lines_frame([piece])
    return batch


@pytest.mark.parametrize("name", SOURCES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_parse_and_finalize_survive_mutated_real_input(name, data):
    source = REGISTRY.sources[name]
    lines = _mutate(LINES[name], data)
    batch = _batch(source, lines)
    if batch.is_empty():
        return
    ctx = ParseContext(source=name)
    out = source.parse(batch, ctx)
    rows, rejects = out if isinstance(out, tuple) else (out, None)
    rows = conform(rows, keep_private=True)
    # bounded: a request body may hold up to 1,000 events, nothing more per line
    n_lines = int(batch.select(pl.col("text").str.count_matches("\n").sum()).item()) + batch.height
    assert rows.height <= 1000 * n_lines
    if rejects is not None:
        assert rejects.height <= n_lines
    if source.finalize is not None:
        rows = source.finalize(rows, ctx)
    final = conform(rows)
    for col, dtype in final.schema.items():
        if dtype == pl.String:
            values = final.get_column(col).drop_nulls()
            assert not values.str.contains(TOKEN.pattern).any(), col
            if col not in ("file",):
                assert not values.str.contains(EMAIL.pattern).any(), (col, values.filter(values.str.contains(EMAIL.pattern)).head(2).to_list())
    for note in ctx.notes:
        assert not TOKEN.search(note) and not EMAIL.search(note)
