"""The one source of "now" in the shell.

The composition root (:mod:`pager.daemon.app`) creates one :class:`SystemClock` and hands
it to every part that needs the time; tests hand in a clock they control. Every instant
is a UTC-aware ``datetime``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime:
        """Now, UTC-aware."""
        ...


class SystemClock:
    """The wall clock."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


__all__ = ["Clock", "SystemClock"]
