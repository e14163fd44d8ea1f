"""Ticket events from the desk (rules 7-9, 11): opened again, updated, acknowledged in the
desk, escalated by the customer, status reports, waiting on the customer, closed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pager.core import sla
from pager.core.events import TicketEvent, format_instant_seconds
from pager.core.ladder.base import clock_length, region_of
from pager.core.ladder.firing import Firing
from pager.core.ladder.io import (
    Rejected,
)
from pager.core.model import ClockKind
from pager.core.policy import PolicyError, TicketPolicy


class Events(Firing):
    """One ``on_<type>`` handler per ticket event type."""

    def event(self, e: TicketEvent) -> None:
        self.s.last_event_at = max(self.s.last_event_at, e.at)
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
        region = region_of(self.policy, after, e.region) if e.region is not None else s.region
        self.s.customer = e.customer if e.customer is not None else s.customer
        self.s.summary = e.summary if e.summary is not None else s.summary
        self.s.region = region
        self.s.tier = new_tier
        self.s.severity = new_sev
        self.s.queue = new_queue
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
                self.s.respond_left = sla.remaining(at, due, sev.clock, after.calendar)
            else:
                self.s.respond_by = due
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
                self.s.ack_left = None
            self.s.steps = tuple(st for st in self.s.steps if st.via == "email")

    def _restatus(self, tp: TicketPolicy) -> None:
        """Rule 9's status clock: next due = the last instant that set it + the new
        interval (now, if that has passed); none without ``status_every``; an owned
        ticket that gains it starts it now."""
        s = self.s
        every = tp.severity.status_every
        running = s.status_due is not None or s.status_left is not None
        if every is None:
            self.s.status_due = None
            self.s.status_left = None
            self.s.remind_at = None
            self.s.status_from = None
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
            self.s.status_left = sla.remaining(at, due, tp.severity.clock, tp.calendar)
            self.s.status_from = start
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
        self.s.customer_rung = max(self.s.customer_rung, target)
        self.record("escalate", "customer escalation", rung=target)
        self.page_rung(target, "customer", customer=True)
        if self.s.escalation_rung and self.s.ack_deadline is not None:
            name = self.policy_now().ladder.rungs[self.s.escalation_rung - 1].name
            self.record(
                "note",
                f"{name} to acknowledge by {format_instant_seconds(self.s.ack_deadline)};"
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
            self.s.status_left = clock_length(every, tp)
            self.s.status_from = e.at
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
        self.s.paused = True
        self.s.paused_at = e.at
        if s.respond_by is not None and not s.responded and not s.breached:
            self.s.respond_left = sla.remaining(e.at, s.respond_by, clock, cal)
            self.s.respond_by = None
        if s.status_due is not None:
            self.s.status_left = sla.remaining(e.at, s.status_due, clock, cal)
            self.s.status_due = None
            self.s.remind_at = None
        if s.ack_deadline is not None:
            rung_clock: ClockKind = "business" if s.ack_business else "24x7"
            left = sla.remaining(e.at, s.ack_deadline, rung_clock, cal)
            self.s.ack_left = left
            self.s.ack_deadline = None
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
        self.s.paused = False
        self.s.paused_at = None
        if s.respond_left is not None:
            waited = sla.elapsed(paused_at, start, clock, cal)
            self.s.respond_by = sla.resume(start, s.respond_left, clock, cal)
            self.s.respond_left = None
            self.s.waited = (s.waited or timedelta(0)) + waited
        if s.status_left is not None:
            self.set_status_due(
                sla.resume(start, s.status_left, clock, cal), tp, start=s.status_from
            )
            self.s.status_left = None
        if s.ack_left is not None:
            rung_clock: ClockKind = "business" if s.ack_business else "24x7"
            self.s.ack_deadline = sla.resume(start, s.ack_left, rung_clock, cal)
            self.s.ack_left = None
        if s.steps:
            held = [
                st._replace(due=start + max(st.due - paused_at, timedelta(0))) for st in s.steps
            ]
            self.s.steps = tuple(sorted(held, key=lambda p: p.due))

    def on_closed(self, e: TicketEvent) -> None:
        """Rule 11: cancel everything; the people paged or informed, and the owner, get
        one email."""
        self.s.closed = True
        self.s.ack_deadline = None
        self.s.ack_left = None
        self.s.escalation_rung = 0
        self.s.first_page_at = None
        self.s.status_due = None
        self.s.status_left = None
        self.s.remind_at = None
        self.s.shift_check_at = None
        self.s.steps = ()
        self.s.handoff_to = None
        self._close_pages()
        recipients = list(self.s.paged)
        if self.s.owner is not None and self.s.owner not in recipients:
            recipients.append(self.s.owner)
        for person in recipients:
            self.notify(person, "email", "closed", "closed", 0)
