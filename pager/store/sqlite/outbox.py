"""The outbox: rendered messages waiting for, in, or done with delivery.

States are :class:`~pager.store.types.OutboxState`; they are spelled into the SQL text
(not bound as parameters) so that SQLite can use the partial indexes on ``pending``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pager.store.rows import (
    CANCELLED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    interrupted_sends,
    outbox_row,
)
from pager.store.rows import OUTBOX_COLUMNS as _COLUMNS
from pager.store.sqlite.db import from_ts, ts
from pager.store.types import InterruptedSms, NewMessage, OutboxRow, OutboxState


def _row(r: Sequence[Any]) -> OutboxRow:
    return outbox_row(r, from_ts)


class Outbox:
    """The outbox operations of :class:`pager.store.sqlite.store.SqliteStore`."""

    db: sqlite3.Connection

    def add_message(self, msg: NewMessage, created: datetime) -> int | None:
        """Insert an outbox row; None when its key already exists (a replay)."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO outbox(key, ticket_id, person, channel, address, kind,"
            " subject, body, bundle_line, token, state, attempts, not_before, created_at, code,"
            f" fallback) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{PENDING}', 0, ?, ?, ?, ?)",
            (
                msg.key,
                msg.ticket_id,
                msg.person,
                msg.channel,
                msg.address,
                msg.kind,
                msg.subject,
                msg.body,
                msg.bundle_line,
                msg.token,
                ts(msg.not_before),
                ts(created),
                msg.code,
                int(msg.fallback),
            ),
        )
        return cur.lastrowid if cur.rowcount else None

    def pending_messages(
        self, now: datetime, limit: int = 200, channels: Sequence[str] = ()
    ) -> list[OutboxRow]:
        only, params = _channel_filter(channels)
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = '{PENDING}' AND not_before <= ?"
            f"{only} ORDER BY not_before, id LIMIT ?",
            (ts(now), *params, limit),
        ).fetchall()
        return [_row(r) for r in rows]

    def next_message_due(self, channels: Sequence[str] = ()) -> datetime | None:
        only, params = _channel_filter(channels)
        row = self.db.execute(
            f"SELECT MIN(not_before) FROM outbox WHERE state = '{PENDING}'{only}", params
        ).fetchone()
        return None if row[0] is None else from_ts(row[0])

    def pending_for(self, person: str, channel: str) -> list[OutboxRow]:
        """``person``'s pending rows on ``channel``, oldest first."""
        return self.pending_for_many([person], channel)[person]

    def pending_for_many(self, persons: Sequence[str], channel: str) -> dict[str, list[OutboxRow]]:
        """:meth:`pending_for` of several people in one query per 500 of them."""
        found: dict[str, list[OutboxRow]] = {p: [] for p in persons}
        for start in range(0, len(persons), 500):
            chunk = persons[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE state = '{PENDING}'"
                f" AND person IN ({marks}) AND channel = ? ORDER BY id",
                (*chunk, channel),
            ).fetchall()
            for r in rows:
                row = _row(r)
                found[row.person].append(row)
        return found

    def message(self, message_id: int) -> OutboxRow | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (message_id,)
        ).fetchone()
        return None if row is None else _row(row)

    def message_by_token(self, token: str) -> OutboxRow | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE token = ? AND token != ''", (token,)
        ).fetchone()
        return None if row is None else _row(row)

    def mark_sending(
        self, sends: Sequence[tuple[Sequence[int], str | None]], claimed_at: datetime
    ) -> None:
        """Claim rows for sending, one ``(row ids, digest)`` per provider request; the
        digest of an SMS text lets a restart ask the provider about it (None: not an SMS)."""
        at = ts(claimed_at)
        self.db.executemany(
            f"UPDATE outbox SET state = '{SENDING}', attempts = attempts + 1, claimed_at = ?,"
            " claim_digest = ? WHERE id = ?",
            [(at, digest, i) for ids, digest in sends for i in ids],
        )

    def interrupted_sms(self) -> list[InterruptedSms]:
        """SMS sends left ``sending`` by a dead process (rows of one bundle together)."""
        rows = self.db.execute(
            f"SELECT id, address, claimed_at, claim_digest FROM outbox WHERE state = '{SENDING}'"
            " AND channel = 'sms' AND claimed_at IS NOT NULL AND claim_digest IS NOT NULL"
            " ORDER BY id"
        ).fetchall()
        return interrupted_sends(rows, from_ts)

    def mark_sent(self, ids: Sequence[int], provider_id: str, at: datetime) -> None:
        self.db.executemany(
            f"UPDATE outbox SET state = '{SENT}', provider_id = ?, sent_at = ?, error = NULL"
            " WHERE id = ?",
            [(provider_id, ts(at), i) for i in ids],
        )

    def mark_retry(self, ids: Sequence[int], not_before: datetime, error: str) -> None:
        at = ts(not_before)
        self.db.executemany(
            f"UPDATE outbox SET state = '{PENDING}', not_before = ?, error = ? WHERE id = ?",
            [(at, error, i) for i in ids],
        )

    def mark_failed(self, ids: Sequence[int], error: str) -> None:
        self.db.executemany(
            f"UPDATE outbox SET state = '{FAILED}', error = ? WHERE id = ?",
            [(error, i) for i in ids],
        )

    def defer(self, ids: Sequence[int], not_before: datetime) -> None:
        """Hold pending rows back (rate limits) without counting an attempt."""
        at = ts(not_before)
        self.db.executemany(
            f"UPDATE outbox SET not_before = ? WHERE id = ? AND state = '{PENDING}'",
            [(at, i) for i in ids],
        )

    def cancel_pages(self, ticket_id: str, persons: Sequence[str] | None) -> int:
        """Cancel unsent page/handoff messages of a ticket (its page was acknowledged)."""
        sql = (
            f"UPDATE outbox SET state = '{CANCELLED}' WHERE ticket_id = ?"
            f" AND state = '{PENDING}' AND kind IN ('page', 'handoff')"
        )
        if persons is None:
            return self.db.execute(sql, (ticket_id,)).rowcount
        total = 0
        for person in persons:
            total += self.db.execute(sql + " AND person = ?", (ticket_id, person)).rowcount
        return total

    def requeue_interrupted(self) -> int:
        """At start-up: rows left 'sending' by a dead process go back to 'pending'.

        This is the one window in which a message can be sent twice (SPEC section 9): the
        provider may have accepted it before the process died.
        """
        return self.db.execute(
            f"UPDATE outbox SET state = '{PENDING}' WHERE state = '{SENDING}'"
        ).rowcount

    def outbox_counts(self) -> dict[OutboxState, int]:
        rows = self.db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        return {OutboxState(state): int(n) for state, n in rows}


def _channel_filter(channels: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """An ``AND channel IN (...)`` clause and its parameters (nothing for no channels)."""
    if not channels:
        return "", ()
    return f" AND channel IN ({','.join('?' * len(channels))})", tuple(channels)
