"""Shared helpers for the ladder rule tests: events, a simulation run, compact timelines."""

from __future__ import annotations

import itertools

from pager.core.events import TicketEvent
from pager.core.ladder import EventInput, Input, Outcome, TicketState, step
from pager.core.policy import Policy
from pager.core.simulation import Line, Simulation
from tests.core.factory import t

_ids = itertools.count()


def ev(kind: str, at: str, ticket: str = "T-1", **fields: object) -> TicketEvent:
    if kind == "opened":
        fields.setdefault("severity", 1)
        fields.setdefault("tier", "premier")
    return TicketEvent(
        event_id=f"h{next(_ids)}",
        ticket_id=ticket,
        type=kind,
        at=t(at),
        **fields,  # type: ignore[arg-type]
    )


def run(policy: Policy, *events: TicketEvent, until: str | None = None) -> list[Line]:
    sim = Simulation(policy)
    lines = list(sim.run(list(events), until=t(until) if until else None))
    assert not sim.rejections, sim.rejections
    return lines


def pages(lines: list[Line], via: str | None = "sms") -> list[tuple[str, int, str, str | None]]:
    """(HH:MM, rung, to, reason) of the page lines (one channel, default SMS)."""
    return [
        (ln.at.strftime("%H:%M"), ln.rung or 0, ln.to or "", ln.reason)
        for ln in lines
        if ln.action == "page" and (via is None or ln.via == via)
    ]


def emails(lines: list[Line], action: str) -> set[str]:
    return {ln.to or "" for ln in lines if ln.action == action}


def apply(state: TicketState | None, inp: Input | TicketEvent, at: str, p: Policy) -> Outcome:
    """One step at ``at`` (an event is wrapped in EventInput)."""
    if isinstance(inp, TicketEvent):
        inp = EventInput(inp)
    return step(state, inp, t(at), p)
