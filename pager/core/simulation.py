"""Replay ticket events through the pure core under a virtual clock.

The same :func:`pager.core.ladder.step` the daemon runs, with time that jumps from one
event or deadline to the next instead of passing. Events are applied in the order given;
an event's virtual time is ``max(clock, event.at)`` (an out-of-order event is applied at
once, as the daemon would). Before each event every deadline earlier than it fires.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pager.core.events import TicketEvent, format_instant
from pager.core.ladder import (
    EventInput,
    Input,
    Notify,
    Record,
    Rejected,
    Tick,
    TicketState,
    next_deadline,
    step,
)
from pager.core.policy import Policy

#: Without ``until``, a simulation stops this long after the last event at the latest
#: (owned tickets that stay open have a status clock that never runs out).
DEFAULT_TAIL = timedelta(days=30)
#: The actions SPEC section 8 lists for ``pager simulate --json``.
TIMELINE_ACTIONS = frozenset(
    {"page", "inform", "remind", "overdue", "handoff", "breach", "unacknowledged", "closed", "ack"}
)


@dataclass(slots=True)
class Line:
    """One timeline line: a notification sent, or a record (ack, breach, notes).

    Not frozen: a simulation makes hundreds of thousands, and a frozen dataclass pays
    for an ``object.__setattr__`` per field."""

    at: datetime
    ticket: str
    action: str
    rung: int | None = None
    to: str | None = None
    via: str | None = None
    by: str | None = None
    detail: str = ""
    #: Why the rung was paged (page lines and their steps), a breach's kind.
    reason: str | None = None
    kind: str | None = None
    rung_name: str | None = None

    def to_json_text(self) -> str:
        """:meth:`to_json` as one JSON line (SPEC section 8's spacing), built directly:
        a simulation prints hundreds of thousands of them."""
        out = (
            f'{{"at": "{format_instant(self.at)}", "ticket": {_str(self.ticket)},'
            f' "action": "{self.action}"'
        )
        if self.rung:
            out += f', "rung": {self.rung}'
        if self.to is not None:
            out += f', "to": {_str(self.to)}'
        if self.via is not None:
            out += f', "via": "{self.via}"'
        if self.by is not None:
            out += f', "by": {_str(self.by)}'
        if self.reason is not None:
            out += f', "reason": "{self.reason}"'
        if self.kind is not None:
            out += f', "kind": "{self.kind}"'
        return out + "}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": format_instant(self.at),
            "ticket": self.ticket,
            "action": self.action,
        }
        if self.rung:
            out["rung"] = self.rung
        if self.to is not None:
            out["to"] = self.to
        if self.via is not None:
            out["via"] = self.via
        if self.by is not None:
            out["by"] = self.by
        if self.reason is not None:
            out["reason"] = self.reason
        if self.kind is not None:
            out["kind"] = self.kind
        return out

    def to_text(self) -> str:
        parts = [format_instant(self.at), self.ticket, self.action]
        if self.rung:
            named = f" ({self.rung_name})" if self.rung_name else ""
            parts.append(f"rung={self.rung}{named}")
        if self.to is not None:
            parts.append(f"to={self.to}")
        if self.via is not None:
            parts.append(f"via={self.via}")
        if self.by is not None:
            parts.append(f"by={self.by}")
        if self.reason is not None:
            parts.append(f"- {REASON_WORDS.get(self.reason, self.reason)}")
        if self.kind is not None:
            parts.append(f"[{BREACH_WORDS.get(self.kind, self.kind)}]")
        if self.detail:
            parts.append(f"({self.detail})")
        return " ".join(parts)


#: SPEC section 8's reasons, in words for the text form.
REASON_WORDS = {
    "opened": "ticket opened",
    "calendar_opened": "business hours began (low urgency waits for them)",
    "ack_timeout": "the rung below did not acknowledge in time",
    "breach": "respond-by passed without an acknowledgement",
    "overdue": "the owner's status report is overdue",
    "customer": "the customer escalated",
    "escalation_timeout": "the rung the customer escalated to did not respond in time",
    "engineer": "escalated by the person paged",
    "handoff_unacked": "the follow-the-sun handoff was not acknowledged",
    "repeat": "the last rung is paged again: nobody acknowledged",
    "urgency_raised": "the urgency was raised",
}
BREACH_WORDS = {
    "respond_by": "respond-by SLA breached",
    "escalation": "escalation response time breached",
}

_str = json.JSONEncoder(ensure_ascii=True).encode


@dataclass(frozen=True, slots=True)
class Rejection:
    at: datetime
    event_id: str
    ticket: str
    reason: str


class Simulation:
    """Tickets, a deadline heap and a virtual clock."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.tickets: dict[str, TicketState] = {}
        self.clock: datetime | None = None
        self.rejections: list[Rejection] = []
        self._heap: list[tuple[datetime, str]] = []
        #: Each ticket's current next deadline: a heap entry that differs is stale.
        self._due: dict[str, datetime | None] = {}
        self._seen: set[str] = set()

    def run(self, events: Iterable[TicketEvent], until: datetime | None = None) -> Iterator[Line]:
        """Apply ``events``, then run deadlines until none is left or ``until``."""
        last: datetime | None = None
        for event in events:
            if until is not None and event.at > until:
                break
            yield from self.advance(event.at)
            last = event.at if last is None else max(last, event.at)
            yield from self.apply(event)
        end = until
        if end is None and last is not None:
            end = last + DEFAULT_TAIL
        if end is not None:
            yield from self.advance(end, inclusive=True)

    def advance(self, to: datetime, *, inclusive: bool = False) -> Iterator[Line]:
        """Fire every deadline before ``to`` (at or before, when ``inclusive``)."""
        while self._heap:
            due, ticket_id = self._heap[0]
            if due > to or (due == to and not inclusive):
                break
            heapq.heappop(self._heap)
            if self._due.get(ticket_id) != due:
                continue  # superseded by a later change of the ticket
            state = self.tickets[ticket_id]
            self.clock = due if self.clock is None else max(self.clock, due)
            yield from self._step(state, Tick(), ticket_id)

    def apply(self, event: TicketEvent) -> Iterator[Line]:
        now = event.at if self.clock is None else max(self.clock, event.at)
        self.clock = now
        if event.event_id in self._seen:
            return
        self._seen.add(event.event_id)
        state = self.tickets.get(event.ticket_id)
        try:
            yield from self._step(state, EventInput(event), event.ticket_id)
        except Rejected as exc:
            self.rejections.append(Rejection(now, event.event_id, event.ticket_id, str(exc)))

    def _step(self, state: TicketState | None, inp: Input, ticket_id: str) -> Iterator[Line]:
        assert self.clock is not None
        outcome = step(state, inp, self.clock, self.policy)
        self.tickets[ticket_id] = outcome.state
        due = self._due[ticket_id] = next_deadline(outcome.state)
        if due is not None:
            heapq.heappush(self._heap, (due, ticket_id))
        for command in outcome.commands:
            if isinstance(command, Notify):
                yield Line(
                    command.at,
                    command.ticket_id,
                    command.action,
                    command.rung,
                    command.person,
                    command.via,
                    reason=command.reason if command.action == "page" else None,
                    rung_name=self._rung_name(outcome.state, command.rung),
                )
            elif isinstance(command, Record):
                yield Line(
                    command.at,
                    command.ticket_id,
                    command.action,
                    command.rung,
                    by=command.by,
                    detail=command.detail,
                    kind=command.kind,
                    rung_name=self._rung_name(outcome.state, command.rung),
                )

    def _rung_name(self, state: TicketState, rung: int | None) -> str | None:
        if not rung:
            return None
        rungs = self.policy.ticket_policy(state.queue, state.tier, state.severity).ladder.rungs
        return rungs[rung - 1].name if rung <= len(rungs) else None
