"""missing-value-currency: Purchase (the ruleset's ``value_events``) without a
usable value or currency, or with a value that disagrees with the backend order.

Per event: value missing, not numeric (``"1.234,50 EUR"``), zero or negative;
currency missing or not an ISO 4217 code (case-insensitive: Meta's examples and
SDKs use both cases).  When backend ``order`` rows of the same order id are
in the input (matched by id, see :func:`.common.backend_orders`), a value further than ``value_tolerance`` from the order total (same
currency) is reported too.  One finding per account.
"""

from __future__ import annotations

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from

from .common import backend_orders, ongoing, plural, server_events, span_text

RULE = "missing-value-currency"

#: Active ISO 4217 currency codes (plus a few recently withdrawn ones still seen
#: in logs); test/no-currency/precious-metal/fund codes are left out.
ISO_4217 = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF
CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD
USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
""".split())

PROBLEM_TEXT = {
    "value_missing": "no value",
    "value_not_numeric": "a value that is not a number",
    "value_not_positive": "a zero or negative value",
    "currency_missing": "no currency",
    "currency_invalid": "a currency that is not an ISO 4217 code",
    "value_differs_from_order": "a value that differs from the backend order total",
}


def value_findings(ctx: CheckContext) -> list[Finding]:
    th = ctx.thresholds(RULE)
    min_count = int(th.get("min_count", 1))
    tolerance = float(th.get("value_tolerance", 0.01))
    names = list(th.get("value_events") or ["Purchase"])
    ev = server_events(ctx, "event_name", "value", "value_raw", "currency", "order_id", families=("custom_data",)).filter(
        pl.col("event_name").is_in(names)
    )
    if ev.is_empty():
        return []
    raw = pl.col("value_raw").cast(pl.String).str.strip_chars()
    cur = pl.col("currency").str.strip_chars()
    ev = ev.with_row_index("_i").with_columns(
        (raw.is_null() | (raw == "")).alias("value_missing"),
        (raw.is_not_null() & (raw != "") & pl.col("value").is_null()).alias("value_not_numeric"),
        (pl.col("value") <= 0).fill_null(False).alias("value_not_positive"),
        (cur.is_null() | (cur == "")).alias("currency_missing"),
        (cur.is_not_null() & (cur != "") & ~cur.str.to_uppercase().is_in(list(ISO_4217))).alias("currency_invalid"),
    )
    totals = backend_orders(ctx).filter(pl.col("_o_value").is_not_null())
    if totals.height:
        matched = (
            ev.filter(pl.col("order_id").is_not_null() & pl.col("value").is_not_null())
            .select("_i", "order_id", "value", "currency")
            .join(totals, on="order_id", how="inner")
            .filter(pl.col("currency").is_null() | pl.col("_o_currency").is_null()
                    | (pl.col("currency").str.to_uppercase() == pl.col("_o_currency")))
            .with_columns((pl.col("value") - pl.col("_o_value")).abs().alias("_gap"))
            .group_by("_i").agg(pl.col("_gap").min(), pl.col("_o_value").first())
        )
        ev = ev.join(matched, on="_i", how="left").with_columns(
            (pl.col("_gap") > tolerance).fill_null(False).alias("value_differs_from_order")
        )
    else:
        ev = ev.with_columns(pl.lit(False).alias("value_differs_from_order"), pl.lit(None, pl.Float64).alias("_gap"),
                             pl.lit(None, pl.Float64).alias("_o_value"))
    problems = list(PROBLEM_TEXT)
    bad = ev.filter(pl.any_horizontal(problems))
    if bad.is_empty():
        return []
    per_account = ev.group_by("account").agg(pl.len().alias("n"), pl.col("logged_at").max().alias("last"),
                                              pl.col("_o_value").is_not_null().sum().alias("matched"))
    info = {r["account"]: r for r in per_account.iter_rows(named=True)}
    findings = []
    for account in bad["account"].unique().sort().to_list():
        rows = bad.filter(pl.col("account") == account)
        if rows.height < min_count:
            continue
        sums = rows.select([pl.col(p).sum() for p in problems]).row(0, named=True)
        found = {p: int(sums[p]) for p in problems if sums[p]}
        total = int(info[account]["n"])
        first, last = rows["logged_at"].min(), rows["logged_at"].max()
        metrics = {"events_checked": total, "faulty_events": rows.height, "problems": found, "event_names": names}
        text = ", ".join(f"{PROBLEM_TEXT[p]} x{n}" for p, n in found.items())
        summary = (f"{rows.height} of {plural(total, '/'.join(names) + ' event')} ({rows.height / total:.0%}) "
                   f"{span_text(first, last)} carry {text}")
        if "value_differs_from_order" in found:
            diff = rows.filter(pl.col("value_differs_from_order"))
            metrics["orders_matched"] = int(info[account]["matched"])
            metrics["largest_value_gap"] = round(float(diff["_gap"].max()), 2)
            metrics["orders_differing"] = diff["order_id"].drop_nulls().unique().sort().head(5).to_list()
            summary += f" (largest gap {metrics['largest_value_gap']:.2f} against the order total)"
        findings.append(ctx.finding(
            RULE, account=account, count=rows.height, first_seen=first, last_seen=last,
            ongoing=ongoing(rows, info[account]["last"]), summary=summary + ".",
            evidence=evidence_from(rows), metrics=metrics,
        ))
    return findings


CHECK = Check(
    name="missing-value-currency",
    rules=(RULE,),
    run=value_findings,
    needs=("server_event",),
    description="Purchase without value/currency, non-numeric/zero/negative value, non-ISO currency, "
                "value differing from the backend order total.",
)
