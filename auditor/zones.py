"""What a ``site_timezone`` value means: an IANA zone name or a fixed offset.

One reading for the command line (which refuses an unusable zone before any
input is read) and the sources that apply it to site-local times.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FIXED = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_UTC_NAMES = {"utc", "gmt", "z", "etc/utc", "etc/gmt", "+00:00", "-00:00", "+0000"}


def parse_zone(value: str) -> tuple[str, object] | None:
    """``("iana", name)``, ``("fixed", minutes east of UTC)`` or ``None`` if unusable.

    Accepts IANA names (``Europe/Lisbon``, DST-aware), UTC/GMT/Z, and offsets
    such as ``+05:30``, ``-0300`` or ``UTC-5``.
    """
    s = str(value).strip()
    if s.lower() in _UTC_NAMES:
        return ("fixed", 0)
    m = _FIXED.match(s)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
        if minutes > 14 * 60:
            return None
        return ("fixed", -minutes if m.group(1) == "-" else minutes)
    try:
        ZoneInfo(s)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return ("iana", s)
