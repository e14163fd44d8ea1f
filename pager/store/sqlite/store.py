"""The SQLite store: tickets, stored deadlines, the outbox, reply codes, audit.

Synchronous by design: the daemon runs every transaction on one dedicated worker thread
(see :mod:`pager.daemon.service`), so a whole batch of events costs one thread hop and one commit
(group commit). The CLI uses it directly.

Durability: WAL with ``synchronous=NORMAL`` survives any process crash (``kill -9``)
without losing a committed transaction; only an OS crash or power loss can lose the last
few. ``PAGER_SQLITE_SYNC=FULL`` trades throughput for that too.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pager.core.ladder.machine import TicketState
from pager.core.replies import MAX_CODE_DIGITS, next_code
from pager.store.sqlite.codec import decode_state, encode_state
from pager.store.sqlite.migrations import SchemaTooNew, migrate

#: Compact JSON for audit details (one encoder: ``json.dumps`` with options builds one
#: per call).
_JSON = json.JSONEncoder(separators=(",", ":"))

#: Below this many codes a person's new page gets the smallest free code.
SMALL_CODES = 100
MAX_CODE = 10**MAX_CODE_DIGITS - 1


class StoreError(RuntimeError):
    """The store cannot be used (unreadable, read-only, full disk, newer schema...)."""


def ts(t: datetime) -> float:
    """An instant as epoch seconds (the storage form of every deadline)."""
    return t.timestamp()


def from_ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    key: str
    ticket_id: str
    person: str
    channel: str
    address: str
    kind: str
    subject: str
    body: str
    bundle_line: str
    token: str
    state: str
    attempts: int
    not_before: float
    created_at: float
    code: str | None
    error: str | None = None


_OUTBOX_COLUMNS = (
    "id, key, ticket_id, person, channel, address, kind, subject, body, bundle_line, token,"
    " state, attempts, not_before, created_at, code, error"
)


@dataclass(frozen=True, slots=True)
class NewMessage:
    """An outbox row to insert (rendered; ``key`` makes the insert idempotent)."""

    key: str
    ticket_id: str
    person: str
    channel: str
    address: str
    kind: str
    subject: str
    body: str
    bundle_line: str
    token: str
    not_before: float
    code: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ticket_id: str
    at: datetime
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InterruptedSms:
    """An SMS send a dead process left ``sending``: its rows, where it went, when it was
    claimed (POSIX seconds) and the digest of its text
    (:func:`pager.daemon.outbox.delivery.sms_digest`)."""

    ids: tuple[int, ...]
    address: str
    claimed_at: float
    digest: str


def path_from_url(url: str) -> Path:
    """``sqlite:/abs/path.db`` (the normalised config form) -> Path; ValueError otherwise."""
    if not url.startswith("sqlite:"):
        raise ValueError(f"not a sqlite store url: {url!r}")
    rest = url[len("sqlite:") :]
    if rest.startswith("///"):
        rest = "/" + rest[3:]
    return Path(rest)


class Checkpointer:
    """Checkpoints the WAL from its own thread and connection (see SqliteStore)."""

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pager-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10.0)
        try:
            while not self._stop.wait(self.interval):
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            with contextlib.suppress(sqlite3.Error):
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            db.close()


class SqliteStore:
    """One connection; every public method must run inside :meth:`transaction` or is one.

    Not safe for concurrent use from several threads: the daemon confines it to one.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str | None = None,
        checkpoint_in_background: bool = False,
    ) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            sync = synchronous or os.environ.get("PAGER_SQLITE_SYNC", "NORMAL")
            if sync.upper() not in ("NORMAL", "FULL", "OFF"):
                raise StoreError(f"PAGER_SQLITE_SYNC must be NORMAL or FULL, not {sync!r}")
            self.db.execute(f"PRAGMA synchronous={sync.upper()}")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=10000")
            if checkpoint_in_background:
                # Checkpoints fsync; done by Checkpointer's own connection and thread, they
                # never stall a transaction of the daemon's store thread.
                self.db.execute("PRAGMA wal_autocheckpoint=0")
            migrate(self.db)
        except (sqlite3.Error, OSError, SchemaTooNew) as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        self._depth = 0
        self._lock = threading.RLock()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any exception). Re-entrant."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"store unavailable: {exc}") from exc
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._rollback()
                raise
            self._depth = 0
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"commit failed: {exc}") from exc

    def _rollback(self) -> None:
        # After some errors (disk full, I/O) SQLite has already rolled back by itself.
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("ROLLBACK")

    def heartbeat(self, now: datetime) -> None:
        """A tiny write that proves the store still accepts writes (the health probe)."""
        self.db.execute(
            "INSERT INTO heartbeat(id, at) VALUES (1, ?)"
            " ON CONFLICT(id) DO UPDATE SET at = excluded.at",
            (ts(now),),
        )

    def data_version(self) -> int:
        """Changes when another connection (e.g. ``pager ack``) commits."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    # --- events ------------------------------------------------------------------------

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

    # --- tickets and their deadlines -----------------------------------------------------

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
                None if deadline is None else deadline.timestamp(),
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
        return int(self.db.execute("SELECT COUNT(*) FROM tickets WHERE closed = 0").fetchone()[0])

    def timer_count(self) -> int:
        return int(
            self.db.execute("SELECT COUNT(*) FROM tickets WHERE due IS NOT NULL").fetchone()[0]
        )

    def open_tickets(self) -> Iterator[TicketState]:
        for (text,) in self.db.execute("SELECT state FROM tickets WHERE closed = 0"):
            yield decode_state(text)

    # --- reply codes ----------------------------------------------------------------------

    def codes_of(self, person: str) -> dict[str, str]:
        """``{code: ticket_id}`` of ``person``'s open pages."""
        rows = self.db.execute(
            "SELECT code, ticket_id FROM codes WHERE person = ? ORDER BY code", (person,)
        ).fetchall()
        return {str(code): ticket for code, ticket in rows}

    def allocate_code(self, person: str, ticket_id: str) -> str:
        """A reply code for ``person``'s new page of ``ticket_id``, unique among their pages.

        The smallest free code while a person has few pages; during an alert storm (the
        highest code is past :data:`SMALL_CODES`) the next one up, which costs one index
        lookup instead of a scan of thousands of codes.
        """
        # One index walk from the top: at most SMALL_CODES rows, and all of them while
        # the person has few pages.
        rows = self.db.execute(
            "SELECT code FROM codes WHERE person = ? ORDER BY code DESC LIMIT ?",
            (person, SMALL_CODES),
        ).fetchall()
        highest = rows[0][0] if rows else 0
        if SMALL_CODES <= highest < MAX_CODE:
            code = highest + 1
        elif highest < SMALL_CODES:
            code = int(next_code([str(r[0]) for r in rows]))
        else:  # the top code is taken: look for a gap among all of them
            code = int(next_code(self.codes_of(person)))
        self.db.execute(
            "INSERT INTO codes(person, code, ticket_id) VALUES (?, ?, ?)", (person, code, ticket_id)
        )
        return str(code)

    def code_for(self, person: str, ticket_id: str) -> str | None:
        row = self.db.execute(
            "SELECT code FROM codes WHERE person = ? AND ticket_id = ?", (person, ticket_id)
        ).fetchone()
        return None if row is None else str(row[0])

    def remove_codes(self, ticket_id: str, persons: Sequence[str] | None) -> None:
        if persons is None:
            self.db.execute("DELETE FROM codes WHERE ticket_id = ?", (ticket_id,))
        else:
            self.db.executemany(
                "DELETE FROM codes WHERE ticket_id = ? AND person = ?",
                [(ticket_id, p) for p in persons],
            )

    # --- outbox ---------------------------------------------------------------------------

    def add_message(self, msg: NewMessage, created: datetime) -> int | None:
        """Insert an outbox row; None when its key already exists (a replay)."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO outbox(key, ticket_id, person, channel, address, kind,"
            " subject, body, bundle_line, token, state, attempts, not_before, created_at, code)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
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
                ts(created),
                msg.code,
            ),
        )
        return cur.lastrowid if cur.rowcount else None

    def pending_messages(
        self, now: datetime, limit: int = 200, channels: Sequence[str] = ()
    ) -> list[OutboxRow]:
        """Due pending rows, oldest first; only those of ``channels`` unless empty."""
        only, params = _channel_filter(channels)
        rows = self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND not_before <= ?"
            f"{only} ORDER BY not_before, id LIMIT ?",
            (ts(now), *params, limit),
        ).fetchall()
        return [OutboxRow(*r) for r in rows]

    def next_message_due(self, channels: Sequence[str] = ()) -> float | None:
        """When the next pending row (of ``channels`` unless empty) is due."""
        only, params = _channel_filter(channels)
        row = self.db.execute(
            f"SELECT MIN(not_before) FROM outbox WHERE state = 'pending'{only}", params
        ).fetchone()
        return None if row[0] is None else float(row[0])

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
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending'"
                f" AND person IN ({marks}) AND channel = ? ORDER BY id",
                (*chunk, channel),
            ).fetchall()
            for r in rows:
                row = OutboxRow(*r)
                found[row.person].append(row)
        return found

    def message(self, message_id: int) -> OutboxRow | None:
        row = self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = ?", (message_id,)
        ).fetchone()
        return None if row is None else OutboxRow(*row)

    def message_by_token(self, token: str) -> OutboxRow | None:
        row = self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE token = ? AND token != ''", (token,)
        ).fetchone()
        return None if row is None else OutboxRow(*row)

    def mark_sending(
        self, sends: Sequence[tuple[Sequence[int], str | None]], claimed_at: float
    ) -> None:
        """Claim rows for sending, one ``(row ids, digest)`` per provider request; the
        digest of an SMS text lets a restart ask the provider about it (None: not an SMS)."""
        self.db.executemany(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, claimed_at = ?,"
            " claim_digest = ? WHERE id = ?",
            [(claimed_at, digest, i) for ids, digest in sends for i in ids],
        )

    def interrupted_sms(self) -> list[InterruptedSms]:
        """SMS sends left ``sending`` by a dead process (rows of one bundle together)."""
        rows = self.db.execute(
            "SELECT id, address, claimed_at, claim_digest FROM outbox WHERE state = 'sending'"
            " AND channel = 'sms' AND claimed_at IS NOT NULL AND claim_digest IS NOT NULL"
            " ORDER BY id"
        ).fetchall()
        sends: dict[tuple[str, float, str], list[int]] = {}
        for row_id, address, claimed_at, digest in rows:
            sends.setdefault((address, claimed_at, digest), []).append(row_id)
        return [
            InterruptedSms(tuple(ids), address, claimed_at, digest)
            for (address, claimed_at, digest), ids in sends.items()
        ]

    def mark_sent(self, ids: Sequence[int], provider_id: str, at: datetime) -> None:
        self.db.executemany(
            "UPDATE outbox SET state = 'sent', provider_id = ?, sent_at = ?, error = NULL"
            " WHERE id = ?",
            [(provider_id, ts(at), i) for i in ids],
        )

    def mark_retry(self, ids: Sequence[int], not_before: float, error: str) -> None:
        self.db.executemany(
            "UPDATE outbox SET state = 'pending', not_before = ?, error = ? WHERE id = ?",
            [(not_before, error, i) for i in ids],
        )

    def mark_failed(self, ids: Sequence[int], error: str) -> None:
        self.db.executemany(
            "UPDATE outbox SET state = 'failed', error = ? WHERE id = ?",
            [(error, i) for i in ids],
        )

    def defer(self, ids: Sequence[int], not_before: float) -> None:
        """Hold pending rows back (rate limits) without counting an attempt."""
        self.db.executemany(
            "UPDATE outbox SET not_before = ? WHERE id = ? AND state = 'pending'",
            [(not_before, i) for i in ids],
        )

    def cancel_pages(self, ticket_id: str, persons: Sequence[str] | None) -> int:
        """Cancel unsent page/handoff messages of a ticket (its page was acknowledged)."""
        sql = (
            "UPDATE outbox SET state = 'cancelled' WHERE ticket_id = ? AND state = 'pending'"
            " AND kind IN ('page', 'handoff')"
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
            "UPDATE outbox SET state = 'pending' WHERE state = 'sending'"
        ).rowcount

    def outbox_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        return {state: int(n) for state, n in rows}

    # --- audit ----------------------------------------------------------------------------

    def add_audit(self, ticket_id: str, at: datetime, action: str, detail: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO audit(ticket_id, at, action, detail) VALUES (?, ?, ?, ?)",
            (ticket_id, ts(at), action, _JSON.encode(detail)),
        )

    def add_audits(self, entries: Sequence[AuditEntry]) -> None:
        if entries:
            self.db.executemany(
                "INSERT INTO audit(ticket_id, at, action, detail) VALUES (?, ?, ?, ?)",
                [
                    (e.ticket_id, e.at.timestamp(), e.action, _JSON.encode(e.detail))
                    for e in entries
                ],
            )

    def audit(self, ticket_id: str) -> list[AuditEntry]:
        rows = self.db.execute(
            "SELECT ticket_id, at, action, detail FROM audit WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        ).fetchall()
        return [AuditEntry(r[0], from_ts(r[1]), r[2], json.loads(r[3])) for r in rows]


def _channel_filter(channels: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """An ``AND channel IN (...)`` clause and its parameters (nothing for no channels)."""
    if not channels:
        return "", ()
    return f" AND channel IN ({','.join('?' * len(channels))})", tuple(channels)
