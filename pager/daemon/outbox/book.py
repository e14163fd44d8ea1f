"""What the outbox relay may do with the store: claim rows, record what became of them.

A narrow face of :class:`pager.store.interface.Store` (nothing about tickets, codes or
audit), reached as ``engine.outbox`` inside a :meth:`pager.daemon.service.Service.db`
job, so on the store thread and inside its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pager.store.interface import Store
from pager.store.types import InterruptedSms, OutboxRow, OutboxState


class OutboxBook:
    def __init__(self, store: Store) -> None:
        self._store = store

    def pending_messages(
        self, now: datetime, limit: int = 200, channels: Sequence[str] = ()
    ) -> list[OutboxRow]:
        """Up to ``limit`` pending rows due at ``now``, earliest first (of ``channels``
        unless empty: a lane's claim)."""
        return self._store.pending_messages(now, limit, channels)

    def pending_for_many(self, persons: Sequence[str], channel: str) -> dict[str, list[OutboxRow]]:
        """Each person's pending rows on ``channel`` (due or not), oldest first."""
        return self._store.pending_for_many(persons, channel)

    def pending_for(self, person: str, channel: str) -> list[OutboxRow]:
        """``person``'s pending rows on ``channel`` (due or not), oldest first."""
        return self._store.pending_for(person, channel)

    def next_message_due(self, channels: Sequence[str] = ()) -> datetime | None:
        return self._store.next_message_due(channels)

    def defer(self, ids: Sequence[int], not_before: datetime) -> None:
        """Hold rows back (a rate limit) without counting an attempt."""
        self._store.defer(ids, not_before)

    def mark_sending(
        self, sends: Sequence[tuple[Sequence[int], str | None]], claimed_at: datetime
    ) -> None:
        """Claim rows, one ``(row ids, SMS digest or None)`` per provider request."""
        self._store.mark_sending(sends, claimed_at)

    def mark_sent(self, ids: Sequence[int], provider_id: str, at: datetime) -> None:
        self._store.mark_sent(ids, provider_id, at)

    def mark_retry(self, ids: Sequence[int], not_before: datetime, error: str) -> None:
        self._store.mark_retry(ids, not_before, error)

    def mark_failed(self, ids: Sequence[int], error: str) -> None:
        self._store.mark_failed(ids, error)

    def interrupted_sms(self) -> list[InterruptedSms]:
        """SMS sends a dead process left ``sending`` (asked about at start-up)."""
        return self._store.interrupted_sms()

    def requeue_interrupted(self) -> int:
        """Every row left ``sending`` back to ``pending``."""
        return self._store.requeue_interrupted()

    def counts(self) -> dict[OutboxState, int]:
        """``{state: rows}``."""
        return self._store.outbox_counts()
