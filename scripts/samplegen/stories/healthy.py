"""Story 1. healthy shop: plugin 3.5.x, WC v2 handler, non-legacy ISO entries
"""

from __future__ import annotations

import random

from ..formats import ts, write_daily_logs
from ..shops import Shop, day_of_visits, plugin_entries


# Pixel / dataset id of this account.
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
        sends.extend(day_of_visits(rng, shop, day, "pt", 30, 16, (7.0, 21.8)))
    sends.sort(key=lambda s: (s[0], s[1]["event_id"]))
    entries, counts = plugin_entries(rng, shop, sends, late_response_share=0.05)
    files = write_daily_logs("woocommerce/healthy-shop", "cafe-aroma", ("2026-03-02", "2026-03-03"), entries)
    facts["healthy"] = dict(files=files, counts=counts, total=len(sends), first=entries[0][0], last=entries[-1][0],
                            shop=shop)
