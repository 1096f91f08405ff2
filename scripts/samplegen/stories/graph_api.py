"""Story 5. raw Graph API responses of a custom shop (Python sender + OpenCart)
"""

from __future__ import annotations

import json
import random
import string

from ..formats import fake_token, fbtrace, gzip_bytes, iso_ms, iso_z, php_json, rand_str, sha, ts, utc, write
from ..responses import FB_ERROR_HTML, MSG_2804003, MSG_2804009, MSG_2804016, MSG_460, graph_error
from ..shops import USER_AGENTS, rand_ip


PIXEL_GRAPH = "873615209481726"


def story_graph_api(facts):
    rng = random.Random(20260701)
    token_py = fake_token(rng)
    f = dict(rate=[], rejected=[], perm=[], token=[], conn=[], pii=[], ok_batches=0)
    g = GraphAnswers(rng)
    write_responses_ndjson(g, f)
    write_capi_sender_log(g, f)
    write_python_sdk_errors(g, f, token_py)
    write_html_errors(f, token_py)
    write_guzzle_log(g, f)
    write_recovery(g, f)
    f["token_prefix"] = token_py[:12]
    facts["graph"] = f


class GraphAnswers:
    """The Graph API answers of this sender, every fbtrace_id from ``rng``."""

    def __init__(self, rng):
        self.rng = rng

    def ok(self, n):
        return {"events_received": n, "messages": [], "fbtrace_id": fbtrace(self.rng)}

    def err17(self):
        return graph_error("(#17) User request limit reached", code=17, transient=True, trace=fbtrace(self.rng), transient_first=True)

    def err4(self):
        return graph_error("(#4) Application request limit reached", code=4, transient=True, trace=fbtrace(self.rng), transient_first=True)

    def err613(self):
        return graph_error("(#613) Calls to this api have exceeded the rate limit.", code=613, trace=fbtrace(self.rng))

    def err200(self):
        return graph_error("(#200) The user hasn't authorized the application to perform this action", code=200, trace=fbtrace(self.rng))


def write_responses_ndjson(g, f):
    """graph_api/responses.ndjson: three shapes of record in one file (parts A, B, C), 2026-07-01/02."""
    px = PIXEL_GRAPH
    rng = g.rng
    lines = []
    # -- part A: wrapper {"ts","pixel_id","status","sent","response"} (compact), 2026-07-01 10:00-13:50
    plan = {}
    rl = {ts(2026, 7, 1, 12, 0, 2): (400, g.err17), ts(2026, 7, 1, 12, 2, 5): (400, g.err17),
          ts(2026, 7, 1, 12, 5, 9): (400, g.err17), ts(2026, 7, 1, 12, 10, 1): (403, g.err4),
          ts(2026, 7, 1, 12, 12, 15): (403, g.err4), ts(2026, 7, 1, 12, 15, 40): (400, g.err17),
          ts(2026, 7, 1, 12, 20, 3): (400, g.err613), ts(2026, 7, 1, 12, 25, 30): (403, g.err4),
          ts(2026, 7, 1, 12, 30, 1): (400, g.err613)}
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
            rec = {"ts": iso_z(t), "pixel_id": px, "status": 200, "sent": 50, "response": g.ok(50)}
            f["ok_batches"] += 1
        elif v == "short":
            rec = {"ts": iso_z(t), "pixel_id": px, "status": 200, "sent": 50, "response": g.ok(48)}
            f["rejected"].append((t, "events_received 48 of 50 (responses.ndjson)"))
        else:
            status, mk = v
            body = mk()
            rec = {"ts": iso_z(t), "pixel_id": px, "status": status, "sent": 50, "response": body}
            f["rate"].append((t, "code %d (responses.ndjson)" % body["error"]["code"]))
        lines.append(json.dumps(rec, separators=(",", ":")))
    # -- part B: bare bodies pasted without any timestamp
    for n in (50, 50, 50, 37, 50):
        lines.append(json.dumps(g.ok(n), separators=(",", ":")))
    # -- part C: wrapper {"timestamp": <unix>, "body": {...}} (python json.dumps defaults)
    t = ts(2026, 7, 1, 14, 0, 3)
    while t < ts(2026, 7, 2, 20, 10, 0):
        if t >= ts(2026, 7, 2, 16, 30, 0):
            body = g.err200()
            f["perm"].append((t, "code 200 (responses.ndjson)"))
        else:
            body = g.ok(50)
            f["ok_batches"] += 1
        lines.append(json.dumps({"timestamp": t, "body": body}))
        t += 1800 + rng.randint(0, 5)
    write("graph_api/responses.ndjson", "\n".join(lines) + "\n")


def write_capi_sender_log(g, f):
    """graph_api/capi-sender.log: ``<ISO ms> <json>`` lines of a realtime sender."""
    # capi-sender.log: "<ISO ms> <json>", realtime sender, 2026-07-02 08:00-19:00
    rng = g.rng
    out = []
    t = ts(2026, 7, 2, 8, 0, 1)
    specials = {ts(2026, 7, 2, 10, 42, 17): "2804003", ts(2026, 7, 2, 13, 5, 44): "17"}
    perm_start = ts(2026, 7, 2, 16, 5, 41)
    first_line = True
    while t < ts(2026, 7, 2, 19, 0, 0):
        ms = 123 if first_line else rng.randint(0, 999)
        first_line = False
        if t >= perm_start:
            body = g.err200()
            f["perm"].append((t, "code 200 (capi-sender.log)"))
        else:
            body = g.ok(3 if t == ts(2026, 7, 2, 8, 0, 1) else rng.choice([1, 1, 1, 2, 2, 3, 4, 5]))
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
                    b = g.err17()
                    f["rate"].append((st, "code 17 (capi-sender.log)"))
                out.append("%s %s" % (iso_ms(st, rng.randint(0, 999)), json.dumps(b, separators=(",", ":"))))
        t = nxt
    write("graph_api/capi-sender.log", "\n".join(out) + "\n")


def write_python_sdk_errors(g, f, token_py):
    """graph_api/python-sdk-errors.log: the Python SDK's FacebookRequestError blocks."""
    # python-sdk-errors.log: facebook_business FacebookRequestError blocks, 2026-07-03
    px = PIXEL_GRAPH
    rng = g.rng

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


def write_html_errors(f, token_py):
    """graph_api/graph-5xx.html.log: HTML error pages captured by the sender."""
    # graph-5xx.html.log: HTML error pages captured by the sender, 2026-07-04 02:13
    px = PIXEL_GRAPH
    cap = []
    for when, status in ((ts(2026, 7, 4, 2, 13, 55), "502 Bad Gateway"), (ts(2026, 7, 4, 2, 14, 31), "500 Internal Server Error")):
        cap.append("%s POST https://graph.facebook.com/v25.0/%s/events?access_token=%s -> HTTP %s (content-type: text/html; charset=\"utf-8\", %d bytes)\n%s\n\n"
                   % (iso_z(when), px, token_py, status, len(FB_ERROR_HTML.encode()), FB_ERROR_HTML))
        f["conn"].append((when, "HTTP %s HTML page (graph-5xx.html.log)" % status.split()[0]))
    write("graph_api/graph-5xx.html.log", "".join(cap))


def write_guzzle_log(g, f):
    """graph_api/guzzle.log: OpenCart's extension, Guzzle's 120-character summaries."""
    # guzzle.log: OpenCart "Facebook Business Extension" (Guzzle truncates bodies at 120 chars)
    px = PIXEL_GRAPH
    rng = g.rng

    def summary(body):
        s = php_json(body).replace("\\/", "/")
        return s[:120] + " (truncated...)" if len(s) > 120 else s

    def oc_time(t):
        d = utc(t)
        return "%s %d:%s" % (d.strftime("%Y-%m-%d"), d.hour, d.strftime("%M:%S"))  # date('Y-m-d G:i:s')

    out = []
    uri10 = "https://graph.facebook.com/v10.0/%s/events" % px
    t500 = ts(2026, 7, 4, 2, 14, 2)
    f["guzzle_500_summary"] = summary(graph_error("An unexpected error has occurred. Please retry your request later.",
                                                 code=2, transient=True, trace=fbtrace(rng), transient_first=True))
    out.append("%s - Facebook Business Extension :: Fail to send server event! Error Message: Server error: `POST %s` resulted in a "
               "`500 Internal Server Error` response:\n%s\n\n" % (oc_time(t500), uri10, f["guzzle_500_summary"]))
    f["conn"].append((t500, "HTTP 500 code 2 (guzzle.log)"))
    out.append("%s - PHP Notice:  Undefined index: fbp in /var/www/opencart/catalog/controller/extension/module/facebook_business.php on line 412\n"
               % oc_time(ts(2026, 7, 4, 9, 12, 1)))
    for when in (ts(2026, 7, 4, 11, 4, 43), ts(2026, 7, 4, 11, 31, 9), ts(2026, 7, 4, 14, 52, 30)):
        out.append("%s - Facebook Business Extension :: Fail to send server event! Error Message: Client error: `POST %s` resulted in a "
                   "`400 Bad Request` response:\n%s\n\n"
                   % (oc_time(when), uri10, summary(graph_error("Invalid parameter", code=100, subcode=2804014, transient=False,
                                                                trace=fbtrace(rng)))))
        f["rejected"].append((when, "code 100/2804014 (guzzle.log)"))
    write("graph_api/guzzle.log", "".join(out))


def write_recovery(g, f):
    """graph_api/responses.json.gz: the recovery with a new token."""
    # responses.json.gz: pretty JSON array of wrapped responses, 2026-07-05 recovery with a new token
    px = PIXEL_GRAPH
    rng = g.rng
    arr = []
    t = ts(2026, 7, 5, 9, 0, 2)
    while t < ts(2026, 7, 5, 11, 0, 0):
        arr.append({"ts": iso_z(t), "pixel_id": px, "status": 200, "sent": 50, "response": g.ok(50)})
        t += 600 + rng.randint(0, 3)
    f["recovery"] = (ts(2026, 7, 5, 9, 0, 2), t - 600, len(arr))
    write("graph_api/responses.json.gz", gzip_bytes((json.dumps(arr, indent=2) + "\n").encode(), "responses.json", ts(2026, 7, 5, 11, 0, 0)))
