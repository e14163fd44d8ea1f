"""The single deadline loop: sleep until the earliest stored deadline, fire what is due.

Deadlines live in the store (one row per ticket: its earliest deadline), not in sleeping
tasks, so a restart resumes them by reading the table. Any commit that may have moved a
deadline earlier calls :meth:`DeadlineLoop.wake`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from pager.daemon.clock import Clock
from pager.daemon.metrics import Metrics
from pager.daemon.service import Service

log = logging.getLogger("pager.daemon.deadlines")

#: Tickets fired per store transaction; a backlog (after downtime) drains in chunks.
FIRE_BATCH = 500
#: Upper bound on one sleep, so a clock jump (suspend, NTP step) is noticed.
MAX_SLEEP = 30.0


class DeadlineLoop:
    def __init__(
        self,
        service: Service,
        metrics: Metrics,
        *,
        clock: Clock,
    ) -> None:
        self.service = service
        self.metrics = metrics
        self.clock = clock
        self._wake = asyncio.Event()
        #: While the loop sleeps: the instant it will wake by itself.
        self._asleep_until: datetime | None = None
        self.fired = 0

    def wake(self, earliest: datetime | None = None) -> None:
        """Look at the deadlines again: one may now be earlier than the loop thinks.

        ``earliest`` is the earliest deadline the caller changed; when the sleeping loop
        wakes by then anyway, nothing is done (each commit calls this, and a needless
        wake costs a store round trip).
        """
        if (
            earliest is not None
            and self._asleep_until is not None
            and earliest >= self._asleep_until
        ):
            return
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled. Store errors are logged and retried after a second."""
        while True:
            self._wake.clear()
            try:
                due = await self.service.next_due()
            except Exception as exc:
                log.error("cannot read deadlines: %s", exc)
                await self._sleep(1.0)
                continue
            now = self.clock()
            if due is None:
                await self._sleep(MAX_SLEEP)
                continue
            wait = (due - now).total_seconds()
            if wait > 0:
                await self._sleep(min(wait, MAX_SLEEP))
                continue
            self.metrics.deadline_lateness.observe(max(0.0, -wait))
            try:
                self.fired += await self.service.fire_due(now, limit=FIRE_BATCH)
            except Exception as exc:
                log.error("firing deadlines failed: %s", exc)
                await self._sleep(1.0)

    async def _sleep(self, delay: float) -> None:
        self._asleep_until = self.clock() + timedelta(seconds=delay)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
        finally:
            self._asleep_until = None
