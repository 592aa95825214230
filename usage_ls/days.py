"""Local calendar days: the one place that turns instants into `YYYY-MM-DD` in the user's zone.

Days are computed with a real IANA zone (zoneinfo), so DST days have 23 or 25 hours and a
record at 23:59 and one at 00:01 land on different days.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def system_zone() -> dt.tzinfo:
    """The system's zone as a DST-aware zone (not a fixed offset)."""
    try:
        from tzlocal import get_localzone

        return get_localzone()
    except Exception:  # no zone configured at all: UTC is the honest fallback
        return dt.UTC


def zone_named(name: str | None) -> dt.tzinfo:
    """The zone called `name`; raises ValueError with a clear message for an unknown one."""
    if not name:
        return system_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown timezone (expected an IANA name like 'Europe/Berlin')") from exc


def day_of(ts_ms: int, tz: dt.tzinfo) -> str:
    """The local day (YYYY-MM-DD) of an epoch-milliseconds instant."""
    return (_EPOCH + dt.timedelta(milliseconds=ts_ms)).astimezone(tz).date().isoformat()


_QUARTER_MS = 15 * 60_000
_DAY_CACHE: dict[tuple, str] = {}


def day_of_cached(ts_ms: int, tz: dt.tzinfo) -> str:
    """`day_of`, remembered per quarter hour: every UTC offset in use since 2000 is a whole
    number of quarter hours, so all instants of one UTC quarter hour share their local day."""
    key = (ts_ms // _QUARTER_MS, tz)
    day = _DAY_CACHE.get(key)
    if day is None:
        if len(_DAY_CACHE) > 100_000:
            _DAY_CACHE.clear()
        day = _DAY_CACHE[key] = day_of(ts_ms, tz)
    return day


def today(tz: dt.tzinfo, now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(tz)).astimezone(tz).date().isoformat()


def parse_day(text: str) -> dt.date:
    """Parse YYYY-MM-DD; ValueError otherwise."""
    if not isinstance(text, str) or len(text) != 10:
        raise ValueError("expected a date as YYYY-MM-DD")
    return dt.date.fromisoformat(text)


def ordinal(day: str) -> int:
    return dt.date.fromisoformat(day).toordinal()


def from_ordinal(n: int) -> str:
    return dt.date.fromordinal(n).isoformat()


def day_range(start: str, end: str) -> list[str]:
    a, b = ordinal(start), ordinal(end)
    return [from_ordinal(n) for n in range(a, b + 1)]


def shift(day: str, days: int) -> str:
    return from_ordinal(ordinal(day) + days)


def midnight_ms(day: str, tz: dt.tzinfo) -> int:
    """Epoch ms of the local midnight that starts `day` (DST-safe: a real zone's midnight)."""
    d = dt.date.fromisoformat(day)
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000)


def next_month_start(day: str) -> str:
    """The first day of the month after `day`'s."""
    first = dt.date.fromisoformat(day[:8] + "01")
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1).isoformat()


def month_of(day: str) -> str:
    return day[:7]


def iso_timestamp(ts_ms: int, tz: dt.tzinfo) -> str:
    """RFC 3339 with the local offset, millisecond precision."""
    return (_EPOCH + dt.timedelta(milliseconds=ts_ms)).astimezone(tz).isoformat(timespec="milliseconds")


def now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)
