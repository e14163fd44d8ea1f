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

Speed: each region (:mod:`pager.core.regionclock`) caches blocks of two weeks of local
days (the windows touching them, their handoff instants, every instant where something
may change), so a lookup is a dict lookup and two binary searches per region;
:meth:`RotationResolver.shifts` sweeps the blocks' change instants and
:meth:`RotationResolver.gaps` only unions windows.
Instances are not thread-safe (the caches); the daemon uses one per config.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pager.core.model import Override, Rotation
from pager.core.regionclock import NEVER_BEGAN, Block, Interval, RegionClock

Source = Literal["region", "override", "after_hours", "gap"]

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
class _Compiled:
    name: str
    regions: tuple[RegionClock, ...]
    by_region: Mapping[str, RegionClock]
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
            clocks = tuple(RegionClock(region) for region in rotation.regions)
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
        return _overridden(rot, at, self._base(rot, at, None))

    def _base(self, rot: _Compiled, at: datetime, after_hours: _Cursor | None) -> OnCall:
        """The answer before ``rot``'s own overrides; ``after_hours`` answers for the
        after_hours rotation when given (a sweep), else it is asked."""
        best: RegionClock | None = None
        best_blk: Block | None = None
        best_began = NEVER_BEGAN
        for clock in rot.regions:
            blk = clock.block(at)
            if clock.hours is None:
                began = NEVER_BEGAN
            else:
                # RegionClock.began, inlined: this loop is the hot path of every lookup.
                i = bisect.bisect_right(blk.span_starts, at) - 1
                if i < 0 or at >= blk.spans[i][1]:
                    continue
                began = blk.spans[i][2]
            if best is None or began > best_began:
                best, best_blk, best_began = clock, blk, began
        if best is not None and best_blk is not None:
            return OnCall(best.member(best_blk, at), best.name, "region")
        if rot.after_hours is None:
            return GAP
        inner = self.oncall(rot.after_hours, at) if after_hours is None else after_hours.at(at)
        if inner.person is None:
            return GAP
        return OnCall(inner.person, None, "after_hours")

    def covers(self, rotation: str, region: str, at: datetime) -> bool:
        """Whether ``region`` of ``rotation`` is within its hours at ``at``."""
        if at.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        return self._rotations[rotation].by_region[region].covers(at)

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
        member = clock.member(clock.block(at), at)
        yielded: OnCall | None = None
        for override in rot.overrides:
            if not override.start <= at < override.end:
                continue
            if override.replaces is not None:
                if override.replaces == member:
                    return OnCall(override.person, region, "override")
                continue
            if yielded is None:
                yielded = self._base(rot, at, None)
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
        rot = self._rotations[rotation]
        result: list[Shift] = []
        if start >= end:
            return result
        # A sweep: every instant where some input may change (region edges, override
        # edges, the after_hours rotation's own shifts), answered in time order.
        after_hours = None
        candidates: set[datetime] = set()
        if rot.after_hours is not None:
            after_shifts = self.shifts(rot.after_hours, start, end)
            after_hours = _Cursor(after_shifts)
            candidates.update(shift.start for shift in after_shifts[1:])
        for clock in rot.regions:
            candidates.update(clock.edges_between(start, end))
        candidates.update(edge for edge in rot.override_edges if start < edge < end)
        current = _overridden(rot, start, self._base(rot, start, after_hours))
        began = start
        for t in sorted(candidates):
            answer = _overridden(rot, t, self._base(rot, t, after_hours))
            if answer != current:
                result.append(_shift(began, t, current))
                current, began = answer, t
        result.append(_shift(began, end, current))
        return result

    def gaps(self, rotation: str, start: datetime, end: datetime) -> list[Interval]:
        """The maximal intervals within ``[start, end)`` where nobody is on call, in order.

        The same as the person-less :meth:`shifts`, computed without asking who: nobody is
        on call exactly where no region covers, the after_hours rotation (if any) has a
        gap, and no override without ``replaces`` runs (one with ``replaces`` never
        applies to nobody). This is what ``pager check`` sweeps over long horizons.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("instants must be timezone-aware")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if start >= end:
            return []
        rot = self._rotations[rotation]
        covered: list[Interval] = []
        for clock in rot.regions:
            if clock.hours is None:
                return []
            covered.extend(clock.windows_between(start, end))
        if rot.after_hours is not None:
            covered.extend(_complement(self.gaps(rot.after_hours, start, end), start, end))
        for override in rot.overrides:
            if override.replaces is None and override.start < end and override.end > start:
                covered.append((max(override.start, start), min(override.end, end)))
        return _complement(covered, start, end)


def _shift(start: datetime, end: datetime, answer: OnCall) -> Shift:
    return Shift(start, end, answer.person, answer.region, answer.source)


def _complement(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    """What of ``[start, end)`` the ``intervals`` (within it, any order) leave uncovered."""
    found: list[Interval] = []
    cursor = start
    for opened, closed in sorted(intervals):
        if opened > cursor:
            found.append((cursor, opened))
        if closed > cursor:
            cursor = closed
    if cursor < end:
        found.append((cursor, end))
    return found


def _overridden(rot: _Compiled, at: datetime, base: OnCall) -> OnCall:
    """``base`` after ``rot``'s overrides (file order, first match wins)."""
    for override in rot.overrides:
        if override.start <= at < override.end and (
            override.replaces is None or override.replaces == base.person
        ):
            return OnCall(override.person, base.region, "override")
    return base


class _Cursor:
    """Answers from a list of shifts for instants asked in non-decreasing order."""

    __slots__ = ("_index", "_shifts")

    def __init__(self, shifts: list[Shift]) -> None:
        self._shifts = shifts
        self._index = 0

    def at(self, t: datetime) -> OnCall:
        while self._shifts[self._index].end <= t:
            self._index += 1
        shift = self._shifts[self._index]
        return OnCall(shift.person, shift.region, shift.source)
