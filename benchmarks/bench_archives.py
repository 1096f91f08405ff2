"""Benchmark `capi-audit audit` on archives of many files against three baselines.

    pip install -e '.[bench]'     # DuckDB, for the DuckDB baseline only
    python benchmarks/bench_archives.py --shape all            # the README table (scale 1.0)
    python benchmarks/bench_archives.py --shape sgtm --scale 0.1 --keep /tmp/bench

Generates realistic archives in the formats the tool reads (deterministic from
``--seed``), then measures in ONE run, on the SAME files:

* **capi-audit** -- ``capi-audit audit DIR --format json --no-db --fail-on never``
  as a subprocess (the real CLI, startup included);
* **polars-read** -- a bare Polars read of the same files, each file by its own
  framing and nothing more: NDJSON (sGTM shards, Graph responses) with
  ``pl.scan_ndjson(files, schema=...)`` (an explicit schema of the LogEntry /
  Stape / response fields: with inference Polars only looks at the first file
  and silently drops fields the other files have), WooCommerce logs with
  ``pl.scan_lines`` (gzip read in place), Shopify delivery files read as bytes
  and decoded with ``Series.str.json_decode(dtype)`` (HTTP captures: the body
  after the blank line).  Nested JSON held in strings (``textPayload``, the raw
  ``body`` of envelopes, WooCommerce ``body:`` lines) is NOT decoded: this is
  the lower bound of "just read it";
* **duckdb** -- one DuckDB query set (``read_json`` newline-delimited /
  unstructured with explicit columns, ``read_csv`` one-column line read for the
  WooCommerce logs, ``read_text`` for HTTP captures) computing the per-pixel
  aggregates the audit needs: server events per pixel, send delay (log time
  minus ``event_time``) median / p95 per pixel, error responses (non-2xx)
  per pixel, GA4 ``/g/collect`` hits, and for Shopify distinct orders per shop
  and the sum of their ``total_price`` (shop from ``X-Shopify-Shop-Domain``,
  else the only shop of the folder, else the ``order_status_url`` host -- the
  audit's rule);
* **python** -- a plain ``json.loads`` loop over the lines / documents
  computing the same numbers.

Every tool runs as its own child process; wall time is measured around it and
peak RSS comes from ``os.wait4`` (that child's own ``ru_maxrss``).  The table
shows ratios: capi-audit time / baseline time, capi-audit MB/s, peak RSS /
input size, plus the baselines' totals next to the audit's (server events,
errors, orders) as a sanity check that everybody read the same data.

Shapes (``--scale 1.0`` sizes):

* ``sgtm``    -- server-side GTM Cloud Storage sink shards
  ``run.googleapis.com/{stdout,requests}/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json``:
  168 files, ~128 MB, 3-5 pixels, Stape Meta-tag Request/Response logs as
  ``textPayload`` (older revision) or ``jsonPayload``, GA4 hits, 2-5 % Graph errors.
  That is ~97k lines, not 500k: a real LogEntry line is 0.9-3 KB, so 128 MB of
  them cannot be 500k lines (the byte size was kept);
* ``shopify`` -- 20,000 webhook delivery files ``shopify/<shop>/deliveries/
  YYYY-MM-DD/orders-create-<webhook-id>.json`` (~13 KB each): ``{"headers",
  "body"}`` envelopes (raw body string; some lowercase list headers with an
  object body), pretty-printed bare orders, raw HTTP captures, a few retries;
* ``mixed``   -- an agency archive, ~200 MB / ~6,000 files, 15 shops:
  WooCommerce logs (some ``.log.gz``, some plugin 3.4 ``CONTEXT`` entries),
  Shopify deliveries, sGTM shards of two Shopify shops (purchases = orders),
  Graph API response NDJSON of custom senders;
* ``woo1g``   -- the 1 GB WooCommerce log + Graph NDJSON of
  ``benchmarks/bench_audit.py`` (``--size-mb 1024 * scale``);
* ``all``     -- all of the above.

Usage::

    python benchmarks/bench_archives.py --shape all --scale 0.05           # quick
    python benchmarks/bench_archives.py --shape sgtm --scale 1 --keep /tmp/ba --json-out sgtm.json
    python benchmarks/bench_archives.py --shape mixed --keep /tmp/ba       # again: reuses the input

Without ``--keep`` the inputs go to a temporary directory removed at the end.
With ``--keep DIR`` they are written to ``DIR/<shape>-s<scale>-seed<seed>/input``
(a ``manifest.json`` marks a complete input, which later runs reuse).
Before measuring Shopify inputs one file of each delivery form is audited on
its own and must come back as exactly one ``shopify`` record (``--no-probe``
skips that).  Problems (unrecognised files, missing sources, plugin errors,
baseline failures) are printed after the table and kept in the JSON.

This is a script: speed is measured and reported here, never asserted.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import gzip
import hashlib
import hmac
import itertools
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from auditor.testing.woocommerce_log import entry as woo_entry
from auditor.testing.woocommerce_log import php_json, request, response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from samplegen.shops import UA_WEIGHTS, USER_AGENTS  # noqa: E402 - the sample logs' browsers, one table for both

HERE = Path(__file__).resolve().parent
MB = 1024 * 1024
SHAPES = ("sgtm", "shopify", "mixed", "woo1g")

# --------------------------------------------------------------------------
# fast deterministic random helpers
# --------------------------------------------------------------------------

UA_CUM = list(itertools.accumulate(UA_WEIGHTS))

LOCALES = {
    "dk": dict(first=["Mette", "Lars", "Sofie", "Mads", "Ida", "Frederik", "Emma", "Rasmus", "Freja", "Anders", "Karen", "Søren"],
               last=["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Rasmussen", "Jørgensen"],
               places=[("København K", "", "1050"), ("Aarhus C", "", "8000"), ("Odense C", "", "5000"), ("Aalborg", "", "9000"),
                       ("Roskilde", "", "4000"), ("Esbjerg", "", "6700")],
               country="dk", country_name="Denmark", lang=["da-DK", "da", "en-US", "sv-SE"],
               phone=lambda r: "+45 %02d %02d %02d %02d" % (r.randint(20, 61), r.randint(0, 99), r.randint(0, 99), r.randint(0, 99))),
    "de": dict(first=["Lukas", "Anna", "Jonas", "Laura", "Felix", "Lea", "Paul", "Marie", "Tim", "Sophie", "Jan", "Hannah"],
               last=["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch"],
               places=[("München", "by", "80331"), ("Berlin", "be", "10115"), ("Hamburg", "hh", "20095"), ("Köln", "nw", "50667"),
                       ("Freiburg im Breisgau", "bw", "79098"), ("Leipzig", "sn", "04109")],
               country="de", country_name="Germany", lang=["de-DE", "de", "en-US"],
               phone=lambda r: "+49 15%d %07d" % (r.choice([1, 2, 7, 9]), r.randint(0, 9999999))),
    "us": dict(first=["Emily", "Michael", "Sarah", "David", "Jessica", "Daniel", "Ashley", "Matthew", "Olivia", "Ryan"],
               last=["Johnson", "Miller", "Davis", "Garcia", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin"],
               places=[("Kingston", "ny", "12401"), ("Brooklyn", "ny", "11215"), ("Albany", "ny", "12203"), ("Hoboken", "nj", "07030"),
                       ("Stamford", "ct", "06901"), ("Burlington", "vt", "05401")],
               country="us", country_name="United States", lang=["en-US", "en", "es-US"],
               phone=lambda r: "(%d) 555-01%02d" % (r.choice([845, 718, 518, 201, 203, 802]), r.randint(0, 99))),
    "pt": dict(first=["João", "Maria", "Ana", "Pedro", "Rita", "Tiago", "Inês", "Miguel", "Sofia", "Rui"],
               last=["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Sousa"],
               places=[("Lisboa", "", "1100-148"), ("Porto", "", "4000-322"), ("Braga", "", "4700-031"), ("Coimbra", "", "3000-150")],
               country="pt", country_name="Portugal", lang=["pt-PT", "pt", "en-GB"],
               phone=lambda r: "+351 9%d%d %03d %03d" % (r.choice([1, 2, 3, 6]), r.randint(0, 9), r.randint(0, 999), r.randint(0, 999))),
}
FOLD = str.maketrans({"ã": "a", "á": "a", "ç": "c", "é": "e", "ê": "e", "í": "i", "ó": "o", "ô": "o", "ú": "u", "ü": "u",
                      "ö": "o", "ä": "a", "ß": "ss", "ø": "o", "å": "a", "æ": "ae"})


def sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def ruby_json(obj) -> str:
    """Shopify's raw webhook body: compact, UTF-8, '/' escaped."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


def iso_us(t: int, us: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % us


def iso_ns(t: int, ns: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%09dZ" % ns


def epoch(y: int, m: int, d: int, hh: int = 0) -> int:
    return int(datetime(y, m, d, hh, tzinfo=UTC).timestamp())


class R(random.Random):
    """random.Random with fast id helpers (one getrandbits call per id)."""

    def hexs(self, n: int) -> str:
        return "%0*x" % (n, self.getrandbits(4 * n))

    def b64(self, n: int, url: bool = True) -> str:
        raw = self.getrandbits(6 * n + 6).to_bytes((6 * n + 13) // 8, "big")
        enc = base64.urlsafe_b64encode(raw) if url else base64.b64encode(raw)
        return enc.decode()[:n]

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.getrandbits(128), version=4))

    def fbtrace(self) -> str:
        return "A" + self.b64(22)

    def ip(self) -> str:
        # the address mix of scripts/samplegen/shops.rand_ip, drawn with getrandbits:
        # sharing that one would change every generated benchmark input
        r = self.random()
        if r < 0.42:
            return "203.0.113.%d" % self.randint(2, 254)
        if r < 0.80:
            return "198.51.100.%d" % self.randint(2, 254)
        if r < 0.90:
            return "192.0.2.%d" % self.randint(2, 254)
        return "2001:db8:%x:%x::%x" % (self.getrandbits(16) | 0x100, self.getrandbits(16) | 1, self.getrandbits(16) | 1)

    def ua(self) -> str:
        return USER_AGENTS[bisect.bisect_right(UA_CUM, self.random() * UA_CUM[-1])]

    def token(self) -> str:
        return "EAAG" + self.b64(184).replace("-", "x").replace("_", "y") + "ZDZD"


def customers(rng: R, locale: str, n: int, first_id: int) -> list[dict]:
    """A pool of returning customers (PII hashed once, like the plugins normalise it)."""
    loc = LOCALES[locale]
    out = []
    for k in range(n):
        first, last = rng.choice(loc["first"]), rng.choice(loc["last"])
        city, state, zp = rng.choice(loc["places"])
        local = ("%s.%s" % (first, last)).lower().translate(FOLD)
        email = "%s%s@%s" % (local, rng.choice(["", "", str(rng.randint(2, 99))]), rng.choice(["example.com", "example.org"]))
        phone = loc["phone"](rng)
        cid = first_id + k * 7919
        h = {"em": sha(email), "ph": sha("".join(ch for ch in phone if ch.isdigit())), "fn": sha(first.lower()),
             "ln": sha(last.lower()), "ct": sha("".join(ch for ch in city.lower() if ch.isalpha()))}
        if state:
            h["st"] = sha(state)
        h.update(zp=sha(zp.replace("-", "").replace(" ", "")), country=sha(loc["country"]), external_id=sha(str(cid)))
        out.append(dict(first=first, last=last, email=email, phone=phone, city=city, state=state, zip=zp, id=cid,
                        country=loc["country"], country_name=loc["country_name"], hashed=h, lang=loc["lang"]))
    return out


def session(rng: R, t: int, fbc_share: float = 0.35) -> dict:
    first_visit = t - rng.randint(0, 45 * 86400)
    s = dict(ip=rng.ip(), ua=rng.ua(), fbp="fb.1.%d%03d.%d" % (first_visit, rng.randint(0, 999), rng.randint(100000000, 2147483647)),
             fbc=None, fbclid=None)
    if rng.random() < fbc_share:
        s["fbclid"] = "IwZXh0bgNhZW0CMTEAAR" + rng.b64(44) + "_aem_" + rng.b64(22)
        s["fbc"] = "fb.1.%d%03d.%s" % (t - rng.randint(1, 4), rng.randint(0, 999), s["fbclid"])
    return s


# Graph API error bodies, as Meta sends them ------------------------------------------------

def graph_error(rng: R, kind: str, t: int) -> tuple[int, dict]:
    """-> (HTTP status, body) of a real-looking Graph error."""
    trace = rng.fbtrace()
    if kind == "token":
        exp = t - rng.randint(3600, 86400 * 3)
        fmt = "%A, %d-%b-%y %H:%M:%S PST"
        msg = ("Error validating access token: Session has expired on %s. The current time is %s."
               % (time.strftime(fmt, time.gmtime(exp - 8 * 3600)), time.strftime(fmt, time.gmtime(t - 8 * 3600))))
        return 400, {"error": {"message": msg, "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": trace}}
    if kind == "params":
        return 400, {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, "error_subcode": 2804050,
                               "is_transient": False, "error_user_title": "You haven't added sufficient customer information parameter data for this event",
                               "error_user_msg": "This event has no customer information parameters, or it has a combination of customer "
                               "information parameters that are too broad to be likely to be effective for matching.", "fbtrace_id": trace}}
    if kind == "old":
        return 400, {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, "error_subcode": 2804003,
                               "is_transient": False, "error_user_title": "Event Timestamp Too Old",
                               "error_user_msg": "The timestamp for this event is too far in the past. Events need to be sent from your server "
                               "within 7 days of when they occurred. Enter a timestamp that has occurred within the last 7 days.",
                               "fbtrace_id": trace}}
    if kind == "rate":
        return 400, {"error": {"message": "(#17) User request limit reached", "type": "OAuthException", "is_transient": True, "code": 17,
                               "fbtrace_id": trace}}
    return 500, {"error": {"message": "An unexpected error has occurred. Please retry your request later.", "type": "OAuthException",
                           "is_transient": True, "code": 2, "fbtrace_id": trace}}


ERROR_KINDS = ["token", "params", "params", "old", "rate", "unexpected"]


# --------------------------------------------------------------------------
# sGTM: Cloud Storage sink shards of a Cloud Run server-side GTM container
# --------------------------------------------------------------------------

EVENT_MIX = [("page_view", "PageView", 0.40), ("view_item", "ViewContent", 0.25), ("add_to_cart", "AddToCart", 0.15),
             ("begin_checkout", "InitiateCheckout", 0.10), ("purchase", "Purchase", 0.10)]
EVENT_CUM = list(itertools.accumulate(w for _, _, w in EVENT_MIX))


class SgtmContainer:
    """One sGTM container (Cloud Run service) whose Stape Facebook tag(s) send to some pixels."""

    def __init__(self, rng: R, project: str, site: str, pixels: list[str], currency: str, locale: str, products: list[tuple]):
        self.rng, self.project, self.site, self.pixels = rng, project, site, pixels
        self.sgtm = site.replace("https://", "https://sgtm.").replace("www.", "")
        self.currency, self.products = currency, products
        self.ga4 = "G-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(10))
        self.gtm = "GTM-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(7))
        self.customers = customers(rng, locale, 400, 7713029548261193001 + rng.getrandbits(20))
        self.instances = ["00bf4bf02d" + rng.hexs(22) for _ in range(rng.randint(3, 6))]
        self.tokens = {p: rng.token() for p in pixels}
        self.pixel_cum = list(itertools.accumulate(rng.uniform(0.5, 2.0) for _ in pixels))
        self.err_rate = {p: rng.uniform(0.02, 0.05) for p in pixels}
        self.graph = {p: rng.choice(["v20.0", "v21.0", "v22.0"]) for p in pixels}
        self.stape = rng.choice(["stape-gtmss-2.1.3", "stape-gtmss-2.2.0"])
        res = lambda rev: json.dumps({"type": "cloud_run_revision", "labels": {  # noqa: E731
            "service_name": "server-side-tagging", "revision_name": rev, "configuration_name": "server-side-tagging",
            "location": rng.choice(["europe-north1", "europe-west1", "us-central1"]), "project_id": project}}, separators=(",", ":"))
        self.res_old = res("server-side-tagging-%05d-%s" % (rng.randint(10, 60), rng.hexs(3)))
        self.res_new = res("server-side-tagging-%05d-%s" % (rng.randint(61, 90), rng.hexs(3)))
        self.order_id = 5000000000000 + rng.getrandbits(30)
        self.seq = rng.getrandbits(24)

    def _iid(self) -> str:
        self.seq += 1
        return "%08x%06x%010x" % (0x6650000 + self.seq, self.rng.getrandbits(24), self.rng.getrandbits(40))

    def _stdout(self, t: int, us: int, payload, as_json: bool, res: str) -> str:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if not isinstance(payload, str) else payload
        key, val = ("jsonPayload", body) if as_json else ("textPayload", json.dumps(body, ensure_ascii=False))
        return ('{"insertId":"%s","%s":%s,"resource":%s,"timestamp":"%s","severity":"DEFAULT","labels":{"instanceId":"%s"},'
                '"logName":"projects/%s/logs/run.googleapis.com%%2Fstdout","receiveTimestamp":"%s"}\n' % (
                    self._iid(), key, val, res, iso_us(t, us), self.rng.choice(self.instances), self.project,
                    iso_ns(t, us * 1000 + self.rng.randint(1, 999))))

    def _request_log(self, t: int, us: int, url: str, s: dict, res: str) -> str:
        rng = self.rng
        e = {"insertId": self._iid(),
             "httpRequest": {"requestMethod": "POST", "requestUrl": url, "requestSize": str(rng.randint(700, 2400)), "status": 200,
                             "responseSize": rng.choice(["221", "229", "412"]), "userAgent": s["ua"], "remoteIp": s["ip"],
                             "serverIp": "216.239.32.53", "latency": "%.6fs" % rng.uniform(0.02, 0.3), "protocol": "HTTP/1.1"},
             "resource": None, "timestamp": iso_us(t, us), "severity": "INFO", "labels": {"instanceId": rng.choice(self.instances)},
             "logName": "projects/%s/logs/run.googleapis.com%%2Frequests" % self.project,
             "trace": "projects/%s/traces/%s" % (self.project, rng.hexs(32)),
             "receiveTimestamp": iso_ns(t, us * 1000 + rng.randint(1, 999)), "spanId": rng.hexs(16), "traceSampled": False}
        return json.dumps(e, ensure_ascii=False, separators=(",", ":")).replace('"resource":null', '"resource":' + res, 1) + "\n"

    def hit(self, t: int, us: int, as_json: bool, purchase: dict | None = None) -> tuple[list, list]:
        """One GA4 hit and what the Meta tag did with it -> (request-log lines, stdout lines) as (t, us, text)."""
        rng = self.rng
        res = self.res_new if as_json else self.res_old
        if purchase is not None:
            ga4, name = "purchase", "Purchase"
            pixel = purchase["pixel"]
        else:
            k = bisect.bisect_right(EVENT_CUM, rng.random() * EVENT_CUM[-1])
            ga4, name, _ = EVENT_MIX[min(k, len(EVENT_MIX) - 1)]
            pixel = self.pixels[bisect.bisect_right(self.pixel_cum, rng.random() * self.pixel_cum[-1])]
        s = purchase["sess"] if purchase and purchase.get("sess") else session(rng, t, 0.4)
        items = purchase["items"] if purchase else [(p, 1 if rng.random() < 0.85 else 2) for p in rng.sample(self.products, 1 if rng.random() < 0.65 else 2)]
        value = purchase["value"] if purchase else sum(p[2] * q for p, q in items) / 100.0
        oid = str(purchase["id"]) if purchase else None
        if name == "Purchase" and oid is None:
            self.order_id += rng.randint(1000, 90000)
            oid = str(self.order_id)
        ctoken = rng.hexs(32)
        page = {"page_view": "/", "view_item": "/products/%s" % items[0][0][3], "add_to_cart": "/products/%s" % items[0][0][3],
                "begin_checkout": "/checkouts/c/%s/information" % ctoken, "purchase": "/checkouts/c/%s/thank-you" % ctoken}[ga4]
        cid = "%d.%d" % (rng.randint(100000000, 2147483647), int(s["fbp"].split(".")[2][:10]))
        url = ("%s/g/collect?v=2&tid=%s&gtm=45je6a10v9&_p=%d&cid=%s&ul=%s&sr=%s&_s=%d&sid=%d&sct=%d&seg=1&dl=%s&en=%s&_et=%d"
               % (self.sgtm, self.ga4, rng.randint(1000000000, 1999999999), cid, rng.choice(["da-dk", "en-us", "de-de", "sv-se"]),
                  rng.choice(["390x844", "1920x1080", "1440x900", "412x915"]), rng.randint(1, 40), t - rng.randint(60, 1800),
                  rng.randint(1, 9), (self.site + page).replace(":", "%3A").replace("/", "%2F"), ga4, rng.randint(5, 900)))
        if ga4 != "page_view":
            url += "&cu=%s&epn.value=%.2f" % (self.currency, value) + "".join(
                "&pr%d=id%s~nm%s~pr%.2f~qt%d" % (i + 1, p[1], p[0].replace(" ", "%20"), p[2] / 100.0, q) for i, (p, q) in enumerate(items))
        if ga4 == "purchase":
            url += "&ep.transaction_id=" + oid
        reqs = [(t, us, self._request_log(t, us, url, s, res))]
        # the Meta tag: Request then Response on stdout
        t_req = t + rng.randint(0, 1)
        us_req = rng.randint(0, 999999)
        r = rng.random()
        delay = rng.randint(0, 4) if r < 0.97 else rng.randint(5, 90)
        ud = {"client_user_agent": s["ua"], "client_ip_address": s["ip"], "fbp": s["fbp"]}
        if s["fbc"]:
            ud["fbc"] = s["fbc"]
        if name == "Purchase" or rng.random() < 0.15:
            c = purchase["cust"] if purchase and purchase.get("cust") else rng.choice(self.customers)
            ud.update(c["hashed"])
        ev = {"event_name": name, "action_source": "website", "event_time": t_req - delay}
        if name != "PageView":
            cd = {"currency": self.currency, "value": round(value, 2), "content_type": "product",
                  "contents": [{"id": p[1], "quantity": q, "item_price": p[2] / 100.0} for p, q in items]}
            if name == "Purchase":
                cd["order_id"] = oid
            ev["custom_data"] = cd
        ev["user_data"] = ud
        ev["event_source_url"] = self.site + page
        ev["event_id"] = oid if name == "Purchase" else "%d_%d" % (t * 1000 + us // 1000, rng.getrandbits(30))
        gv = self.graph[pixel]
        trace_id = rng.uuid4()
        req = {"Name": "Facebook", "Type": "Request", "EventName": name, "RequestMethod": "POST",
               "RequestUrl": "https://graph.facebook.com/%s/%s/events?access_token=%s" % (gv, pixel, self.tokens[pixel]),
               "RequestBody": {"data": [ev], "partner_agent": self.stape}, "TraceId": trace_id}
        if rng.random() < self.err_rate[pixel]:
            status, body = graph_error(rng, rng.choice(ERROR_KINDS), t_req)
        else:
            status, body = 200, {"events_received": 1, "messages": [], "fbtrace_id": rng.fbtrace()}
        resp = {"Name": "Facebook", "Type": "Response", "EventName": name, "ResponseStatusCode": status,
                "ResponseHeaders": {"content-type": "application/json; charset=UTF-8", "x-fb-trace-id": rng.b64(11, url=False),
                                    "x-fb-request-id": "A" + rng.b64(22), "facebook-api-version": gv},
                "ResponseBody": json.dumps(body, separators=(",", ":")), "Message": "Pixel ID: %s" % pixel, "TraceId": trace_id}
        dur = rng.randint(140000, 620000)
        t_resp, us_resp = t_req + (us_req + dur) // 1000000, (us_req + dur) % 1000000
        outs = [(t_req, us_req, self._stdout(t_req, us_req, req, as_json, res)),
                (t_resp, us_resp, self._stdout(t_resp, us_resp, resp, as_json, res))]
        return reqs, outs

    def noise(self, t: int, as_json: bool) -> list:
        rng = self.rng
        res = self.res_new if as_json else self.res_old
        us = rng.randint(0, 999999)
        if rng.random() < 0.2:
            return [(t, us, self._stdout(t, us, 'Listening on {"port":"8080"}', False, res))]
        return [(t, us, self._stdout(t, us, "Sending request to https://www.googletagmanager.com/sgtm/a?id=%s&v=2&t=%d&s=%s"
                                     % (self.gtm, t * 1000 + us // 1000, rng.randint(10**9, 10**10 - 1)), False, res))]

    def write_hour(self, root: Path, hour: int, target_bytes: float, as_json: bool, purchases: list | None = None) -> tuple[int, int]:
        """Write the stdout and requests shards of one hour; -> (bytes, lines).

        Without ``purchases`` hits are drawn until ~target_bytes; with them, every
        purchase of the hour is sent (plus browse hits up to target_bytes).
        """
        rng = self.rng
        reqs, outs = [], []
        size = 0
        for p in purchases or ():
            a, b = self.hit(p["t"], rng.randint(0, 999999), as_json, p)
            reqs += a
            outs += b
            size += sum(len(x[2]) for x in a + b)
        while size < target_bytes:
            t = hour + rng.randint(0, 3596)
            a, b = self.hit(t, rng.randint(0, 999999), as_json)
            reqs += a
            outs += b
            size += sum(len(x[2]) for x in a + b)
        for _ in range(rng.randint(0, 3)):
            outs += self.noise(hour + rng.randint(0, 3599), as_json)
        d = time.gmtime(hour)
        rel = "%04d/%02d/%02d/%02d:00:00_%02d:59:59_S0.json" % (d.tm_year, d.tm_mon, d.tm_mday, d.tm_hour, d.tm_hour)
        nbytes = nlines = 0
        for log, lines in (("stdout", outs), ("requests", reqs)):
            if not lines:
                continue
            lines.sort(key=lambda x: (x[0], x[1]))
            path = root / "run.googleapis.com" / log / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = "".join(x[2] for x in lines).encode("utf-8")
            path.write_bytes(data)
            nbytes += len(data)
            nlines += len(lines)
        return nbytes, nlines


SGTM_PRODUCTS = [("Merino Beanie", "NW-BEA-01", 34900, "merino-beanie"), ("Lopi Sweater", "NW-LOP-M", 129900, "lopi-sweater"),
                 ("Wool Socks 3-pack", "NW-SOC-3", 19900, "wool-socks-3-pack"), ("Alpaca Scarf", "NW-ALP-SC", 59900, "alpaca-scarf"),
                 ("Knitting Kit Fjord", "NW-KIT-FJ", 44900, "knitting-kit-fjord"), ("Felted Slippers", "NW-SLP-40", 39900, "felted-slippers")]


def gen_sgtm(out: Path, scale: float, seed: int) -> dict:
    """168 hourly shards (84 h x stdout/requests), ~128 MB at scale 1."""
    rng = R(seed * 1000 + 1)
    pixels = [str(rng.randint(10**14, 10**16 - 1)) for _ in range(rng.randint(3, 5))]
    c = SgtmContainer(rng, "nordic-brands-sgtm", "https://www.nordic-brands.example.com", pixels, "DKK", "dk", SGTM_PRODUCTS)
    hours_f = 84 * scale
    n_hours = max(1, round(hours_f))
    start = epoch(2026, 10, 12, 6)
    # daily traffic curve (UTC), normalised so that the total is 128 MB * scale
    weights = []
    for h in range(n_hours):
        hod = time.gmtime(start + h * 3600).tm_hour
        weights.append(0.35 + math.sin(math.pi * (hod - 5) / 19) if 5 <= hod else 0.35)
    per_weight = 128 * MB * scale / sum(weights)
    redeploy = n_hours * 0.3  # older revision logged the tag output as textPayload, newer as jsonPayload
    lines = 0
    for h in range(n_hours):
        _, n = c.write_hour(out, start + h * 3600, per_weight * weights[h], as_json=h >= redeploy)
        lines += n
    return {"pixels": pixels, "lines": lines}


# --------------------------------------------------------------------------
# Shopify webhook deliveries, one file per delivery
# --------------------------------------------------------------------------

class ShopifyShop:
    def __init__(self, rng: R, handle: str, storefront: str, currency: str, locale: str, products: list[tuple], tax_rate: float,
                 pixel: str | None = None):
        self.rng, self.handle, self.currency, self.locale = rng, handle, currency, locale
        self.domain = "%s.myshopify.com" % handle
        self.site = storefront
        self.products = products   # (title, sku, cents, handle, product_id, vendor, grams)
        self.tax_rate = tax_rate
        self.pixel = pixel
        self.secret = rng.hexs(32)
        self.customers = customers(rng, locale, 600, 7713029548261193001 + rng.getrandbits(24))
        self.oid = 6391854072315904113 + rng.getrandbits(34)
        self.number = rng.randint(1001, 9000)
        self.line_id = 15830047721936420011 + rng.getrandbits(30)
        self.shop_id = rng.randint(50000000000, 79999999999)
        self.location = rng.randint(80000000000, 89999999999)

    def money(self, cents: int) -> str:
        return "%d.%02d" % (cents // 100, cents % 100)

    def mset(self, amount: str) -> dict:
        return {"shop_money": {"amount": amount, "currency_code": self.currency},
                "presentment_money": {"amount": amount, "currency_code": self.currency}}

    def address(self, c: dict) -> dict:
        rng = self.rng
        return {"first_name": c["first"], "address1": "%s %d" % (rng.choice(["Nørregade", "Hauptstraße", "Main Street", "Rua Augusta", "Vestergade"]), rng.randint(1, 180)),
                "phone": c["phone"], "city": c["city"], "zip": c["zip"], "province": None, "country": c["country_name"], "last_name": c["last"],
                "address2": rng.choice([None, "", "2. tv", "Apt 4B"]), "company": None, "latitude": round(rng.uniform(36, 58), 7),
                "longitude": round(rng.uniform(-10, 15), 7), "name": "%s %s" % (c["first"], c["last"]),
                "country_code": c["country"].upper(), "province_code": c["state"].upper() or None}

    def order(self, t: int, kind: str = "web") -> dict:
        """A full orders/create payload (API 2025-07 field set), ~9-13 KB compact."""
        rng = self.rng
        self.oid += rng.randint(1800000, 9600000)
        self.number += 1
        oid, number = self.oid, self.number
        c = rng.choice(self.customers)
        n_items = rng.choice([1, 2, 2, 3, 3, 3, 4, 5])
        discount = rng.random() < 0.35
        items, subtotal, tax_total, grams, disc = [], 0, 0, 0, 0
        for p in rng.sample(self.products, min(n_items, len(self.products))):
            self.line_id += rng.randint(100, 9999)
            q = 1 if rng.random() < 0.85 else 2
            cents = p[2]
            tax = int(round(cents * q * self.tax_rate / (1 + self.tax_rate)))
            subtotal += cents * q
            disc += cents * q // 10 if discount else 0
            tax_total += tax
            grams += p[6] * q
            variant = rng.choice(["Default Title", "S", "M", "L", "Natural", "Charcoal"])
            items.append({
                "id": self.line_id, "admin_graphql_api_id": "gid://shopify/LineItem/%d" % self.line_id, "attributed_staffs": [],
                "current_quantity": q, "fulfillable_quantity": q, "fulfillment_service": "manual", "fulfillment_status": None,
                "gift_card": False, "grams": p[6], "name": p[0] if variant == "Default Title" else "%s - %s" % (p[0], variant),
                "price": self.money(cents), "price_set": self.mset(self.money(cents)), "product_exists": True, "product_id": p[4],
                "properties": [], "quantity": q, "requires_shipping": True, "sales_line_item_group_id": None, "sku": p[1],
                "taxable": True, "title": p[0], "total_discount": "0.00", "total_discount_set": self.mset("0.00"),
                "variant_id": p[4] + 100000000, "variant_inventory_management": "shopify",
                "variant_title": None if variant == "Default Title" else variant, "vendor": p[5],
                "tax_lines": [{"channel_liable": False, "price": self.money(tax), "price_set": self.mset(self.money(tax)),
                               "rate": self.tax_rate, "title": "VAT" if self.currency != "USD" else "State Tax"}],
                "duties": [], "discount_allocations": [{"amount": self.money(cents * q // 10), "amount_set": self.mset(self.money(cents * q // 10)),
                                                       "discount_application_index": 0}] if discount else []})
            if rng.random() < 0.2:
                items[-1]["properties"] = [{"name": "Gift wrap", "value": "Yes"}, {"name": "_gift_message", "value": rng.choice(
                    ["Happy birthday!", "Tillykke med dagen", "Alles Gute", "Enjoy :)"])}]
        shipping = 0 if subtotal - disc >= 50000 or kind == "pos" else 4900
        total = subtotal - disc + shipping
        off = "+01:00" if self.currency != "USD" else "-05:00"
        shift = 3600 if self.currency != "USD" else -5 * 3600
        local = lambda x: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(x + shift)) + off  # noqa: E731
        ctoken, key = rng.hexs(32), rng.hexs(32)
        s = session(rng, t, 0.4)
        addr = self.address(c)
        body = {
            "id": oid, "admin_graphql_api_id": "gid://shopify/Order/%d" % oid, "app_id": 580111 if kind == "web" else 129785,
            "browser_ip": s["ip"] if kind == "web" else None, "buyer_accepts_marketing": rng.random() < 0.4, "cancel_reason": None,
            "cancelled_at": None, "cart_token": "Z2NwLWV1cm9wZS13ZXN0MTo" + rng.b64(10) if kind == "web" else None,
            "checkout_id": rng.randint(30000000000000, 39999999999999), "checkout_token": ctoken if kind == "web" else None,
            "client_details": {"accept_language": rng.choice(c["lang"]), "browser_height": None, "browser_ip": s["ip"], "browser_width": None,
                               "session_hash": None, "user_agent": s["ua"]} if kind == "web" else None,
            "closed_at": None, "company": None, "confirmation_number": rng.b64(9).upper().replace("-", "X").replace("_", "Y"),
            "confirmed": True, "contact_email": c["email"], "created_at": local(t), "currency": self.currency,
            "current_shipping_price_set": self.mset(self.money(shipping)), "current_subtotal_price": self.money(subtotal - disc),
            "current_subtotal_price_set": self.mset(self.money(subtotal - disc)), "current_total_additional_fees_set": None,
            "current_total_discounts": "0.00", "current_total_discounts_set": self.mset("0.00"), "current_total_duties_set": None,
            "current_total_price": self.money(total), "current_total_price_set": self.mset(self.money(total)),
            "current_total_tax": self.money(tax_total), "current_total_tax_set": self.mset(self.money(tax_total)),
            "customer_locale": c["lang"][0].lower(), "device_id": None, "discount_codes": [], "duties_included": False,
            "email": c["email"], "estimated_taxes": False, "financial_status": "paid", "fulfillment_status": None,
            "landing_site": ("/products/%s?fbclid=%s&utm_source=facebook&utm_medium=paid" % (self.products[0][3], s["fbclid"]))
            if s["fbclid"] else "/", "landing_site_ref": None, "location_id": self.location if kind == "pos" else None,
            "merchant_business_entity_id": "MTg%s" % rng.hexs(8), "merchant_of_record_app_id": None, "name": "#%d" % number,
            "note": None, "note_attributes": [{"name": "_fbp", "value": s["fbp"]}] + ([{"name": "_fbc", "value": s["fbc"]}] if s["fbc"] else []),
            "number": number - 1000, "order_number": number,
            "order_status_url": "%s/%d/orders/%s/authenticate?key=%s" % (self.site, self.shop_id, ctoken, key),
            "original_total_additional_fees_set": None, "original_total_duties_set": None,
            "payment_gateway_names": [rng.choice(["shopify_payments", "paypal", "mobilepay", "klarna"])], "phone": None,
            "po_number": None, "presentment_currency": self.currency, "processed_at": local(t - 1), "reference": None,
            "referring_site": "https://l.facebook.com/" if s["fbclid"] else rng.choice([None, "https://www.google.com/", ""]),
            "source_identifier": None, "source_name": kind, "source_url": None, "subtotal_price": self.money(subtotal - disc),
            "subtotal_price_set": self.mset(self.money(subtotal - disc)), "tags": "", "tax_exempt": False,
            "tax_lines": [{"price": self.money(tax_total), "rate": self.tax_rate, "title": "VAT", "price_set": self.mset(self.money(tax_total)),
                           "channel_liable": False}],
            "taxes_included": self.currency != "USD", "test": False, "token": rng.hexs(32),
            "total_cash_rounding_payment_adjustment_set": self.mset("0.00"), "total_cash_rounding_refund_adjustment_set": self.mset("0.00"),
            "total_discounts": "0.00", "total_discounts_set": self.mset("0.00"), "total_line_items_price": self.money(subtotal),
            "total_line_items_price_set": self.mset(self.money(subtotal)), "total_outstanding": "0.00", "total_price": self.money(total),
            "total_price_set": self.mset(self.money(total)), "total_shipping_price_set": self.mset(self.money(shipping)),
            "total_tax": self.money(tax_total), "total_tax_set": self.mset(self.money(tax_total)), "total_tip_received": "0.00",
            "total_weight": grams, "updated_at": local(t + 2), "user_id": None,
            "billing_address": addr,
            "customer": {"id": c["id"], "email": c["email"], "created_at": local(t - rng.randint(0, 400) * 86400), "updated_at": local(t),
                         "first_name": c["first"], "last_name": c["last"], "state": "disabled", "note": None, "verified_email": True,
                         "multipass_identifier": None, "tax_exempt": False, "phone": None,
                         "email_marketing_consent": {"state": rng.choice(["subscribed", "not_subscribed"]), "opt_in_level": "single_opt_in",
                                                     "consent_updated_at": None},
                         "sms_marketing_consent": None, "tags": "", "currency": self.currency, "tax_exemptions": [],
                         "admin_graphql_api_id": "gid://shopify/Customer/%d" % c["id"],
                         "default_address": dict(addr, id=c["id"] + 3, customer_id=c["id"], default=True)},
            "discount_applications": [], "fulfillments": [], "line_items": items, "payment_terms": None, "refunds": [],
            "shipping_address": addr,
            "shipping_lines": [{"id": rng.randint(4000000000000, 4999999999999), "carrier_identifier": None, "code": "Standard",
                                "current_discounted_price_set": self.mset(self.money(shipping)), "discounted_price": self.money(shipping),
                                "discounted_price_set": self.mset(self.money(shipping)), "is_removed": False, "phone": None,
                                "price": self.money(shipping), "price_set": self.mset(self.money(shipping)),
                                "requested_fulfillment_service_id": None, "source": "shopify", "title": "Standard",
                                "tax_lines": [], "discount_allocations": []}] if kind == "web" else [],
            "returns": [], "line_item_groups": [],
        }
        if discount:
            code = rng.choice(["WELCOME10", "AUTUMN10", "NEWSLETTER10", "VIP10"])
            amount = self.money(disc)
            body["discount_codes"] = [{"code": code, "amount": amount, "type": "percentage"}]
            body["discount_applications"] = [{"target_type": "line_item", "type": "discount_code", "value": "10.0", "value_type": "percentage",
                                              "allocation_method": "across", "target_selection": "all", "code": code}]
            body["total_discounts"] = body["current_total_discounts"] = amount
            body["total_discounts_set"] = body["current_total_discounts_set"] = self.mset(amount)
        if kind == "pos":
            body.update(browser_ip=None, client_details=None, landing_site=None, referring_site=None, contact_email=None, email="",
                        customer=None, billing_address=None, shipping_address=None, note_attributes=[])
        return dict(t=t, id=oid, body=body, total=total, cust=c, sess=s, kind=kind,
                    items=[((it["title"], it["sku"], int(it["price"].replace(".", "")), it["title"].lower().replace(" ", "-")), it["quantity"])
                           for it in items],
                    value=total / 100.0)

    def headers(self, o: dict, topic: str, raw: str, webhook_id: str, trig: int) -> list[tuple[str, str]]:
        mac = base64.b64encode(hmac.new(self.secret.encode(), raw.encode("utf-8"), hashlib.sha256).digest()).decode()
        return [("X-Shopify-Topic", topic), ("X-Shopify-Hmac-Sha256", mac), ("X-Shopify-Shop-Domain", self.domain),
                ("X-Shopify-API-Version", "2025-07"), ("X-Shopify-Webhook-Id", webhook_id), ("X-Shopify-Event-Id", self.rng.uuid4()),
                ("X-Shopify-Triggered-At", iso_ns(trig, self.rng.randint(0, 999999999))), ("X-Shopify-Order-Id", str(o["id"])),
                ("X-Shopify-Test", "false"), ("Content-Type", "application/json"), ("User-Agent", "Shopify-Captain-Hook")]

    def delivery(self, o: dict, topic: str, form: str) -> tuple[str, str, bytes]:
        """-> (file name, extension, content) of one delivery of ``o`` in ``form``."""
        rng = self.rng
        body = o["body"]
        if topic != "orders/create":
            body = dict(body, updated_at=body["processed_at"][:-8] + time.strftime("%H:%M:%S", time.gmtime(o["t"] + 3600 * (topic == "orders/updated"))) + body["processed_at"][-6:])
        raw = ruby_json(body)
        wid = rng.uuid4()
        hd = self.headers(o, topic, raw, wid, o["t"] + rng.randint(1, 4))
        name = "%s-%s" % (topic.replace("/", "-"), wid)
        if form == "env":      # Node receiver: Title-Case headers, raw body string
            return name, "json", json.dumps({"headers": dict(hd), "body": raw}, ensure_ascii=False).encode("utf-8")
        if form == "env_obj":  # queue consumer: lowercase headers as lists, body re-serialised as an object
            return name, "json", json.dumps({"headers": {k.lower(): [v] for k, v in hd}, "body": body}, ensure_ascii=False).encode("utf-8")
        if form == "pretty":   # the bare payload, pretty-printed (saved from the admin / a debugging receiver)
            return name, "json", (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        head = ["POST /webhooks/shopify/%s HTTP/1.1" % topic.replace("/", "-"), "content-type: application/json", "accept: */*",
                "accept-encoding: gzip;q=1.0,deflate;q=0.6,identity;q=0.3"]
        head += ["%s: %s" % (k.lower(), v) for k, v in hd if k != "Content-Type"]
        head.append("content-length: %d" % len(raw.encode("utf-8")))
        return name, "http", ("\n".join(head) + "\n\n" + raw + "\n").encode("utf-8")


FORMS = [("env", 0.70), ("env_obj", 0.08), ("pretty", 0.15), ("http", 0.07)]


def pick_form(rng: R) -> str:
    r = rng.random()
    for f, w in FORMS:
        if r < w:
            return f
        r -= w
    return "env"


def shop_products(rng: R, prefix: str, vendor: str, names: list[str], lo: int, hi: int) -> list[tuple]:
    out = []
    for k, n in enumerate(names):
        out.append((n, "%s-%03d" % (prefix, k + 1), rng.randint(lo, hi) * 100 - 100 + 95, n.lower().replace(" ", "-"),
                    41234567890123001 + rng.getrandbits(24), vendor, rng.randint(80, 1400)))
    return out


PRODUCT_NAMES = ["Merino Beanie", "Lopi Sweater", "Wool Socks 3-pack", "Alpaca Scarf", "Knitting Kit Fjord", "Felted Slippers",
                 "Linen Apron", "Ceramic Mug", "Oak Cutting Board", "Beeswax Candle", "Canvas Tote", "Wool Blanket",
                 "Leather Wallet", "Rain Jacket", "Travel Mug", "Tea Sampler"]


def make_shops(rng: R, n: int, first: int = 0) -> list[ShopifyShop]:
    spec = [("nordic-wool", "https://nordic-wool.example.com", "DKK", "dk", 0.25), ("bergluft-outdoor", "https://www.bergluft.example.com", "EUR", "de", 0.19),
            ("hudson-goods", "https://hudsongoods.example.com", "USD", "us", 0.08), ("casa-ribeira", "https://casaribeira.example.com", "EUR", "pt", 0.23),
            ("fjord-ceramics", "https://fjordceramics.example.com", "DKK", "dk", 0.25), ("kaffee-kontor", "https://kaffee-kontor.example.com", "EUR", "de", 0.19)]
    shops = []
    for k in range(first, first + n):
        handle, site, cur, loc, tax = spec[k % len(spec)]
        if k >= len(spec):
            handle += "-%d" % k
        prods = shop_products(rng, handle[:2].upper(), handle.replace("-", " ").title(), rng.sample(PRODUCT_NAMES, 10), 15, 180 if cur != "DKK" else 1400)
        shops.append(ShopifyShop(rng, handle, site, cur, loc, prods, tax, pixel=str(rng.randint(10**14, 10**16 - 1))))
    return shops


def write_deliveries(root: Path, rng: R, shop: ShopifyShop, orders: list[dict]) -> int:
    """Write orders/create (+ paid, some updated, a few retries) deliveries; -> number of files."""
    n = 0
    for o in orders:
        topics = ["orders/create"] + (["orders/paid"] if rng.random() < 0.9 else []) + (["orders/updated"] if rng.random() < 0.15 else [])
        for topic in topics:
            form = pick_form(rng) if o["kind"] == "web" else "pretty"
            name, ext, data = shop.delivery(o, topic, form)
            day = time.strftime("%Y-%m-%d", time.gmtime(o["t"]))
            d = root / shop.handle / "deliveries" / day
            d.mkdir(parents=True, exist_ok=True)
            (d / ("%s.%s" % (name, ext))).write_bytes(data)
            n += 1
            if rng.random() < 0.005:  # receiver answered 5xx, Shopify retried: same webhook id, saved again
                (d / ("%s-retry1.%s" % (name, ext))).write_bytes(data)
                n += 1
    return n


def shop_orders(rng: R, shop: ShopifyShop, start: int, days: float, n_orders: int) -> list[dict]:
    span = max(1, int(days * 86400))
    times = sorted(start + rng.randint(0, span - 1) for _ in range(n_orders))
    return [shop.order(t, "pos" if rng.random() < 0.01 else "web") for t in times]


def gen_shopify(out: Path, scale: float, seed: int) -> dict:
    """20,000 delivery files (~13 KB each) of 4 shops over 14 days at scale 1."""
    rng = R(seed * 1000 + 2)
    shops = make_shops(rng, 4)
    n_files = max(8, round(20000 * scale))
    per_order = 1 + 0.9 + 0.15 + 0.005 * 2.05   # files per order (create, paid, updated, retries)
    weights = [0.4, 0.3, 0.2, 0.1]
    files = 0
    for shop, w in zip(shops, weights):
        n = max(1, round(n_files * w / per_order))
        files += write_deliveries(out / "shopify", rng, shop, shop_orders(rng, shop, epoch(2026, 10, 5), 14, n))
    return {"shops": [s.domain for s in shops], "files": files}


# --------------------------------------------------------------------------
# WooCommerce: Meta for WooCommerce debug logs (WC file handler v2)
# --------------------------------------------------------------------------

CURL_TIMEOUT = "cURL error 28: Operation timed out after 5001 milliseconds with 0 bytes received"


class WooShop:
    def __init__(self, rng: R, slug: str, domain: str, currency: str, locale: str, plugin: str, wc: str, legacy: bool):
        self.rng, self.slug, self.domain, self.currency = rng, slug, domain, currency
        self.pixel = str(rng.randint(10**14, 10**16 - 1))
        self.plugin, self.wc, self.legacy = plugin, wc, legacy
        self.graph = rng.choice(["v20.0", "v21.0", "v22.0"])
        self.ua = "Facebook-for-WooCommerce/%s (WooCommerce/%s; WordPress/6.8.2)" % (plugin, wc)
        self.partner = "woocommerce-%s-%s" % (wc, plugin)
        self.customers = customers(rng, locale, 300, rng.randint(100, 5000))
        self.products = [(rng.randint(20, 900), "%s-%03d" % (slug[:2].upper(), k), n, n.lower().replace(" ", "-"), rng.randint(5, 120) * 100 + 90)
                         for k, n in enumerate(rng.sample(PRODUCT_NAMES, 8))]
        self.order = rng.randint(1000, 30000)
        self.err_rate = rng.uniform(0.02, 0.05)
        self.token_expired_from = None
        self.avg = 1400.0

    def _event(self, name: str, t: int, sess: dict, cart: list, cust: dict | None) -> dict:
        rng = self.rng
        ev = {"action_source": "website", "event_time": t, "event_id": rng.uuid4()}
        p = cart[0][0] if cart else rng.choice(self.products)
        ids = ["wc_post_id_%d" % x[0] for x, _ in cart] or ["wc_post_id_%d" % p[0]]
        url = {"PageView": "/", "ViewContent": "/product/%s/" % p[3], "AddToCart": "/product/%s/" % p[3],
               "InitiateCheckout": "/checkout/", "Purchase": "/checkout/order-received/%d/?key=wc_order_%s" % (self.order, rng.b64(13))}[name]
        ev["event_source_url"] = self.domain + url
        if name != "PageView":
            total = sum(x[4] * q for x, q in cart) if cart else p[4]
            cd = {"content_ids": php_json(ids), "content_type": "product",
                  "contents": php_json([{"id": i, "quantity": q} for i, (_, q) in zip(ids, cart or [(p, 1)])]),
                  "value": "%d.%02d" % (total // 100, total % 100), "currency": self.currency}
            if name == "Purchase":
                cd["order_id"] = self.order
            ev["custom_data"] = cd
        ud = {"client_ip_address": sess["ip"], "client_user_agent": sess["ua"]}
        if cust:
            ud.update(cust["hashed"])
        if sess["fbc"]:
            ud["fbc"] = sess["fbc"]
        ud["fbp"] = sess["fbp"]
        ev["user_data"] = ud
        ev["event_name"] = name
        return ev

    def session_events(self, t: int) -> list[tuple[int, dict]]:
        rng = self.rng
        s = session(rng, t)
        out = []
        buy = rng.random() < 0.18
        if rng.random() < 0.5 or not buy:
            out.append((t, self._event("PageView", t, s, [], None)))
            t += rng.randint(5, 60)
        cart = []
        for p in rng.sample(self.products, 1 if rng.random() < 0.6 else 2):
            out.append((t, self._event("ViewContent", t, s, [(p, 1)], None)))
            t += rng.randint(10, 110)
            if buy or rng.random() < 0.35:
                cart.append((p, 1 if rng.random() < 0.8 else 2))
                out.append((t, self._event("AddToCart", t, s, cart[-1:], None)))
                t += rng.randint(15, 140)
        if buy and cart:
            t += rng.randint(10, 120)
            out.append((t, self._event("InitiateCheckout", t, s, cart, None)))
            t += rng.randint(70, 420)
            self.order += rng.randint(1, 3)
            out.append((t, self._event("Purchase", t, s, cart, rng.choice(self.customers))))
        return out

    def entries(self, event_time: int, ev: dict) -> str:
        """Request + Response (+ 'Could not send' on errors) as the v2 file handler writes them."""
        rng = self.rng
        dur = rng.uniform(0.19, 0.92) if rng.random() < 0.93 else rng.uniform(1.1, 2.6)
        t = event_time + int(rng.uniform(0.0, 1.6) + dur)
        style = "v2legacy" if self.legacy else "v2"  # plugin 3.4.x: every Request/Response gets the CONTEXT line
        req = woo_entry(t, request("https://graph.facebook.com/%s/%s/events" % (self.graph, self.pixel), self.ua,
                                   php_json({"data": [ev], "partner_agent": self.partner}), dur), style=style)
        expired = self.token_expired_from is not None and t >= self.token_expired_from
        if expired or rng.random() < self.err_rate:
            kind = "token" if expired else rng.choice(["params", "params", "old", "rate", "timeout", "timeout"])
            if kind == "timeout":
                return (req + woo_entry(t, response("", "", "", trim=False), style=style)
                        + woo_entry(t, "Could not send Pixel event: " + CURL_TIMEOUT))
            status, body = graph_error(rng, kind, t)
            out = req + woo_entry(t, response(status, "Bad Request", php_json(body)), style=style)
            if kind == "token":
                out += woo_entry(t, "Could not send Pixel event: OAuthException: %s" % body["error"]["message"])
            return out
        return req + woo_entry(t, response(200, "OK", php_json({"events_received": 1, "messages": [], "fbtrace_id": rng.fbtrace()})),
                               style=style)

    def write_day(self, root: Path, day: int, target_bytes: float, gz: bool) -> int:
        rng = self.rng
        chunks = []
        while len(chunks) * self.avg < target_bytes:
            chunks += self.session_events(day + int(rng.uniform(6.5, 23.0) * 3600))
        chunks.sort(key=lambda x: x[0])
        text = "".join(self.entries(t, ev) for t, ev in chunks)
        fid = "facebook_for_woocommerce-%s" % time.strftime("%Y-%m-%d", time.gmtime(day))
        name = "%s-%s.log" % (fid, hashlib.md5(("%s|%s" % (self.slug, fid)).encode()).hexdigest())
        d = root / self.slug
        d.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        self.avg = 0.5 * self.avg + 0.5 * len(data) / max(1, len(chunks))  # bytes per event, for the next day
        if gz:
            (d / (name + ".gz")).write_bytes(gzip.compress(data, compresslevel=6, mtime=day + 86400 + 300))
        else:
            (d / name).write_bytes(data)
        return len(data)


WOO_SPEC = [("bergfeld-tee", "https://www.bergfeld-tee.example.com", "EUR", "de", "3.5.7", "9.9.5", False),
            ("hudson-row-apparel", "https://hudsonrow.example.com", "USD", "us", "3.5.4", "9.8.2", False),
            ("kaffebryggeriet", "https://kaffebryggeriet.example.com", "DKK", "dk", "3.5.7", "9.9.5", False),
            ("cafe-aroma", "https://www.cafe-aroma.example.com", "EUR", "pt", "3.5.4", "9.9.5", False),
            ("trailgear-outdoor", "https://trailgear.example.com", "EUR", "de", "3.4.1", "9.7.1", True),
            ("hyggehjem", "https://www.hyggehjem.example.com", "DKK", "dk", "3.7.1", "10.4.3", False),
            ("lumen-candle", "https://lumencandle.example.com", "USD", "us", "3.5.4", "9.8.2", False),
            ("ribeira-ceramica", "https://ribeira-ceramica.example.com", "EUR", "pt", "3.4.1", "9.6.0", True)]


# --------------------------------------------------------------------------
# Graph API responses NDJSON (custom senders), wrapper A
# --------------------------------------------------------------------------

def write_graph_day(root: Path, rng: R, slug: str, pixel: str, day: int, target_bytes: float, err_rate: float) -> int:
    lines, size = [], 0
    t = day + rng.randint(0, 600)
    while size < target_bytes and t < day + 86400:
        t += rng.randint(20, 240)
        sent = rng.choice([1, 5, 10, 25, 50, 50, 100])
        if rng.random() < err_rate:
            kind = rng.choice(["rate", "rate", "token", "params", "unexpected"])
            status, body = graph_error(rng, kind, t)
            if kind == "rate" and rng.random() < 0.4:
                status, body = 403, {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException",
                                               "is_transient": True, "code": 4, "fbtrace_id": rng.fbtrace()}}
        else:
            status, body = 200, {"events_received": sent, "messages": [], "fbtrace_id": rng.fbtrace()}
        line = json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), "pixel_id": pixel, "status": status, "sent": sent,
                           "response": body}, separators=(",", ":")) + "\n"
        lines.append(line)
        size += len(line)
    d = root / slug
    d.mkdir(parents=True, exist_ok=True)
    (d / ("capi-responses-%s.ndjson" % time.strftime("%Y-%m-%d", time.gmtime(day)))).write_text("".join(lines))
    return size


# --------------------------------------------------------------------------
# mixed agency archive
# --------------------------------------------------------------------------

def gen_mixed(out: Path, scale: float, seed: int) -> dict:
    """~6,000 files / ~200 MB at scale 1: 8 WooCommerce shops, 4 Shopify shops (2 with sGTM), 3 Graph senders."""
    rng = R(seed * 1000 + 3)
    days_f = 30 * scale
    n_days = max(1, math.ceil(days_f))
    k = days_f / n_days            # volume factor so that sizes stay proportional to scale
    start = epoch(2026, 9, 1)
    # WooCommerce: 8 shops x days, ~125 MB uncompressed (~100 MB on disk) at scale 1
    woo = [WooShop(rng, *spec) for spec in WOO_SPEC]
    woo[1].token_expired_from = start + int(n_days * 0.6 * 86400)  # one shop's token expires mid-window
    ww = [rng.uniform(0.5, 1.5) for _ in woo]
    for i, shop in enumerate(woo):
        per_day = 125 * MB / 30 * ww[i] / sum(ww) * k
        for dd in range(n_days):
            shop.write_day(out / "woocommerce", start + dd * 86400, per_day, gz=rng.random() < 0.2)
    # Shopify: 4 shops, ~2,700 delivery files at scale 1
    shops = make_shops(rng, 4, first=2)
    sw = [rng.uniform(0.7, 1.3) for _ in shops]
    for i, shop in enumerate(shops):
        n_orders = max(1, round(2900 * scale / 2.06 * sw[i] / sum(sw)))
        orders = shop_orders(rng, shop, start, days_f if days_f < n_days else n_days, n_orders)
        write_deliveries(out / "shopify", rng, shop, orders)
        if i < 2:  # two of them run a server-side GTM container whose Meta tag sends their purchases
            c = SgtmContainer(rng, "%s-sgtm" % shop.handle, shop.site, [shop.pixel], shop.currency, shop.locale,
                              [(p[0], p[1], p[2], p[3]) for p in shop.products])
            by_hour: dict[int, list] = {}
            for o in orders:
                if o["kind"] == "web" and rng.random() < 0.92:
                    by_hour.setdefault(o["t"] - o["t"] % 3600, []).append(
                        dict(o, pixel=shop.pixel, t=o["t"] + rng.randint(4, 25)))
            hours = [start + h * 3600 for h in range(n_days * 24)]
            per_hour = 42 * MB / 2 / (30 * 24) * k
            for j, h in enumerate(hours):
                hod = time.gmtime(h).tm_hour
                if hod < 5 and not by_hour.get(h) and rng.random() < 0.5:
                    continue  # quiet night hour: no shard
                c.write_hour(out / "sgtm" / c.project, h, per_hour * rng.uniform(0.3, 1.7), as_json=j >= len(hours) * 0.25,
                             purchases=sorted(by_hour.get(h, []), key=lambda p: p["t"]))
    # Graph API responses of 3 custom senders, ~12 MB at scale 1
    for slug in ("ribeira-custom-sender", "nordlys-headless", "atelier-api"):
        pixel = str(rng.randint(10**14, 10**16 - 1))
        err = rng.uniform(0.02, 0.05)
        for dd in range(n_days):
            write_graph_day(out / "graph", rng, slug, pixel, start + dd * 86400, 12 * MB / 3 / 30 * k, err)
    return {"woo_pixels": [w.pixel for w in woo], "shops": [s.domain for s in shops]}


def gen_woo1g(out: Path, scale: float, seed: int) -> dict:
    sys.path.insert(0, str(HERE))
    import bench_audit  # noqa: PLC0415 - the existing generator, imported on demand
    size_mb = max(1, round(1024 * scale))
    bench_audit.generate(out, size_mb, seed=seed)
    return {"size_mb": size_mb}


GENERATORS = {"sgtm": gen_sgtm, "shopify": gen_shopify, "mixed": gen_mixed, "woo1g": gen_woo1g}
EXPECTED_SOURCES = {"sgtm": {"gtm_server"}, "shopify": {"shopify"}, "mixed": {"woocommerce", "shopify", "gtm_server", "graph_api"},
                    "woo1g": {"woocommerce", "graph_api"}}


# --------------------------------------------------------------------------
# inventory shared by the baselines
# --------------------------------------------------------------------------

def inventory(root: Path) -> dict[str, list[str]]:
    """Files by format, from their place and name (the baselines know what they read)."""
    inv: dict[str, list[str]] = {"sgtm_stdout": [], "sgtm_requests": [], "woo": [], "shopify_json": [], "shopify_http": [], "graph": [], "other": []}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            rel = p.replace(os.sep, "/")
            if "/run.googleapis.com/stdout/" in rel:
                inv["sgtm_stdout"].append(p)
            elif "/run.googleapis.com/requests/" in rel:
                inv["sgtm_requests"].append(p)
            elif n.startswith("facebook_for_woocommerce") and (n.endswith(".log") or n.endswith(".log.gz")):
                inv["woo"].append(p)
            elif "/deliveries/" in rel and n.endswith(".json"):
                inv["shopify_json"].append(p)
            elif "/deliveries/" in rel and n.endswith(".http"):
                inv["shopify_http"].append(p)
            elif n.endswith(".ndjson") or n.endswith(".ndjson.gz"):
                inv["graph"].append(p)
            else:
                inv["other"].append(p)
    for v in inv.values():
        v.sort()
    return inv


def quantile(sorted_vals: list[float], q: float) -> float | None:
    """Linear interpolation, like DuckDB's quantile_cont."""
    if not sorted_vals:
        return None
    pos = (len(sorted_vals) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def totals(pixels: dict, shops: dict, hits: int, records: int) -> dict:
    return {"records": records, "server_events": sum(p["events"] for p in pixels.values()),
            "errors": sum(p["errors"] for p in pixels.values()), "orders": sum(s["orders"] for s in shops.values()),
            "ga4_hits": hits, "pixels": pixels, "shops": shops}


# --------------------------------------------------------------------------
# baseline: plain Python json.loads loop
# --------------------------------------------------------------------------

_WOO_HDR = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d) \w+ (.*)$")
_WOO_URI = re.compile(r"^uri: https://graph\.facebook\.com/v[\d.]+/(\d+)/events")
_HOST = re.compile(r"^https?://([^/:?#]+)")
_PIXEL_URL = re.compile(r"graph\.facebook\.com/v[\d.]+/(\d+)/events")


def baseline_python(root: Path) -> dict:
    inv = inventory(root)
    px: dict[str, dict] = {}
    records = hits = 0

    def acc(p: str) -> dict:
        a = px.get(p)
        if a is None:
            a = px[p] = {"events": 0, "errors": 0, "delays": []}
        return a

    for f in inv["sgtm_stdout"]:
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                e = json.loads(line)
                records += 1
                p = e.get("jsonPayload")
                if p is None:
                    tp = e.get("textPayload") or ""
                    if not tp.startswith("{"):
                        continue
                    p = json.loads(tp)
                typ = p.get("Type")
                if typ == "Request":
                    m = _PIXEL_URL.search(p.get("RequestUrl") or "")
                    a = acc(m.group(1) if m else "?")
                    logged = datetime.fromisoformat(e["timestamp"]).timestamp()
                    for ev in (p.get("RequestBody") or {}).get("data") or ():
                        a["events"] += 1
                        a["delays"].append(logged - ev["event_time"])
                elif typ == "Response":
                    st = p.get("ResponseStatusCode")
                    if not (isinstance(st, int) and 200 <= st < 300):
                        acc((p.get("Message") or "").rpartition(" ")[2] or "?")["errors"] += 1
    for f in inv["sgtm_requests"]:
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                e = json.loads(line)
                records += 1
                if "/g/collect" in ((e.get("httpRequest") or {}).get("requestUrl") or ""):
                    hits += 1
    for f in inv["woo"]:
        fh = gzip.open(f, "rt", encoding="utf-8") if f.endswith(".gz") else open(f, encoding="utf-8")
        with fh:
            kind, ts, pixel = None, None, "?"
            for line in fh:
                if line[:2] == "20":
                    m = _WOO_HDR.match(line)
                    if m:
                        ts, kind = m.group(1), m.group(2).rstrip()
                        records += 1
                        continue
                if kind == "Request":
                    if line.startswith("uri: "):
                        m = _WOO_URI.match(line)
                        pixel = m.group(1) if m else pixel
                    elif line.startswith("body: "):
                        logged = datetime.fromisoformat(ts).timestamp()
                        a = acc(pixel)
                        for ev in json.loads(line[6:]).get("data") or ():
                            a["events"] += 1
                            a["delays"].append(logged - ev["event_time"])
                elif kind == "Response" and line.startswith("code: "):
                    if not line[6:7] == "2":
                        acc(pixel)["errors"] += 1
    for f in inv["graph"]:
        fh = gzip.open(f, "rt", encoding="utf-8") if f.endswith(".gz") else open(f, encoding="utf-8")
        with fh:
            for line in fh:
                if not line.strip():
                    continue
                o = json.loads(line)
                records += 1
                st = o.get("status") or 200
                if st >= 400 or "error" in (o.get("response") or o.get("body") or o):
                    acc(str(o.get("pixel_id") or "?"))["errors"] += 1
    # Shopify: (folder, header shop, order id, total_price, order_status_url host)
    rows = []
    for f in inv["shopify_json"]:
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        records += 1
        shop = None
        if "headers" in doc and "body" in doc:
            hd = {k.lower(): (v[0] if isinstance(v, list) else v) for k, v in doc["headers"].items()}
            shop = hd.get("x-shopify-shop-domain")
            body = doc["body"]
            doc = json.loads(body) if isinstance(body, str) else body
        rows.append((os.path.dirname(f), shop, doc))
    for f in inv["shopify_http"]:
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        records += 1
        head, _, body = text.partition("\n\n")
        shop = None
        for h in head.split("\n"):
            k, _, v = h.partition(":")
            if k.strip().lower() == "x-shopify-shop-domain":
                shop = v.strip()
        rows.append((os.path.dirname(f), shop, json.loads(body)))
    folder_shops: dict[str, set] = {}
    for folder, shop, _ in rows:
        if shop:
            folder_shops.setdefault(folder, set()).add(shop)
    orders: dict[str, dict] = {}
    for folder, shop, doc in rows:
        if not shop:
            fs = folder_shops.get(folder, ())
            shop = next(iter(fs)) if len(fs) == 1 else None
        if not shop:
            m = _HOST.match(doc.get("order_status_url") or "")
            shop = m.group(1).lower() if m else "?"
        orders.setdefault(shop, {}).setdefault(str(doc["id"]), doc.get("total_price"))
    shops = {s: {"orders": len(o), "total_price": round(sum(float(v or 0) for v in o.values()), 2)} for s, o in orders.items()}
    pixels = {}
    for p, a in sorted(px.items()):
        d = sorted(a["delays"])
        pixels[p] = {"events": a["events"], "errors": a["errors"], "delay_p50": quantile(d, 0.5), "delay_p95": quantile(d, 0.95)}
    return totals(pixels, shops, hits, records)


# --------------------------------------------------------------------------
# baseline: DuckDB queries over the same files
# --------------------------------------------------------------------------

def _sql_list(files: list[str]) -> str:
    return "[" + ",".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def baseline_duckdb(root: Path) -> dict:
    import duckdb  # noqa: PLC0415

    inv = inventory(root)
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    events, errors, records, hits = [], [], 0, 0
    if inv["sgtm_stdout"]:
        con.execute(f"""
            CREATE TEMP TABLE sg AS
            SELECT timestamp::TIMESTAMPTZ AS logged,
                   coalesce(jsonPayload, CASE WHEN starts_with(textPayload, '{{') THEN textPayload::JSON END) AS p
            FROM read_json({_sql_list(inv["sgtm_stdout"])}, format='newline_delimited',
                           columns={{'timestamp': 'VARCHAR', 'textPayload': 'VARCHAR', 'jsonPayload': 'JSON'}})""")
        records += con.execute("SELECT count(*) FROM sg").fetchone()[0]
        events.append("""
            SELECT regexp_extract(p->>'RequestUrl', 'graph\\.facebook\\.com/v[0-9.]+/([0-9]+)/events', 1) AS pixel,
                   epoch(logged) - (unnest(json_extract(p, '$.RequestBody.data[*]'))->>'event_time')::BIGINT AS delay
            FROM sg WHERE (p->>'Type') = 'Request'""")
        errors.append("""
            SELECT regexp_extract(p->>'Message', 'Pixel ID: ([0-9]+)', 1) AS pixel
            FROM sg WHERE (p->>'Type') = 'Response' AND NOT coalesce(TRY_CAST(p->>'ResponseStatusCode' AS INT) BETWEEN 200 AND 299, false)""")
    if inv["sgtm_requests"]:
        n, h = con.execute(f"""
            SELECT count(*), count(*) FILTER (WHERE (httpRequest->>'requestUrl') LIKE '%/g/collect%')
            FROM read_json({_sql_list(inv["sgtm_requests"])}, format='newline_delimited', columns={{'httpRequest': 'JSON'}})""").fetchone()
        records += n
        hits += h
    if inv["woo"]:
        con.execute(f"""
            CREATE TEMP TABLE woo AS
            WITH l AS (
                SELECT line, filename, row_number() OVER () AS rn
                FROM read_csv({_sql_list(inv["woo"])}, columns={{'line': 'VARCHAR'}}, delim=E'\\x01', quote='', escape='',
                              header=false, auto_detect=false, filename=true, strict_mode=false)),
            x AS (
                SELECT *, regexp_extract(line, '^(\\d{{4}}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d[+-]\\d\\d:\\d\\d) \\w+ (\\S+)', ['ts', 'kind']) AS h,
                       nullif(regexp_extract(line, '^uri: https://graph\\.facebook\\.com/v[0-9.]+/([0-9]+)/events', 1), '') AS uri_pixel
                FROM l)
            SELECT line, nullif(h.ts, '') AS ts,
                   last_value(nullif(h.ts, '') IGNORE NULLS) OVER w AS cur_ts,
                   last_value(nullif(h.kind, '') IGNORE NULLS) OVER w AS cur_kind,
                   last_value(uri_pixel IGNORE NULLS) OVER w AS pixel
            FROM x WINDOW w AS (PARTITION BY filename ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)""")
        records += con.execute("SELECT count(*) FROM woo WHERE ts IS NOT NULL").fetchone()[0]
        events.append("""
            SELECT pixel, epoch(cur_ts::TIMESTAMPTZ) - (unnest(json_extract(substr(line, 7)::JSON, '$.data[*]'))->>'event_time')::BIGINT AS delay
            FROM woo WHERE cur_kind = 'Request' AND starts_with(line, 'body: ')""")
        errors.append("""SELECT pixel FROM woo WHERE cur_kind = 'Response' AND starts_with(line, 'code: ') AND NOT starts_with(line, 'code: 2')""")
    if inv["graph"]:
        con.execute(f"""
            CREATE TEMP TABLE gr AS SELECT * FROM read_json({_sql_list(inv["graph"])}, format='newline_delimited',
                columns={{'ts': 'VARCHAR', 'pixel_id': 'VARCHAR', 'status': 'INTEGER', 'sent': 'INTEGER', 'response': 'JSON'}})""")
        records += con.execute("SELECT count(*) FROM gr").fetchone()[0]
        errors.append("""SELECT coalesce(pixel_id, '?') AS pixel FROM gr WHERE coalesce(status, 200) >= 400 OR (response->'error') IS NOT NULL""")
    pixels: dict[str, dict] = {}
    if events:
        q = f"""
            SELECT pixel, count(*), quantile_cont(delay, 0.5), quantile_cont(delay, 0.95)
            FROM ({' UNION ALL '.join(events)}) GROUP BY pixel"""
        for p, n, p50, p95 in con.execute(q).fetchall():
            pixels[p] = {"events": n, "errors": 0, "delay_p50": p50, "delay_p95": p95}
    if errors:
        for p, n in con.execute(f"SELECT pixel, count(*) FROM ({' UNION ALL '.join(errors)}) GROUP BY pixel").fetchall():
            pixels.setdefault(p, {"events": 0, "errors": 0, "delay_p50": None, "delay_p95": None})["errors"] = n
    shops: dict[str, dict] = {}
    parts = []
    if inv["shopify_json"]:
        parts.append(f"""
            SELECT filename, coalesce(headers->>'X-Shopify-Shop-Domain', headers->>'$."x-shopify-shop-domain"[0]') AS shop,
                   CASE WHEN json_type(body) = 'VARCHAR' THEN (body->>'$')::JSON ELSE coalesce(body, doc) END AS o
            FROM (SELECT filename, headers, body, json_object('id', id, 'total_price', total_price, 'order_status_url', order_status_url) AS doc
                  FROM read_json({_sql_list(inv["shopify_json"])}, format='unstructured', filename=true,
                                 columns={{'headers': 'JSON', 'body': 'JSON', 'id': 'VARCHAR', 'total_price': 'VARCHAR', 'order_status_url': 'VARCHAR'}}))""")
    if inv["shopify_http"]:
        parts.append(f"""
            SELECT filename, nullif(regexp_extract(content, '(?im)^x-shopify-shop-domain:\\s*(\\S+)', 1), '') AS shop,
                   substr(content, strpos(content, chr(10) || chr(10)) + 2)::JSON AS o
            FROM read_text({_sql_list(inv["shopify_http"])})""")
    if parts:
        q = f"""
            WITH d AS (SELECT parse_dirpath(filename) AS folder, shop, o->>'id' AS oid, o->>'total_price' AS price,
                              regexp_extract(o->>'order_status_url', '^https?://([^/:?#]+)', 1) AS host
                       FROM ({' UNION ALL '.join(parts)})),
            f AS (SELECT folder, any_value(shop) AS fshop FROM d WHERE shop IS NOT NULL GROUP BY folder HAVING count(DISTINCT shop) = 1),
            r AS (SELECT coalesce(d.shop, f.fshop, lower(d.host)) AS shop, oid, any_value(price::DECIMAL(18, 2)) AS price
                  FROM d LEFT JOIN f USING (folder) GROUP BY ALL)
            SELECT shop, count(*), sum(price)::DOUBLE FROM r GROUP BY shop"""
        for s, n, total in con.execute(q).fetchall():
            shops[s] = {"orders": n, "total_price": round(total or 0.0, 2)}
        records += len(inv["shopify_json"]) + len(inv["shopify_http"])  # one document per file (all were decoded above)
    return totals(dict(sorted(pixels.items())), shops, hits, records)


# --------------------------------------------------------------------------
# baseline: bare Polars read
# --------------------------------------------------------------------------

def baseline_polars(root: Path) -> dict:
    import polars as pl  # noqa: PLC0415

    inv = inventory(root)
    S = pl.String
    ud = pl.Struct({k: S for k in ("client_user_agent", "client_ip_address", "fbp", "fbc", "em", "ph", "fn", "ln", "ct", "st", "zp",
                                   "country", "external_id")})
    stape = pl.Struct({
        "Name": S, "Type": S, "EventName": S, "RequestMethod": S, "RequestUrl": S,
        "RequestBody": pl.Struct({"data": pl.List(pl.Struct({
            "event_name": S, "action_source": S, "event_time": pl.Int64, "event_id": S, "event_source_url": S, "user_data": ud,
            "custom_data": pl.Struct({"currency": S, "value": pl.Float64, "order_id": S, "content_type": S})})), "partner_agent": S}),
        "ResponseStatusCode": pl.Int64, "ResponseBody": S, "Message": S, "TraceId": S})
    logentry = {
        "insertId": S, "textPayload": S, "jsonPayload": stape,
        "httpRequest": pl.Struct({"requestMethod": S, "requestUrl": S, "requestSize": S, "status": pl.Int64, "responseSize": S,
                                  "userAgent": S, "remoteIp": S, "serverIp": S, "latency": S, "protocol": S}),
        "resource": pl.Struct({"type": S, "labels": pl.Struct({"service_name": S, "revision_name": S, "configuration_name": S,
                                                               "location": S, "project_id": S})}),
        "timestamp": S, "severity": S, "labels": pl.Struct({"instanceId": S}), "logName": S, "trace": S, "receiveTimestamp": S,
        "spanId": S}
    err = pl.Struct({"message": S, "type": S, "code": pl.Int64, "error_subcode": pl.Int64, "is_transient": pl.Boolean, "fbtrace_id": S})
    graph = {"ts": S, "pixel_id": S, "status": pl.Int64, "sent": pl.Int64,
             "response": pl.Struct({"events_received": pl.Int64, "messages": pl.List(S), "fbtrace_id": S, "error": err})}
    records = 0
    frames = {}
    sgtm = inv["sgtm_stdout"] + inv["sgtm_requests"]
    if sgtm:
        frames["sgtm"] = pl.scan_ndjson(sgtm, schema=logentry).collect()
    if inv["woo"]:
        frames["woo"] = pl.scan_lines(inv["woo"]).collect()
    if inv["graph"]:
        frames["graph"] = pl.scan_ndjson(inv["graph"], schema=graph).collect()
    docs = []
    for f in inv["shopify_json"]:
        with open(f, "rb") as fh:
            docs.append(fh.read().decode("utf-8"))
    for f in inv["shopify_http"]:
        with open(f, "rb") as fh:
            docs.append(fh.read().decode("utf-8").partition("\n\n")[2])
    if docs:
        addr = pl.Struct({k: S for k in ("first_name", "last_name", "phone", "city", "zip", "province_code", "country_code")})
        order = {"id": S, "name": S, "order_number": S, "email": S, "created_at": S, "currency": S, "total_price": S,
                 "financial_status": S, "source_name": S, "order_status_url": S, "checkout_token": S, "browser_ip": S,
                 "client_details": pl.Struct({"browser_ip": S, "user_agent": S}),
                 "note_attributes": pl.List(pl.Struct({"name": S, "value": S})), "billing_address": addr,
                 "customer": pl.Struct({"id": S, "email": S, "first_name": S, "last_name": S}),
                 "line_items": pl.List(pl.Struct({"id": S, "sku": S, "price": S, "quantity": pl.Int64}))}
        title = {k: S for k in ("X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id", "X-Shopify-Hmac-Sha256")}
        lower = {k.lower(): pl.List(S) for k in title}
        s = pl.Series("doc", docs)
        obj_body = s.str.contains(r'^\{"headers": *\{[^{}]*\}, *"body": *\{')
        parts = []
        for mask, dtype in ((obj_body, pl.Struct({"headers": pl.Struct(lower), "body": pl.Struct(order)})),
                            (~obj_body, pl.Struct({"headers": pl.Struct(title), "body": S, **order}))):
            sub = s.filter(mask)
            if len(sub):
                parts.append(sub.str.json_decode(dtype).struct.unnest())
        frames["shopify"] = parts
    for k, v in frames.items():
        records += sum(x.height for x in v) if isinstance(v, list) else v.height
    return {"records": records}


BASELINES = {"polars": baseline_polars, "duckdb": baseline_duckdb, "python": baseline_python}
LABELS = {"audit": "capi-audit", "polars": "polars read", "duckdb": "duckdb aggregates", "python": "python json.loads"}


# --------------------------------------------------------------------------
# running and measuring
# --------------------------------------------------------------------------

def run_measured(cmd: list[str], stdout_path: Path, stderr_path: Path) -> dict:
    """Run cmd as a child; -> wall seconds, cpu seconds, peak RSS (MB) of that child, exit code."""
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, "COLUMNS": "120"})
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024, "exit": p.returncode}


def audit_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("capi-audit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "auditor"]


def audit_summary(report: dict) -> dict:
    acc = report.get("accounts") or []
    return {"records": report["inputs"]["records"], "by_source": report["inputs"]["by_source"],
            "unrecognised_files": report["inputs"].get("unrecognised_files", 0), "errors_total": report["inputs"].get("errors_total", 0),
            "server_events": sum(a.get("server_events") or 0 for a in acc), "errors": sum(a.get("error_lines") or 0 for a in acc),
            "orders": sum(a.get("orders") or 0 for a in acc), "findings": len(report.get("findings") or []),
            "plugin_problems": report.get("plugin_problems") or []}


def probe_shopify_forms(inp: Path, work: Path) -> list[str]:
    """Audit one delivery file of each form on its own: it must be one shopify record."""
    problems = []
    seen: dict[str, Path] = {}
    for p in sorted(inp.rglob("*")):
        if "/deliveries/" not in p.as_posix() or not p.is_file():
            continue
        if p.suffix == ".http":
            form = "http"
        else:
            head = p.read_bytes()[:200]
            form = "pretty" if head.startswith(b"{\n") else "env_obj" if b'"x-shopify-topic": [' in head else "env"
        seen.setdefault(form, p)
        if len(seen) == 4:
            break
    for form, p in sorted(seen.items()):
        out = work / ("probe-%s.json" % form)
        run_measured(audit_cmd() + ["audit", str(p), "--format", "json", "--no-db", "--fail-on", "never", "--quiet", "--output", str(out)],
                     work / "probe.out", work / "probe.err")
        try:
            inputs = json.loads(out.read_text())["inputs"]
        except (OSError, ValueError, KeyError):
            problems.append("probe %s (%s): no report" % (form, p.name))
            continue
        if inputs["by_source"] != {"shopify": 1} or inputs["records"] != 1:
            problems.append("probe %s (%s): by_source=%s records=%s" % (form, p.name, inputs["by_source"], inputs["records"]))
    return problems


def input_size(inp: Path) -> tuple[int, int]:
    n = size = 0
    for dirpath, _, names in os.walk(inp):
        for name in names:
            n += 1
            size += os.path.getsize(os.path.join(dirpath, name))
    return n, size


def warm_cache(folder: Path) -> None:
    """Read every input file once, so the measured tools all find the files in
    the page cache (measured one after the other, the first would otherwise
    pay for reading them from disk)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as fh:
                while fh.read(1 << 20):
                    pass


def bench_shape(shape: str, args, base: Path) -> dict:
    work = base / ("%s-s%g-seed%d" % (shape, args.scale, args.seed))
    inp = work / "input"
    manifest = work / "manifest.json"
    if args.keep and manifest.exists():
        info = json.loads(manifest.read_text())
        info["reused"] = True
    else:
        shutil.rmtree(work, ignore_errors=True)
        inp.mkdir(parents=True)
        t0 = time.perf_counter()
        meta = GENERATORS[shape](inp, args.scale, args.seed)
        gen_s = time.perf_counter() - t0
        n, size = input_size(inp)
        info = {"shape": shape, "scale": args.scale, "seed": args.seed, "files": n, "bytes": size, "generation_s": round(gen_s, 2), "meta": meta}
        manifest.write_text(json.dumps(info, indent=1))
        info["reused"] = False
    problems: list[str] = []
    inv = inventory(inp)
    if inv["other"]:
        problems.append("%d generated files of no known format: %s" % (len(inv["other"]), inv["other"][:3]))
    if shape in ("shopify", "mixed") and not args.no_probe:
        problems += probe_shopify_forms(inp, work)
    warm_cache(inp)  # every tool starts from the same page cache: the first one measured is not the one paying for the disk
    runs: dict[str, dict] = {}
    results: dict[str, dict] = {}
    report = work / "report.json"
    r = run_measured(audit_cmd() + ["audit", str(inp), "--format", "json", "--no-db", "--fail-on", "never", "--quiet", "--output", str(report)],
                     work / "audit.out", work / "audit.err")
    runs["audit"] = r
    if r["exit"] != 0 or not report.exists():
        problems.append("capi-audit exited %s: %s" % (r["exit"], (work / "audit.err").read_text()[-500:]))
    else:
        s = audit_summary(json.loads(report.read_text()))
        results["audit"] = s
        missing = EXPECTED_SOURCES[shape] - set(s["by_source"])
        if missing:
            problems.append("capi-audit found no records of %s (by_source=%s)" % (sorted(missing), s["by_source"]))
        if s["unrecognised_files"]:
            problems.append("capi-audit did not recognise %d files" % s["unrecognised_files"])
        if s["errors_total"]:
            problems.append("capi-audit reported %d input errors" % s["errors_total"])
        if s["plugin_problems"]:
            problems.append("plugin problems: %s" % str(s["plugin_problems"])[:300])
    for name in args.baselines:
        out = work / ("baseline-%s.json" % name)
        out.unlink(missing_ok=True)
        r = run_measured([sys.executable, str(Path(__file__).resolve()), "--_baseline", name, "--_root", str(inp), "--_out", str(out)],
                         work / ("baseline-%s.out" % name), work / ("baseline-%s.err" % name))
        runs[name] = r
        if r["exit"] != 0 or not out.exists():
            problems.append("baseline %s failed: %s" % (name, (work / ("baseline-%s.err" % name)).read_text()[-500:]))
        else:
            results[name] = json.loads(out.read_text())
    mb = info["bytes"] / MB
    a = runs["audit"]
    ratios = {"audit_mb_per_s": mb / a["wall_s"], "audit_rss_per_input": a["peak_rss_mb"] / mb if mb else None}
    for name in args.baselines:
        if name in runs and runs[name]["exit"] == 0:
            ratios["audit_over_" + name] = a["wall_s"] / runs[name]["wall_s"]
    for name, r in runs.items():
        r["mb_per_s"] = mb / r["wall_s"]
        r["rss_per_input"] = r["peak_rss_mb"] / mb if mb else None
    # do the baselines agree with each other (they should, exactly) and with the audit (informative)?
    py, dk = results.get("python"), results.get("duckdb")
    if py and dk:
        for k in ("server_events", "errors", "orders", "ga4_hits"):
            if py[k] != dk[k]:
                problems.append("baselines disagree on %s: python %s, duckdb %s" % (k, py[k], dk[k]))
    return {"shape": shape, "input": info, "runs": runs, "ratios": ratios, "results": results, "problems": problems}


def fmt(x, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def print_shape(res: dict) -> None:
    info, runs, results = res["input"], res["runs"], res["results"]
    mb = info["bytes"] / MB
    gen = "reused" if info.get("reused") else "generated in %.1f s, %.0f MB/s" % (info["generation_s"], mb / max(info["generation_s"], 1e-9))
    print("\n== %s: %s files, %.1f MB (%s)" % (res["shape"], format(info["files"], ","), mb, gen))
    print("%-20s %9s %8s %8s %10s %10s %12s" % ("tool", "wall s", "cpu s", "MB/s", "peak RSS", "RSS/input", "audit/this"))
    aw = runs["audit"]["wall_s"]
    for name, r in runs.items():
        print("%-20s %9.2f %8.2f %8.1f %8.0f MB %9.2fx %11.1fx" % (LABELS[name], r["wall_s"], r["cpu_s"], r["mb_per_s"], r["peak_rss_mb"],
                                                                 r["rss_per_input"] or 0, aw / r["wall_s"]))
    cols = [k for k in ("audit", "duckdb", "python") if k in results]
    if cols:
        print("%-20s " % "totals" + " ".join("%14s" % LABELS[c].split()[0] for c in cols))
        for key in ("records", "server_events", "errors", "orders", "ga4_hits"):
            vals = [results[c].get(key) for c in cols]
            if any(v for v in vals if v):
                print("%-20s " % key + " ".join("%14s" % ("-" if v is None else format(v, ",")) for v in vals))
        if "audit" in results:
            print("%-20s %s" % ("audit by_source", results["audit"]["by_source"]))


def print_summary(all_res: list[dict], baselines: list[str]) -> None:
    print("\n== ratios (capi-audit wall time / baseline wall time; >1 = capi-audit slower)")
    head = "%-9s %8s %7s " % ("shape", "MB", "files") + " ".join("%12s" % ("/" + b) for b in baselines) + " %10s %10s" % ("audit MB/s", "RSS/input")
    print(head)
    for res in all_res:
        r = res["ratios"]
        print("%-9s %8.1f %7s " % (res["shape"], res["input"]["bytes"] / MB, format(res["input"]["files"], ","))
              + " ".join("%11sx" % fmt(r.get("audit_over_" + b), ".1f") for b in baselines)
              + " %10s %9sx" % (fmt(r["audit_mb_per_s"], ".1f"), fmt(r["audit_rss_per_input"], ".1f")))
    problems = [(res["shape"], p) for res in all_res for p in res["problems"]]
    print("\nproblems: " + ("none" if not problems else ""))
    for shape, p in problems:
        print("  [%s] %s" % (shape, p))


def child_main(args) -> None:
    t0 = time.perf_counter()
    result = BASELINES[args._baseline](Path(args._root))
    result["work_s"] = time.perf_counter() - t0
    Path(args._out).write_text(json.dumps(result, default=float))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = the sizes in the description; 0.1 for a quick run")
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep it (complete inputs already there are reused)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json-out", type=Path, help="also write the measurements and ratios as JSON to this file")
    ap.add_argument("--baselines", default="polars,duckdb,python", help="comma-separated subset of polars,duckdb,python")
    ap.add_argument("--no-probe", action="store_true", help="skip auditing one Shopify delivery file of each form on its own")
    ap.add_argument("--generate-only", action="store_true", help="only generate the inputs (with --keep) and print sizes")
    for hidden in ("--_baseline", "--_root", "--_out"):
        ap.add_argument(hidden, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._baseline:
        child_main(args)
        return
    args.baselines = [b for b in args.baselines.split(",") if b]
    bad = set(args.baselines) - set(BASELINES)
    if bad:
        ap.error("unknown baselines: %s" % ", ".join(sorted(bad)))
    shapes = list(SHAPES) if args.shape == "all" else [args.shape]
    base = args.keep or Path(tempfile.mkdtemp(prefix="capi-bench-archives-"))
    base.mkdir(parents=True, exist_ok=True)
    all_res = []
    try:
        for shape in shapes:
            if args.generate_only:
                work = base / ("%s-s%g-seed%d" % (shape, args.scale, args.seed))
                shutil.rmtree(work, ignore_errors=True)
                (work / "input").mkdir(parents=True)
                t0 = time.perf_counter()
                meta = GENERATORS[shape](work / "input", args.scale, args.seed)
                gen_s = time.perf_counter() - t0
                n, size = input_size(work / "input")
                info = {"shape": shape, "scale": args.scale, "seed": args.seed, "files": n, "bytes": size, "generation_s": round(gen_s, 2), "meta": meta}
                (work / "manifest.json").write_text(json.dumps(info, indent=1))
                print("%-8s %7d files %8.1f MB  generated in %.1f s (%.0f MB/s)" % (shape, n, size / MB, gen_s, size / MB / gen_s))
                continue
            res = bench_shape(shape, args, base)
            print_shape(res)
            all_res.append(res)
        if all_res:
            print_summary(all_res, args.baselines)
        if args.json_out and all_res:
            args.json_out.write_text(json.dumps({"scale": args.scale, "seed": args.seed, "shapes": all_res}, indent=1, default=float))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
