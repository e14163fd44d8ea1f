"""A person's local day: where they work from, and whether an instant is in their hours.

A person's home is the first rotation region listing them (rotations by name, regions
in file order): its timezone, ``hours`` and ``holidays``. A region without ``hours``
(it covers every instant) and a person in no region get :data:`DEFAULT_HOURS` (Monday
to Friday, 09:00-17:00), the latter in UTC: nobody's working day is 24 hours long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from pager.core.hours import zone
from pager.core.model import Config, WeeklyHours

DEFAULT_HOURS = WeeklyHours(frozenset(range(5)), 9 * 60, 17 * 60)
Period = Literal["working", "night", "weekend", "holiday"]


@dataclass(frozen=True, slots=True)
class Home:
    """Where a person works: ``region`` is ``rotation/region`` (``-`` for none)."""

    region: str
    timezone: str
    hours: WeeklyHours
    holidays: frozenset[date]

    def local(self, at: float) -> datetime:
        """The local wall time of epoch instant ``at`` (DST-correct)."""
        return datetime.fromtimestamp(at, UTC).astimezone(zone(self.timezone))

    def period(self, local: datetime) -> Period:
        """Which part of the person's week a local time falls in (holiday first)."""
        if local.date() in self.holidays:
            return "holiday"
        if local.weekday() not in self.hours.days:
            return "weekend"
        minute = local.hour * 60 + local.minute
        return "working" if self.hours.start <= minute < self.hours.end else "night"


NOWHERE = Home("-", "UTC", DEFAULT_HOURS, frozenset())


def homes(config: Config) -> dict[str, Home]:
    """Every person's :class:`Home` (people in no region get :data:`NOWHERE`)."""
    found: dict[str, Home] = {}
    for name in sorted(config.rotations):
        for region in config.rotations[name].regions:
            home = Home(
                f"{name}/{region.name}",
                region.timezone,
                region.hours or DEFAULT_HOURS,
                region.holidays,
            )
            for member in region.members:
                found.setdefault(member, home)
    return {person: found.get(person, NOWHERE) for person in config.people} | {
        p: h for p, h in found.items() if p not in config.people
    }
