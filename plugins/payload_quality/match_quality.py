"""emq-low: an *estimated* match quality per account and event name, and Meta's
minimum-signal rule.

The estimate is the core's formula (:func:`auditor.accounts.estimated_match_quality`):
each customer parameter's ruleset weight times the share of events carrying it
in a usable form, summed and capped at 10.  It is NOT Meta's Event Match
Quality and every text says so.  Meta shows EMQ for website events only, so
the estimate is judged on those; contact events (Purchase, Lead ...) against
``min_score``, anonymous browse events against ``anonymous_min_score``.

The minimum-signal rule (Graph v13+, ``capi-rules.md`` §2.4) applies to every
server event: customer parameters that are only one of the ruleset's
``invalid_combinations``, or a subset of one (none at all included), make
Meta reject the event.
"""

from __future__ import annotations

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from
from auditor.match_quality import estimate_expr, usable
from auditor.schema import NEVER_HASHED_KEYS, USER_DATA_KEYS

from .common import ESTIMATE_LABEL, groups, plural, server_events, span_text

RULE = "emq-low"


def _estimate_exprs(weights: dict[str, float], keys: list[str]) -> list[pl.Expr]:
    """Coverage of each key, then the estimate (the same one the report's accounts show)."""
    return [*(usable(k).mean().alias(f"cov_{k}") for k in keys), estimate_expr(weights, keys)]


def _invalid_expr(combos: list[list[str]], keys: list[str]) -> pl.Expr:
    """True when the usable customer parameters of an event fit inside one combination."""
    if not combos:
        return pl.lit(False)
    per_combo = []
    for combo in combos:
        outside = [k for k in keys if k not in combo]
        per_combo.append(~pl.any_horizontal([usable(k) for k in outside]) if outside else pl.lit(True))
    return pl.any_horizontal(per_combo)


def _carried_expr(keys: list[str]) -> pl.Expr:
    """'fn+ge' style list of the usable keys of an event ('(none)' when empty)."""
    names = pl.concat_str([pl.when(usable(k)).then(pl.lit(k)) for k in keys], separator="+", ignore_nulls=True)
    return pl.when(names == "").then(pl.lit("(none)")).otherwise(names)


def emq_findings(ctx: CheckContext) -> list[Finding]:
    th = ctx.thresholds(RULE)
    weights = {k: float(v) for k, v in (th.get("weights") or {}).items()}
    min_score = float(th.get("min_score", 6.0))
    anon_min = float(th.get("anonymous_min_score", 0.0))
    contact = set(th.get("contact_events") or ())
    min_events = int(th.get("min_events", 1))
    min_invalid = int(th.get("min_invalid_events", 1))
    combos = [list(c) for c in (th.get("invalid_combinations") or [])]
    keys = [k for k in USER_DATA_KEYS if f"ud_{k}" in ctx.columns]

    ev = server_events(ctx, "event_name", "action_source", *[f"ud_{k}" for k in keys], families=("user_data",))
    if ev.is_empty():
        return []
    ev = ev.with_columns(
        pl.col("event_name").fill_null("(no event_name)"),
        (pl.col("action_source").is_null() | (pl.col("action_source") == "website")).alias("_web"),
        _invalid_expr(combos, keys).alias("_invalid"),
    )
    web = ev.filter(pl.col("_web"))
    stats = web.group_by("account", "event_name").agg(pl.len().alias("n"), *_estimate_exprs(weights, keys))
    invalid = ev.filter(pl.col("_invalid"))
    invalid_counts = invalid.group_by("account", "event_name").agg(pl.len().alias("n_invalid"))
    # only groups that may fire are looked at row by row
    stats = stats.with_columns(
        pl.when(pl.col("event_name").is_in(list(contact))).then(pl.lit(min_score)).otherwise(pl.lit(anon_min)).alias("target")
    )
    low = stats.filter((pl.col("n") >= min_events) & (pl.col("estimate") < pl.col("target")))
    candidates = pl.concat([
        low.select("account", "event_name"),
        invalid_counts.filter(pl.col("n_invalid") >= min_invalid).select("account", "event_name"),
    ]).unique()
    if candidates.is_empty():
        return []
    stats_by = {(r["account"], r["event_name"]): r for r in stats.iter_rows(named=True)}
    findings = []
    for (account, name), _ in groups(candidates, ["account", "event_name"]):
        group = ev.filter((pl.col("account") == account) & (pl.col("event_name") == name))
        st = stats_by.get((account, name))
        bad_inv = group.filter(pl.col("_invalid"))
        n_inv = bad_inv.height if bad_inv.height >= min_invalid else 0
        parts, metrics = [], {"event_name": name, "estimate_is_meta_emq": False}
        low_score = st is not None and st["n"] >= min_events and st["estimate"] < st["target"]
        if st is not None:
            coverage = {k: round(float(st[f"cov_{k}"] or 0.0), 3) for k in keys}
            metrics.update(
                estimated_match_quality=st["estimate"], target=st["target"], website_events=int(st["n"]),
                contact_event=name in contact, coverage=coverage,
            )
        if low_score:
            # browse events are judged on what a browser can give: IP, user agent, fbp, fbc
            pool = [k for k in weights if k in coverage and coverage[k] < 1 and (name in contact or k in NEVER_HASHED_KEYS)]
            missing = sorted(pool, key=lambda k: (-(1 - coverage[k]) * weights[k], k))[:3]
            kind = "a contact event" if name in contact else "a browse event judged on browser identifiers only"
            parts.append(
                f"{name}, {kind}, has an {ESTIMATE_LABEL} of {st['estimate']:.1f}/10 over "
                f"{plural(int(st['n']), 'website event')}, below the target {st['target']:.1f}; biggest gaps "
                "(share of events carrying a usable value): " + ", ".join(f"{k} {coverage[k]:.0%}" for k in missing)
            )
        if n_inv:
            combos_seen = bad_inv.select(_carried_expr(keys).alias("c"))["c"]
            seen = combos_seen.value_counts(name="n").sort(["n", "c"], descending=[True, False])
            metrics["invalid_combination_events"] = n_inv
            metrics["invalid_combinations_seen"] = {c: int(k) for c, k in seen.iter_rows()}
            parts.append(
                f"{plural(n_inv, f'{name} event')} carr{'ies' if n_inv == 1 else 'y'} only customer parameters Meta "
                f"rejects as too weak since Graph v13 ({', '.join(f'{c} x{k}' for c, k in seen.head(3).iter_rows())})"
            )
        if not parts:
            continue
        if st is not None and not low_score:
            parts.append(f"the {ESTIMATE_LABEL} of all {name} website events is {st['estimate']:.1f}/10")
        judged = group.filter(pl.col("_web")) if low_score else bad_inv
        tail = group.filter(pl.col("_web")).tail(min_events)
        still_low = False
        if low_score and tail.height:
            tail_score = tail.select(_estimate_exprs(weights, keys)[-1])["estimate"][0]
            still_low = tail_score < st["target"]
        still_invalid = bool(n_inv) and bool(group.tail(1)["_invalid"][0])
        evidence_rows = bad_inv if n_inv else judged
        findings.append(ctx.finding(
            RULE, account=account, subject=name, count=max(judged.height, n_inv),
            first_seen=judged["logged_at"].min(), last_seen=judged["logged_at"].max(),
            ongoing=still_low or still_invalid,
            summary="; ".join(parts) + f"; seen {span_text(judged['logged_at'].min(), judged['logged_at'].max())}.",
            evidence=evidence_from(evidence_rows), metrics=metrics,
        ))
    return findings


CHECK = Check(
    name="emq-low",
    rules=(RULE,),
    run=emq_findings,
    needs=("server_event",),
    description="Estimated match quality (an estimate, not Meta's EMQ) per account and event name, "
                "and events carrying only Meta's invalid minimum-signal combinations.",
)
