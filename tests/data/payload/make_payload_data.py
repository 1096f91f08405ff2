#!/usr/bin/env python3
"""Write the inputs of tests/test_payload_quality.py (deterministic; run with the project installed).

    python tests/data/payload/make_payload_data.py

Two formats:

* ``woocommerce/facebook_for_woocommerce-*.log`` - Meta for WooCommerce >= 3.5 debug logs
  (WooCommerce file handler v2: ``<ISO> NOTICE Request`` / ``Response``
  entries, ``body:`` JSON encoded like PHP's json_encode), one file and one
  pixel per scenario;
* ``capture/capture-orders.jsonl`` - a home-grown sender that logs each full CAPI request
  body, and backend order lines, read by ``tests/data/plugins/capi_capture.py``.

Pixel ids name the scenario (see SCENARIOS); positives and negatives live
on different pixels so each assertion reads one account.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import os

from auditor.testing.woocommerce_log import entry as woo_entry
from auditor.testing.woocommerce_log import iso_wc, php_json, request, response

HERE = os.path.dirname(os.path.abspath(__file__))
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3.1 Mobile/15E148 Safari/604.1"
FBCLID = "IwZXh0bgNhZW0CMTEAARb4Qx7Lk2mZp0TfQw9yVc3Rn6Hs1JdE8uKaWgYo5BiN_aem_Zx4Ty7Qp2Lm9Nc3Vb8Kd1A"
SHOP = "https://www.payload-test.example.com"

SCENARIOS = {
    "100000000000001": "pii-unhashed positives (every bad state)",
    "100000000000002": "all-correct shop (negative for every check)",
    "100000000000003": "emq-low positives (weak Purchases, invalid minimum-signal combinations)",
    "100000000000004": "emq-low positive on browse events: no fbp/fbc cookies forwarded",
    "100000000000005": "nonstandard-event-name positives",
    "100000000000006": "missing-value-currency positives",
    "100000000000007": "event-time-wrong positives (+ a physical_store upload within 62 days)",
    "100000000000008": "events-delayed positive: a queue flushing every 15 minutes",
    "100000000000009": "events-delayed negative: physical_store upload days later, web events real time",
    "100000000000010": "test_event_code + action-source-invalid positives",
    "100000000000011": "test_event_code on a staging host (negative)",
}


def ts(y, m, d, hh=0, mm=0, ss=0):
    return calendar.timegm((y, m, d, hh, mm, ss, 0, 0, 0))


def sha(v):
    return hashlib.sha256(v.encode()).hexdigest()


def fbp(t):
    return "fb.1.%d123.1234567890" % (t - 3600)


def good_ud(i, purchase=True):
    ud = {"client_ip_address": "203.0.113.%d" % (10 + i), "client_user_agent": UA, "fbp": fbp(ts(2026, 9, 1))}
    if purchase:
        ud.update({"em": sha("customer%d@example.com" % i), "ph": sha("35191234%04d" % i), "fn": sha("ana"),
                   "ln": sha("costa"), "ct": sha("lisboa"), "zp": sha("1100148"), "country": sha("pt"),
                   "external_id": sha(str(5000 + i))})
    return ud


def ev(name, t, i, ud=None, custom=None, source="website", url=True):
    e = {"action_source": source, "event_time": t, "event_id": "evt-%s-%d" % (name, i)}
    if url:
        e["event_source_url"] = "%s/p/%d/" % (SHOP, i)
    if custom is not None:
        e["custom_data"] = custom
    e["user_data"] = ud if ud is not None else good_ud(i, purchase=False)
    e["event_name"] = name
    return e


def purchase_custom(i, value="24.90", currency="EUR"):
    c = {"content_type": "product", "order_id": 7000 + i}
    if value is not None:
        c["value"] = value
    if currency is not None:
        c["currency"] = currency
    return c


def entry(t, pixel, events, test_code=None, ok=True):
    body = {"data": events, "partner_agent": "woocommerce-9.9.5-3.5.4"}
    if test_code:
        body["test_event_code"] = test_code
    req = request("https://graph.facebook.com/v21.0/%s/events" % pixel,
                  "Facebook-for-WooCommerce/3.5.4 (WooCommerce/9.9.5; WordPress/6.8.2)", php_json(body), "0.41823s")
    resp = response(200, "OK", php_json({"events_received": len(events), "messages": [], "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUvW"}))
    return woo_entry(t, req) + woo_entry(t + 1, resp)


def write_wc(pixel, entries):
    name = "facebook_for_woocommerce-2026-09-01-%s.log" % hashlib.md5(pixel.encode()).hexdigest()
    os.makedirs(os.path.join(HERE, "woocommerce"), exist_ok=True)
    with open(os.path.join(HERE, "woocommerce", name), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(entries))


def realtime(pixel, events_with_time, test_code=None, lag=2):
    """One request per event, sent ``lag`` seconds after its event_time."""
    out = []
    for t, e in events_with_time:
        out.append(entry(t + lag, pixel, [e], test_code))
    return out


def main():
    T0 = ts(2026, 9, 1, 10, 0, 0)

    # -- 1: every bad hashing state, on Purchases, plus two correct ones
    px = "100000000000001"
    bad = [
        {"em": "Maria.Silva@Example.com"},                    # clear e-mail
        {"em": "{{email}}"},                                  # placeholder in clear
        {"em": sha("")},                                      # hash of the empty string
        {"ph": sha("undefined")},                             # hash of a placeholder
        {"fn": sha("ana").upper()},                           # upper-case hex
        {"ln": hashlib.md5(b"costa").hexdigest()},            # MD5 length
        {"ge": sha("Male")},                                  # hashed without normalising
        {"client_ip_address": sha("203.0.113.5")},            # hashed where hashing is forbidden
        {"fbp": sha("fb.1.1788253200123.1234567890")},        # hashed where hashing is forbidden
        {"ph": "+351 912 345 678"},                           # clear phone (with country code)
        {"ph": "(650) 555-1212"},                             # clear phone without country code
    ]
    evs = []
    for i, patch in enumerate(bad):
        ud = good_ud(i)
        ud.update(patch)
        evs.append((T0 + 60 * i, ev("Purchase", T0 + 60 * i, i, ud, purchase_custom(i))))
    for i in (20, 21):
        evs.append((T0 + 60 * i, ev("Purchase", T0 + 60 * i, i, good_ud(i), purchase_custom(i))))
    write_wc(px, realtime(px, evs))

    # -- 2: a correct shop: parameter-builder suffixes, custom event, real-time, standard names
    px = "100000000000002"
    evs = []
    for i in range(8):
        t = T0 + 300 * i
        evs.append((t, ev("ViewContent", t, i, custom={"content_ids": "[\"p1\"]", "value": "12.00", "currency": "EUR"})))
    for i in range(8, 14):
        t = T0 + 300 * i
        ud = good_ud(i)
        if i % 2:
            ud["em"] = ud["em"] + ".AQ"             # legacy 2-character appendix
            ud["ph"] = ud["ph"] + ".Ab3_-xYz"      # 8-character appendix
            ud["fbc"] = "fb.1.%d000.%s.Ag" % (t - 5, FBCLID)
        ud["ge"] = sha("f")
        evs.append((t, ev("Purchase", t, i, ud, purchase_custom(i, currency="eur"))))
    for i in range(14, 20):
        t = T0 + 300 * i
        evs.append((t, ev("NewsletterSignup", t, i)))   # an intentional custom event
    write_wc(px, realtime(px, evs))

    # -- 3: weak Purchases (only browser ids) and invalid minimum-signal combinations
    px = "100000000000003"
    evs = []
    for i in range(6):
        t = T0 + 120 * i
        evs.append((t, ev("Purchase", t, i, good_ud(i, purchase=False), purchase_custom(i))))
    for i in range(6, 8):
        t = T0 + 120 * i
        evs.append((t, ev("Lead", t, i, {"fn": sha("ana"), "ge": sha("f")})))
    t = T0 + 120 * 9
    evs.append((t, ev("Lead", t, 9, {"ct": sha("lisboa"), "country": sha("pt"), "st": sha("li"), "client_user_agent": UA})))
    t = T0 + 120 * 10
    evs.append((t, ev("Lead", t, 10, {})))                     # no customer information at all
    write_wc(px, realtime(px, evs))

    # -- 4: browse events without the fbp/fbc cookies (only IP + user agent)
    px = "100000000000004"
    evs = []
    for i in range(6):
        t = T0 + 150 * i
        evs.append((t, ev("ViewContent", t, i, {"client_ip_address": "198.51.100.%d" % (20 + i), "client_user_agent": UA})))
    write_wc(px, realtime(px, evs))

    # -- 5: near-miss names, a too-long name and an intentional custom name
    px = "100000000000005"
    names = ["purchase", "add_to_cart", "begin_checkout", "Purchased", "AddToCard", "view_item", "Add To Cart",
             "NewsletterSignup", "Scroll75Percent", "ThisCustomEventNameIsFarTooLongForMetaBecauseItKeepsGoing"]
    evs = []
    for i, n in enumerate(names):
        t = T0 + 90 * i
        evs.append((t, ev(n, t, i)))
    write_wc(px, realtime(px, evs))

    # -- 6: value / currency faults
    px = "100000000000006"
    cases = [(None, "EUR"), ("24.90", None), ("1.234,50 EUR", "EUR"), ("0", "EUR"), ("-5.00", "EUR"),
             ("24.90", "EURO"), ("24.90", "usd"), ("24.90", "EUR")]
    evs = []
    for i, (v, c) in enumerate(cases):
        t = T0 + 90 * i
        evs.append((t, ev("Purchase", t, i, good_ud(i), purchase_custom(i, v, c))))
    write_wc(px, realtime(px, evs))

    # -- 7: event_time faults (and a physical_store upload 30 days later, which is allowed)
    px = "100000000000007"
    out = []
    t = T0
    out.append(entry(t + 2, px, [ev("PageView", t * 1000 + 417, 0)]))                          # milliseconds
    t = T0 + 100
    e = ev("PageView", "2026-09-01T12:01:40+02:00", 1)                                           # ISO string
    out.append(entry(t + 2, px, [e]))
    t = T0 + 200
    out.append(entry(t, px, [ev("PageView", t + 3600, 2)]))                                      # 1 h in the future
    t = T0 + 300
    out.append(entry(t, px, [ev("Purchase", t - 8 * 86400, 3, good_ud(3), purchase_custom(3))]))  # 8 days old
    t = T0 + 400
    store = [ev("Purchase", t - 30 * 86400 - 600 * k, 40 + k, good_ud(40 + k), purchase_custom(40 + k),
                source="physical_store", url=False) for k in range(3)]
    out.append(entry(t, px, store))                                                              # 30 days: fine
    t = T0 + 500
    ud = good_ud(5, purchase=False)
    ud["fbc"] = "fb.1.%d.%s" % (t - 30, FBCLID)                                                  # seconds
    out.append(entry(t + 1, px, [ev("ViewContent", t, 5, ud)]))
    t = T0 + 600
    ud = good_ud(6, purchase=False)
    ud["fbc"] = "fb.1.%d000.%s" % (t - 30, FBCLID.lower())                                      # lower-cased fbclid
    out.append(entry(t + 1, px, [ev("ViewContent", t, 6, ud)]))
    t = T0 + 700
    ud = good_ud(7, purchase=False)
    ud["fbp"] = "fb.1.%d.1234567890" % (t - 3600)                                                # seconds
    out.append(entry(t + 1, px, [ev("ViewContent", t, 7, ud)]))
    for i in range(8, 12):                                                                       # correct ones
        t = T0 + 100 * i
        out.append(entry(t + 1, px, [ev("ViewContent", t, i)]))
    write_wc(px, out)

    # -- 8: a queue flushing every 15 minutes, 4 PageViews per request, up to 15 min old
    px = "100000000000008"
    out = []
    for b in range(8):
        flush = T0 + 900 * (b + 1) + 3
        batch = [ev("PageView", flush - 60 - 200 * k, 10 * b + k) for k in range(4)]
        out.append(entry(flush, px, batch))
    write_wc(px, out)

    # -- 9: physical_store upload days later (allowed), web events in real time
    px = "100000000000009"
    out = []
    for i in range(6):
        t = T0 + 120 * i
        out.append(entry(t + 1, px, [ev("PageView", t, i)]))
    store = [ev("Purchase", T0 - 86400 * (2 + k), 30 + k, good_ud(30 + k), purchase_custom(30 + k),
                source="physical_store", url=False) for k in range(6)]
    out.append(entry(T0 + 900, px, store))
    write_wc(px, out)

    # -- 10: test_event_code on production, action_source faults
    px = "100000000000010"
    out = []
    for i in range(3):
        t = T0 + 60 * i
        out.append(entry(t + 1, px, [ev("PageView", t, i)], test_code="TEST91827"))
    t = T0 + 300
    e = ev("PageView", t, 3)
    del e["action_source"]
    out.append(entry(t + 1, px, [e]))                                                            # action_source missing
    t = T0 + 360
    out.append(entry(t + 1, px, [ev("PageView", t, 4, source="web")]))                          # unknown action_source
    t = T0 + 420
    ud = good_ud(5, purchase=False)
    del ud["client_user_agent"]
    out.append(entry(t + 1, px, [ev("PageView", t, 5, ud)]))                                     # no user agent
    t = T0 + 480
    out.append(entry(t + 1, px, [ev("PageView", t, 6, url=False)]))                             # no event_source_url
    write_wc(px, out)

    # -- 11: test_event_code on a staging site: testing, not production
    px = "100000000000011"
    out = []
    for i in range(3):
        t = T0 + 60 * i
        e = ev("PageView", t, i)
        e["event_source_url"] = "https://staging.payload-test.example.com/p/%d/" % i
        out.append(entry(t + 1, px, [e], test_code="TEST55555"))
    write_wc(px, out)

    write_capture(T0)


def write_capture(T0):
    """capture-orders.jsonl: the second format (see tests/data/plugins/capi_capture.py)."""
    lines = []

    def send(at, pixel, events, **extra):
        lines.append(json.dumps({"sent_at": iso_wc(at).replace("+00:00", "Z"), "pixel_id": pixel,
                                 "request": {"data": events, **extra}}, separators=(",", ":")))

    def order(at, shop, oid, created, total, currency="EUR"):
        lines.append(json.dumps({"logged_at": iso_wc(at).replace("+00:00", "Z"), "shop": shop,
                                 "order": {"id": str(oid), "created_at": created, "total": total, "currency": currency}},
                                separators=(",", ":")))

    # pixel 200000000000001: event_time sent in shop-local time (UTC+2 written as UTC) -> +2 h offset against orders
    px, shop = "200000000000001", "tz-shop.example.com"
    for i in range(5):
        created = T0 + 1800 * i
        order(created + 5, shop, 9100 + i, iso_wc(created + 7200).replace("+00:00", "+02:00"), "30.00")
        e = ev("Purchase", created + 7200, i, good_ud(i), purchase_custom(i, "30.00"))
        e["custom_data"]["order_id"] = str(9100 + i)
        send(created + 8, px, [e])
    # pixel 200000000000002: a nightly job sends Purchases with event_time = processing time, orders hours older;
    # one value disagrees with the order total
    px, shop = "200000000000002", "batch-shop.example.com"
    job = T0 + 14 * 3600
    for i in range(4):
        created = T0 + 1200 * i
        order(created + 3, shop, 9200 + i, iso_wc(created), "45.00")
        e = ev("Purchase", job + i, i, good_ud(i), purchase_custom(i, "45.00" if i else "40.50"))
        e["custom_data"]["order_id"] = str(9200 + i)
        send(job + i, px, [e])
    # pixel 200000000000003: correct: event_time = order time, value = total (negative for both order checks)
    px, shop = "200000000000003", "good-shop.example.com"
    for i in range(4):
        created = T0 + 1500 * i
        order(created + 2, shop, 9300 + i, iso_wc(created), "19.99")
        e = ev("Purchase", created, i, good_ud(i), purchase_custom(i, "19.99"))
        e["custom_data"]["order_id"] = str(9300 + i)
        send(created + 4, px, [e])
    os.makedirs(os.path.join(HERE, "capture"), exist_ok=True)
    with open(os.path.join(HERE, "capture", "capture-orders.jsonl"), "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
