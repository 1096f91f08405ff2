"""nonstandard-event-name: names close to, but not, one of Meta's standard names.

A name is a near miss when, compared without case and separators, it equals a
standard name (``purchase``, ``Add To Cart``, ``add_to_cart``), a known alias
(GA4/GTM names such as ``begin_checkout`` or ``view_item``, ``Checkout``,
``Order Completed``), the same words in another tense or number
(``Purchased``, ``AddedToCart``), or a misspelling within the ruleset's edit
distance.  Anything else is a custom event and stays silent, as do names in
``allowed_names``.  Names longer than ``max_length`` are reported too.  One
finding per account; the loop runs over distinct names only.
"""

from __future__ import annotations

import re

import polars as pl

from auditor import Check, CheckContext, Finding, evidence_from

from .common import plural, server_events, span_text

RULE = "nonstandard-event-name"

#: Meta's standard event names, exact spelling and case (capi-rules.md §1.1).
STANDARD = (
    "AddPaymentInfo", "AddToCart", "AddToWishlist", "CompleteRegistration", "Contact", "CustomizeProduct",
    "Donate", "FindLocation", "InitiateCheckout", "Lead", "PageView", "Purchase", "Schedule", "Search",
    "StartTrial", "SubmitApplication", "Subscribe", "ViewContent",
)
#: Meta's reserved CAPI names that are not standard events but are correct as they are.
RESERVED = ("AppendAttribution",)

#: Aliases by their squashed form (lowercase, letters and digits only): Meta's GTM
#: tag's GA4 mapping (capi-rules.md §1.1) plus common platform spellings.
ALIASES = {
    "pageview": "PageView", "gtmdom": "PageView", "pageviewed": "PageView",
    "viewitem": "ViewContent", "productviewed": "ViewContent", "viewproduct": "ViewContent",
    "productview": "ViewContent", "contentview": "ViewContent", "contentviewed": "ViewContent",
    "addtocart": "AddToCart", "addtobasket": "AddToCart", "productadded": "AddToCart",
    "addtowishlist": "AddToWishlist", "productaddedtowishlist": "AddToWishlist",
    "addpaymentinfo": "AddPaymentInfo", "paymentinfoentered": "AddPaymentInfo",
    "begincheckout": "InitiateCheckout", "checkout": "InitiateCheckout", "checkoutstarted": "InitiateCheckout",
    "startcheckout": "InitiateCheckout", "initcheckout": "InitiateCheckout",
    "purchase": "Purchase", "ordercompleted": "Purchase", "orderplaced": "Purchase", "checkoutcompleted": "Purchase",
    "completedorder": "Purchase",
    "search": "Search", "productssearched": "Search", "viewsearchresults": "Search",
    "generatelead": "Lead", "signup": "CompleteRegistration", "registration": "CompleteRegistration",
    "registrationcompleted": "CompleteRegistration", "trialstarted": "StartTrial",
}
#: GA4 event names exactly as GA4/GTM spell them -> the Meta name Meta's own GTM tag maps them to.
GA4 = {
    "page_view": "PageView", "gtm.dom": "PageView", "view_item": "ViewContent", "add_to_cart": "AddToCart",
    "add_to_wishlist": "AddToWishlist", "add_payment_info": "AddPaymentInfo", "begin_checkout": "InitiateCheckout",
    "purchase": "Purchase", "search": "Search", "generate_lead": "Lead", "sign_up": "CompleteRegistration",
}
WHY_TEXT = {
    "ga4": "a GA4 name passed through unmapped",
    "case": "differs only in case or separators",
    "alias": "is another platform's name for it",
    "tense": "is the same words in another tense or number",
    "typo": "looks like a misspelling",
}

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "e"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _stems(name: str) -> tuple[str, ...]:
    return tuple(_stem(w.lower()) for w in _WORDS.findall(name))


_STANDARD_SQUASHED = {squash(s): s for s in STANDARD}
_STANDARD_STEMS = {_stems(s): s for s in STANDARD}


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance, giving up (returning limit + 1) once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def suggest(name: str, max_typo: int = 1, min_typo_len: int = 6) -> tuple[str, str] | None:
    """``(standard name, why)`` when ``name`` is a near miss, else None."""
    if name in STANDARD or name in RESERVED:
        return None
    if name in GA4:
        return GA4[name], "ga4"
    sq = squash(name)
    if not sq:
        return None
    if sq in _STANDARD_SQUASHED:
        return _STANDARD_SQUASHED[sq], "case"
    if sq in ALIASES:
        return ALIASES[sq], "alias"
    stems = _stems(name)
    if stems in _STANDARD_STEMS:
        return _STANDARD_STEMS[stems], "tense"
    joined = "".join(stems)
    for std in STANDARD:
        if joined and joined == "".join(_stems(std)):
            return std, "tense"
    if max_typo > 0 and len(sq) >= min_typo_len:
        best = min(((levenshtein(sq, s, max_typo), std) for s, std in _STANDARD_SQUASHED.items()), default=None)
        if best and best[0] <= max_typo:
            return best[1], "typo"
    return None


def name_findings(ctx: CheckContext) -> list[Finding]:
    th = ctx.thresholds(RULE)
    max_len = int(th.get("max_length", 50))
    max_typo = int(th.get("max_typo_distance", 1))
    min_typo_len = int(th.get("min_typo_length", 6))
    allowed = set(th.get("allowed_names") or ())
    ev = server_events(ctx, "event_name").filter(pl.col("event_name").is_not_null())
    if ev.is_empty():
        return []
    names = (
        ev.group_by("account", "event_name")
        .agg(pl.len().alias("n"), pl.col("logged_at").min().alias("first"), pl.col("logged_at").max().alias("last"))
        .sort("account", "event_name")
    )
    verdicts = []
    for name in names["event_name"].unique().sort().to_list():  # distinct names only
        if name in allowed:
            continue
        hit = suggest(name, max_typo, min_typo_len)
        if hit:
            verdicts.append((name, hit[0], hit[1]))
        elif len(name) > max_len:
            verdicts.append((name, None, "too_long"))
    if not verdicts:
        return []
    verdict = pl.DataFrame(verdicts, schema={"event_name": pl.String, "suggest": pl.String, "why": pl.String}, orient="row")
    hits = names.join(verdict, on="event_name", how="inner")
    last_by_account = dict(ev.group_by("account").agg(pl.col("logged_at").max()).iter_rows())
    findings = []
    for account in hits["account"].unique().sort().to_list():
        mine = hits.filter(pl.col("account") == account).sort(["n", "event_name"], descending=[True, False])
        rows = ev.filter((pl.col("account") == account) & pl.col("event_name").is_in(mine["event_name"].to_list()))
        parts, detail = [], {}
        for r in mine.iter_rows(named=True):
            detail[r["event_name"]] = {"events": int(r["n"]), "suggested": r["suggest"], "why": r["why"]}
            if r["suggest"]:
                parts.append(f"'{r['event_name']}' x{r['n']} -> {r['suggest']} ({WHY_TEXT[r['why']]})")
            else:
                parts.append(f"'{r['event_name'][:60]}...' x{r['n']} is {len(r['event_name'])} characters, over Meta's {max_len}")
        n = int(mine["n"].sum())
        first, last = mine["first"].min(), mine["last"].max()
        acc_last = last_by_account.get(account)
        findings.append(ctx.finding(
            RULE, account=account, count=n, first_seen=first, last_seen=last,
            ongoing=(last >= acc_last) if last is not None and acc_last is not None else None,
            summary=(f"{plural(n, 'server event')} {span_text(first, last)} use "
                     f"{plural(mine.height, 'non-standard name')}: " + "; ".join(parts) + "."),
            evidence=evidence_from(rows), metrics={"names": detail},
        ))
    return findings


CHECK = Check(
    name="nonstandard-event-name",
    rules=(RULE,),
    run=name_findings,
    needs=("server_event",),
    description="Event names close to a Meta standard name (case, separators, GA4 names, tense, typos), "
                "with the suggested standard name; names over the length limit.",
)
