"""Story 3. broken after update: 3.4.1 (v2 + _legacy context) -> 3.7.1, then silence
"""

from __future__ import annotations

import random

from ..formats import gzip_bytes, iso_wc, php_json, render, request, response, ts, uuid4, wc_file_hash, write
from ..responses import PERSIST_ERR, success_body
from ..shops import CRAWLER_UAS, Shop, custom_for, event, funnel, new_session, send_timing, session_starts, user_data


PIXEL_UPDATE = "1736450291837465"


def story_broken_after_update(facts):
    rng = random.Random(20260506)
    common = dict(pixel=PIXEL_UPDATE, domain="https://www.trailgear-outdoor.example.com", currency="EUR",
                  wc="9.7.1", wp="6.7.2", campaign="fruehling_wandern", product_path="/produkt/",
                  checkout_path="/kasse/", received_path="/kasse/bestellung-erhalten/", first_order=10342,
                  first_ext=5530, free_shipping=5000, shipping=495,
                  products=[(55, None, "Trekkingstöcke Carbon", "trekkingstoecke-carbon", 6900),
                            (61, None, "Merino Funktionsshirt", "merino-funktionsshirt", 5990),
                            (64, None, "Stirnlampe 400 lm", "stirnlampe-400-lm", 3450),
                            (70, None, "Packsack 20 L", "packsack-20-l", 1999),
                            (73, None, "Gaskocher kompakt", "gaskocher-kompakt", 4400),
                            (79, None, "Wanderrucksack 28 L", "wanderrucksack-28-l", 8990)])
    old = Shop(plugin="3.4.1", graph="v20.0", **common)
    new = Shop(plugin="3.7.1", graph="v22.0", **common)

    update_at = ts(2026, 5, 6, 9, 58, 0)  # not logged anywhere; only visible through the version strings
    end_at = ts(2026, 5, 9, 12, 0, 0)
    sends = []
    for d in (4, 5, 6):
        day = ts(2026, 5, d)
        for purchase, n in ((True, 14), (False, 12)):
            for start in session_starts(rng, day, n, 6.0, 22.5):
                if start <= ts(2026, 5, 4, 9, 12, 42) or start > update_at - 1500:
                    continue
                evs, _ = funnel(rng, old, start, purchase, "de", pageview_share=0.3)
                sends.extend((t, ev, c, old) for t, ev, c in evs)
    evs, _ = funnel(rng, old, ts(2026, 5, 4, 9, 12, 42), True, "de", pageview_share=1.0)
    sends.extend((t, ev, c, old) for t, ev, c in evs)
    new.next_order = old.next_order
    new.next_ext = old.next_ext
    # exactly two server events from 3.7.1, then nothing
    s1 = new_session(rng, new, ts(2026, 5, 6, 10, 4, 15))
    p = new.products[2]
    sends.append((ts(2026, 5, 6, 10, 4, 15), event("ViewContent", ts(2026, 5, 6, 10, 4, 15), uuid4(rng), new.product_url(p),
                                                   custom_for(new, "ViewContent", [(p, 1)]), user_data(s1)), None, new))
    sends.append((ts(2026, 5, 6, 10, 11, 50), event("AddToCart", ts(2026, 5, 6, 10, 11, 50), uuid4(rng), new.product_url(p),
                                                    custom_for(new, "AddToCart", [(p, 1)]), user_data(s1)), None, new))
    sends.sort(key=lambda s: (s[0], s[1]["event_id"]))
    # first send must be the 09:12:44 entry quoted in the fact sheet
    first_evt_time = sends[0][0]

    entries = []
    last_old = first_new = last_new = None
    n_old = n_new = 0
    for event_time, ev, _, shop in sends:
        if shop is old and event_time == first_evt_time:
            log_t, dur = ts(2026, 5, 4, 9, 12, 44), "0.41823s"
        else:
            log_t, dur = send_timing(rng, event_time)
        body = php_json({"data": [ev], "partner_agent": shop.partner_agent})
        req = request(shop.uri, shop.user_agent, body, dur)
        resp = response("200", "OK", success_body(rng))
        style = "v2legacy" if shop is old else "v2"
        entries.append((log_t, style, "notice", req))
        entries.append((log_t, style, "notice", resp))
        if shop is old:
            n_old += 1
            last_old = log_t
        else:
            n_new += 1
            first_new = first_new or log_t
            last_new = log_t

    # after the update: no more Request entries, but the plugin keeps logging
    crawler_n = persist_n = 0
    t = ts(2026, 5, 6, 10, 26, 31)
    while t < end_at:
        entries.append((t, "v2", "error", PERSIST_ERR))
        entries.append((t, "v2", "error", PERSIST_ERR))  # written twice per request, as in the real report
        persist_n += 2
        t += rng.randint(18 * 60, 95 * 60)
    t = ts(2026, 5, 6, 11, 2, 7)
    while t < end_at:
        entries.append((t, "v2", "notice", "Blocked CAPI event for crawler: " + rng.choice(CRAWLER_UAS)))
        crawler_n += 1
        t += rng.randint(2 * 3600, 7 * 3600)
    entries.sort(key=lambda e: e[0])
    last_line = entries[-1][0]

    base = "woocommerce/broken-after-update/"
    files = []
    rotate_at = ts(2026, 5, 5, 14, 37, 0)
    for day in ("2026-05-04", "2026-05-05", "2026-05-06", "2026-05-07", "2026-05-08", "2026-05-09"):
        fid = "facebook_for_woocommerce-%s" % day
        day_entries = [e for e in entries if iso_wc(e[0]).startswith(day)]
        if day == "2026-05-05":
            rid = "facebook_for_woocommerce.0-%s" % day
            text0 = "".join(render(e) for e in day_entries if e[0] < rotate_at)
            files.append(write(base + "%s-%s.log" % (rid, wc_file_hash("trailgear", rid)), text0))
            day_entries = [e for e in day_entries if e[0] >= rotate_at]
        text = "".join(render(e) for e in day_entries)
        name = "%s-%s.log" % (fid, wc_file_hash("trailgear", fid))
        if day == "2026-05-08":
            files.append(write(base + name + ".gz", gzip_bytes(text.encode("utf-8"), name, ts(2026, 5, 9, 0, 0, 5))))
        else:
            files.append(write(base + name, text))
    facts["update"] = dict(files=files, n_old=n_old, n_new=n_new, last_old=last_old, first_new=first_new,
                           last_new=last_new, crawler_n=crawler_n, persist_n=persist_n, first=entries[0][0],
                           last=last_line, update_at=update_at, old=old, new=new)
