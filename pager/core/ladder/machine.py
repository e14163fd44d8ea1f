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
    Reason,
    Record,
    Rejected,
    Tick,
)
from pager.core.ladder.state import Draft, Outcome, Page, PageKind, PendingStep, TicketState
from pager.core.messages.render import MessageKind
from pager.core.model import BusinessHours, Channel, ClockKind, Duration, WallDuration
from pager.core.policy import Policy, PolicyError, Resolved, TicketPolicy

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
    """One step: a working copy of the state (a :class:`Draft`, frozen again by
    :meth:`outcome`; the input state itself is never touched) and the commands produced."""

    def __init__(self, state: TicketState, now: datetime, policy: Policy) -> None:
        self.s = Draft.of(state)
        self.now = now
        self.policy = policy
        self.out: list[Command] = []

    def set(self, **changes: Any) -> None:
        """Apply ``changes`` to the working copy."""
        for name, value in changes.items():
            setattr(self.s, name, value)

    def outcome(self) -> Outcome:
        return Outcome(self.s.freeze(), self.out)

    @classmethod
    def opened(cls, event: TicketEvent, now: datetime, policy: Policy) -> Outcome:
        assert event.severity is not None and event.tier is not None
        try:
            tp = policy.ticket_policy(event.queue, event.tier, event.severity)
        except PolicyError as exc:
            raise Rejected(str(exc)) from None
        region = _region(policy, tp, event.region)
        respond_by = sla.add(event.at, tp.severity.respond_within, tp.severity.clock, tp.calendar)
        state = TicketState(
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
        m = cls(state, now, policy)
        every = tp.severity.status_every
        status = f"every {describe(every)} from the acknowledgement" if every else "none"
        m.record(
            "note",
            f"opened: severity {event.severity}, tier {event.tier}, urgency"
            f" {tp.severity.urgency}; respond by {_iso(respond_by)}; status reports: {status};"
            f" automatic escalation up to rung {m.cap(tp)}"
            f" ({tp.ladder.rungs[m.cap(tp) - 1].name})",
        )
        m._first_page(tp)
        return m.outcome()

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
        self.set(seq=seq)
        key = f"{self.s.ticket_id}#{seq}"
        self.out.append(
            Notify(key, self.s.ticket_id, self.now, person, via, kind, action, rung, reason)
        )

    def _mark_paged(self, person: str, rung: int) -> None:
        """``person`` was paged at ``rung`` (0: only informed)."""
        paged, rungs = self.s.paged, self.s.paged_rungs
        rungs = rungs + (0,) * (len(paged) - len(rungs))  # a row from before paged_rungs
        if person not in paged:
            self.set(paged=(*paged, person), paged_rungs=(*rungs, rung))
            return
        i = paged.index(person)
        if rung and (rungs[i] == 0 or rung < rungs[i]):
            self.set(paged_rungs=(*rungs[:i], rung, *rungs[i + 1 :]))

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
            self.set(pages=())
            self.out.append(ClosePages(self.s.ticket_id))
            return
        closing = tuple(p.person for p in self.s.pages if p.rung < below)
        if closing:
            self.set(pages=tuple(p for p in self.s.pages if p.rung >= below))
            self.out.append(ClosePages(self.s.ticket_id, closing))

    def _first_page(self, tp: TicketPolicy) -> None:
        if tp.severity.urgency == "high" or tp.calendar.is_open(self.now):
            self.set(first_page_at=None)
            self.page_rung(1, "opened")
        else:
            self.set(first_page_at=tp.calendar.next_open(self.now))
            self.record(
                "note", "low urgency outside business hours: first page when the calendar opens"
            )

    def _arm(self, deadline: datetime | None, *, business: bool = False, rung: int = 0) -> None:
        self.set(ack_deadline=deadline, ack_business=business, escalation_rung=rung)

    # -- paging -----------------------------------------------------------------------

    def page_rung(
        self,
        number: int,
        reason: Reason,
        *,
        customer: bool = False,
        limit: int | None = None,
    ) -> None:
        """Page rung ``number`` now (rule 2). A rung that yields nobody is skipped at
        once; a skip above ``limit`` (default: the cap) stops paging (rule 3).
        ``customer``: a rule-7 page, whose deadline is the rung's ``respond_within``."""
        tp = self.policy_now()
        rungs = tp.ladder.rungs
        limit = self.cap(tp) if limit is None else limit
        number = max(1, min(number, len(rungs)))
        while True:
            rung = rungs[number - 1]
            targets = self.policy.resolve(rung.page, self.now, self.s.region)
            if targets:
                break
            self.record("skip", f"rung {number} ({rung.name}) yields nobody", rung=number)
            if number >= min(limit, len(rungs)):
                self._stop_paging()
                return
            number += 1
        self.set(rung=number, first_page_at=None, exhausted=False)
        low = tp.severity.urgency == "low"
        if customer:
            within = rung.respond_within
            if within is None:
                self._arm(self.now + rung.ack_within, rung=number)
            elif isinstance(within, WallDuration):
                self._arm(self.now + within.delta, rung=number)
            else:
                due = sla.add(self.now, within, "business", tp.calendar)
                self._arm(due, business=True, rung=number)
        elif low:
            self._arm(None)  # rule 2: nobody answers an email within minutes
        else:
            self._arm(self.now + rung.ack_within)
        self._send_rung(number, targets, reason, email_only=low)

    def _send_rung(
        self,
        number: int,
        targets: list[Resolved],
        reason: Reason,
        *,
        email_only: bool,
    ) -> None:
        rung = self.policy_now().ladder.rungs[number - 1]
        for target in targets:
            self._open_page(target.person, number, "page", target.rotation)
            self._schedule_steps(target.person, number, "page", reason, email_only=email_only)
        paged_now = {t.person for t in targets}
        for informed in self.policy.resolve(rung.inform, self.now, None):
            if informed.person not in paged_now:
                self._mark_paged(informed.person, 0)
                self.notify(informed.person, "email", "inform", "inform", number, reason)

    def _open_page(self, person: str, rung: int, kind: PageKind, rotation: str | None) -> None:
        kept = tuple(p for p in self.s.pages if p.person != person)
        self.set(pages=(*kept, Page(person, rung, kind, self.now, rotation)))
        self._mark_paged(person, rung)
        self.out.append(OpenPage(self.s.ticket_id, person))

    def _schedule_steps(
        self, person: str, rung: int, kind: PageKind, reason: Reason | None, *, email_only: bool
    ) -> None:
        who = self.policy.person(person)
        if who is None:
            return
        steps = [st for st in who.notify if not email_only or st.via == "email"]
        if email_only and not steps:
            steps = [type(who.notify[0])("email", timedelta(0))] if who.notify else []
        # A repeated page of the same person replaces their pending steps for it.
        self.set(steps=tuple(st for st in self.s.steps if st.person != person))
        later: list[PendingStep] = []
        action: Action = "handoff" if kind == "handoff" else "page"
        for st in steps:
            if st.after <= timedelta(0):
                self.notify(person, st.via, kind, action, rung, reason)
            else:
                later.append(PendingStep(self.now + st.after, person, st.via, kind, rung, reason))
        self.set(steps=tuple(sorted((*self.s.steps, *later), key=lambda p: p.due)))

    def _stop_paging(self) -> None:
        """Rule 3's end: no new rung is paged; everyone paged or informed for the ticket
        (and nobody else) gets one email that it is unacknowledged."""
        self._arm(None)
        self.set(exhausted=True)
        for person, rung in zip(self.s.paged, self._paged_rungs(), strict=True):
            self.notify(person, "email", "unacknowledged", "unacknowledged", rung or self.s.rung)
        self.record("note", "paging stopped: nobody acknowledged up to the cap")

    def _paged_rungs(self) -> tuple[int, ...]:
        rungs = self.s.paged_rungs
        return rungs + (0,) * (len(self.s.paged) - len(rungs))

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
        page = next((p for p in s.pages if p.person == person), None)
        if person is None:
            their_rung = 0
        elif page is not None:
            their_rung = page.rung
        elif s.owner == person and s.owner_rung:
            their_rung = s.owner_rung
        else:
            their_rung = self._lowest_paged_rung(person) or 1
        # A rule-7 deadline is stopped only by someone paged at that rung or later.
        held = (
            s.escalation_rung
            if 0 < their_rung < s.escalation_rung or (person is None and s.escalation_rung)
            else 0
        )
        if person is not None and not (held and s.owner is not None):
            rotation = page.rotation if page is not None else None
            if rotation is None and s.owner == person:
                rotation = s.owner_rotation
            self.set(
                owner=person,
                owner_rotation=rotation,
                owner_rung=their_rung,
                handoff_to=None,
                exhausted=False,
            )
            if not held:
                self.set(rung=their_rung)
        self.set(first_page_at=None, responded=True)
        if held:
            self.set(steps=tuple(st for st in self.s.steps if st.rung >= held))
            self._close_pages(below=held)
        else:
            self._arm(None)
            self.set(steps=())
            self._close_pages()
        if person is not None:
            self._mark_paged(person, their_rung)
            self.record("ack", f"acknowledged via {via}", by=person, rung=their_rung or None)
        else:
            self.record("ack", "acknowledged in the desk", by=by)
        tp = self.policy_now()
        every = tp.severity.status_every
        if every is not None and self.s.status_due is None and self.s.status_left is None:
            if self.s.paused:
                if person is not None:
                    self.set(status_left=clock_length(every, tp), status_from=self.now)
            else:
                self.set_status_due(sla.add(self.now, every, tp.severity.clock, tp.calendar), tp)
        if person is not None and self.s.owner == person:
            self._arm_shift_check()

    def _arm_shift_check(self) -> None:
        rotation = self.s.owner_rotation
        self.set(
            shift_check_at=(
                self.policy.next_change(rotation, self.now) if rotation is not None else None
            )
        )

    def event(self, e: TicketEvent) -> None:
        self.set(last_event_at=max(self.s.last_event_at, e.at))
        handler = getattr(self, f"on_{e.type}")
        handler(e)

    def on_opened(self, e: TicketEvent) -> None:
        # A second `opened` for an open ticket carries the desk's current facts.
        self.on_updated(e)

    def on_updated(self, e: TicketEvent) -> None:
        """Rule 9: re-derive the policy (respond-by, cap, status cadence, urgency)."""
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
        region = _region(self.policy, after, e.region) if e.region is not None else s.region
        self.set(
            customer=e.customer if e.customer is not None else s.customer,
            summary=e.summary if e.summary is not None else s.summary,
            region=region,
            tier=new_tier,
            severity=new_sev,
            queue=new_queue,
        )
        if not changed:
            self.record("note", "updated")
            return
        sev = after.severity
        self.record(
            "note",
            f"policy changed: severity {new_sev}, tier {new_tier}, urgency {sev.urgency};"
            f" automatic escalation up to rung {self.cap(after)}",
        )
        s = self.s
        if not s.responded and not s.breached:
            due = sla.add(s.opened_at, sev.respond_within, sev.clock, after.calendar)
            if s.waited:
                due = sla.resume(due, s.waited, sev.clock, after.calendar)
            if s.paused:
                at = s.paused_at or e.at
                self.set(respond_left=sla.remaining(at, due, sev.clock, after.calendar))
            else:
                self.set(respond_by=due)
        self._restatus(after)
        rose = before.severity.urgency == "low" and sev.urgency == "high"
        fell = before.severity.urgency == "high" and sev.urgency == "low"
        unacked = self.s.owner is None and not self.s.responded
        if rose and unacked and self.s.rung > 0 and not self.s.paused:
            self.page_rung(min(max(1, self.s.rung), self.cap(after)), "urgency_raised")
        elif rose and unacked and self.s.first_page_at is not None:
            self.fire_first_page()  # urgency high does not wait for the calendar
        elif fell and unacked:
            if not self.s.escalation_rung:
                self._arm(None)
                self.set(ack_left=None)
            self.set(steps=tuple(st for st in self.s.steps if st.via == "email"))

    def _restatus(self, tp: TicketPolicy) -> None:
        """Rule 9's status clock: next due = the last instant that set it + the new
        interval (now, if that has passed); none without ``status_every``; an owned
        ticket that gains it starts it now."""
        s = self.s
        every = tp.severity.status_every
        running = s.status_due is not None or s.status_left is not None
        if every is None:
            self.set(status_due=None, status_left=None, remind_at=None, status_from=None)
            return
        if not running:
            if s.owner is None and not s.responded:
                return
            start = self.now
        else:
            start = s.status_from or self.now
        due = sla.add(start, every, tp.severity.clock, tp.calendar)
        if s.paused:
            at = s.paused_at or self.now
            self.set(
                status_left=sla.remaining(at, due, tp.severity.clock, tp.calendar),
                status_from=start,
            )
        else:
            self.set_status_due(max(due, self.now), tp, start=start)

    def on_acknowledged(self, e: TicketEvent) -> None:
        known = e.by is not None and self.policy.person(e.by) is not None
        self.acknowledge(e.by if known else None, "event", by=e.by)

    def on_escalated(self, e: TicketEvent) -> None:
        """Rule 7: page rung k now, whatever the cap; the cap rises to k."""
        self._resume_if_waiting()
        rungs = len(self.policy_now().ladder.rungs)
        target = max(1, min(e.rung if e.rung is not None else self.s.rung + 1, rungs))
        self.set(customer_rung=max(self.s.customer_rung, target))
        self.record("escalate", "customer escalation", rung=target)
        self.page_rung(target, "customer", customer=True)
        if self.s.escalation_rung and self.s.ack_deadline is not None:
            name = self.policy_now().ladder.rungs[self.s.escalation_rung - 1].name
            self.record(
                "note",
                f"{name} to acknowledge by {_iso(self.s.ack_deadline)};"
                f" automatic escalation now up to rung {self.cap()}",
                rung=self.s.escalation_rung,
            )

    def on_status_report(self, e: TicketEvent) -> None:
        s = self.s
        by = e.by
        known = by is not None and self.policy.person(by) is not None
        if by is not None and (by == s.handoff_to or s.owner is None):
            # Rule 5: a report by the incoming person of a handoff, or with `by` on an
            # unowned ticket, is that person's acknowledgement (someone pager does not
            # know only counts as the desk's first response, once).
            if known:
                self.acknowledge(by, "event")
            elif not s.responded:
                self.acknowledge(None, "event", by=by)
        tp = self.policy_now()
        every = tp.severity.status_every
        self.record("note", "status report posted", by=by)
        if every is None:
            return
        if self.s.paused:
            self.set(status_left=clock_length(every, tp), status_from=e.at)
        else:
            self.set_status_due(
                sla.add(e.at, every, tp.severity.clock, tp.calendar), tp, start=e.at
            )

    def on_waiting_on_customer(self, e: TicketEvent) -> None:
        """Rule 8: every clock pauses; pending steps and handoffs are held."""
        s = self.s
        if s.paused:
            return
        tp = self.policy_now()
        clock, cal = tp.severity.clock, tp.calendar
        self.set(paused=True, paused_at=e.at)
        if s.respond_by is not None and not s.responded and not s.breached:
            self.set(respond_left=sla.remaining(e.at, s.respond_by, clock, cal), respond_by=None)
        if s.status_due is not None:
            self.set(
                status_left=sla.remaining(e.at, s.status_due, clock, cal),
                status_due=None,
                remind_at=None,
            )
        if s.ack_deadline is not None:
            rung_clock: ClockKind = "business" if s.ack_business else "24x7"
            left = sla.remaining(e.at, s.ack_deadline, rung_clock, cal)
            self.set(ack_left=left, ack_deadline=None)
        self.record("note", "waiting on customer: clocks paused, notifications held")

    def on_customer_replied(self, e: TicketEvent) -> None:
        if not self.s.paused:
            return
        self._resume(self.s.last_event_at)  # the later of this event and the previous one
        self.record("note", "customer replied: clocks resumed")

    def _resume_if_waiting(self) -> None:
        if self.s.paused:
            self._resume(self.s.last_event_at)
            self.record("note", "escalated while waiting on the customer: the wait ends")

    def _resume(self, start: datetime) -> None:
        s = self.s
        tp = self.policy_now()
        clock, cal = tp.severity.clock, tp.calendar
        paused_at = s.paused_at or start
        self.set(paused=False, paused_at=None)
        if s.respond_left is not None:
            waited = sla.elapsed(paused_at, start, clock, cal)
            self.set(
                respond_by=sla.resume(start, s.respond_left, clock, cal),
                respond_left=None,
                waited=(s.waited or timedelta(0)) + waited,
            )
        if s.status_left is not None:
            self.set_status_due(
                sla.resume(start, s.status_left, clock, cal), tp, start=s.status_from
            )
            self.set(status_left=None)
        if s.ack_left is not None:
            rung_clock: ClockKind = "business" if s.ack_business else "24x7"
            self.set(ack_deadline=sla.resume(start, s.ack_left, rung_clock, cal), ack_left=None)
        if s.steps:
            held = [
                dataclasses.replace(st, due=start + max(st.due - paused_at, timedelta(0)))
                for st in s.steps
            ]
            self.set(steps=tuple(sorted(held, key=lambda p: p.due)))

    def on_closed(self, e: TicketEvent) -> None:
        """Rule 11: cancel everything; the people paged or informed, and the owner, get
        one email."""
        self.set(
            closed=True,
            ack_deadline=None,
            ack_left=None,
            escalation_rung=0,
            first_page_at=None,
            status_due=None,
            status_left=None,
            remind_at=None,
            shift_check_at=None,
            steps=(),
            handoff_to=None,
        )
        self._close_pages()
        recipients = list(self.s.paged)
        if self.s.owner is not None and self.s.owner not in recipients:
            recipients.append(self.s.owner)
        for person in recipients:
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
            pending.reason,
        )

    def fire_first_page(self) -> None:
        self.set(first_page_at=None)
        self.page_rung(1, "calendar_opened")

    def fire_breach(self) -> None:
        """Rule 4."""
        self.set(breached=True)
        self.record(
            "breach",
            "respond-by passed with no acknowledgement",
            rung=self.s.rung,
            kind="respond_by",
        )
        if self.s.rung < 2 and self.cap() >= 2:
            self.page_rung(2, "breach")

    def fire_ack_deadline(self) -> None:
        """Rule 3 (and rule 7's deadline, rule 10's unacknowledged handoff)."""
        s = self.s  # the working copy: read what _arm clears first
        escalated = s.escalation_rung
        tp = self.policy_now()
        last = len(tp.ladder.rungs)
        cap = self.cap(tp)
        self._arm(None)
        if s.handoff_to is not None:
            self.record("note", f"handoff to {s.handoff_to} not acknowledged")
            self.set(handoff_to=None)
            base = max(1, s.owner_rung)
            target = min(base + 1, cap)
            if target > base:
                self.page_rung(target, "handoff_unacked")
            else:
                self._stop_paging()
            return
        reason: Reason = "ack_timeout"
        if escalated:
            reason = "escalation_timeout"
            self.record(
                "breach",
                f"escalation to rung {escalated} not acknowledged in time",
                rung=escalated,
                kind="escalation",
            )
        if s.rung < last:
            if s.rung + 1 <= cap:
                self.page_rung(s.rung + 1, reason)
            else:
                self._stop_paging()
        elif cap == last and s.repeats < tp.ladder.rungs[-1].repeat:
            self.set(repeats=s.repeats + 1)
            self.record("note", f"repeating the last rung ({self.s.repeats})")
            self.page_rung(last, "repeat")
        else:
            self._stop_paging()

    def set_status_due(
        self, due: datetime, tp: TicketPolicy, *, start: datetime | None = None
    ) -> None:
        """Start a new status period ending at ``due`` (rule 6), with its reminder;
        ``start`` is the instant that set it (default now)."""
        self.set(
            status_due=due,
            remind_at=due - tp.ladder.status_report_lead,
            reminded=False,
            status_from=start or self.now,
        )

    def fire_remind(self) -> None:
        """Rule 6: ``status_report_lead`` before the due time, SMS and email the owner."""
        self.set(reminded=True)
        for person in self._status_recipients():
            self.notify(person, "sms", "remind", "remind", self.s.owner_rung or self.s.rung)
            self.notify(person, "email", "remind", "remind", self.s.owner_rung or self.s.rung)

    def fire_status_due(self) -> None:
        """Rule 6: overdue -> SMS the owner; page rung min(owner's rung + 1, cap), the
        owner excepted, without a deadline (it does not climb)."""
        tp = self.policy_now()
        due = self.s.status_due
        assert due is not None
        for person in self._status_recipients():
            self.notify(person, "sms", "overdue", "overdue", self.s.owner_rung or self.s.rung)
        every = tp.severity.status_every
        if every is None:
            self.set(status_due=None, remind_at=None)
        else:
            following = sla.add(due, every, tp.severity.clock, tp.calendar)
            start = due
            if following <= self.now:  # the daemon was down for a whole period
                following = sla.add(self.now, every, tp.severity.clock, tp.calendar)
                start = self.now
            self.set_status_due(following, tp, start=start)
        base = self.s.owner_rung or self.s.rung
        self.record("note", "status report overdue", rung=base)
        self._overdue_page(min(base + 1, self.cap(tp)), tp)

    def _overdue_page(self, number: int, tp: TicketPolicy) -> None:
        rungs = tp.ladder.rungs
        number = max(1, number)
        cap = self.cap(tp)
        while True:
            rung = rungs[number - 1]
            targets = [
                t
                for t in self.policy.resolve(rung.page, self.now, self.s.region)
                if t.person != self.s.owner
            ]
            if targets:
                break
            self.record("skip", f"rung {number} ({rung.name}) yields nobody", rung=number)
            if number >= cap:
                return
            number += 1
        self._send_rung(number, targets, "overdue", email_only=tp.severity.urgency == "low")

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
        rung = max(s.owner_rung, 1)
        high = tp.severity.urgency == "high"
        self.set(handoff_to=incoming)
        if not s.escalation_rung:
            self._arm(self.now + tp.ladder.rungs[0].ack_within if high else None)
        self._open_page(incoming, rung, "handoff", rotation)
        if high:
            self.notify(incoming, "sms", "handoff", "handoff", rung)
        self.notify(incoming, "email", "handoff", "handoff", rung)
        self.notify(s.owner, "email", "handoff_out", "handoff", rung)


def _region(policy: Policy, tp: TicketPolicy, region: str | None) -> str | None:
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


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


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
