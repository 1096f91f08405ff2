"""The canonical frame checks get: compact columns, rows grouped by kind in time order.

Built from the real sample logs (WooCommerce, Graph API, sGTM, Shopify), so
every built-in source and finalize step is part of it.
"""

from __future__ import annotations

import polars as pl
import pytest

from auditor import plain
from auditor.pipeline import parse_units
from auditor.ingest.inputs import expand
from auditor.plugin_manager import load_plugins
from auditor.registry import Registry
from auditor.schema import CATEGORICAL_COLUMNS, USER_DATA_KEYS, USER_DATA_STATE, by_value, compact

from conftest import SAMPLES


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    registry = Registry.collect(load_plugins().pm)
    units, _ = expand([str(SAMPLES)])
    rows, summary, _, problems = parse_units(units, registry)
    out = rows.frame()
    assert not problems and summary.records == out.height
    return out


def test_low_cardinality_columns_are_categorical_and_states_an_enum(frame):
    for col in CATEGORICAL_COLUMNS:
        assert frame.schema[col] == pl.Categorical, col
    for key in USER_DATA_KEYS:
        assert frame.schema[f"ud_{key}"] == USER_DATA_STATE
    # ids and digests stay plain strings (unique per row: a dictionary would not pay)
    for col in ("event_id", "order_id", "fbtrace_id", "batch_id", "udh_em"):
        assert frame.schema[col] == pl.String


def test_rows_are_grouped_by_kind_and_in_time_order_within_each(frame):
    kinds = frame.get_column("kind").cast(pl.String)
    runs = kinds.rle()  # each kind is one contiguous run, the runs in name order
    assert runs.struct.field("value").to_list() == sorted(set(kinds.to_list()))
    for (kind,), part in frame.group_by("kind", maintain_order=True):
        keys = part.select("logged_at", pl.col("file").cast(pl.String), "line")
        assert keys.equals(keys.sort("logged_at", "file", "line", nulls_last=True, maintain_order=True)), kind


def test_compact_columns_hold_the_same_values_as_before(frame):
    # account falls back to the pixel, then the shop, exactly as the plain text would
    text = plain(frame.select("account", "pixel_id", "shop"))
    assert text.schema["account"] == pl.String
    expected = text.select(pl.coalesce("account", "pixel_id", "shop")).to_series()
    assert text.get_column("account").equals(expected, check_names=False)
    assert frame.filter(pl.col("kind") == "server_event").get_column("account").null_count() == 0


def test_unknown_user_data_state_becomes_malformed_instead_of_failing():
    df = pl.DataFrame({"ud_em": ["sha256", "not-a-state", None], "kind": ["server_event"] * 3})
    out = compact(df)
    assert out.schema["ud_em"] == USER_DATA_STATE
    assert out.get_column("ud_em").cast(pl.String).to_list() == ["sha256", "malformed", None]


def test_by_value_works_on_each_distinct_value_once():
    df = pl.DataFrame({"file": ["a/x.log", "b/y.log", "a/x.log", None]}).with_columns(pl.col("file").cast(pl.Categorical))
    folder = df.select(by_value(df, "file", lambda p: p.str.replace(r"/[^/]*$", "")).alias("folder"))
    assert folder.schema["folder"] == pl.Categorical
    assert folder.get_column("folder").cast(pl.String).to_list() == ["a", "b", "a", None]


def test_canonical_frame_leaves_the_callers_frames_whole(frame):
    """Watch mode caches each source's finalized frame and builds the canonical
    frame from it again on every evaluation: building must not empty it."""
    from auditor.pipeline import canonical_frame

    cached = frame.head(50)
    first = canonical_frame([cached])
    assert cached.shape == (50, frame.width)
    assert canonical_frame([cached]).equals(first)


def test_a_frame_without_columns_conforms_to_no_rows():
    from auditor.schema import conform

    assert conform(pl.DataFrame()).height == 0
    assert conform(pl.DataFrame(), compacted=True).height == 0
