"""sample_logs/README.md, written from the ``facts`` each story leaves
(files, counts, first/last seen times) after every story has run.
"""

from __future__ import annotations

import os

from .formats import HERE, iso_z, utc, write
from .stories.agency import AGENCY_DAYS, PIXEL_AGENCY_A, PIXEL_AGENCY_B, PIXEL_AGENCY_C
from .stories.broken_after_update import PIXEL_UPDATE
from .stories.export_zip import PIXEL_EXPORT
from .stories.graph_api import PIXEL_GRAPH
from .stories.healthy import PIXEL_HEALTHY
from .stories.inhouse_payloads import PAYLOAD_SHOP, PIXEL_PAYLOADS
from .stories.magento import PIXEL_MAGENTO
from .stories.nordic import NORDIC_FIX, NORDIC_OUTAGE, NORDIC_PROJECT, NORDIC_SECRET, NORDIC_SHOP, NORDIC_UPDATE, PIXEL_NORDIC, STAPE_NEW, STAPE_OLD
from .stories.queued_shop import PIXEL_QUEUED, QUEUE_FLUSH_HOURS, QUEUE_TEST_CODE
from .stories.token_expired import PIXEL_TOKEN, TOKEN_EXPIRY


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
# README
# --------------------------------------------------------------------------

def span(items):
    ts_ = sorted(t for t, _ in items)
    return "%s – %s" % (iso_z(ts_[0]), iso_z(ts_[-1])) if ts_ else "-"


def make_readme(facts):
    """sample_logs/README.md, section by section."""
    L = []
    a = L.append
    intro_and_accounts(a)
    files_table(a, facts)
    story_1_healthy(a, facts)
    story_2_token_expired(a, facts)
    story_3_broken_after_update(a, facts)
    story_4_export_zip(a, facts)
    story_5_graph_api(a, facts)
    story_6_queued_shop(a, facts)
    readme_stories_extra(a, facts)
    diagnoses(a)
    privacy_traps(a, facts)
    format_notes(a, facts)
    write("README.md", "\n".join(L))


def file_sizes():
    """-> sz(path relative to sample_logs/): its size as text ("0" if missing)."""
    sizes = {}
    for root, _, names in os.walk(HERE):
        for n in names:
            p = os.path.join(root, n)
            sizes[os.path.relpath(p, HERE)] = os.path.getsize(p)
    return lambda rel: "%d" % sizes.get(rel, 0)


def intro_and_accounts(a):
    """The title, what the samples are, and the accounts table."""
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


def files_table(a, facts):
    """Every file with its size, format variant and pixel."""
    H = facts["healthy"]
    T = facts["token"]
    U = facts["update"]
    X = facts["export"]
    G = facts["graph"]
    Q = facts["queued"]
    sz = file_sizes()
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


def story_1_healthy(a, facts):
    """The section of story 1 (healthy shop): what is in its files and what the audit must find."""
    H = facts["healthy"]
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


def story_2_token_expired(a, facts):
    """The section of story 2 (token expired): what is in its files and what the audit must find."""
    T = facts["token"]
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


def story_3_broken_after_update(a, facts):
    """The section of story 3 (broken after a plugin update): what is in its files and what the audit must find."""
    U = facts["update"]
    silence_h = (U["last"] - U["last_new"]) / 3600.0
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


def story_4_export_zip(a, facts):
    """The section of story 4 (admin ZIP export): what is in its files and what the audit must find."""
    X = facts["export"]
    conn_kinds = {}
    for _, k in X["conn"]:
        conn_kinds[k] = conn_kinds.get(k, 0) + 1
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


def story_5_graph_api(a, facts):
    """The section of story 5 (raw Graph API responses): what is in its files and what the audit must find."""
    G = facts["graph"]
    rate_codes = {}
    for _, d in G["rate"]:
        rate_codes[d] = rate_codes.get(d, 0) + 1
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


def story_6_queued_shop(a, facts):
    """The section of story 6 (home-made queue): what is in its files and what the audit must find."""
    Q = facts["queued"]
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


def diagnoses(a):
    """Which diagnosis each account demonstrates."""
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


def privacy_traps(a, facts):
    """What the auditor must redact."""
    G = facts["graph"]
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


def format_notes(a, facts):
    """Format details checked against upstream code."""
    G = facts["graph"]
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
