"""The async face of the store and engine: one store thread, group commit, change hooks.

Every store access of the daemon goes through :meth:`Service.db`: the function runs on
the single store thread inside a transaction. Calls that arrive while a transaction is
running are batched into the next one, so a burst of events costs one commit (group
commit), while a failing job still rolls back alone (see :meth:`Service._commit`).

After a batch commits, the ``on_commit`` hooks run on the event loop (wake the outbox
relay and the deadline loop, publish ticket state).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pager.core.events import TicketEvent
from pager.core.ladder import AckVia
from pager.core.policy import Policy
from pager.daemon.engine import Changes, Engine, Result
from pager.store.interface import Store
from pager.store.types import StoreError

log = logging.getLogger("pager.daemon.service")
T = TypeVar("T")
#: Most jobs in one transaction; bounds the latency a burst adds to its last job.
MAX_BATCH = 256


@dataclass(slots=True)
class _Job:
    fn: Callable[[Engine], Any]
    future: asyncio.Future[Any]


class _JobFailed(Exception):
    """A job raised during a batch run without savepoints: run the batch again with them."""


#: What a committed batch changed, for the hooks.
CommitInfo = Changes


class Service:
    """Owns the store (on its own thread) and the engine; see the module docstring."""

    def __init__(self, store: Store, policy: Policy) -> None:
        self.store = store
        self.engine = Engine(store, policy)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pager-store")
        self._queue: list[_Job] = []
        self._urgent: list[_Job] = []
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.on_commit: list[Callable[[CommitInfo], None]] = []
        self.store_ok = True
        self.store_error = ""

    @property
    def policy(self) -> Policy:
        return self.engine.policy

    @property
    def queued(self) -> int:
        """Jobs (events, mostly) waiting for the store thread: how far behind it is."""
        return len(self._queue)

    def swap_policy(self, policy: Policy) -> None:
        """Use ``policy`` from the next job on (config reload); atomic on the loop."""
        self.engine.policy = policy

    async def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="pager-store")

    async def close(self) -> None:
        """Finish queued jobs, stop the store thread and close the store."""
        if self._runner is not None:
            await self.db(lambda _engine: None)  # FIFO: every earlier job has finished
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        await asyncio.get_running_loop().run_in_executor(self._executor, self.store.close)
        self._executor.shutdown(wait=True)

    async def db(self, fn: Callable[[Engine], T], *, urgent: bool = False) -> T:
        """Run ``fn(engine)`` on the store thread inside a (shared) transaction.

        ``urgent`` jobs (a person answering a page) go into the next batch ahead of
        everything queued: during an alert storm thousands of events may be waiting,
        and the reply that stops the storm must not wait behind them.
        """
        if self._runner is None:
            await self.start()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._queue).append(_Job(fn, future))
        self._wake.set()
        return await future

    def _next_batch(self) -> list[_Job]:
        """Up to MAX_BATCH jobs: urgent ones first, then the others in arrival order."""
        batch, self._urgent = self._urgent[:MAX_BATCH], self._urgent[MAX_BATCH:]
        room = MAX_BATCH - len(batch)
        if room > 0 and self._queue:
            batch += self._queue[:room]
            self._queue = self._queue[room:]
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue or self._urgent:
                batch = self._next_batch()
                try:
                    outcomes, info = await loop.run_in_executor(self._executor, self._commit, batch)
                except StoreError as exc:
                    self._store_failed(str(exc))
                    for job in batch:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    continue
                for job, (ok, value) in zip(batch, outcomes, strict=True):
                    if job.future.done():
                        continue
                    if ok:
                        job.future.set_result(value)
                    else:
                        job.future.set_exception(value)
                for hook in self.on_commit:
                    try:
                        hook(info)
                    except Exception:
                        log.exception("commit hook failed")

    def _commit(self, batch: list[_Job]) -> tuple[list[tuple[bool, Any]], CommitInfo]:
        """On the store thread: the batch in one transaction.

        Jobs rarely fail, so the batch first runs without savepoints (two statements
        fewer per job). If a job raises, that transaction is rolled back and the batch
        runs again with a savepoint per job, so that the failing job rolls back alone.
        Jobs are functions of the store, so running one twice after a rollback is
        running it once.
        """
        try:
            return self._commit_batch(batch, savepoints=False)
        except _JobFailed:
            return self._commit_batch(batch, savepoints=True)

    def _commit_batch(
        self, batch: list[_Job], *, savepoints: bool
    ) -> tuple[list[tuple[bool, Any]], CommitInfo]:
        outcomes: list[tuple[bool, Any]] = []
        engine, store = self.engine, self.store
        engine.take_changes()
        try:
            with store.transaction():
                for job in batch:
                    before = engine.changes_so_far() if savepoints else None
                    try:
                        # The store's own errors (read-only, disk full, corrupt) become
                        # StoreError: the whole batch rolls back and every job fails.
                        with store.guard():
                            if savepoints:
                                with store.savepoint():
                                    value = job.fn(engine)
                            else:
                                value = job.fn(engine)
                    except StoreError:
                        raise
                    except Exception as exc:  # a failing job rolls back alone
                        if before is None:
                            raise _JobFailed from exc
                        engine.restore_changes(before)
                        outcomes.append((False, exc))
                        continue
                    outcomes.append((True, value))
            return outcomes, engine.take_changes()
        finally:
            engine.take_changes()

    def _store_failed(self, reason: str) -> None:
        if self.store_ok:
            log.error("store unavailable: %s", reason)
        self.store_ok = False
        self.store_error = reason

    def store_recovered(self) -> None:
        """The health probe wrote to the store again (a read-only job proves nothing)."""
        if not self.store_ok:
            log.warning("store available again")
        self.store_ok = True
        self.store_error = ""

    # --- the inputs of the daemon ------------------------------------------------------

    async def ingest(self, event: TicketEvent, now: datetime, payload: str) -> Result:
        return await self.db(lambda engine: engine.ingest(event, now, payload))

    async def acknowledge(self, ticket_id: str, person: str, via: AckVia, now: datetime) -> Result:
        return await self.db(lambda engine: engine.acknowledge(ticket_id, person, via, now))

    async def escalate(self, ticket_id: str, person: str, via: AckVia, now: datetime) -> Result:
        return await self.db(lambda engine: engine.escalate(ticket_id, person, via, now))

    async def fire_due(self, now: datetime, limit: int = 500) -> int:
        """Fire the deadlines of up to ``limit`` due tickets; return how many fired."""

        return await self.db(lambda engine: engine.fire_due(now, limit))

    async def next_due(self) -> datetime | None:
        return await self.db(lambda engine: engine.next_due())
