"""``pager schedule -c DIR --rotation NAME --from T --to T [--ical] [--output FILE]``.

Lists the shifts (maximal intervals with one answer) of a rotation that overlap
``[from, to)``, with their real start and end (looked for at most ``LOOKAROUND`` beyond
the range), in UTC and in the local time of the shift's region. ``--ical`` writes an
iCalendar feed instead: one VEVENT per shift that has someone on call, with a UID that
stays the same from one export to the next. Exit 0; 1 for an invalid config; 2 for an
unknown rotation or a bad range.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pager.cli.common import (
    TIME_HELP,
    CliError,
    UsageError,
    add_time_argument,
    load_or_report,
    now_utc,
    require_rotations,
)
from pager.cli.oncall import format_utc, person_label, table
from pager.core.hours import zone
from pager.core.model import Config
from pager.core.rotation import RotationResolver, Shift

#: How far beyond the range a shift's real start and end are looked for.
LOOKAROUND = timedelta(days=14)
PRODID = "-//pager//on-call schedule//EN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rotation", required=True, metavar="NAME", help="the rotation")
    add_time_argument(parser, "--from", dest="start", required=True, help=f"start; {TIME_HELP}")
    add_time_argument(parser, "--to", dest="end", required=True, help="end (exclusive)")
    parser.add_argument("--ical", action="store_true", help="write an iCalendar (RFC 5545) feed")
    parser.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    start: datetime = args.start
    end: datetime = args.end
    if start >= end:
        raise UsageError("--from must be before --to")
    config = load_or_report(args.config)
    if config is None:
        return 1
    require_rotations(config, [args.rotation])
    resolver = RotationResolver(config.rotations)
    shifts = overlapping_shifts(resolver, args.rotation, start, end)
    if args.ical:
        data = ical_feed(resolver, config, args.rotation, shifts, now_utc())
    else:
        data = schedule_text(resolver, config, args.rotation, shifts, start, end).encode()
    if args.output:
        write_output(Path(args.output), data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def write_output(path: Path, data: bytes) -> None:
    """``data`` into ``path``; a CliError naming the file when that is impossible."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        hint = " (its directory does not exist)" if not path.parent.is_dir() else ""
        raise CliError(f"cannot write {path}: {exc.strerror or exc}{hint}") from None


def overlapping_shifts(
    resolver: RotationResolver, rotation: str, start: datetime, end: datetime
) -> list[Shift]:
    """Shifts overlapping ``[start, end)``, unclipped up to ``LOOKAROUND`` either side."""
    wide = resolver.shifts(rotation, start - LOOKAROUND, end + LOOKAROUND)
    return [shift for shift in wide if shift.end > start and shift.start < end]


# --- the table -------------------------------------------------------------------------


def schedule_text(
    resolver: RotationResolver,
    config: Config,
    rotation: str,
    shifts: Sequence[Shift],
    start: datetime,
    end: datetime,
) -> str:
    rows = [("START (UTC)", "END (UTC)", "LOCAL (REGION'S ZONE)", "PERSON", "REGION", "SOURCE")]
    for shift in shifts:
        rows.append(
            (
                format_utc(shift.start),
                format_utc(shift.end),
                local_span(resolver, rotation, shift),
                person_label(config, shift.person),
                shift.region or "-",
                shift.source,
            )
        )
    gaps = sum(1 for shift in shifts if shift.person is None)
    header = (
        f"{rotation}: {len(shifts)} shifts overlapping {format_utc(start)} - {format_utc(end)}"
        f" ({gaps} with nobody on call)\n\n"
    )
    return header + table(rows)


def local_span(resolver: RotationResolver, rotation: str, shift: Shift) -> str:
    """``Mon 23 Nov 08:30 - Mon 23 Nov 15:00 EET`` in the region's zone, ``-`` without one."""
    if shift.region is None:
        return "-"
    tz = zone(resolver.region_timezone(rotation, shift.region))
    opened, closed = shift.start.astimezone(tz), shift.end.astimezone(tz)
    names = opened.tzname() or ""
    if closed.tzname() != opened.tzname():  # the clocks change inside the shift
        names = f"{names}/{closed.tzname()}"
    return f"{opened:%a %d %b %H:%M} - {closed:%a %d %b %H:%M} {names}"


# --- the iCalendar feed ----------------------------------------------------------------


def ical_feed(
    resolver: RotationResolver,
    config: Config,
    rotation: str,
    shifts: Sequence[Shift],
    now: datetime,
) -> bytes:
    """A VCALENDAR with one VEVENT per shift that has a person; DTSTART/DTEND in UTC."""
    calendar = new_calendar(f"On call: {rotation}")
    for shift in shifts:
        if shift.person is not None:
            calendar.add_component(shift_event(resolver, config, rotation, shift, now))
    data: bytes = calendar.to_ical()
    return data


def new_calendar(name: str) -> Any:
    """An empty VCALENDAR named ``name`` (shared with the status page's feeds)."""
    # Imported here: every other command (simulate among them) would pay for it at start.
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    return calendar


def shift_event(
    resolver: RotationResolver, config: Config, rotation: str, shift: Shift, now: datetime
) -> Any:
    """The VEVENT of one shift with a person; its UID is :func:`shift_uid`."""
    import icalendar

    known = config.people.get(shift.person or "")
    name = known.name if known is not None and known.name else shift.person
    where = shift.region or shift.source.replace("_", " ")
    event = icalendar.Event()
    event.add("uid", shift_uid(rotation, shift))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", shift.start.astimezone(UTC))
    event.add("dtend", shift.end.astimezone(UTC))
    event.add("summary", f"On call: {name} ({where})")
    event.add(
        "description",
        f"rotation {rotation}; person {shift.person}; region {shift.region or '-'}; "
        f"source {shift.source}; local {local_span(resolver, rotation, shift)}",
    )
    return event


def shift_uid(rotation: str, shift: Shift) -> str:
    """Stable across exports: a digest of rotation, start and person."""
    key = f"{rotation}\n{format_utc(shift.start)}\n{shift.person}".encode()
    return f"{hashlib.sha256(key).hexdigest()[:32]}@pager"
