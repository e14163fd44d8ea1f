"""``pager timeline TICKET -c DIR``: what happened to a ticket, from the store."""

from __future__ import annotations

import argparse
import json

from pager.cli.common import CliError
from pager.cli.store_access import open_store
from pager.core.events import format_instant
from pager.daemon.engine import describe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ticket", help="ticket id")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    opened = open_store(args.config)
    if opened is None:
        return 1
    _config, store = opened
    entries = store.audit(args.ticket)
    state = store.get_ticket(args.ticket)
    store.close()
    if state is None:
        raise CliError(f"no ticket {args.ticket!r}")
    for entry in entries:
        if args.json:
            print(
                json.dumps({"at": format_instant(entry.at), "action": entry.action, **entry.detail})
            )
        else:
            at = format_instant(entry.at.replace(microsecond=0))
            print(f"{at}  {describe(entry.action, entry.detail)}")
    if not args.json:
        status = "closed" if state.closed else f"open, rung {state.rung}"
        owner = state.owner or "nobody"
        breach = ", SLA breached" if state.breached else ""
        print(f"-- {args.ticket}: {status}, owner {owner}{breach}")
    return 0
