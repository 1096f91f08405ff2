"""Text formats shared by the stories: timestamps (UTC epoch seconds in,
the strings each source writes out), PHP/Ruby JSON encodings, HTTP dates,
random ids, and writing files under sample_logs/ (gzip with a fixed mtime).
"""

from __future__ import annotations

import calendar
import datetime as dt
import gzip
import hashlib
import importlib.util
import io
import json
import os
import string

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(REPO, "sample_logs")


def _load_woocommerce_log():
    """auditor/testing/woocommerce_log.py, the project's one writer of Meta for
    WooCommerce log entries, loaded by its path: importing it as
    ``auditor.testing.woocommerce_log`` would run ``auditor/__init__`` (Polars),
    and this generator is standard library only."""
    path = os.path.join(REPO, "auditor", "testing", "woocommerce_log.py")
    spec = importlib.util.spec_from_file_location("samplegen_woocommerce_log", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


woocommerce_log = _load_woocommerce_log()
entry, iso_wc, php_duration, php_json = woocommerce_log.entry, woocommerce_log.iso_wc, woocommerce_log.php_duration, woocommerce_log.php_json
request, response = woocommerce_log.request, woocommerce_log.response
UTC = dt.timezone.utc

BASE62 = string.ascii_letters + string.digits
B64URL = BASE62 + "-_"
B64 = BASE62 + "+/"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def ts(y, m, d, hh=0, mm=0, ss=0):
    return calendar.timegm((y, m, d, hh, mm, ss, 0, 0, 0))


def utc(t):
    return dt.datetime.fromtimestamp(t, UTC)


def iso_z(t):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(t, ms):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % ms


def http_date(t):
    d = utc(t)
    return "%s, %02d %s %d %s GMT" % (WEEKDAYS[d.weekday()][:3], d.day, MONTHS[d.month - 1], d.year, d.strftime("%H:%M:%S"))


def pst_text(t):
    """Graph's token-expiry wording, e.g. 'Tuesday, 10-Feb-26 08:00:00 PST'."""
    d = utc(t) - dt.timedelta(hours=8)
    return "%s, %02d-%s-%s %s PST" % (WEEKDAYS[d.weekday()], d.day, MONTHS[d.month - 1], d.strftime("%y"), d.strftime("%H:%M:%S"))


def sha(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def digits(s):
    return "".join(ch for ch in s if ch.isdigit())


def money(cents):
    return "%d.%02d" % (cents // 100, cents % 100)


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


def fmt_t(t):
    return iso_z(t) if t is not None else "-"


def iso_us(t, us):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % us


def iso_ns(t, ns):
    return utc(t).strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % ns


def ruby_json(obj):
    """Shopify's raw webhook body: compact, UTF-8, '/' escaped as '\\/'."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")


def render(e, offset_hours=None):
    """e = (t, style, level, message) -> the text of one log entry (:func:`entry`)."""
    t, style, level, message = e
    return entry(t, message, style=style, level=level, offset_hours=offset_hours)


def write_daily_logs(folder, seed, days, entries, *, offset_hours=None, skip_empty=False, same_hash=False):
    """WooCommerce's daily log files under ``folder``: for each UTC day the
    entries logged that day (:func:`render`, v1 entries at ``offset_hours``) in
    ``facebook_for_woocommerce-<day>-<hash>.log``.  The v2 handler hashes the
    file id (a new hash every day); the v1 handler the handle, so
    ``same_hash=True`` gives every day the same hash.  -> the paths written."""
    files = []
    for day in days:
        fid = "facebook_for_woocommerce-%s" % day
        text = "".join(render(e, offset_hours) for e in entries if iso_wc(e[0]).startswith(day))
        if text or not skip_empty:
            fhash = wc_file_hash(seed, "facebook_for_woocommerce" if same_hash else fid)
            files.append(write("%s/%s-%s.log" % (folder, fid, fhash), text))
    return files
