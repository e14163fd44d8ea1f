"""The config's small languages: durations, rates, times, weekdays, dates, instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pager.config import values
from pager.config.load import parse_duration
from pager.core.model import BusinessDays, BusinessHours, Rate, WallDuration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", WallDuration(timedelta(seconds=30))),
        ("15m", WallDuration(timedelta(minutes=15))),
        ("2h", WallDuration(timedelta(hours=2))),
        ("1d", WallDuration(timedelta(hours=24))),
        ("1w", WallDuration(timedelta(days=7))),
        ("0m", WallDuration(timedelta(0))),
        ("0", WallDuration(timedelta(0))),
        ("1h30m", WallDuration(timedelta(minutes=90))),
        ("1d2h3m4s", WallDuration(timedelta(days=1, hours=2, minutes=3, seconds=4))),
        ("1h 30m", WallDuration(timedelta(minutes=90))),
        ("1.5h", WallDuration(timedelta(minutes=90))),
        ("90 minutes", WallDuration(timedelta(minutes=90))),
        ("2 hours", WallDuration(timedelta(hours=2))),
        (" 15M ", WallDuration(timedelta(minutes=15))),
        ("4 business hours", BusinessHours(4.0)),
        ("1 business hour", BusinessHours(1.0)),
        ("1.5 business hours", BusinessHours(1.5)),
        ("1 business day", BusinessDays(1)),
        ("3 business days", BusinessDays(3)),
        ("2 Business Days", BusinessDays(2)),
    ],
)
def test_parse_duration_accepts(text: str, expected: object) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "",
            "invalid duration '': e.g. 30s, 15m, 2h, 1d, 1h30m, 4 business hours or 1 business day",
        ),
        (
            "15",
            "invalid duration '15': e.g. 30s, 15m, 2h, 1d, 1h30m, 4 business hours or 1 business "
            "day",
        ),
        (
            "-5m",
            "invalid duration '-5m': e.g. 30s, 15m, 2h, 1d, 1h30m, 4 business hours or 1 business "
            "day",
        ),
        ("5 parsecs", "invalid duration '5 parsecs': unknown unit 'parsecs'"),
        ("30m1h", "invalid duration '30m1h': write units from largest to smallest, e.g. 1h30m"),
        ("1h1h", "invalid duration '1h1h': write units from largest to smallest, e.g. 1h30m"),
        (
            "1.5 business days",
            "invalid duration '1.5 business days': business days must be a whole number",
        ),
        (
            "business day",
            "invalid duration 'business day': e.g. 30s, 15m, 2h, 1d, 1h30m, 4 business hours or 1 "
            "business day",
        ),
        ("1 business week", "invalid duration '1 business week': unknown unit 'business'"),
        (
            "2h and",
            "invalid duration '2h and': e.g. 30s, 15m, 2h, 1d, 1h30m, 4 business hours or 1 "
            "business day",
        ),
    ],
)
def test_parse_duration_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


def test_parse_rate() -> None:
    assert values.parse_rate("10/15m") == Rate(10, timedelta(minutes=15))
    assert values.parse_rate("1/1h30m") == Rate(1, timedelta(minutes=90))
    for bad, message in [
        ("10", "invalid rate '10': expected COUNT/DURATION, e.g. 10/15m"),
        ("x/15m", "invalid rate 'x/15m': expected COUNT/DURATION, e.g. 10/15m"),
        ("10/15", "invalid rate '10/15': expected COUNT/DURATION, e.g. 10/15m"),
        ("0/15m", "invalid rate '0/15m': the count must be at least 1"),
        ("5/0m", "invalid rate '5/0m': the period must be a wall duration like 15m"),
        (
            "5/1 business hour",
            "invalid rate '5/1 business hour': the period must be a wall duration like 15m",
        ),
    ]:
        with pytest.raises(ValueError) as caught:
            values.parse_rate(bad)
        assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "end", "minutes"),
    [
        ("00:00", False, 0),
        ("08:30", False, 510),
        ("8:30", False, 510),
        ("23:59", False, 1439),
        ("24:00", True, 1440),
    ],
)
def test_parse_time_of_day(text: str, end: bool, minutes: int) -> None:
    assert values.parse_time_of_day(text, allow_end_of_day=end) == minutes


@pytest.mark.parametrize(
    ("text", "end", "message"),
    [
        ("24:00", False, "invalid time '24:00': 24:00 is only allowed as 'to'"),
        ("24:30", True, "invalid time '24:30': expected HH:MM from 00:00 to 24:00"),
        ("25:00", False, "invalid time '25:00': expected HH:MM from 00:00 to 23:59"),
        ("08:60", False, "invalid time '08:60': expected HH:MM from 00:00 to 23:59"),
        ("8am", False, "invalid time '8am': expected HH:MM from 00:00 to 23:59"),
    ],
)
def test_parse_time_of_day_rejects(text: str, end: bool, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        values.parse_time_of_day(text, allow_end_of_day=end)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon", {0}),
        ("Sunday", {6}),
        ("SAT", {5}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("monday-wednesday", {0, 1, 2}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sun-sun", {6}),
        ("mon, wed-thu", {0, 2, 3}),
    ],
)
def test_parse_days(text: str, days: set[int]) -> None:
    assert values.parse_days(text) == frozenset(days)


def test_parse_weekday_rejects() -> None:
    with pytest.raises(ValueError) as caught:
        values.parse_days("mon-fry")
    assert str(caught.value) == "unknown weekday 'fry': use mon..sun or full names"


def test_parse_dates_and_ranges() -> None:
    assert values.parse_dates("2026-12-25") == [date(2026, 12, 25)]
    assert values.parse_dates("2026-12-30..2027-01-01") == [
        date(2026, 12, 30),
        date(2026, 12, 31),
        date(2027, 1, 1),
    ]
    for bad, message in [
        ("2026-02-30", "invalid date '2026-02-30': day is out of range for month"),
        ("25.12.2026", "invalid date '25.12.2026': expected YYYY-MM-DD"),
        (
            "2026-12-26..2026-12-25",
            "invalid date range '2026-12-26..2026-12-25': the end is before the start",
        ),
        (
            "2026-01-01..2027-06-01",
            "invalid date range '2026-01-01..2027-06-01': longer than a year",
        ),
    ]:
        with pytest.raises(ValueError) as caught:
            values.parse_dates(bad)
        assert str(caught.value) == message


def test_parse_instant() -> None:
    expected = datetime(2026, 12, 23, 22, 0, tzinfo=UTC)
    assert values.parse_instant("2026-12-24T00:00:00+02:00") == expected
    assert values.parse_instant("2026-12-23T22:00:00Z") == expected
    assert values.parse_instant("2026-12-23 22:00Z") == expected
    assert values.parse_instant("2026-12-23T22:00:00Z").tzinfo is UTC
    with pytest.raises(ValueError) as caught:
        values.parse_instant("2026-12-24T00:00:00")
    assert str(caught.value) == (
        "timestamp '2026-12-24T00:00:00' needs an offset (Z or +HH:MM), "
        "e.g. 2026-12-24T00:00:00+02:00"
    )
    with pytest.raises(ValueError) as caught:
        values.parse_instant("Christmas")
    assert str(caught.value) == (
        "invalid timestamp 'Christmas': expected RFC 3339, e.g. 2026-12-24T00:00:00+02:00"
    )


def test_parse_phone_and_email() -> None:
    assert values.parse_phone("+40700000001") == "+40700000001"
    for bad in ("40700000001", "+0700000001", "+12345", "+1 555 000 0001"):
        with pytest.raises(ValueError, match=r"is not in E\.164 form"):
            values.parse_phone(bad)
    assert values.parse_email("ana@example.com") == "ana@example.com"
    for bad in ("ana", "ana@", "ana@example", "a b@example.com"):
        with pytest.raises(ValueError, match=r"is not an address like ana@example\.com"):
            values.parse_email(bad)
