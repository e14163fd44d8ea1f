"""Who is on call: follow-the-sun rotations resolved at an instant (SPEC section 4).

Pure: instants in, answers out. Instants are timezone-aware (answers are UTC). The rules,
as docs/rotations.md spells them out:

* A region covers ``t`` when its :class:`~pager.core.hours.OpeningHours` are open at
  ``t`` (a region without hours always covers). Holidays are local dates of the day a
  window opens on.
* A region's member at ``t`` is ``members[k mod n]``; ``k`` is the index of the last
  handoff instant at or before ``t``, counted from the zero handoff (the first handoff
  on or after the ``start`` date; earlier instants get negative ``k``).
* Among covering regions the one whose current merged window began most recently wins
  (a region without hours began infinitely long ago; ties go to the region listed first).
* No region covers: the ``after_hours`` rotation answers (source ``after_hours``,
  region None), else nobody does (a gap).
* Overrides, in file order, first match wins, replace ``replaces`` (or, without it,
  whoever is yielded, a gap included) by ``person`` during ``[start, end)``.

Speed: each region keeps a small cache of per-local-day records (the merged windows
touching the day and its handoff instants), so a lookup is a zone conversion, a dict
lookup and a few comparisons per region.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pager.core.hours import DAY, OpeningHours, local_instant, zone
from pager.core.model import Override, Region, Rotation

Source = Literal["region", "override", "after_hours", "gap"]

#: When a region without hours "began": infinitely long ago, so any real window is newer.
_NEVER_BEGAN = datetime.min.replace(tzinfo=UTC)
#: How many day records a region keeps before starting over (a year and then some).
_DAY_CACHE_SIZE = 1024
#: How many local days ahead a region looks for its next window edge before answering
#: conservatively with a midnight (where nothing need change).
_EDGE_LOOKAHEAD_DAYS = 8
#: A merged window this long may have been cut by OpeningHours' bounded look-back, whose
#: reported opening then moves every local midnight; midnights count as possible changes.
_LONG_WINDOW = timedelta(days=7)
#: How far :meth:`RotationResolver.shift_end` looks for a real change by default.
DEFAULT_HORIZON = timedelta(days=400)


@dataclass(frozen=True, slots=True)
class OnCall:
    """The answer at one instant. ``person`` None means nobody (source ``gap``)."""

    person: str | None
    region: str | None
    source: Source


@dataclass(frozen=True, slots=True)
class Shift:
    """A maximal interval ``[start, end)`` (within the asked range) with a constant answer."""

    start: datetime
    end: datetime
    person: str | None
    region: str | None
    source: Source


GAP = OnCall(None, None, "gap")


@dataclass(frozen=True, slots=True)
class _Day:
    """One region's facts for the instants ``[start, end)`` of one local date.

    ``windows`` are the full merged windows intersecting the day (their real extent, which
    may reach into other days); ``edges`` their sorted opening and closing instants (plus
    midnights when a window is long, see ``_LONG_WINDOW``). ``handoff`` is handoff number
    ``index``, the last one dated on or before this date; ``next_handoff`` the one after.
    """

    day: date
    start: datetime
    end: datetime
    windows: tuple[tuple[datetime, datetime], ...]
    edges: tuple[datetime, ...]
    index: int
    handoff: datetime
    next_handoff: datetime


class _RegionClock:
    """One region's coverage and member arithmetic, with a per-local-day cache."""

    __slots__ = ("_days", "_period", "_zero", "at", "hours", "members", "name", "size", "tz")

    def __init__(self, region: Region) -> None:
        if not region.members:
            raise ValueError(f"region {region.name!r} has no members")
        self.name = region.name
        self.members = region.members
        self.size = len(region.members)
        self.tz = zone(region.timezone)
        self.hours = (
            None if region.hours is None else OpeningHours(region.hours, self.tz, region.holidays)
        )
        handoff = region.handoff
        self.at = handoff.at
        self._period = 7 if handoff.every == "week" else 1
        start = handoff.start
        if handoff.every == "week":
            weekday = start.weekday() if handoff.day is None else handoff.day
            # The zero handoff: on the start date when its weekday matches, else the
            # first matching weekday after it.
            start += timedelta(days=(weekday - start.weekday()) % 7)
        self._zero = start
        self._days: dict[date, _Day] = {}

    # --- day records -----------------------------------------------------------------

    def record(self, t: datetime) -> _Day:
        """The record whose ``[start, end)`` holds ``t``."""
        rec = self._day(t.astimezone(self.tz).date())
        # A wall date and the instants of that date disagree only around a clock change
        # across midnight; walk to the record that really holds t.
        while t >= rec.end:
            rec = self._day(rec.day + DAY)
        while t < rec.start:
            rec = self._day(rec.day - DAY)
        return rec

    def _day(self, day: date) -> _Day:
        rec = self._days.get(day)
        if rec is None:
            if len(self._days) >= _DAY_CACHE_SIZE:
                self._days.clear()
            rec = self._build(day)
            self._days[day] = rec
        return rec

    def _build(self, day: date) -> _Day:
        start = local_instant(day, 0, self.tz)
        end = local_instant(day + DAY, 0, self.tz)
        windows: list[tuple[datetime, datetime]] = []
        edges: set[datetime] = set()
        if self.hours is not None:
            for opened, _closed in self.hours.windows(start, end):
                full = self.hours.window_at(opened)
                if full is None:  # windows() and window_at() agree; defensive only
                    continue
                windows.append(full)
                edges.update(full)
                if full[1] - full[0] >= _LONG_WINDOW:
                    edges.update((start, end))
        index = (day - self._zero).days // self._period
        handoff_day = self._zero + timedelta(days=index * self._period)
        return _Day(
            day=day,
            start=start,
            end=end,
            windows=tuple(windows),
            edges=tuple(sorted(edges)),
            index=index,
            handoff=local_instant(handoff_day, self.at, self.tz),
            next_handoff=local_instant(
                handoff_day + timedelta(days=self._period), self.at, self.tz
            ),
        )

    # --- answers ---------------------------------------------------------------------

    @staticmethod
    def began(rec: _Day, t: datetime) -> datetime | None:
        """When the window covering ``t`` opened, or None when the region is closed."""
        for opened, closed in rec.windows:
            if opened <= t < closed:
                return opened
        return None

    def member(self, rec: _Day, t: datetime) -> str:
        k = rec.index if t >= rec.handoff else rec.index - 1
        return self.members[k % self.size]

    def covers(self, t: datetime) -> bool:
        return self.hours is None or self.began(self.record(t), t) is not None

    def next_edge(self, t: datetime) -> datetime | None:
        """The first instant > ``t`` where coverage, window start or member may change."""
        rec = self.record(t)
        found: datetime | None = None
        if self.size > 1:
            found = rec.handoff if t < rec.handoff else rec.next_handoff
        if self.hours is None:
            return found
        edge = self._next_window_edge(rec, t)
        if found is None or edge < found:
            found = edge
        return found

    def _next_window_edge(self, rec: _Day, t: datetime) -> datetime:
        for _ in range(_EDGE_LOOKAHEAD_DAYS):
            i = bisect.bisect_right(rec.edges, t)
            if i < len(rec.edges):
                return rec.edges[i]
            rec = self._day(rec.day + DAY)
        # Nothing opens soon (a long holiday, a one-day week): a midnight is a safe answer.
        return rec.start


@dataclass(frozen=True, slots=True)
class _Compiled:
    name: str
    regions: tuple[_RegionClock, ...]
    by_region: Mapping[str, _RegionClock]
    after_hours: str | None
    overrides: tuple[Override, ...]
    override_edges: tuple[datetime, ...]


class RotationResolver:
    """Answers who is on call for the rotations of one config.

    Raises ``KeyError`` for an unknown rotation (or region) name and ``ValueError`` for
    a naive instant. Construction raises ``ValueError`` when a rotation's ``after_hours``
    names an unknown rotation or forms a cycle (config validation prevents both).
    """

    def __init__(self, rotations: Mapping[str, Rotation]) -> None:
        compiled: dict[str, _Compiled] = {}
        for name, rotation in rotations.items():
            clocks = tuple(_RegionClock(region) for region in rotation.regions)
            edges = sorted({edge for o in rotation.overrides for edge in (o.start, o.end)})
            compiled[name] = _Compiled(
                name=name,
                regions=clocks,
                by_region={clock.name: clock for clock in clocks},
                after_hours=rotation.after_hours,
                overrides=rotation.overrides,
                override_edges=tuple(edges),
            )
        for name in compiled:
            seen = [name]
            follow = compiled[name].after_hours
            while follow is not None:
                if follow not in compiled:
                    raise ValueError(f"rotation {seen[-1]!r}: unknown after_hours {follow!r}")
                if follow in seen:
                    raise ValueError(f"after_hours cycle: {' -> '.join([*seen, follow])}")
                seen.append(follow)
                follow = compiled[follow].after_hours
        self._rotations = compiled

    @property
    def rotations(self) -> tuple[str, ...]:
        """The rotation names, in config order."""
        return tuple(self._rotations)

    def regions(self, rotation: str) -> tuple[str, ...]:
        """The region names of ``rotation``, in file order."""
        return tuple(clock.name for clock in self._rotations[rotation].regions)

    def region_timezone(self, rotation: str, region: str) -> str:
        """The IANA zone name of one region (for showing local times)."""
        return self._rotations[rotation].by_region[region].tz.key

    # --- single instants -------------------------------------------------------------

    def oncall(self, rotation: str, at: datetime) -> OnCall:
        """Who takes new pages for ``rotation`` at ``at`` (overrides applied)."""
        if at.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        rot = self._rotations[rotation]
        base = self._rotation_answer(rot, at)
        for override in rot.overrides:
            if override.start <= at < override.end and (
                override.replaces is None or override.replaces == base.person
            ):
                return OnCall(override.person, base.region, "override")
        return base

    def _rotation_answer(self, rot: _Compiled, at: datetime) -> OnCall:
        """The answer before this rotation's own overrides."""
        best: _RegionClock | None = None
        best_rec: _Day | None = None
        best_began = _NEVER_BEGAN
        for clock in rot.regions:
            rec = clock.record(at)
            if clock.hours is None:
                began = _NEVER_BEGAN
            else:
                found = clock.began(rec, at)
                if found is None:
                    continue
                began = found
            if best is None or began > best_began:
                best, best_rec, best_began = clock, rec, began
        if best is not None and best_rec is not None:
            return OnCall(best.member(best_rec, at), best.name, "region")
        if rot.after_hours is None:
            return GAP
        inner = self.oncall(rot.after_hours, at)
        if inner.person is None:
            return GAP
        return OnCall(inner.person, None, "after_hours")

    def oncall_in_region(self, rotation: str, region: str, at: datetime) -> OnCall:
        """Who is paged for a ticket restricted to ``region`` of ``rotation`` at ``at``.

        The region's member for the current handoff, whether or not the region covers
        ``at`` (source ``region``). Overrides in file order, first match wins: one with
        ``replaces`` applies when it replaces that member; one without ``replaces`` only
        when the rotation itself currently yields that member of that region (it stands
        in for whoever takes new pages, not for every region). Source then ``override``.
        """
        if at.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        rot = self._rotations[rotation]
        clock = rot.by_region[region]
        member = clock.member(clock.record(at), at)
        yielded: OnCall | None = None
        for override in rot.overrides:
            if not override.start <= at < override.end:
                continue
            if override.replaces is not None:
                if override.replaces == member:
                    return OnCall(override.person, region, "override")
                continue
            if yielded is None:
                yielded = self._rotation_answer(rot, at)
            if yielded.region == region and yielded.person == member:
                return OnCall(override.person, region, "override")
        return OnCall(member, region, "region")

    # --- changes over time -----------------------------------------------------------

    def next_change(self, rotation: str, after: datetime) -> datetime | None:
        """The earliest instant > ``after`` at which :meth:`oncall` may differ.

        May be conservative (nothing changes there) but never skips a change: the answer
        is constant on ``[after, next_change(after))``. None when it never changes.
        """
        if after.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        rot = self._rotations[rotation]
        found: datetime | None = None
        for clock in rot.regions:
            edge = clock.next_edge(after)
            if edge is not None and (found is None or edge < found):
                found = edge
        i = bisect.bisect_right(rot.override_edges, after)
        if i < len(rot.override_edges) and (found is None or rot.override_edges[i] < found):
            found = rot.override_edges[i]
        if rot.after_hours is not None:
            edge = self.next_change(rot.after_hours, after)
            if edge is not None and (found is None or edge < found):
                found = edge
        return None if found is None else found.astimezone(UTC)

    def shift_end(
        self, rotation: str, at: datetime, horizon: timedelta = DEFAULT_HORIZON
    ) -> datetime | None:
        """The first instant after ``at`` where the answer really differs from ``at``'s.

        None when it does not change within ``horizon`` (or ever).
        """
        current = self.oncall(rotation, at)
        limit = at + horizon
        t: datetime | None = at
        while t is not None and t < limit:
            t = self.next_change(rotation, t)
            if t is not None and t < limit and self.oncall(rotation, t) != current:
                return t
        return None

    def shifts(self, rotation: str, start: datetime, end: datetime) -> list[Shift]:
        """The maximal constant-answer intervals tiling ``[start, end)``, in time order.

        Empty when ``start >= end``. The first shift starts at ``start`` and the last one
        ends at ``end`` even when the answer holds longer.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        result: list[Shift] = []
        if start >= end:
            return result
        current = self.oncall(rotation, start)
        began = start
        t = start
        while True:
            change = self.next_change(rotation, t)
            if change is None or change >= end:
                break
            answer = self.oncall(rotation, change)
            if answer != current:
                result.append(_shift(began, change, current))
                current, began = answer, change
            t = change
        result.append(_shift(began, end, current))
        return result

    def gaps(
        self, rotation: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The intervals within ``[start, end)`` where nobody is on call, in time order."""
        return [(s.start, s.end) for s in self.shifts(rotation, start, end) if s.person is None]


def _shift(start: datetime, end: datetime, answer: OnCall) -> Shift:
    return Shift(start, end, answer.person, answer.region, answer.source)
