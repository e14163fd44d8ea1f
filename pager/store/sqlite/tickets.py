"""Tickets with their next deadline, and processed events / inbound messages."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime

from pager.core.ladder import TicketState
from pager.store.sqlite.codec import decode_state, encode_state
from pager.store.sqlite.db import from_ts, ts

#: What the health probe runs every second; the ``tickets_open`` index answers it
#: (migration 5) without reading any stored state.
OPEN_TICKET_COUNT = "SELECT COUNT(*) FROM tickets WHERE closed = 0"


class Tickets:
    """The ticket and event operations of :class:`pager.store.sqlite.store.SqliteStore`."""

    db: sqlite3.Connection

    def event_seen(self, event_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM events WHERE event_id = ?", (event_id,)).fetchone()
        return row is not None

    def record_event(self, event_id: str, ticket_id: str, received: datetime, payload: str) -> bool:
        """Record a processed event; False when ``event_id`` was recorded before."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO events(event_id, ticket_id, received_at, payload)"
            " VALUES (?, ?, ?, ?)",
            (event_id, ticket_id, ts(received), payload),
        )
        return cur.rowcount == 1

    def forget_event(self, event_id: str) -> None:
        """Undo :meth:`record_event` (the event was rejected, so it may come again)."""
        self.db.execute("DELETE FROM events WHERE event_id = ?", (event_id,))

    def message_seen(self, sid: str) -> bool:
        """True when ``sid`` (an inbound SMS MessageSid) was seen before; records it."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO inbound(message_sid, received_at) VALUES (?, strftime('%s'))",
            (sid,),
        )
        return cur.rowcount == 0

    def get_ticket(self, ticket_id: str) -> TicketState | None:
        row = self.db.execute(
            "SELECT state FROM tickets WHERE ticket_id = ?", (ticket_id,)
        ).fetchone()
        return None if row is None else decode_state(row[0])

    def put_ticket(self, state: TicketState, deadline: datetime | None) -> None:
        """Store ``state`` and its single next deadline (None: no timer)."""
        self.db.execute(
            "INSERT INTO tickets(ticket_id, state, closed, due) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(ticket_id) DO UPDATE SET state = excluded.state,"
            " closed = excluded.closed, due = excluded.due",
            (
                state.ticket_id,
                encode_state(state),
                int(state.closed),
                None if deadline is None else ts(deadline),
            ),
        )

    def next_due(self) -> datetime | None:
        row = self.db.execute("SELECT MIN(due) FROM tickets WHERE due IS NOT NULL").fetchone()
        return None if row[0] is None else from_ts(row[0])

    def due_tickets(self, now: datetime, limit: int = 500) -> list[str]:
        rows = self.db.execute(
            "SELECT ticket_id FROM tickets WHERE due IS NOT NULL AND due <= ? ORDER BY due LIMIT ?",
            (ts(now), limit),
        ).fetchall()
        return [r[0] for r in rows]

    def open_ticket_count(self) -> int:
        return int(self.db.execute(OPEN_TICKET_COUNT).fetchone()[0])

    def timer_count(self) -> int:
        return int(
            self.db.execute("SELECT COUNT(*) FROM tickets WHERE due IS NOT NULL").fetchone()[0]
        )

    def open_tickets(self) -> Iterator[TicketState]:
        for (text,) in self.db.execute("SELECT state FROM tickets WHERE closed = 0"):
            yield decode_state(text)
