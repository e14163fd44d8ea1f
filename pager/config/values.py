"""Text -> value parsers for the config's small languages (pure; raise ``ValueError``).

Each parser raises ``ValueError`` whose message is fit to show an operator as is:
durations (``30s``, ``1h30m``, ``4 business hours``), rates (``10/15m``), local times of
day (``08:30``, ``24:00``), weekdays and day sets (``mon-fri``, ``fri-mon``, ``sat``),
dates and date ranges (``2026-12-24..2026-12-26``), RFC 3339 instants, E.164 numbers.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from pager.core.model import BusinessDays, BusinessHours, Duration, Rate, WallDuration

DURATION_EXAMPLES = "e.g. 30s, 15m, 2h, 1d, 1h30m, 4 business hours or 1 business day"

_UNITS: dict[str, timedelta] = {}
for _names, _size in (
    (("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
    (("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    (("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    (("d", "day", "days"), timedelta(days=1)),
    (("w", "week", "weeks"), timedelta(weeks=1)),
):
    for _name in _names:
        _UNITS[_name] = _size

_NUMBER = r"\d+(?:\.\d+)?"
_BUSINESS = re.compile(rf"({_NUMBER})\s+business\s+(hours?|days?)")
_WALL_PART = re.compile(rf"\s*({_NUMBER})\s*([a-z]+)\s*")


def parse_duration(text: str) -> Duration:
    """``30s``, ``15m``, ``2h``, ``1d`` (24 h of wall time), compounds such as ``1h30m``
    (largest unit first), ``N business hour(s)``, ``N business day(s)``; ``0`` alone is
    zero. Case-insensitive. Raises ``ValueError`` naming the text and the accepted forms.
    """
    cleaned = text.strip().lower()
    if cleaned == "0":
        return WallDuration(timedelta(0))
    business = _BUSINESS.fullmatch(cleaned)
    if business is not None:
        amount, unit = business.groups()
        if unit.startswith("hour"):
            return BusinessHours(float(amount))
        if "." in amount:
            raise ValueError(f"invalid duration {text!r}: business days must be a whole number")
        return BusinessDays(int(amount))
    total = timedelta(0)
    position = 0
    last_unit: timedelta | None = None
    while position < len(cleaned):
        part = _WALL_PART.match(cleaned, position)
        if part is None:
            break
        amount, unit_name = part.groups()
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise ValueError(f"invalid duration {text!r}: unknown unit {unit_name!r}")
        if last_unit is not None and unit >= last_unit:
            raise ValueError(
                f"invalid duration {text!r}: write units from largest to smallest, e.g. 1h30m"
            )
        last_unit = unit
        total += unit * float(amount)
        position = part.end()
    if last_unit is None or position != len(cleaned):
        raise ValueError(f"invalid duration {text!r}: {DURATION_EXAMPLES}")
    return WallDuration(total)


def parse_rate(text: str) -> Rate:
    """``COUNT/DURATION`` such as ``10/15m``: at most COUNT per wall DURATION (> 0)."""
    count_text, slash, per_text = text.partition("/")
    if not slash or not count_text.strip().isdigit():
        raise ValueError(f"invalid rate {text!r}: expected COUNT/DURATION, e.g. 10/15m")
    count = int(count_text)
    try:
        per = parse_duration(per_text)
    except ValueError:
        raise ValueError(f"invalid rate {text!r}: expected COUNT/DURATION, e.g. 10/15m") from None
    if not isinstance(per, WallDuration) or per.delta <= timedelta(0):
        raise ValueError(f"invalid rate {text!r}: the period must be a wall duration like 15m")
    if count < 1:
        raise ValueError(f"invalid rate {text!r}: the count must be at least 1")
    return Rate(count, per.delta)


_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def parse_time_of_day(text: str, *, allow_end_of_day: bool = False) -> int:
    """``HH:MM`` (or ``H:MM``) -> minutes after local midnight. ``24:00`` (1440, the end of
    the day) only when ``allow_end_of_day``."""
    match = _TIME.fullmatch(text.strip())
    if match is not None:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if hours < 24 and minutes < 60:
            return hours * 60 + minutes
        if hours == 24 and minutes == 0:
            if allow_end_of_day:
                return 1440
            raise ValueError(f"invalid time {text!r}: 24:00 is only allowed as 'to'")
    limit = "24:00" if allow_end_of_day else "23:59"
    raise ValueError(f"invalid time {text!r}: expected HH:MM from 00:00 to {limit}")


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_weekday(text: str) -> int:
    """``mon``..``sun`` or the full English name, any case -> 0 (Monday) .. 6 (Sunday)."""
    name = text.strip().lower()
    for number, full in enumerate(WEEKDAYS):
        if name in (full, full[:3]):
            return number
    raise ValueError(f"unknown weekday {text!r}: use mon..sun or full names")


def parse_days(text: str) -> frozenset[int]:
    """One weekday (``sat``), a range (``mon-fri``; ``fri-mon`` wraps past Sunday), or
    several of those separated by commas (``mon, wed-fri``)."""
    days: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.partition("-")
        if not dash:
            days.add(parse_weekday(first))
            continue
        start, end = parse_weekday(first), parse_weekday(last)
        day = start
        days.add(day)
        while day != end:
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> date:
    """``YYYY-MM-DD``."""
    cleaned = text.strip()
    if _DATE.fullmatch(cleaned) is None:
        raise ValueError(f"invalid date {text!r}: expected YYYY-MM-DD")
    try:
        return date.fromisoformat(cleaned)
    except ValueError as err:
        raise ValueError(f"invalid date {text!r}: {err}") from None


#: A holiday range longer than this is almost certainly a typo in a year.
MAX_HOLIDAY_RANGE_DAYS = 366


def parse_dates(text: str) -> list[date]:
    """A date, or an inclusive range ``2026-12-24..2026-12-26``, as a list of dates."""
    first, dots, last = text.partition("..")
    if not dots:
        return [parse_date(first)]
    start, end = parse_date(first), parse_date(last)
    if end < start:
        raise ValueError(f"invalid date range {text!r}: the end is before the start")
    if (end - start).days > MAX_HOLIDAY_RANGE_DAYS:
        raise ValueError(f"invalid date range {text!r}: longer than a year")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?")


def parse_instant(text: str) -> datetime:
    """RFC 3339 with an offset (``2026-12-24T00:00:00+02:00``, ``...Z``) -> aware UTC."""
    cleaned = text.strip()
    match = _INSTANT.fullmatch(cleaned)
    example = "e.g. 2026-12-24T00:00:00+02:00"
    if match is None:
        raise ValueError(f"invalid timestamp {text!r}: expected RFC 3339, {example}")
    if match.group(3) is None:
        raise ValueError(f"timestamp {text!r} needs an offset (Z or +HH:MM), {example}")
    try:
        parsed = datetime.fromisoformat(cleaned.replace("z", "Z"))
    except ValueError as err:
        raise ValueError(f"invalid timestamp {text!r}: {err}") from None
    return parsed.astimezone(UTC)


_E164 = re.compile(r"\+[1-9]\d{6,14}")


def parse_phone(text: str) -> str:
    """An E.164 number (``+40700000001``), returned unchanged."""
    cleaned = text.strip()
    if _E164.fullmatch(cleaned) is None:
        raise ValueError(f"phone {text!r} is not in E.164 form, e.g. +40700000001")
    return cleaned


_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def parse_email(text: str) -> str:
    """A bare address (``ana@example.com``), returned unchanged."""
    cleaned = text.strip()
    if _EMAIL.fullmatch(cleaned) is None:
        raise ValueError(f"email {text!r} is not an address like ana@example.com")
    return cleaned
