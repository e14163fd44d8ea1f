"""A ticket's escalation state: immutable values, changed only by building a new one."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Literal, NamedTuple

from pager.core.ladder.io import Command, Reason
from pager.core.model import Channel

PageKind = Literal["page", "handoff"]


class Page(NamedTuple):
    """An open page: ``person`` was asked to acknowledge."""

    person: str
    rung: int
    kind: PageKind
    at: datetime
    rotation: str | None = None


class PendingStep(NamedTuple):
    """A later notification step of a page (e.g. voice at +5 min), cancelled by an ack."""

    due: datetime
    person: str
    via: Channel
    kind: PageKind
    rung: int
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class TicketState:
    """Everything the machine knows about one ticket. Immutable: it is a frozen
    dataclass, so every attribute write or delete raises ``FrozenInstanceError``;
    ``step`` returns a new one. The store keeps it field by field, in this order: new
    fields go at the END, with a default that reads an older row correctly.

    The machine builds one by :meth:`Draft.freeze`, which turns its working copy into a
    TicketState in place (see there) rather than through the frozen ``__init__``, which
    sets the 41 fields one ``object.__setattr__`` at a time (a fifth of a step)."""

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
#: Every field's value, as a tuple in FIELD_NAMES order, in one C-level call.
_values = attrgetter(*FIELD_NAMES)


@dataclass(slots=True)
class Draft:
    """The machine's working copy of a :class:`TicketState` during one step (an explicit
    builder: attribute writes are cheap slot writes, checked by mypy field by field).
    Its fields are TicketState's, in the same order and with the same defaults
    (``tests/core/test_ladder_state.py`` keeps the two lists equal), so the two classes
    have the same slot layout: :meth:`freeze` relies on it."""

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
    # (see TicketState for the fields added for SPEC 5 as amended)
    customer_rung: int = 0
    owner_rung: int = 0
    escalation_rung: int = 0
    ack_business: bool = False
    paused_at: datetime | None = None
    ack_left: timedelta | None = None
    paged_rungs: tuple[int, ...] = ()
    status_from: datetime | None = None
    waited: timedelta | None = None

    @classmethod
    def of(cls, state: TicketState) -> Draft:
        """A working copy of ``state`` (every field value is immutable: a shallow copy
        is the whole state)."""
        return cls(*_values(state))

    def freeze(self) -> TicketState:
        """This draft, become a :class:`TicketState`: consumes the draft.

        The object itself changes class (Python allows it between classes of the same
        slot layout, and raises ``TypeError`` otherwise): no copy, and no field is
        written after. From then on it is immutable like any TicketState, so a write
        through an old reference to the draft raises ``FrozenInstanceError`` rather than
        changing a state that was returned."""
        self.__class__ = TicketState  # type: ignore[assignment]
        return self  # type: ignore[return-value]


#: What the deadline table reads: a stored state, or the machine's working copy.
StateView = TicketState | Draft


@dataclass(slots=True)
class Outcome:
    state: TicketState
    commands: list[Command] = field(default_factory=list)


def state_fields(state: TicketState) -> dict[str, object]:
    """The state's fields by name (shallow: pages and steps stay records)."""
    return dict(zip(FIELD_NAMES, _values(state), strict=True))
