"""``pager run -c DIR [--dry-run [--store URL]]``: the daemon."""

from __future__ import annotations

import argparse
from pathlib import Path

from pager.cli.common import CliError, UsageError
from pager.config.settings import parse_store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print notifications instead of calling Twilio and SMTP; needs no secrets, "
        "keeps its tickets in a temporary store and uses its own throw-away MQTT session",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="with --dry-run: keep the dry run's tickets in this store (sqlite:PATH) "
        "instead of a temporary one; never the live daemon's",
    )


def run(args: argparse.Namespace) -> int:
    store: str | None = None
    if args.store is not None:
        if not args.dry_run:
            raise UsageError(
                "--store is for --dry-run; the daemon's store is `store:` in pager.yaml "
                "(or $PAGER_STORE)"
            )
        try:
            store = parse_store(args.store, Path.cwd())
        except ValueError as exc:
            raise CliError(f"--store: {exc}") from None
    from pager.daemon.app import run_daemon

    return run_daemon(args.config, dry_run=args.dry_run, store=store)
