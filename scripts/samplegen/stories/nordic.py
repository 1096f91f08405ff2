"""Story 7. Shopify store + server-side GTM (Stape Facebook tag), 5 weeks:
   server Purchases stop for 12 days after a tag-template update
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random

from ..formats import B64, B64URL, digits, fake_token, fbtrace, gzip_bytes, iso_ns, iso_us, money, rand_str, ruby_json, sha, ts, utc, uuid4, write
from ..shops import USER_AGENTS, make_customer, new_session, norm_city, rand_ip


PIXEL_NORDIC = "2231948576610394"
NORDIC_SHOP = "nordic-wool.myshopify.com"
NORDIC_SITE = "https://nordic-wool.example.com"
NORDIC_SGTM = "https://sgtm.nordic-wool.example.com"
NORDIC_GA4 = "G-7QK2M9XW4L"
NORDIC_PROJECT = "nordic-wool-sgtm"
NORDIC_SECRET = "3b8f0c6e1d9a4f27b5e2c8d1a6f90e4c"  # made-up webhook signing secret (see README)
NORDIC_START = ts(2026, 10, 5)                      # Monday, week 1 (UTC)
NORDIC_WEEKS = 5
NORDIC_DST_END = ts(2026, 10, 25, 1, 0, 0)          # Europe/Copenhagen: CEST (+02:00) -> CET (+01:00)
NORDIC_UPDATE = ts(2026, 10, 16, 9, 41, 0)          # Stape Facebook tag 2.1.3 -> 2.2.0 published
NORDIC_FIX = ts(2026, 10, 28, 9, 36, 0)             # trigger re-attached and published again
NORDIC_OUTAGE = (ts(2026, 10, 29, 22, 0, 0), ts(2026, 10, 30, 9, 0, 0))  # webhook endpoint down -> REST backfill
NORDIC_PRODUCTS = [("Merino Beanie", "NW-BEA-01", 34900, 41234567890123001), ("Lopi Sweater", "NW-LOP-M", 129900, 41234567890123017),
                   ("Wool Socks (3-pack)", "NW-SOC-3", 19900, 41234567890123029), ("Alpaca Scarf", "NW-ALP-SC", 59900, 41234567890123043),
                   ("Knitting Kit Fjord", "NW-KIT-FJ", 44900, 41234567890123051), ("Felted Slippers", "NW-SLP-40", 39900, 41234567890123067)]
STAPE_OLD, STAPE_NEW = "stape-gtmss-2.1.3", "stape-gtmss-2.2.0"


def cph_offset(t):
    return 1 if t >= NORDIC_DST_END else 2


def shop_time(t):
    """Shopify payload time in the shop's zone, e.g. 2026-10-05T10:12:03+02:00."""
    off = cph_offset(t)
    return (utc(t) + dt.timedelta(hours=off)).strftime("%Y-%m-%dT%H:%M:%S") + "+%02d:00" % off


def shopify_hmac(raw):
    import base64
    import hmac as _hmac
    return base64.b64encode(_hmac.new(NORDIC_SECRET.encode(), raw.encode("utf-8"), hashlib.sha256).digest()).decode()


def week_of(t):
    return (t - NORDIC_START) // (7 * 86400)


def nordic_orders(rng):
    """All orders of the 5 weeks, time-sorted: dicts with the body and the story flags."""
    orders = []
    oid = 6391854072315904113
    number = 2841
    cust_id = 7713029548261193001
    line_id = 15830047721936420011
    starts = []
    for day in range(NORDIC_WEEKS * 7):
        d0 = NORDIC_START + day * 86400
        n = 150 // 7 + rng.choice([-3, -2, -1, 0, 0, 1, 1, 2, 3]) + (1 if day % 7 in (5, 6) else 0)
        for _ in range(n):
            # shop-local 07:00-23:30 -> UTC
            local_h = rng.choice([7, 8, 9, 10, 11, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 20, 21, 21, 22, 23])
            starts.append(d0 + local_h * 3600 - cph_offset(d0 + 12 * 3600) * 3600 + rng.randint(0, 3599))
    specials = {ts(2026, 10, 16, 9, 52, 18): "test", ts(2026, 10, 28, 9, 40, 51): "test",
                ts(2026, 10, 10, 9, 14, 5): "pos", ts(2026, 10, 10, 11, 47, 33): "pos", ts(2026, 10, 31, 10, 22, 9): "pos"}
    allt = sorted([(t, "web") for t in starts] + list(specials.items()))
    for t, kind in allt:
        oid += rng.randint(1800000, 9600000)
        number += 1
        cust = make_customer(rng, "dk", 0)
        cust_id += rng.randint(1000, 99999)
        n_items = 1 if rng.random() < 0.65 else 2
        items = []
        for p in rng.sample(NORDIC_PRODUCTS, n_items):
            line_id += rng.randint(100, 9999)
            items.append(dict(id=line_id, product_id=p[3], variant_id=p[3] + 100000000, sku=p[1], title=p[0],
                              price=money(p[2]), quantity=1 if rng.random() < 0.85 else 2))
        subtotal = sum(int(i["price"].replace(".", "")) * i["quantity"] for i in items)
        shipping = 0 if subtotal >= 50000 or kind == "pos" else 4900
        total = subtotal + shipping
        sess = new_session(rng, None, t, fbc_share=0.4) if kind != "pos" else None
        ctoken = rand_str(rng, "0123456789abcdef", 32)
        cart = "Z2NwLWV1cm9wZS13ZXN0MTo" + rand_str(rng, B64URL, 10)
        if kind == "pos":
            body = {"id": oid, "admin_graphql_api_id": "gid://shopify/Order/%d" % oid, "browser_ip": None, "cart_token": None,
                    "checkout_token": None, "client_details": None, "contact_email": None, "created_at": shop_time(t),
                    "currency": "DKK", "email": "", "financial_status": "paid", "landing_site": None, "location_id": 84210073651,
                    "name": "#%d" % number, "note_attributes": [], "order_number": number,
                    "order_status_url": "%s/71234567890/orders/%s/authenticate?key=%s" % (NORDIC_SITE, ctoken, rand_str(rng, "0123456789abcdef", 32)),
                    "phone": None, "presentment_currency": "DKK", "processed_at": shop_time(t), "referring_site": None,
                    "source_name": "pos", "test": False, "total_price": money(total), "updated_at": shop_time(t + 1),
                    "billing_address": None, "customer": None}
        else:
            landing = "/"
            if sess["fbclid"]:
                landing = "/products/lopi-sweater?fbclid=%s&utm_source=facebook&utm_medium=paid" % sess["fbclid"]
            body = {"id": oid, "admin_graphql_api_id": "gid://shopify/Order/%d" % oid, "browser_ip": sess["ip"], "cart_token": cart,
                    "checkout_token": ctoken,
                    "client_details": {"accept_language": rng.choice(["da-DK", "da", "en-US", "sv-SE", "nb-NO", "de-DE"]), "browser_height": None,
                                       "browser_ip": sess["ip"], "browser_width": None, "session_hash": None, "user_agent": sess["ua"]},
                    "contact_email": cust["email"], "created_at": shop_time(t), "currency": "DKK", "email": cust["email"],
                    "financial_status": "paid", "landing_site": landing, "name": "#%d" % number,
                    "note_attributes": [{"name": "_fbp", "value": sess["fbp"]}], "order_number": number,
                    "order_status_url": "%s/71234567890/orders/%s/authenticate?key=%s" % (NORDIC_SITE, ctoken, rand_str(rng, "0123456789abcdef", 32)),
                    "phone": cust["phone"] if rng.random() < 0.4 else None, "presentment_currency": "DKK", "processed_at": shop_time(t - 1),
                    "referring_site": "https://l.facebook.com/" if sess["fbclid"] else rng.choice([None, "https://www.google.com/", ""]),
                    "source_name": "web", "test": kind == "test", "total_price": money(total), "updated_at": shop_time(t + 2),
                    "billing_address": {"first_name": cust["first"], "last_name": cust["last"], "phone": cust["phone"], "city": cust["city"],
                                        "zip": cust["zip"], "province": None, "country": "Denmark", "country_code": "DK", "province_code": None},
                    "customer": {"id": cust_id, "email": cust["email"], "first_name": cust["first"], "last_name": cust["last"], "phone": None}}
            if kind == "test":
                body["gateway"] = "bogus"
                body["email"] = body["contact_email"] = "owner@example.org"
                body["customer"]["email"] = "owner@example.org"
        body["line_items"] = items
        orders.append(dict(t=t, id=oid, kind=kind, body=body, sess=sess, cust=cust, total=total,
                           event_id=str(uuid4(rng)), webhook_create=uuid4(rng), webhook_paid=uuid4(rng),
                           hit=kind != "pos" and rng.random() < 0.95))  # ~5 % of buyers block the GA4/sGTM hit
    return orders


def shopify_headers(o, topic, style, rng):
    trig = o["t"] + (1 if topic == "orders/create" else 2)
    ns = rng.randint(0, 999999999)
    pairs = [("X-Shopify-Topic", topic), ("X-Shopify-Hmac-Sha256", None), ("X-Shopify-Shop-Domain", NORDIC_SHOP),
             ("X-Shopify-API-Version", "2025-07"),
             ("X-Shopify-Webhook-Id", o["webhook_create"] if topic == "orders/create" else o["webhook_paid"]),
             ("X-Shopify-Event-Id", o["event_id"]), ("X-Shopify-Triggered-At", iso_ns(trig, ns)),
             ("X-Shopify-Order-Id", str(o["id"])), ("X-Shopify-Test", "true" if o["kind"] == "test" else "false"),
             ("Content-Type", "application/json"), ("User-Agent", "Shopify-Captain-Hook")]
    if style == "lower":
        pairs = [(k.lower(), v) for k, v in pairs]
    return pairs


def story_nordic(facts):
    rng = random.Random(20261005)
    orders = nordic_orders(rng)
    files, dup_ids, outage = shopify_files(rng, orders)
    log = SgtmLog(rng)
    token = fake_token(rng)
    server, browser = purchase_hits(rng, orders)
    entries = [*browser_requests(log, browser), *page_views(log)]
    page_view_n = len(entries) - len(browser)
    entries += tag_requests(log, server, token)
    noise = noise_lines(log)
    entries += noise
    entries.sort(key=lambda e: (e[0], e[1], e[3]["insertId"]))
    sgtm_files = write_sgtm_files(entries, server, log.redeploy)
    facts["nordic"] = readme_numbers(orders, server, browser)
    facts["nordic"].update(
        files=files, sgtm_files=sgtm_files, dup_ids=dup_ids, noise=len(noise), page_views=page_view_n, redeploy=log.redeploy,
        token_prefix=token[:12], outage=outage)


# ---- Shopify side -------------------------------------------------------------

def shopify_files(rng, orders):
    """The webhook deliveries of ``orders`` as the shop saved them, in a
    different form for each period -> (files {form: (path, count)}, the ids of
    the deliveries Shopify retried, the number of orders in the outage)."""
    base = "shopify/nordic-wool/"
    files = {}
    groups = {"env_raw": [], "env_obj": [], "http": [], "bare_paid": [], "rest": []}
    for o in orders:
        w = week_of(o["t"])
        if NORDIC_OUTAGE[0] <= o["t"] < NORDIC_OUTAGE[1]:
            groups["rest"].append(o)
        elif w <= 1:
            groups["env_raw"].append(o)
        elif w <= 3:
            groups["env_obj"].append(o)
        else:
            groups["http"].append(o)
    dup_ids = []

    # weeks 1-2: NDJSON envelopes written by the shop's Node webhook receiver: raw string body, Title-Case headers
    def raw_envelope(o, topic, raw):
        hd = dict(shopify_headers(o, topic, "title", rng))
        hd["X-Shopify-Hmac-Sha256"] = shopify_hmac(raw)
        return json.dumps({"headers": hd, "body": raw}, ensure_ascii=False), hd["X-Shopify-Webhook-Id"]

    # weeks 3-4: envelopes re-serialised by a queue consumer: object body, lowercase headers as lists (HTTP/2)
    def object_envelope(o, topic, raw):
        hd = {}
        for key, val in shopify_headers(o, topic, "lower", rng):
            hd[key] = [shopify_hmac(raw) if val is None else val]
        return json.dumps({"headers": hd, "body": o["body"]}, ensure_ascii=False), hd["x-shopify-webhook-id"][0]

    files["env_raw"] = write_envelopes(rng, groups["env_raw"], raw_envelope, "orders/create", (37, 121, 250), dup_ids,
                                       base + "webhooks-2026-10-05_2026-10-18.ndjson", ts(2026, 10, 19, 0, 5))
    files["env_obj"] = write_envelopes(rng, groups["env_obj"], object_envelope, "orders/paid", (64, 199), dup_ids,
                                       base + "webhooks-2026-10-19_2026-11-01.ndjson", ts(2026, 11, 2, 0, 5))
    files.update(write_captures(rng, groups["http"], base))
    # REST backfill of the orders whose deliveries failed during the receiver outage
    rel = base + "orders-export-2026-10-29_2026-10-30.json"
    write(rel, json.dumps({"orders": [o["body"] for o in groups["rest"]]}, ensure_ascii=False, indent=2) + "\n")
    files["rest"] = (rel, len(groups["rest"]))
    # one POS order as a single pretty-printed bare payload saved from the admin "webhook test" page
    pos = [o for o in orders if o["kind"] == "pos"][-1]
    rel = base + "order-%d.json" % pos["id"]
    write(rel, json.dumps(pos["body"], ensure_ascii=False, indent=2) + "\n")
    files["single"] = (rel, 1)
    return files, dup_ids, len(groups["rest"])


def write_envelopes(rng, orders, envelope, dup_topic, dup_orders, dup_ids, path, mtime):
    """One gzipped NDJSON file of envelopes, ``orders/create`` and
    ``orders/paid`` for each order (``envelope(order, topic, raw body)`` ->
    (line, webhook id)).  The ``dup_topic`` delivery of the orders numbered
    ``dup_orders`` got a 5xx from the receiver, so Shopify retried it: it
    stands again 4-20 lines later and its id joins ``dup_ids``.
    -> (path written, lines)."""
    lines, dups = [], []
    for k, o in enumerate(orders):
        for topic in ("orders/create", "orders/paid"):
            line, webhook_id = envelope(o, topic, ruby_json(o["body"]))
            lines.append(line)
            if topic == dup_topic and k in dup_orders:
                dups.append((len(lines) + rng.randint(4, 20), line))
                dup_ids.append(webhook_id)
    for pos, line in sorted(dups, reverse=True):
        lines.insert(pos, line)
    rel = path + ".gz"
    write(rel, gzip_bytes(("\n".join(lines) + "\n").encode("utf-8"), path.rsplit("/", 1)[-1], mtime))
    return rel, len(lines)


def write_captures(rng, orders, base):
    """Week 5: orders/create as raw HTTP captures (request bin), orders/paid as
    bare payloads from a queue dump -> {form: (path, count)}."""
    caps, bare = [], []
    for o in orders:
        raw = ruby_json(o["body"])
        hd = shopify_headers(o, "orders/create", "lower", rng)
        head = ["POST /webhooks/shopify/orders-create HTTP/1.1", "content-type: application/json", "accept: */*",
                "accept-encoding: gzip;q=1.0,deflate;q=0.6,identity;q=0.3"]
        for key, val in hd:
            if key in ("content-type",):
                continue
            head.append("%s: %s" % (key, shopify_hmac(raw) if val is None else val))
        head.append("content-length: %d" % len(raw.encode("utf-8")))
        caps.append("\n".join(head) + "\n\n" + raw + "\n")
        bare.append(ruby_json(o["body"]))
    rel = base + "capture-orders-create-2026-11-02_2026-11-08.http"
    write(rel, "\n".join(caps))
    out = {"http": (rel, len(caps))}
    rel = base + "queue-dump-orders-paid-2026-11-02_2026-11-08.ndjson.gz"
    write(rel, gzip_bytes(("\n".join(bare) + "\n").encode("utf-8"), "queue-dump-orders-paid-2026-11-02_2026-11-08.ndjson", ts(2026, 11, 9, 7, 30)))
    out["bare"] = (rel, len(bare))
    return out


# ---- sGTM side ----------------------------------------------------------------

class SgtmLog:
    """The Cloud Run service of the sGTM container: its two revisions (a
    nightly image refresh redeploys it, and from then on stdout is parsed as
    jsonPayload), its instances, and Cloud Logging entries of its stdout."""

    def __init__(self, rng):
        self.rng = rng
        self.res_old = {"type": "cloud_run_revision", "labels": {
            "service_name": "server-side-tagging", "revision_name": "server-side-tagging-00031-paq",
            "configuration_name": "server-side-tagging", "location": "europe-north1", "project_id": NORDIC_PROJECT}}
        self.res_new = json.loads(json.dumps(self.res_old))
        self.res_new["labels"]["revision_name"] = "server-side-tagging-00032-wuz"
        self.redeploy = ts(2026, 10, 16, 3, 12, 0)   # nightly refresh of the sGTM image: new revision, stdout parsed as jsonPayload
        self.instances = ["00bf4bf02d%s" % rand_str(rng, "0123456789abcdef", 22) for _ in range(4)]
        self.seq = 0

    def resource(self, t):
        return self.res_new if t >= self.redeploy else self.res_old

    def iid(self):
        self.seq += 1
        return "%08x%06x%010x" % (0x6650000 + self.seq, self.rng.randint(0, 0xffffff), self.rng.getrandbits(40))

    def stdout_entry(self, t, us, payload, as_json):
        rng = self.rng
        e = {"insertId": self.iid()}
        if as_json:
            e["jsonPayload"] = payload
        else:
            e["textPayload"] = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        e.update({"resource": self.resource(t), "timestamp": iso_us(t, us), "severity": "DEFAULT",
                  "labels": {"instanceId": rng.choice(self.instances)},
                  "logName": "projects/%s/logs/run.googleapis.com%%2Fstdout" % NORDIC_PROJECT,
                  "receiveTimestamp": iso_ns(t, us * 1000 + rng.randint(1, 999) + 0)})
        return e


def purchase_hits(rng, orders):
    """The GA4 purchase hit of each order's thank-you page, and the server
    Purchase the Facebook tag sends for it (none between the tag update and
    the fix, except for test orders) -> (server [(t, order, tag version)],
    browser [(t, order)])."""
    server = []
    browser = []
    for o in orders:
        if o["kind"] == "pos" or not o["hit"]:
            continue
        t_hit = o["t"] + rng.randint(4, 25)   # thank-you page loaded, GA4 purchase hit to sGTM
        browser.append((t_hit, o))
        version = STAPE_OLD if t_hit < NORDIC_UPDATE else STAPE_NEW
        silent = NORDIC_UPDATE <= t_hit < NORDIC_FIX and o["kind"] != "test"
        if not silent:
            server.append((t_hit, o, version))
    return server, browser


def browser_requests(log, browser):
    """Browser leg: the Cloud Run request log entry of each purchase hit."""
    rng = log.rng
    entries = []
    for t_hit, o in browser:
        s = o["sess"]
        us = rng.randint(0, 999999)
        thank = "%s/checkouts/c/%s/thank-you" % (NORDIC_SITE, o["body"]["checkout_token"])
        cid = "%d.%d" % (rng.randint(100000000, 2147483647), int(s["fbp"].split(".")[2][:10]))
        items = "".join("&pr%d=id%s~nm%s~pr%s~qt%d" % (i + 1, li["sku"], li["title"].replace(" ", "%20").replace("(", "%28").replace(")", "%29"), li["price"], li["quantity"])
                        for i, li in enumerate(o["body"]["line_items"]))
        url = ("%s/g/collect?v=2&tid=%s&gtm=45je6a10v9&_p=%d&cid=%s&ul=%s&sr=%s&_s=%d&sid=%d&sct=%d&seg=1&dl=%s&dt=Tak%%20for%%20din%%20ordre"
               "&en=purchase&_et=%d&ep.transaction_id=%d&cu=DKK&epn.value=%s%s" % (
                   NORDIC_SGTM, NORDIC_GA4, rng.randint(1000000000, 1999999999), cid,
                   o["body"]["client_details"]["accept_language"].lower(), rng.choice(["390x844", "1920x1080", "1440x900", "412x915"]),
                   rng.randint(5, 40), t_hit - rng.randint(60, 1800), rng.randint(1, 9),
                   thank.replace(":", "%3A").replace("/", "%2F"), rng.randint(5, 900), o["id"], o["body"]["total_price"], items))
        e = {"insertId": log.iid(),
             "httpRequest": {"requestMethod": "POST", "requestUrl": url, "requestSize": str(rng.randint(900, 2400)), "status": 200,
                             "responseSize": str(rng.choice([221, 229, 412])), "userAgent": s["ua"], "remoteIp": s["ip"], "serverIp": "216.239.32.53",
                             "latency": "%.6fs" % rng.uniform(0.02, 0.3), "protocol": "HTTP/1.1"},
             "resource": log.resource(t_hit), "timestamp": iso_us(t_hit, us), "severity": "INFO",
             "labels": {"instanceId": rng.choice(log.instances)},
             "logName": "projects/%s/logs/run.googleapis.com%%2Frequests" % NORDIC_PROJECT,
             "trace": "projects/%s/traces/%s" % (NORDIC_PROJECT, rand_str(rng, "0123456789abcdef", 32)),
             "receiveTimestamp": iso_ns(t_hit, us * 1000 + rng.randint(100000000, 900000000) % 1000),
             "spanId": rand_str(rng, "0123456789abcdef", 16), "traceSampled": False}
        entries.append((t_hit, us, "request", e))
    return entries


def page_views(log):
    """A few page_view hits per day (storefront pages that load the GA4 tag
    through sGTM; the Facebook tag ignores them), from their own seed."""
    prng = random.Random(20261006)
    entries = []
    for day in range(NORDIC_WEEKS * 7):
        for k in range(3):
            t_pv = NORDIC_START + day * 86400 + (prng.randint(1200, 2400) if k == 0 else prng.randint(3600, 86000))
            us = prng.randint(0, 999999)
            path = prng.choice(["/", "/collections/all", "/products/lopi-sweater", "/products/merino-beanie", "/pages/om-os"])
            url = "%s/g/collect?v=2&tid=%s&gtm=45je6a10v9&_p=%d&cid=%d.%d&ul=da-dk&sr=390x844&_s=1&dl=%s&en=page_view&_ee=1" % (
                NORDIC_SGTM, NORDIC_GA4, prng.randint(1000000000, 1999999999), prng.randint(100000000, 2147483647), t_pv - prng.randint(0, 864000),
                (NORDIC_SITE + path).replace(":", "%3A").replace("/", "%2F"))
            e = {"insertId": "pv%06x%08x" % (day * 3 + k, prng.getrandbits(32)),
                 "httpRequest": {"requestMethod": "POST", "requestUrl": url, "requestSize": str(prng.randint(700, 1400)), "status": 200,
                                 "responseSize": "221", "userAgent": prng.choice(USER_AGENTS), "remoteIp": rand_ip(prng), "serverIp": "216.239.32.53",
                                 "latency": "%.6fs" % prng.uniform(0.02, 0.2), "protocol": "HTTP/1.1"},
                 "resource": log.resource(t_pv), "timestamp": iso_us(t_pv, us), "severity": "INFO",
                 "labels": {"instanceId": prng.choice(log.instances)},
                 "logName": "projects/%s/logs/run.googleapis.com%%2Frequests" % NORDIC_PROJECT,
                 "trace": "projects/%s/traces/%s" % (NORDIC_PROJECT, rand_str(prng, "0123456789abcdef", 32)),
                 "receiveTimestamp": iso_ns(t_pv, us * 1000 + 417), "spanId": rand_str(prng, "0123456789abcdef", 16), "traceSampled": False}
            entries.append((t_pv, us, "request", e))
    return entries


def tag_requests(log, server, token):
    """Server leg: the Stape Facebook tag's Request/Response lines on stdout."""
    rng = log.rng
    entries = []
    for t_hit, o, version in server:
        s, c, b = o["sess"], o["cust"], o["body"]
        t_req = t_hit + rng.randint(0, 1)
        us = rng.randint(0, 999999)
        trace_id = uuid4(rng)
        ud = {"client_user_agent": s["ua"], "client_ip_address": s["ip"], "fbp": s["fbp"]}
        if s["fbc"]:
            ud["fbc"] = s["fbc"]
        ud["em"] = sha(b["email"].lower())
        if b["phone"]:
            ud["ph"] = sha(digits(b["phone"]))
        ud["fn"] = sha(c["first"].lower())
        ud["ln"] = sha(c["last"].lower())
        ud["ct"] = sha(norm_city(c["city"]))
        ud["zp"] = sha(c["zip"])
        ud["country"] = sha("dk")
        ud["external_id"] = sha(str(b["customer"]["id"]))
        ev = {"event_name": "Purchase", "action_source": "website", "event_time": t_req,
              "custom_data": {"currency": "DKK", "value": float(b["total_price"]) if "." in b["total_price"] else int(b["total_price"]),
                              "order_id": str(o["id"]), "content_type": "product",
                              "contents": [{"id": li["sku"], "quantity": li["quantity"], "item_price": float(li["price"])} for li in b["line_items"]]},
              "user_data": ud, "event_source_url": "%s/checkouts/c/%s/thank-you" % (NORDIC_SITE, b["checkout_token"]),
              "event_id": str(o["id"])}
        req = {"Name": "Facebook", "Type": "Request", "EventName": "Purchase", "RequestMethod": "POST",
               "RequestUrl": "https://graph.facebook.com/v%s/%s/events?access_token=%s" % ("20.0" if version == STAPE_OLD else "22.0", PIXEL_NORDIC, token),
               "RequestBody": {"data": [ev], "partner_agent": version}, "TraceId": trace_id}
        dur_us = rng.randint(140000, 620000)
        t_resp, us_resp = t_req + (us + dur_us) // 1000000, (us + dur_us) % 1000000
        resp = {"Name": "Facebook", "Type": "Response", "EventName": "Purchase", "ResponseStatusCode": 200,
                "ResponseHeaders": {"content-type": "application/json; charset=UTF-8", "x-fb-trace-id": rand_str(rng, B64, 11),
                                    "x-fb-request-id": "A" + rand_str(rng, B64URL, 22), "facebook-api-version": "v20.0" if version == STAPE_OLD else "v22.0"},
                "ResponseBody": json.dumps({"events_received": 1, "messages": [], "fbtrace_id": fbtrace(rng)}, separators=(",", ":")),
                "Message": "Pixel ID: %s" % PIXEL_NORDIC, "TraceId": trace_id}
        as_json = t_req >= log.redeploy
        entries.append((t_req, us, "tag", log.stdout_entry(t_req, us, req, as_json)))
        entries.append((t_resp, us_resp, "tag", log.stdout_entry(t_resp, us_resp, resp, as_json)))
    return entries


def noise_lines(log):
    """Instance start-ups and sgtm/a pings on stdout."""
    rng = log.rng
    entries = []
    for day in range(NORDIC_WEEKS * 7):
        for _ in range(rng.randint(1, 3)):
            t = NORDIC_START + day * 86400 + rng.randint(0, 86399)
            us = rng.randint(0, 999999)
            entries.append((t, us, "noise", log.stdout_entry(t, us, 'Listening on {"port":"8080"}', False)))
            t2 = t + rng.randint(2, 40)
            entries.append((t2, us, "noise", log.stdout_entry(t2, us, "Sending request to https://www.googletagmanager.com/sgtm/a?id=GTM-N8W7PQ3&v=2&t=%d&s=%s" % (
                t2 * 1000 + us // 1000, rand_str(rng, "0123456789", 10)), False)))
    t = log.redeploy + 3
    entries.append((t, 1200, "noise", log.stdout_entry(t, 1200, 'Listening on {"port":"8080"}', False)))
    return entries


def write_sgtm_files(entries, server, redeploy):
    """The sGTM logs as the shop downloaded them -> [(path, entries, payload kinds or None)]."""
    # GCS sink shards: the two hours around the update and the fix, downloaded from the bucket
    # (same entries as in the gcloud exports below -- the sink and `gcloud logging read` see the same insertIds)
    last_text = [x for x in server if x[0] < redeploy][-1][0]
    first_new_t = [x for x in server if x[2] == STAPE_NEW][0][0]
    resume_t = [x for x in server if x[0] >= NORDIC_FIX][0][0]
    shard_hours = sorted({t - t % 3600 for t in (last_text, first_new_t, resume_t)})
    sgtm_files = []
    for h in shard_hours:
        d = utc(h)
        for log, kinds in (("stdout", ("tag", "noise")), ("requests", ("request",))):
            sel = [e[3] for e in entries if h <= e[0] < h + 3600 and e[2] in kinds]
            if not sel:
                continue
            rel = "sgtm/gcs-sink/run.googleapis.com/%s/%s/%02d:00:00_%02d:59:59_S0.json" % (log, d.strftime("%Y/%m/%d"), d.hour, d.hour)
            write(rel, "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in sel))
            kinds_ = sorted({k for e in sel for k in ("textPayload", "jsonPayload") if k in e and (k == "jsonPayload" or e[k].startswith("{"))})
            if any("textPayload" in e and not e["textPayload"].startswith("{") for e in sel):
                kinds_.append("noise lines")
            sgtm_files.append((rel, len(sel), kinds_))
    # gcloud logging read ... --format=json, run twice (30-day retention): weeks 1-3 and weeks 4-5
    cut = ts(2026, 10, 26)
    for name, lo, hi, run_at in (("gcloud-logging-read-2026-10-05_2026-10-25.json", NORDIC_START, cut, ts(2026, 10, 26, 8, 12)),
                                 ("gcloud-logging-read-2026-10-26_2026-11-08.json", cut, NORDIC_START + NORDIC_WEEKS * 7 * 86400, ts(2026, 11, 9, 8, 3))):
        # gcloud prints newest first
        sel = [e[3] for e in reversed(entries) if lo <= e[0] < hi]
        rel = "sgtm/" + name + ".gz"
        write(rel, gzip_bytes((json.dumps(sel, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), name, run_at))
        sgtm_files.append((rel, len(sel), None))
    return sgtm_files


# ---- numbers for the README ---------------------------------------------------

def readme_numbers(orders, server, browser):
    """Weekly counts and the edges of the silence, for the README."""
    weeks = []
    for w in range(NORDIC_WEEKS):
        lo, hi = NORDIC_START + w * 7 * 86400, NORDIC_START + (w + 1) * 7 * 86400
        web = [o for o in orders if lo <= o["t"] < hi and o["kind"] == "web"]
        weeks.append(dict(lo=lo, hi=hi, orders=len([o for o in orders if lo <= o["t"] < hi]), web=len(web),
                          test=len([o for o in orders if lo <= o["t"] < hi and o["kind"] == "test"]),
                          pos=len([o for o in orders if lo <= o["t"] < hi and o["kind"] == "pos"]),
                          hits=len([1 for t, o in browser if lo <= t < hi]),
                          server=len([1 for t, o, v in server if lo <= t < hi]),
                          server_real=len([1 for t, o, v in server if lo <= t < hi and o["kind"] == "web"])))
    before = [x for x in server if x[0] < NORDIC_UPDATE + 3600]
    after = [x for x in server if x[0] >= NORDIC_FIX - 3600]
    last_srv = before[-1]
    first_srv = after[0]
    first_real_after = [x for x in after if x[1]["kind"] == "web"][0]
    last_old = [x for x in server if x[2] == STAPE_OLD][-1]
    first_new = [x for x in server if x[2] == STAPE_NEW][0]
    in_silence = [o for o in orders if last_srv[0] < o["t"] < first_srv[0] and o["kind"] == "web"]
    hits_silence = [1 for t, o in browser if last_srv[0] < t < first_srv[0]]
    return dict(
        weeks=weeks, orders=orders, n_orders=len(orders),
        n_web=sum(1 for o in orders if o["kind"] == "web"), tests=[o for o in orders if o["kind"] == "test"],
        pos=[o for o in orders if o["kind"] == "pos"], n_server=len(server), n_browser=len(browser),
        last_srv_all=server[-1][0], last_srv=last_srv, first_srv=first_srv, first_real_after=first_real_after, last_old=last_old, first_new=first_new,
        in_silence=len(in_silence), hits_silence=len(hits_silence),
        ids=(orders[0]["id"], orders[-1]["id"]),
        numbers=(orders[0]["body"]["order_number"], orders[-1]["body"]["order_number"]),
        missing_hits=sum(1 for o in orders if o["kind"] != "pos" and not o["hit"]),
        silence_days=(first_srv[0] - last_srv[0]) / 86400.0)
