"""SLA clock arithmetic: deadlines and elapsed clock time, 24x7 or business hours.

Pure functions of their arguments (instants are timezone-aware UTC ``datetime`` objects;
results are UTC too). Business time is the open time of an :class:`OpeningHours`
(holidays are closed); the window logic, including DST, lives there.

Contracts shared by every function here:

* ``clock == "24x7"`` counts wall time (absolute seconds, DST-proof).
* ``clock == "business"`` counts only instants at which ``calendar`` is open. A deadline
  that uses up its open time exactly at a close is that close instant (not the next open).
* A business-kind duration (:class:`BusinessHours`, :class:`BusinessDays`) always counts
  business time, even with ``clock == "24x7"`` (config rejects that pairing; the core
  follows the duration's own unit rather than guessing a conversion).
* ``BusinessDays(n)`` is ``n`` times the length of one opening of the calendar
  (``hours.end - hours.start``) of open time. From inside an opening that lands on the same
  local time ``n`` openings later, from outside at the end of the ``n``-th opening. On the
  rare calendar whose opening itself contains a DST change (an opening 1 h longer or
  shorter), the result moves by that hour: counting open time keeps :func:`add` and
  :func:`elapsed` exact inverses, which pausing and resuming rely on.
* ``ValueError`` means the question has no answer: a naive instant, a negative duration,
  or a business count on a calendar that never opens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pager.core.hours import OpeningHours
from pager.core.model import BusinessDays, BusinessHours, ClockKind, Duration, WallDuration

ZERO = timedelta(0)
#: How far one ``OpeningHours.windows`` call is asked to look; ``add`` keeps asking from
#: where it stopped, so this only bounds the size of one request, not the answer.
_HORIZON = timedelta(days=400)


def _check_aware(*instants: datetime) -> None:
    for t in instants:
        if t.tzinfo is None or t.utcoffset() is None:
            raise ValueError(f"naive datetime {t.isoformat()}: instants must be timezone-aware")


def open_time(duration: Duration, calendar: OpeningHours) -> timedelta:
    """``duration`` as an amount of clock time (for business units: of open time).

    ``BusinessDays(n)`` is ``n`` openings of ``calendar.hours`` (see the module docstring).
    Raises ``ValueError`` for a negative duration.
    """
    match duration:
        case WallDuration(delta=delta):
            amount = delta
        case BusinessHours(hours=hours):
            amount = timedelta(hours=hours)
        case BusinessDays(days=days):
            amount = days * timedelta(minutes=calendar.hours.end - calendar.hours.start)
    if amount < ZERO:
        raise ValueError(f"negative duration {duration!r}")
    return amount


def _is_business(duration: Duration, clock: ClockKind) -> bool:
    return clock == "business" or not isinstance(duration, WallDuration)


def _add_open_time(start: datetime, amount: timedelta, calendar: OpeningHours) -> datetime:
    """The instant at which ``amount`` of open time, counted from ``start``, is used up."""
    if amount <= ZERO:
        return start
    left = amount
    cursor = start
    while True:
        seen = False
        for opened, closed in calendar.windows(cursor, cursor + _HORIZON):
            seen = True
            available = closed - opened
            if left <= available:
                return opened + left
            left -= available
            cursor = closed
        if not seen:
            # A horizon with no opening at all (a long run of holidays) is not yet proof
            # that the calendar never opens again.
            reopens = calendar.next_open(cursor)
            if reopens is None:
                raise ValueError(f"calendar never opens after {cursor.isoformat()}")
            cursor = max(reopens, cursor + _HORIZON)
        # Otherwise the windows ran out at the horizon (a sparse calendar, a long
        # duration): continue from the last close; ``cursor`` only moves forward.


def add(start: datetime, duration: Duration, clock: ClockKind, calendar: OpeningHours) -> datetime:
    """The deadline ``duration`` of ``clock`` time after ``start``.

    The result is in UTC. A zero duration returns ``start`` itself, even outside business
    hours. Raises ``ValueError`` when ``start`` is naive, the duration is negative, or
    business time is needed on a calendar that never opens.
    """
    _check_aware(start)
    amount = open_time(duration, calendar)
    if not _is_business(duration, clock):
        return (start + amount).astimezone(UTC)
    return _add_open_time(start, amount, calendar).astimezone(UTC)


def elapsed(start: datetime, end: datetime, clock: ClockKind, calendar: OpeningHours) -> timedelta:
    """Clock time between ``start`` and ``end`` (open time only for business); zero if
    ``end <= start``. Raises ``ValueError`` for naive instants."""
    _check_aware(start, end)
    if end <= start:
        return ZERO
    if clock == "24x7":
        return end - start
    total = ZERO
    for opened, closed in calendar.windows(start, end):
        total += closed - opened
    return total


def remaining(
    now: datetime, deadline: datetime, clock: ClockKind, calendar: OpeningHours
) -> timedelta:
    """Clock time left at ``now`` until ``deadline``: what a pause must remember.

    Never negative: a deadline already passed leaves zero.
    """
    return elapsed(now, deadline, clock, calendar)


def resume(now: datetime, left: timedelta, clock: ClockKind, calendar: OpeningHours) -> datetime:
    """The deadline when a clock paused with ``left`` to go resumes at ``now``.

    ``resume(p, remaining(p, d, ...), ...)`` gives back ``d``; for a business clock a
    ``d`` outside hours comes back as the last close before it (the same clock time). A negative
    ``left`` is treated as zero (the deadline is ``now``: it fires at once).
    """
    return add(now, WallDuration(max(left, ZERO)), clock, calendar)
