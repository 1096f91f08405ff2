"""Shared helpers of the plugin API: one redaction (column-wise and single strings agree) and safe JSON decoding."""

from __future__ import annotations

import polars as pl
import pytest

from auditor.redact import redact_expr, redact_text

CASES = [
    ("uri: https://graph.facebook.com/v20.0/1033167457209826/events?access_token=EAAGm0PX4ZCpsBAKZBkbX&appsecret_proof=9f8e7d",
     ["EAAGm0PX4ZCpsBAKZBkbX", "9f8e7d"], ["1033167457209826"]),
    ("Params:  {'data': '[]', 'access_token': 'EAAGm0PX4ZCpsBAKZBkbXaaaaaaaaaaaaaaaaaaaaaaaa'}", ["EAAGm0PX"], []),
    ('{"em":"maria.silva@example.com","ph":"+351 912 345 678","fn":"Maria"}', ["maria.silva", "912 345", "Maria"], []),
    ("contact maria.silva@example.com or (650) 555-1212 or +49 30 1234567", ["maria.silva", "555-1212", "1234567"], []),
    ('"client_ip_address":"203.0.113.101" from 198.51.100.7 and 2001:db8:85a3::8a2e:370:7334', ["203.0.113.101", "198.51.100.7", "2001:db8"], []),
    ("Authorization: Bearer EAAGabcdefghijklmnopqrstuvwxyz0123", ["EAAGabcdef"], []),
    ("2026-06-10T08:15:02+00:00 NOTICE plugin 3.4.1 fbp fb.1.1619035427411.110010828 event_time 1741943563",
     [], ["2026-06-10T08:15:02+00:00", "3.4.1", "fb.1.1619035427411.110010828", "1741943563"]),
]


@pytest.mark.parametrize("text, gone, kept", CASES)
def test_redaction_masks_pii_and_secrets_only(text, gone, kept):
    out = redact_text(text)
    for g in gone:
        assert g not in out
    for k in kept:
        assert k in out
    assert pl.select(redact_expr(pl.lit(text))).item() == out


def test_redact_columns_maps_distinct_values_back_in_place():
    from auditor.redact import redact_columns

    texts = [c[0] for c in CASES] * 3 + [None]
    df = pl.DataFrame({"message": texts, "n": range(len(texts))})
    out = redact_columns(df, "message")
    assert out["n"].to_list() == df["n"].to_list()
    assert out["message"].to_list() == [None if t is None else redact_text(t) for t in texts]


def test_safe_json_decode_nulls_only_the_bad_rows():
    from auditor.jsonsafe import safe_json_decode

    dtype = pl.Struct({"a": pl.Int64})
    s = pl.Series("b", ['{"a": 1}', "not json", '{"a": 2},{"a": 3}', None, '{"a": 4}'])
    assert safe_json_decode(s, dtype).struct.field("a").to_list() == [1, None, None, None, 4]
