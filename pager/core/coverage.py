"""A week of follow-the-sun coverage as data, for the status page's picture.

Pure: the config's rotation, a resolver and the week's first instant in, a
:class:`Coverage` out. What it holds, all in UTC and clipped to the week ``[start, end)``:

* ``lanes``: one per region, in file order. A lane's ``segments`` are the intervals where
  the region is within its hours, split where its member changes, each naming the person
  :meth:`~pager.core.rotation.RotationResolver.oncall_in_region` yields there (overrides
  applied, source ``override``).
* ``pages``: who takes new pages (:meth:`~pager.core.rotation.RotationResolver.shifts`):
  the winning region, the ``after_hours`` rotation, an override, or nobody.
* ``overlaps``: where two or more regions are within their hours at once (a handover).
* ``after_hours``: where no region covers and the after_hours rotation answers.
* ``gaps``: where nobody is on call.
* ``holidays``: per region, the local holiday dates inside the week as UTC intervals.
* ``overrides``: the rotation's overrides that touch the week.

A region's member changes only at its handoff instants, which are a subset of the daily
local ``handoff.at`` instants; its coverage only at window edges; overrides at their own
edges. Asking the resolver on each piece between those instants is therefore exact.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pager.core.hours import OpeningHours, local_instant, zone
from pager.core.model import Override, Region, Rotation
from pager.core.rotation import RotationResolver, Source

WEEK = timedelta(days=7)
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, slots=True)
class Segment:
    """``person`` is on duty for a lane (or takes pages) during ``[start, end)``."""

    start: datetime
    end: datetime
    person: str | None
    region: str | None
    source: Source


@dataclass(frozen=True, slots=True)
class Lane:
    region: str
    timezone: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Holiday:
    region: str
    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Coverage:
    rotation: str
    start: datetime
    end: datetime
    lanes: tuple[Lane, ...]
    pages: tuple[Segment, ...]
    overlaps: tuple[tuple[datetime, datetime], ...]
    after_hours: tuple[tuple[datetime, datetime], ...]
    gaps: tuple[tuple[datetime, datetime], ...]
    holidays: tuple[Holiday, ...]
    overrides: tuple[Override, ...]

    def people(self) -> tuple[str, ...]:
        """Everyone appearing in the week (lanes, then pages), first appearance first."""
        seen: dict[str, None] = {}
        for lane in self.lanes:
            for segment in lane.segments:
                if segment.person is not None:
                    seen.setdefault(segment.person)
        for segment in self.pages:
            if segment.person is not None:
                seen.setdefault(segment.person)
        return tuple(seen)


def parse_week(text: str) -> datetime:
    """``2026-W49`` -> the Monday 00:00 UTC starting that ISO week. Raises ``ValueError``."""
    match = _ISO_WEEK.match(text.strip())
    if match is None:
        raise ValueError(f"expected an ISO week like 2026-W49, got {text!r}")
    year, week = int(match.group(1)), int(match.group(2))
    monday = date.fromisocalendar(year, week, 1)  # raises ValueError for week 54 etc.
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def week_of(at: datetime) -> datetime:
    """The Monday 00:00 UTC starting the ISO week (in UTC) holding ``at``."""
    utc = at.astimezone(UTC)
    monday = utc.date() - timedelta(days=utc.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def week_label(start: datetime) -> str:
    """The ISO week name of ``start``: ``2026-W49``."""
    year, week, _ = start.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def coverage(
    rotation: Rotation, resolver: RotationResolver, start: datetime, length: timedelta = WEEK
) -> Coverage:
    """The coverage of ``rotation`` over ``[start, start + length)``; see the module doc.

    ``resolver`` must have been built from a config holding ``rotation`` (and its
    after_hours rotation). Raises ``ValueError`` for a naive ``start``.
    """
    if start.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    start = start.astimezone(UTC)
    end = start + length
    lanes: list[Lane] = []
    windows: list[tuple[datetime, datetime]] = []
    holidays: list[Holiday] = []
    for region in rotation.regions:
        lane, covered = _lane(rotation, region, resolver, start, end)
        lanes.append(lane)
        windows.extend(covered)
        holidays.extend(_holidays(region, start, end))
    pages = tuple(
        Segment(s.start, s.end, s.person, s.region, s.source)
        for s in resolver.shifts(rotation.name, start, end)
    )
    return Coverage(
        rotation=rotation.name,
        start=start,
        end=end,
        lanes=tuple(lanes),
        pages=pages,
        overlaps=tuple(_overlaps(windows)),
        after_hours=tuple(_merge([(p.start, p.end) for p in pages if p.source == "after_hours"])),
        gaps=tuple(_merge([(p.start, p.end) for p in pages if p.person is None])),
        holidays=tuple(holidays),
        overrides=tuple(o for o in rotation.overrides if o.start < end and o.end > start),
    )


def _lane(
    rotation: Rotation,
    region: Region,
    resolver: RotationResolver,
    start: datetime,
    end: datetime,
) -> tuple[Lane, list[tuple[datetime, datetime]]]:
    tz = zone(region.timezone)
    if region.hours is None:
        covered = [(start, end)]
    else:
        hours = OpeningHours(region.hours, tz, region.holidays)
        covered = list(hours.windows(start, end))
    # Every instant where the region's member may change: the daily local handoff time
    # (a superset of the real handoffs) and the overrides' edges.
    cuts: set[datetime] = set()
    first = start.astimezone(tz).date() - timedelta(days=1)
    for offset in range((end - start).days + 3):
        cuts.add(local_instant(first + timedelta(days=offset), region.handoff.at, tz))
    for override in rotation.overrides:
        cuts.update((override.start.astimezone(UTC), override.end.astimezone(UTC)))
    ordered = sorted(cuts)
    segments: list[Segment] = []
    for opened, closed in covered:
        points = [opened, *(t for t in ordered if opened < t < closed), closed]
        for lo, hi in itertools.pairwise(points):
            answer = resolver.oncall_in_region(rotation.name, region.name, lo)
            last = segments[-1] if segments else None
            if (
                last is not None
                and last.end == lo
                and last.person == answer.person
                and last.source == answer.source
            ):
                segments[-1] = Segment(last.start, hi, last.person, region.name, last.source)
            else:
                segments.append(Segment(lo, hi, answer.person, region.name, answer.source))
    return Lane(region.name, region.timezone, tuple(segments)), covered


def _holidays(region: Region, start: datetime, end: datetime) -> list[Holiday]:
    tz = zone(region.timezone)
    found: list[Holiday] = []
    for day in sorted(region.holidays):
        opened = local_instant(day, 0, tz)
        closed = local_instant(day + timedelta(days=1), 0, tz)
        if opened < end and closed > start:
            found.append(Holiday(region.name, day, max(opened, start), min(closed, end)))
    return found


def _overlaps(windows: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Where at least two of ``windows`` (each region's are disjoint) hold at once."""
    marks: list[tuple[datetime, int]] = []
    for opened, closed in windows:
        marks.extend(((opened, 1), (closed, -1)))
    marks.sort(key=lambda mark: (mark[0], mark[1]))  # closes before opens at one instant
    found: list[tuple[datetime, datetime]] = []
    depth, began = 0, None
    for at, delta in marks:
        depth += delta
        if depth >= 2 and began is None:
            began = at
        elif depth < 2 and began is not None:
            if at > began:
                found.append((began, at))
            began = None
    return _merge(found)


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for opened, closed in sorted(intervals):
        if merged and opened <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closed))
        else:
            merged.append((opened, closed))
    return merged
