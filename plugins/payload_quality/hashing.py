"""pii-unhashed: customer parameters sent in clear, as placeholders, or badly hashed.

Reads the per-key states of ``ud_<key>`` (computed at ingest, the raw value
never reaches the frame) and the ``extra.ud_detail`` facts a source may add
(``unnormalized_hash``: the SHA-256 of ``Male``/``US``/``NY`` instead of
``m``/``us``/``ny``; ``no_country_code`` for a clear phone).  One finding per
account and key; the "masked examples" are the state names with their counts.
A SHA-256 with a Parameter Builder appendix (``sha256_suffixed``) is correct.

Cross-source: where a backend order (e.g. Shopify) with the same ``order_id``
knows the clear e-mail/phone, the sent hash is compared with it through the
run-keyed digests ``udh_*`` (:mod:`auditor.userdata`; neither the value nor its
SHA-256 is in the frame): an e-mail hash that matches the address as typed
(case/whitespace) but not the normalised one is ``unnormalized_email_hash``; a
phone hash that matches the number without its country code is
``no_country_code_hash``.
"""

from __future__ import annotations

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from
from auditor.findings import downgrade
from auditor.schema import HASHED_KEYS, NEVER_HASHED_KEYS, USER_DATA_KEYS

from .common import counts, groups, ongoing, plural, server_events, span_text, ud_detail

RULE = "pii-unhashed"

#: Bad states per kind of key (everything else is fine or merely absent/empty).
BAD_HASHED = ("clear", "placeholder", "placeholder_hash", "empty_hash", "uppercase_hex", "md5")
BAD_NEVER_HASHED = ("hashed_forbidden", "placeholder")
BAD_OTHER = ("placeholder",)  # external_id may be raw or hashed: only placeholders are wrong

#: States found by comparing with the backend order's clear value (via keyed digests).
CROSS_EM = "unnormalized_email_hash"
CROSS_PH = "no_country_code_hash"
CROSS_STATES = (CROSS_EM, CROSS_PH)
_ORDER_DIGESTS = ("udh_em", "udh_em_raw", "udh_ph", "udh_ph_nocc")

#: Keys a source can mark ``unnormalized_hash`` in ``extra.ud_detail``.
DETAIL_KEYS = ("ge", "country", "st")

KEY_LABEL = {
    "em": "e-mail", "ph": "phone", "fn": "first name", "ln": "last name", "db": "date of birth",
    "ge": "gender", "ct": "city", "st": "state", "zp": "zip code", "country": "country",
    "external_id": "external_id", "client_ip_address": "client IP", "client_user_agent": "user agent",
    "fbc": "fbc click id", "fbp": "fbp browser id",
}
STATE_TEXT = {
    "clear": "clear text",
    "placeholder": "a placeholder (undefined, null, {{...}}) in clear",
    "placeholder_hash": "the SHA-256 of a placeholder (undefined, null, {{email}} ...)",
    "empty_hash": "the SHA-256 of an empty string",
    "uppercase_hex": "SHA-256 in upper-case hex",
    "md5": "a 32-hex (MD5-length) value instead of SHA-256",
    "hashed_forbidden": "a hash, where Meta forbids hashing",
    "unnormalized_hash": "the SHA-256 of an un-normalised spelling (hashed without normalising)",
    CROSS_EM: "hashed without normalizing (the hash matches the e-mail as typed, case/whitespace, "
              "but not the normalized one)",
    CROSS_PH: "the SHA-256 of the number without its country code (phone hashed without country code)",
}


def _bad_states(key: str) -> tuple[str, ...]:
    if key in HASHED_KEYS:
        return BAD_HASHED
    if key in NEVER_HASHED_KEYS:
        return BAD_NEVER_HASHED
    return BAD_OTHER


def _cross_source(ctx: CheckContext, ev: pl.DataFrame) -> pl.DataFrame:
    """``ev`` with ``_em_unnorm`` / ``_ph_nocc`` (bool) and ``_o_known`` (the
    order with this ``order_id`` has digests): the sent hash compared with the
    backend order's e-mail/phone of the same ``order_id``."""
    false = [pl.lit(False).alias(c) for c in ("_em_unnorm", "_ph_nocc", "_o_known")]
    if not all(c in ctx.columns for c in (*_ORDER_DIGESTS, "order_id")):
        return ev.with_columns(false)
    orders = (
        ctx.select("order_id", *_ORDER_DIGESTS, kinds=["order"], where=pl.col("order_id").is_not_null()
                   & pl.any_horizontal([pl.col(c).is_not_null() for c in _ORDER_DIGESTS]))
        .group_by("order_id")
        .agg([pl.col(c).drop_nulls().first().alias(f"_o_{c}") for c in _ORDER_DIGESTS])
    )
    if orders.is_empty():
        return ev.with_columns(false)
    joined = ev.join(orders, on="order_id", how="left", maintain_order="left")
    sent_em, sent_ph = pl.col("udh_em"), pl.col("udh_ph")
    em_unnorm = (
        sent_em.is_not_null()
        & pl.col("_o_udh_em_raw").str.contains(sent_em, literal=True)
        & (sent_em != pl.col("_o_udh_em")).fill_null(True)
    ).fill_null(False)
    ph_nocc = (
        sent_ph.is_not_null()
        & pl.col("_o_udh_ph_nocc").str.contains(sent_ph, literal=True)
        & (sent_ph != pl.col("_o_udh_ph")).fill_null(True)
    ).fill_null(False)
    known = pl.any_horizontal([pl.col(f"_o_{c}").is_not_null() for c in _ORDER_DIGESTS])
    return joined.with_columns(
        em_unnorm.alias("_em_unnorm"), ph_nocc.alias("_ph_nocc"), known.alias("_o_known"),
    ).drop([f"_o_{c}" for c in _ORDER_DIGESTS])


def bad_values(ctx: CheckContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(long, totals)``: one row per (event, key) with a bad ``state``; and
    per account how many server events carry each key at all."""
    keys = [k for k in USER_DATA_KEYS if f"ud_{k}" in ctx.columns]
    cols = [f"ud_{k}" for k in keys]
    digests = [c for c in ("order_id", "udh_em", "udh_ph") if c in ctx.columns]
    ev = server_events(ctx, "extra", *cols, *digests)
    totals = ev.group_by("account").agg([pl.col(c).is_not_null().sum().alias(k) for k, c in zip(keys, cols)])
    ev = _cross_source(ctx, ev) if len(digests) == 3 else ev.with_columns(
        pl.lit(False).alias("_em_unnorm"), pl.lit(False).alias("_ph_nocc"), pl.lit(False).alias("_o_known"))
    if "order_id" not in ev.columns:
        ev = ev.with_columns(pl.lit(None, dtype=pl.String).alias("order_id"))
    detail = pl.col("extra").fill_null("").str.contains("unnormalized_hash", literal=True)
    any_bad = pl.any_horizontal(
        [pl.col(f"ud_{k}").is_in(_bad_states(k)).fill_null(False) for k in keys]
        + [detail, pl.col("_em_unnorm"), pl.col("_ph_nocc")]
    )
    bad = ev.filter(any_bad)
    if bad.is_empty():
        return bad.select("account"), totals
    cross = {"em": ("_em_unnorm", CROSS_EM), "ph": ("_ph_nocc", CROSS_PH)}
    bad = bad.with_columns(pl.col(c).cast(pl.String) for c in cols).with_columns(
        # the sent hash is a well-formed SHA-256, but of the wrong spelling of the order's value
        *[pl.when(pl.col(flag)).then(pl.lit(state)).otherwise(pl.col(f"ud_{k}")).alias(f"ud_{k}")
          for k, (flag, state) in cross.items() if f"ud_{k}" in bad.columns],
    ).with_columns(
        # a hash of an un-normalised spelling: the state says sha256, the detail says why it can never match
        *[pl.when(ud_detail(k) == "unnormalized_hash").then(pl.lit("unnormalized_hash")).otherwise(pl.col(f"ud_{k}")).alias(f"ud_{k}")
          for k in DETAIL_KEYS if f"ud_{k}" in bad.columns],
        ud_detail("ph").alias("_ph_detail"),
    )
    long = bad.unpivot(on=cols, index=["account", "logged_at", "file", "line", "message", "_ph_detail", "order_id"],
                       variable_name="key", value_name="state")
    long = long.with_columns(pl.col("key").str.strip_prefix("ud_"))
    wanted = pl.any_horizontal([
        (pl.col("key") == k) & pl.col("state").is_in((*_bad_states(k), "unnormalized_hash", *CROSS_STATES)) for k in keys
    ])
    return long.filter(wanted), totals


def pii_findings(ctx: CheckContext) -> list[Finding]:
    th = ctx.thresholds(RULE)
    min_count = int(th.get("min_count", 1))
    weak = set(th.get("weak_states") or ())
    long, totals = bad_values(ctx)
    if long.is_empty():
        return []
    last_by_account = dict(
        ctx.select("account", "logged_at", kinds=["server_event"]).group_by("account").agg(pl.col("logged_at").max()).iter_rows()
    )
    findings = []
    for (account, key), rows in groups(long, ["account", "key"]):
        n = rows.height
        if n < min_count:
            continue
        states = counts(rows["state"])
        carried = totals.filter(pl.col("account") == account)[key]
        total = int(carried[0]) if len(carried) else n
        severity = ctx.ruleset.rule(RULE).severity
        if set(states) <= weak:
            severity = downgrade(severity)
        first, last = rows["logged_at"].min(), rows["logged_at"].max()
        metrics = {
            "key": key,
            "states": states,
            "events_with_key": total,
            "bad_events": n,
            "share": round(n / total, 4) if total else None,
        }
        extra_txt = ""
        cross_rows = rows.filter(pl.col("state").is_in(CROSS_STATES))
        if cross_rows.height:
            ids = cross_rows["order_id"].drop_nulls().unique().sort().to_list()
            metrics["compared_with_backend_orders"] = len(ids)
            metrics["example_order_ids"] = ids[:5]
            extra_txt += (
                f"; found by comparing with the {KEY_LABEL.get(key, key)} of {plural(len(ids), 'backend order')} "
                f"with the same order_id (e.g. {', '.join(ids[:3])})"
            )
        if key == "ph":
            no_cc = int((rows["_ph_detail"] == "no_country_code").sum())
            if no_cc:
                metrics["clear_without_country_code"] = no_cc
                extra_txt += f"; {plural(no_cc, 'clear number')} also lack{'s' if no_cc == 1 else ''} the country code"
        parts = ", ".join(f"{STATE_TEXT.get(s, s)} x{c}" for s, c in states.items())
        summary = (
            f"The {KEY_LABEL.get(key, key)} parameter (user_data.{key}) was sent as {parts} in {n} of "
            f"{plural(total, 'server event')} carrying it ({n / total:.0%}) "
            f"{span_text(first, last)}{extra_txt}."
        )
        findings.append(ctx.finding(
            RULE, severity=severity, account=account, subject=key, count=n, first_seen=first, last_seen=last,
            ongoing=ongoing(rows, last_by_account.get(account)), summary=summary,
            evidence=evidence_from(rows), metrics=metrics,
        ))
    return findings


CHECK = Check(
    name="pii-unhashed",
    rules=(RULE,),
    run=pii_findings,
    needs=("server_event",),
    description="Customer parameters in clear, placeholders, empty/placeholder hashes, upper-case hex, MD5, "
                "hashes where hashing is forbidden, hashes of un-normalised values (also against the backend order's "
                "e-mail/phone: not normalised, phone without country code); per account and key.",
)
