"""Writes the reconciliation fixtures (run once; the files are committed).

Shapes copied from tests/data/shopify/envelopes.ndjson (webhook envelopes) and
tests/data/gtm_server/gcs-sink (Cloud Logging NDJSON: sGTM stdout tag logs and
Cloud Run request logs = GA4 hits).  All people/ids are made up.
"""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).parent
CEST = timezone(timedelta(hours=2))
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
EM = "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"
n_insert = [0]


def z(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def order(shop, oid, number, created, total="49.00", test=False, source="web"):
    body = {"id": oid, "admin_graphql_api_id": f"gid://shopify/Order/{oid}", "browser_ip": "203.0.113.55",
            "client_details": {"accept_language": "de-DE", "browser_ip": "203.0.113.55", "user_agent": UA},
            "contact_email": f"buyer{number}@example.com", "created_at": created.isoformat(), "currency": "EUR",
            "email": f"buyer{number}@example.com", "financial_status": "paid", "name": f"#{number}",
            "order_number": number, "phone": None, "processed_at": created.isoformat(), "source_name": source,
            "test": test, "total_price": total, "updated_at": created.isoformat(),
            "billing_address": {"first_name": "Lena", "last_name": "Schmidt", "phone": "+49 30 1234567", "city": "Berlin", "zip": "10115", "country_code": "DE"},
            "customer": {"id": 7000000 + number, "email": f"buyer{number}@example.com", "first_name": "Lena", "last_name": "Schmidt"}}
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": shop, "X-Shopify-API-Version": "2024-07",
               "X-Shopify-Webhook-Id": f"wh-{shop[:4]}-{number}", "X-Shopify-Triggered-At": z(created + timedelta(seconds=2)),
               "Content-Type": "application/json", "User-Agent": "Shopify-Captain-Hook"}
    return {"headers": headers, "body": json.dumps(body, separators=(",", ":"))}


def _entry(project, ts, **payload):
    n_insert[0] += 1
    log = "requests" if "httpRequest" in payload else "stdout"
    return {"insertId": f"rc{n_insert[0]:06d}", **payload,
            "resource": {"type": "cloud_run_revision", "labels": {"service_name": "server-side-tagging", "project_id": project}},
            "timestamp": z(ts), "severity": "DEFAULT", "logName": f"projects/{project}/logs/run.googleapis.com%2F{log}"}


def server(project, pixel, ts, order_no, host, event_id=..., agent="stape-gtmss-2.1.3", ok=True, action_source="website", fbp=True, value=49,
           event_time=None):
    ev = {"event_name": "Purchase", "action_source": action_source, "event_time": int((event_time or ts).timestamp()),
          "custom_data": {"currency": "EUR", "value": value, "order_id": str(order_no)},
          "user_data": {"client_user_agent": UA, "client_ip_address": "203.0.113.24", "em": EM, "ph": EM.replace("b4", "c5", 1), "external_id": EM.replace("b4", "d6", 1), "fbc": "fb.1.1748170000000.IwAR2abcDEFghiJKL", **({"fbp": "fb.1.1748170000000.987654321"} if fbp else {})},
          "event_source_url": f"https://{host}/checkout/thank-you"}
    if event_id is ...:
        event_id = str(order_no)
    if event_id is not None:
        ev["event_id"] = event_id
    req = {"Name": "Facebook", "Type": "Request", "EventName": "Purchase", "RequestMethod": "POST",
           "RequestUrl": f"https://graph.facebook.com/v24.0/{pixel}/events?access_token=EAAGm0PX4ZCpsBAKZCZBxyzzy1234567890abcdEFGH",
           "RequestBody": {"data": [ev], "partner_agent": agent}}
    if ok:
        resp = {"Name": "Facebook", "Type": "Response", "EventName": "Purchase", "ResponseStatusCode": 200,
                "ResponseBody": json.dumps({"events_received": 1, "messages": [], "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUvW"}),
                "Message": f"Pixel ID: {pixel}"}
    else:
        resp = {"Name": "Facebook", "Type": "Response", "EventName": "Purchase", "ResponseStatusCode": 400,
                "ResponseBody": json.dumps({"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, "error_subcode": 2804050, "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUvX"}}),
                "Message": f"Pixel ID: {pixel}"}
    return [_entry(project, ts, textPayload=json.dumps(req)), _entry(project, ts + timedelta(milliseconds=300), textPayload=json.dumps(resp))]


def ga4(project, ts, order_no, host, event_id=...):
    if event_id is ...:
        event_id = str(order_no)
    url = (f"https://sgtm.{host}/g/collect?v=2&tid=G-ABC123XYZ&en=purchase&ep.transaction_id={order_no}"
           + (f"&ep.event_id={event_id}" if event_id else "") + f"&cu=EUR&epn.value=49&dl=https%3A%2F%2F{host}%2Fcheckout%2Fthank-you")
    return _entry(project, ts, httpRequest={"requestMethod": "POST", "requestUrl": url, "status": 200, "userAgent": UA,
                                            "remoteIp": "203.0.113.24", "latency": "0.18s", "protocol": "HTTP/1.1"})


def write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows), encoding="utf-8")


def slots(first_day, days):
    """Two orders a day at 10:00 and 15:00 shop time (UTC+2)."""
    return [datetime(2025, 6, first_day, h, 0, tzinfo=CEST) + timedelta(days=d) for d in range(days) for h in (10, 15)]


def shop_orders(shop, pixel, proj, host, times, first_no, id_base, *, hits=True, tag=lambda i, no: {}):
    """One shop's orders at ``times`` (numbers from ``first_no``, ids ``id_base``
    + number), each followed by its GA4 purchase hit 3 s later (unless
    ``hits=False``) and its server Purchase 5 s later, sent with ``tag(i,
    number)`` as the arguments of :func:`server` (None: the tag sent nothing).
    -> (webhook envelopes, sGTM stdout entries, request-log entries)."""
    orders, tags, requests = [], [], []
    for i, t in enumerate(times):
        no = first_no + i
        orders.append(order(shop, id_base + no, no, t))
        if hits:
            requests.append(ga4(proj, t + timedelta(seconds=3), no, host))
        sent = tag(i, no)
        if sent is not None:
            tags += server(proj, pixel, t + timedelta(seconds=5), no, **{"host": host, **sent})
    return orders, tags, requests


def write_shop(folder, orders, tags, requests):
    write(folder / "shopify-webhooks.ndjson", orders)
    write(folder / "sgtm-stdout.ndjson", tags)
    if requests:
        write(folder / "sgtm-requests.ndjson", requests)


# 1. stopped: week 1 every order reaches Meta; week 2 only the first two, right after 2.1.3 -> 2.2.0
orders, tags, hits = shop_orders("trailgear.myshopify.com", "111100001111", "trail-sgtm", "trailgear.example", slots(2, 5) + slots(9, 5),
                                 1001, 5500000000000,
                                 tag=lambda i, no: {"agent": "stape-gtmss-2.1.3" if i < 10 else "stape-gtmss-2.2.0"} if i < 12 else None)
orders.insert(3, order("trailgear.myshopify.com", 5500000000999, 999, datetime(2025, 6, 3, 11, 0, tzinfo=CEST), test=True))
write_shop(HERE / "stopped", orders, tags, hits)

# 2. double: no event_id at all, fbp present -> about 2x
write_shop(HERE / "double", *shop_orders("doublecount.myshopify.com", "222200002222", "double-sgtm", "doublecount.example", slots(2, 2),
                                         2001, 6600000000000, hits=False, tag=lambda i, no: {"event_id": None}))

# 3. format: server event_id "order_<n>", browser leg "<n>"
write_shop(HERE / "format", *shop_orders("formatmix.myshopify.com", "333300003333", "format-sgtm", "formatmix.example", slots(2, 2),
                                         3001, 7700000000000, tag=lambda i, no: {"event_id": f"order_{no}"}))

# 4. partial: web checkout (shop host) sends event_id, mobile checkout (m. host) does not: 6 of 10
write_shop(HERE / "partial", *shop_orders("partial.myshopify.com", "444400004444", "partial-sgtm", "partial.example", slots(2, 5),
                                          4001, 8800000000000, hits=False,
                                          tag=lambda i, no: {} if i < 6 else {"host": "m.partial.example", "event_id": None}))

# 5. healthy: two shops, two pixels, every order sent, accepted and deduplicated
for shop, pixel, proj, host, base in (("alpha.myshopify.com", "555500005555", "alpha-sgtm", "alpha.example", 5001),
                                      ("beta.myshopify.com", "666600006666", "beta-sgtm", "beta.example", 6001)):
    write_shop(HERE / "healthy" / shop.split(".")[0], *shop_orders(shop, pixel, proj, host, slots(2, 3), base, 9900000000000))

# 6. time zone: the tag applies a wrong zone offset, so event_time lies a whole 5 h before
#    the order; "realtime" sends 5 s after each order, "queued" 2 h after it
for name, lag in (("realtime", timedelta(seconds=5)), ("queued", timedelta(hours=2))):
    shop, pixel, proj, host = f"tz-{name}.myshopify.com", "1777000077770001", f"tz-{name}-sgtm", f"tz-{name}.example"
    orders, tags = [], []
    for i, t in enumerate(slots(2, 5)):
        no, oid = 7001 + i, 9800000000000 + 7001 + i
        orders.append(order(shop, oid, no, t))
        tags += server(proj, pixel, t + lag, oid, host, event_time=t - timedelta(hours=5))  # order_id = Shopify's order id
    write(HERE / "timezone" / name / "shopify-webhooks.ndjson", orders)
    write(HERE / "timezone" / name / "sgtm-stdout.ndjson", tags)
