"""Tickets with their next deadline, and processed events / inbound messages.

Each operation is safe with several nodes on its own (the write lock of
:mod:`pager.store.postgres.connection` orders whole transactions on top):

* an event is recorded with ``ON CONFLICT DO NOTHING``: whichever node inserts it first
  applies it, the other sees a duplicate (it waits for the first one's commit to know);
* a ticket is read ``FOR UPDATE``: a reply or a fired deadline on another node waits for
  this transaction and then reads what it wrote;
* due deadlines are taken ``FOR UPDATE SKIP LOCKED``: two nodes never fire one ticket.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pager.core.ladder import TicketState
from pager.store.postgres.connection import Connection
from pager.store.sqlite.codec import decode_state, encode_state


class Tickets(Connection):
    """The ticket and event operations of :class:`pager.store.postgres.store.PostgresStore`."""

    def event_seen(self, event_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM events WHERE event_id = %s", (event_id,)).fetchone()
        return row is not None

    def record_event(self, event_id: str, ticket_id: str, received: datetime, payload: str) -> bool:
        """Record a processed event; False when ``event_id`` was recorded before (by any
        node: a concurrent insert by another node is waited for). A new event's ticket is
        read and locked in the same statement, for the get_ticket that follows."""
        self._wrote()
        row = self.db.execute(
            "WITH ins AS (INSERT INTO events (event_id, ticket_id, received_at, payload, node)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING RETURNING 1)"
            " SELECT EXISTS (SELECT 1 FROM ins),"
            " (SELECT state FROM tickets WHERE ticket_id = %s FOR UPDATE)",
            (event_id, ticket_id, received, payload, self.node, ticket_id),
        ).fetchone()
        recorded = bool(row and row[0])
        self._prefetched = (ticket_id, row[1]) if row is not None and recorded else None
        return recorded

    def forget_event(self, event_id: str) -> None:
        self._wrote()
        self._prefetched = None
        self.db.execute("DELETE FROM events WHERE event_id = %s", (event_id,))

    def message_seen(self, sid: str) -> bool:
        """True when ``sid`` was seen before (by any node); records it."""
        self._wrote()
        row = self.db.execute(
            "INSERT INTO inbound (message_sid, node) VALUES (%s, %s)"
            " ON CONFLICT (message_sid) DO NOTHING RETURNING 1",
            (sid, self.node),
        ).fetchone()
        return row is None

    def get_ticket(self, ticket_id: str) -> TicketState | None:
        """The ticket, its row locked until the transaction ends."""
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == ticket_id:
            return None if prefetched[1] is None else decode_state(prefetched[1])
        row = self.db.execute(
            "SELECT state FROM tickets WHERE ticket_id = %s FOR UPDATE", (ticket_id,)
        ).fetchone()
        return None if row is None else decode_state(row[0])

    def put_ticket(self, state: TicketState, deadline: datetime | None) -> None:
        self._wrote()
        self._prefetched = None
        if deadline is not None:
            self._hint_deadline(deadline)
        self.db.execute(
            "INSERT INTO tickets (ticket_id, state, closed, due) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (ticket_id) DO UPDATE SET state = excluded.state,"
            " closed = excluded.closed, due = excluded.due",
            (state.ticket_id, encode_state(state), state.closed, deadline),
        )

    def next_due(self) -> datetime | None:
        row = self.db.execute("SELECT min(due) FROM tickets WHERE due IS NOT NULL").fetchone()
        return None if row is None or row[0] is None else row[0]

    def due_tickets(self, now: datetime, limit: int = 500) -> list[str]:
        """Due tickets, earliest first, locked; rows another node is firing are skipped.

        ``now`` is the database's time as the node reads it
        (:meth:`pager.store.postgres.connection.Connection.clock`)."""
        rows = self.db.execute(
            "SELECT ticket_id FROM tickets WHERE due IS NOT NULL AND due <= %s"
            " ORDER BY due LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, limit),
        ).fetchall()
        return [r[0] for r in rows]

    def open_ticket_count(self) -> int:
        row = self.db.execute("SELECT count(*) FROM tickets WHERE NOT closed").fetchone()
        return int(row[0]) if row else 0

    def timer_count(self) -> int:
        row = self.db.execute("SELECT count(*) FROM tickets WHERE due IS NOT NULL").fetchone()
        return int(row[0]) if row else 0

    def open_tickets(self) -> Iterator[TicketState]:
        for (text,) in self.db.execute("SELECT state FROM tickets WHERE NOT closed").fetchall():
            yield decode_state(text)
