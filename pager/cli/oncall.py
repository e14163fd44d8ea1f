"""``pager oncall -c DIR [--at TIME] [--rotation NAME] [--json]``: who is on call.

Exit 0 with the answer; 1 when the config is invalid (every problem on stderr, one per
line); 2 for an unknown rotation or a TIME that cannot be parsed. Also home of the time
parsing and labels ``pager schedule`` shares.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pendulum

from pager.config.load import ConfigError, load_config
from pager.core.model import Config
from pager.core.rotation import OnCall, RotationResolver

TIME_HELP = (
    "RFC 3339 (2026-11-23T07:00:00Z, 2026-11-23T09:00:00+02:00) or anything "
    "pendulum.parse accepts (2026-11-23 07:00, 2026-W48-1, now); a time without an "
    "offset is UTC"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at",
        type=parse_instant,
        default=None,
        metavar="TIME",
        help=f"when (default now); {TIME_HELP}",
    )
    parser.add_argument(
        "--rotation", action="append", metavar="NAME", help="only this rotation (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    at: datetime = args.at or datetime.now(UTC).replace(microsecond=0)
    names = args.rotation or list(config.rotations)
    unknown = [name for name in names if name not in config.rotations]
    if unknown:
        known = ", ".join(config.rotations) or "none"
        for name in unknown:
            print(f"pager oncall: unknown rotation {name!r} (known: {known})", file=sys.stderr)
        return 2
    resolver = RotationResolver(config.rotations)
    if args.json:
        print(json.dumps(oncall_json(resolver, names, at)))
    else:
        print(oncall_text(resolver, config, names, at), end="")
    return 0


# --- output ----------------------------------------------------------------------------


def oncall_json(resolver: RotationResolver, names: Sequence[str], at: datetime) -> dict[str, Any]:
    """The SPEC's shape: ``{"at": "...Z", "rotations": {NAME: {person, region, source}}}``."""
    rotations: dict[str, Any] = {}
    for name in names:
        answer = resolver.oncall(name, at)
        rotations[name] = {
            "person": answer.person,
            "region": answer.region,
            "source": answer.source,
        }
    return {"at": format_utc(at), "rotations": rotations}


def oncall_text(
    resolver: RotationResolver, config: Config, names: Sequence[str], at: datetime
) -> str:
    """A table per rotation, then each region's member (for region-restricted tickets)."""
    rows = [("ROTATION", "PERSON", "REGION", "SOURCE", "UNTIL (UTC)")]
    for name in names:
        answer = resolver.oncall(name, at)
        until = resolver.shift_end(name, at)
        rows.append(
            (
                name,
                person_label(config, answer.person),
                answer.region or "-",
                answer.source,
                "-" if until is None else format_utc(until),
            )
        )
    regions = [("ROTATION", "REGION", "PERSON", "IN HOURS", "SOURCE")]
    for name in names:
        for region in resolver.regions(name):
            member: OnCall = resolver.oncall_in_region(name, region, at)
            covers = resolver.covers(name, region, at)
            regions.append(
                (
                    name,
                    region,
                    person_label(config, member.person),
                    "yes" if covers else "no",
                    member.source,
                )
            )
    return (
        f"on call at {format_utc(at)}\n\n"
        + table(rows)
        + "\nper region (tickets restricted to a region page that region's member):\n\n"
        + table(regions)
    )


def table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart, one line per row."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "".join(line.rstrip() + "\n" for line in lines)


# --- shared with `pager schedule` --------------------------------------------------------


def load_or_report(directory: str) -> Config | None:
    """The config, or None after printing every problem to stderr."""
    try:
        return load_config(directory)
    except ConfigError as err:
        for issue in err.issues:
            print(issue, file=sys.stderr)
        return None


def parse_instant(text: str) -> datetime:
    """An aware UTC instant from RFC 3339 or whatever pendulum.parse accepts; naive = UTC.

    Raises ``argparse.ArgumentTypeError`` (argparse then exits 2) for anything else.
    """
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        parsed = _parse_with_pendulum(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    utc = parsed.astimezone(UTC)
    # Back to a plain datetime: pendulum's subclass stays out of the core.
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC
    )


def _parse_with_pendulum(text: str) -> datetime:
    try:
        parsed = pendulum.parse(text, tz="UTC")
    except (ValueError, TypeError) as err:  # pendulum's ParserError is a ValueError
        raise argparse.ArgumentTypeError(f"not a time: {text!r} ({err})") from None
    if not isinstance(parsed, datetime):
        raise argparse.ArgumentTypeError(f"not a date and time: {text!r}")
    return parsed


def format_utc(at: datetime) -> str:
    """``2026-11-23T07:00:00Z`` (with a fraction only when there is one)."""
    utc = at.astimezone(UTC)
    spec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def person_label(config: Config, person: str | None) -> str:
    """``razvan (Razvan Munteanu)``, the bare id for unknown people, ``-`` for nobody."""
    if person is None:
        return "-"
    known = config.people.get(person)
    if known is None or not known.name or known.name == person:
        return person
    return f"{person} ({known.name})"
