"""The escalation state machine (SPEC section 5): state, deadlines and transitions.

Import from here: ``from pager.core.ladder import step, TicketState, Tick, ...``.
"""

from pager.core.ladder.base import clock_length
from pager.core.ladder.deadlines import DEADLINES, Deadline, next_deadline
from pager.core.ladder.firing import MAX_FIRINGS_PER_TICK
from pager.core.ladder.io import (
    Acknowledge,
    AckVia,
    Action,
    ClosePages,
    Command,
    EscalateNow,
    EventInput,
    Input,
    Notify,
    OpenPage,
    Reason,
    Record,
    Rejected,
    Tick,
)
from pager.core.ladder.machine import step
from pager.core.ladder.state import (
    Outcome,
    Page,
    PageKind,
    PendingStep,
    TicketState,
    state_fields,
)

__all__ = [
    "DEADLINES",
    "MAX_FIRINGS_PER_TICK",
    "AckVia",
    "Acknowledge",
    "Action",
    "ClosePages",
    "Command",
    "Deadline",
    "EscalateNow",
    "EventInput",
    "Input",
    "Notify",
    "OpenPage",
    "Outcome",
    "Page",
    "PageKind",
    "PendingStep",
    "Reason",
    "Record",
    "Rejected",
    "Tick",
    "TicketState",
    "clock_length",
    "next_deadline",
    "state_fields",
    "step",
]
