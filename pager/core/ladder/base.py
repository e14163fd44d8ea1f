"""The machine's working copy and the helpers every transition uses (SPEC section 5).

:class:`MachineBase` holds one step's state: the :class:`Draft`, ``now``, the policy and the
commands produced so far. The transitions are layered on it, one concern per module:
:mod:`.paging`, :mod:`.acknowledgement`, :mod:`.firing` (deadlines), :mod:`.events`, and
:mod:`.machine` (the entry point, :func:`~pager.core.ladder.machine.step`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pager.core.ladder.io import (
    Action,
    ClosePages,
    Command,
    Notify,
    Reason,
    Record,
    Rejected,
)
from pager.core.ladder.state import Draft, Outcome
from pager.core.messages.kinds import MessageKind
from pager.core.model import BusinessHours, Channel, Duration, WallDuration
from pager.core.policy import Policy, TicketPolicy


class MachineBase:
    """One step: a working copy of the state (a :class:`Draft` of the input state, which
    itself is never touched; frozen again by :meth:`outcome`) and the commands produced.
    Transitions write the draft's fields directly (``self.s.rung = 2``): plain attribute
    writes, checked by mypy field by field."""

    def __init__(self, draft: Draft, now: datetime, policy: Policy) -> None:
        self.s = draft
        self.now = now
        self.policy = policy
        self.out: list[Command] = []

    def outcome(self) -> Outcome:
        """The step's result; ends the step (freezing consumes the draft)."""
        return Outcome(self.s.freeze(), self.out)

    # -- helpers ----------------------------------------------------------------------

    def policy_now(self) -> TicketPolicy:
        return self.policy.ticket_policy(self.s.queue, self.s.tier, self.s.severity)

    def cap(self, tp: TicketPolicy | None = None) -> int:
        """Rule 3a: the severity's cap, raised to any rung the customer asked for."""
        tp = tp or self.policy_now()
        rungs = len(tp.ladder.rungs)
        return min(rungs, max(tp.severity.cap(rungs), self.s.customer_rung))

    def record(
        self,
        action: Action,
        detail: str = "",
        *,
        by: str | None = None,
        rung: int | None = None,
        kind: str | None = None,
    ) -> None:
        self.out.append(Record(self.s.ticket_id, self.now, action, detail, by, rung, kind))

    def notify(
        self,
        person: str,
        via: Channel,
        kind: MessageKind,
        action: Action,
        rung: int,
        reason: Reason | None = None,
    ) -> None:
        seq = self.s.seq + 1
        self.s.seq = seq
        key = f"{self.s.ticket_id}#{seq}"
        self.out.append(
            Notify(key, self.s.ticket_id, self.now, person, via, kind, action, rung, reason)
        )

    def _mark_paged(self, person: str, rung: int) -> None:
        """``person`` was paged at ``rung`` (0: only informed)."""
        paged, rungs = self.s.paged, self.s.paged_rungs
        if len(rungs) < len(paged):  # a row from before paged_rungs
            rungs += (0,) * (len(paged) - len(rungs))
        if person not in paged:
            self.s.paged = (*paged, person)
            self.s.paged_rungs = (*rungs, rung)
            return
        i = paged.index(person)
        if rung and (rungs[i] == 0 or rung < rungs[i]):
            self.s.paged_rungs = (*rungs[:i], rung, *rungs[i + 1 :])

    def _lowest_paged_rung(self, person: str) -> int:
        if person in self.s.paged:
            i = self.s.paged.index(person)
            if i < len(self.s.paged_rungs):
                return self.s.paged_rungs[i]
        return 0

    def _close_pages(self, below: int | None = None) -> None:
        """Close every open page (only those at a rung below ``below``, when given)."""
        if not self.s.pages:
            return
        if below is None:
            self.s.pages = ()
            self.out.append(ClosePages(self.s.ticket_id))
            return
        closing = tuple(p.person for p in self.s.pages if p.rung < below)
        if closing:
            self.s.pages = tuple(p for p in self.s.pages if p.rung >= below)
            self.out.append(ClosePages(self.s.ticket_id, closing))

    def _arm(self, deadline: datetime | None, *, business: bool = False, rung: int = 0) -> None:
        self.s.ack_deadline = deadline
        self.s.ack_business = business
        self.s.escalation_rung = rung

    def set_status_due(
        self, due: datetime, tp: TicketPolicy, *, start: datetime | None = None
    ) -> None:
        """Start a new status period ending at ``due`` (rule 6), with its reminder;
        ``start`` is the instant that set it (default now)."""
        self.s.status_due = due
        self.s.remind_at = due - tp.ladder.status_report_lead
        self.s.reminded = False
        self.s.status_from = start or self.now


def region_of(policy: Policy, tp: TicketPolicy, region: str | None) -> str | None:
    """The event's ``region`` in the config's spelling; Rejected when no rotation the
    ticket's ladder pages has it (a typo would otherwise page the whole rotation)."""
    if region is None:
        return None
    found = policy.region(tp.ladder, region)
    if found is None:
        raise Rejected(
            f"unknown region {region!r}: no rotation of ladder {tp.ladder.name!r} has it"
        )
    return found


def describe(duration: Duration) -> str:
    """A duration as config writes it (``2h``, ``8 business hours``)."""
    if isinstance(duration, WallDuration):
        minutes = int(duration.delta.total_seconds() // 60)
        if minutes % 1440 == 0:
            return f"{minutes // 1440}d"
        return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
    if isinstance(duration, BusinessHours):
        hours = f"{duration.hours:g}"
        return f"{hours} business hour{'' if duration.hours == 1 else 's'}"
    return f"{duration.days} business day{'' if duration.days == 1 else 's'}"


def clock_length(duration: Duration, tp: TicketPolicy) -> timedelta:
    """``duration`` as clock time (open time for business durations), for a paused clock."""
    if isinstance(duration, WallDuration):
        return duration.delta
    if isinstance(duration, BusinessHours):
        return timedelta(hours=duration.hours)
    opening = tp.calendar.hours.end - tp.calendar.hours.start
    return timedelta(minutes=opening * duration.days)
