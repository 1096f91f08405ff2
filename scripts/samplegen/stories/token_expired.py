"""Story 2. token expired: plugin 2.6.x, WC 6.x, file handler v1 (site-local time)
"""

from __future__ import annotations

import random

from ..formats import B64, fbtrace, http_date, php_json, pst_text, rand_str, request, response, ts, write_daily_logs
from ..responses import graph_error
from ..shops import Shop, funnel, send_timing, session_starts


PIXEL_TOKEN = "928374651029384"


SITE_OFFSET_HOURS = -5  # America/New_York in February (EST); never written in the file
TOKEN_EXPIRY = ts(2026, 2, 10, 16, 0, 0)  # = Tuesday, 10-Feb-26 08:00:00 PST


def story_token_expired(facts):
    rng = random.Random(20260210)
    shop = Shop(pixel=PIXEL_TOKEN, domain="https://www.hudsonvalleybaking.example.com", currency="USD",
                wc="6.9.4", wp="6.0.2", plugin="2.6.27", graph="v13.0", campaign="winter_baking",
                product_path="/product/", checkout_path="/checkout/", received_path="/checkout/order-received/",
                first_order=21877, first_ext=880, free_shipping=7500, shipping=895,
                products=[(412, "HVB-STK-01", "Sourdough Starter Kit", "sourdough-starter-kit", 2400),
                          (415, "HVB-BAN-09", "Banneton Proofing Basket 9\"", "banneton-proofing-basket-9", 1850),
                          (419, "HVB-RYE-5LB", "Stone-Ground Rye Flour 5 lb", "stone-ground-rye-flour-5-lb", 1275),
                          (423, "HVB-SCR-01", "Bench Scraper", "bench-scraper", 900),
                          (427, "HVB-DOV-55", "Enameled Dutch Oven 5.5 qt", "enameled-dutch-oven-5-5-qt", 8900),
                          (431, "HVB-LAM-01", "Bread Lame & 5 Blades", "bread-lame-5-blades", 1425)])
    token_len = len("Bearer ") + 188
    window_lo, window_hi = ts(2026, 2, 8, 12, 0, 0), ts(2026, 2, 11, 16, 0, 0)
    sends = []
    # local (EST) days Feb 8..11; sessions 07:00-23:30 local
    for d in range(8, 12):
        local_midnight_utc = ts(2026, 2, d) - SITE_OFFSET_HOURS * 3600
        for purchase, n in ((True, 6), (False, 9)):
            for start in session_starts(rng, local_midnight_utc, n, 7.0, 23.0):
                if not (window_lo <= start < window_hi - 1800):
                    continue
                evs, _ = funnel(rng, shop, start, purchase, "us", pageview_share=0.5, gen2x=True)
                sends.extend(evs)
    # a customer who is mid-checkout when the token expires
    evs, _ = funnel(rng, shop, ts(2026, 2, 10, 15, 55, 40), True, "us", pageview_share=1.0, gen2x=True)
    sends.extend(evs)
    sends.sort(key=lambda s: (s[0], s[1]["event_id"]))

    entries = []
    ok = fail = 0
    first_fail = last_fail = last_ok = None
    app_usage = 3
    rev = "1019384462"
    for event_time, ev, _ in sends:
        log_t, dur = send_timing(rng, event_time)
        body = php_json({"data": [ev], "partner_agent": shop.partner_agent})
        req_headers = {"Authorization": "*" * token_len, "content-type": "application/json", "accept": "application/json"}
        req = request(shop.uri, shop.user_agent, body, dur, headers=req_headers, twice=True)
        trace = fbtrace(rng)
        resp_headers = {"content-type": "application/json; charset=UTF-8"}
        if log_t < TOKEN_EXPIRY:
            ok += 1
            last_ok = log_t
            app_usage = max(1, min(40, app_usage + rng.choice([-1, 0, 0, 1])))
            resp_body = php_json({"events_received": 1, "messages": [], "fbtrace_id": trace})
            resp_headers.update({"facebook-api-version": shop.graph, "x-fb-request-id": trace,
                                 "x-fb-trace-id": rand_str(rng, B64, 11), "x-fb-rev": rev,
                                 "x-app-usage": php_json({"call_count": app_usage, "total_cputime": 0, "total_time": rng.randint(0, 3)}),
                                 "cache-control": "private, no-cache, no-store, must-revalidate", "date": http_date(log_t)})
            code, reason = "200", "OK"
            extra = None
        else:
            fail += 1
            first_fail = first_fail or log_t
            last_fail = log_t
            message = "Error validating access token: Session has expired on %s. The current time is %s." % (
                pst_text(TOKEN_EXPIRY), pst_text(log_t - 1))
            resp_body = php_json(graph_error(message, code=190, subcode=463, trace=trace))
            resp_headers.update({"www-authenticate": 'OAuth "Facebook Platform" "invalid_token" "%s"' % message,
                                 "facebook-api-version": shop.graph, "x-fb-request-id": trace,
                                 "x-fb-trace-id": rand_str(rng, B64, 11), "x-fb-rev": rev,
                                 "cache-control": "no-store", "date": http_date(log_t)})
            code, reason = "400", "Bad Request"
            extra = "Could not send Pixel event: OAuthException: " + message
        resp = response(code, reason, resp_body, headers=resp_headers, twice=True)
        entries.append((log_t, "v1", "notice", req))
        entries.append((log_t, "v1", "notice", resp))
        if extra:
            entries.append((log_t, "v1", "notice", extra))
    entries.sort(key=lambda e: e[0])

    # v1 handler: one file per UTC day, hash = wp_hash(handle) -> identical for every day
    files = write_daily_logs("woocommerce/token-expired-shop", "hudson-valley", ("2026-02-08", "2026-02-09", "2026-02-10", "2026-02-11"),
                             entries, offset_hours=SITE_OFFSET_HOURS, same_hash=True)
    facts["token"] = dict(files=files, ok=ok, fail=fail, first_fail=first_fail, last_fail=last_fail, last_ok=last_ok,
                          first=entries[0][0], last=entries[-1][0], total=len(sends), shop=shop)
