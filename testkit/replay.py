"""Build a real store from a JSON-lines scenario in virtual time (report tests, samples).

The daemon's own path minus the network: each event goes through
:class:`pager.daemon.engine.Engine` into a :class:`SqliteStore`, and every deadline the
store holds fires at its own instant in between, as :mod:`pager.core.simulation` orders
them (events at an instant before the deadlines due at it; a late event at the clock).
Notifications are written to the outbox and audit but never sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from pager.core.events import TicketEvent, parse_event
from pager.core.model import Config
from pager.core.policy import Policy
from pager.daemon.engine import Engine
from pager.store.sqlite.store import SqliteStore


def read_events(path: Path) -> list[TicketEvent]:
    return [parse_event(line) for line in path.read_text().splitlines() if line.strip()]


def replay(
    config: Config, store: SqliteStore, events: Iterable[TicketEvent], until: datetime
) -> list[str]:
    """Apply ``events`` in order, firing deadlines up to ``until`` (inclusive).

    Returns the reasons of rejected events (a scenario should have none)."""
    counter = itertools.count(1)
    engine = Engine(store, Policy(config), token=lambda: f"tok{next(counter)}")
    clock: datetime | None = None
    rejected: list[str] = []
    for event in events:
        clock = _fire(engine, store, event.at, inclusive=False, clock=clock)
        now = event.at if clock is None else max(clock, event.at)
        clock = now
        with store.transaction():
            result = engine.ingest(event, now, payload="")
        if result.status == "rejected":
            rejected.append(f"{event.event_id}: {result.reason}")
    _fire(engine, store, until, inclusive=True, clock=clock)
    return rejected


def _fire(
    engine: Engine, store: SqliteStore, to: datetime, *, inclusive: bool, clock: datetime | None
) -> datetime | None:
    """Fire every stored deadline before ``to`` (at or before, when ``inclusive``)."""
    while True:
        due = store.next_due()
        if due is None or due > to or (due == to and not inclusive):
            return clock
        clock = due if clock is None else max(clock, due)
        with store.transaction():
            for ticket_id in store.due_tickets(due):
                engine.fire(ticket_id, due)
