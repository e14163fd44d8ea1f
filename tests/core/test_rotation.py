"""Who is on call at chosen instants: follow-the-sun, DST, overlaps, overrides, handoffs.

The follow-the-sun fixture (the SPEC's example, with dates):
  apj   Asia/Ho_Chi_Minh (UTC+7, no DST)  Mon-Fri 08:00-17:00 = 01:00-10:00Z
  emea  Europe/Bucharest                   Mon-Fri 08:30-17:30 = 06:30-15:30Z in winter
  amer  America/New_York                   Mon-Fri 08:00-18:00 = 13:00-23:00Z in winter
Handoffs every Monday at the start of the shift. 2026-11-23 is a Monday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from pager.core.model import Handoff, Override, Region, Rotation, WeeklyHours
from pager.core.rotation import OnCall, RotationResolver, Shift

WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def weekly(day: int, at: str, start: date) -> Handoff:
    return Handoff("week", hm(at), start, day)


def daily(at: str, start: date) -> Handoff:
    return Handoff("day", hm(at), start)


def region(
    name: str,
    tz: str,
    members: tuple[str, ...],
    handoff: Handoff,
    hours: tuple[frozenset[int], str, str] | None = None,
    holidays: tuple[date, ...] = (),
) -> Region:
    weekly_hours = None if hours is None else WeeklyHours(hours[0], hm(hours[1]), hm(hours[2]))
    return Region(name, tz, members, handoff, weekly_hours, frozenset(holidays))


APJ = region(
    "apj",
    "Asia/Ho_Chi_Minh",
    ("dung", "linh", "minh"),
    weekly(0, "08:00", date(2026, 11, 2)),
    (WEEKDAYS, "08:00", "17:00"),
    (date(2026, 12, 25), date(2027, 1, 1)),
)
EMEA = region(
    "emea",
    "Europe/Bucharest",
    ("razvan", "ana"),
    weekly(0, "08:30", date(2026, 11, 9)),
    (WEEKDAYS, "08:30", "17:30"),
)
AMER = region(
    "amer",
    "America/New_York",
    ("john", "maria"),
    weekly(0, "08:00", date(2026, 11, 2)),
    (WEEKDAYS, "08:00", "18:00"),
)
FTS = Rotation(
    "support-engineers",
    (APJ, EMEA, AMER),
    after_hours="weekend-oncall",
    overrides=(
        Override(
            "ana",
            datetime(2026, 12, 24, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 12, 28, tzinfo=timezone(timedelta(hours=2))),
            replaces="razvan",
        ),
        Override("zoe", utc("2026-12-31 20:00"), utc("2027-01-01 08:00")),
    ),
)
WEEKEND = Rotation(
    "weekend-oncall",
    (region("global", "UTC", ("wendy", "walt"), weekly(4, "15:00", date(2026, 11, 6))),),
)
SYDNEY = Rotation(
    "sydney",
    (
        region(
            "anz",
            "Australia/Sydney",
            ("olivia", "jack"),
            weekly(6, "02:30", date(2026, 9, 6)),  # Sundays 02:30: skipped on 2026-10-04
            (WEEKDAYS, "09:00", "17:00"),
        ),
    ),
)

RESOLVER = RotationResolver({r.name: r for r in (FTS, WEEKEND, SYDNEY)})


def answer(person: str | None, region: str | None, source: str) -> OnCall:
    return OnCall(person, region, source)  # type: ignore[arg-type]


# --- follow the sun ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Monday 2026-11-23, winter everywhere.
        ("2026-11-23 00:30", ("wendy", None, "after_hours")),  # nobody at a desk yet
        ("2026-11-23 01:00", ("dung", "apj", "region")),  # APJ opens; its handoff too
        ("2026-11-23 06:29", ("dung", "apj", "region")),
        ("2026-11-23 06:30", ("razvan", "emea", "region")),  # incoming EMEA shift wins
        ("2026-11-23 07:00", ("razvan", "emea", "region")),
        ("2026-11-23 12:59", ("razvan", "emea", "region")),
        ("2026-11-23 13:00", ("maria", "amer", "region")),  # AMER began later than EMEA
        ("2026-11-23 15:30", ("maria", "amer", "region")),
        ("2026-11-23 22:59", ("maria", "amer", "region")),
        ("2026-11-23 23:00", ("wendy", None, "after_hours")),
        ("2026-11-24 01:00", ("dung", "apj", "region")),
        # Friday afternoon UTC: the weekend rotation hands over at 15:00.
        ("2026-11-27 23:30", ("walt", None, "after_hours")),
        ("2026-11-28 12:00", ("walt", None, "after_hours")),
        # Next Monday: every region hands over to its next member.
        ("2026-11-30 02:00", ("linh", "apj", "region")),
        ("2026-11-30 07:00", ("ana", "emea", "region")),
        ("2026-11-30 14:00", ("john", "amer", "region")),
        # APJ's holiday (Friday 2026-12-25): after hours until EMEA opens.
        ("2026-12-25 02:00", ("wendy", None, "after_hours")),
    ],
)
def test_follow_the_sun(at: str, expected: tuple[str | None, str | None, str]) -> None:
    assert RESOLVER.oncall("support-engineers", utc(at)) == answer(*expected)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # US springs forward on 2027-03-14: AMER opens at 12:00Z from Monday the 15th,
        # while Bucharest still closes at 15:30Z.
        ("2027-03-12 12:30", ("ana", "emea", "region")),
        ("2027-03-15 11:59", ("razvan", "emea", "region")),
        ("2027-03-15 12:00", ("maria", "amer", "region")),
        # Europe follows on 2027-03-28: EMEA opens at 05:30Z from Monday the 29th.
        ("2027-03-26 05:45", ("minh", "apj", "region")),
        ("2027-03-29 05:30", ("razvan", "emea", "region")),
        ("2027-03-29 14:29", ("maria", "amer", "region")),
        ("2027-03-29 22:30", ("wendy", None, "after_hours")),  # AMER closes at 22:00Z
        # 2026 autumn: Bucharest back on EET from Oct 25, New York on EST from Nov 1.
        # (before the handoffs' start dates: k counts backwards, -3 for EMEA, -1 for APJ)
        ("2026-10-23 05:45", ("ana", "emea", "region")),
        ("2026-10-26 05:45", ("minh", "apj", "region")),
        ("2026-10-27 12:15", ("maria", "amer", "region")),
        ("2026-11-02 12:15", ("ana", "emea", "region")),
        # 2027 autumn: Europe on Oct 31, North America on Nov 7.
        ("2027-11-01 06:15", ("linh", "apj", "region")),
        ("2027-11-01 12:00", ("john", "amer", "region")),
        ("2027-11-08 12:00", ("razvan", "emea", "region")),
        ("2027-11-08 13:00", ("maria", "amer", "region")),
    ],
)
def test_follow_the_sun_across_dst(at: str, expected: tuple[str | None, str | None, str]) -> None:
    assert RESOLVER.oncall("support-engineers", utc(at)) == answer(*expected)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Sydney on AEDT (UTC+11) until 2026-04-05, AEST (UTC+10) after, AEDT again
        # from 2026-10-04: 09:00 local is 22:00Z, then 23:00Z, then 22:00Z the day before.
        # (handoff k = -23 on Sunday 2026-03-29, -22 on 2026-04-05, 4 on 2026-10-04)
        ("2026-03-29 22:00", "jack"),
        ("2026-03-29 21:59", None),
        ("2026-04-05 22:30", None),
        ("2026-04-05 23:00", "olivia"),
        ("2026-10-04 22:00", "olivia"),
        ("2026-10-04 21:59", None),
    ],
)
def test_southern_hemisphere(at: str, expected: str | None) -> None:
    got = RESOLVER.oncall("sydney", utc(at))
    assert got.person == expected
    assert got.source == ("gap" if expected is None else "region")


def test_handoff_at_a_skipped_time_happens_at_the_jump() -> None:
    # Sunday 2026-10-04 02:30 does not exist in Sydney; the handoff is at 03:00 AEDT.
    anz = "anz"
    before, jump = utc("2026-10-03 15:59"), utc("2026-10-03 16:00")
    assert RESOLVER.oncall_in_region("sydney", anz, before).person == "jack"
    assert RESOLVER.oncall_in_region("sydney", anz, jump).person == "olivia"


# --- overlaps, holidays, ties ----------------------------------------------------------


def test_overlap_tie_goes_to_the_region_listed_first() -> None:
    twin = Rotation(
        "twin",
        (
            region(
                "a",
                "Europe/Paris",
                ("alice",),
                daily("00:00", date(2026, 1, 1)),
                (WEEKDAYS, "09:00", "17:00"),
            ),
            region(
                "b",
                "Europe/Berlin",
                ("bob",),
                daily("00:00", date(2026, 1, 1)),
                (WEEKDAYS, "09:00", "17:00"),
            ),
        ),
    )
    resolver = RotationResolver({"twin": twin})
    assert resolver.oncall("twin", utc("2026-11-23 10:00")) == answer("alice", "a", "region")


def test_region_without_hours_loses_to_any_covering_region() -> None:
    rot = Rotation(
        "mixed",
        (
            region("always", "UTC", ("ava",), daily("00:00", date(2026, 1, 1))),
            region(
                "office",
                "Europe/Bucharest",
                ("oscar",),
                daily("00:00", date(2026, 1, 1)),
                (WEEKDAYS, "08:30", "17:30"),
            ),
        ),
    )
    resolver = RotationResolver({"mixed": rot})
    assert resolver.oncall("mixed", utc("2026-11-23 10:00")) == answer("oscar", "office", "region")
    assert resolver.oncall("mixed", utc("2026-11-23 16:00")) == answer("ava", "always", "region")
    assert resolver.gaps("mixed", utc("2026-11-01 00:00"), utc("2027-01-01 00:00")) == []


def test_incoming_shift_across_merged_days() -> None:
    # "weekend" is one window from Saturday 00:00 to Monday 00:00 (Kolkata); "days" opens
    # every morning, so it is the newer shift while open, and the weekend one otherwise.
    rot = Rotation(
        "merge",
        (
            region(
                "weekend",
                "Asia/Kolkata",
                ("wes",),
                daily("00:00", date(2026, 1, 1)),
                (frozenset({5, 6}), "00:00", "24:00"),
            ),
            region(
                "days",
                "UTC",
                ("dana",),
                daily("00:00", date(2026, 1, 1)),
                (EVERY_DAY, "08:00", "12:00"),
            ),
        ),
    )
    resolver = RotationResolver({"merge": rot})
    assert resolver.oncall("merge", utc("2026-11-28 07:00")).person == "wes"
    assert resolver.oncall("merge", utc("2026-11-29 09:00")).person == "dana"  # Sunday
    assert resolver.oncall("merge", utc("2026-11-29 13:00")).person == "wes"
    assert resolver.oncall("merge", utc("2026-11-29 18:29")).person == "wes"
    assert resolver.oncall("merge", utc("2026-11-29 18:30")).person is None  # Monday IST


# --- overrides and after-hours chains ------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Razvan's EMEA shifts over Christmas go to Ana (2026-12-21 is razvan's week).
        ("2026-12-23 21:59", ("maria", "amer", "region")),
        ("2026-12-23 23:30", ("wendy", None, "after_hours")),
        ("2026-12-24 08:00", ("ana", "emea", "override")),
        ("2026-12-24 14:00", ("maria", "amer", "region")),  # others are untouched
        # Without `replaces`: whoever is yielded, after hours included (region None).
        ("2026-12-31 22:00", ("zoe", "amer", "override")),
        ("2027-01-01 02:00", ("zoe", None, "override")),  # APJ holiday: after hours
        ("2027-01-01 08:00", ("ana", "emea", "region")),  # `to` is exclusive
    ],
)
def test_overrides(at: str, expected: tuple[str | None, str | None, str]) -> None:
    assert RESOLVER.oncall("support-engineers", utc(at)) == answer(*expected)


def test_override_replacing_someone_from_after_hours() -> None:
    rot = Rotation(
        "day",
        (
            region(
                "office",
                "UTC",
                ("olga",),
                daily("00:00", date(2026, 1, 1)),
                (WEEKDAYS, "09:00", "17:00"),
            ),
        ),
        after_hours="night",
        overrides=(Override("nina", utc("2026-11-23 00:00"), utc("2026-11-24 00:00"), "nick"),),
    )
    night = Rotation("night", (region("all", "UTC", ("nick",), daily("00:00", date(2026, 1, 1))),))
    resolver = RotationResolver({"day": rot, "night": night})
    assert resolver.oncall("day", utc("2026-11-23 08:00")) == answer("nina", None, "override")
    assert resolver.oncall("day", utc("2026-11-23 10:00")) == answer("olga", "office", "region")
    assert resolver.oncall("day", utc("2026-11-24 08:00")) == answer("nick", None, "after_hours")
    # The override never leaks into the after_hours rotation itself.
    assert resolver.oncall("night", utc("2026-11-23 08:00")) == answer("nick", "all", "region")


def test_after_hours_chain_and_gaps() -> None:
    office = (WEEKDAYS, "09:00", "17:00")
    first = Rotation(
        "first",
        (region("a", "UTC", ("ann",), daily("00:00", date(2026, 1, 1)), office),),
        after_hours="second",
    )
    second = Rotation(
        "second",
        (region("b", "Asia/Tokyo", ("ben",), daily("00:00", date(2026, 1, 1)), office),),
        after_hours="third",
        overrides=(Override("bea", utc("2026-11-21 00:00"), utc("2026-11-22 00:00")),),
    )
    third = Rotation(
        "third",
        (region("c", "America/Chicago", ("cid",), daily("00:00", date(2026, 1, 1)), office),),
    )
    resolver = RotationResolver({"first": first, "second": second, "third": third})
    # Monday 2026-11-23: Tokyo's office is 00:00-08:00Z, "a" 09:00-17:00Z, Chicago's
    # 15:00-23:00Z: gaps 08:00-09:00 and 23:00-24:00.
    assert resolver.oncall("first", utc("2026-11-23 01:00")) == answer("ben", None, "after_hours")
    assert resolver.oncall("first", utc("2026-11-23 08:30")) == answer(None, None, "gap")
    assert resolver.oncall("first", utc("2026-11-23 10:00")) == answer("ann", "a", "region")
    assert resolver.oncall("first", utc("2026-11-23 18:00")) == answer("cid", None, "after_hours")
    assert resolver.oncall("first", utc("2026-11-23 23:30")) == answer(None, None, "gap")
    # An override in the chain shows up as after_hours one level up.
    assert resolver.oncall("first", utc("2026-11-21 12:00")) == answer("bea", None, "after_hours")
    assert resolver.oncall("second", utc("2026-11-21 12:00")) == answer("bea", None, "override")
    assert resolver.gaps("first", utc("2026-11-23 00:00"), utc("2026-11-24 00:00")) == [
        (utc("2026-11-23 08:00"), utc("2026-11-23 09:00")),
        (utc("2026-11-23 23:00"), utc("2026-11-24 00:00")),
    ]


def test_override_fills_a_gap() -> None:
    rot = Rotation(
        "solo",
        (
            region(
                "office",
                "UTC",
                ("olga",),
                daily("00:00", date(2026, 1, 1)),
                (WEEKDAYS, "09:00", "17:00"),
            ),
        ),
        overrides=(Override("sam", utc("2026-11-28 00:00"), utc("2026-11-29 00:00")),),
    )
    resolver = RotationResolver({"solo": rot})
    assert resolver.oncall("solo", utc("2026-11-28 12:00")) == answer("sam", None, "override")
    assert resolver.oncall("solo", utc("2026-11-29 12:00")) == answer(None, None, "gap")
    # Friday 00:00 to Monday 12:00: Saturday is filled by the override.
    assert resolver.gaps("solo", utc("2026-11-27 00:00"), utc("2026-11-30 12:00")) == [
        (utc("2026-11-27 00:00"), utc("2026-11-27 09:00")),
        (utc("2026-11-27 17:00"), utc("2026-11-28 00:00")),
        (utc("2026-11-29 00:00"), utc("2026-11-30 09:00")),
    ]


# --- handoffs --------------------------------------------------------------------------


def members_at(
    resolver: RotationResolver, rotation: str, region: str, *instants: str
) -> list[str | None]:
    return [resolver.oncall_in_region(rotation, region, utc(t)).person for t in instants]


def test_weekly_handoff_counts_backwards_before_start() -> None:
    rot = Rotation(
        "w", (region("r", "UTC", ("a", "b", "c"), weekly(0, "08:00", date(2026, 11, 2))),)
    )
    resolver = RotationResolver({"w": rot})
    got = members_at(
        resolver,
        "w",
        "r",
        "2026-10-26 07:59",
        "2026-10-26 08:00",
        "2026-11-01 23:00",
        "2026-11-02 07:59",
        "2026-11-02 08:00",
        "2026-11-09 08:00",
        "2026-11-16 08:00",
        "2026-11-23 08:00",
        "2025-11-02 12:00",
    )
    # Sunday 2025-11-02 follows Monday 2025-10-27, 53 weeks before: k = -53, mod 3 = 1.
    assert got == ["b", "c", "c", "c", "a", "b", "c", "a", "b"]


def test_weekly_handoff_starting_on_another_weekday() -> None:
    # Start on a Wednesday, handoffs on Mondays: the first one is Monday 2026-11-09.
    rot = Rotation("w", (region("r", "UTC", ("a", "b"), weekly(0, "08:00", date(2026, 11, 4))),))
    resolver = RotationResolver({"w": rot})
    got = members_at(resolver, "w", "r", "2026-11-05 12:00", "2026-11-09 07:59", "2026-11-09 08:00")
    assert got == ["b", "b", "a"]


def test_daily_handoff() -> None:
    rot = Rotation(
        "d", (region("r", "Europe/Bucharest", ("a", "b", "c"), daily("09:00", date(2026, 11, 2))),)
    )
    resolver = RotationResolver({"d": rot})
    got = members_at(
        resolver,
        "d",
        "r",
        "2026-11-02 06:59",
        "2026-11-02 07:00",
        "2026-11-03 06:59",
        "2026-11-03 07:00",
        "2026-11-05 07:00",
        "2026-11-01 07:00",
    )
    assert got == ["c", "a", "a", "b", "a", "c"]


def test_daily_handoff_at_skipped_and_repeated_times() -> None:
    # New York: 02:30 does not exist on 2026-03-08 (handoff at the 03:00 jump, 07:00Z);
    # 01:30 happens twice on 2026-11-01 (handoff at the first, 05:30Z, and only once).
    spring = Rotation(
        "s", (region("r", "America/New_York", ("a", "b"), daily("02:30", date(2026, 3, 1))),)
    )
    autumn = Rotation(
        "f", (region("r", "America/New_York", ("a", "b"), daily("01:30", date(2026, 10, 25))),)
    )
    resolver = RotationResolver({"s": spring, "f": autumn})
    # k on 2026-03-08 is 7: before the jump k=6 (a), from it k=7 (b).
    assert members_at(
        resolver,
        "s",
        "r",
        "2026-03-08 06:59",
        "2026-03-08 07:00",
        "2026-03-09 06:29",
        "2026-03-09 06:30",
    ) == ["a", "b", "b", "a"]
    # k on 2026-11-01 is 7 from 05:30Z; the second 01:30 (06:30Z) changes nothing.
    assert members_at(
        resolver,
        "f",
        "r",
        "2026-11-01 05:29",
        "2026-11-01 05:30",
        "2026-11-01 06:30",
        "2026-11-02 06:29",
        "2026-11-02 06:30",
    ) == ["a", "b", "b", "b", "a"]
    assert resolver.next_change("f", utc("2026-11-01 05:30")) == utc("2026-11-02 06:30")


# --- region-restricted tickets ---------------------------------------------------------


@pytest.mark.parametrize(
    ("region_name", "at", "expected"),
    [
        ("apj", "2026-11-23 02:00", ("dung", "region")),  # covering
        ("apj", "2026-11-23 14:00", ("dung", "region")),  # not covering: this week's member
        ("apj", "2026-11-23 00:30", ("minh", "region")),  # before Monday's handoff
        ("emea", "2026-11-28 12:00", ("razvan", "region")),  # Saturday
        ("emea", "2026-12-24 14:00", ("ana", "override")),  # replaces razvan, covering
        ("emea", "2026-12-26 12:00", ("ana", "override")),  # ... and off hours
        ("amer", "2026-12-31 22:00", ("zoe", "override")),  # AMER is what is yielded
        ("emea", "2026-12-31 22:00", ("ana", "region")),  # not yielded: zoe not for EMEA
    ],
)
def test_oncall_in_region(region_name: str, at: str, expected: tuple[str, str]) -> None:
    got = RESOLVER.oncall_in_region("support-engineers", region_name, utc(at))
    assert got == answer(expected[0], region_name, expected[1])


# --- changes over time -----------------------------------------------------------------


def test_shifts_of_a_monday() -> None:
    got = RESOLVER.shifts("support-engineers", utc("2026-11-23 00:00"), utc("2026-11-24 03:00"))
    assert got == [
        Shift(utc("2026-11-23 00:00"), utc("2026-11-23 01:00"), "wendy", None, "after_hours"),
        Shift(utc("2026-11-23 01:00"), utc("2026-11-23 06:30"), "dung", "apj", "region"),
        Shift(utc("2026-11-23 06:30"), utc("2026-11-23 13:00"), "razvan", "emea", "region"),
        Shift(utc("2026-11-23 13:00"), utc("2026-11-23 23:00"), "maria", "amer", "region"),
        Shift(utc("2026-11-23 23:00"), utc("2026-11-24 01:00"), "wendy", None, "after_hours"),
        Shift(utc("2026-11-24 01:00"), utc("2026-11-24 03:00"), "dung", "apj", "region"),
    ]
    assert (
        RESOLVER.shifts("support-engineers", utc("2026-11-23 05:00"), utc("2026-11-23 05:00")) == []
    )


def test_next_change_and_shift_end() -> None:
    at = utc("2026-11-23 07:00")
    change = RESOLVER.next_change("support-engineers", at)
    assert change is not None and at < change <= utc("2026-11-23 13:00")
    assert RESOLVER.shift_end("support-engineers", at) == utc("2026-11-23 13:00")
    # Friday evening to Monday morning: the weekend handoff at 15:00 Friday is a change.
    assert RESOLVER.shift_end("support-engineers", utc("2026-11-27 23:30")) == utc(
        "2026-11-30 01:00"
    )
    assert RESOLVER.shift_end("support-engineers", utc("2026-11-27 14:00")) == utc(
        "2026-11-27 23:00"
    )


def test_next_change_none_when_nothing_ever_changes() -> None:
    rot = Rotation("still", (region("all", "UTC", ("solo",), daily("09:00", date(2026, 1, 1))),))
    with_override = Rotation(
        "brief",
        rot.regions,
        overrides=(Override("temp", utc("2026-11-23 10:00"), utc("2026-11-23 12:00")),),
    )
    resolver = RotationResolver({"still": rot, "brief": with_override})
    assert resolver.next_change("still", utc("2026-11-23 10:00")) is None
    assert resolver.shift_end("still", utc("2026-11-23 10:00")) is None
    assert resolver.next_change("brief", utc("2026-11-23 09:00")) == utc("2026-11-23 10:00")
    assert resolver.next_change("brief", utc("2026-11-23 10:00")) == utc("2026-11-23 12:00")
    assert resolver.next_change("brief", utc("2026-11-23 12:00")) is None


def test_hours_open_around_the_clock() -> None:
    rot = Rotation(
        "clock",
        (
            region(
                "all",
                "Europe/Bucharest",
                ("a", "b"),
                weekly(0, "00:00", date(2026, 1, 5)),
                (EVERY_DAY, "00:00", "24:00"),
            ),
        ),
    )
    resolver = RotationResolver({"clock": rot})
    start, end = utc("2026-01-01 00:00"), utc("2027-01-01 00:00")
    assert resolver.gaps("clock", start, end) == []
    shifts = resolver.shifts("clock", start, end)
    assert len(shifts) == 53  # weekly handoffs, nothing else
    assert shifts[1].start == utc("2026-01-04 22:00")


# --- contract errors -------------------------------------------------------------------


def test_errors() -> None:
    with pytest.raises(KeyError):
        RESOLVER.oncall("nope", utc("2026-11-23 00:00"))
    with pytest.raises(KeyError):
        RESOLVER.oncall_in_region("support-engineers", "mars", utc("2026-11-23 00:00"))
    with pytest.raises(ValueError, match="aware"):
        RESOLVER.oncall("support-engineers", datetime(2026, 11, 23))
    loop_a = Rotation("a", WEEKEND.regions, after_hours="b")
    loop_b = Rotation("b", WEEKEND.regions, after_hours="a")
    with pytest.raises(ValueError, match="cycle"):
        RotationResolver({"a": loop_a, "b": loop_b})
    with pytest.raises(ValueError, match="unknown after_hours"):
        RotationResolver({"a": loop_a})


def test_answers_are_utc_for_any_aware_input() -> None:
    bucharest = utc("2026-11-23 07:00").astimezone(timezone(timedelta(hours=2)))
    assert RESOLVER.oncall("support-engineers", bucharest) == answer("razvan", "emea", "region")
    change = RESOLVER.next_change("support-engineers", bucharest)
    assert change is not None and change.tzinfo is UTC
