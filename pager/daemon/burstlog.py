"""Routine log lines that stay readable, and cheap, during a storm.

One line per event or per message sent is what an operator wants on a quiet night. In
an alert storm of thousands per second the same lines cost a good share of the daemon's
CPU and would be dropped anyway: journald's default rate limit is 10,000 lines per 30 s
per service. :class:`BurstLog` writes the first ``per_second`` lines of each second as
they are and counts the rest; the next line after that second says how many were left
out. Warnings and errors never go through it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class BurstLog:
    """INFO lines of one kind, at most ``per_second`` a second; the rest are counted."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        per_second: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._what = what
        self._per_second = per_second
        self._clock = clock
        self._second = -1
        self._written = 0
        self._skipped = 0

    def info(self, msg: str, *args: object) -> None:
        """Log ``msg % args`` at INFO unless this second's allowance is used up."""
        if not self._log.isEnabledFor(logging.INFO):
            return
        self.flush()
        if self._written < self._per_second:
            self._written += 1
            self._log.info(msg, *args)
        else:
            self._skipped += 1

    def flush(self) -> None:
        """Start a new second if one began, saying how many lines the last ones left out.

        :meth:`info` calls it; call it periodically too, so that the count at the end of
        a storm is written when the storm ends rather than with the next line.
        """
        second = int(self._clock())
        if second == self._second:
            return
        self._second, self._written = second, 0
        if self._skipped:
            self._log.info(
                "... %d more %s not logged one by one (over %d a second)",
                self._skipped,
                self._what,
                self._per_second,
            )
            self._skipped = 0
