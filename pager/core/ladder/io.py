"""What goes into the machine (inputs) and what comes out (commands): plain frozen data.

Commands (and the state's :class:`~pager.core.ladder.state.Page` and
:class:`~pager.core.ladder.state.PendingStep` records) are ``NamedTuple`` classes rather than
frozen dataclasses: just as immutable (a write raises ``AttributeError``), but built
without one ``object.__setattr__`` per field, which cost a step that opens a ticket
about a tenth of its time (it makes half a dozen of them). Compare them only with their
own kind (as tuples, two kinds with equal values would compare equal).

Deadlines are not commands: the shell stores :func:`~pager.core.ladder.next_deadline` of
the new state and calls ``step(state, Tick(), now)`` then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

from pager.core.events import TicketEvent
from pager.core.messages.kinds import MessageKind
from pager.core.model import Channel

AckVia = Literal["sms", "voice", "cli", "event"]
#: Why a rung was paged (SPEC section 8).
Reason = Literal[
    "opened",
    "calendar_opened",
    "ack_timeout",
    "breach",
    "overdue",
    "customer",
    "escalation_timeout",
    "engineer",
    "handoff_unacked",
    "repeat",
    "urgency_raised",
]
Action = Literal[
    "page",
    "inform",
    "remind",
    "overdue",
    "handoff",
    "breach",
    "unacknowledged",
    "closed",
    "ack",
    "escalate",
    "skip",
    "note",
]


class Rejected(ValueError):
    """The input cannot apply to this ticket; ``str()`` says why. Nothing changed."""


# --- inputs --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventInput:
    event: TicketEvent


@dataclass(frozen=True, slots=True)
class Acknowledge:
    person: str
    via: AckVia


@dataclass(frozen=True, slots=True)
class EscalateNow:
    person: str
    via: AckVia


@dataclass(frozen=True, slots=True)
class Tick:
    """Fire every deadline of the ticket that is due at ``now``."""


Input = EventInput | Acknowledge | EscalateNow | Tick


# --- commands ------------------------------------------------------------------------


class Notify(NamedTuple):
    """Send one message. ``key`` is stable across replays (the outbox's idempotency key)."""

    key: str
    ticket_id: str
    at: datetime
    person: str
    via: Channel
    kind: MessageKind
    action: Action
    rung: int
    #: Why this rung was paged (SPEC section 8's ``reason``); None for other messages.
    reason: Reason | None = None


class Record(NamedTuple):
    """A timeline entry that is not a notification (ack, breach, escalation, notes)."""

    ticket_id: str
    at: datetime
    action: Action
    detail: str = ""
    by: str | None = None
    rung: int | None = None
    #: A breach's kind: ``respond_by`` or ``escalation``.
    kind: str | None = None


class OpenPage(NamedTuple):
    """``person`` has an open page for the ticket: give it a reply code."""

    ticket_id: str
    person: str


class ClosePages(NamedTuple):
    """Free the reply codes of ``persons`` (every open page when None) for the ticket."""

    ticket_id: str
    persons: tuple[str, ...] | None = None


Command = Notify | Record | OpenPage | ClosePages
