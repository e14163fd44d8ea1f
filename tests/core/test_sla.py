"""SLA clocks at chosen instants, plus properties (round trip, monotonicity)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.core import sla
from pager.core.hours import OpeningHours, zone
from pager.core.model import (
    BusinessDays,
    BusinessHours,
    ClockKind,
    Duration,
    WallDuration,
    WeeklyHours,
)

WEEKDAYS = frozenset(range(5))
H = timedelta(hours=1)
M = timedelta(minutes=1)


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def utc(text: str) -> datetime:
    """``"2026-11-23 09:00"`` as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# The worked example's "desk": 14-hour openings, Friday 2026-12-25 a holiday.
DESK = OpeningHours(
    WeeklyHours(WEEKDAYS, hm("09:00"), hm("23:00")), zone("UTC"), frozenset({date(2026, 12, 25)})
)
# EMEA office hours: DST starts 2026-03-29 and ends 2026-10-25 (both Sundays, 03:00/04:00
# local, outside the openings).
BUCHAREST = OpeningHours(WeeklyHours(WEEKDAYS, hm("08:30"), hm("17:30")), zone("Europe/Bucharest"))
# A Sunday-night window that contains the spring-forward jump (5 h long that day).
SUNDAY_NIGHT = OpeningHours(
    WeeklyHours(frozenset({6}), hm("00:00"), hm("06:00")), zone("Europe/Bucharest")
)
# Whole weekdays in New York: Monday 00:00 to Saturday 00:00 is one merged window.
NY_WEEKDAYS = OpeningHours(
    WeeklyHours(WEEKDAYS, hm("00:00"), hm("24:00")), zone("America/New_York")
)
NEVER = OpeningHours(WeeklyHours(frozenset(), hm("09:00"), hm("17:00")), zone("UTC"))


def wall(delta: timedelta) -> WallDuration:
    return WallDuration(delta)


# 2026-11-20 is a Friday, 2026-11-23 a Monday.
ADD_CASES: list[tuple[str, str, Duration, ClockKind, OpeningHours, str]] = [
    ("24x7 plain", "2026-11-21 02:10", wall(30 * M), "24x7", DESK, "2026-11-21 02:40"),
    ("24x7 ignores hours", "2026-11-21 23:30", wall(2 * H), "24x7", DESK, "2026-11-22 01:30"),
    (
        "24x7 absolute over DST",
        "2026-03-28 23:30",
        wall(3 * H),
        "24x7",
        BUCHAREST,
        "2026-03-29 02:30",
    ),
    ("24x7 1d is 24h", "2026-10-24 12:00", wall(24 * H), "24x7", BUCHAREST, "2026-10-25 12:00"),
    ("inside hours", "2026-11-23 10:00", wall(3 * H), "business", DESK, "2026-11-23 13:00"),
    ("before hours", "2026-11-23 06:00", wall(3 * H), "business", DESK, "2026-11-23 12:00"),
    ("after hours", "2026-11-23 23:30", wall(3 * H), "business", DESK, "2026-11-24 12:00"),
    ("over the night", "2026-11-23 22:00", wall(3 * H), "business", DESK, "2026-11-24 11:00"),
    (
        "ends exactly at close",
        "2026-11-23 20:00",
        wall(3 * H),
        "business",
        DESK,
        "2026-11-23 23:00",
    ),
    ("starts at close", "2026-11-23 23:00", wall(H), "business", DESK, "2026-11-24 10:00"),
    ("starts at open", "2026-11-23 09:00", wall(H), "business", DESK, "2026-11-23 10:00"),
    (
        "seconds exact",
        "2026-11-23 22:59:59",
        wall(timedelta(seconds=2)),
        "business",
        DESK,
        "2026-11-24 09:00:01",
    ),
    ("over a weekend", "2026-11-20 22:00", wall(3 * H), "business", DESK, "2026-11-23 11:00"),
    ("from Saturday", "2026-11-21 12:00", wall(3 * H), "business", DESK, "2026-11-23 12:00"),
    ("over a holiday", "2026-12-24 22:00", wall(3 * H), "business", DESK, "2026-12-28 11:00"),
    ("on a holiday", "2026-12-25 10:00", wall(H), "business", DESK, "2026-12-28 10:00"),
    (
        "business hours",
        "2026-11-23 22:00",
        BusinessHours(1.5),
        "business",
        DESK,
        "2026-11-24 09:30",
    ),
    (
        "business unit wins over 24x7",
        "2026-11-20 22:00",
        BusinessHours(3),
        "24x7",
        DESK,
        "2026-11-23 11:00",
    ),
    (
        "1 business day Fri 22:00",
        "2026-11-20 22:00",
        BusinessDays(1),
        "business",
        DESK,
        "2026-11-23 22:00",
    ),
    (
        "1 business day from inside",
        "2026-11-24 10:15",
        BusinessDays(1),
        "business",
        DESK,
        "2026-11-25 10:15",
    ),
    (
        "1 business day from Saturday",
        "2026-11-21 10:00",
        BusinessDays(1),
        "business",
        DESK,
        "2026-11-23 23:00",
    ),
    (
        "1 business day before open",
        "2026-11-23 07:00",
        BusinessDays(1),
        "business",
        DESK,
        "2026-11-23 23:00",
    ),
    (
        "2 business days over Christmas",
        "2026-12-23 12:00",
        BusinessDays(2),
        "business",
        DESK,
        "2026-12-28 12:00",
    ),
    (
        "zero returns start",
        "2026-11-21 12:00",
        wall(timedelta(0)),
        "business",
        DESK,
        "2026-11-21 12:00",
    ),
    (
        "zero business days",
        "2026-11-21 12:00",
        BusinessDays(0),
        "business",
        DESK,
        "2026-11-21 12:00",
    ),
    # Bucharest: EET (+2) in winter, EEST (+3) in summer.
    (
        "spring forward weekend",
        "2026-03-27 15:00",
        wall(H),
        "business",
        BUCHAREST,
        "2026-03-30 06:00",
    ),
    ("fall back weekend", "2026-10-23 14:00", wall(H), "business", BUCHAREST, "2026-10-26 07:00"),
    (
        "business day keeps local time over DST",
        "2026-10-23 09:00",
        BusinessDays(1),
        "business",
        BUCHAREST,
        "2026-10-26 10:00",
    ),
    (
        "business day keeps local time in spring",
        "2026-03-27 09:00",
        BusinessDays(1),
        "business",
        BUCHAREST,
        "2026-03-30 08:00",
    ),
    (
        "opening shortened by DST",
        "2026-03-28 22:00",
        wall(5 * H),
        "business",
        SUNDAY_NIGHT,
        "2026-03-29 03:00",
    ),
    (
        "past the shortened opening",
        "2026-03-28 22:00",
        wall(6 * H),
        "business",
        SUNDAY_NIGHT,
        "2026-04-04 22:00",
    ),
    (
        "merged weekday window",
        "2026-11-21 04:00",
        wall(2 * H),
        "business",
        NY_WEEKDAYS,
        "2026-11-23 06:00",
    ),
]


@pytest.mark.parametrize(
    ("start", "duration", "clock", "calendar", "expected"),
    [case[1:] for case in ADD_CASES],
    ids=[case[0] for case in ADD_CASES],
)
def test_add(
    start: str, duration: Duration, clock: ClockKind, calendar: OpeningHours, expected: str
) -> None:
    assert sla.add(utc(start), duration, clock, calendar) == utc(expected)


def test_add_result_is_utc_and_exact() -> None:
    result = sla.add(utc("2026-03-27 15:00:07"), wall(H), "business", BUCHAREST)
    assert result == utc("2026-03-30 06:00:07")
    assert result.utcoffset() == timedelta(0)


def test_add_accepts_non_utc_aware_start() -> None:
    start = datetime.fromisoformat("2026-11-20T23:00:00+01:00")  # 22:00Z
    assert sla.add(start, BusinessDays(1), "business", DESK) == utc("2026-11-23 22:00")
    same = sla.add(start, wall(timedelta(0)), "24x7", DESK)
    assert same == start and same.tzinfo is UTC


def test_never_open_calendar_raises() -> None:
    with pytest.raises(ValueError, match="never opens"):
        sla.add(utc("2026-11-23 10:00"), wall(H), "business", NEVER)
    # Nothing to count: the start is the answer even on such a calendar.
    assert sla.add(utc("2026-11-23 10:00"), wall(timedelta(0)), "business", NEVER) == utc(
        "2026-11-23 10:00"
    )
    assert sla.elapsed(utc("2026-11-23"), utc("2026-11-30"), "business", NEVER) == timedelta(0)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="naive"):
        sla.add(datetime(2026, 11, 23, 10), wall(H), "24x7", DESK)
    with pytest.raises(ValueError, match="negative"):
        sla.add(utc("2026-11-23 10:00"), wall(-H), "business", DESK)
    with pytest.raises(ValueError, match="naive"):
        sla.elapsed(utc("2026-11-23 10:00"), datetime(2026, 11, 24), "business", DESK)


def test_long_business_duration_on_sparse_calendar() -> None:
    # 6 open hours a week (5 on the spring-forward Sunday): 100 weeks' worth needs
    # more than one horizon of windows.
    start = utc("2026-01-03 00:00")
    amount = 100 * 6 * H - H  # one DST-shortened Sunday per year on the way
    end = sla.add(start, wall(amount), "business", SUNDAY_NIGHT)
    assert sla.elapsed(start, end, "business", SUNDAY_NIGHT) == amount
    assert end > start + timedelta(days=600)


ELAPSED_CASES: list[tuple[str, str, str, ClockKind, OpeningHours, timedelta]] = [
    ("24x7", "2026-11-20 22:00", "2026-11-23 11:00", "24x7", DESK, 61 * H),
    ("over a weekend", "2026-11-20 22:00", "2026-11-23 11:00", "business", DESK, 3 * H),
    ("closed all along", "2026-11-21 01:00", "2026-11-22 23:00", "business", DESK, timedelta(0)),
    ("a full week", "2026-11-23 00:00", "2026-11-30 00:00", "business", DESK, 70 * H),
    ("holiday week", "2026-12-21 00:00", "2026-12-28 00:00", "business", DESK, 56 * H),
    ("end before start", "2026-11-23 12:00", "2026-11-23 10:00", "business", DESK, timedelta(0)),
    ("24x7 end before start", "2026-11-23 12:00", "2026-11-23 10:00", "24x7", DESK, timedelta(0)),
    (
        "DST-shortened opening",
        "2026-03-28 00:00",
        "2026-03-30 00:00",
        "business",
        SUNDAY_NIGHT,
        5 * H,
    ),
    (
        "DST-lengthened opening",
        "2026-10-24 00:00",
        "2026-10-26 00:00",
        "business",
        SUNDAY_NIGHT,
        7 * H,
    ),
]


@pytest.mark.parametrize(
    ("start", "end", "clock", "calendar", "expected"),
    [case[1:] for case in ELAPSED_CASES],
    ids=[case[0] for case in ELAPSED_CASES],
)
def test_elapsed(
    start: str, end: str, clock: ClockKind, calendar: OpeningHours, expected: timedelta
) -> None:
    assert sla.elapsed(utc(start), utc(end), clock, calendar) == expected


def test_remaining_is_never_negative() -> None:
    deadline = utc("2026-11-23 12:00")
    assert sla.remaining(utc("2026-11-23 13:00"), deadline, "business", DESK) == timedelta(0)
    assert sla.remaining(utc("2026-11-23 13:00"), deadline, "24x7", DESK) == timedelta(0)
    assert sla.remaining(utc("2026-11-23 11:15"), deadline, "business", DESK) == 45 * M


PAUSE_CASES: list[tuple[str, str, str, str, ClockKind, timedelta, str]] = [
    # (id, deadline, paused at, resumed at, clock, left at pause, new deadline)
    (
        "24x7 pause",
        "2026-11-21 03:45",
        "2026-11-21 03:15",
        "2026-11-21 07:00",
        "24x7",
        30 * M,
        "2026-11-21 07:30",
    ),
    (
        "business pause overnight",
        "2026-11-23 20:00",
        "2026-11-23 18:00",
        "2026-11-24 10:00",
        "business",
        2 * H,
        "2026-11-24 12:00",
    ),
    (
        "pause spans a close",
        "2026-11-24 09:45",
        "2026-11-23 22:30",
        "2026-11-25 08:00",
        "business",
        75 * M,
        "2026-11-25 10:15",
    ),
    (
        "paused while closed",
        "2026-11-23 10:00",
        "2026-11-21 12:00",
        "2026-11-23 12:00",
        "business",
        H,
        "2026-11-23 13:00",
    ),
    (
        "resumed on a holiday",
        "2026-12-24 23:00",
        "2026-12-24 21:00",
        "2026-12-25 10:00",
        "business",
        2 * H,
        "2026-12-28 11:00",
    ),
    (
        "already breached",
        "2026-11-23 10:00",
        "2026-11-23 11:00",
        "2026-11-23 15:00",
        "business",
        timedelta(0),
        "2026-11-23 15:00",
    ),
]


@pytest.mark.parametrize(
    ("deadline", "paused", "resumed", "clock", "left", "expected"),
    [case[1:] for case in PAUSE_CASES],
    ids=[case[0] for case in PAUSE_CASES],
)
def test_pause_and_resume(
    deadline: str,
    paused: str,
    resumed: str,
    clock: ClockKind,
    left: timedelta,
    expected: str,
) -> None:
    kept = sla.remaining(utc(paused), utc(deadline), clock, DESK)
    assert kept == left
    assert sla.resume(utc(resumed), kept, clock, DESK) == utc(expected)


def test_resume_at_pause_gives_back_the_deadline() -> None:
    start = utc("2026-11-20 21:00")
    deadline = sla.add(start, BusinessDays(1), "business", DESK)
    for minutes in range(0, 4000, 97):
        paused = start + minutes * M
        left = sla.remaining(paused, deadline, "business", DESK)
        if left:
            assert sla.resume(paused, left, "business", DESK) == deadline


def test_resume_treats_negative_as_zero() -> None:
    now = utc("2026-11-21 12:00")
    assert sla.resume(now, -H, "business", DESK) == now


def test_open_time() -> None:
    assert sla.open_time(BusinessDays(2), DESK) == 28 * H
    assert sla.open_time(BusinessDays(1), BUCHAREST) == 9 * H
    assert sla.open_time(BusinessHours(0.25), DESK) == 15 * M
    assert sla.open_time(wall(90 * M), DESK) == 90 * M


# --- properties ----------------------------------------------------------------------

CALENDARS = st.sampled_from([DESK, BUCHAREST, SUNDAY_NIGHT, NY_WEEKDAYS])
STARTS = st.integers(0, 2 * 366 * 86400).map(
    lambda s: utc("2026-01-01 00:00") + s * timedelta(seconds=1)
)
DURATIONS: st.SearchStrategy[Duration] = st.one_of(
    st.integers(0, 30 * 86400).map(lambda s: WallDuration(timedelta(seconds=s))),
    st.integers(0, 200 * 4).map(lambda q: BusinessHours(q / 4)),
    st.integers(0, 10).map(BusinessDays),
)


@settings(deadline=None)
@given(start=STARTS, duration=DURATIONS, calendar=CALENDARS)
def test_add_then_elapsed_round_trips(
    start: datetime, duration: Duration, calendar: OpeningHours
) -> None:
    end = sla.add(start, duration, "business", calendar)
    assert end >= start
    assert sla.elapsed(start, end, "business", calendar) == sla.open_time(duration, calendar)
    if end > start:
        # The deadline is used-up open time: the second before it is open.
        assert calendar.is_open(end - timedelta(seconds=1))


@settings(deadline=None)
@given(
    start=STARTS,
    a=st.integers(0, 20 * 86400),
    b=st.integers(0, 20 * 86400),
    calendar=CALENDARS,
    clock=st.sampled_from(["business", "24x7"]),
)
def test_add_is_monotone(
    start: datetime, a: int, b: int, calendar: OpeningHours, clock: ClockKind
) -> None:
    short, long = sorted((a, b))
    first = sla.add(start, wall(timedelta(seconds=short)), clock, calendar)
    second = sla.add(start, wall(timedelta(seconds=long)), clock, calendar)
    assert first <= second


@settings(deadline=None)
@given(
    start=STARTS,
    duration=DURATIONS,
    pause=st.integers(0, 10 * 86400),
    gap=st.integers(0, 10 * 86400),
    calendar=CALENDARS,
)
def test_pause_keeps_total_clock_time(
    start: datetime, duration: Duration, pause: int, gap: int, calendar: OpeningHours
) -> None:
    deadline = sla.add(start, duration, "business", calendar)
    paused = start + timedelta(seconds=pause)
    resumed = paused + timedelta(seconds=gap)
    left = sla.remaining(paused, deadline, "business", calendar)
    new_deadline = sla.resume(resumed, left, "business", calendar)
    used = sla.elapsed(start, min(paused, deadline), "business", calendar)
    assert used + left == sla.open_time(duration, calendar)
    assert sla.elapsed(resumed, new_deadline, "business", calendar) == left


def test_a_long_run_of_holidays_is_skipped() -> None:
    first = date(2027, 1, 1)
    closed = frozenset(first + timedelta(days=n) for n in range(550))  # to 2028-07-03
    shut = OpeningHours(DESK.hours, zone("UTC"), closed)
    start = utc("2026-12-31 22:00")
    assert sla.add(start, wall(3 * H), "business", shut) == utc("2028-07-04 11:00")
    assert sla.elapsed(start, utc("2028-07-04 11:00"), "business", shut) == 3 * H
