"""``pager run -c DIR [--dry-run] [--node NAME]``: the daemon."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print notifications instead of calling Twilio and SMTP (no secrets needed)",
    )
    parser.add_argument(
        "--node",
        metavar="NAME",
        default=None,
        help="this node's name when several share a PostgreSQL store (default: host name);"
        " it names the node in logs, metrics and outbox claims",
    )


def run(args: argparse.Namespace) -> int:
    from pager.daemon.app import run_daemon

    return run_daemon(args.config, dry_run=args.dry_run, node=args.node)
