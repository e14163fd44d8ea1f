"""The escalation state machine: SPEC section 5, as one pure function.

``step(state, input, now, policy) -> Outcome(state, commands)``

* ``state`` is the ticket's :class:`TicketState` (None before ``opened``). It is immutable:
  ``step`` returns a new one.
* ``input`` is a ticket event, an acknowledgement or escalation by a person, or
  :class:`Tick` (the daemon's deadline loop woke up for this ticket).
* ``now`` is the daemon's time. Pages happen at ``now``; the SLA instants the rules
  compute come from event ``at`` values and config, so a replay gives the same timeline.
* ``commands`` are data for the shell (see :mod:`pager.core.ladder.io`).

An input that cannot apply raises :class:`Rejected` and leaves everything unchanged.
"""

from __future__ import annotations

from datetime import datetime

from pager.core import sla
from pager.core.events import TicketEvent, format_instant_seconds
from pager.core.ladder.base import describe, region_of
from pager.core.ladder.events import Events
from pager.core.ladder.io import (
    Acknowledge,
    EscalateNow,
    EventInput,
    Input,
    Rejected,
    Tick,
)
from pager.core.ladder.state import Draft, Outcome, TicketState
from pager.core.policy import Policy, PolicyError

__all__ = ["Machine", "step"]


def step(state: TicketState | None, inp: Input, now: datetime, policy: Policy) -> Outcome:
    """Apply ``inp`` at ``now``; see the module docstring for the contract."""
    opening = isinstance(inp, EventInput) and inp.event.type == "opened"
    if opening and (state is None or state.closed):
        assert isinstance(inp, EventInput)
        return Machine.opened(inp.event, now, policy)
    if state is None:
        raise Rejected("unknown ticket (no opened event seen)")
    machine = Machine(Draft.of(state), now, policy)
    if state.closed:
        if isinstance(inp, Tick):
            return machine.outcome()
        raise Rejected(f"ticket {state.ticket_id} is closed")
    machine.apply(inp)
    return machine.outcome()


class Machine(Events):
    """The working machine: every transition (see :class:`MachineBase`) plus the
    entry points :meth:`opened` and :meth:`apply`."""

    @classmethod
    def opened(cls, event: TicketEvent, now: datetime, policy: Policy) -> Outcome:
        assert event.severity is not None and event.tier is not None
        try:
            tp = policy.ticket_policy(event.queue, event.tier, event.severity)
        except PolicyError as exc:
            raise Rejected(str(exc)) from None
        region = region_of(policy, tp, event.region)
        respond_by = sla.add(event.at, tp.severity.respond_within, tp.severity.clock, tp.calendar)
        draft = Draft(
            ticket_id=event.ticket_id,
            queue=event.queue,
            tier=event.tier,
            severity=event.severity,
            opened_at=event.at,
            last_event_at=event.at,
            customer=event.customer,
            summary=event.summary,
            region=region,
            respond_by=respond_by,
        )
        m = cls(draft, now, policy)
        every = tp.severity.status_every
        status = f"every {describe(every)} from the acknowledgement" if every else "none"
        cap = m.cap(tp)
        m.record(
            "note",
            f"opened: severity {event.severity}, tier {event.tier}, urgency"
            f" {tp.severity.urgency}; respond by {format_instant_seconds(respond_by)};"
            f" status reports: {status}; automatic escalation up to rung {cap}"
            f" ({tp.ladder.rungs[cap - 1].name})",
        )
        m._first_page(tp, cap)
        return m.outcome()

    # -- inputs -----------------------------------------------------------------------

    def apply(self, inp: Input) -> None:
        if isinstance(inp, Tick):
            self.fire_due()
        elif isinstance(inp, Acknowledge):
            if inp.via in ("sms", "voice"):
                self._require_paged(inp.person)
            self.acknowledge(inp.person, inp.via)
        elif isinstance(inp, EscalateNow):
            self._require_paged(inp.person)
            self.record(
                "escalate", f"escalation requested by {inp.person} via {inp.via}", by=inp.person
            )
            self._resume_if_waiting()
            rungs = len(self.policy_now().ladder.rungs)
            target = min(self.s.rung + 1, rungs)
            self.page_rung(target, "engineer", limit=max(target, self.cap()))
        else:
            self.event(inp.event)
