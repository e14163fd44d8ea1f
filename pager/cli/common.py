"""What every sub-command shares: errors, loading the config, and reading times.

Errors: a command raises :class:`CliError` (exit 1) or :class:`UsageError` (exit 2);
``pager.cli.main`` prints it as one line, ``pager COMMAND: message``, on stderr. Nothing
else of the CLI prints a traceback for a user's mistake.

Times: every option that takes an instant (``--at``, ``--from``, ``--to``, ``--until``)
is declared with :func:`add_time_argument` and read by :func:`parse_when`, in the zone
of ``--tz`` (UTC unless given), after argparse is done (the zone is another option).
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pager.config.load import ConfigError, load_config
from pager.core.model import Config
from pager.daemon.clock import Clock, SystemClock

if TYPE_CHECKING:
    import pendulum


class CliError(Exception):
    """A failure to report as one line on stderr; exit code 1."""


class UsageError(CliError):
    """A command line that cannot be obeyed as written; exit code 2."""


def load_or_report(directory: str, *, require_secrets: bool = False) -> Config | None:
    """The config in ``directory``, or None after printing every issue and a count to stderr."""
    try:
        return load_config(directory, require_secrets=require_secrets)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        count = len(exc.issues)
        print(f"{count} problem{'' if count == 1 else 's'}", file=sys.stderr)
        return None


def require_rotations(config: Config, names: list[str]) -> None:
    """Raise :class:`UsageError` naming every one of ``names`` that is not a rotation."""
    unknown = [name for name in names if name not in config.rotations]
    if unknown:
        known = ", ".join(config.rotations) or "none"
        listed = ", ".join(repr(name) for name in unknown)
        raise UsageError(f"unknown rotation {listed} (known: {known})")


#: The wall clock for commands: the daemon's own clock (one definition of "now").
now_utc: Clock = SystemClock()


# --- times ---------------------------------------------------------------------------

TIME_HELP = (
    "an RFC 3339 or ISO 8601 date/time (2026-11-23T09:00:00+02:00, 2026-11-23 09:00, "
    "2026-11-23), or relative: now, today, tomorrow 9:00, yesterday 17:30, monday 08:00, "
    "+2h, -30m, 'in 1d12h', '2h ago'; without an offset it is in --tz (default UTC)"
)

_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SPAN = re.compile(r"(?:\d+[smhdw])+")
_SPAN_PART = re.compile(r"(\d+)([smhdw])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?")


def add_time_argument(
    parser: argparse.ArgumentParser, *flags: str, dest: str, help: str, required: bool = False
) -> None:
    """An option taking a time; ``args.<dest>`` is an aware UTC datetime (or None) once
    :func:`resolve_times` ran. Adds ``--tz`` to the parser the first time."""
    parser.add_argument(*flags, dest=dest, required=required, metavar="TIME", help=help)
    dests: list[tuple[str, str]] = parser.get_default("_time_dests") or []
    if not dests:
        parser.add_argument(
            "--tz",
            default="UTC",
            metavar="ZONE",
            # Hidden along with a hidden time option (check's --now).
            help=help
            if help == argparse.SUPPRESS
            else "the zone of times written without an offset (an IANA name such as "
            "Europe/Bucharest; default UTC)",
        )
    parser.set_defaults(_time_dests=[*dests, (dest, flags[-1])])


def resolve_times(args: argparse.Namespace, now: datetime | None = None) -> None:
    """Replace each time option's text by its instant; :class:`UsageError` if unreadable."""
    dests: list[tuple[str, str]] = getattr(args, "_time_dests", None) or []
    if not dests:
        return
    try:
        _zone(args.tz)  # checked even when no time is given: a typo is never silent
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    now = now or now_utc()
    for dest, flag in dests:
        text = getattr(args, dest)
        if isinstance(text, str):
            try:
                setattr(args, dest, parse_when(text, now=now, tz=args.tz))
            except ValueError as exc:
                raise UsageError(f"{flag}: {exc}") from None


def parse_when(text: str, *, now: datetime, tz: str = "UTC") -> datetime:
    """The instant ``text`` names, as an aware UTC datetime (a plain ``datetime``).

    Absolute: RFC 3339 / ISO 8601 (``2026-11-23T07:00:00Z``, ``2026-11-23 09:00``,
    ``2026-11-23``, ``2026-W48-1``); without an offset the wall time is in ``tz``.
    Relative to ``now``: ``now``; ``today``/``tomorrow``/``yesterday`` (midnight in ``tz``)
    or a weekday (the next one, today included while the time is still ahead), each
    optionally followed by a clock time (``9:00``, ``17:30:15``, ``9am``); a bare clock
    time (today); and spans ``+2h``, ``-30m``, ``in 1d12h``, ``2h ago`` (units s m h d w).
    Only years 1970-2999. Raises ``ValueError`` with the reason.
    """
    try:
        instant = _parse_when(text, now=now, tz=tz)
    except OverflowError:
        instant = datetime.max.replace(tzinfo=UTC)
    if not EARLIEST <= instant <= LATEST:
        raise ValueError(
            f"not a time: {text!r} is out of range ({EARLIEST.year}-{LATEST.year} only)"
        )
    return instant


#: The instants the CLI accepts (the calendar arithmetic has room on either side).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)


def _parse_when(text: str, *, now: datetime, tz: str) -> datetime:
    # Imported here: every command loads this module, ``pager run`` too, and the daemon
    # never reads a time from its command line (pendulum and dateutil are 3 MiB of RSS).
    import pendulum

    zone = _zone(tz)
    words = " ".join(text.strip().lower().split())
    if not words:
        raise ValueError("empty time")
    local = pendulum.instance(now).in_timezone(zone.key)
    try:
        relative = _relative(words, local)
    except ValueError as exc:
        raise ValueError(f"not a time: {text!r} ({exc}); {_EXAMPLES}") from None
    if relative is not None:
        return _plain_utc(relative).replace(microsecond=0)  # a clock reading, to the second
    day, _, clock = words.partition(" ")
    if clock and _ISO_DATE.fullmatch(day) and _CLOCK.fullmatch(clock):
        words = day  # "2026-11-23 9am": the date, then the clock time as for "tomorrow 9am"
    else:
        clock = ""
    try:
        # ISO 8601 only (strict): a lenient parse reads "9" as the 9th of this month.
        parsed = pendulum.parse(words.upper(), tz=zone.key, strict=True)
    except (ValueError, TypeError, OverflowError) as exc:  # ParserError is a ValueError
        raise ValueError(f"not a time: {text!r} ({_reason(exc)}); {_EXAMPLES}") from None
    if clock and isinstance(parsed, datetime):
        try:
            parsed = _at(pendulum.instance(parsed).in_timezone(zone.key).start_of("day"), clock)
        except ValueError as exc:
            raise ValueError(f"not a time: {text!r} ({exc}); {_EXAMPLES}") from None
    if not isinstance(parsed, datetime):
        if isinstance(parsed, pendulum.Date):
            parsed = pendulum.datetime(parsed.year, parsed.month, parsed.day, tz=zone.key)
        else:
            raise ValueError(f"not a date and time: {text!r}; {_EXAMPLES}")
    return _plain_utc(parsed)


_EXAMPLES = "e.g. 2026-11-23T09:00:00Z, 'tomorrow 9:00', +2h"


def _zone(name: str) -> ZoneInfo:
    from pager.config.fields import zone_problem

    problem = zone_problem(name)
    if problem is not None:
        raise ValueError(f"--tz: {problem}")
    return ZoneInfo(name)


def _relative(words: str, local: pendulum.DateTime) -> pendulum.DateTime | None:
    """The relative forms; None when ``words`` is not one (then it is parsed as absolute)."""
    if words == "now":
        return local
    span = _span(words)
    if span is not None:
        return local + span
    day, _, clock = words.partition(" ")
    if day == "next" and clock:
        day, _, clock = clock.partition(" ")
        if day not in _WEEKDAYS:
            raise ValueError(f"not a weekday after 'next': {day!r}")
    if day in _DAYS:
        base = local.start_of("day").add(days=_DAYS[day])
        return _at(base, clock) if clock else base
    if day in _WEEKDAYS:
        start = local.start_of("day").add(days=(_WEEKDAYS[day] - local.weekday()) % 7)
        if not clock:
            return start
        candidate = _at(start, clock)
        return candidate if candidate > local else _at(start.add(days=7), clock)
    clock_only = _CLOCK.fullmatch(words)
    if clock_only is not None and (":" in words or clock_only[4]):
        return _at(local.start_of("day"), words)
    return None


def _span(words: str) -> timedelta | None:
    sign = 1
    body = words
    if body.startswith(("+", "-")):
        sign = -1 if body[0] == "-" else 1
        body = body[1:].strip()
    elif body.startswith("in "):
        body = body[3:].strip()
    elif body.endswith(" ago"):
        sign, body = -1, body[:-4].strip()
    else:
        return None
    compact = body.replace(" ", "")
    if not _SPAN.fullmatch(compact):
        raise ValueError(
            f"not a span: {words!r} (a number and a unit s, m, h, d or w, e.g. +2h, in 1d12h)"
        )
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _SPAN_PART.findall(compact))
    return timedelta(seconds=sign * seconds)


def _at(day: pendulum.DateTime, clock: str) -> pendulum.DateTime:
    match = _CLOCK.fullmatch(clock.strip())
    if match is None:
        raise ValueError(f"not a time of day: {clock!r} (e.g. 9:00, 17:30, 9am)")
    hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise ValueError(f"not a time of day: {clock!r}")
        hour = hour % 12 + (12 if match[4] == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time of day: {clock!r}")
    # pendulum moves a wall time that does not exist (spring forward) past the gap.
    return day.at(hour, minute, second)


def _plain_utc(value: datetime) -> datetime:
    """Back to a plain datetime in UTC: pendulum's subclass stays out of the core."""
    utc = value.astimezone(UTC)
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
