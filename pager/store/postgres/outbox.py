"""The outbox, with the claims several nodes need.

Only the sending node (:meth:`pager.store.postgres.connection.Connection.elect`) sees due
rows: :meth:`Outbox.pending_messages` is empty elsewhere, so the relay of every other
node idles and the per-number and per-person limits the sending node keeps in memory
hold for all. Due rows are taken ``FOR UPDATE SKIP LOCKED`` all the same, so that a
claim never waits and two claimers (a sender that lost its role during a network blip and
its successor) never take one row. A claim records the node (``owner``) and its process
and its term as sender (``owner_session``): a failure is recorded only while no other
process has claimed the row since, so a late answer of a superseded sender cannot put
back a row its successor is sending. A node that lost the role with its connection and
took it again (the database restarted) keeps its own earlier claims: its relay is alive
and still records them; only other processes' claims are settled as orphans.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pager.store.postgres.connection import SENDER_LOCK, Connection
from pager.store.rows import CANCELLED, FAILED, PENDING, SENDING, SENT, interrupted_sends
from pager.store.rows import OUTBOX_COLUMNS as _COLUMNS
from pager.store.rows import outbox_row as _row
from pager.store.types import InterruptedSms, NewMessage, OutboxRow, OutboxState

#: A ``sending`` row nobody alive will record: claimed by another process, or by this one
#: in its current term (the term starts with settling, before this process claims).
_ORPHAN = "(owner_session IS NULL OR owner_session NOT LIKE %s OR owner_session = %s)"


#: True when this session holds the sending role's advisory lock (a bigint key is kept
#: in pg_locks as its high and low 32 bits, objsubid 1).
_HOLDS_ROLE = (
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND objsubid = 1"
    f" AND classid::bigint = {SENDER_LOCK >> 32} AND objid::bigint = {SENDER_LOCK & 0xFFFFFFFF})"
)


class Outbox(Connection):
    """The outbox operations of :class:`pager.store.postgres.store.PostgresStore`."""

    def _mine(self) -> str:
        """LIKE pattern of every claim of this process (any term)."""
        return self.session.replace("%", "").replace("_", "\\_") + "/%"

    def _orphan_params(self) -> tuple[str, str]:
        return (self._mine(), self.claim_owner)

    def add_message(self, msg: NewMessage, created: datetime) -> int | None:
        self._hint_outbox()
        row = self.db.execute(
            "INSERT INTO outbox (key, ticket_id, person, channel, address, kind, subject, body,"
            " bundle_line, token, state, attempts, not_before, created_at, code, fallback)"
            f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '{PENDING}', 0, %s, %s, %s, %s)"
            " ON CONFLICT (key) DO NOTHING RETURNING id",
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
                msg.not_before,
                created,
                msg.code,
                msg.fallback,
            ),
        ).fetchone()
        return None if row is None else int(row[0])

    def pending_messages(
        self, now: datetime, limit: int = 200, channels: Sequence[str] = ()
    ) -> list[OutboxRow]:
        """Due ``pending`` rows (of ``channels`` when given), locked for this transaction;
        empty unless this node is the sending node (module docstring)."""
        if not self.is_sender:
            return []
        only, params = _channel_filter(channels)
        # The role is checked on the server too: a session that lost it unnoticed (its
        # connection was replaced under it) must not send beside the real sending node.
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = '{PENDING}' AND not_before <= %s"
            f"{only} AND {_HOLDS_ROLE} ORDER BY not_before, id LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, *params, limit),
        ).fetchall()
        if not rows and not self._holds_role():
            self.is_sender = False
        return [_row(r) for r in rows]

    def _holds_role(self) -> bool:
        row = self.db.execute(f"SELECT {_HOLDS_ROLE}").fetchone()
        return bool(row and row[0])

    def next_message_due(self, channels: Sequence[str] = ()) -> datetime | None:
        """The earliest due ``pending`` row (of ``channels`` when given); None unless this
        node sends (the others' relays sleep until woken)."""
        if not self.is_sender:
            return None
        only, params = _channel_filter(channels)
        row = self.db.execute(
            f"SELECT min(not_before) FROM outbox WHERE state = '{PENDING}'{only}", params
        ).fetchone()
        return None if row is None or row[0] is None else row[0]

    def pending_for(self, person: str, channel: str) -> list[OutboxRow]:
        return self.pending_for_many([person], channel)[person]

    def pending_for_many(self, persons: Sequence[str], channel: str) -> dict[str, list[OutboxRow]]:
        """Their ``pending`` rows (locked; rows another claimer holds are skipped)."""
        found: dict[str, list[OutboxRow]] = {p: [] for p in persons}
        if not persons:
            return found
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = '{PENDING}'"
            " AND person = ANY(%s) AND channel = %s ORDER BY id FOR UPDATE SKIP LOCKED",
            (list(persons), channel),
        ).fetchall()
        for r in rows:
            row = _row(r)
            found[row.person].append(row)
        return found

    def message(self, message_id: int) -> OutboxRow | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE id = %s", (message_id,)
        ).fetchone()
        return None if row is None else _row(row)

    def message_by_token(self, token: str) -> OutboxRow | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE token = %s AND token <> ''", (token,)
        ).fetchone()
        return None if row is None else _row(row)

    def mark_sending(
        self, sends: Sequence[tuple[Sequence[int], str | None]], claimed_at: datetime
    ) -> None:
        """Claim rows (state ``sending``, attempts + 1) under this node and session."""
        ids = [i for row_ids, _ in sends for i in row_ids]
        if not ids:
            return
        self._wrote()
        digests = [digest for row_ids, digest in sends for _ in row_ids]
        self.db.execute(
            f"UPDATE outbox SET state = '{SENDING}', attempts = attempts + 1,"
            " claimed_at = %s, claim_digest = c.digest, owner = %s, owner_session = %s"
            " FROM unnest(%s::bigint[], %s::text[]) AS c(id, digest) WHERE outbox.id = c.id",
            (claimed_at, self.node, self.claim_owner, ids, digests),
        )

    def interrupted_sms(self) -> list[InterruptedSms]:
        """SMS rows left ``sending``: only the sending node settles them (it has just
        taken the role, so none of them is its own in-flight send); elsewhere empty."""
        if not self.is_sender:
            return []
        rows = self.db.execute(
            f"SELECT id, address, claimed_at, claim_digest FROM outbox WHERE state = '{SENDING}'"
            " AND channel = 'sms' AND claimed_at IS NOT NULL AND claim_digest IS NOT NULL"
            f" AND {_ORPHAN} ORDER BY id",
            self._orphan_params(),
        ).fetchall()
        return interrupted_sends(rows)

    def mark_sent(self, ids: Sequence[int], provider_id: str, at: datetime) -> None:
        """Rows went out, whoever holds them now: a send the provider accepted is sent
        (if a new sender re-queued it meanwhile, this keeps it from going out again)."""
        self._wrote()
        self.db.execute(
            f"UPDATE outbox SET state = '{SENT}', provider_id = %s, sent_at = %s, error = NULL"
            " WHERE id = ANY(%s)",
            (provider_id, at, list(ids)),
        )

    def mark_retry(self, ids: Sequence[int], not_before: datetime, error: str) -> None:
        """Back to ``pending`` unless another session has claimed the rows since."""
        self._wrote()
        self.db.execute(
            f"UPDATE outbox SET state = '{PENDING}', not_before = %s, error = %s"
            f" WHERE id = ANY(%s) AND state IN ('{SENDING}', '{PENDING}')"
            " AND (owner_session IS NULL OR owner_session LIKE %s)",
            (not_before, error, list(ids), self._mine()),
        )

    def mark_failed(self, ids: Sequence[int], error: str) -> None:
        """Failed for good unless another session has claimed the rows since."""
        self._wrote()
        self.db.execute(
            f"UPDATE outbox SET state = '{FAILED}', error = %s WHERE id = ANY(%s)"
            " AND (owner_session IS NULL OR owner_session LIKE %s)",
            (error, list(ids), self._mine()),
        )

    def defer(self, ids: Sequence[int], not_before: datetime) -> None:
        if not ids:
            return
        self._wrote()
        self.db.execute(
            f"UPDATE outbox SET not_before = %s WHERE id = ANY(%s) AND state = '{PENDING}'",
            (not_before, list(ids)),
        )

    def cancel_pages(self, ticket_id: str, persons: Sequence[str] | None) -> int:
        self._wrote()
        sql = (
            f"UPDATE outbox SET state = '{CANCELLED}' WHERE ticket_id = %s"
            f" AND state = '{PENDING}' AND kind IN ('page', 'handoff')"
        )
        if persons is None:
            return len(self.db.execute(sql + " RETURNING 1", (ticket_id,)).fetchall())
        return len(
            self.db.execute(
                sql + " AND person = ANY(%s) RETURNING 1", (ticket_id, list(persons))
            ).fetchall()
        )

    def requeue_interrupted(self) -> int:
        """Every ``sending`` row back to ``pending``: only on the sending node (see
        :meth:`interrupted_sms`); elsewhere nothing (another node may be sending them)."""
        if not self.is_sender:
            return 0
        self._hint_outbox()
        return len(
            self.db.execute(
                f"UPDATE outbox SET state = '{PENDING}', owner = NULL, owner_session = NULL"
                f" WHERE state = '{SENDING}' AND {_ORPHAN} RETURNING 1",
                self._orphan_params(),
            ).fetchall()
        )

    def outbox_counts(self) -> dict[OutboxState, int]:
        rows = self.db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
        return {OutboxState(state): int(n) for state, n in rows}


def _channel_filter(channels: Sequence[str]) -> tuple[str, tuple[list[str], ...]]:
    """An ``AND channel = ANY(...)`` clause and its parameter (nothing for no channels)."""
    if not channels:
        return "", ()
    return " AND channel = ANY(%s)", (list(channels),)
