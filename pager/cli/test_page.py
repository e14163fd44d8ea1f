"""``pager test-page PERSON [--via sms|voice|email] [--timeout 5m] -c DIR``.

Writes a clearly marked test page for PERSON into the running daemon's store outbox (the
daemon notices the commit within a second and sends it like any page) and waits for the
person to confirm it: their reply code by SMS, or key 4 on the call. Exit 0 when they
confirmed within the timeout, 1 when not (or the config or store is unusable), 2 for a
bad argument. The status page shows when each person last passed a test page.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta

from pager.cli.common import UsageError, now_utc
from pager.cli.store_access import open_store
from pager.config.values import parse_duration
from pager.core.model import WallDuration
from pager.core.policy import Policy
from pager.daemon import test_pages
from pager.daemon.engine import Engine

#: Seconds between looks at the store while waiting.
POLL = 1.0


def _timeout(text: str) -> timedelta:
    try:
        parsed = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not isinstance(parsed, WallDuration) or parsed.delta <= timedelta(0):
        raise argparse.ArgumentTypeError(f"expected a wall-clock duration like 5m, got {text!r}")
    return parsed.delta


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("person", help="person id (people.yaml)")
    parser.add_argument("--via", choices=("sms", "voice", "email"), default="sms")
    parser.add_argument(
        "--timeout", type=_timeout, default=timedelta(minutes=5), help="how long to wait (5m)"
    )


def run(args: argparse.Namespace) -> int:
    opened = open_store(args.config)
    if opened is None:
        return 1
    config, store = opened
    engine = Engine(store, Policy(config))
    try:
        if args.person not in config.people:
            raise UsageError(f"unknown person {args.person!r}")
        sent = now_utc()
        with store.transaction():
            row = test_pages.queue(engine, config, args.person, args.via, sent)
        if row is None:
            raise UsageError(f"{args.person} has no {args.via} address")
        name = config.people[args.person].name
        print(f"test page {row} by {args.via} queued for {name}; waiting up to {args.timeout}")
        deadline = time.monotonic() + args.timeout.total_seconds()
        reported = "pending"
        while time.monotonic() < deadline:
            passed = test_pages.last_passed(engine, args.person)
            if passed is not None and passed >= sent:
                print(f"PASSED: {name} confirmed at {passed:%Y-%m-%d %H:%M:%S} UTC")
                return 0
            message = engine.message(row)
            if message is not None and message.state != reported:
                reported = message.state
                print(f"message {reported}")
            time.sleep(POLL)
        print(f"NOT CONFIRMED: {name} did not confirm within {args.timeout}", file=sys.stderr)
        return 1
    finally:
        store.close()
