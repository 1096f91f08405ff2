"""Story 1. healthy shop: plugin 3.5.x, WC v2 handler, non-legacy ISO entries
"""

from __future__ import annotations

import random

from ..formats import iso_wc, php_json, render, request, response, ts, wc_file_hash, write
from ..responses import success_body
from ..shops import Shop, funnel, send_timing, session_starts


# Pixel / dataset ids, one per account.
PIXEL_HEALTHY = "1482736450918273"


def story_healthy(facts):
    rng = random.Random(20260302)
    shop = Shop(pixel=PIXEL_HEALTHY, domain="https://www.cafe-aroma.example.com", currency="EUR",
                wc="9.9.5", wp="6.8.2", plugin="3.5.4", graph="v21.0", campaign="primavera_cafe",
                product_path="/produto/", checkout_path="/finalizar-compra/",
                received_path="/finalizar-compra/encomenda-recebida/", first_order=4810, first_ext=1201,
                free_shipping=3500, shipping=390,
                products=[(118, "ETI-YIR-250", "Etiópia Yirgacheffe 250g", "etiopia-yirgacheffe-250g", 1290),
                          (121, "COL-HUI-250", "Colômbia Huila 250g", "colombia-huila-250g", 1150),
                          (127, "BRA-SAN-1K", "Brasil Santos 1kg", "brasil-santos-1kg", 2900),
                          (133, "BLD-EXP-500", "Blend Expresso 500g", "blend-expresso-500g", 1840),
                          (140, "MOI-MAN-01", "Moinho manual de café", "moinho-manual-de-cafe", 4900),
                          (144, "PRE-FRA-08", "Prensa francesa 800 ml", "prensa-francesa-800-ml", 3490),
                          (152, "CAP-CMP-40", "Cápsulas compatíveis (40 un.)", "capsulas-compativeis-40-un", 990),
                          (158, "CAN-ESM-01", "Caneca esmaltada", "caneca-esmaltada", 1400)])
    sends = []  # (event_time, event, customer)
    for day in (ts(2026, 3, 2), ts(2026, 3, 3)):
        for start in session_starts(rng, day, 30, 7.0, 21.8):
            evs, _ = funnel(rng, shop, start, True, "pt", pageview_share=0.3)
            sends.extend(evs)
        for start in session_starts(rng, day, 16, 6.5, 22.5):
            evs, _ = funnel(rng, shop, start, False, "pt")
            sends.extend(evs)
    sends.sort(key=lambda s: (s[0], s[1]["event_id"]))

    entries = []
    counts = {}
    for event_time, ev, _ in sends:
        log_t, dur = send_timing(rng, event_time)
        body = php_json({"data": [ev], "partner_agent": shop.partner_agent})
        req = request(shop.uri, shop.user_agent, body, dur)
        resp = response("200", "OK", success_body(rng))
        resp_t = log_t + (1 if rng.random() < 0.05 else 0)
        entries.append((log_t, "v2", "notice", req))
        entries.append((resp_t, "v2", "notice", resp))
        counts[ev["event_name"]] = counts.get(ev["event_name"], 0) + 1
    entries.sort(key=lambda e: e[0])

    files = []
    for day in ("2026-03-02", "2026-03-03"):
        fid = "facebook_for_woocommerce-%s" % day
        text = "".join(render(e) for e in entries if iso_wc(e[0]).startswith(day))
        files.append(write("woocommerce/healthy-shop/%s-%s.log" % (fid, wc_file_hash("cafe-aroma", fid)), text))
    facts["healthy"] = dict(files=files, counts=counts, total=len(sends), first=entries[0][0], last=entries[-1][0],
                            shop=shop)
