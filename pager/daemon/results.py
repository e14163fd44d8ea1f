"""What the engine reports: the result of one input, and the changes of a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pager.core.ladder.machine import Notify, Record, TicketState

Status = Literal["applied", "duplicate", "rejected", "unchanged"]
#: Why an input was rejected, as a metric label: decided where the engine rejects it,
#: from what it knows (the ticket and its state), never parsed back out of ``reason``.
Rejection = Literal["", "unknown_ticket", "unknown_tier", "closed", "rejected"]


@dataclass(slots=True)
class Changes:
    """What the jobs since :meth:`Engine.take_changes` changed (for the commit hooks)."""

    tickets: dict[str, TicketState] = field(default_factory=dict)
    messages: int = 0
    #: The earliest next deadline of those tickets (None: none of them has one).
    earliest: datetime | None = None

    def copy(self) -> Changes:
        return Changes(dict(self.tickets), self.messages, self.earliest)


@dataclass(slots=True)
class Result:
    """What became of one input. ``reason`` explains a rejection."""

    status: Status
    reason: str = ""
    #: Set with status ``rejected`` (see :data:`Rejection`).
    rejection: Rejection = ""
    ticket: TicketState | None = None
    messages: int = 0
    records: list[Record] = field(default_factory=list)
    notifications: list[Notify] = field(default_factory=list)


def rejection_of(state: TicketState | None) -> Rejection:
    """The label of an input the core refused for a ticket in ``state``."""
    if state is None:
        return "unknown_ticket"
    return "closed" if state.closed else "rejected"
