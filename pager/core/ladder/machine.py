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

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from pager.core import sla
from pager.core.events import TicketEvent
from pager.core.ladder.deadlines import due_now
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
    Record,
    Rejected,
    Tick,
)
from pager.core.ladder.state import Outcome, Page, PageKind, PendingStep, TicketState
from pager.core.messages.render import MessageKind
from pager.core.model import BusinessHours, Channel, Duration, WallDuration
from pager.core.policy import Policy, PolicyError, TicketPolicy

#: Guard against a handler that fails to move its own deadline (a bug, not an input).
MAX_FIRINGS_PER_TICK = 1000


def step(state: TicketState | None, inp: Input, now: datetime, policy: Policy) -> Outcome:
    """Apply ``inp`` at ``now``; see the module docstring for the contract."""
    opening = isinstance(inp, EventInput) and inp.event.type == "opened"
    if opening and (state is None or state.closed):
        assert isinstance(inp, EventInput)
        return Machine.opened(inp.event, now, policy)
    if state is None:
        raise Rejected("unknown ticket (no opened event seen)")
    machine = Machine(state, now, policy)
    if state.closed:
        if isinstance(inp, Tick):
            return machine.outcome()
        raise Rejected(f"ticket {state.ticket_id} is closed")
    machine.apply(inp)
    return machine.outcome()


class Machine:
    """One step: the state so far (replaced, never mutated) and the commands produced."""

    def __init__(self, state: TicketState, now: datetime, policy: Policy) -> None:
        self.s = state
        self.now = now
        self.policy = policy
        self.out: list[Command] = []

    def set(self, **changes: Any) -> None:
        """The state with ``changes`` applied (a new frozen value)."""
        self.s = dataclasses.replace(self.s, **changes)

    def outcome(self) -> Outcome:
        return Outcome(self.s, self.out)

    @classmethod
    def opened(cls, event: TicketEvent, now: datetime, policy: Policy) -> Outcome:
        assert event.severity is not None and event.tier is not None
        try:
            tp = policy.ticket_policy(event.queue, event.tier, event.severity)
        except PolicyError as exc:
            raise Rejected(str(exc)) from None
        state = TicketState(
            ticket_id=event.ticket_id,
            queue=event.queue,
            tier=event.tier,
            severity=event.severity,
            opened_at=event.at,
            last_event_at=event.at,
            customer=event.customer,
            summary=event.summary,
            region=event.region,
            respond_by=sla.add(
                event.at, tp.severity.respond_within, tp.severity.clock, tp.calendar
            ),
        )
        m = cls(state, now, policy)
        m.record("note", f"opened: severity {event.severity}, tier {event.tier}")
        m._first_page(tp)
        return m.outcome()

    # -- helpers ----------------------------------------------------------------------

    def policy_now(self) -> TicketPolicy:
        return self.policy.ticket_policy(self.s.queue, self.s.tier, self.s.severity)

    def record(
        self, action: Action, detail: str = "", *, by: str | None = None, rung: int | None = None
    ) -> None:
        self.out.append(Record(self.s.ticket_id, self.now, action, detail, by, rung))

    def notify(
        self,
        person: str,
        via: Channel,
        kind: MessageKind,
        action: Action,
        rung: int,
    ) -> None:
        seq = self.s.seq + 1
        self.set(seq=seq)
        key = f"{self.s.ticket_id}#{seq}"
        self.out.append(Notify(key, self.s.ticket_id, self.now, person, via, kind, action, rung))

    def _mark_paged(self, person: str) -> None:
        if person not in self.s.paged:
            self.set(paged=(*self.s.paged, person))

    def _close_pages(self) -> None:
        if self.s.pages:
            self.set(pages=())
            self.out.append(ClosePages(self.s.ticket_id))

    def _first_page(self, tp: TicketPolicy) -> None:
        if tp.severity.urgency == "high" or tp.calendar.is_open(self.now):
            self.set(first_page_at=None)
            self.page_rung(1)
        else:
            self.set(first_page_at=tp.calendar.next_open(self.now))
            self.record(
                "note", "low urgency outside business hours: first page when the calendar opens"
            )

    # -- paging -----------------------------------------------------------------------

    def page_rung(self, number: int) -> None:
        """Page rung ``number`` now (rule 2); empty rungs are skipped at once."""
        tp = self.policy_now()
        rungs = tp.ladder.rungs
        number = max(1, min(number, len(rungs)))
        while True:
            rung = rungs[number - 1]
            targets = self.policy.resolve(rung.page, self.now, self.s.region)
            if targets:
                break
            self.record("skip", f"rung {number} ({rung.name}) yields nobody", rung=number)
            if number >= len(rungs):
                self._exhausted(tp)
                return
            number += 1
        self.set(rung=number, ack_deadline=self.now + rung.ack_within, first_page_at=None)
        low = tp.severity.urgency == "low"
        for target in targets:
            self._open_page(target.person, number, "page", target.rotation)
            self._schedule_steps(target.person, number, "page", email_only=low)
        paged_now = {t.person for t in targets}
        for informed in self.policy.resolve(rung.inform, self.now, None):
            if informed.person not in paged_now:
                self._mark_paged(informed.person)
                self.notify(informed.person, "email", "inform", "inform", number)

    def _open_page(self, person: str, rung: int, kind: PageKind, rotation: str | None) -> None:
        kept = tuple(p for p in self.s.pages if p.person != person)
        self.set(pages=(*kept, Page(person, rung, kind, self.now, rotation)))
        self._mark_paged(person)
        self.out.append(OpenPage(self.s.ticket_id, person))

    def _schedule_steps(self, person: str, rung: int, kind: PageKind, *, email_only: bool) -> None:
        who = self.policy.person(person)
        if who is None:
            return
        steps = [st for st in who.notify if not email_only or st.via == "email"]
        if email_only and not steps:
            steps = [type(who.notify[0])("email", timedelta(0))] if who.notify else []
        # A repeated page of the same person replaces their pending steps for it.
        self.set(steps=tuple(st for st in self.s.steps if st.person != person))
        later: list[PendingStep] = []
        for st in steps:
            if st.after <= timedelta(0):
                self.notify(person, st.via, kind, "handoff" if kind == "handoff" else "page", rung)
            else:
                later.append(PendingStep(self.now + st.after, person, st.via, kind, rung))
        self.set(steps=tuple(sorted((*self.s.steps, *later), key=lambda p: p.due)))

    def _exhausted(self, tp: TicketPolicy) -> None:
        """Rule 3's end: email every rung's targets that the ticket is unacknowledged."""
        self.set(ack_deadline=None, exhausted=True)
        emailed: set[str] = set()
        for number, rung in enumerate(tp.ladder.rungs, start=1):
            for target in self.policy.resolve(rung.page, self.now, self.s.region):
                if target.person not in emailed:
                    emailed.add(target.person)
                    self._mark_paged(target.person)
                    self.notify(target.person, "email", "unacknowledged", "unacknowledged", number)
        self.record("note", "ladder exhausted: paging stopped")

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
            self.escalate_to(self.s.rung + 1)
        else:
            self.event(inp.event)

    def _require_paged(self, person: str) -> None:
        if person not in self.s.paged:
            raise Rejected(f"{person} was not paged for ticket {self.s.ticket_id}")

    def acknowledge(self, person: str | None, via: AckVia, *, by: str | None = None) -> None:
        """Rule 5: ``person`` owns the ticket; escalation and pending steps stop.

        ``person`` None is an acknowledgement in the desk by someone pager does not know
        (``by``): the first response happened and escalation stops, but nobody here owns
        the ticket."""
        s = self.s
        if (
            person is not None
            and s.owner == person
            and s.ack_deadline is None
            and s.handoff_to is None
            and not s.steps
        ):
            return  # already theirs and nothing pending: nothing changes
        if person is not None:
            page = next((p for p in s.pages if p.person == person), None)
            rotation = page.rotation if page is not None else None
            if rotation is None and s.owner == person:
                rotation = s.owner_rotation
            self.set(
                owner=person,
                owner_rotation=rotation,
                handoff_to=None,
                exhausted=False,
            )
        self.set(ack_deadline=None, first_page_at=None, steps=(), responded=True)
        self._close_pages()
        if person is not None:
            self._mark_paged(person)
            self.record("ack", f"acknowledged via {via}", by=person, rung=self.s.rung or None)
        else:
            self.record("ack", "acknowledged in the desk", by=by)
        tp = self.policy_now()
        every = tp.severity.status_every
        if every is not None and self.s.status_due is None and self.s.status_left is None:
            if self.s.paused:
                if person is not None:
                    self.set(status_left=clock_length(every, tp))
            else:
                self.set_status_due(sla.add(self.now, every, tp.severity.clock, tp.calendar), tp)
        if person is not None:
            self._arm_shift_check()

    def _arm_shift_check(self) -> None:
        rotation = self.s.owner_rotation
        self.set(
            shift_check_at=(
                self.policy.next_change(rotation, self.now) if rotation is not None else None
            )
        )

    def escalate_to(self, number: int) -> None:
        rungs = self.policy_now().ladder.rungs
        target = max(1, min(number, len(rungs)))
        rung = rungs[target - 1]
        if self.s.rung == target and self.s.ack_deadline == self.now + rung.ack_within:
            return  # this rung was paged at this very instant already
        if target == len(rungs) and self.s.rung == len(rungs):
            self.set(repeats=0)
        self.set(exhausted=False)
        self.page_rung(target)

    def event(self, e: TicketEvent) -> None:
        self.set(last_event_at=max(self.s.last_event_at, e.at))
        handler = getattr(self, f"on_{e.type}")
        handler(e)

    def on_opened(self, e: TicketEvent) -> None:
        # A second `opened` for an open ticket carries the desk's current facts.
        self.on_updated(e)

    def on_updated(self, e: TicketEvent) -> None:
        s = self.s
        before = self.policy_now()
        new_tier = e.tier if e.tier is not None else s.tier
        new_sev = e.severity if e.severity is not None else s.severity
        new_queue = e.queue if e.queue is not None else s.queue
        try:
            after = self.policy.ticket_policy(new_queue, new_tier, new_sev)
        except PolicyError as exc:
            raise Rejected(str(exc)) from None
        changed = (new_tier, new_sev, new_queue) != (s.tier, s.severity, s.queue)
        self.set(
            customer=e.customer if e.customer is not None else s.customer,
            summary=e.summary if e.summary is not None else s.summary,
            region=e.region if e.region is not None else s.region,
            tier=new_tier,
            severity=new_sev,
            queue=new_queue,
        )
        if not changed:
            self.record("note", "updated")
            return
        self.record("note", f"policy changed: severity {new_sev}, tier {new_tier}")
        sev = after.severity
        s = self.s
        if not s.responded:
            due = sla.add(s.opened_at, sev.respond_within, sev.clock, after.calendar)
            if s.paused:
                self.set(respond_left=sla.remaining(e.at, due, sev.clock, after.calendar))
            else:
                self.set(respond_by=due)
        if sev.status_every is None:
            self.set(status_due=None, status_left=None, remind_at=None)
        elif s.owner is not None and s.status_due is None and not s.paused:
            self.set_status_due(
                sla.add(self.now, sev.status_every, sev.clock, after.calendar), after
            )
        rose = before.severity.urgency == "low" and sev.urgency == "high"
        if rose and self.s.owner is None:
            self.page_rung(max(1, self.s.rung))

    def on_acknowledged(self, e: TicketEvent) -> None:
        known = e.by is not None and self.policy.person(e.by) is not None
        self.acknowledge(e.by if known else None, "event", by=e.by)

    def on_escalated(self, e: TicketEvent) -> None:
        target = e.rung if e.rung is not None else self.s.rung + 1
        self.record("escalate", "customer escalation", rung=target)
        self.escalate_to(target)

    def on_status_report(self, e: TicketEvent) -> None:
        tp = self.policy_now()
        every = tp.severity.status_every
        self.record("note", "status report posted", by=e.by)
        if every is None:
            return
        if self.s.paused:
            self.set(status_left=clock_length(every, tp))
        else:
            self.set_status_due(sla.add(e.at, every, tp.severity.clock, tp.calendar), tp)

    def on_waiting_on_customer(self, e: TicketEvent) -> None:
        s = self.s
        if s.paused:
            return
        tp = self.policy_now()
        clock, cal = tp.severity.clock, tp.calendar
        self.set(paused=True)
        if s.respond_by is not None and not s.responded and not s.breached:
            self.set(respond_left=sla.remaining(e.at, s.respond_by, clock, cal), respond_by=None)
        if s.status_due is not None:
            self.set(
                status_left=sla.remaining(e.at, s.status_due, clock, cal),
                status_due=None,
                remind_at=None,
            )
        self.record("note", "waiting on customer: SLA clocks paused")

    def on_customer_replied(self, e: TicketEvent) -> None:
        s = self.s
        if not s.paused:
            return
        tp = self.policy_now()
        clock, cal = tp.severity.clock, tp.calendar
        start = s.last_event_at  # the later of this event and the previous one
        self.set(paused=False)
        if s.respond_left is not None:
            self.set(respond_by=sla.resume(start, s.respond_left, clock, cal), respond_left=None)
        if s.status_left is not None:
            self.set_status_due(sla.resume(start, s.status_left, clock, cal), tp)
            self.set(status_left=None)
        self.record("note", "customer replied: SLA clocks resumed")

    def on_closed(self, e: TicketEvent) -> None:
        """Rule 11: cancel everything; everyone paged gets one email."""
        self.set(
            closed=True,
            ack_deadline=None,
            first_page_at=None,
            status_due=None,
            status_left=None,
            remind_at=None,
            shift_check_at=None,
            steps=(),
            handoff_to=None,
        )
        self._close_pages()
        for person in self.s.paged:
            self.notify(person, "email", "closed", "closed", 0)

    # -- deadlines (see deadlines.DEADLINES) -------------------------------------------

    def fire_due(self) -> None:
        """Fire every deadline at or before ``now``, earliest first."""
        for _ in range(MAX_FIRINGS_PER_TICK):
            found = due_now(self.s)
            if found is None or found[0] > self.now:
                return
            found[1].fire(self)
        raise RuntimeError(f"ticket {self.s.ticket_id}: deadlines do not advance")  # a bug

    def fire_step(self) -> None:
        pending = self.s.steps[0]
        self.set(steps=self.s.steps[1:])
        self.notify(
            pending.person,
            pending.via,
            pending.kind,
            "handoff" if pending.kind == "handoff" else "page",
            pending.rung,
        )

    def fire_first_page(self) -> None:
        self.set(first_page_at=None)
        self.page_rung(1)

    def fire_breach(self) -> None:
        """Rule 4."""
        self.set(breached=True)
        self.record("breach", "respond-by passed with no acknowledgement", rung=self.s.rung)
        if self.s.rung < 2 and len(self.policy_now().ladder.rungs) >= 2:
            self.page_rung(2)

    def fire_ack_deadline(self) -> None:
        """Rule 3."""
        tp = self.policy_now()
        last = len(tp.ladder.rungs)
        self.set(ack_deadline=None)
        if self.s.handoff_to is not None:
            self.record("note", f"handoff to {self.s.handoff_to} not acknowledged")
            self.set(handoff_to=None)
        if self.s.rung < last:
            self.page_rung(self.s.rung + 1)
        elif self.s.repeats < tp.ladder.rungs[-1].repeat:
            self.set(repeats=self.s.repeats + 1)
            self.record("note", f"repeating the last rung ({self.s.repeats})")
            self.page_rung(last)
        else:
            self._exhausted(tp)

    def set_status_due(self, due: datetime, tp: TicketPolicy) -> None:
        """Start a new status period ending at ``due`` (rule 6), with its reminder."""
        self.set(status_due=due, remind_at=due - tp.ladder.status_report_lead, reminded=False)

    def fire_remind(self) -> None:
        """Rule 6: ``status_report_lead`` before the due time, SMS and email the owner."""
        self.set(reminded=True)
        for person in self._status_recipients():
            self.notify(person, "sms", "remind", "remind", self.s.rung)
            self.notify(person, "email", "remind", "remind", self.s.rung)

    def fire_status_due(self) -> None:
        """Rule 6: no status report by the due time -> SMS the owner, page the rung above."""
        tp = self.policy_now()
        due = self.s.status_due
        assert due is not None
        for person in self._status_recipients():
            self.notify(person, "sms", "overdue", "overdue", self.s.rung)
        every = tp.severity.status_every
        if every is None:
            self.set(status_due=None, remind_at=None)
        else:
            following = sla.add(due, every, tp.severity.clock, tp.calendar)
            if following <= self.now:  # the daemon was down for a whole period
                following = sla.add(self.now, every, tp.severity.clock, tp.calendar)
            self.set_status_due(following, tp)
        self.record("note", "status report overdue", rung=self.s.rung)
        self.escalate_to(self.s.rung + 1)

    def _status_recipients(self) -> list[str]:
        if self.s.owner is not None:
            return [self.s.owner]
        return [p.person for p in self.s.pages if p.rung == self.s.rung]

    def fire_shift_check(self) -> None:
        """Rule 10: the owner went off shift -> hand the ticket to the incoming person."""
        s = self.s
        rotation = s.owner_rotation
        self.set(shift_check_at=None)
        if rotation is None or s.owner is None:
            return
        incoming = self.policy.oncall(rotation, self.now, s.region)
        if incoming is None or incoming == s.owner:
            self._arm_shift_check()
            return
        tp = self.policy_now()
        rung = max(s.rung, 1)
        self.set(
            handoff_to=incoming, ack_deadline=self.now + tp.ladder.rungs[0].ack_within, rung=rung
        )
        self._open_page(incoming, rung, "handoff", rotation)
        self.notify(incoming, "sms", "handoff", "handoff", rung)
        self.notify(incoming, "email", "handoff", "handoff", rung)
        self.notify(s.owner, "email", "handoff_out", "handoff", rung)


def clock_length(duration: Duration, tp: TicketPolicy) -> timedelta:
    """``duration`` as clock time (open time for business durations), for a paused clock."""
    if isinstance(duration, WallDuration):
        return duration.delta
    if isinstance(duration, BusinessHours):
        return timedelta(hours=duration.hours)
    opening = tp.calendar.hours.end - tp.calendar.hours.start
    return timedelta(minutes=opening * duration.days)
