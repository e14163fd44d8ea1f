"""The values the store speaks (any implementation): outbox rows, audit entries, errors.

Every instant is a UTC-aware :class:`datetime`; an implementation converts to its own
column type inside itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class StoreError(RuntimeError):
    """The store cannot be used (unreadable, read-only, full disk, newer schema...)."""


class OutboxState(StrEnum):
    """The life of an outbox row (the only states a row can be in).

    ``pending`` -> ``sending`` (claimed by the relay) -> ``sent`` | ``pending`` again
    (temporary failure, later ``not_before``) | ``failed`` (for good). ``cancelled``: a
    page acknowledged before it went out.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One stored outbox message."""

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
    state: OutboxState
    attempts: int
    not_before: datetime
    created_at: datetime
    code: str | None
    error: str | None = None
    #: A fallback of a message that failed for good (it does not fall back again).
    fallback: bool = False


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
    not_before: datetime
    code: str | None
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of a ticket's audit log (``detail`` is JSON-serialisable)."""

    ticket_id: str
    at: datetime
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InterruptedSms:
    """An SMS send a dead process left ``sending``: its rows, where it went, when it was
    claimed and the digest of its text (:func:`pager.daemon.outbox.delivery.sms_digest`)."""

    ids: tuple[int, ...]
    address: str
    claimed_at: datetime
    digest: str


__all__ = ["AuditEntry", "InterruptedSms", "NewMessage", "OutboxRow", "OutboxState", "StoreError"]
