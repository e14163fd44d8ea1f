"""A ticket's escalation state: immutable values, changed only by building a new one."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Literal

from pager.core.ladder.io import Command, Reason
from pager.core.model import Channel

PageKind = Literal["page", "handoff"]


@dataclass(frozen=True, slots=True)
class Page:
    """An open page: ``person`` was asked to acknowledge."""

    person: str
    rung: int
    kind: PageKind
    at: datetime
    rotation: str | None = None


@dataclass(frozen=True, slots=True)
class PendingStep:
    """A later notification step of a page (e.g. voice at +5 min), cancelled by an ack."""

    due: datetime
    person: str
    via: Channel
    kind: PageKind
    rung: int
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class TicketState:
    """Everything the machine knows about one ticket. Never mutated: ``step`` returns a
    new one (``dataclasses.replace``). The store keeps it field by field, in this order:
    new fields go at the END, with a default that reads an older row correctly."""

    ticket_id: str
    queue: str | None
    tier: str
    severity: int
    opened_at: datetime
    last_event_at: datetime
    customer: str | None = None
    summary: str | None = None
    region: str | None = None
    closed: bool = False
    rung: int = 0
    repeats: int = 0
    owner: str | None = None
    owner_rotation: str | None = None
    responded: bool = False
    breached: bool = False
    respond_by: datetime | None = None
    respond_left: timedelta | None = None
    ack_deadline: datetime | None = None
    first_page_at: datetime | None = None
    status_due: datetime | None = None
    status_left: timedelta | None = None
    remind_at: datetime | None = None
    reminded: bool = False
    paused: bool = False
    shift_check_at: datetime | None = None
    handoff_to: str | None = None
    exhausted: bool = False
    seq: int = 0
    pages: tuple[Page, ...] = ()
    steps: tuple[PendingStep, ...] = ()
    paged: tuple[str, ...] = ()
    # --- added for SPEC 5 as amended (issue 11); defaults read older rows correctly ---
    #: The highest rung a customer escalation asked for (raises the cap, rule 3a).
    customer_rung: int = 0
    #: The rung of the page the owner acknowledged (rule 5); 0 while unowned.
    owner_rung: int = 0
    #: >0 while ``ack_deadline`` is a rule-7 deadline of that rung.
    escalation_rung: int = 0
    #: ``ack_deadline`` counts business time on the tier's calendar (a pause keeps it so).
    ack_business: bool = False
    #: When the current wait on the customer began (rule 8); None when not waiting.
    paused_at: datetime | None = None
    #: What was left of ``ack_deadline`` when the wait began.
    ack_left: timedelta | None = None
    #: Parallel to ``paged``: the lowest rung each was paged at (0: only informed).
    paged_rungs: tuple[int, ...] = ()
    #: The instant that last set the status clock (rule 9 re-derives from it).
    status_from: datetime | None = None
    #: Respond-by clock time spent waiting on the customer (rule 9 adds it back).
    waited: timedelta | None = None


#: TicketState's field names, in declaration (and storage) order.
FIELD_NAMES = tuple(f.name for f in fields(TicketState))
#: Every field's value, as a tuple in FIELD_NAMES order: one C-level call per copy
#: (a getattr per field in Python made copying the state the step's largest cost).
_values = attrgetter(*FIELD_NAMES)


@dataclass(slots=True)
class Draft:
    """The machine's working copy of a :class:`TicketState` during one step (an explicit
    builder: attribute writes are cheap, and the frozen state is built once, by
    :meth:`freeze`). Its fields are TicketState's, in the same order
    (``tests/core/test_ladder_state.py`` keeps the two lists equal)."""

    ticket_id: str
    queue: str | None
    tier: str
    severity: int
    opened_at: datetime
    last_event_at: datetime
    customer: str | None
    summary: str | None
    region: str | None
    closed: bool
    rung: int
    repeats: int
    owner: str | None
    owner_rotation: str | None
    responded: bool
    breached: bool
    respond_by: datetime | None
    respond_left: timedelta | None
    ack_deadline: datetime | None
    first_page_at: datetime | None
    status_due: datetime | None
    status_left: timedelta | None
    remind_at: datetime | None
    reminded: bool
    paused: bool
    shift_check_at: datetime | None
    handoff_to: str | None
    exhausted: bool
    seq: int
    pages: tuple[Page, ...]
    steps: tuple[PendingStep, ...]
    paged: tuple[str, ...]
    customer_rung: int
    owner_rung: int
    escalation_rung: int
    ack_business: bool
    paused_at: datetime | None
    ack_left: timedelta | None
    paged_rungs: tuple[int, ...]
    status_from: datetime | None
    waited: timedelta | None

    @classmethod
    def of(cls, state: TicketState) -> Draft:
        return cls(*_values(state))

    def freeze(self) -> TicketState:
        return TicketState(*_values(self))


#: What the deadline table reads: a stored state, or the machine's working copy.
StateView = TicketState | Draft


@dataclass(slots=True)
class Outcome:
    state: TicketState
    commands: list[Command] = field(default_factory=list)


def state_fields(state: TicketState) -> dict[str, object]:
    """The state's fields by name (shallow: pages and steps stay records)."""
    return dict(zip(FIELD_NAMES, _values(state), strict=True))
