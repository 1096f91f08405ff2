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


def test_safe_json_decode_in_slices_keeps_order_and_isolates_bad_rows(monkeypatch):
    """A column is decoded a slice of text at a time (bounded memory): every
    slice decodes, rows keep their order, and the bad rows of any slice come
    back null -- whatever the budget, which only pays for finding them."""
    import auditor.jsonsafe as jsonsafe

    monkeypatch.setattr(jsonsafe, "DECODE_BYTES", 64)  # ~3 rows a slice
    texts = [f'{{"a": {i}, "b": "x{i}"}}' for i in range(200)]
    bad = {7, 8, 93, 199}
    for i in bad:
        texts[i] = texts[i][:-3] if i % 2 else "not json"
    texts[50] = None
    s = pl.Series("t", texts)
    assert len(jsonsafe.text_slices(s)) > 30
    out = jsonsafe.safe_json_decode(s, pl.Struct({"a": pl.Int64, "b": pl.String}), budget=40)
    expected = [None if i in bad or i == 50 else i for i in range(200)]
    assert out.struct.field("a").to_list() == expected
    assert out.struct.field("b").to_list()[:3] == ["x0", "x1", "x2"]
