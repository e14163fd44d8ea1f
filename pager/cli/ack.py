"""``pager ack TICKET --by PERSON -c DIR``: acknowledge from the command line.

Writes through the store like the daemon does; a running daemon notices the commit
within a second and sends what it queued (the closing of pages, nothing else).
"""

from __future__ import annotations

import argparse
import sys

from pager.cli.common import CliError, now_utc
from pager.cli.store_access import open_store
from pager.core.policy import Policy
from pager.daemon.engine import Engine


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ticket", help="ticket id")
    parser.add_argument("--by", required=True, help="person id who takes the ticket")


def run(args: argparse.Namespace) -> int:
    opened = open_store(args.config)
    if opened is None:
        return 1
    config, store = opened
    if args.by not in config.people:
        store.close()
        raise CliError(f"unknown person {args.by!r}")
    engine = Engine(store, Policy(config))
    with store.transaction():
        result = engine.acknowledge(args.ticket, args.by, "cli", now_utc())
    store.close()
    if result.status == "rejected":
        print(f"not acknowledged: {result.reason}", file=sys.stderr)
        return 1
    if result.status == "unchanged":
        print(f"{args.ticket} is already acknowledged by {args.by}")
        return 0
    print(f"{args.ticket} acknowledged by {args.by}")
    return 0
