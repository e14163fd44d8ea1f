"""Brute force: every minute of weeks around DST changes against a slow reference.

The reference knows nothing of :mod:`pager.core.hours` or of the resolver's caches. It
walks UTC minutes and reads wall clocks:

* local time ``(day, minute)`` happens at the first UTC minute whose wall time is at or
  past it (so a time skipped by a spring-forward jump happens at the jump, a repeated
  one at its first occurrence); every zone used here changes on whole minutes;
* a region covers a minute when one of its days' ``[open, close)`` holds it;
* a window "began" at the first minute of the run of consecutive covered minutes;
* the member is ``members[k mod n]``, ``k`` the number of the last handoff at or before
  the minute, handoff 0 being the first one on or after the start date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from pager.core.model import Handoff, Override, Region, Rotation, WeeklyHours
from pager.core.rotation import OnCall, RotationResolver

MINUTE = timedelta(minutes=1)
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
MARGIN = timedelta(days=3)  # reference arrays start this long before the checked range


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- the reference -------------------------------------------------------------------


@cache
def first_minute_at_or_after(day: date, minute: int, tz_name: str) -> datetime:
    """The first UTC minute whose wall time in ``tz_name`` is at or past ``day`` + minute."""
    tz = ZoneInfo(tz_name)
    wanted = datetime(day.year, day.month, day.day) + minute * MINUTE
    # Start surely before it (no zone here moves its clocks by 3 h), then walk forward a
    # minute at a time.
    offset = tz.utcoffset(wanted)
    assert offset is not None
    t = (wanted - offset - timedelta(hours=3)).replace(tzinfo=UTC)
    assert t.astimezone(tz).replace(tzinfo=None) < wanted
    while t.astimezone(tz).replace(tzinfo=None) < wanted:
        t += MINUTE
    return t


def zero_date(handoff: Handoff) -> date:
    day = handoff.start
    if handoff.every == "week":
        while day.weekday() != handoff.day:
            day += timedelta(days=1)
    return day


@dataclass
class RegionArrays:
    covered: list[bool]
    began: list[int]  # minute index where the covered run began (-1: region has no hours)
    member: list[str]


class Reference:
    """Answers for every minute of ``[start, end)`` (after a margin) for some rotations."""

    def __init__(self, rotations: Mapping[str, Rotation], start: datetime, end: datetime):
        self.rotations = rotations
        self.origin = start - MARGIN
        self.count = (end - self.origin) // MINUTE
        self.instants = [self.origin + i * MINUTE for i in range(self.count)]
        self.regions = {
            (rot.name, region.name): self._region(region)
            for rot in rotations.values()
            for region in rot.regions
        }
        self.answers = {
            name: [self._answer(name, i) for i in range(self.count)] for name in rotations
        }

    def index(self, t: datetime) -> int:
        return (t - self.origin) // MINUTE

    def _region(self, region: Region) -> RegionArrays:
        n = self.count
        first_day = (self.origin - timedelta(days=1)).date()
        last_day = (self.origin + n * MINUTE + timedelta(days=1)).date()
        covered = [region.hours is None] * n
        if region.hours is not None:
            day = first_day
            while day <= last_day:
                hours = region.hours
                if day.weekday() in hours.days and day not in region.holidays:
                    opened = first_minute_at_or_after(day, hours.start, region.timezone)
                    closed = first_minute_at_or_after(day, hours.end, region.timezone)
                    for i in range(max(0, self.index(opened)), min(n, self.index(closed))):
                        covered[i] = True
                day += timedelta(days=1)
        # A run already going at minute 0 gets "began" 0: wrong, but every window here is
        # shorter than MARGIN, so such a run ends before the checked minutes start.
        began = [-1] * n
        if region.hours is not None:
            began[0] = 0
            for i in range(1, n):
                if covered[i]:
                    began[i] = began[i - 1] if covered[i - 1] else i
        period = 7 if region.handoff.every == "week" else 1
        zero = zero_date(region.handoff)
        # Handoff numbers around the range: from well before its start to after its end.
        lo = (first_day - zero).days // period - 2
        hi = (last_day - zero).days // period + 2
        handoffs = [
            (
                k,
                first_minute_at_or_after(
                    zero + timedelta(days=k * period), region.handoff.at, region.timezone
                ),
            )
            for k in range(lo, hi + 1)
        ]
        member = []
        current = 0  # handoffs[current] is the last one at or before t (they ascend)
        assert handoffs[0][1] <= self.instants[0]
        for t in self.instants:
            while current + 1 < len(handoffs) and handoffs[current + 1][1] <= t:
                current += 1
            member.append(region.members[handoffs[current][0] % len(region.members)])
        return RegionArrays(covered, began, member)

    def _answer(self, name: str, i: int) -> OnCall:
        rot = self.rotations[name]
        base = OnCall(None, None, "gap")
        best = None
        for region in rot.regions:
            arrays = self.regions[(name, region.name)]
            if not arrays.covered[i]:
                continue
            if best is None or arrays.began[i] > best[1]:
                best = (region, arrays.began[i])
        if best is not None:
            base = OnCall(self.regions[(name, best[0].name)].member[i], best[0].name, "region")
        elif rot.after_hours is not None:
            inner = self._answer(rot.after_hours, i)
            if inner.person is not None:
                base = OnCall(inner.person, None, "after_hours")
        t = self.instants[i]
        for override in rot.overrides:
            applies = override.replaces is None or override.replaces == base.person
            if override.start <= t < override.end and applies:
                return OnCall(override.person, base.region, "override")
        return base


# --- scenarios -----------------------------------------------------------------------


def weekly(day: int, at: str, start: date) -> Handoff:
    return Handoff("week", hm(at), start, day)


def daily(at: str, start: date) -> Handoff:
    return Handoff("day", hm(at), start)


FOLLOW_THE_SUN = Rotation(
    "support-engineers",
    (
        Region(
            "apj",
            "Asia/Ho_Chi_Minh",
            ("dung", "linh", "minh"),
            weekly(0, "08:00", date(2026, 11, 2)),  # after most ranges: negative k
            WeeklyHours(WEEKDAYS, hm("08:00"), hm("17:00")),
            frozenset({date(2026, 3, 9), date(2026, 10, 26), date(2027, 3, 16)}),
        ),
        Region(
            "emea",
            "Europe/Bucharest",
            ("razvan", "ana"),
            weekly(0, "08:30", date(2026, 1, 5)),
            WeeklyHours(WEEKDAYS, hm("08:30"), hm("17:30")),
        ),
        Region(
            "amer",
            "America/New_York",
            ("john", "maria", "li"),
            weekly(2, "08:00", date(2026, 1, 1)),  # a Thursday: zero is Wednesday the 7th
            WeeklyHours(WEEKDAYS, hm("08:00"), hm("18:00")),
        ),
    ),
    after_hours="weekend-oncall",
    overrides=(
        Override("razvan", utc("2026-03-10 07:00"), utc("2026-03-12 12:15"), "ana"),
        Override("zoe", utc("2026-10-24 20:00"), utc("2026-10-26 03:00")),
        Override("li", utc("2027-03-29 02:00"), utc("2027-03-29 03:30"), "dung"),
        Override("eva", utc("2027-11-01 12:00"), utc("2027-11-01 13:00")),
    ),
)

WEEKEND = Rotation(
    "weekend-oncall",
    (
        # Handoff at 02:30: skipped on the spring-forward day, so it happens at the jump.
        Region(
            "us-nights",
            "America/New_York",
            ("pat", "sam"),
            daily("02:30", date(2026, 3, 1)),
            WeeklyHours(EVERY_DAY, hm("18:00"), hm("24:00")),
        ),
        # Hours touching 03:00-04:00, which Bucharest skips in March and repeats in October.
        Region(
            "eu-nights",
            "Europe/Bucharest",
            ("ion", "eva", "dan"),
            daily("03:30", date(2026, 3, 27)),
            WeeklyHours(EVERY_DAY, hm("00:00"), hm("03:30")),
        ),
        Region("backstop", "UTC", ("max",), daily("00:00", date(2026, 1, 1)), None),
    ),
    overrides=(Override("kim", utc("2026-11-01 05:00"), utc("2026-11-01 07:00"), "pat"),),
)

SOUTHERN = Rotation(
    "southern",
    (
        # Sydney changes on the first Sunday of April (03:00 -> 02:00) and October
        # (02:00 -> 03:00); a daily handoff at 02:30 hits both the gap and the overlap.
        Region(
            "anz",
            "Australia/Sydney",
            ("olivia", "jack", "noah"),
            daily("02:30", date(2026, 3, 30)),
            WeeklyHours(EVERY_DAY, hm("02:00"), hm("19:00")),
        ),
        # Weekend days 00:00-24:00 merge into one long window (incoming shift rules).
        Region(
            "weekend",
            "Asia/Kolkata",
            ("arjun", "priya"),
            weekly(5, "00:00", date(2026, 9, 1)),
            WeeklyHours(frozenset({5, 6}), hm("00:00"), hm("24:00")),
        ),
    ),
)

ROTATIONS = {rot.name: rot for rot in (FOLLOW_THE_SUN, WEEKEND, SOUTHERN)}

RANGES = {
    # US spring forward (Mar 8) and EU spring forward (Mar 29) 2026.
    "2026-spring": (utc("2026-03-06 00:00"), utc("2026-03-31 00:00")),
    # EU fall back (Oct 25) and US fall back (Nov 1) 2026; Sydney spring (Oct 4) separate.
    "2026-autumn": (utc("2026-10-22 00:00"), utc("2026-11-04 00:00")),
    "2027-spring": (utc("2027-03-12 00:00"), utc("2027-03-30 12:00")),
    "2027-autumn": (utc("2027-10-29 00:00"), utc("2027-11-09 00:00")),
    "sydney-2026": (utc("2026-04-02 00:00"), utc("2026-04-07 00:00")),
    "sydney-2026-oct": (utc("2026-10-01 00:00"), utc("2026-10-06 00:00")),
    "sydney-2027": (utc("2027-04-01 00:00"), utc("2027-04-06 00:00")),
}


#: What each range must show, or it proves little.
SOURCES = {
    label: {"region", "after_hours", "override"} if label[0] == "2" else {"region", "gap"}
    for label in RANGES
}


@pytest.fixture(scope="module")
def resolver() -> RotationResolver:
    return RotationResolver(ROTATIONS)


@cache
def reference(label: str) -> Reference:
    start, end = RANGES[label]
    return Reference(ROTATIONS, start, end)


def first_mismatch(
    names: Sequence[str],
    instants: Sequence[datetime],
    got: Mapping[str, Sequence[OnCall]],
    want: Mapping[str, Sequence[OnCall]],
) -> str | None:
    for name in names:
        for i, t in enumerate(instants):
            if got[name][i] != want[name][i]:
                return f"{name} at {t.isoformat()}: got {got[name][i]}, want {want[name][i]}"
    return None


@pytest.mark.parametrize("label", list(RANGES))
def test_every_minute_matches_reference(resolver: RotationResolver, label: str) -> None:
    start, _end = RANGES[label]
    ref = reference(label)
    offset = ref.index(start)
    instants = ref.instants[offset:]
    want = {name: answers[offset:] for name, answers in ref.answers.items()}
    got = {name: [resolver.oncall(name, t) for t in instants] for name in ROTATIONS}
    assert first_mismatch(list(ROTATIONS), instants, got, want) is None
    sources = {answer.source for answers in want.values() for answer in answers}
    assert sources >= SOURCES[label]


@pytest.mark.parametrize("label", ["2026-spring", "2026-autumn", "sydney-2026-oct"])
def test_shifts_and_next_change_match_reference(resolver: RotationResolver, label: str) -> None:
    start, end = RANGES[label]
    ref = reference(label)
    offset = ref.index(start)
    for name in ROTATIONS:
        answers = ref.answers[name]
        # Shifts: walk them minute by minute against the reference.
        shifts = resolver.shifts(name, start, end)
        assert shifts[0].start == start and shifts[-1].end == end
        for shift in shifts:
            answer = OnCall(shift.person, shift.region, shift.source)
            for i in range(ref.index(shift.start), ref.index(shift.end)):
                assert answers[i] == answer, (name, ref.instants[i], shift)
        # Maximal: every shift boundary is a real change in the reference.
        for shift in shifts[1:]:
            i = ref.index(shift.start)
            assert answers[i - 1] != answers[i], (name, shift.start)
        # next_change never skips one: the true next change is at or after it.
        true_next = [0] * ref.count
        true_next[-1] = ref.count
        for i in range(ref.count - 2, -1, -1):
            true_next[i] = i + 1 if answers[i + 1] != answers[i] else true_next[i + 1]
        for i in range(offset, ref.count, 7):
            change = resolver.next_change(name, ref.instants[i])
            if true_next[i] < ref.count:
                assert change is not None, (name, ref.instants[i])
                assert change <= ref.instants[true_next[i]], (name, ref.instants[i], change)
            if change is not None:
                assert change > ref.instants[i]
