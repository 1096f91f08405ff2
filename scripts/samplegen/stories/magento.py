"""Story 10. Magento 2 with Meta's extension: the token dies (magento source)
"""

from __future__ import annotations

import random

from ..formats import gzip_bytes, ts, utc, uuid4, write


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
