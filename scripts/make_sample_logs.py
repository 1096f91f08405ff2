#!/usr/bin/env python3
"""Regenerate the sample inputs under sample_logs/.

    python3 scripts/make_sample_logs.py

Standard library only. Every random choice comes from a fixed-seed
``random.Random`` per story and all timestamps are fixed 2026 dates, so
re-running the script rewrites every file byte for byte (gzip/zip headers use
fixed mtimes). The README.md next to this script is generated too, with the
first/last-seen times and counts taken from the data that was just written.

The formats are the real ones of each source (the main README, "What it
reads") and the upstream code that writes them:

* WooCommerce file handler v1 (legacy): ``MM-DD-YYYY @ HH:MM:SS - <message>``
  in site-local time, every entry followed by PHP_EOL (so multi-line
  Request/Response messages, which already end in a newline, are followed by a
  blank line; single-line messages are not).
* WooCommerce file handler v2: ``<gmdate('c')> <LEVEL> <message>``; for
  ``WC_Logger::add()`` callers (plugin <= 3.4.x) the handler appends
  `` CONTEXT: {"_legacy":true}`` to the message. Request/Response messages end
  in a newline, so the suffix lands on its own line starting with a space.
* Meta for WooCommerce request/response entries: ``key: value`` lines, print_r
  header blocks, ``body:`` JSON encoded like PHP's json_encode (``\\/`` and
  ``\\uXXXX`` escapes), ``duration: <round(s, 5)>s``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import random
import string
import zipfile

HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_logs")
UTC = dt.timezone.utc

BASE62 = string.ascii_letters + string.digits
B64URL = BASE62 + "-_"
B64 = BASE62 + "+/"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# Pixel / dataset ids, one per account.
PIXEL_HEALTHY = "1482736450918273"
PIXEL_TOKEN = "928374651029384"
PIXEL_UPDATE = "1736450291837465"
PIXEL_EXPORT = "2049381726354810"
PIXEL_GRAPH = "873615209481726"


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def ts(y, m, d, hh=0, mm=0, ss=0):
    return calendar.timegm((y, m, d, hh, mm, ss, 0, 0, 0))


def utc(t):
    return dt.datetime.fromtimestamp(t, UTC)


def iso_wc(t):
    """gmdate('c') as written by the WooCommerce v2 file handler."""
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def iso_z(t):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(t, ms):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % ms


def legacy_header(t, offset_hours):
    """date_i18n('m-d-Y @ H:i:s'): site-local time, no offset written."""
    return (utc(t) + dt.timedelta(hours=offset_hours)).strftime("%m-%d-%Y @ %H:%M:%S")


def http_date(t):
    d = utc(t)
    return "%s, %02d %s %d %s GMT" % (WEEKDAYS[d.weekday()][:3], d.day, MONTHS[d.month - 1], d.year, d.strftime("%H:%M:%S"))


def pst_text(t):
    """Graph's token-expiry wording, e.g. 'Tuesday, 10-Feb-26 08:00:00 PST'."""
    d = utc(t) - dt.timedelta(hours=8)
    return "%s, %02d-%s-%s %s PST" % (WEEKDAYS[d.weekday()], d.day, MONTHS[d.month - 1], d.strftime("%y"), d.strftime("%H:%M:%S"))


def php_json(obj):
    """json_encode() defaults: compact, \\uXXXX for non-ASCII, '/' escaped."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def sha(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def digits(s):
    return "".join(ch for ch in s if ch.isdigit())


def money(cents):
    return "%d.%02d" % (cents // 100, cents % 100)


def php_duration(seconds):
    """round(microtime delta, 5) . 's' -- PHP drops trailing zeros."""
    s = ("%.5f" % seconds).rstrip("0").rstrip(".")
    return s + "s"


def uuid4(rng):
    b = bytearray(rng.getrandbits(8) for _ in range(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def rand_str(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def fbtrace(rng):
    return "A" + rand_str(rng, B64URL, 22)


def wc_file_hash(seed, file_id):
    """Stand-in for wp_hash(): 32 lowercase hex characters."""
    return hashlib.md5(("%s|%s" % (seed, file_id)).encode()).hexdigest()


def fake_token(rng):
    """Looks like a long-lived Graph user/system-user token (~190 chars)."""
    return "EAAG" + rand_str(rng, BASE62, 184) + "ZDZD"


def print_r(d):
    """print_r($array, true), trimmed like the plugin's get_api_log_message()."""
    return "Array\n(\n" + "".join("    [%s] => %s\n" % (k, v) for k, v in d.items()) + ")"


def api_log_message(kind, pairs, twice=False):
    """Meta for WooCommerce get_api_log_message(); 2.x printed the kind twice."""
    lines = [kind]
    for key, value in pairs:
        if isinstance(value, dict):
            value = print_r(value)
        lines.append(("%s: %s" % (key, "" if value is None else value)).strip())
    msg = "\n".join(lines) + "\n"
    if twice:
        msg = kind + "\n" + msg
    return msg


def render(entry, offset_hours=None):
    """entry = (t, style, level, message) -> text of one log entry."""
    t, style, level, message = entry
    if style == "v1":
        return "%s - %s\n" % (legacy_header(t, offset_hours), message)
    if style == "v2legacy":
        message = message + ' CONTEXT: {"_legacy":true}'
        text = "%s %s %s" % (iso_wc(t), level.upper(), message)
    elif style == "viewer":  # line copied from the WC admin log viewer
        text = "%s %s %s" % (iso_wc(t), level.capitalize(), message)
    else:
        text = "%s %s %s" % (iso_wc(t), level.upper(), message)
    return text if text.endswith("\n") else text + "\n"


def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(path, "wb") as fh:
        fh.write(data)
    return rel


def gzip_bytes(data, name, mtime):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=mtime, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


# --------------------------------------------------------------------------
# people, devices, products
# --------------------------------------------------------------------------

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


def success_body(rng, n=1):
    return php_json({"events_received": n, "messages": [], "fbtrace_id": fbtrace(rng)})


def graph_error(message, etype="OAuthException", code=None, subcode=None, transient=None, title=None, msg=None,
                trace=None, transient_first=False):
    e = {"message": message, "type": etype}
    if transient_first and transient is not None:
        e["is_transient"] = transient
    e["code"] = code
    if subcode is not None:
        e["error_subcode"] = subcode
    if transient is not None and not transient_first:
        e["is_transient"] = transient
    if title is not None:
        e["error_user_title"] = title
    if msg is not None:
        e["error_user_msg"] = msg
    e["fbtrace_id"] = trace
    return {"error": e}


# Texts -------------------------------------------------------------------

MSG_2804003 = ("The timestamp for this event is too far in the past. Events need to be sent from your server within 7 days "
               "of when they occurred. Enter a timestamp that has occurred within the last 7 days.")
DA_2804003_TITLE = "Hændelsens tidsstempel er for gammelt"
DA_2804003_MSG = ("Tidsstemplet for denne hændelse ligger for langt tilbage i tiden. Hændelser skal sendes fra din server inden "
                  "for 7 dage efter, at de fandt sted. Angiv et tidsstempel, der ligger inden for de seneste 7 dage.")
DA_2804050_TITLE = "Du har ikke tilføjet tilstrækkelige data om kundeoplysningsparametre for denne hændelse"
DA_2804050_MSG = ("Denne hændelse har ingen kundeoplysningsparametre, eller den har en kombination af kundeoplysningsparametre, "
                  "der er så bred, at det er usandsynligt, at det vil være effektivt til matchning. Du kan løse dette ved at gå "
                  "til de anbefalede fremgangsmåder for parametre på developers.facebook.com/docs/marketing-api/"
                  "conversions-api/best-practices/#req-rec-params")
MSG_460 = ("Error validating access token: The session has been invalidated because the user changed their password "
           "or Facebook has changed the session for security reasons.")
WC_460_LINE = ("Facebook connection invalid (error 190, subcode 460): The user's password has been changed. "
               "A new access token is required.")
MSG_2804016 = ("The ct parameter isn\u2019t hashed. Hash all user parameters as SHA256, except for client user agent, click ID, "
               "and browser ID. Any other user parameters that are not hashed are automatically rejected by Facebook.")
MSG_2804009 = "Your purchase event doesn\u2019t include a value parameter. Enter a value. For example: 1.99"
CURL28 = "cURL error 28: Operation timed out after 5001 milliseconds with 0 bytes received"
CURL6 = "cURL error 6: Could not resolve host: graph.facebook.com"
PERSIST_ERR = "Error persisting Meta logs: Cannot create the API instance because the access token is missing. : []"

FB_ERROR_HTML = """<!DOCTYPE html>
<html lang="en" id="facebook">
<head>
<title>Facebook | Error</title>
<meta charset="utf-8">
<meta http-equiv="cache-control" content="no-cache">
<meta http-equiv="cache-control" content="no-store">
<meta http-equiv="cache-control" content="max-age=0">
<meta http-equiv="expires" content="-1">
<meta http-equiv="pragma" content="no-cache">
<meta name="robots" content="noindex,nofollow">
<style>
html, body { color: #141823; background-color: #e9eaed; font-family: Helvetica, Lucida Grande, Arial, Tahoma, Verdana, sans-serif; margin: 0; padding: 0; text-align: center; }
#header { height: 30px; padding-bottom: 10px; padding-top: 10px; text-align: center; }
#icon { width: 30px; }
h1 { font-size: 18px; }
p { font-size: 13px; }
#footer { border-top: 1px solid #ddd; color: #9197a3; font-size: 12px; padding: 5px 8px 6px 0; }
</style>
</head>
<body>
<div id="header">
<a href="//www.facebook.com/">
<img id="icon" src="//static.facebook.com/images/logos/facebook_2x.png" />
</a>
</div>
<div id="core">
<h1 id="sorry">Sorry, something went wrong.</h1>
<p>We&#039;re working on getting this fixed as soon as we can.</p>
<p id="back-link">
<a id="back" href="//www.facebook.com/">Go Back</a>
</p>
<div id="footer">
Facebook
<span id="copyright">
&copy; 2026
</span>
<span id="help-link">
&#183;
<a id="help" href="//www.facebook.com/help/">Help Center</a>
</span>
</div>
</div>
<script>
document.getElementById("back").onclick = function() {
  if (history.length > 1) {
    history.back();
    return false;
  }
};
</script>
</body>
</html>
<!-- ServerType: PROXYGEN -->"""


def fmt_t(t):
    return iso_z(t) if t is not None else "-"


# --------------------------------------------------------------------------
# 1. healthy shop: plugin 3.5.x, WC v2 handler, non-legacy ISO entries
# --------------------------------------------------------------------------

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
        req = api_log_message("Request", [("method", "POST"), ("uri", shop.uri), ("user-agent", shop.user_agent),
                                          ("body", body), ("duration", dur)])
        resp = api_log_message("Response", [("code", "200"), ("message", "OK"), ("body", success_body(rng))])
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


# --------------------------------------------------------------------------
# 2. token expired: plugin 2.6.x, WC 6.x, file handler v1 (site-local time)
# --------------------------------------------------------------------------

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
        req = api_log_message("Request", [("method", "POST"), ("uri", shop.uri), ("user-agent", shop.user_agent),
                                          ("headers", req_headers), ("body", body), ("duration", dur)], twice=True)
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
        resp = api_log_message("Response", [("code", code), ("message", reason), ("headers", resp_headers),
                                            ("body", resp_body)], twice=True)
        entries.append((log_t, "v1", "notice", req))
        entries.append((log_t, "v1", "notice", resp))
        if extra:
            entries.append((log_t, "v1", "notice", extra))
    entries.sort(key=lambda e: e[0])

    # v1 handler: one file per UTC day, hash = wp_hash(handle) -> identical for every day
    fhash = wc_file_hash("hudson-valley", "facebook_for_woocommerce")
    files = []
    for day in ("2026-02-08", "2026-02-09", "2026-02-10", "2026-02-11"):
        text = "".join(render(e, SITE_OFFSET_HOURS) for e in entries if iso_wc(e[0]).startswith(day))
        files.append(write("woocommerce/token-expired-shop/facebook_for_woocommerce-%s-%s.log" % (day, fhash), text))
    facts["token"] = dict(files=files, ok=ok, fail=fail, first_fail=first_fail, last_fail=last_fail, last_ok=last_ok,
                          first=entries[0][0], last=entries[-1][0], total=len(sends), shop=shop)


# --------------------------------------------------------------------------
# 3. broken after update: 3.4.1 (v2 + _legacy context) -> 3.7.1, then silence
# --------------------------------------------------------------------------

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
        req = api_log_message("Request", [("method", "POST"), ("uri", shop.uri), ("user-agent", shop.user_agent),
                                          ("body", body), ("duration", dur)])
        resp = api_log_message("Response", [("code", "200"), ("message", "OK"), ("body", success_body(rng))])
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


# --------------------------------------------------------------------------
# 4. admin export ZIP: plugin 3.7.1, mixed failures, CRLF, junk, torn line
# --------------------------------------------------------------------------

def story_export_zip(facts):
    rng = random.Random(20260611)
    shop = Shop(pixel=PIXEL_EXPORT, domain="https://www.hyggehjem.example.com", currency="DKK",
                wc="10.4.3", wp="6.9.1", plugin="3.7.1", graph="v22.0", campaign="sommer_hygge",
                product_path="/produkt/", checkout_path="/kassen/", received_path="/kassen/order-received/",
                first_order=5120, first_ext=3310, free_shipping=49900, shipping=4900,
                products=[(201, None, "Uldplaid Fjord", "uldplaid-fjord", 54900),
                          (204, None, "Keramikvase Sand", "keramikvase-sand", 29900),
                          (209, None, "Duftlys Skovbund", "duftlys-skovbund", 14900),
                          (213, None, "Hørviskestykke 2 stk.", "hoerviskestykke-2-stk", 8900),
                          (218, None, "Skærebræt i egetræ", "skaerebraet-i-egetrae", 34900),
                          (222, None, "Stentøjskrus Ø9", "stentoejskrus-oe9", 12900)])
    outage = (ts(2026, 6, 9, 12, 58, 0), ts(2026, 6, 9, 13, 16, 0))
    invalid_at = ts(2026, 6, 10, 19, 42, 7)
    sends = []
    for d in (9, 10):
        day = ts(2026, 6, d)
        for purchase, n in ((True, 7), (False, 8)):
            for start in session_starts(rng, day, n, 6.0, 21.0):
                if outage[0] - 1500 <= start < outage[1] or start > invalid_at - 1500:
                    continue
                evs, _ = funnel(rng, shop, start, purchase, "dk", pageview_share=0.3)
                sends.extend(evs)
    sends.sort(key=lambda s: (s[0], s[1]["event_id"]))

    entries = []
    conn = []      # connectivity failures (time, kind)
    rejected = []  # (time, subcode)

    def exchange(log_t, ev, code, reason, resp_body, dur=None, pre=None, post=None):
        dur = dur or send_timing(rng, log_t)[1]
        body = php_json({"data": [ev], "partner_agent": shop.partner_agent})
        req = api_log_message("Request", [("method", "POST"), ("uri", shop.uri), ("user-agent", shop.user_agent),
                                          ("body", body), ("duration", dur)])
        resp = api_log_message("Response", [("code", code), ("message", reason), ("body", resp_body)])
        if pre:
            entries.append((log_t, "v2", "notice", pre))
        entries.append((log_t, "v2", "notice", req))
        entries.append((log_t, "v2", "notice", resp))
        if post:
            entries.append((log_t, "v2", "notice", post))

    for event_time, ev, _ in sends:
        log_t, dur = send_timing(rng, event_time)
        exchange(log_t, ev, "200", "OK", success_body(rng), dur)

    # --- 2026-06-09 13:00 connectivity incident (timeouts, DNS, 503 HTML)
    incident = [(ts(2026, 6, 9, 13, 2, 11), "curl28"), (ts(2026, 6, 9, 13, 4, 40), "curl6"),
                (ts(2026, 6, 9, 13, 5, 2), "curl6"), (ts(2026, 6, 9, 13, 7, 55), "curl28"),
                (ts(2026, 6, 9, 13, 9, 31), "http503"), (ts(2026, 6, 9, 13, 12, 20), "curl28")]
    for t_fail, kind in incident:
        sess = new_session(rng, shop, t_fail - 60)
        p = rng.choice(shop.products)
        name = rng.choice(["ViewContent", "AddToCart", "PageView"])
        custom = custom_for(shop, name, [(p, 1)]) if name != "PageView" else None
        url = shop.product_url(p) if name != "PageView" else shop.domain + "/"
        if kind == "curl28":
            ev = event(name, t_fail - 5, uuid4(rng), url, custom, user_data(sess))
            exchange(t_fail, ev, None, None, None, dur=php_duration(5.0 + rng.uniform(0.0005, 0.004)),
                     post="Could not send Pixel event: " + CURL28)
        elif kind == "curl6":
            ev = event(name, t_fail, uuid4(rng), url, custom, user_data(sess))
            exchange(t_fail, ev, None, None, None, dur=php_duration(rng.uniform(0.012, 0.06)),
                     post="Could not send Pixel event: " + CURL6)
        else:
            ev = event(name, t_fail - 1, uuid4(rng), url, custom, user_data(sess))
            exchange(t_fail, ev, "503", "Service Unavailable", FB_ERROR_HTML, dur=php_duration(rng.uniform(0.9, 1.4)))
        conn.append((t_fail, kind))

    # --- 2026-06-09 16:40 event with almost no customer information -> 2804050 (Danish locale)
    t_x = ts(2026, 6, 9, 16, 40, 18)
    p = shop.products[1]
    ev = event("ViewContent", t_x, uuid4(rng), shop.product_url(p) + "?utm_source=newsletter",
               custom_for(shop, "ViewContent", [(p, 1)]), {"client_ip_address": "192.0.2.15"})
    exchange(t_x, ev, "400", "Bad Request",
             php_json(graph_error("Invalid parameter", code=100, subcode=2804050, transient=False,
                                  title=DA_2804050_TITLE, msg=DA_2804050_MSG, trace="Asu2mk752HZ0oT07IksFAwN")))
    rejected.append((t_x, 2804050))

    # --- 2026-06-10 09:20 Purchase carrying clear-text e-mail and phone (200 OK, accepted)
    t_p = ts(2026, 6, 10, 9, 20, 33)
    sess = new_session(rng, shop, t_p - 600)
    sess["ip"], sess["ua"] = "203.0.113.58", USER_AGENTS[0]
    maria = dict(first="Maria", last="Silva", email="maria.silva@example.com", phone="+351 912 345 678",
                 city="Lisboa", state="", zip="1100-148", country="pt", ext_id="3377", phone_cc="")
    pii = hashed_pii(maria)
    pii["em"] = maria["email"]
    pii["ph"] = maria["phone"]
    cart = [(shop.products[0], 1), (shop.products[2], 2)]
    oid = shop.next_order
    shop.next_order += 1
    ev = event("Purchase", t_p - 1, uuid4(rng), "%s%s%d/?key=wc_order_%s" % (shop.domain, shop.received_path, oid, rand_str(rng, BASE62, 13)),
               custom_for(shop, "Purchase", cart, oid, 0), user_data(sess, pii))
    exchange(t_p, ev, "200", "OK", success_body(rng))
    pii_event = (t_p, oid)

    # --- 2026-06-10 11:45 Purchase re-sent from wp-admin for a 9-day-old order -> 2804003
    t_o = ts(2026, 6, 10, 11, 45, 2)
    old_order_time = ts(2026, 6, 1, 8, 14, 9)
    cust = make_customer(rng, "dk", 3120)
    admin = dict(ip="198.51.100.200", ua=USER_AGENTS[6], fbp=None, fbc=None)
    oid_old = 5087
    ev = event("Purchase", old_order_time, uuid4(rng), "%s/wp-admin/post.php?post=%d&action=edit" % (shop.domain, oid_old),
               custom_for(shop, "Purchase", [(shop.products[4], 1)], oid_old, shop.shipping), user_data(admin, hashed_pii(cust)))
    exchange(t_o, ev, "400", "Bad Request",
             php_json(graph_error("Invalid parameter", code=100, subcode=2804003, transient=False,
                                  title=DA_2804003_TITLE, msg=DA_2804003_MSG, trace=fbtrace(rng))))
    rejected.append((t_o, 2804003))

    # --- 2026-06-10 19:42 token invalidated (password changed); 3.7.1 logs the line first
    sess = new_session(rng, shop, invalid_at - 200)
    p = shop.products[3]
    ev = event("AddToCart", invalid_at, uuid4(rng), shop.product_url(p), custom_for(shop, "AddToCart", [(p, 1)]), user_data(sess))
    exchange(invalid_at, ev, "400", "Bad Request",
             php_json(graph_error(MSG_460, code=190, subcode=460, trace=fbtrace(rng))), pre=WC_460_LINE)

    # --- other plugin lines, incl. two pasted from the admin viewer (mixed-case level)
    entries.append((ts(2026, 6, 9, 10, 14, 5), "viewer", "error", "Bad response from Meta logging APIs : []"))
    entries.append((ts(2026, 6, 10, 7, 31, 18), "viewer", "notice", "Blocked CAPI event for crawler: " + CRAWLER_UAS[2]))
    for t_c, ua in ((ts(2026, 6, 9, 4, 12, 51), CRAWLER_UAS[0]), (ts(2026, 6, 9, 19, 3, 27), CRAWLER_UAS[3]),
                    (ts(2026, 6, 10, 20, 15, 40), CRAWLER_UAS[4]), (ts(2026, 6, 10, 21, 3, 9), CRAWLER_UAS[0])):
        entries.append((t_c, "v2", "notice", "Blocked CAPI event for crawler: " + ua))
    entries.sort(key=lambda e: e[0])

    # ---- file 1 (2026-06-09): CRLF line endings, a NUL/garbage line and a cp1252 byte
    day1 = [e for e in entries if iso_wc(e[0]).startswith("2026-06-09")]
    latin1_t = ts(2026, 6, 9, 17, 26, 44)
    day1.append((ts(2026, 6, 9, 18, 0, 0), "raw", None,
                 b"\x00" * 23 + b"\xff\xfe\xfd\x8f\x9d\xa0\xc3\x28\x00\x00\x1b[0m\xde\xad\xbe\xef\x00\n"))
    day1.append((latin1_t, "raw", None,
                 (iso_wc(latin1_t) + " NOTICE Blocked CAPI event for crawler: Mozilla/5.0 (compatible; Dataprovider.com; ").encode()
                 + "Søgerobot/1.0)\n".encode("cp1252")))
    day1.sort(key=lambda e: e[0])
    data1 = b"".join(e[3] if e[1] == "raw" else render(e).encode("utf-8") for e in day1)
    data1 = data1.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    # ---- file 2 (2026-06-10): LF, last line torn off mid-write (no newline)
    day2 = [e for e in entries if iso_wc(e[0]).startswith("2026-06-10")]
    data2 = "".join(render(e) for e in day2).encode("utf-8")
    data2 += (iso_wc(ts(2026, 6, 10, 21, 47, 13)) + " NOTICE Blocked CAPI event for crawler: " + CRAWLER_UAS[1][:119]).encode()

    n1 = "facebook_for_woocommerce-2026-06-09-%s.log" % wc_file_hash("hyggehjem", "facebook_for_woocommerce-2026-06-09")
    n2 = "facebook_for_woocommerce-2026-06-10-%s.log" % wc_file_hash("hyggehjem", "facebook_for_woocommerce-2026-06-10")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, when in ((n1, data1, (2026, 6, 9, 23, 58, 2)), (n2, data2, (2026, 6, 10, 21, 47, 14))):
            zi = zipfile.ZipInfo(name, date_time=when)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 3
            zi.external_attr = 0o100644 << 16
            zf.writestr(zi, data)
    zpath = write("woocommerce/export-woocommerce_logs_2026-06-11_09-30-00.zip", buf.getvalue())
    n_ok = len(sends) + 1  # + the clear-PII Purchase
    facts["export"] = dict(file=zpath, members=[(n1, len(data1)), (n2, len(data2))], conn=conn, rejected=rejected,
                           invalid_at=invalid_at, pii_event=pii_event, n_ok=n_ok, old_order_time=old_order_time,
                           first=entries[0][0], last=ts(2026, 6, 10, 21, 47, 13), shop=shop, t_2804050=t_x)


# --------------------------------------------------------------------------
# 5. raw Graph API responses of a custom shop (Python sender + OpenCart)
# --------------------------------------------------------------------------

def story_graph_api(facts):
    rng = random.Random(20260701)
    px = PIXEL_GRAPH
    token_py = fake_token(rng)
    f = dict(rate=[], rejected=[], perm=[], token=[], conn=[], pii=[], ok_batches=0)
    err17 = lambda: graph_error("(#17) User request limit reached", code=17, transient=True, trace=fbtrace(rng), transient_first=True)
    err4 = lambda: graph_error("(#4) Application request limit reached", code=4, transient=True, trace=fbtrace(rng), transient_first=True)
    err613 = lambda: graph_error("(#613) Calls to this api have exceeded the rate limit.", code=613, trace=fbtrace(rng))
    err200 = lambda: graph_error("(#200) The user hasn't authorized the application to perform this action", code=200, trace=fbtrace(rng))

    def ok(n):
        return {"events_received": n, "messages": [], "fbtrace_id": fbtrace(rng)}

    lines = []
    # -- part A: wrapper {"ts","pixel_id","status","sent","response"} (compact), 2026-07-01 10:00-13:50
    plan = {}
    rl = {ts(2026, 7, 1, 12, 0, 2): (400, err17), ts(2026, 7, 1, 12, 2, 5): (400, err17),
          ts(2026, 7, 1, 12, 5, 9): (400, err17), ts(2026, 7, 1, 12, 10, 1): (403, err4),
          ts(2026, 7, 1, 12, 12, 15): (403, err4), ts(2026, 7, 1, 12, 15, 40): (400, err17),
          ts(2026, 7, 1, 12, 20, 3): (400, err613), ts(2026, 7, 1, 12, 25, 30): (403, err4),
          ts(2026, 7, 1, 12, 30, 1): (400, err613)}
    t = ts(2026, 7, 1, 10, 0, 1)
    while t < ts(2026, 7, 1, 14, 0, 0):
        plan[t] = None
        t += 600 + rng.randint(0, 4)
    for k in rl:
        plan[k] = rl[k]
    plan = {k: v for k, v in plan.items() if not (ts(2026, 7, 1, 11, 55) <= k < ts(2026, 7, 1, 12, 35)) or v}
    short_at = min((k for k in plan if plan[k] is None), key=lambda k: abs(k - ts(2026, 7, 1, 11, 20, 0)))
    plan[short_at] = "short"
    for t in sorted(plan):
        v = plan[t]
        if v is None:
            rec = {"ts": iso_z(t), "pixel_id": px, "status": 200, "sent": 50, "response": ok(50)}
            f["ok_batches"] += 1
        elif v == "short":
            rec = {"ts": iso_z(t), "pixel_id": px, "status": 200, "sent": 50, "response": ok(48)}
            f["rejected"].append((t, "events_received 48 of 50 (responses.ndjson)"))
        else:
            status, mk = v
            body = mk()
            rec = {"ts": iso_z(t), "pixel_id": px, "status": status, "sent": 50, "response": body}
            f["rate"].append((t, "code %d (responses.ndjson)" % body["error"]["code"]))
        lines.append(json.dumps(rec, separators=(",", ":")))
    # -- part B: bare bodies pasted without any timestamp
    for n in (50, 50, 50, 37, 50):
        lines.append(json.dumps(ok(n), separators=(",", ":")))
    # -- part C: wrapper {"timestamp": <unix>, "body": {...}} (python json.dumps defaults)
    t = ts(2026, 7, 1, 14, 0, 3)
    while t < ts(2026, 7, 2, 20, 10, 0):
        if t >= ts(2026, 7, 2, 16, 30, 0):
            body = err200()
            f["perm"].append((t, "code 200 (responses.ndjson)"))
        else:
            body = ok(50)
            f["ok_batches"] += 1
        lines.append(json.dumps({"timestamp": t, "body": body}))
        t += 1800 + rng.randint(0, 5)
    write("graph_api/responses.ndjson", "\n".join(lines) + "\n")

    # -- capi-sender.log: "<ISO ms> <json>", realtime sender, 2026-07-02 08:00-19:00
    out = []
    t = ts(2026, 7, 2, 8, 0, 1)
    specials = {ts(2026, 7, 2, 10, 42, 17): "2804003", ts(2026, 7, 2, 13, 5, 44): "17"}
    perm_start = ts(2026, 7, 2, 16, 5, 41)
    first_line = True
    while t < ts(2026, 7, 2, 19, 0, 0):
        ms = 123 if first_line else rng.randint(0, 999)
        first_line = False
        if t >= perm_start:
            body = err200()
            f["perm"].append((t, "code 200 (capi-sender.log)"))
        else:
            body = ok(3 if t == ts(2026, 7, 2, 8, 0, 1) else rng.choice([1, 1, 1, 2, 2, 3, 4, 5]))
        out.append("%s %s" % (iso_ms(t, ms), json.dumps(body, separators=(",", ":"))))
        nxt = t + rng.randint(150, 560)
        if t < perm_start < nxt:
            nxt = perm_start
        for st, kind in specials.items():
            if t < st <= nxt:
                if kind == "2804003":
                    b = graph_error("Invalid parameter", code=100, subcode=2804003, transient=False,
                                    title="Event Timestamp Too Old", msg=MSG_2804003, trace=fbtrace(rng))
                    f["rejected"].append((st, "code 100/2804003 (capi-sender.log)"))
                else:
                    b = err17()
                    f["rate"].append((st, "code 17 (capi-sender.log)"))
                out.append("%s %s" % (iso_ms(st, rng.randint(0, 999)), json.dumps(b, separators=(",", ":"))))
        t = nxt
    write("graph_api/capi-sender.log", "\n".join(out) + "\n")

    # -- python-sdk-errors.log: facebook_business FacebookRequestError blocks, 2026-07-03
    def sdk_block(when, ms, status, body, ev):
        params = {"data": json.dumps([ev]), "access_token": token_py}
        text = ("\n\n"
                "  Message: Call was not successful\n"
                "  Method:  POST\n"
                "  Path:    https://graph.facebook.com/v25.0/%s/events\n"
                "  Params:  %s\n"
                "\n"
                "  Status:  %s\n"
                "  Response:\n    %s\n") % (px, repr(params), status, json.dumps(body, indent=2).replace("\n", "\n    "))
        # logging adds its own "\n" after the exception text, which already ends in one -> blank line
        return "%s,%03d ERROR capi_sender: %s\n" % (utc(when).strftime("%Y-%m-%d %H:%M:%S"), ms, text)

    def py_event(name, when, oid, ud_extra, custom):
        ud = {"em": [sha("%s@example.org" % rand_str(rng, string.ascii_lowercase, 8))],
              "ph": [sha("3519%08d" % rng.randint(0, 99999999))]}
        ud.update(ud_extra)
        ud.update({"client_ip_address": rand_ip(rng), "client_user_agent": rng.choice(USER_AGENTS),
                   "fbp": "fb.1.%d%03d.%d" % (when - rng.randint(3600, 900000), rng.randint(0, 999), rng.randint(100000000, 2147483647))})
        return {"event_name": name, "event_time": when - rng.randint(1, 4), "event_id": "order-%d" % oid,
                "event_source_url": "https://loja.ribeira-ceramica.example.org/checkout/obrigado/%d" % oid,
                "action_source": "website", "user_data": ud, "custom_data": custom}

    log = []
    w1 = ts(2026, 7, 3, 12, 0, 5)
    log.append("2026-07-03 12:00:04,981 INFO capi_sender: sending 1 event(s) to pixel %s (order 20417)\n" % px)
    ev = py_event("Purchase", w1, 20417, {"ct": "lisboa", "zp": [sha("1100148")], "country": [sha("pt")]},
                  {"currency": "EUR", "value": 59.9, "content_ids": ["RC-PRATO-26"], "content_type": "product", "order_id": "20417"})
    log.append(sdk_block(w1, 114, 400, graph_error("Invalid parameter", code=100, subcode=2804016, transient=False,
                                                   title="User Parameter Not Hashed", msg=MSG_2804016, trace=fbtrace(rng)), ev))
    log.append("2026-07-03 12:00:05,116 WARNING capi_sender: giving up on order 20417 for maria.silva@example.com "
               "after 1 attempt: FacebookRequestError 100/2804016 User Parameter Not Hashed\n")
    f["rejected"].append((w1, "code 100/2804016 (python-sdk-errors.log)"))
    f["pii"].append((w1, "ct sent in clear text ('lisboa') in Params data (python-sdk-errors.log)"))

    w2 = ts(2026, 7, 3, 13, 47, 19)
    log.append("2026-07-03 13:47:19,377 INFO capi_sender: sending 1 event(s) to pixel %s (order 20422)\n" % px)
    ev = py_event("Purchase", w2, 20422, {"ct": [sha("porto")], "country": [sha("pt")]},
                  {"currency": "EUR", "content_ids": ["RC-JARRA-1L"], "content_type": "product", "order_id": "20422"})
    log.append(sdk_block(w2, 502, 400, graph_error("Invalid parameter", code=100, subcode=2804009, transient=False,
                                                   title="Missing Value for Purchase Event", msg=MSG_2804009, trace=fbtrace(rng)), ev))
    f["rejected"].append((w2, "code 100/2804009 (python-sdk-errors.log)"))

    w3 = ts(2026, 7, 3, 15, 20, 44)
    log.append("2026-07-03 15:20:43,612 INFO capi_sender: sending 1 event(s) to pixel %s (order 20431)\n" % px)
    ev = py_event("Purchase", w3, 20431, {"ct": [sha("braga")], "country": [sha("pt")]},
                  {"currency": "EUR", "value": 124.5, "content_ids": ["RC-SERV-6P"], "content_type": "product", "order_id": "20431"})
    log.append(sdk_block(w3, 31, 500, graph_error("An unknown error has occurred.", code=1, transient=True,
                                                  trace=fbtrace(rng), transient_first=True), ev))
    log.append("2026-07-03 15:20:44,033 WARNING capi_sender: transient error, will retry order 20431 in 60s\n")
    f["conn"].append((w3, "HTTP 500 code 1 is_transient (python-sdk-errors.log)"))

    w4 = ts(2026, 7, 3, 18, 31, 2)
    log.append("2026-07-03 18:31:02,640 INFO capi_sender: sending 1 event(s) to pixel %s (order 20440)\n" % px)
    ev = py_event("Purchase", w4, 20440, {"ct": [sha("coimbra")], "country": [sha("pt")]},
                  {"currency": "EUR", "value": 38.0, "content_ids": ["RC-CANECA-02"], "content_type": "product", "order_id": "20440"})
    log.append(sdk_block(w4, 877, 400, graph_error(MSG_460, code=190, subcode=460, trace=fbtrace(rng)), ev))
    f["token"].append((w4, "code 190/460 (python-sdk-errors.log)"))
    write("graph_api/python-sdk-errors.log", "".join(log))

    # -- graph-5xx.html.log: HTML error pages captured by the sender, 2026-07-04 02:13
    cap = []
    for when, status in ((ts(2026, 7, 4, 2, 13, 55), "502 Bad Gateway"), (ts(2026, 7, 4, 2, 14, 31), "500 Internal Server Error")):
        cap.append("%s POST https://graph.facebook.com/v25.0/%s/events?access_token=%s -> HTTP %s (content-type: text/html; charset=\"utf-8\", %d bytes)\n%s\n\n"
                   % (iso_z(when), px, token_py, status, len(FB_ERROR_HTML.encode()), FB_ERROR_HTML))
        f["conn"].append((when, "HTTP %s HTML page (graph-5xx.html.log)" % status.split()[0]))
    write("graph_api/graph-5xx.html.log", "".join(cap))

    # -- guzzle.log: OpenCart "Facebook Business Extension" (Guzzle truncates bodies at 120 chars)
    def summary(body):
        s = php_json(body).replace("\\/", "/")
        return s[:120] + " (truncated...)" if len(s) > 120 else s

    def oc_time(t):
        d = utc(t)
        return "%s %d:%s" % (d.strftime("%Y-%m-%d"), d.hour, d.strftime("%M:%S"))  # date('Y-m-d G:i:s')

    g = []
    uri10 = "https://graph.facebook.com/v10.0/%s/events" % px
    t500 = ts(2026, 7, 4, 2, 14, 2)
    f["guzzle_500_summary"] = summary(graph_error("An unexpected error has occurred. Please retry your request later.",
                                                 code=2, transient=True, trace=fbtrace(rng), transient_first=True))
    g.append("%s - Facebook Business Extension :: Fail to send server event! Error Message: Server error: `POST %s` resulted in a "
             "`500 Internal Server Error` response:\n%s\n\n" % (oc_time(t500), uri10, f["guzzle_500_summary"]))
    f["conn"].append((t500, "HTTP 500 code 2 (guzzle.log)"))
    g.append("%s - PHP Notice:  Undefined index: fbp in /var/www/opencart/catalog/controller/extension/module/facebook_business.php on line 412\n"
             % oc_time(ts(2026, 7, 4, 9, 12, 1)))
    for when in (ts(2026, 7, 4, 11, 4, 43), ts(2026, 7, 4, 11, 31, 9), ts(2026, 7, 4, 14, 52, 30)):
        g.append("%s - Facebook Business Extension :: Fail to send server event! Error Message: Client error: `POST %s` resulted in a "
                 "`400 Bad Request` response:\n%s\n\n"
                 % (oc_time(when), uri10, summary(graph_error("Invalid parameter", code=100, subcode=2804014, transient=False,
                                                              trace=fbtrace(rng)))))
        f["rejected"].append((when, "code 100/2804014 (guzzle.log)"))
    write("graph_api/guzzle.log", "".join(g))

    # -- responses.json.gz: pretty JSON array of wrapped responses, 2026-07-05 recovery with a new token
    arr = []
    t = ts(2026, 7, 5, 9, 0, 2)
    while t < ts(2026, 7, 5, 11, 0, 0):
        arr.append({"ts": iso_z(t), "pixel_id": px, "status": 200, "sent": 50, "response": ok(50)})
        t += 600 + rng.randint(0, 3)
    f["recovery"] = (ts(2026, 7, 5, 9, 0, 2), t - 600, len(arr))
    write("graph_api/responses.json.gz", gzip_bytes((json.dumps(arr, indent=2) + "\n").encode(), "responses.json", ts(2026, 7, 5, 11, 0, 0)))
    f["token_prefix"] = token_py[:12]
    facts["graph"] = f


# --------------------------------------------------------------------------
# 6. queued shop: a home-made queue on top of the plugin's API client
#    (payload-quality diagnoses: GA4 names, batching, ms event_time, clear PII,
#    missing currency, test_event_code, fbc in seconds; and a physical_store
#    upload that is legitimately late)
# --------------------------------------------------------------------------

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
            req = api_log_message("Request", [("method", "POST"), ("uri", shop.uri), ("user-agent", shop.user_agent),
                                              ("body", body), ("duration", php_duration(rng.uniform(0.6, 1.4)))])
            resp = api_log_message("Response", [("code", "200"), ("message", "OK"), ("body", success_body(rng, len(batch)))])
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
    req = api_log_message("Request", [("method", "POST"), ("uri", shop.uri), ("user-agent", shop.user_agent),
                                      ("body", body), ("duration", php_duration(0.84))])
    resp = api_log_message("Response", [("code", "200"), ("message", "OK"), ("body", success_body(rng, len(stall)))])
    entries.append((upload_t, "v2", "notice", req))
    entries.append((upload_t + 1, "v2", "notice", resp))
    entries.sort(key=lambda e: e[0])

    files = []
    for day in ("2026-08-17", "2026-08-18", "2026-08-19"):
        fid = "facebook_for_woocommerce-%s" % day
        text = "".join(render(e) for e in entries if iso_wc(e[0]).startswith(day))
        if text:
            files.append(write("woocommerce/queued-shop/%s-%s.log" % (fid, wc_file_hash("lumen-candles", fid)), text))
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


# --------------------------------------------------------------------------
# 7. Shopify store + server-side GTM (Stape Facebook tag), 5 weeks:
#    server Purchases stop for 12 days after a tag-template update
# --------------------------------------------------------------------------

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


def iso_us(t, us):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % us


def iso_ns(t, ns):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % ns


def ruby_json(obj):
    """Shopify's raw webhook body: compact, UTF-8, '/' escaped as '\\/'."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


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
    base = "shopify/nordic-wool/"
    files = {}
    # ---- Shopify side ---------------------------------------------------
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
    lines, dups = [], []
    for k, o in enumerate(groups["env_raw"]):
        for topic in ("orders/create", "orders/paid"):
            raw = ruby_json(o["body"])
            hd = dict(shopify_headers(o, topic, "title", rng))
            hd["X-Shopify-Hmac-Sha256"] = shopify_hmac(raw)
            line = json.dumps({"headers": hd, "body": raw}, ensure_ascii=False)
            lines.append(line)
            if topic == "orders/create" and k in (37, 121, 250):  # 5xx from the receiver -> Shopify retried
                dups.append((len(lines) + rng.randint(4, 20), line))
                dup_ids.append(hd["X-Shopify-Webhook-Id"])
    for pos, line in sorted(dups, reverse=True):
        lines.insert(pos, line)
    rel = base + "webhooks-2026-10-05_2026-10-18.ndjson.gz"
    write(rel, gzip_bytes(("\n".join(lines) + "\n").encode("utf-8"), "webhooks-2026-10-05_2026-10-18.ndjson", ts(2026, 10, 19, 0, 5)))
    files["env_raw"] = (rel, len(lines))
    # weeks 3-4: envelopes re-serialised by a queue consumer: object body, lowercase headers as lists (HTTP/2)
    lines, dups = [], []
    for k, o in enumerate(groups["env_obj"]):
        for topic in ("orders/create", "orders/paid"):
            raw = ruby_json(o["body"])
            hd = {}
            for key, val in shopify_headers(o, topic, "lower", rng):
                hd[key] = [shopify_hmac(raw) if val is None else val]
            line = json.dumps({"headers": hd, "body": o["body"]}, ensure_ascii=False)
            lines.append(line)
            if topic == "orders/paid" and k in (64, 199):
                dups.append((len(lines) + rng.randint(4, 20), line))
                dup_ids.append(hd["x-shopify-webhook-id"][0])
    for pos, line in sorted(dups, reverse=True):
        lines.insert(pos, line)
    rel = base + "webhooks-2026-10-19_2026-11-01.ndjson.gz"
    write(rel, gzip_bytes(("\n".join(lines) + "\n").encode("utf-8"), "webhooks-2026-10-19_2026-11-01.ndjson", ts(2026, 11, 2, 0, 5)))
    files["env_obj"] = (rel, len(lines))
    # week 5: orders/create as raw HTTP captures (request bin), orders/paid as bare payloads from a queue dump
    caps, bare = [], []
    for o in groups["http"]:
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
    files["http"] = (rel, len(caps))
    rel = base + "queue-dump-orders-paid-2026-11-02_2026-11-08.ndjson.gz"
    write(rel, gzip_bytes(("\n".join(bare) + "\n").encode("utf-8"), "queue-dump-orders-paid-2026-11-02_2026-11-08.ndjson", ts(2026, 11, 9, 7, 30)))
    files["bare"] = (rel, len(bare))
    # REST backfill of the orders whose deliveries failed during the receiver outage
    rel = base + "orders-export-2026-10-29_2026-10-30.json"
    write(rel, json.dumps({"orders": [o["body"] for o in groups["rest"]]}, ensure_ascii=False, indent=2) + "\n")
    files["rest"] = (rel, len(groups["rest"]))
    # one POS order as a single pretty-printed bare payload saved from the admin "webhook test" page
    pos = [o for o in orders if o["kind"] == "pos"][-1]
    rel = base + "order-%d.json" % pos["id"]
    write(rel, json.dumps(pos["body"], ensure_ascii=False, indent=2) + "\n")
    files["single"] = (rel, 1)

    # ---- sGTM side ----------------------------------------------------------
    res_old = {"type": "cloud_run_revision", "labels": {"service_name": "server-side-tagging", "revision_name": "server-side-tagging-00031-paq",
               "configuration_name": "server-side-tagging", "location": "europe-north1", "project_id": NORDIC_PROJECT}}
    res_new = json.loads(json.dumps(res_old))
    res_new["labels"]["revision_name"] = "server-side-tagging-00032-wuz"
    redeploy = ts(2026, 10, 16, 3, 12, 0)   # nightly refresh of the sGTM image: new revision, stdout parsed as jsonPayload
    instances = ["00bf4bf02d%s" % rand_str(rng, "0123456789abcdef", 22) for _ in range(4)]
    token = fake_token(rng)
    entries = []  # (t, us, kind, entry-dict)
    seq = [0]

    def iid():
        seq[0] += 1
        return "%08x%06x%010x" % (0x6650000 + seq[0], rng.randint(0, 0xffffff), rng.getrandbits(40))

    def stdout_entry(t, us, payload, as_json):
        res = res_new if t >= redeploy else res_old
        e = {"insertId": iid()}
        if as_json:
            e["jsonPayload"] = payload
        else:
            e["textPayload"] = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        e.update({"resource": res, "timestamp": iso_us(t, us), "severity": "DEFAULT", "labels": {"instanceId": rng.choice(instances)},
                  "logName": "projects/%s/logs/run.googleapis.com%%2Fstdout" % NORDIC_PROJECT,
                  "receiveTimestamp": iso_ns(t, us * 1000 + rng.randint(1, 999) + 0)})
        return e

    server = []   # (t, order, version)
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
    # browser leg: Cloud Run request logs
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
        e = {"insertId": iid(),
             "httpRequest": {"requestMethod": "POST", "requestUrl": url, "requestSize": str(rng.randint(900, 2400)), "status": 200,
                             "responseSize": str(rng.choice([221, 229, 412])), "userAgent": s["ua"], "remoteIp": s["ip"], "serverIp": "216.239.32.53",
                             "latency": "%.6fs" % rng.uniform(0.02, 0.3), "protocol": "HTTP/1.1"},
             "resource": res_new if t_hit >= redeploy else res_old, "timestamp": iso_us(t_hit, us), "severity": "INFO",
             "labels": {"instanceId": rng.choice(instances)},
             "logName": "projects/%s/logs/run.googleapis.com%%2Frequests" % NORDIC_PROJECT,
             "trace": "projects/%s/traces/%s" % (NORDIC_PROJECT, rand_str(rng, "0123456789abcdef", 32)),
             "receiveTimestamp": iso_ns(t_hit, us * 1000 + rng.randint(100000000, 900000000) % 1000),
             "spanId": rand_str(rng, "0123456789abcdef", 16), "traceSampled": False}
        entries.append((t_hit, us, "request", e))
    # a few page_view hits per day (storefront pages that load the GA4 tag through sGTM; the Facebook tag ignores them)
    prng = random.Random(20261006)
    page_views = 0
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
                 "resource": res_new if t_pv >= redeploy else res_old, "timestamp": iso_us(t_pv, us), "severity": "INFO",
                 "labels": {"instanceId": prng.choice(instances)},
                 "logName": "projects/%s/logs/run.googleapis.com%%2Frequests" % NORDIC_PROJECT,
                 "trace": "projects/%s/traces/%s" % (NORDIC_PROJECT, rand_str(prng, "0123456789abcdef", 32)),
                 "receiveTimestamp": iso_ns(t_pv, us * 1000 + 417), "spanId": rand_str(prng, "0123456789abcdef", 16), "traceSampled": False}
            entries.append((t_pv, us, "request", e))
            page_views += 1
    # server leg: Stape Facebook tag Request/Response on stdout
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
        as_json = t_req >= redeploy
        entries.append((t_req, us, "tag", stdout_entry(t_req, us, req, as_json)))
        entries.append((t_resp, us_resp, "tag", stdout_entry(t_resp, us_resp, resp, as_json)))
    # noise: instance start-ups and sgtm/a pings
    noise = 0
    for day in range(NORDIC_WEEKS * 7):
        for _ in range(rng.randint(1, 3)):
            t = NORDIC_START + day * 86400 + rng.randint(0, 86399)
            us = rng.randint(0, 999999)
            entries.append((t, us, "noise", stdout_entry(t, us, 'Listening on {"port":"8080"}', False)))
            noise += 1
            t2 = t + rng.randint(2, 40)
            entries.append((t2, us, "noise", stdout_entry(t2, us, "Sending request to https://www.googletagmanager.com/sgtm/a?id=GTM-N8W7PQ3&v=2&t=%d&s=%s" % (
                t2 * 1000 + us // 1000, rand_str(rng, "0123456789", 10)), False)))
            noise += 1
    t = redeploy + 3
    entries.append((t, 1200, "noise", stdout_entry(t, 1200, 'Listening on {"port":"8080"}', False)))
    noise += 1
    entries.sort(key=lambda e: (e[0], e[1], e[3]["insertId"]))

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

    # ---- numbers for the README ---------------------------------------------------
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
    facts["nordic"] = dict(
        files=files, sgtm_files=sgtm_files, weeks=weeks, orders=orders, n_orders=len(orders),
        n_web=sum(1 for o in orders if o["kind"] == "web"), tests=[o for o in orders if o["kind"] == "test"],
        pos=[o for o in orders if o["kind"] == "pos"], dup_ids=dup_ids, n_server=len(server), n_browser=len(browser),
        noise=noise, page_views=page_views, last_srv_all=server[-1][0], last_srv=last_srv, first_srv=first_srv, first_real_after=first_real_after, last_old=last_old, first_new=first_new,
        in_silence=len(in_silence), hits_silence=len(hits_silence), redeploy=redeploy, token_prefix=token[:12],
        outage=len(groups["rest"]), ids=(orders[0]["id"], orders[-1]["id"]),
        numbers=(orders[0]["body"]["order_number"], orders[-1]["body"]["order_number"]),
        missing_hits=sum(1 for o in orders if o["kind"] != "pos" and not o["hit"]),
        silence_days=(first_srv[0] - last_srv[0]) / 86400.0)


# --------------------------------------------------------------------------
# 8. Agency with three WooCommerce clients (plugin 3.5.x, v2 handler, ISO):
#    A dedups (event_id = order id), B sends Purchase without event_id,
#    C sends it only from the order-received page, not from the AJAX path
# --------------------------------------------------------------------------

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
            d0 = ts(*map(int, day.split("-")))
            for start in session_starts(rng, d0, 9, 7.0, 21.5):
                evs, _ = funnel(rng, shop, start, True, locale, pageview_share=0.3)
                sends.extend(evs)
            for start in session_starts(rng, d0, 5, 6.5, 22.5):
                evs, _ = funnel(rng, shop, start, False, locale)
                sends.extend(evs)
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
        entries = []
        counts = {}
        for event_time, ev, _ in sends:
            log_t, dur = send_timing(rng, event_time)
            body = php_json({"data": [ev], "partner_agent": shop.partner_agent})
            req = api_log_message("Request", [("method", "POST"), ("uri", shop.uri), ("user-agent", shop.user_agent),
                                              ("body", body), ("duration", dur)])
            resp = api_log_message("Response", [("code", "200"), ("message", "OK"), ("body", success_body(rng))])
            entries.append((log_t, "v2", "notice", req))
            entries.append((log_t, "v2", "notice", resp))
            counts[ev["event_name"]] = counts.get(ev["event_name"], 0) + 1
        entries.sort(key=lambda e: e[0])
        files = []
        for day in AGENCY_DAYS + ("2026-09-16",):
            fid = "facebook_for_woocommerce-%s" % day
            text = "".join(render(e) for e in entries if iso_wc(e[0]).startswith(day))
            if text:
                files.append(write("agency/%s/%s-%s.log" % (slug, fid, wc_file_hash(slug, fid)), text))
        out[key] = dict(slug=slug, shop=shop, files=files, counts=counts, total=len(sends), purchases=purchases,
                        with_id=with_id, without_id=without_id, received=received, ajax=ajax,
                        first=entries[0][0], last=entries[-1][0])
    facts["agency"] = out


# --------------------------------------------------------------------------
# README parts for stories 7 and 8
# --------------------------------------------------------------------------

def readme_accounts_extra(a):
    a("| %s | Nordic Wool (Shopify `%s`, orders as webhook deliveries) + its sGTM container with Stape's Facebook tag | integration-broken-after-update, server-events-missing (12-day silence while orders continue) |" % (PIXEL_NORDIC, NORDIC_SHOP))
    a("| %s | agency client A – Bergfeld Tee (WooCommerce 9.9.5, plugin 3.5.7) | **healthy** – Purchase event_id = order id |" % PIXEL_AGENCY_A)
    a("| %s | agency client B – Hudson Row Apparel (WooCommerce 9.8.2, plugin 3.5.4) | dedup-missing-event-id (no event_id on Purchase → ~2× purchases) |" % PIXEL_AGENCY_B)
    a("| %s | agency client C – Kaffebryggeriet (WooCommerce 9.9.5, plugin 3.5.7) | dedup-partial (event_id only on the order-received path) |" % PIXEL_AGENCY_C)
    a("| %s | Atelier Nord (in-house Node sender that saves every CAPI request payload) | pii-unhashed (clear phone on Purchases after a rewrite) |" % PIXEL_PAYLOADS)
    a("| %s | Kestrel Home (Magento 2.4.7, Meta Business Extension 1.4.3) | token-expired (token invalidated on 6 Oct, every send rejected after it) |" % PIXEL_MAGENTO)


def readme_files_extra(a, sz, facts):
    N, A = facts["nordic"], facts["agency"]
    f = N["files"]
    desc = {
        "env_raw": "Shopify envelope NDJSON (gzip) `{\"headers\": {…}, \"body\": \"<raw JSON string>\"}`, Title-Case header names, orders/create + orders/paid, HMAC verifiable; weeks 1–2",
        "env_obj": "Shopify envelope NDJSON (gzip), **body as JSON object** (re-serialised: `/` unescaped → HMAC unverifiable), lowercase header names with list values; orders/create + orders/paid; weeks 3–4",
        "http": "raw HTTP captures (request bin): request line, lowercase headers, blank line, raw body (`\\/` escapes); orders/create, week 5",
        "bare": "bare orders/paid payloads (gzip), one raw body per line, no headers (shop taken from the folder); week 5",
        "rest": "REST Admin API export `{\"orders\": [...]}`, pretty-printed; backfill of the receiver outage",
        "single": "one bare payload, pretty-printed (a POS order)",
    }
    for k in ("env_raw", "env_obj", "http", "bare", "rest", "single"):
        rel, n = f[k]
        a("| `%s` | %s | %s (%d records) | %s / %s |" % (rel, sz(rel), desc[k], n, NORDIC_SHOP, PIXEL_NORDIC))
    for rel, n, kinds_ in N["sgtm_files"]:
        if rel.endswith(".gz"):
            d = "`gcloud logging read … --format=json` array (2-space pretty, newest first, gzip): Cloud Run requests + stdout, text and json payloads"
        elif "/requests/" in rel:
            d = "GCS log-sink hourly shard, NDJSON: Cloud Run request logs (GA4 `/g/collect` hits)"
        else:
            d = "GCS log-sink hourly shard, NDJSON: stdout, Stape tag logs as %s" % ", ".join(k if " " in k else "`%s`" % k for k in kinds_)
        a("| `%s` | %s | %s (%d entries) | %s |" % (rel, sz(rel), d, n, PIXEL_NORDIC))
    for key in ("a", "b", "c"):
        C = A[key]
        for rel in C["files"]:
            a("| `%s` | %s | WC file handler v2, plugin %s, ISO entries without CONTEXT (agency client %s) | %s |" % (rel, sz(rel), C["shop"].plugin, key.upper(), C["shop"].pixel))
    P, M = facts["payloads"], facts["magento"]
    pdesc = ("wrapped NDJSON `{\"ts\": <epoch ms>, \"pixel_id\", \"payload\": {\"data\": [...], \"partner_agent\", \"access_token\"}, \"response\"}`",
             "wrapped NDJSON `{\"sent_at\": <ISO ms Z>, \"url\", \"status\", \"request\", \"response\"}`")
    for rel, d in zip(P["files"], pdesc):
        a("| `%s` | %s | %s | %s |" % (rel, sz(rel), d, PIXEL_PAYLOADS))
    mdesc = ("Monolog 2 `[ISO+00:00] FBE.INFO: …  [] []`, rotated by logrotate (gzip)",
             "Monolog 2 `[ISO+00:00] FBE.LEVEL: …`: `Sending event <name> with ID : <id>`, Guzzle RequestException over three lines with the body cut `(truncated...)`, an error record with JSON context")
    for rel, d in zip(M["files"], mdesc):
        a("| `%s` | %s | %s | %s |" % (rel, sz(rel), d, PIXEL_MAGENTO))


def readme_stories_extra(a, facts):
    N, A = facts["nordic"], facts["agency"]
    a("## 7. Shopify store + server-side GTM – shop `%s`, pixel %s" % (NORDIC_SHOP, PIXEL_NORDIC))
    a("")
    a("Formats from research §2 (Cloud Logging, Stape tag logs) and §3 (Shopify webhooks). Nordic Wool sells in DKK from")
    a("Copenhagen: payload times carry the **shop's offset, `+02:00` until the DST change at 2026-10-25T01:00:00Z and `+01:00`")
    a("after it**; `X-Shopify-Triggered-At` is UTC with nanoseconds. Order ids are 19 digits (> 2^53: %d … %d), orders #%d … #%d." % (
        N["ids"][0], N["ids"][1], N["numbers"][0], N["numbers"][1]))
    a("Webhook signing secret (made up, for the HMAC check): `--set shopify_secret=%s`. String bodies and HTTP captures verify;" % NORDIC_SECRET)
    a("object bodies cannot (re-serialised); bare payloads and the REST export carry no header.")
    a("")
    a("* %d orders in 5 weeks: %d web, %d test (`\"test\": true`, `x-shopify-test: true`, gateway `bogus`, placed by the owner at %s)," % (
        N["n_orders"], N["n_web"], len(N["tests"]), " and ".join(iso_z(o["t"]) for o in N["tests"])))
    a("  %d POS (`source_name: pos`, no browser data, at %s). Every order is delivered as orders/create and orders/paid except" % (
        len(N["pos"]), ", ".join(iso_z(o["t"]) for o in N["pos"])))
    a("  where noted in the file table; %d orders created during the receiver outage %s – %s exist only in the REST export." % (
        N["outage"], iso_z(NORDIC_OUTAGE[0]), iso_z(NORDIC_OUTAGE[1])))
    a("* **Duplicate deliveries**: %d retries repeat an earlier line byte for byte (same `X-Shopify-Webhook-Id`): %s." % (
        len(N["dup_ids"]), ", ".join("`%s`" % w for w in N["dup_ids"])))
    a("* sGTM (Cloud Run `server-side-tagging`, project `%s`, europe-north1): every web order's thank-you page sends a GA4" % NORDIC_PROJECT)
    a("  purchase hit (`/g/collect?…&en=purchase&ep.transaction_id=<order id>&cu=DKK&epn.value=…`) → request log; ~5 % of buyers block")
    a("  it (%d orders without any hit). The Stape Facebook tag (only on purchase) logs Request (`RequestBody` object, `TraceId`) and" % N["missing_hits"])
    a("  Response (`ResponseBody` a JSON **string**, `Message: \"Pixel ID: %s\"`) with **event_id = order_id = the Shopify order id**." % PIXEL_NORDIC)
    a("  Until %s revision 00031 writes them as `textPayload`; from the image refresh at that time revision 00032's lines are" % iso_z(N["redeploy"]))
    a("  parsed into `jsonPayload` (which of the two Cloud Run really produces is unverified, §2.5 – both occur here).")
    a("* Also %d GA4 `page_view` hits (3 a day, the first of each day shortly after 00:20 UTC) in the request logs." % N["page_views"])
    a("* Noise: %d stdout lines (`Listening on {\"port\":\"8080\"}`, `Sending request to https://www.googletagmanager.com/sgtm/a…`)." % N["noise"])
    a("  The GCS shards repeat entries of the gcloud exports (same `insertId`) – count them once.")
    a("* **The story**: at %s the Stape tag template was updated, `partner_agent` `%s` → `%s` (Graph v20.0 → v22.0)." % (
        iso_z(NORDIC_UPDATE), STAPE_OLD, STAPE_NEW))
    a("  Last 2.1.3 request %s (order %d); first 2.2.0 request %s = the owner's test order from GTM preview (order %d)." % (
        iso_z(N["last_old"][0]), N["last_old"][1]["id"], iso_z(N["first_new"][0]), N["first_new"][1]["id"]))
    a("  The update dropped the tag's trigger for live traffic: **no server Purchase from %s to %s (%.2f days)**, resumed" % (
        iso_z(N["last_srv"][0]), iso_z(N["first_srv"][0]), N["silence_days"]))
    a("  after the trigger was re-attached at %s (first request = the owner's second test order; first real order %s, order %d)." % (
        iso_z(NORDIC_FIX), iso_z(N["first_real_after"][0]), N["first_real_after"][1]["id"]))
    a("  **%d web orders were created inside the silence** (and %d GA4 purchase hits kept arriving), none has a server event." % (
        N["in_silence"], N["hits_silence"]))
    a("")
    a("| week (UTC, Mon–Sun) | all orders | web | test | POS | GA4 purchase hits | server Purchases (test incl.) | server Purchases for real orders | ratio real/web |")
    a("|---|---|---|---|---|---|---|---|---|")
    for w in N["weeks"]:
        a("| %s – %s | %d | %d | %d | %d | %d | %d | %d | %.2f |" % (
            utc(w["lo"]).strftime("%Y-%m-%d"), utc(w["hi"] - 1).strftime("%Y-%m-%d"), w["orders"], w["web"], w["test"], w["pos"],
            w["hits"], w["server"], w["server_real"], w["server_real"] / w["web"]))
    tot = lambda k: sum(w[k] for w in N["weeks"])
    a("| total | %d | %d | %d | %d | %d | %d | %d | %.2f |" % (tot("orders"), tot("web"), tot("test"), tot("pos"), tot("hits"),
                                                         tot("server"), tot("server_real"), tot("server_real") / tot("web")))
    a("")
    a("Every server Purchase was answered 200 (`events_received: 1`). Expected: **integration-broken-after-update** (version change")
    a("%s → %s at %s, then %.1f days without a server event while orders and GA4 hits continue) and **server-events-missing**" % (
        STAPE_OLD, STAPE_NEW, iso_z(N["first_new"][0]), N["silence_days"]))
    a("(silence window above; %d orders in it; overall ratio %.2f). Not token-expired, no Graph errors. Joining the two sides needs" % (
        N["in_silence"], tot("server_real") / tot("web")))
    a("the shop ↔ pixel link: Shopify rows are keyed by `%s`, sGTM rows by the pixel (their `event_source_url` host is" % NORDIC_SHOP)
    a("`nordic-wool.example.com`); the join key is order id = event_id = `ep.transaction_id`.")
    a("Comparisons should be made over the window both sides cover: the last server Purchase (%s) comes %d s after the" % (
        iso_z(N["last_srv_all"]), N["last_srv_all"] - N["orders"][-1]["t"]))
    a("last order was created, so a comparison cut at the last order counts %d server Purchases in the last week, not %d." % (
        N["weeks"][-1]["server"] - 1, N["weeks"][-1]["server"]))
    a("Also expected (low/medium, true of this setup): key-events-missing – the Facebook tag only fires on purchase while the")
    a("browser leg also sends page_view.")
    a("")
    a("## 8. Agency with three WooCommerce clients – pixels %s, %s, %s" % (PIXEL_AGENCY_A, PIXEL_AGENCY_B, PIXEL_AGENCY_C))
    a("")
    a("One agency folder, one subfolder per client, plugin 3.5.x on the v2 handler (ISO lines, no CONTEXT, like §1), %s and %s." % AGENCY_DAYS)
    a("The Meta Pixel runs on all three shops (every server event has `fbp`), so each order also produces a browser Purchase;")
    a("what is reported depends on whether the server copy can be deduplicated against it (same event_name + event_id).")
    a("The plugin's browse events (PageView, ViewContent, AddToCart, InitiateCheckout) always carry a UUID event_id.")
    a("")
    a("| client | pixel | orders (= server Purchases) | with event_id | without | server events | expected reported Purchases | over-count |")
    a("|---|---|---|---|---|---|---|---|")
    for key in ("a", "b", "c"):
        C = A[key]
        reported = C["purchases"] + C["without_id"]
        a("| %s %s | %s | %d | %d | %d | %d | %d | %.2f× (+%d) |" % (key.upper(), C["slug"], C["shop"].pixel, C["purchases"], C["with_id"],
                                                                C["without_id"], C["total"], reported, reported / C["purchases"], C["without_id"]))
    a("")
    a("* **A (healthy)**: Purchase event_id = the WooCommerce order id (`\"event_id\":\"%d\"` …), the pixel uses the same → 1:1." % A["a"]["shop"].first_order)
    a("  Expected: no medium+ finding.")
    a("* **B – dedup-missing-event-id**: the theme's thank-you snippet sends the server Purchase without `event_id`: %d of %d server events" % (
        A["b"]["without_id"], A["b"]["total"]))
    a("  (%.0f %%, all Purchases) have none → every order counted twice (browser + server)." % (100.0 * A["b"]["without_id"] / A["b"]["total"]))
    a("* **C – dedup-partial**: Purchases sent from `/checkout/order-received/<id>/` carry event_id = order id (%d); those built on the" % A["c"]["received"])
    a("  express path, `event_source_url` `%s/?wc-ajax=update_order_review`, carry none (%d) → %.0f %% of Purchases deduplicate." % (
        A["c"]["shop"].domain, A["c"]["ajax"], 100.0 * A["c"]["received"] / A["c"]["purchases"]))
    a("")
    P, M = facts["payloads"], facts["magento"]
    a("## 9. In-house sender with saved payloads – pixel %s" % PIXEL_PAYLOADS)
    a("")
    a("A Node sender of `%s` keeps every request it posts (with its access token, which the auditor never reads)." % PAYLOAD_SHOP)
    a("14 Sep: `{\"ts\": <epoch ms>, \"pixel_id\", \"payload\", \"response\"}`; 15 Sep (after a rewrite): `{\"sent_at\", \"url\", \"status\",")
    a("\"request\", \"response\"}`.  %d server events from %s to %s, every one answered `events_received: 1`." % (
        P["events"], iso_z(P["first"]), iso_z(P["last"])))
    a("Purchases carry hashed `em`/`ph` until the rewrite; after it `ph` is the clear phone number (%d Purchases)." % P["clear_ph"])
    a("**Expected diagnosis: pii-unhashed (phone).**")
    a("")
    a("## 10. Magento 2 with Meta's extension – pixel %s" % PIXEL_MAGENTO)
    a("")
    a("Meta Business Extension 1.4.3 logs each server event as `Sending event <name> with ID : <id>` (no payload) and only the")
    a("failures of its asynchronous requests.  %d sends over 5–7 Oct; from %s every send is answered by a Guzzle" % (M["sends"], iso_z(M["first_failed"])))
    a("`RequestException` 400 whose body Guzzle cut before the code (`Error validating access token: The session has been")
    a("invalidated …`): %d failed sends up to %s, plus an error record with `exception_code` 190 in its context." % (M["failed"], iso_z(M["last_failed"])))
    a("**Expected diagnosis: token-expired (critical, still failing at the end).**")
    a("")


def readme_diag_extra(a):
    for rid, where in (
            ("integration-broken-after-update", "§7 Nordic Wool (Stape tag 2.1.3 → 2.2.0, then 12 days without server Purchases)"),
            ("server-events-missing", "§7 (orders and GA4 purchase hits continue during the silence)"),
            ("dedup-missing-event-id", "§8 client B (Purchase without event_id)"),
            ("dedup-partial", "§8 client C (event_id only on the order-received path)"),
            ("pii-unhashed", "also §9 Atelier Nord (clear phone in saved CAPI payloads)"),
            ("token-expired", "also §10 Kestrel Home (Magento: Guzzle 400s cut before the code, read by their text)")):
        a("| %s | %s |" % (rid, where))



# --------------------------------------------------------------------------
# 9. In-house sender that saves its CAPI payloads (capi_payload source)
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# 10. Magento 2 with Meta's extension: the token dies (magento source)
# --------------------------------------------------------------------------
PIXEL_MAGENTO = "5523018846271093"


def story_magento(facts):
    """Meta Business Extension 1.4.3 on Magento 2.4.7 (Monolog 2 ISO stamps):
    ``Sending event <name> with ID : <id>`` for every server event; on 6 Oct
    at 14:12 the access token is invalidated and every send after it is
    answered by a Guzzle RequestException whose body Guzzle cut before the
    code.  The older part of the log was rotated to ``.1.gz`` by logrotate."""
    rng = random.Random(1010)
    out = {"files": [], "sends": 0, "failed": 0}
    dead_at = ts(2026, 10, 6, 14, 12, 0)

    def stamp(t, us=0):
        return "[%s.%06d+00:00]" % (utc(t).strftime("%Y-%m-%dT%H:%M:%S"), us)

    def day(y, m, d):
        lines = []
        t = ts(y, m, d, 7, 30, 0)
        end = ts(y, m, d, 21, 0, 0)
        while t < end:
            t += rng.randint(600, 2400)
            name = rng.choices(["ViewContent", "AddToCart", "InitiateCheckout", "Purchase"], weights=[6, 3, 2, 1])[0]
            us = rng.randint(0, 899999)
            if name == "ViewContent":
                lines.append("%s FBE.INFO: ViewContent event fired for Pixel id : %s [] []" % (stamp(t, us), PIXEL_MAGENTO))
            lines.append("%s FBE.INFO: Sending event %s with ID : %s [] []" % (stamp(t, us + 412), name, uuid4(rng)))
            out["sends"] += 1
            if t >= dead_at:
                out["failed"] += 1
                out.setdefault("first_failed", t + 1)
                out["last_failed"] = t + 1
                lines.append(
                    "%s FBE.INFO: RequestException: Client error: `POST https://graph.facebook.com/v23.0/%s/events` "
                    "resulted in a `400 Bad Request` response:\n"
                    '{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their pa (truncated...)\n'
                    " [] []" % (stamp(t + 1, us), PIXEL_MAGENTO))
        return lines

    old = day(2026, 10, 5)
    new = day(2026, 10, 6) + day(2026, 10, 7)
    t = ts(2026, 10, 7, 21, 30, 0)
    new.append("%s FBE.ERROR: Invalid OAuth access token - Cannot parse access token "
               '{"log_type":"persist_meta_log_immediately","store_id":"1","pixel_id":"%s","exception_message":"Invalid OAuth access token - Cannot parse access token",'
               '"exception_code":190,"extra_data":{"extension_version":"1.4.3"}} []' % (stamp(t, 120055), PIXEL_MAGENTO))
    out["files"].append(write("magento/var/log/meta/meta-business-extension.log.1.gz",
                              gzip_bytes(("\n".join(old) + "\n").encode(), "meta-business-extension.log.1", ts(2026, 10, 6, 0, 0, 0))))
    out["files"].append(write("magento/var/log/meta/meta-business-extension.log", "\n".join(new) + "\n"))
    facts["magento"] = out


# --------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------

def span(items):
    ts_ = sorted(t for t, _ in items)
    return "%s – %s" % (iso_z(ts_[0]), iso_z(ts_[-1])) if ts_ else "-"


def make_readme(facts):
    H, T, U, X, G, Q = facts["healthy"], facts["token"], facts["update"], facts["export"], facts["graph"], facts["queued"]
    sizes = {}
    for root, _, names in os.walk(HERE):
        for n in names:
            p = os.path.join(root, n)
            sizes[os.path.relpath(p, HERE)] = os.path.getsize(p)

    def sz(rel):
        return "%d" % sizes.get(rel, 0)

    conn_kinds = {}
    for _, k in X["conn"]:
        conn_kinds[k] = conn_kinds.get(k, 0) + 1
    rate_codes = {}
    for _, d in G["rate"]:
        rate_codes[d] = rate_codes.get(d, 0) + 1
    silence_h = (U["last"] - U["last_new"]) / 3600.0

    L = []
    a = L.append
    a("# Sample inputs for capi-auditor")
    a("")
    a("Generated by `scripts/make_sample_logs.py` (stdlib only, fixed seeds, fixed 2026 dates; re-running rewrites every file")
    a("byte for byte). Formats are the real ones of each source (see the main README, \"What it reads\"). All people, shops,")
    a("tokens and ids are made up; IPs are documentation ranges (203.0.113.0/24, 198.51.100.0/24, 192.0.2.0/24,")
    a("2001:db8::/32); e-mail domains are example.com / example.org; hashed PII is the real SHA-256 of the")
    a("normalised made-up value. All times below are UTC.")
    a("")
    a("## Accounts")
    a("")
    a("| pixel id | shop / connector | expected verdict |")
    a("|---|---|---|")
    a("| %s | Café Aroma (WooCommerce, Meta for WooCommerce 3.5.4) | **healthy** – no diagnosis |" % PIXEL_HEALTHY)
    a("| %s | Hudson Valley Baking (WooCommerce 6.9.4, plugin 2.6.27) | token-expired |" % PIXEL_TOKEN)
    a("| %s | Trailgear Outdoor (WooCommerce 9.7.1, plugin 3.4.1 → 3.7.1) | integration-broken-after-update |" % PIXEL_UPDATE)
    a("| %s | Hyggehjem (WooCommerce 10.4.3, plugin 3.7.1, admin ZIP export) | connectivity-failure, payload-rejected, token-expired, pii-unhashed, event-time-wrong, action-source-invalid |" % PIXEL_EXPORT)
    a("| %s | Ribeira Cerâmica (custom Python sender + OpenCart extension) | rate-limited, payload-rejected, permission-revoked, token-expired, connectivity-failure, pii-unhashed |" % PIXEL_GRAPH)
    a("| %s | Lumen Candle Co. (WooCommerce 9.8.2, plugin 3.5.4 + a home-made queue) | nonstandard-event-name, events-delayed, event-time-wrong, pii-unhashed, emq-low, missing-value-currency, test-event-code-in-production, action-source-invalid |" % PIXEL_QUEUED)
    readme_accounts_extra(a)
    a("")
    a("## Files")
    a("")
    a("| file | bytes | format variant | pixel |")
    a("|---|---|---|---|")
    for rel in H["files"]:
        a("| `%s` | %s | WC file handler v2, plugin 3.5.4: `YYYY-MM-DDTHH:MM:SS+00:00 NOTICE Request` multi-line entries, no CONTEXT | %s |" % (rel, sz(rel), PIXEL_HEALTHY))
    for rel in T["files"]:
        a("| `%s` | %s | WC file handler v1 legacy: `MM-DD-YYYY @ HH:MM:SS - ` site-local time (America/New_York, UTC-5, not written), Request/Response printed twice, print_r headers, blank line after multi-line entries | %s |" % (rel, sz(rel), PIXEL_TOKEN))
    for rel in U["files"]:
        a("| `%s` | %s | WC file handler v2; plugin 3.4.1 entries end with ` CONTEXT: {\"_legacy\":true}`, plugin 3.7.1 entries have none%s | %s |" % (
            rel, sz(rel), " (rotated copy `.0`)" if ".0-" in rel else (" (gzip)" if rel.endswith(".gz") else ""), PIXEL_UPDATE))
    a("| `%s` | %s | ZIP as exported from WooCommerce → Status → Logs (2 members, see below) | %s |" % (X["file"], sz(X["file"]), PIXEL_EXPORT))
    for rel in Q["files"]:
        a("| `%s` | %s | WC file handler v2, plugin 3.5.4; Request bodies carry many events (`data` array) and `test_event_code` | %s |" % (rel, sz(rel), PIXEL_QUEUED))
    for rel, desc in (("graph_api/responses.ndjson", "NDJSON: wrapper A `{\"ts\",\"pixel_id\",\"status\",\"sent\",\"response\"}` (compact), then bare bodies (no time), then wrapper B `{\"timestamp\": <unix s>, \"body\": {...}}` (json.dumps defaults)"),
                      ("graph_api/capi-sender.log", "`<ISO-8601 ms Z> <compact JSON body>` per line"),
                      ("graph_api/python-sdk-errors.log", "Python logging + facebook_business `FacebookRequestError` multi-line blocks (Message/Method/Path/Params/Status/Response)"),
                      ("graph_api/guzzle.log", "OpenCart log `Y-m-d G:i:s - ` (hour without leading zero) + Guzzle exception text; body cut at 120 chars + ` (truncated...)`; blank line after each"),
                      ("graph_api/graph-5xx.html.log", "sender capture: one line `<ISO Z> POST <url?access_token=…> -> HTTP <status> (...)`, then the HTML page, then a blank line"),
                      ("graph_api/responses.json.gz", "gzip of a pretty-printed JSON array of wrapper-A objects")):
        a("| `%s` | %s | %s | %s |" % (rel, sz(rel), desc, PIXEL_GRAPH))
    a("")
    readme_files_extra(a, sz, facts)
    a("ZIP members: " + ", ".join("`%s` (%d bytes)" % m for m in X["members"]) + ".")
    a("")

    # --- per story
    a("## 1. Healthy shop – pixel %s" % H["shop"].pixel)
    a("")
    a("Plugin 3.5.4 on WC 9.9.5 / WP 6.8.2, Graph %s, partner_agent `%s`, debug mode on, request headers not logged." % (H["shop"].graph, H["shop"].partner_agent))
    a("%d server events, every one answered `200 OK` with `events_received:1`: %s. First entry %s, last %s." % (
        H["total"], ", ".join("%s %d" % kv for kv in sorted(H["counts"].items())), iso_z(H["first"]), iso_z(H["last"])))
    a("All `em, fn, ln, ph, ct, st, zp, external_id, country` are 64-hex SHA-256; clear `client_ip_address`/`client_user_agent`,")
    a("`fbp` on every event, `fbc` on ~35% of sessions; event_time is 0–4 s before the log time. As with the real plugin only")
    a("Purchase carries hashed customer data; browse events carry IP, user agent, fbp (and fbc when the visit came from an ad).")
    a("All five key events are present, every event has a UUIDv4 event_id, no error or warning line exists.")
    a("**Expected diagnoses: none (healthy account).**")
    a("")

    a("## 2. Token expired – pixel %s" % T["shop"].pixel)
    a("")
    a("Plugin 2.6.27 on WC 6.9.4 (legacy v1 file handler). Header times are **site-local America/New_York = UTC-5 (EST) in")
    a("February; the offset is not written anywhere in the file** (the response `date:` header and the body `event_time`")
    a("are UTC anchors). `event_time` is the true Unix send time, 0–3 s before the header instant (header = UTC − 5 h). Day files are split by UTC")
    a("day and share one hash (v1 uses `wp_hash(handle)`), so e.g. the 2026-02-10 file starts at local `02-09-2026 @ 19:…`.")
    a("The token expired at %s (`Tuesday, 10-Feb-26 08:00:00 PST`)." % iso_z(TOKEN_EXPIRY))
    a("")
    a("* %d sends: %d × 200 OK (last %s), then %d × HTTP 400 `OAuthException` code 190 / subcode 463, every one followed by a" % (T["total"], T["ok"], iso_z(T["last_ok"]), T["fail"]))
    a("  `… - Could not send Pixel event: OAuthException: Error validating access token: Session has expired on …` line.")
    a("* **token-expired**: first_seen %s, last_seen %s, count %d (failed sends = 190/463 responses = `Could not send` lines); still ongoing at end of data." % (
        iso_z(T["first_fail"]), iso_z(T["last_fail"]), T["fail"]))
    a("")

    a("## 3. Broken after plugin update – pixel %s" % U["old"].pixel)
    a("")
    a("WC 9.7.1 (v2 handler). Until %s: plugin 3.4.1 (`Facebook-for-WooCommerce/3.4.1 …`, partner_agent `%s`, Graph v20.0)," % (iso_z(U["last_old"]), U["old"].partner_agent))
    a("every entry carries ` CONTEXT: {\"_legacy\":true}` on its own line. The plugin was updated around %s – **no line says so**;" % iso_z(U["update_at"]))
    a("the change is only visible in `user-agent` (`…/3.7.1 …`), `partner_agent` (`%s`) and the Graph version (v22.0)." % U["new"].partner_agent)
    a("")
    a("* %d successful 3.4.1 sends (%s – %s), then %d successful 3.7.1 sends (%s, %s), then **no Request entry at all** until the" % (
        U["n_old"], iso_z(U["first"]), iso_z(U["last_old"]), U["n_new"], iso_z(U["first_new"]), iso_z(U["last_new"])))
    a("  last line at %s (%.1f h of server-event silence) while the plugin keeps writing: %d `ERROR Error persisting Meta logs: Cannot" % (
        iso_z(U["last"]), silence_h, U["persist_n"]))
    a("  create the API instance because the access token is missing. : []` lines (written in pairs, as in the real report) and")
    a("  %d `NOTICE Blocked CAPI event for crawler: …` lines." % U["crawler_n"])
    a("* **integration-broken-after-update**: version change first seen %s (first 3.7.1 request), last server event %s, silence until %s." % (
        iso_z(U["first_new"]), iso_z(U["last_new"]), iso_z(U["last"])))
    a("  Not token-expired: there is no 190 error and no \"Error validating access token\" text.")
    a("* Files: one per UTC day; `facebook_for_woocommerce.0-2026-05-05-…log` is the rotated first part of 2026-05-05 (the site")
    a("  lowered `woocommerce_log_file_size_limit`), the 2026-05-08 file is gzipped (`.log.gz`).")
    a("")

    a("## 4. Admin ZIP export – pixel %s" % X["shop"].pixel)
    a("")
    a("Plugin 3.7.1 on WC 10.4.3 (v2, no CONTEXT). WooCommerce names such an export `woocommerce_logs_<date>.zip`; the user")
    a("saved it with an `export-` prefix. %d exchanges answered 200 OK (incl. the clear-PII purchase). Oddities on purpose:" % X["n_ok"])
    a("")
    a("* member 2026-06-09 uses **CRLF** line endings, contains a line of NUL/binary garbage and a crawler line with a cp1252")
    a("  byte (`S\\xf8gerobot`, invalid UTF-8), and a line pasted from the admin viewer with level `Error` (mixed case);")
    a("* member 2026-06-10 has a `Notice` (mixed-case) line and ends with a **half-written line without newline** (%s)." % iso_z(X["last"]))
    a("")
    a("* **connectivity-failure**: %d records, %s: %s. Each cURL failure is Request (`duration: 5.00…s` for timeouts) + Response with empty" % (
        len(X["conn"]), span(X["conn"]), ", ".join("%s ×%d" % kv for kv in sorted(conn_kinds.items()))))
    a("  `code:`/`message:`/`body:` + `Could not send Pixel event: cURL error 28: …` / `… cURL error 6: Could not resolve host: graph.facebook.com`;")
    a("  the 503 is a Response whose body is Facebook's HTML error page (\"Sorry, something went wrong.\").")
    a("* **payload-rejected**: %d responses, %s: code 100 / 2804050 at %s (Danish `error_user_title`, event with only an IP)" % (
        len(X["rejected"]), span(X["rejected"]), iso_z(X["t_2804050"])))
    a("  and code 100 / 2804003 at %s (Danish text written for this sample; Purchase re-sent from wp-admin with event_time %s, 9 days old →" % (
        iso_z([t for t, s in X["rejected"] if s == 2804003][0]), iso_z(X["old_order_time"])))
    a("  also evidence for **event-time-wrong**). Plugin 3.7.1 logs no `Could not send` line for Graph errors.")
    a("* **token-expired**: 1 record at %s – `Facebook connection invalid (error 190, subcode 460): …` (logged *before* the Request/Response" % iso_z(X["invalid_at"]))
    a("  pair of the same send, as 3.7.1 validates before broadcasting) + Response 400 code 190/460. No Request entry after it (sends are skipped).")
    a("* **pii-unhashed**: 1 Purchase logged at %s (order %d) with clear `\"em\":\"maria.silva@example.com\"` and `\"ph\":\"+351 912 345 678\"` (accepted, 200)." % (
        iso_z(X["pii_event"][0]), X["pii_event"][1]))
    a("")

    a("## 5. Raw Graph API responses – pixel %s" % PIXEL_GRAPH)
    a("")
    a("A custom shop: a Python batch sender (50 events per call), a Python realtime sender and an old OpenCart extension.")
    a("`responses.ndjson` has %d successful batch responses in total across the wrappers (+5 bare bodies without time)." % G["ok_batches"])
    a("")
    a("* **rate-limited**: %d, %s (%s)." % (len(G["rate"]), span(G["rate"]), ", ".join("%s ×%d" % kv for kv in sorted(rate_codes.items()))))
    a("  Codes 17 and 4 carry `is_transient: true`; 613 does not.")
    a("* **payload-rejected**: %d, %s (%s)." % (len(G["rejected"]), span(G["rejected"]), "; ".join("%s %s" % (iso_z(t), d) for t, d in sorted(G["rejected"]))))
    a("* **permission-revoked**: %d × `(#200) The user hasn't authorized the application to perform this action`, %s, after successes" % (len(G["perm"]), span(G["perm"])))
    a("  on both senders (capi-sender.log from %s, responses.ndjson wrapper B from %s)." % (
        iso_z(min(t for t, d in G["perm"] if "capi-sender" in d)), iso_z(min(t for t, d in G["perm"] if "ndjson" in d))))
    a("* **token-expired**: %d, %s (code 190 / subcode 460, password changed)." % (len(G["token"]), span(G["token"])))
    a("* **connectivity-failure**: %d, %s (%s)." % (len(G["conn"]), span(G["conn"]), "; ".join(d for _, d in sorted(G["conn"]))))
    a("* **pii-unhashed**: 1 at %s – `\"ct\": \"lisboa\"` in clear inside the SDK `Params` (the call was rejected with 2804016)." % iso_z(G["pii"][0][0]))
    a("* Recovery: `responses.json.gz` holds %d × 200 (`events_received` 50 of `sent` 50) from %s to %s." % (G["recovery"][2], iso_z(G["recovery"][0]), iso_z(G["recovery"][1])))
    a("")
    a("## 6. Home-made queue – pixel %s" % PIXEL_QUEUED)
    a("")
    a("Plugin 3.5.4 on WC %s. The shop's developer added a must-use plugin that collects the browser's GA4 dataLayer events" % Q["shop"].wc)
    a("over AJAX, keeps them in a queue and has WP-Cron flush the queue every %d hours at HH:05 in one request through the" % QUEUE_FLUSH_HOURS)
    a("plugin's API client, so the plugin logs the usual Request/Response entries. %d queued events in %d requests (%s – %s): %s." % (
        Q["total"], len(Q["flushes"]), iso_z(Q["flushes"][0][0]), iso_z(Q["flushes"][-1][0]),
        ", ".join("%s %d" % kv for kv in sorted(Q["counts"].items()))))
    a("")
    a("* **nonstandard-event-name**: GA4 names passed through unmapped: `view_item` (ViewContent), `add_to_cart` (AddToCart),")
    a("  `begin_checkout` (InitiateCheckout); `PageView` and `Purchase` are mapped correctly.")
    a("* **events-delayed**: every event waits for the next flush: median delay %s s, max %s s; requests arrive every %d h with %.1f events each" % (
        Q["median_delay"], Q["max_delay"], QUEUE_FLUSH_HOURS, Q["total"] / len(Q["flushes"])))
    a("  (one finding per event name).")
    a("* **event-time-wrong**: the %d `begin_checkout` events carry `event_time` in milliseconds (`Date.now()`), and the %d events with" % (Q["ms_events"], Q["fbc_events"]))
    a("  an `fbc` carry its creationTime in seconds (`fb.1.<10 digits>.<fbclid>`).")
    a("* **pii-unhashed**: the %d Purchases carry the dataLayer's clear e-mail (%d) or the placeholder `undefined` (%d), and the clear phone" % (
        Q["purchases"], Q["clear_em"], Q["undefined_em"]))
    a("  `(845) 555-01..` without country code (%d)." % Q["purchases"])
    a("* **emq-low**: those Purchases therefore have no usable e-mail, phone or external_id (estimated match quality ≈ 2/10 –")
    a("  an estimate from parameter coverage, not Meta's EMQ). Browse events carry IP, user agent and fbp, which is fine.")
    a("* **missing-value-currency**: %d of the %d Purchases have no `currency` (PayPal return page)." % (Q["no_currency"], Q["purchases"]))
    a("* **test-event-code-in-production**: every queue request carries `test_event_code: %s`." % QUEUE_TEST_CODE)
    a("* **action-source-invalid**: %d phone orders entered in wp-admin go through the same queue with `action_source: phone`" % len(Q["phone_orders"]))
    a("  (Meta's value is `phone_call`), at %s." % ", ".join(iso_z(t) for t in Q["phone_orders"]))
    a("* Not a diagnosis: %d market-stall sales (`action_source: physical_store`, hashed PII, 2–3 days old) uploaded at %s. Offline" % (Q["stall"], iso_z(Q["upload_t"])))
    a("  uploads are late by design and within Meta's 62 days, so they must not appear under events-delayed or event-time-wrong.")
    a("")
    readme_stories_extra(a, facts)
    a("## Diagnoses demonstrated")
    a("")
    a("| diagnosis | where |")
    a("|---|---|")
    for rid, where in (
            ("token-expired", "§2 Hudson Valley Baking (legacy log, code 190/463); also §4 and §5"),
            ("integration-broken-after-update", "§3 Trailgear Outdoor (3.4.1 → 3.7.1, then 73 h without server events)"),
            ("connectivity-failure", "§4 Hyggehjem (cURL 28/6, HTML 503) and §5 (HTTP 5xx)"),
            ("payload-rejected", "§4 (2804050, 2804003) and §5 (code 100, events_received 48 of 50)"),
            ("rate-limited", "§5 Ribeira Cerâmica (codes 17, 4, 613)"),
            ("permission-revoked", "§5 (code 200 after successes)"),
            ("pii-unhashed", "§4 (clear e-mail and phone in one Purchase) and §6 (clear e-mail, `undefined`, clear phone)"),
            ("event-time-wrong", "§4 (a Purchase re-sent 9 days late) and §6 (millisecond event_time, fbc in seconds)"),
            ("action-source-invalid", "§4 (an event with only an IP: no user agent) and §6 (phone orders with `action_source: phone`)"),
            ("nonstandard-event-name", "§6 (GA4 names `view_item`, `add_to_cart`, `begin_checkout`)"),
            ("events-delayed", "§6 (queue flushed every %d h: hours of delay, periodic bursts of many events per request)" % QUEUE_FLUSH_HOURS),
            ("emq-low", "§6 (Purchases without usable e-mail, phone or external_id; estimate only)"),
            ("missing-value-currency", "§6 (Purchases without currency)"),
            ("test-event-code-in-production", "§6 (`test_event_code` on every queue request)")):
        a("| %s | %s |" % (rid, where))
    readme_diag_extra(a)
    a("")
    a("## Things the auditor must redact (privacy traps)")
    a("")
    a("* Access tokens (`EAAG…`, ~190 chars, prefix `%s…`): in every `Params:` line of `graph_api/python-sdk-errors.log` (4×) and in the" % G["token_prefix"])
    a("  URL query `?access_token=…` of both capture lines in `graph_api/graph-5xx.html.log`. (WooCommerce plugin 2.x masks its")
    a("  `Authorization` header with `*` itself.)")
    a("* Clear e-mail `maria.silva@example.com`: in the `em` field of one Purchase in the ZIP (2026-06-10 member) and in the WARNING")
    a("  message of `graph_api/python-sdk-errors.log`. Clear phone `+351 912 345 678`: `ph` of the same Purchase.")
    a("* Clear city `lisboa` in the SDK Params; clear client IPs (`client_ip_address`) and user agents in every WooCommerce event.")
    a("* Access token (`EAAG…`, prefix `%s…`) in the `RequestUrl` query (`?access_token=…`) of every Stape Request in `sgtm/`." % facts["nordic"]["token_prefix"])
    a("* Shopify payloads carry clear e-mail, phone, name, city, zip, IP and user agent of every buyer (example.com/.org, RFC 5737 IPs);")
    a("  the GA4 request logs carry the buyer's IP and user agent.")
    a("")
    a("## Format notes (checked against upstream code)")
    a("")
    a("* v2 handler appends ` CONTEXT: …` to the *message* (`LogHandlerFileV2::format_entry`), so it is on its own line only because")
    a("  Request/Response messages end with a newline; a single-line legacy message would carry it at the end of the same line.")
    a("* v1 handler writes `entry . PHP_EOL`: blank line after multi-line Request/Response entries, none after single-line messages")
    a("  such as `Could not send Pixel event: …`.")
    a("* After a transport failure the Response entry is `Response` / `code:` / `message:` / `body:` with empty values.")
    a("* Guzzle's summary cuts the JSON at exactly 120 characters (the real 2804014 example is exactly that), so the server-error")
    a("  line is `%s`, not a cut after `fbtrace_id`." % G["guzzle_500_summary"])
    a("* WooCommerce file-name dates are UTC days; v2 hashes differ per day (hash of the file id), v1 hashes are identical.")
    a("")
    write("README.md", "\n".join(L))


def main():
    facts = {}
    story_healthy(facts)
    story_token_expired(facts)
    story_broken_after_update(facts)
    story_export_zip(facts)
    story_graph_api(facts)
    story_queued_shop(facts)
    story_nordic(facts)
    story_agency(facts)
    story_inhouse_payloads(facts)
    story_magento(facts)
    make_readme(facts)


if __name__ == "__main__":
    main()
