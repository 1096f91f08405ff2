"""Shoppers and shops: user agents, locales and customers, sessions and
cookies, the WooCommerce ``Shop`` with its event funnel, and send timing.
"""

from __future__ import annotations

from .formats import B64URL, BASE62, digits, money, php_duration, php_json, rand_str, request, response, sha, uuid4
from .responses import success_body


# --------------------------------------------------------------------------
# people, devices, products
# --------------------------------------------------------------------------

# The browsers of the samples, with their weights; benchmarks/bench_archives.py draws from the same
# table (a change here changes its inputs too).
USER_AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/476.0.0.40.103;FBBV/652398716;FBDV/iPhone13,2;FBMD/iPhone;FBSN/iOS;FBSV/17.6.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/654129004]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 Instagram 361.0.0.35.82 (iPhone14,5; iOS 18_1; en_US; en; scale=3.00; 1170x2532; 675637451)",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240905.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/129.0.6668.100 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/484.0.0.63.83;]",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:136.0) Gecko/20100101 Firefox/136.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",
]
UA_WEIGHTS = [22, 12, 10, 14, 8, 6, 12, 5, 4, 7]

CRAWLER_UAS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.6998.165 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
]

LOCALES = {
    "pt": dict(
        first=["João", "Maria", "Ana", "Pedro", "Rita", "Tiago", "Inês", "Miguel", "Sofia", "Rui", "Beatriz", "Gonçalo"],
        last=["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Sousa", "Gomes", "Lopes", "Marques"],
        places=[("Lisboa", "lisboa", "1100-148"), ("Porto", "porto", "4000-322"), ("Braga", "braga", "4700-031"),
                ("Coimbra", "coimbra", "3000-150"), ("Faro", "faro", "8000-138"), ("Aveiro", "aveiro", "3810-193")],
        country="pt", phone=lambda r: "+351 9%d%d %03d %03d" % (r.choice([1, 2, 3, 6]), r.randint(0, 9), r.randint(0, 999), r.randint(0, 999)),
    ),
    "us": dict(
        first=["Emily", "Michael", "Sarah", "David", "Jessica", "Daniel", "Ashley", "Matthew", "Olivia", "Ryan", "Megan", "Kevin"],
        last=["Johnson", "Miller", "Davis", "Garcia", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Clark", "Lewis"],
        places=[("Kingston", "ny", "12401"), ("Brooklyn", "ny", "11215"), ("Albany", "ny", "12203"), ("Hoboken", "nj", "07030"),
                ("Stamford", "ct", "06901"), ("Burlington", "vt", "05401"), ("New Paltz", "ny", "12561")],
        country="us", phone=lambda r: "(%d) 555-01%02d" % (r.choice([845, 718, 518, 201, 203, 802]), r.randint(0, 99)),
    ),
    "de": dict(
        first=["Lukas", "Anna", "Jonas", "Laura", "Felix", "Lea", "Paul", "Marie", "Tim", "Sophie", "Jan", "Hannah"],
        last=["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch", "Richter", "Wolf"],
        places=[("München", "by", "80331"), ("Berlin", "be", "10115"), ("Hamburg", "hh", "20095"), ("Köln", "nw", "50667"),
                ("Freiburg im Breisgau", "bw", "79098"), ("Leipzig", "sn", "04109")],
        country="de", phone=lambda r: "+49 15%d %07d" % (r.choice([1, 2, 7, 9]), r.randint(0, 9999999)),
    ),
    "dk": dict(
        first=["Mette", "Lars", "Sofie", "Mads", "Ida", "Frederik", "Emma", "Rasmus", "Freja", "Anders", "Karen", "Søren"],
        last=["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen", "Jørgensen"],
        places=[("København K", "", "1050"), ("Aarhus C", "", "8000"), ("Odense C", "", "5000"), ("Aalborg", "", "9000"),
                ("Roskilde", "", "4000"), ("Esbjerg", "", "6700")],
        country="dk", phone=lambda r: "+45 %02d %02d %02d %02d" % (r.randint(20, 61), r.randint(0, 99), r.randint(0, 99), r.randint(0, 99)),
    ),
}

ASCII_FOLD = str.maketrans({"ã": "a", "á": "a", "à": "a", "ç": "c", "é": "e", "ê": "e", "í": "i", "ó": "o", "ô": "o",
                            "õ": "o", "ú": "u", "ü": "u", "ö": "o", "ä": "a", "ß": "ss", "ø": "o", "å": "a", "æ": "ae"})


def norm_city(city):
    return "".join(ch for ch in city.lower() if ch.isalpha())


def make_customer(rng, locale, ext_seq):
    loc = LOCALES[locale]
    first, last = rng.choice(loc["first"]), rng.choice(loc["last"])
    city, state, zp = rng.choice(loc["places"])
    local = ("%s.%s" % (first, last)).lower().translate(ASCII_FOLD)
    email = "%s%s@%s" % (local, rng.choice(["", "", str(rng.randint(2, 99))]), rng.choice(["example.com", "example.org"]))
    return dict(first=first, last=last, email=email, phone=loc["phone"](rng), city=city, state=state, zip=zp,
                country=loc["country"], ext_id=str(ext_seq), phone_cc={"pt": "", "us": "1", "de": "", "dk": ""}[locale])


def hashed_pii(c, with_external_id=True):
    """Billing data as the plugin sends it: normalised, then SHA-256."""
    ph = digits(c["phone"])
    if c["phone_cc"] and not ph.startswith(c["phone_cc"]):
        ph = c["phone_cc"] + ph
    d = {"em": sha(c["email"].strip().lower()), "fn": sha(c["first"].lower()), "ln": sha(c["last"].lower()),
         "ph": sha(ph), "ct": sha(norm_city(c["city"]))}
    if c["state"]:
        d["st"] = sha(c["state"].lower())
    d["zp"] = sha(c["zip"].replace("-", "").replace(" ", "").lower())
    if with_external_id:
        d["external_id"] = sha(c["ext_id"])
    d["country"] = sha(c["country"])
    return d


def rand_ip(rng):
    r = rng.random()
    if r < 0.42:
        return "203.0.113.%d" % rng.randint(2, 254)
    if r < 0.80:
        return "198.51.100.%d" % rng.randint(2, 254)
    if r < 0.90:
        return "192.0.2.%d" % rng.randint(2, 254)
    return "2001:db8:%x:%x::%x" % (rng.randint(0x100, 0xffff), rng.randint(0x1, 0xffff), rng.randint(0x1, 0xffff))


def make_fbclid(rng):
    return "IwZXh0bgNhZW0CMTEAAR" + rand_str(rng, B64URL, 44) + "_aem_" + rand_str(rng, B64URL, 22)


class Shop:
    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.next_order = kw["first_order"]
        self.next_ext = kw["first_ext"]

    @property
    def user_agent(self):
        return "Facebook-for-WooCommerce/%s (WooCommerce/%s; WordPress/%s)" % (self.plugin, self.wc, self.wp)

    @property
    def partner_agent(self):
        return "woocommerce-%s-%s" % (self.wc, self.plugin)

    @property
    def uri(self):
        return "https://graph.facebook.com/%s/%s/events" % (self.graph, self.pixel)

    def rid(self, p):
        post_id, sku = p[0], p[1]
        return "%s_%d" % (sku, post_id) if sku else "wc_post_id_%d" % post_id

    def product_url(self, p):
        return "%s%s%s/" % (self.domain, self.product_path, p[3])


def new_session(rng, shop, t0, fbc_share=0.35):
    ua = rng.choices(USER_AGENTS, weights=UA_WEIGHTS)[0]
    first_visit = t0 - rng.randint(0, 45 * 86400)
    s = dict(ip=rand_ip(rng), ua=ua,
             fbp="fb.1.%d%03d.%d" % (first_visit, rng.randint(0, 999), rng.randint(100000000, 2147483647)),
             fbc=None, fbclid=None)
    if rng.random() < fbc_share:
        s["fbclid"] = make_fbclid(rng)
        s["fbc"] = "fb.1.%d%03d.%s" % (t0 - rng.randint(1, 4), rng.randint(0, 999), s["fbclid"])
    return s


def user_data(sess, extra=None, gen2x=False):
    ud = {"client_ip_address": sess["ip"], "client_user_agent": sess["ua"]}
    if extra:
        ud.update(extra)
    if gen2x:
        ud["fbc"] = sess["fbc"] or ""
        ud["fbp"] = sess["fbp"]
    else:
        if sess["fbc"]:
            ud["fbc"] = sess["fbc"]
        if sess["fbp"]:
            ud["fbp"] = sess["fbp"]
    return ud


def event(name, event_time, event_id, url, custom, ud):
    ev = {"action_source": "website", "event_time": event_time, "event_id": event_id, "event_source_url": url}
    if custom:
        ev["custom_data"] = custom
    ev["user_data"] = ud
    ev["event_name"] = name
    return ev


def custom_for(shop, name, items, order_id=None, shipping=0):
    """items: list of (product, qty)."""
    ids = [shop.rid(p) for p, _ in items]
    names = [p[2] for p, _ in items]
    contents = [{"id": shop.rid(p), "quantity": q} for p, q in items]
    total = sum(p[4] * q for p, q in items)
    if name == "ViewContent":
        p = items[0][0]
        return {"content_name": p[2], "content_ids": php_json(ids), "content_type": "product",
                "contents": php_json(contents), "value": money(p[4]), "currency": shop.currency}
    if name == "AddToCart":
        return {"content_ids": php_json(ids), "content_name": php_json(names), "content_type": "product",
                "contents": php_json(contents), "value": money(total), "currency": shop.currency}
    if name == "InitiateCheckout":
        return {"num_items": sum(q for _, q in items), "content_ids": php_json(ids), "content_name": php_json(names),
                "content_type": "product", "contents": php_json(contents), "value": money(total), "currency": shop.currency}
    if name == "Purchase":
        return {"content_ids": php_json(ids), "content_name": php_json(names), "contents": php_json(contents),
                "content_type": "product", "value": money(total + shipping), "currency": shop.currency, "order_id": order_id}
    return None


def funnel(rng, shop, start, purchase, locale, pageview_share=0.35, gen2x=False, logged_in_pii=False):
    """One visitor session -> list of (event_time, event dict, customer or None)."""
    sess = new_session(rng, shop, start)
    out = []
    t = start
    landing = shop.domain + "/"
    if sess["fbclid"]:
        landing += "?fbclid=%s&utm_source=facebook&utm_medium=paid&utm_campaign=%s" % (sess["fbclid"], shop.campaign)
    if rng.random() < pageview_share or not purchase:
        out.append((t, event("PageView", t, uuid4(rng), landing, None, user_data(sess, gen2x=gen2x)), None))
        t += rng.randint(5, 60)
    n = 1 if rng.random() < 0.6 else 2
    picks = rng.sample(shop.products, n)
    cart = []
    for p in picks:
        out.append((t, event("ViewContent", t, uuid4(rng), shop.product_url(p),
                             custom_for(shop, "ViewContent", [(p, 1)]), user_data(sess, gen2x=gen2x)), None))
        t += rng.randint(10, 110)
        if purchase or rng.random() < 0.35:
            q = 1 if rng.random() < 0.8 else 2
            cart.append((p, q))
            out.append((t, event("AddToCart", t, uuid4(rng), shop.product_url(p),
                                 custom_for(shop, "AddToCart", [(p, q)]), user_data(sess, gen2x=gen2x)), None))
            t += rng.randint(15, 140)
    if not purchase:
        return out, t
    cust = make_customer(rng, locale, shop.next_ext)
    shop.next_ext += rng.randint(1, 7)
    t += rng.randint(10, 120)
    out.append((t, event("InitiateCheckout", t, uuid4(rng), shop.domain + shop.checkout_path,
                         custom_for(shop, "InitiateCheckout", cart), user_data(sess, gen2x=gen2x)), None))
    t += rng.randint(70, 420)
    oid = shop.next_order
    shop.next_order += rng.randint(1, 3)
    subtotal = sum(p[4] * q for p, q in cart)
    shipping = 0 if subtotal >= shop.free_shipping else shop.shipping
    url = "%s%s%d/?key=wc_order_%s" % (shop.domain, shop.received_path, oid, rand_str(rng, BASE62, 13))
    ud = user_data(sess, hashed_pii(cust, with_external_id=not gen2x), gen2x=gen2x)
    out.append((t, event("Purchase", t, uuid4(rng), url, custom_for(shop, "Purchase", cart, oid, shipping), ud), cust))
    return out, t


def session_starts(rng, day_start, n, hour_lo, hour_hi):
    """n session start times inside [hour_lo, hour_hi) of the day, sorted."""
    starts = []
    for _ in range(n):
        h = rng.uniform(hour_lo, hour_hi)
        starts.append(day_start + int(h * 3600))
    return sorted(starts)


def send_timing(rng, event_time):
    """-> (log time of the Request/Response entries, duration string)."""
    dur = rng.uniform(0.19, 0.92) if rng.random() < 0.93 else rng.uniform(1.1, 2.6)
    lag = int(rng.uniform(0.0, 1.6) + dur)
    return event_time + lag, php_duration(dur)


def day_of_visits(rng, shop, day, locale, buyers, browsers, buy_hours, browse_hours=(6.5, 22.5)):
    """One day's events: ``buyers`` sessions that end in a Purchase (started in
    ``buy_hours``), then ``browsers`` that do not -> list of (event_time, event, customer)."""
    sends = []
    for start in session_starts(rng, day, buyers, *buy_hours):
        sends.extend(funnel(rng, shop, start, True, locale, pageview_share=0.3)[0])
    for start in session_starts(rng, day, browsers, *browse_hours):
        sends.extend(funnel(rng, shop, start, False, locale)[0])
    return sends


def plugin_entries(rng, shop, sends, late_response_share=0.0):
    """What plugin 3.5 logs for each sent event (v2 handler, all accepted): a
    Request and a Response entry, the Response a second later for
    ``late_response_share`` of them -> (entries sorted by time, counts by event name)."""
    entries = []
    counts = {}
    for event_time, ev, _ in sends:
        log_t, dur = send_timing(rng, event_time)
        req = request(shop.uri, shop.user_agent, php_json({"data": [ev], "partner_agent": shop.partner_agent}), dur)
        resp = response("200", "OK", success_body(rng))
        resp_t = log_t + (1 if late_response_share and rng.random() < late_response_share else 0)
        entries.append((log_t, "v2", "notice", req))
        entries.append((resp_t, "v2", "notice", resp))
        counts[ev["event_name"]] = counts.get(ev["event_name"], 0) + 1
    entries.sort(key=lambda e: e[0])
    return entries, counts
