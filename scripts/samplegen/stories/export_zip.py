"""Story 4. admin export ZIP: plugin 3.7.1, mixed failures, CRLF, junk, torn line
"""

from __future__ import annotations

import io
import random
import zipfile

from ..formats import BASE62, fbtrace, iso_wc, php_duration, php_json, rand_str, render, request, response, ts, uuid4, wc_file_hash, write
from ..responses import CURL28, CURL6, DA_2804003_MSG, DA_2804003_TITLE, DA_2804050_MSG, DA_2804050_TITLE, FB_ERROR_HTML, MSG_460, WC_460_LINE, graph_error, success_body
from ..shops import CRAWLER_UAS, USER_AGENTS, Shop, custom_for, event, funnel, hashed_pii, make_customer, new_session, send_timing, session_starts, user_data


PIXEL_EXPORT = "2049381726354810"


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
    invalid_at = ts(2026, 6, 10, 19, 42, 7)
    sends = visits(rng, shop, invalid_at)
    log = PluginLog(rng, shop)
    for event_time, ev, _ in sends:
        log_t, dur = send_timing(rng, event_time)
        log.exchange(log_t, ev, "200", "OK", success_body(rng), dur)
    conn = connectivity_incident(log)
    special = special_events(log, invalid_at)
    other_plugin_lines(log.entries)
    log.entries.sort(key=lambda e: e[0])
    zpath, members = write_export_zip(log.entries)
    n_ok = len(sends) + 1  # + the clear-PII Purchase
    facts["export"] = dict(file=zpath, members=members, conn=conn, invalid_at=invalid_at, n_ok=n_ok,
                           first=log.entries[0][0], last=ts(2026, 6, 10, 21, 47, 13), shop=shop, **special)


def visits(rng, shop, invalid_at):
    """Two days of sessions, none during the connectivity outage nor after the token died."""
    outage = (ts(2026, 6, 9, 12, 58, 0), ts(2026, 6, 9, 13, 16, 0))
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
    return sends


class PluginLog:
    """The entries plugin 3.7.1 writes, in the order it writes them."""

    def __init__(self, rng, shop):
        self.rng, self.shop, self.entries = rng, shop, []

    def exchange(self, log_t, ev, code, reason, resp_body, dur=None, pre=None, post=None):
        """One send: ``pre`` line, Request, Response, ``post`` line."""
        shop = self.shop
        dur = dur or send_timing(self.rng, log_t)[1]
        body = php_json({"data": [ev], "partner_agent": shop.partner_agent})
        req = request(shop.uri, shop.user_agent, body, dur)
        resp = response(code, reason, resp_body)
        if pre:
            self.entries.append((log_t, "v2", "notice", pre))
        self.entries.append((log_t, "v2", "notice", req))
        self.entries.append((log_t, "v2", "notice", resp))
        if post:
            self.entries.append((log_t, "v2", "notice", post))


def connectivity_incident(log):
    """2026-06-09 13:00: timeouts, DNS failures, a 503 HTML page -> [(time, kind)]."""
    rng, shop = log.rng, log.shop
    conn = []  # connectivity failures (time, kind)
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
            log.exchange(t_fail, ev, None, None, None, dur=php_duration(5.0 + rng.uniform(0.0005, 0.004)),
                         post="Could not send Pixel event: " + CURL28)
        elif kind == "curl6":
            ev = event(name, t_fail, uuid4(rng), url, custom, user_data(sess))
            log.exchange(t_fail, ev, None, None, None, dur=php_duration(rng.uniform(0.012, 0.06)),
                         post="Could not send Pixel event: " + CURL6)
        else:
            ev = event(name, t_fail - 1, uuid4(rng), url, custom, user_data(sess))
            log.exchange(t_fail, ev, "503", "Service Unavailable", FB_ERROR_HTML, dur=php_duration(rng.uniform(0.9, 1.4)))
        conn.append((t_fail, kind))
    return conn


def special_events(log, invalid_at):
    """The sends the README tells one by one -> the facts it needs about them."""
    rng, shop = log.rng, log.shop
    rejected = []  # (time, subcode)
    # --- 2026-06-09 16:40 event with almost no customer information -> 2804050 (Danish locale)
    t_x = ts(2026, 6, 9, 16, 40, 18)
    p = shop.products[1]
    ev = event("ViewContent", t_x, uuid4(rng), shop.product_url(p) + "?utm_source=newsletter",
               custom_for(shop, "ViewContent", [(p, 1)]), {"client_ip_address": "192.0.2.15"})
    log.exchange(t_x, ev, "400", "Bad Request",
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
    log.exchange(t_p, ev, "200", "OK", success_body(rng))
    pii_event = (t_p, oid)

    # --- 2026-06-10 11:45 Purchase re-sent from wp-admin for a 9-day-old order -> 2804003
    t_o = ts(2026, 6, 10, 11, 45, 2)
    old_order_time = ts(2026, 6, 1, 8, 14, 9)
    cust = make_customer(rng, "dk", 3120)
    admin = dict(ip="198.51.100.200", ua=USER_AGENTS[6], fbp=None, fbc=None)
    oid_old = 5087
    ev = event("Purchase", old_order_time, uuid4(rng), "%s/wp-admin/post.php?post=%d&action=edit" % (shop.domain, oid_old),
               custom_for(shop, "Purchase", [(shop.products[4], 1)], oid_old, shop.shipping), user_data(admin, hashed_pii(cust)))
    log.exchange(t_o, ev, "400", "Bad Request",
                 php_json(graph_error("Invalid parameter", code=100, subcode=2804003, transient=False,
                                      title=DA_2804003_TITLE, msg=DA_2804003_MSG, trace=fbtrace(rng))))
    rejected.append((t_o, 2804003))

    # --- 2026-06-10 19:42 token invalidated (password changed); 3.7.1 logs the line first
    sess = new_session(rng, shop, invalid_at - 200)
    p = shop.products[3]
    ev = event("AddToCart", invalid_at, uuid4(rng), shop.product_url(p), custom_for(shop, "AddToCart", [(p, 1)]), user_data(sess))
    log.exchange(invalid_at, ev, "400", "Bad Request",
                 php_json(graph_error(MSG_460, code=190, subcode=460, trace=fbtrace(rng))), pre=WC_460_LINE)

    return dict(rejected=rejected, pii_event=pii_event, old_order_time=old_order_time, t_2804050=t_x)


def other_plugin_lines(entries):
    """Other plugin lines, incl. two pasted from the admin viewer (mixed-case level)."""
    entries.append((ts(2026, 6, 9, 10, 14, 5), "viewer", "error", "Bad response from Meta logging APIs : []"))
    entries.append((ts(2026, 6, 10, 7, 31, 18), "viewer", "notice", "Blocked CAPI event for crawler: " + CRAWLER_UAS[2]))
    for t_c, ua in ((ts(2026, 6, 9, 4, 12, 51), CRAWLER_UAS[0]), (ts(2026, 6, 9, 19, 3, 27), CRAWLER_UAS[3]),
                    (ts(2026, 6, 10, 20, 15, 40), CRAWLER_UAS[4]), (ts(2026, 6, 10, 21, 3, 9), CRAWLER_UAS[0])):
        entries.append((t_c, "v2", "notice", "Blocked CAPI event for crawler: " + ua))


def write_export_zip(entries):
    """WooCommerce's "export logs" ZIP of the two days -> (path, [(member, bytes)])."""
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
    return write("woocommerce/export-woocommerce_logs_2026-06-11_09-30-00.zip", buf.getvalue()), [(n1, len(data1)), (n2, len(data2))]
