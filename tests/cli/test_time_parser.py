"""The one time parser of the CLI (`--at`, `--from`, `--to`, `--until`): a table of cases.

``NOW`` is Wednesday 2026-11-25 10:15:30 UTC (12:15:30 in Bucharest, 17:15:30 in Ho Chi
Minh City, 05:15:30 in New York). Each expected value was worked out by hand from that.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pager.cli.common import parse_when
from pager.cli.main import main

NOW = datetime(2026, 11, 25, 10, 15, 30, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


CASES: list[tuple[str, str, datetime]] = [
    # absolute, with an offset: the zone does not matter
    ("2026-11-23T07:00:00Z", "UTC", utc(2026, 11, 23, 7)),
    ("2026-11-23T09:00:00+02:00", "America/New_York", utc(2026, 11, 23, 7)),
    ("2026-11-23t07:00:00z", "UTC", utc(2026, 11, 23, 7)),
    # absolute, without an offset: wall time in --tz
    ("2026-11-23 09:00", "UTC", utc(2026, 11, 23, 9)),
    ("2026-11-23 09:00", "Europe/Bucharest", utc(2026, 11, 23, 7)),  # EET = UTC+2
    ("2026-07-01 09:00", "Europe/Bucharest", utc(2026, 7, 1, 6)),  # EEST = UTC+3
    ("2026-11-23", "UTC", utc(2026, 11, 23)),
    ("2026-11-23 9am", "Europe/Bucharest", utc(2026, 11, 23, 7)),
    ("2026-11-23 9:30", "UTC", utc(2026, 11, 23, 9, 30)),
    ("20261123T0700Z", "Europe/Bucharest", utc(2026, 11, 23, 7)),
    ("2026-11-23", "Asia/Ho_Chi_Minh", utc(2026, 11, 22, 17)),  # midnight at UTC+7
    ("2026-W48-1", "UTC", utc(2026, 11, 23)),  # ISO week date: Monday of week 48
    # relative to NOW
    ("now", "UTC", utc(2026, 11, 25, 10, 15, 30)),
    ("NOW", "Europe/Bucharest", utc(2026, 11, 25, 10, 15, 30)),
    ("today", "UTC", utc(2026, 11, 25)),
    ("today", "Asia/Ho_Chi_Minh", utc(2026, 11, 24, 17)),
    ("tomorrow 9:00", "UTC", utc(2026, 11, 26, 9)),  # the README's example
    ("tomorrow 9:00", "Europe/Bucharest", utc(2026, 11, 26, 7)),
    ("tomorrow 09:00:30", "UTC", utc(2026, 11, 26, 9, 0, 30)),
    ("tomorrow 9am", "UTC", utc(2026, 11, 26, 9)),
    ("tomorrow 12am", "UTC", utc(2026, 11, 26, 0)),
    ("tomorrow 5pm", "UTC", utc(2026, 11, 26, 17)),
    ("yesterday 17:30", "UTC", utc(2026, 11, 24, 17, 30)),
    ("tomorrow", "UTC", utc(2026, 11, 26)),
    ("9:00", "UTC", utc(2026, 11, 25, 9)),  # today, even though it is past
    ("+2h", "UTC", utc(2026, 11, 25, 12, 15, 30)),
    ("-30m", "UTC", utc(2026, 11, 25, 9, 45, 30)),
    ("in 30m", "UTC", utc(2026, 11, 25, 10, 45, 30)),
    ("in 1d12h", "UTC", utc(2026, 11, 26, 22, 15, 30)),
    ("in 1d 12h", "UTC", utc(2026, 11, 26, 22, 15, 30)),
    ("2h ago", "UTC", utc(2026, 11, 25, 8, 15, 30)),
    ("+1w", "UTC", utc(2026, 12, 2, 10, 15, 30)),
    # weekdays: the next one; today only while the time is still ahead
    ("monday 08:00", "UTC", utc(2026, 11, 30, 8)),
    ("mon 08:00", "Europe/Bucharest", utc(2026, 11, 30, 6)),
    ("next monday 08:00", "UTC", utc(2026, 11, 30, 8)),
    ("wednesday 11:00", "UTC", utc(2026, 11, 25, 11)),  # today, still ahead
    ("wednesday 10:00", "UTC", utc(2026, 12, 2, 10)),  # today, already past: next week
    ("friday", "UTC", utc(2026, 11, 27)),
    ("wednesday", "UTC", utc(2026, 11, 25)),  # today's date
]


@pytest.mark.parametrize(("text", "tz", "expected"), CASES, ids=[f"{c[0]}@{c[1]}" for c in CASES])
def test_parse_when(text: str, tz: str, expected: datetime) -> None:
    parsed = parse_when(text, now=NOW, tz=tz)
    assert parsed == expected
    assert parsed.tzinfo is UTC
    assert type(parsed) is datetime  # pendulum's subclass stays out of the core


def test_wall_time_across_a_dst_change() -> None:
    # Saturday 2026-10-31 in New York (EDT, UTC-4); Sunday the clocks go back to EST.
    saturday = utc(2026, 10, 31, 16)
    assert parse_when("tomorrow 9:00", now=saturday, tz="America/New_York") == utc(2026, 11, 1, 14)
    # A span is elapsed time: +1d is 24 hours, whatever the wall clock does.
    assert parse_when("+1d", now=saturday, tz="America/New_York") == utc(2026, 11, 1, 16)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("someday", "not a time"),
        ("9", "not a time"),  # not the 9th of the month, as a lenient parser reads it
        ("Nov 23 2026", "not a time"),  # ISO 8601 only: no guessing at day/month order
        ("2026-11-23 25:00", "not a time of day"),
        ("tomorrow 25:00", "not a time of day"),
        ("tomorrow noonish", "not a time of day"),
        ("13pm", "not a time"),
        ("+2 fortnights", "not a span"),
        ("in soon", "not a span"),
        ("next week", "not a weekday"),
    ],
)
def test_parse_when_rejects(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_when(text, now=NOW)


@pytest.mark.parametrize("zone", ["EST", "Etc/GMT+5", "Mars/Olympus"])
def test_parse_when_refuses_bad_zones(zone: str) -> None:
    with pytest.raises(ValueError, match="--tz"):
        parse_when("now", now=NOW, tz=zone)


def test_until_and_at_read_times_the_same_way(capsys: pytest.CaptureFixture[str]) -> None:
    """`--at` and `--until` share the parser: what one accepts, the other does too."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    events = str(repo / "examples" / "sev1-unacked.jsonl")
    assert main(["oncall", "-c", str(repo), "--at", "2026-11-25 09:00", "--json"]) == 0
    code = main(["simulate", "-c", str(repo), events, "--until", "2026-11-25 09:00", "--json"])
    assert code == 0
    assert main(["simulate", "-c", str(repo), events, "--until", "tomorrow 9:00"]) == 0
    capsys.readouterr()
