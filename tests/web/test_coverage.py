"""pager.core.coverage at chosen instants: a gap, an overlap, an override, a holiday, DST.

Every expected interval below is worked out by hand from the rotation written next to it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pager.core.coverage import coverage, parse_week, week_label, week_of
from pager.core.model import Handoff, Override, Region, Rotation, WeeklyHours
from pager.core.rotation import RotationResolver

WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def region(
    name: str,
    tz: str,
    members: tuple[str, ...],
    start: int,
    end: int,
    days: frozenset[int] = WEEKDAYS,
    holidays: frozenset[date] = frozenset(),
) -> Region:
    # Weekly handoff on Mondays at local 00:00, counted from Monday 2026-11-02.
    return Region(
        name,
        tz,
        members,
        Handoff("week", 0, date(2026, 11, 2), 0),
        WeeklyHours(days, start, end),
        holidays,
    )


def test_iso_weeks() -> None:
    assert parse_week("2026-W49") == t("2026-11-30T00:00")
    assert week_label(t("2026-11-30T00:00")) == "2026-W49"
    assert week_of(t("2026-12-06T23:59")) == t("2026-11-30T00:00")  # Sunday: same week
    with pytest.raises(ValueError):
        parse_week("2026-49")
    with pytest.raises(ValueError):
        parse_week("2026-W54")


def test_gap_and_overlap() -> None:
    # east: 08:00-16:00 UTC weekdays; west: 14:00-22:00 UTC weekdays. So each weekday
    # 14:00-16:00 is an overlap and 22:00-08:00 (and the weekend) a gap.
    rot = Rotation(
        "r",
        (
            region("east", "UTC", ("a", "b"), 8 * 60, 16 * 60),
            region("west", "UTC", ("c",), 14 * 60, 22 * 60),
        ),
    )
    cov = coverage(rot, RotationResolver({"r": rot}), t("2026-11-30T00:00"))
    assert [lane.region for lane in cov.lanes] == ["east", "west"]
    east = cov.lanes[0].segments
    # Week of 2026-11-30 is handoff k=4 since 2026-11-02: members[4 % 2] = a.
    assert [(s.start, s.end, s.person) for s in east[:2]] == [
        (t("2026-11-30T08:00"), t("2026-11-30T16:00"), "a"),
        (t("2026-12-01T08:00"), t("2026-12-01T16:00"), "a"),
    ]
    assert len(east) == 5 and len(cov.lanes[1].segments) == 5
    assert cov.overlaps[0] == (t("2026-11-30T14:00"), t("2026-11-30T16:00"))
    assert len(cov.overlaps) == 5
    assert cov.gaps[0] == (t("2026-11-30T00:00"), t("2026-11-30T08:00"))
    assert cov.gaps[1] == (t("2026-11-30T22:00"), t("2026-12-01T08:00"))
    assert cov.gaps[-1] == (t("2026-12-04T22:00"), t("2026-12-07T00:00"))  # the weekend
    assert len(cov.gaps) == 6
    # The incoming shift takes pages in the overlap: west's window began later (14:00).
    pages = [(p.start, p.end, p.person) for p in cov.pages if p.person is not None][:2]
    assert pages == [
        (t("2026-11-30T08:00"), t("2026-11-30T14:00"), "a"),
        (t("2026-11-30T14:00"), t("2026-11-30T22:00"), "c"),
    ]
    assert cov.after_hours == ()


def test_after_hours_holiday_and_override() -> None:
    # day: 09:00-17:00 UTC weekdays, holiday Wednesday 2026-12-02; nights: always "n".
    # Override: "o" replaces "a" on Tuesday 12:00-13:00.
    day = region("day", "UTC", ("a",), 9 * 60, 17 * 60, holidays=frozenset({date(2026, 12, 2)}))
    override = Override("o", t("2026-12-01T12:00"), t("2026-12-01T13:00"), replaces="a")
    rot = Rotation("r", (day,), after_hours="nights", overrides=(override,))
    nights = Rotation(
        "nights",
        (Region("all", "UTC", ("n",), Handoff("week", 0, date(2026, 11, 2), 0)),),
    )
    rotations = {"r": rot, "nights": nights}
    cov = coverage(rot, RotationResolver(rotations), t("2026-11-30T00:00"))
    assert cov.gaps == ()
    assert cov.after_hours[0] == (t("2026-11-30T00:00"), t("2026-11-30T09:00"))
    # Wednesday is a holiday: after hours from Tuesday 17:00 to Thursday 09:00.
    assert (t("2026-12-01T17:00"), t("2026-12-03T09:00")) in cov.after_hours
    (holiday,) = cov.holidays
    assert (holiday.region, holiday.day) == ("day", date(2026, 12, 2))
    assert (holiday.start, holiday.end) == (t("2026-12-02T00:00"), t("2026-12-03T00:00"))
    tuesday = [s for s in cov.lanes[0].segments if s.start.day == 1]
    assert [(s.start, s.end, s.person, s.source) for s in tuesday] == [
        (t("2026-12-01T09:00"), t("2026-12-01T12:00"), "a", "region"),
        (t("2026-12-01T12:00"), t("2026-12-01T13:00"), "o", "override"),
        (t("2026-12-01T13:00"), t("2026-12-01T17:00"), "a", "region"),
    ]
    assert cov.overrides == (override,)
    assert set(cov.people()) == {"a", "o", "n"}


def test_dst_week_moves_the_window_in_utc() -> None:
    # Bucharest 09:00-17:00 every day. EU summer time ends Sunday 2026-10-25 at 04:00
    # local (01:00 UTC): before it 09:00 EEST = 06:00 UTC, after it 09:00 EET = 07:00 UTC.
    rot = Rotation("r", (region("emea", "Europe/Bucharest", ("a",), 9 * 60, 17 * 60, EVERY_DAY),))
    cov = coverage(rot, RotationResolver({"r": rot}), parse_week("2026-W43"))
    assert cov.start == t("2026-10-19T00:00")
    spans = [(s.start, s.end) for s in cov.lanes[0].segments]
    assert spans[0] == (t("2026-10-19T06:00"), t("2026-10-19T14:00"))
    assert spans[5] == (t("2026-10-24T06:00"), t("2026-10-24T14:00"))  # Saturday, summer
    assert spans[6] == (t("2026-10-25T07:00"), t("2026-10-25T15:00"))  # Sunday, winter
    assert cov.gaps[0] == (t("2026-10-19T00:00"), t("2026-10-19T06:00"))
    assert cov.gaps[-1] == (t("2026-10-25T15:00"), t("2026-10-26T00:00"))
