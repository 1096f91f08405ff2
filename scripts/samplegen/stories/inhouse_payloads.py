"""Story 9. In-house sender that saves its CAPI payloads (capi_payload source)
"""

from __future__ import annotations

import json
import random

from ..formats import digits, fake_token, fbtrace, iso_ms, money, sha, ts, uuid4, write
from ..shops import event, make_customer, new_session, user_data


PIXEL_PAYLOADS = "4410297365518204"
PAYLOAD_SHOP = "atelier-nord.example.com"


def story_inhouse_payloads(facts):
    """An in-house Node sender keeps every request it posts with its answer:
    ``{"ts": <epoch ms>, "pixel_id", "payload", "response"}`` on 14 Sep; after a
    rewrite on 15 Sep ``{"sent_at", "url", "status", "request", "response"}``
    -- and the rewrite sends ``ph`` in clear on Purchases.  The token is in
    every saved body; the auditor never reads it.  (Bare payloads carry no
    time, so they would count in an account's totals but in no day of its
    daily series: tests/data/capi_payload/ has them, the samples do not.)"""
    rng = random.Random(9009)
    token = fake_token(rng)
    url = "https://graph.facebook.com/v23.0/%s/events" % PIXEL_PAYLOADS
    agent = "atelier-nord-sender/1.4"
    out = {"files": [], "events": 0, "clear_ph": 0, "first": None, "last": None}

    def one_event(t, name, c):
        sess = new_session(rng, None, t)
        value = rng.choice([3900, 5900, 8400, 12900])
        custom = {"currency": "EUR", "value": money(value), "content_type": "product",
                  "content_ids": ["AN-%03d" % rng.randint(1, 180)]}
        extra = None
        if name == "Purchase":
            custom["order_id"] = str(rng.randint(70000, 79999))
            extra = {"em": [sha(c["email"].strip().lower())], "ph": [sha(digits(c["phone"]))]}
        ev = event(name, t - rng.randint(1, 3), uuid4(rng), "https://%s/%s" % (PAYLOAD_SHOP, "checkout/thanks" if name == "Purchase" else "p/%d" % rng.randint(1, 180)),
                   custom, user_data(sess, extra))
        return ev

    def day(y, m, d, clear_phone):
        lines = []
        t = ts(y, m, d, 8, 0, 0)
        for i in range(36):
            t += rng.randint(300, 1500)
            name = rng.choices(["ViewContent", "AddToCart", "InitiateCheckout", "Purchase"], weights=[6, 3, 2, 2])[0]
            c = make_customer(rng, "de", 5000 + i)
            ev = one_event(t, name, c)
            if clear_phone and name == "Purchase":
                ev["user_data"]["ph"] = [c["phone"]]
                out["clear_ph"] += 1
            out["events"] += 1
            out["first"] = out["first"] or t
            out["last"] = t
            body = {"data": [ev], "partner_agent": agent, "access_token": token}
            resp = {"events_received": 1, "messages": [], "fbtrace_id": fbtrace(rng)}
            if not clear_phone:
                lines.append(json.dumps({"ts": t * 1000 + rng.randint(0, 999), "pixel_id": PIXEL_PAYLOADS,
                                         "payload": body, "response": resp}, separators=(",", ":")))
            else:
                lines.append(json.dumps({"sent_at": iso_ms(t, rng.randint(0, 999)), "url": url, "status": 200,
                                         "request": body, "response": resp}, separators=(",", ":")))
        return "\n".join(lines) + "\n", ev

    text, _ = day(2026, 9, 14, False)
    out["files"].append(write("inhouse-payloads/sent/2026-09-14.ndjson", text))
    text, _ = day(2026, 9, 15, True)
    out["files"].append(write("inhouse-payloads/sent/2026-09-15.ndjson", text))
    facts["payloads"] = out
