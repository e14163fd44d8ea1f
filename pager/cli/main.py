"""Command-line entry point: ``pager run | check | oncall | schedule | simulate | timeline | ack``.

Each sub-command lives in :mod:`pager.cli` as a module exposing
``add_arguments(parser)`` and ``run(args) -> int`` (the process exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

COMMANDS: dict[str, str] = {
    "run": "the daemon",
    "check": "validate the config and list coverage gaps",
    "oncall": "who is on call at an instant",
    "schedule": "the shifts of a rotation in a range",
    "simulate": "replay events in virtual time and print the timeline",
    "timeline": "what happened to a ticket, from the store",
    "ack": "acknowledge a ticket from the command line",
    "test-page": "send a marked test page to a person and wait for their confirmation",
}

DEFAULT_CONFIG_DIR = "/etc/pager"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pager", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"pager.cli.{name.replace('-', '_')}")
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "-c",
            "--config",
            default=os.environ.get("PAGER_CONFIG", DEFAULT_CONFIG_DIR),
            help="config directory (default: $PAGER_CONFIG or /etc/pager)",
        )
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args._module.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
