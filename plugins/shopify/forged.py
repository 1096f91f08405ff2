"""The ``webhook-signature-invalid`` diagnosis: deliveries whose HMAC fails.

Shipped with the Shopify source (row in ``rules.yaml``): when a webhook secret
is given, a delivery whose ``X-Shopify-Hmac-Sha256`` does not match its raw
body was forged or altered on the way, and its order must not be trusted as
backend truth.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from

RULE = "webhook-signature-invalid"
RULES_FILE = Path(__file__).with_name("rules.yaml")


def forged_deliveries(ctx: CheckContext) -> list[Finding]:
    rows = ctx.select("account", "shop", "signal", "logged_at", "file", "line", "message",
                      where=pl.col("signal").is_in(["hmac_invalid", "hmac_unverified"]))
    if rows.is_empty():
        return []
    min_count = int(ctx.thresholds(RULE).get("min_count", 1))
    findings = []
    for (account,), group in sorted(rows.group_by(["account"]), key=lambda kv: kv[0][0] or ""):
        if group.height < min_count:
            continue
        invalid = int((group["signal"] == "hmac_invalid").sum())
        unverified = group.height - invalid
        parts = []
        if invalid:
            parts.append(f"{invalid} webhook deliver{'ies' if invalid != 1 else 'y'} failed the X-Shopify-Hmac-Sha256 "
                         "check (forged, altered after delivery, or signed with another secret)")
        if unverified:
            parts.append(f"{unverified} could not be verified against the secret (no or empty signature header, or a "
                         "body re-serialised when it was stored)")
        first, last = group["logged_at"].min(), group["logged_at"].max()
        findings.append(ctx.finding(
            RULE, account=account, count=group.height, first_seen=first, last_seen=last,
            summary="; ".join(parts) + ". Their orders were left out of the orders, the server-event ratio and "
                    "--orders-out.",
            evidence=evidence_from(group), metrics={"invalid_deliveries": invalid, "unverified_deliveries": unverified},
        ))
    return findings


CHECK = Check(name="shopify-webhook-signature", rules=(RULE,), run=forged_deliveries, needs=("order", "status"),
              description="Shopify deliveries whose HMAC signature does not match their body.")
