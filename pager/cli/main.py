"""Command-line entry point: ``pager run | check | oncall | schedule | simulate | timeline | ack``.

Each sub-command lives in :mod:`pager.cli` as a module exposing
``add_arguments(parser)`` and ``run(args) -> int`` (the process exit code).

Errors never show a traceback: a usage error is one line on stderr and exit 2, any
other failure (:class:`~pager.cli.common.CliError`, a file that cannot be read or
written) one line and exit 1. An unexpected exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from pager.cli.common import CliError, UsageError, resolve_times

COMMANDS: dict[str, str] = {
    "run": "the daemon",
    "check": "validate the config and list coverage gaps",
    "oncall": "who is on call at an instant",
    "schedule": "the shifts of a rotation in a range",
    "simulate": "replay events in virtual time and print the timeline",
    "timeline": "what happened to a ticket, from the store",
    "ack": "acknowledge a ticket from the command line",
    "report": "SLA attainment and on-call load over a period, with charts",
    "test-page": "send a marked test page to a person and wait for their confirmation",
}

DEFAULT_CONFIG_DIR = "/etc/pager"


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line: ``pager oncall: <why> (see --help)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def package_version() -> str:
    try:
        return version("pager")
    except PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pager", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"pager {package_version()}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )
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
    prog = f"pager {args.command}"
    try:
        resolve_times(args)
        code: int = args._module.run(args)
    except UsageError as exc:
        print(f"{prog}: {exc} (see {prog} --help)", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file named on the command line: missing, a directory, ...
        print(f"{prog}: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    return code


def describe_os_error(exc: OSError) -> str:
    """``cannot open 'x.jsonl': No such file or directory`` (no errno number)."""
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"{os.fsdecode(exc.filename)}: {reason}"
    return reason


if __name__ == "__main__":
    sys.exit(main())
