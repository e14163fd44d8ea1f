"""Helpers shared by the sub-commands: loading the config, parsing times."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pendulum

from pager.config.load import ConfigError, load_config
from pager.core.model import Config


def load_or_report(directory: str, *, require_secrets: bool = False) -> Config | None:
    """The config in ``directory``, or None after printing every issue to stderr."""
    try:
        return load_config(directory, require_secrets=require_secrets)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"{len(exc.issues)} problem(s) in {directory}", file=sys.stderr)
        return None


def parse_time(text: str) -> datetime:
    """An instant from the command line: RFC 3339, or anything pendulum reads (naive = UTC)."""
    try:
        parsed = pendulum.parse(text, tz="UTC")
    except (ValueError, pendulum.parsing.exceptions.ParserError) as exc:
        raise ValueError(f"not a time: {text!r} ({exc})") from None
    if not isinstance(parsed, datetime):
        raise ValueError(f"not a date and time: {text!r}")
    return datetime.fromtimestamp(parsed.timestamp(), UTC)


def now_utc() -> datetime:
    """The wall clock, for commands (the daemon has its own clock object)."""
    return datetime.now(UTC)
