"""A person's local day: where they work from, and whether an instant is in their hours.

A person's home is the first rotation region listing them (rotations by name, regions
in file order): its timezone, ``hours`` and ``holidays``. A region without ``hours``
(it covers every instant) and a person in no region get :data:`DEFAULT_HOURS` (Monday
to Friday, 09:00-17:00), the latter in UTC: nobody's working day is 24 hours long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Literal

from pager.core.hours import zone
from pager.core.model import Config, WeeklyHours

DEFAULT_HOURS = WeeklyHours(frozenset(range(5)), 9 * 60, 17 * 60)
Period = Literal["working", "night", "weekend", "holiday"]
#: Every zone's UTC offset is a multiple of 15 minutes and changes only at instants that
#: are, so it is constant within each aligned 15-minute bucket of epoch time.
_BUCKET = 900
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=1 << 16)
def _offset(timezone: str, bucket: int) -> int:
    """The UTC offset (seconds) of ``timezone`` throughout epoch bucket ``bucket``."""
    offset = datetime.fromtimestamp(bucket * _BUCKET, zone(timezone)).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


@dataclass(frozen=True, slots=True)
class Home:
    """Where a person works: ``region`` is ``rotation/region`` (``-`` for none)."""

    region: str
    timezone: str
    hours: WeeklyHours
    holidays: frozenset[date]
    #: The holidays as days since the epoch (what :meth:`place` compares).
    _holiday_days: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        days = frozenset(d.toordinal() - _EPOCH_ORDINAL for d in self.holidays)
        object.__setattr__(self, "_holiday_days", days)

    def place(self, at: float) -> tuple[int, Period]:
        """The local hour of epoch instant ``at`` and the part of the week it falls in.

        The same answer as :meth:`period` of :meth:`local`, by arithmetic on the local
        epoch seconds (a report places hundreds of thousands of pages)."""
        local = int(at) + _offset(self.timezone, int(at) // _BUCKET)
        day, second = divmod(local, 86400)
        minute = second // 60
        hour = minute // 60
        if day in self._holiday_days:
            return hour, "holiday"
        if (day + 3) % 7 not in self.hours.days:  # 1970-01-01 was a Thursday (3)
            return hour, "weekend"
        working = self.hours.start <= minute < self.hours.end
        return hour, "working" if working else "night"

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
