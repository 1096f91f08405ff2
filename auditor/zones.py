"""What a ``site_timezone`` value means (an IANA zone name or a fixed offset),
and a shop's business hours.

One reading for the command line (which refuses an unusable zone before any
input is read) and the sources that apply it to site-local times; one reading
of ``business_hours`` ("08:00-22:00" in a zone) for the checks and the report
that ask whether a silence fell in opening hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
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


#: Opening hours when a ruleset names none (or something unreadable).
DEFAULT_BUSINESS_HOURS = "08:00-22:00"


def parse_business_hours(spec: str | None) -> tuple[time, time]:
    """``"08:00-22:00"`` as two times (the default on anything unreadable)."""
    try:
        a, b = (p.strip() for p in str(spec or DEFAULT_BUSINESS_HOURS).split("-", 1))
        return time.fromisoformat(a), time.fromisoformat(b)
    except ValueError:
        return parse_business_hours(DEFAULT_BUSINESS_HOURS)


def business_stretches(start: datetime, end: datetime, hours: tuple[time, time], zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """The parts of ``start .. end`` inside the daily opening ``hours`` in
    ``zone``, one per day (hours past midnight, "18:00-02:00", run into the next day)."""
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        open_, close = datetime.combine(day, hours[0], zone), datetime.combine(day, hours[1], zone)
        if close <= open_:
            close += timedelta(days=1)
        a, b = max(open_, start), min(close, end)
        if b > a:
            yield a, b
        day += timedelta(days=1)
