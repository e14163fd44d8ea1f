"""``pager run -c DIR [--dry-run]``: the daemon."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print notifications instead of calling Twilio and SMTP (no secrets needed)",
    )


def run(args: argparse.Namespace) -> int:
    from pager.daemon.app import run_daemon

    return run_daemon(args.config, dry_run=args.dry_run)
