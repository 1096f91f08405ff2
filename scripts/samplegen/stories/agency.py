"""Story 8. Agency with three WooCommerce clients (plugin 3.5.x, v2 handler, ISO):
   A dedups (event_id = order id), B sends Purchase without event_id,
   C sends it only from the order-received page, not from the AJAX path
"""

from __future__ import annotations

import random

from ..formats import ts, write_daily_logs
from ..shops import Shop, day_of_visits, plugin_entries


PIXEL_AGENCY_A = "1190384756221038"
PIXEL_AGENCY_B = "1654027389910462"
PIXEL_AGENCY_C = "1902846371552087"
AGENCY_DAYS = ("2026-09-14", "2026-09-15")
AGENCY_C_RECEIVED_SHARE = 0.6


def story_agency(facts):
    rng = random.Random(20260914)
    clients = [
        ("a", "bergfeld-tee", "de", Shop(pixel=PIXEL_AGENCY_A, domain="https://www.bergfeld-tee.example.com", currency="EUR",
                                         wc="9.9.5", wp="6.8.2", plugin="3.5.7", graph="v21.0", campaign="herbst_tee",
                                         product_path="/produkt/", checkout_path="/kasse/", received_path="/kasse/order-received/",
                                         first_order=20211, first_ext=880, free_shipping=4900, shipping=495,
                                         products=[(21, "BT-DAR-100", "Darjeeling First Flush 100g", "darjeeling-first-flush-100g", 1490),
                                                   (24, "BT-SEN-100", "Sencha Kagoshima 100g", "sencha-kagoshima-100g", 1290),
                                                   (29, "BT-ROO-250", "Rooibos Vanille 250g", "rooibos-vanille-250g", 990),
                                                   (33, "BT-KAN-01", "Teekanne Gusseisen 0,8 l", "teekanne-gusseisen-0-8-l", 3990)])),
        ("b", "hudson-row-apparel", "us", Shop(pixel=PIXEL_AGENCY_B, domain="https://hudsonrow.example.com", currency="USD",
                                               wc="9.8.2", wp="6.8.1", plugin="3.5.4", graph="v21.0", campaign="fall_drop",
                                               product_path="/product/", checkout_path="/checkout/", received_path="/checkout/order-received/",
                                               first_order=3307, first_ext=1510, free_shipping=7500, shipping=795,
                                               products=[(301, "HR-TEE-BLK", "Pocket Tee Black", "pocket-tee-black", 2800),
                                                         (305, "HR-HOO-OAT", "Heavyweight Hoodie Oat", "heavyweight-hoodie-oat", 7800),
                                                         (311, "HR-CAP-NVY", "Dad Cap Navy", "dad-cap-navy", 3200),
                                                         (316, "HR-SOC-3P", "Crew Socks 3-Pack", "crew-socks-3-pack", 1800)])),
        ("c", "kaffebryggeriet", "dk", Shop(pixel=PIXEL_AGENCY_C, domain="https://kaffebryggeriet.example.com", currency="DKK",
                                            wc="9.9.5", wp="6.8.2", plugin="3.5.7", graph="v21.0", campaign="efteraar_kaffe",
                                            product_path="/produkt/", checkout_path="/kassen/", received_path="/checkout/order-received/",
                                            first_order=11840, first_ext=402, free_shipping=49900, shipping=4900,
                                            products=[(51, "KB-ETH-250", "Etiopien Guji 250 g", "etiopien-guji-250-g", 11900),
                                                      (55, "KB-KEN-250", "Kenya Nyeri 250 g", "kenya-nyeri-250-g", 12900),
                                                      (58, "KB-ESP-1K", "Espresso Blend 1 kg", "espresso-blend-1-kg", 32900),
                                                      (62, "KB-V60-02", "Hario V60 02", "hario-v60-02", 22900)])),
    ]
    out = {}
    for key, slug, locale, shop in clients:
        sends = []
        for day in AGENCY_DAYS:
            sends.extend(day_of_visits(rng, shop, ts(*map(int, day.split("-"))), locale, 9, 5, (7.0, 21.5)))
        purchases = with_id = without_id = received = ajax = 0
        for t, ev, cust in sends:
            if ev["event_name"] != "Purchase":
                continue
            purchases += 1
            oid = ev["custom_data"]["order_id"]
            if key == "a":
                ev["event_id"] = str(oid)
                with_id += 1
            elif key == "b":
                # the theme's thank-you snippet sends its own server Purchase through the plugin's API client, without event_id
                del ev["event_id"]
                without_id += 1
            else:
                if rng.random() < AGENCY_C_RECEIVED_SHARE:
                    ev["event_id"] = str(oid)
                    with_id += 1
                    received += 1
                else:
                    # express-checkout path: the Purchase is built during the AJAX order review, no event_id passed along
                    ev["event_source_url"] = shop.domain + "/?wc-ajax=update_order_review"
                    del ev["event_id"]
                    without_id += 1
                    ajax += 1
        sends.sort(key=lambda s: (s[0], s[1].get("event_id", ""), s[1]["event_name"]))
        entries, counts = plugin_entries(rng, shop, sends)
        files = write_daily_logs("agency/%s" % slug, slug, AGENCY_DAYS + ("2026-09-16",), entries, skip_empty=True)
        out[key] = dict(slug=slug, shop=shop, files=files, counts=counts, total=len(sends), purchases=purchases,
                        with_id=with_id, without_id=without_id, received=received, ajax=ajax,
                        first=entries[0][0], last=entries[-1][0])
    facts["agency"] = out
