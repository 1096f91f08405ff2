"""Story 6. queued shop: a home-made queue on top of the plugin's API client
   (payload-quality diagnoses: GA4 names, batching, ms event_time, clear PII,
   missing currency, test_event_code, fbc in seconds; and a physical_store
   upload that is legitimately late)
"""

from __future__ import annotations

import random

from ..formats import money, php_duration, php_json, request, response, ts, uuid4, write_daily_logs
from ..responses import success_body
from ..shops import Shop, funnel, hashed_pii, make_customer, session_starts


PIXEL_QUEUED = "3318274650192837"
QUEUE_FLUSH_HOURS = 3          # the mu-plugin's cron flushes the queue every 3 hours at HH:05
QUEUE_TEST_CODE = "TEST62513"  # copied from Events Manager's Test Events tab during setup, never removed
GA4_NAMES = {"ViewContent": "view_item", "AddToCart": "add_to_cart", "InitiateCheckout": "begin_checkout"}


def story_queued_shop(facts):
    rng = random.Random(20260817)
    shop = Shop(pixel=PIXEL_QUEUED, domain="https://www.lumen-candles.example.com", currency="USD",
                wc="9.8.2", wp="6.8.1", plugin="3.5.4", graph="v21.0", campaign="fall_scents",
                product_path="/product/", checkout_path="/checkout/", received_path="/checkout/order-received/",
                first_order=7301, first_ext=410, free_shipping=6000, shipping=695,
                products=[(31, "LUM-SOY-8", "Soy Candle Cedar 8 oz", "soy-candle-cedar-8-oz", 2400),
                          (34, "LUM-SOY-16", "Soy Candle Cedar 16 oz", "soy-candle-cedar-16-oz", 3800),
                          (38, "LUM-WAX-6", "Wax Melts Orchard (6)", "wax-melts-orchard-6", 1200),
                          (41, "LUM-DIF-01", "Reed Diffuser Fig", "reed-diffuser-fig", 3200),
                          (45, "LUM-WCK-10", "Wick Trimmer", "wick-trimmer", 1600)])
    days = (ts(2026, 8, 17), ts(2026, 8, 18))
    queued = []   # (event_time, event) as the browser handed them to the queue
    purchases = 0
    no_currency = 0
    for day in days:
        # three sessions per 3-hour slot between 06:05 and 24:05 local server time (UTC), one of them buying
        for slot in range(6):
            lo = 6 + 3 * slot + 0.1
            for k, start in enumerate(session_starts(rng, day, 3, lo, lo + 2.7)):
                buy = k == 1
                evs, _ = funnel(rng, shop, start, buy, "us", pageview_share=0.6)
                for t, ev, cust in evs:
                    ud = ev["user_data"]
                    if "fbc" in ud:  # the queue's JS builds fbc from fbclid with Math.floor(Date.now()/1000)
                        parts = ud["fbc"].split(".")
                        ud["fbc"] = "fb.1.%s.%s" % (parts[2][:10], parts[3])
                    name = ev["event_name"]
                    ev["event_name"] = GA4_NAMES.get(name, name)  # GA4 dataLayer names passed through unmapped
                    if name == "InitiateCheckout":
                        ev["event_time"] = t * 1000 + rng.randint(0, 999)  # Date.now(): milliseconds
                    if name == "Purchase":
                        purchases += 1
                        # enhanced-conversion data from the dataLayer, in clear; guests have no e-mail
                        for key in ("em", "fn", "ln", "ph", "ct", "st", "zp", "country", "external_id"):
                            ud.pop(key, None)
                        ud["em"] = "undefined" if purchases % 4 == 0 else cust["email"]
                        ud["ph"] = cust["phone"]
                        if purchases % 3 == 0:  # PayPal return page: the dataLayer has no currency
                            ev["custom_data"].pop("currency")
                            no_currency += 1
                    queued.append((t, ev))
    # orders taken by phone and entered in wp-admin: built server-side (hashed correctly), but labelled "phone"
    phone_orders = []
    for when, p in ((ts(2026, 8, 17, 14, 22, 40), shop.products[1]), (ts(2026, 8, 18, 10, 51, 3), shop.products[3])):
        cust = make_customer(rng, "us", shop.next_ext)
        oid = shop.next_order
        shop.next_order += 1
        ev = {"action_source": "phone", "event_time": when, "event_id": uuid4(rng),
              "custom_data": {"value": money(p[4] + shop.shipping), "currency": "USD", "order_id": oid},
              "user_data": hashed_pii(cust), "event_name": "Purchase"}
        queued.append((when, ev))
        phone_orders.append(when)
    queued.sort(key=lambda q: (q[0], q[1]["event_id"]))

    entries = []
    flushes = []
    first_flush = days[0] + 9 * 3600 + 5 * 60
    t_flush = first_flush
    i = 0
    while i < len(queued):
        batch = []
        while i < len(queued) and queued[i][0] < t_flush:
            batch.append(queued[i][1])
            i += 1
        if batch:
            log_t = t_flush + rng.randint(1, 4)
            body = php_json({"data": batch, "partner_agent": shop.partner_agent, "test_event_code": QUEUE_TEST_CODE})
            req = request(shop.uri, shop.user_agent, body, php_duration(rng.uniform(0.6, 1.4)))
            resp = response("200", "OK", success_body(rng, len(batch)))
            entries.append((log_t, "v2", "notice", req))
            entries.append((log_t + 1, "v2", "notice", resp))
            flushes.append((log_t, len(batch)))
        t_flush += QUEUE_FLUSH_HOURS * 3600

    # market-stall sales of the weekend, uploaded from the POS export on Tuesday night: physical_store,
    # 2-3 days old, correctly hashed -- late by design and within Meta's 62 days, so no diagnosis
    upload_t = ts(2026, 8, 18, 23, 40, 12)
    stall = []
    for k in range(4):
        cust = make_customer(rng, "us", 9000 + k)
        sale_t = ts(2026, 8, 16, 10, 0, 0) + rng.randint(0, 7 * 3600)
        p = rng.choice(shop.products)
        pii = hashed_pii(cust)
        ev = {"action_source": "physical_store", "event_time": sale_t, "event_id": "pos-%d" % (5200 + k),
              "custom_data": {"value": money(p[4]), "currency": "USD", "order_id": "POS-%d" % (5200 + k)},
              "user_data": pii, "event_name": "Purchase"}
        stall.append(ev)
    body = php_json({"data": stall, "partner_agent": shop.partner_agent})
    req = request(shop.uri, shop.user_agent, body, php_duration(0.84))
    resp = response("200", "OK", success_body(rng, len(stall)))
    entries.append((upload_t, "v2", "notice", req))
    entries.append((upload_t + 1, "v2", "notice", resp))
    entries.sort(key=lambda e: e[0])

    files = write_daily_logs("woocommerce/queued-shop", "lumen-candles", ("2026-08-17", "2026-08-18", "2026-08-19"), entries,
                             skip_empty=True)
    counts = {}
    for _, ev in queued:
        counts[ev["event_name"]] = counts.get(ev["event_name"], 0) + 1
    delays = sorted(f - t for (t, _) in queued for f in [min(x for x, _ in flushes if x >= t)])
    facts["queued"] = dict(files=files, shop=shop, counts=counts, total=len(queued), flushes=flushes,
                           purchases=purchases, no_currency=no_currency,
                           undefined_em=purchases // 4, clear_em=purchases - purchases // 4,
                           ms_events=counts.get("begin_checkout", 0),
                           fbc_events=sum(1 for _, ev in queued if "fbc" in ev["user_data"]),
                           median_delay=delays[len(delays) // 2], max_delay=delays[-1],
                           stall=len(stall), upload_t=upload_t, phone_orders=phone_orders, first=entries[0][0], last=entries[-1][0])
