"""The open tickets the status page lists, kept current without re-reading the store.

Read in full once, through a connection of its own in a worker thread (and again when
another process, e.g. ``pager ack``, committed to the store: SQLite's ``data_version``,
looked at every ``check_every`` seconds while the page is used); from then on every
ticket the daemon changes arrives through the service's commit hook
(:class:`~pager.daemon.service.CommitInfo` holds each changed ticket's new state), so a
page load costs the store thread nothing and the paging path keeps its latency. The list
stays sorted as changes arrive (a binary search and a list insertion per changed ticket,
never a full sort). A config reload only looks the rung names up again.

Also kept: when each person last confirmed a test page (read every ``tests_every``
seconds while the page is used; a confirmation commits no ticket).
"""

from __future__ import annotations

import asyncio
import bisect
import operator
import time
from datetime import datetime

from pager.core.ladder.machine import TicketState
from pager.core.model import Config
from pager.daemon import test_pages
from pager.daemon.engine import Engine
from pager.daemon.service import CommitInfo, Service
from pager.store.interface import Store
from pager.web import views

_NEVER = -1e18
_key = operator.attrgetter("key")


class OpenTickets:
    def __init__(
        self,
        service: Service,
        *,
        check_every: float = 2.0,
        tests_every: float = 30.0,
    ) -> None:
        self._service = service
        self._check_every = check_every
        self._tests_every = tests_every
        self._by_id: dict[str, views.TicketRow] = {}
        self._config: Config | None = None
        self._version: int | None = None
        self._sorted: list[views.TicketRow] = []
        self._checked_at = _NEVER
        self._tests_at = _NEVER
        self._loading: list[dict[str, TicketState]] | None = None
        self._lock = asyncio.Lock()
        #: Bumped whenever the list changes (a key for cached renderings).
        self.version = 0
        #: person id -> when they last confirmed a test page (None: never).
        self.tests: dict[str, datetime | None] = {}
        service.on_commit.append(self._on_commit)

    def _on_commit(self, info: CommitInfo) -> None:
        if not info.tickets:
            return
        if self._loading is not None:  # a full read is under way: apply after it
            self._loading.append(dict(info.tickets))
        elif self._config is not None:
            self._apply(self._config, info.tickets)

    def _apply(self, config: Config, tickets: dict[str, TicketState]) -> None:
        rows = self._sorted
        for ticket_id, state in tickets.items():
            old = self._by_id.pop(ticket_id, None)
            if old is not None:  # keys are unique (the ticket id is part of them)
                del rows[bisect.bisect_left(rows, old.key, key=_key)]
            if not state.closed:
                row = self._by_id[ticket_id] = views.ticket_row(config, state)
                bisect.insort(rows, row, key=_key)
        self.version += 1

    async def rows(self, config: Config) -> list[views.TicketRow]:
        """The open tickets, most urgent first (the live list: do not keep it across an
        ``await``)."""
        now = time.monotonic()
        async with self._lock:
            if self._config is None:
                await self._load(config)
            elif config is not self._config:
                self._rebuild(config)
            elif now - self._checked_at >= self._check_every:
                self._checked_at = now
                version = await self._service.db(lambda e: e.data_version())
                if version != self._version:
                    await self._load(config)
            if now - self._tests_at >= self._tests_every:
                await self._read_tests(config)
        return self._sorted

    async def _load(self, config: Config) -> None:
        self._loading = []
        try:
            # The store connection's own data_version, taken first: a commit by another
            # process after it is seen again at the next check (one read too many at worst).
            version = await self._service.db(lambda e: e.data_version())
            reader = await self._service.db(lambda e: e.reader())
            if reader is None:  # no second connection possible: on the store thread
                states = await self._service.db(lambda e: e.open_tickets())
            else:
                states = await asyncio.to_thread(_read_open_tickets, reader)
        finally:
            pending, self._loading = self._loading, None
        self._config, self._version = config, version
        self._by_id = {s.ticket_id: views.ticket_row(config, s) for s in states}
        self._sorted = views.sort_rows(self._by_id.values())
        self.version += 1
        # Changes committed meanwhile, in commit order: each ticket ends at its latest.
        for tickets in pending:
            self._apply(config, tickets)
        self._checked_at = time.monotonic()

    def _rebuild(self, config: Config) -> None:
        """A reloaded config: the same tickets, their rung names looked up again."""
        self._config = config
        self._by_id = {tid: views.ticket_row(config, r.state) for tid, r in self._by_id.items()}
        self._sorted = views.sort_rows(self._by_id.values())
        self.version += 1

    async def _read_tests(self, config: Config) -> None:
        people = list(config.people)

        def read(engine: Engine) -> dict[str, datetime | None]:
            return {pid: test_pages.last_passed(engine, pid) for pid in people}

        self.tests = await self._service.db(read)
        self._tests_at = time.monotonic()


def _read_open_tickets(reader: Store) -> list[TicketState]:
    """The open tickets through a store connection of this thread's own (a worker
    thread): reading thousands of them does not hold up the daemon's store thread."""
    try:
        return list(reader.open_tickets())
    finally:
        reader.close()
