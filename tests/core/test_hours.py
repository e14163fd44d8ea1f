"""Opening hours and local wall times at chosen instants, around DST changes.

2026: Europe changes on Mar 29 (03:00 -> 04:00 in Bucharest) and Oct 25 (04:00 -> 03:00);
North America on Mar 8 (02:00 -> 03:00) and Nov 1 (02:00 -> 01:00).
2027: Europe Mar 28 / Oct 31; North America Mar 14 / Nov 7.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pager.core.hours import OpeningHours, local_instant, zone
from pager.core.model import WeeklyHours

WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
SECOND = timedelta(seconds=1)


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hours(days: frozenset[int], start: str, end: str, tz: str, *holidays: date) -> OpeningHours:
    return OpeningHours(WeeklyHours(days, hm(start), hm(end)), zone(tz), frozenset(holidays))


# --- local_instant -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "time", "expected"),
    [
        # ordinary days
        ("Europe/Bucharest", date(2026, 11, 23), "08:30", "2026-11-23 06:30"),
        ("Europe/Bucharest", date(2026, 7, 1), "08:30", "2026-07-01 05:30"),
        ("Asia/Ho_Chi_Minh", date(2026, 3, 29), "08:00", "2026-03-29 01:00"),
        # spring forward: skipped times happen at the jump, exactly
        ("Europe/Bucharest", date(2026, 3, 29), "03:00", "2026-03-29 01:00"),
        ("Europe/Bucharest", date(2026, 3, 29), "03:30", "2026-03-29 01:00"),
        ("Europe/Bucharest", date(2026, 3, 29), "03:07", "2026-03-29 01:00"),
        ("Europe/Bucharest", date(2026, 3, 29), "04:00", "2026-03-29 01:00"),
        ("Europe/Bucharest", date(2027, 3, 28), "03:59", "2027-03-28 01:00"),
        ("America/New_York", date(2026, 3, 8), "02:30", "2026-03-08 07:00"),
        ("America/New_York", date(2027, 3, 14), "02:01", "2027-03-14 07:00"),
        ("America/New_York", date(2027, 3, 14), "03:00", "2027-03-14 07:00"),
        ("Australia/Sydney", date(2026, 10, 4), "02:30", "2026-10-03 16:00"),
        # Lord Howe moves its clocks by half an hour
        ("Australia/Lord_Howe", date(2026, 10, 4), "02:10", "2026-10-03 15:30"),
        # fall back: repeated times mean their first occurrence
        ("Europe/Bucharest", date(2026, 10, 25), "03:30", "2026-10-25 00:30"),
        ("Europe/Bucharest", date(2026, 10, 25), "04:00", "2026-10-25 02:00"),
        ("Europe/Bucharest", date(2027, 10, 31), "03:00", "2027-10-31 00:00"),
        ("America/New_York", date(2026, 11, 1), "01:30", "2026-11-01 05:30"),
        ("America/New_York", date(2027, 11, 7), "01:00", "2027-11-07 05:00"),
        ("Australia/Sydney", date(2026, 4, 5), "02:30", "2026-04-04 15:30"),
        # 24:00 is the next day's midnight
        ("Europe/Bucharest", date(2026, 3, 28), "24:00", "2026-03-28 22:00"),
        ("Europe/Bucharest", date(2026, 3, 29), "24:00", "2026-03-29 21:00"),
    ],
)
def test_local_instant(tz: str, day: date, time: str, expected: str) -> None:
    assert local_instant(day, hm(time), zone(tz)) == utc(expected)


def first_second_at_or_after(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """Reference: walk UTC seconds (in minute strides, then seconds) until the wall clock
    reads ``day`` + ``minute`` or later."""
    wanted = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    offset = tz.utcoffset(wanted)
    assert offset is not None
    # Surely before it: no zone here moves its clocks by 3 hours.
    t = (wanted - offset - timedelta(hours=3)).replace(tzinfo=UTC)
    assert t.astimezone(tz).replace(tzinfo=None) < wanted
    while (t + timedelta(minutes=1)).astimezone(tz).replace(tzinfo=None) < wanted:
        t += timedelta(minutes=1)
    while t.astimezone(tz).replace(tzinfo=None) < wanted:
        t += SECOND
    return t


@pytest.mark.parametrize(
    ("tz", "day"),
    [
        ("Europe/Bucharest", date(2026, 3, 29)),
        ("Europe/Bucharest", date(2027, 10, 31)),
        ("America/New_York", date(2026, 3, 8)),
        ("America/New_York", date(2026, 11, 1)),
        ("Australia/Sydney", date(2027, 4, 4)),
        ("Australia/Lord_Howe", date(2026, 4, 5)),
        ("America/Santiago", date(2026, 4, 4)),  # falls back at midnight
        ("America/Santiago", date(2026, 9, 5)),
    ],
)
def test_local_instant_matches_walking_the_clock_all_day(tz: str, day: date) -> None:
    zone_ = zone(tz)
    for minute in range(0, 1441, 10):
        assert local_instant(day, minute, zone_) == first_second_at_or_after(day, minute, zone_), (
            tz,
            day,
            minute,
        )


# --- windows ---------------------------------------------------------------------------

BUCHAREST = hours(WEEKDAYS, "08:30", "17:30", "Europe/Bucharest", date(2026, 12, 25))
SUNDAY_NIGHT = hours(frozenset({6}), "00:00", "06:00", "Europe/Bucharest")
NY_WEEKDAYS = hours(WEEKDAYS, "00:00", "24:00", "America/New_York")
NIGHTS = hours(EVERY_DAY, "00:00", "03:30", "Europe/Bucharest")


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected"),
    [
        # Friday before and Monday after the spring change: 9 h each, UTC shifts by 1 h.
        (
            BUCHAREST,
            "2026-03-27 00:00",
            "2026-03-31 00:00",
            [("2026-03-27 06:30", "2026-03-27 15:30"), ("2026-03-30 05:30", "2026-03-30 14:30")],
        ),
        # The night the clocks jump is 5 h long; the night they go back, 7 h.
        (
            SUNDAY_NIGHT,
            "2026-03-28 00:00",
            "2026-03-30 00:00",
            [("2026-03-28 22:00", "2026-03-29 03:00")],
        ),
        (
            SUNDAY_NIGHT,
            "2026-10-24 00:00",
            "2026-10-26 00:00",
            [("2026-10-24 21:00", "2026-10-25 04:00")],
        ),
        # Closing inside the repeated hour: the first 03:30 closes it.
        (
            NIGHTS,
            "2026-10-24 12:00",
            "2026-10-25 12:00",
            [("2026-10-24 21:00", "2026-10-25 00:30")],
        ),
        # Closing inside the skipped hour: it closes at the jump.
        (
            NIGHTS,
            "2026-03-28 12:00",
            "2026-03-29 12:00",
            [("2026-03-28 22:00", "2026-03-29 01:00")],
        ),
        # Christmas is a holiday: Thursday, then Monday.
        (
            BUCHAREST,
            "2026-12-24 00:00",
            "2026-12-29 00:00",
            [("2026-12-24 06:30", "2026-12-24 15:30"), ("2026-12-28 06:30", "2026-12-28 15:30")],
        ),
        # Whole weekdays merge into one window, Monday 00:00 to Saturday 00:00 local.
        (
            NY_WEEKDAYS,
            "2026-11-20 00:00",
            "2026-12-01 00:00",
            [
                ("2026-11-20 00:00", "2026-11-21 05:00"),
                ("2026-11-23 05:00", "2026-11-28 05:00"),
                ("2026-11-30 05:00", "2026-12-01 00:00"),
            ],
        ),
        # Clipped to the range asked for.
        (
            BUCHAREST,
            "2026-11-23 10:00",
            "2026-11-23 12:00",
            [("2026-11-23 10:00", "2026-11-23 12:00")],
        ),
        (BUCHAREST, "2026-11-23 16:00", "2026-11-23 18:00", []),
    ],
)
def test_windows(
    calendar: OpeningHours, start: str, end: str, expected: list[tuple[str, str]]
) -> None:
    got = list(calendar.windows(utc(start), utc(end)))
    assert got == [(utc(a), utc(b)) for a, b in expected]


def test_windows_of_hours_open_around_the_clock_end() -> None:
    always = hours(EVERY_DAY, "00:00", "24:00", "Europe/Bucharest")
    start, end = utc("2026-03-01 00:00"), utc("2026-05-01 00:00")
    assert list(always.windows(start, end)) == [(start, end)]
    assert always.is_open(utc("2026-03-29 01:30"))


def test_holiday_is_the_date_a_window_opens_on() -> None:
    # Wednesday 2026-11-25 is a holiday: Tuesday's window still runs to Wednesday 00:00,
    # and Thursday's opens at Thursday 00:00.
    calendar = hours(WEEKDAYS, "00:00", "24:00", "America/New_York", date(2026, 11, 25))
    assert calendar.window_at(utc("2026-11-24 12:00")) == (
        utc("2026-11-23 05:00"),
        utc("2026-11-25 05:00"),
    )
    assert calendar.window_at(utc("2026-11-25 12:00")) is None
    assert calendar.window_at(utc("2026-11-26 12:00")) == (
        utc("2026-11-26 05:00"),
        utc("2026-11-28 05:00"),
    )


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (BUCHAREST, "2026-11-23 10:00", ("2026-11-23 06:30", "2026-11-23 15:30")),
        (BUCHAREST, "2026-11-23 06:30", ("2026-11-23 06:30", "2026-11-23 15:30")),
        (BUCHAREST, "2026-11-23 15:30", None),  # the close is not inside
        (BUCHAREST, "2026-11-22 10:00", None),  # Sunday
        (NY_WEEKDAYS, "2026-11-25 03:00", ("2026-11-23 05:00", "2026-11-28 05:00")),
        # The second 03:10 of the night the clocks go back comes after the first 03:30.
        (NIGHTS, "2026-10-25 01:10", None),
        (NIGHTS, "2026-10-25 00:10", ("2026-10-24 21:00", "2026-10-25 00:30")),
    ],
)
def test_window_at_and_is_open(
    calendar: OpeningHours, at: str, expected: tuple[str, str] | None
) -> None:
    want = None if expected is None else (utc(expected[0]), utc(expected[1]))
    assert calendar.window_at(utc(at)) == want
    assert calendar.is_open(utc(at)) is (want is not None)


@pytest.mark.parametrize("calendar", [BUCHAREST, SUNDAY_NIGHT, NY_WEEKDAYS, NIGHTS])
@pytest.mark.parametrize("week_of", ["2026-03-26", "2026-10-22", "2027-10-28"])
def test_is_open_agrees_with_window_at_and_windows(calendar: OpeningHours, week_of: str) -> None:
    start = utc(f"{week_of} 00:00")
    end = start + timedelta(days=7)
    spans = list(calendar.windows(start, end))
    t = start
    while t < end:
        inside = any(a <= t < b for a, b in spans)
        assert calendar.is_open(t) is inside, t
        assert (calendar.window_at(t) is not None) is inside, t
        t += timedelta(minutes=10)


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (BUCHAREST, "2026-11-23 10:00", "2026-11-23 10:00"),  # open: t itself
        (BUCHAREST, "2026-11-23 16:00", "2026-11-24 06:30"),
        (BUCHAREST, "2026-11-21 10:00", "2026-11-23 06:30"),  # Saturday -> Monday
        (BUCHAREST, "2026-12-24 16:00", "2026-12-28 06:30"),  # over the holiday
        (BUCHAREST, "2026-03-28 12:00", "2026-03-30 05:30"),  # over the DST change
        (SUNDAY_NIGHT, "2026-03-25 12:00", "2026-03-28 22:00"),
    ],
)
def test_next_open(calendar: OpeningHours, at: str, expected: str) -> None:
    assert calendar.next_open(utc(at)) == utc(expected)


def test_next_open_never() -> None:
    never = OpeningHours(WeeklyHours(frozenset(), 0, 60), zone("UTC"))
    assert never.next_open(utc("2026-11-23 10:00")) is None
    assert list(never.windows(utc("2026-11-23 10:00"), utc("2026-12-23 10:00"))) == []
