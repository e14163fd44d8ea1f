"""Properties of the resolver over random rotations (hypothesis).

* With an always-covering after_hours rotation, someone is on call at every instant.
* An override never changes the answer outside its ``[start, end)``.
* ``next_change`` never skips a change: the answer is constant on ``[t, next_change(t))``.
* ``shifts`` tile ``[start, end)`` exactly, are maximal, and agree with ``oncall``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pager.core.model import Handoff, HandoffEvery, Override, Region, Rotation, WeeklyHours
from pager.core.rotation import OnCall, RotationResolver

ZONES = (
    "UTC",
    "Europe/Bucharest",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Ho_Chi_Minh",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
)
PEOPLE = ("ana", "bob", "cai", "dee", "eli")
EVERY: tuple[HandoffEvery, ...] = ("day", "week")
LO = datetime(2026, 1, 1, tzinfo=UTC)
HI = datetime(2028, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
TICK = timedelta(microseconds=1)

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

instants = st.integers(0, (HI - LO) // MINUTE).map(lambda m: LO + m * MINUTE)
seconds_instants = st.integers(0, int((HI - LO).total_seconds())).map(
    lambda s: LO + timedelta(seconds=s)
)
days = st.dates(date(2025, 6, 1), date(2028, 6, 1))


@st.composite
def weekly_hours(draw: st.DrawFn) -> WeeklyHours | None:
    if draw(st.booleans()) and draw(st.booleans()):
        return None  # a quarter of the regions cover everything
    weekdays = draw(st.frozensets(st.integers(0, 6), min_size=1))
    if draw(st.integers(0, 7)) == 0:
        # Whole days: consecutive ones merge into windows of days, or of weeks on end.
        return WeeklyHours(weekdays, 0, 1440)
    start = draw(st.integers(0, 1439))
    end = draw(st.sampled_from([1440, *range(start + 1, min(start + 900, 1440) + 1)]))
    return WeeklyHours(weekdays, start, end)


@st.composite
def regions(draw: st.DrawFn, name: str) -> Region:
    every = draw(st.sampled_from(EVERY))
    handoff = Handoff(
        every,
        draw(st.integers(0, 1439)),
        draw(days),
        draw(st.integers(0, 6)) if every == "week" else None,
    )
    return Region(
        name,
        draw(st.sampled_from(ZONES)),
        tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3))),
        handoff,
        draw(weekly_hours()),
        frozenset(draw(st.lists(days, max_size=3))),
    )


@st.composite
def overrides(draw: st.DrawFn) -> Override:
    start = draw(instants)
    length = draw(st.integers(1, 72 * 60)) * MINUTE
    replaces = draw(st.none() | st.sampled_from(PEOPLE))
    return Override(draw(st.sampled_from(("zed", *PEOPLE))), start, start + length, replaces)


@st.composite
def rotations(draw: st.DrawFn, with_after_hours: bool = True) -> dict[str, Rotation]:
    """A main rotation (``main``), maybe chained to ``night`` and then ``backstop``."""
    count = draw(st.integers(1, 3))
    main_regions = tuple(draw(regions(f"r{i}")) for i in range(count))
    chain = draw(st.integers(0, 2)) if with_after_hours else 0
    found: dict[str, Rotation] = {}
    names = ["main", "night", "backstop"][: chain + 1]
    for index, name in enumerate(names):
        after = names[index + 1] if index + 1 < len(names) else None
        these = main_regions if name == "main" else (draw(regions(f"{name}0")),)
        found[name] = Rotation(name, these, after, tuple(draw(st.lists(overrides(), max_size=3))))
    return found


def always_covering() -> Rotation:
    handoff = Handoff("day", 0, date(2026, 1, 1))
    return Rotation("always", (Region("everywhere", "UTC", ("omni", "ona"), handoff),))


@PROPERTY_SETTINGS
@given(rotations(with_after_hours=False), instants, st.integers(1, 21))
def test_someone_is_always_on_call_with_an_always_covering_after_hours(
    rots: dict[str, Rotation], start: datetime, span_days: int
) -> None:
    main = replace(rots["main"], after_hours="always")
    resolver = RotationResolver({"main": main, "always": always_covering()})
    end = start + timedelta(days=span_days)
    assert resolver.gaps("main", start, end) == []
    for shift in resolver.shifts("main", start, end):
        assert shift.person is not None
        assert resolver.oncall("main", shift.start).person is not None


@PROPERTY_SETTINGS
@given(rotations(), st.lists(seconds_instants, min_size=1, max_size=30))
def test_an_override_never_leaks_outside_its_interval(
    rots: dict[str, Rotation], probes: list[datetime]
) -> None:
    with_overrides = RotationResolver(rots)
    main = rots["main"]
    without = RotationResolver({**rots, "main": replace(main, overrides=())})
    # Probe the override edges too, and just before them.
    edges = [edge for o in main.overrides for edge in (o.start, o.end)]
    for t in [*probes, *edges, *(edge - TICK for edge in edges)]:
        got = with_overrides.oncall("main", t)
        base = without.oncall("main", t)
        active = [o for o in main.overrides if o.start <= t < o.end]
        if not active:
            assert got == base, t
            continue
        applicable = [o for o in active if o.replaces is None or o.replaces == base.person]
        if applicable:
            assert got == OnCall(applicable[0].person, base.region, "override"), t
        else:
            assert got == base, t


@PROPERTY_SETTINGS
@given(rotations(), seconds_instants)
def test_next_change_never_skips_a_change(rots: dict[str, Rotation], t: datetime) -> None:
    resolver = RotationResolver(rots)
    first = resolver.oncall("main", t)
    change = resolver.next_change("main", t)
    limit = t + timedelta(days=4)
    if change is not None:
        assert change > t
        limit = min(limit, change)
    # Every minute boundary (edges are on whole minutes) up to the change, or 4 days.
    probe = t.replace(second=0, microsecond=0) + MINUTE
    while probe < limit:
        assert resolver.oncall("main", probe) == first, (t, probe, change)
        probe += MINUTE
    assert resolver.oncall("main", limit - TICK) == first


@PROPERTY_SETTINGS
@given(rotations(), seconds_instants, st.integers(0, 14 * 24 * 60))
def test_shifts_tile_the_range_and_agree_with_oncall(
    rots: dict[str, Rotation], start: datetime, minutes: int
) -> None:
    resolver = RotationResolver(rots)
    end = start + minutes * MINUTE
    shifts = resolver.shifts("main", start, end)
    if minutes == 0:
        assert shifts == []
        return
    assert shifts[0].start == start
    assert shifts[-1].end == end
    for before, after in pairwise(shifts):
        assert before.end == after.start
        assert (before.person, before.region, before.source) != (
            after.person,
            after.region,
            after.source,
        )
    for shift in shifts:
        assert shift.start < shift.end
        want = OnCall(shift.person, shift.region, shift.source)
        middle = shift.start + (shift.end - shift.start) / 2
        for probe in (shift.start, middle, shift.end - TICK):
            assert resolver.oncall("main", probe) == want, (shift, probe)
    gaps = resolver.gaps("main", start, end)
    assert gaps == [(s.start, s.end) for s in shifts if s.person is None]


@PROPERTY_SETTINGS
@given(rotations(), instants)
def test_fresh_and_warm_resolvers_agree(rots: dict[str, Rotation], t: datetime) -> None:
    # Caches must not change answers: a resolver that has walked a month agrees with one
    # asked cold, at the same instants.
    warm = RotationResolver(rots)
    warm.shifts("main", t - timedelta(days=20), t + timedelta(days=10))
    for probe in (t, t + timedelta(hours=5), t - timedelta(days=3)):
        assert warm.oncall("main", probe) == RotationResolver(rots).oncall("main", probe)
