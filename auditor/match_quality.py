"""The one estimate of match quality: the report's accounts and the emq-low check use it.

An *estimate* (0-10) from customer-parameter coverage, not Meta's Event Match
Quality: each key contributes its ruleset weight (``emq-low`` thresholds) times
the share of events that carry it in a usable form; the sum is capped at 10.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

#: How every text names the estimate, so no one reads it as Meta's EMQ.
ESTIMATE_LABEL = "estimated match quality (an estimate from parameter coverage, not Meta's EMQ)"

#: ``ud_*`` states that count as a usable customer parameter.
USABLE_STATES = ("sha256", "sha256_suffixed", "present")


def usable(key: str) -> pl.Expr:
    """True where ``ud_<key>`` holds a usable value (an absent key is not carried)."""
    # is_in() keeps nulls null in Polars 2.x
    return pl.col(f"ud_{key}").is_in(USABLE_STATES).fill_null(False)


def estimate_expr(weights: dict[str, float], keys: Iterable[str] | None = None) -> pl.Expr:
    """The estimate over the rows it is aggregated on (``select`` or ``group_by().agg``),
    from the weighted ``keys`` (default: every weighted key)."""
    keys = list(weights) if keys is None else [k for k in keys if k in weights]
    total = pl.sum_horizontal([usable(k).mean() * float(weights[k]) for k in keys] or [pl.lit(0.0)])
    return pl.min_horizontal(total, pl.lit(10.0)).round(1).alias("estimate")
