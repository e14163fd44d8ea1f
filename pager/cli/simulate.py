"""``pager simulate -c DIR EVENTS.jsonl [--until TIME] [--json]``: replay in virtual time."""

from __future__ import annotations

import argparse
import io
import sys

from pager.cli.common import TIME_HELP, CliError, add_time_argument, load_or_report
from pager.core.events import InvalidEvent, TicketEvent, parse_event
from pager.core.policy import Policy
from pager.core.simulation import TIMELINE_ACTIONS, Simulation


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", help="JSON-lines file of ticket events ('-' for stdin)")
    add_time_argument(
        parser, "--until", dest="until", help=f"stop the virtual clock at TIME; {TIME_HELP}"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return 1
    events, bad = _read_events(args.events)
    simulation = Simulation(Policy(config))
    # Lines are written in chunks: a week of 10,000 tickets is ~250,000 of them.
    chunk: list[str] = []
    for entry in simulation.run(events, until=args.until):
        if args.json:
            if entry.action in TIMELINE_ACTIONS:
                chunk.append(entry.to_json_text())
        else:
            chunk.append(entry.to_text())
        if len(chunk) >= 4096:
            sys.stdout.write("\n".join(chunk) + "\n")
            chunk.clear()
    if chunk:
        sys.stdout.write("\n".join(chunk) + "\n")
    sys.stdout.flush()
    for rejection in simulation.rejections:
        print(
            f"rejected event {rejection.event_id} ({rejection.ticket}): {rejection.reason}",
            file=sys.stderr,
        )
    return 1 if bad or simulation.rejections else 0


def _read_events(name: str) -> tuple[list[TicketEvent], int]:
    """The events of file ``name`` ('-': stdin), and how many lines were invalid (each
    reported on stderr). OSError (missing file, a directory) reaches main(); a file that
    is not UTF-8 is a CliError naming the line."""
    events: list[TicketEvent] = []
    bad = 0
    number = 0
    # stdin strictly as UTF-8 too (its own decoding may turn bad bytes into surrogates).
    stream = (
        io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
        if name == "-"
        else open(name, encoding="utf-8")  # noqa: SIM115
    )
    with stream:
        try:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    events.append(parse_event(line.strip()))
                except InvalidEvent as exc:
                    bad += 1
                    print(f"{name}:{number}: {exc}", file=sys.stderr)
        except UnicodeDecodeError:
            raise CliError(f"{name}:{number + 1}: not UTF-8 text (events are JSON lines)") from None
    return events, bad
