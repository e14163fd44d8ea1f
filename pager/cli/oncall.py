"""``pager oncall -c DIR [--at TIME] [--rotation NAME] [--json]``: who is on call.

Exit 0 with the answer; 1 when the config is invalid (every problem on stderr, one per
line); 2 for an unknown rotation or a TIME that cannot be parsed. Also home of the
labels ``pager schedule`` shares.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pager.cli.common import (
    TIME_HELP,
    add_time_argument,
    load_or_report,
    now_utc,
    require_rotations,
)
from pager.core.model import Config
from pager.core.rotation import OnCall, RotationResolver


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_time_argument(parser, "--at", dest="at", help=f"when (default now); {TIME_HELP}")
    parser.add_argument(
        "--rotation", action="append", metavar="NAME", help="only this rotation (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    at: datetime = args.at or now_utc().replace(microsecond=0)
    names = args.rotation or list(config.rotations)
    require_rotations(config, names)
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
