"""The store as the shell sees it: one :class:`Store` protocol, any implementation.

Contracts every implementation keeps (``tests/store/test_contract.py`` checks them):

* **Transactions.** Every operation runs inside :meth:`Store.transaction` (or is one on
  its own only where the docstring says so). A transaction is all or nothing: an
  exception inside rolls every write of it back. Nested ``transaction()`` calls join the
  outer one. :meth:`Store.savepoint` rolls back one job inside a transaction alone.
* **Errors.** When the store itself fails (unreachable, read-only, disk full, corrupt)
  the operation raises :class:`~pager.store.types.StoreError` (directly, or inside
  :meth:`Store.guard`, which turns the driver's own errors into it).
* **Time.** Every instant in and out is a UTC-aware ``datetime``; the implementation
  converts to its column type inside itself. Instants keep at least millisecond precision.
* **Threads.** One store object is used by one thread at a time: the daemon confines it
  to the single store thread of :class:`pager.daemon.service.Service`; the CLI uses its
  own store object directly. An implementation need not be thread-safe.
* **Concurrency between processes.** Another process (``pager ack``) may write the same
  database through its own store object; :meth:`Store.data_version` tells the daemon.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from pager.core.ladder import TicketState
from pager.store.types import AuditEntry, InterruptedSms, NewMessage, OutboxRow, OutboxState


class Store(Protocol):
    """Tickets with their next deadline, processed events, reply codes, the outbox, audit."""

    # --- lifecycle and transactions -----------------------------------------------------

    def close(self) -> None:
        """Release the connection(s). No operation may follow."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Begin a write transaction; commit on normal exit, roll back on an exception
        (and re-raise it). Re-entrant: an inner call joins the outer transaction.
        Raises StoreError when it cannot begin or commit."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Inside a transaction: on an exception, undo only the writes made inside this
        block (then re-raise); on normal exit keep them in the enclosing transaction."""
        ...

    def guard(self) -> AbstractContextManager[None]:
        """Turn the implementation's own database errors raised inside into StoreError
        (other exceptions pass through unchanged)."""
        ...

    def heartbeat(self, now: datetime) -> None:
        """A tiny write that proves the store still accepts writes (the health probe)."""
        ...

    def data_version(self) -> int:
        """An opaque number that changes when another client (e.g. ``pager ack`` in
        another process) has committed since the last call; equal numbers: no change."""
        ...

    def reader(self) -> Store | None:
        """A second, independent store object on the same data, for reading on another
        thread without holding up this one (the caller closes it); None when no second
        connection can see the data (an in-memory store)."""
        ...

    # --- processed events and inbound messages -----------------------------------------

    def event_seen(self, event_id: str) -> bool:
        """True when ``event_id`` was recorded (and not forgotten)."""
        ...

    def record_event(self, event_id: str, ticket_id: str, received: datetime, payload: str) -> bool:
        """Record a processed event; False (and no change) when ``event_id`` was
        recorded before. One call both asks "seen before?" and records."""
        ...

    def forget_event(self, event_id: str) -> None:
        """Undo :meth:`record_event` (the event was rejected, so it may come again)."""
        ...

    def message_seen(self, sid: str) -> bool:
        """True when the inbound message ``sid`` (a provider MessageSid) was seen before;
        records it either way (the next call answers True)."""
        ...

    # --- tickets and their deadlines ---------------------------------------------------

    def get_ticket(self, ticket_id: str) -> TicketState | None:
        """The stored state (equal to what :meth:`put_ticket` stored), or None."""
        ...

    def put_ticket(self, state: TicketState, deadline: datetime | None) -> None:
        """Insert or replace ``state`` (keyed by its ticket_id) and its single next
        deadline (None: no timer)."""
        ...

    def next_due(self) -> datetime | None:
        """The earliest stored deadline of any ticket, or None when no ticket has one."""
        ...

    def due_tickets(self, now: datetime, limit: int = 500) -> list[str]:
        """Up to ``limit`` ticket ids whose deadline is at or before ``now``, earliest
        deadline first."""
        ...

    def open_ticket_count(self) -> int:
        """How many stored tickets are not closed."""
        ...

    def timer_count(self) -> int:
        """How many stored tickets have a deadline."""
        ...

    def open_tickets(self) -> Iterator[TicketState]:
        """Every ticket that is not closed (in no particular order)."""
        ...

    # --- reply codes --------------------------------------------------------------------

    def codes_of(self, person: str) -> dict[str, str]:
        """``{code: ticket_id}`` of ``person``'s open pages, in ascending code order."""
        ...

    def allocate_code(self, person: str, ticket_id: str) -> str:
        """A new reply code (decimal digits, no leading zero) for ``person``'s page of
        ``ticket_id``, unique among that person's codes; the smallest free one while the
        person holds few. The caller ensures the person holds none for the ticket yet."""
        ...

    def code_for(self, person: str, ticket_id: str) -> str | None:
        """``person``'s code for ``ticket_id``, or None."""
        ...

    def remove_codes(self, ticket_id: str, persons: Sequence[str] | None) -> None:
        """Free the codes of ``ticket_id`` held by ``persons`` (None: by everyone)."""
        ...

    # --- outbox ------------------------------------------------------------------------

    def add_message(self, msg: NewMessage, created: datetime) -> int | None:
        """Insert a ``pending`` row with 0 attempts; its id, or None (and no change)
        when a row with ``msg.key`` exists already (a replay)."""
        ...

    def pending_messages(
        self, now: datetime, limit: int = 200, channels: Sequence[str] = ()
    ) -> list[OutboxRow]:
        """Up to ``limit`` ``pending`` rows due at ``now`` (``not_before <= now``),
        ordered by ``not_before`` then id; only rows of ``channels`` unless it is empty."""
        ...

    def next_message_due(self, channels: Sequence[str] = ()) -> datetime | None:
        """The earliest ``not_before`` of a ``pending`` row (of ``channels`` unless it is
        empty), or None."""
        ...

    def pending_for(self, person: str, channel: str) -> list[OutboxRow]:
        """``person``'s ``pending`` rows on ``channel`` (due or not), by id."""
        ...

    def pending_for_many(self, persons: Sequence[str], channel: str) -> dict[str, list[OutboxRow]]:
        """:meth:`pending_for` of each of ``persons`` (every one is a key)."""
        ...

    def message(self, message_id: int) -> OutboxRow | None:
        """The row with id ``message_id`` in whatever state, or None."""
        ...

    def message_by_token(self, token: str) -> OutboxRow | None:
        """The row whose (non-empty) voice ``token`` is ``token``, or None."""
        ...

    def mark_sending(
        self, sends: Sequence[tuple[Sequence[int], str | None]], claimed_at: datetime
    ) -> None:
        """Claim rows for sending, one ``(row ids, digest)`` per provider request: state
        ``sending``, attempts + 1, remember ``claimed_at`` and the digest (an SMS text's,
        so that a restart can ask the provider about it; None: not an SMS)."""
        ...

    def interrupted_sms(self) -> list[InterruptedSms]:
        """SMS sends left ``sending`` with a digest (by a dead process): the rows of one
        send (same address, claim time and digest) together, ordered by first id."""
        ...

    def mark_sent(self, ids: Sequence[int], provider_id: str, at: datetime) -> None:
        """Rows went out: state ``sent``, error cleared."""
        ...

    def mark_retry(self, ids: Sequence[int], not_before: datetime, error: str) -> None:
        """Rows failed for now: back to ``pending`` not before ``not_before``, with ``error``."""
        ...

    def mark_failed(self, ids: Sequence[int], error: str) -> None:
        """Rows failed for good: state ``failed`` with ``error``."""
        ...

    def defer(self, ids: Sequence[int], not_before: datetime) -> None:
        """Hold ``pending`` rows back until ``not_before`` (rate limits) without counting
        an attempt; rows in any other state are left alone."""
        ...

    def cancel_pages(self, ticket_id: str, persons: Sequence[str] | None) -> int:
        """Cancel the ``pending`` page and handoff rows of a ticket for ``persons``
        (None: everyone); other kinds and states are left alone. Returns how many."""
        ...

    def requeue_interrupted(self) -> int:
        """Every ``sending`` row back to ``pending`` (at start-up, after a dead process).
        Returns how many."""
        ...

    def outbox_counts(self) -> dict[OutboxState, int]:
        """``{state: rows}`` over the states that have rows."""
        ...

    # --- audit -------------------------------------------------------------------------

    def add_audit(self, ticket_id: str, at: datetime, action: str, detail: dict[str, Any]) -> None:
        """Append one audit entry."""
        ...

    def add_audits(self, entries: Sequence[AuditEntry]) -> None:
        """Append several audit entries in their order (nothing for an empty sequence)."""
        ...

    def audit(self, ticket_id: str) -> list[AuditEntry]:
        """A ticket's audit entries in the order they were added."""
        ...


__all__ = ["Store"]
