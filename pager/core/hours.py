"""Local opening hours in a time zone: when they are open, as UTC instants.

Shared by rotations (when does a region cover an instant) and SLA clocks (when is a
business calendar open). Pure: instants in, instants out, all timezone-aware UTC.

DST rules (the README repeats them):

* A local wall time that does not exist (the spring-forward gap) means the first instant
  at or after it, i.e. the instant the clocks jump: "08:30" on a day whose 08:00-09:00
  is skipped opens at 09:00 local.
* A local wall time that occurs twice (the fall-back overlap) means its first occurrence.
* Windows are local: "08:00-17:00" is 9 hours long on an ordinary day and 8 or 10 hours on
  a day the clocks change inside it.
* Adjacent windows (Mon 00:00-24:00 then Tue 00:00-06:00) are one continuous window; it
  began when the first of them opened (looking back at most a week).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pager.core.model import Calendar, WeeklyHours

DAY = timedelta(days=1)
MINUTES_PER_DAY = 1440
#: How far back a continuous (merged) window is followed to find where it began.
MAX_LOOKBACK_DAYS = 7
#: How far ahead ``next_open`` searches before concluding the hours never open.
MAX_LOOKAHEAD_DAYS = 800


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The (cached) zone called ``name``; raises ``ZoneInfoNotFoundError`` if unknown."""
    return ZoneInfo(name)


def local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of local wall time ``day`` + ``minute`` minutes in ``tz``.

    ``minute`` may be 1440 (end of day = next day's midnight). Non-existent local times map
    to the first valid instant after them; ambiguous ones to their first occurrence.
    """
    if minute >= MINUTES_PER_DAY:
        day = day + timedelta(days=minute // MINUTES_PER_DAY)
        minute %= MINUTES_PER_DAY
    midnight = _steady_midnight(day, tz)
    if midnight is not None:
        return midnight + _MINUTE * minute
    return _exact_local_instant(day, minute, tz)


_MINUTE = timedelta(minutes=1)


# Rotations and calendars convert the same few local dates over and over; a conversion
# costs microseconds. Almost every local day has a single UTC offset, and then every
# time of that day is its midnight plus minutes: one cached answer per zone and date.
@lru_cache(maxsize=1 << 15)
def _steady_midnight(day: date, tz: ZoneInfo) -> datetime | None:
    """Local midnight of ``day`` as UTC when the whole day has one UTC offset, else None."""
    midnight = datetime(day.year, day.month, day.day)
    offset = tz.utcoffset(midnight)
    if offset is None:
        return None
    for probe in (midnight, midnight + DAY / 2, midnight + DAY):
        # Both folds: a time inside a gap or an overlap has two different offsets.
        if tz.utcoffset(probe) != offset or tz.utcoffset(probe.replace(fold=1)) != offset:
            return None
    return (midnight - offset).replace(tzinfo=UTC)


@lru_cache(maxsize=1 << 12)
def _exact_local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """``local_instant`` on a day the clocks change (or might)."""
    if minute >= MINUTES_PER_DAY:
        day = day + timedelta(days=minute // MINUTES_PER_DAY)
        minute %= MINUTES_PER_DAY
    naive = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In a spring-forward gap: fold=1 lands before the jump, fold=0 after it. The jump
    # itself is the first instant whose wall time is at or past ``naive``; zone
    # transitions fall on whole seconds, so bisecting whole seconds finds it exactly.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = first
    if lo > hi:
        lo, hi = hi, lo
    second = timedelta(seconds=1)
    while hi - lo > second:
        mid = lo + second * ((hi - lo) // second // 2)
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi


#: Most days :class:`OpeningHours` remembers (ten years of them).
_DAY_WINDOW_MEMO = 3660


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """``hours`` on their ``days`` in zone ``tz``, except on the local ``holidays``.

    A window belongs to the local date it opens on; that date's weekday must be in
    ``hours.days`` and the date must not be a holiday.
    """

    hours: WeeklyHours
    tz: ZoneInfo
    holidays: frozenset[date] = frozenset()
    #: Memo of :meth:`_day_window` (a pure function of the date): every SLA, reminder
    #: and calendar question asks about the same few days, and a zone conversion is dear.
    _day_windows: dict[date, tuple[datetime, datetime]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def of_calendar(cls, calendar: Calendar) -> OpeningHours:
        return cls(calendar.hours, zone(calendar.timezone), calendar.holidays)

    def _opens_on(self, day: date) -> bool:
        return day.weekday() in self.hours.days and day not in self.holidays

    def _day_window(self, day: date) -> tuple[datetime, datetime]:
        found = self._day_windows.get(day)
        if found is None:
            found = (
                local_instant(day, self.hours.start, self.tz),
                local_instant(day, self.hours.end, self.tz),
            )
            if len(self._day_windows) >= _DAY_WINDOW_MEMO:
                self._day_windows.clear()
            self._day_windows[day] = found
        return found

    def _raw_windows_from(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """Unmerged daily windows of ``day`` and the days after it (forever, unless none)."""
        if not self.hours.days:
            return
        while True:
            if self._opens_on(day):
                opened, closed = self._day_window(day)
                # Both ends inside one spring-forward gap: an empty window, never open.
                if opened < closed:
                    yield opened, closed
            day += DAY

    def _merged_from(self, day: date, until: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Merged windows whose first daily part opens on ``day`` or later, up to ``until``.

        The last window yielded is the first one reaching ``until`` (it may open after it);
        hours open around the clock would otherwise merge forever.
        """
        pending: tuple[datetime, datetime] | None = None
        for opened, closed in self._raw_windows_from(day):
            if pending is None:
                pending = (opened, closed)
            elif opened <= pending[1]:
                pending = (pending[0], max(pending[1], closed))
            else:
                yield pending
                pending = (opened, closed)
            if pending[1] >= until:
                yield pending
                return

    def window_at(self, t: datetime) -> tuple[datetime, datetime] | None:
        """The continuous window [open, close) containing ``t``, or None when closed."""
        local_day = t.astimezone(self.tz).date()
        found: tuple[datetime, datetime] | None = None
        # A window containing t opened on t's local date or the day before (a window
        # never spans more than a day and a bit around DST).
        for day in (local_day - DAY, local_day):
            if self._opens_on(day):
                opened, closed = self._day_window(day)
                if opened <= t < closed:
                    found = (opened, closed)
        if found is None:
            return None
        return self._extend(found)

    def _extend(self, window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
        """Grow ``window`` over adjacent daily windows, back (bounded) and forward."""
        opened, closed = window
        day = opened.astimezone(self.tz).date()
        for _ in range(MAX_LOOKBACK_DAYS):
            day -= DAY
            if not self._opens_on(day):
                break
            prev_open, prev_close = self._day_window(day)
            if prev_close < opened:
                break
            opened = prev_open
        day = closed.astimezone(self.tz).date() - DAY
        for _ in range(MAX_LOOKBACK_DAYS):
            day += DAY
            if not self._opens_on(day):
                continue
            next_open, next_close = self._day_window(day)
            if next_open > closed:
                break
            closed = max(closed, next_close)
        return opened, closed

    def is_open(self, t: datetime) -> bool:
        local = t.astimezone(self.tz)
        day = local.date()
        minute = local.hour * 60 + local.minute
        # Fast path: well inside today's window. Only on the first pass of a repeated
        # hour (fold 0): there wall order is instant order, so it agrees with window_at.
        if (
            local.fold == 0
            and self._opens_on(day)
            and self.hours.start < minute < self.hours.end - 1
        ):
            return True
        return self.window_at(t) is not None

    def next_open(self, t: datetime) -> datetime | None:
        """``t`` itself when open, else the next instant the hours open; None if never."""
        if self.window_at(t) is not None:
            return t
        day = t.astimezone(self.tz).date() - DAY
        for _ in range(MAX_LOOKAHEAD_DAYS):
            if self._opens_on(day):
                opened, _closed = self._day_window(day)
                if opened >= t:
                    return opened
            day += DAY
        return None

    def windows(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Merged windows intersecting [start, end), in time order, clipped to it.

        Work is linear in the days between ``start`` and ``end``.
        """
        if start >= end:
            return
        current = self.window_at(start)
        first = current[0] if current is not None else start
        for opened, closed in self._merged_from(first.astimezone(self.tz).date() - DAY, end):
            if opened >= end:
                return
            if closed <= start:
                continue
            yield max(opened, start), min(closed, end)
