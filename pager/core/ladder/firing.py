"""Firing the ticket's deadlines (rules 3, 4, 6, 10); the table is :mod:`.deadlines`."""

from __future__ import annotations

from pager.core import sla
from pager.core.ladder.acknowledgement import Acknowledging
from pager.core.ladder.deadlines import due_now
from pager.core.ladder.io import (
    Reason,
)
from pager.core.policy import TicketPolicy

#: Guard against a handler that fails to move its own deadline (a bug, not an input).
MAX_FIRINGS_PER_TICK = 1000


class Firing(Acknowledging):
    """The handlers :data:`~pager.core.ladder.deadlines.DEADLINES` calls, and the loop."""

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
        self.s.steps = self.s.steps[1:]
        self.notify(
            pending.person,
            pending.via,
            pending.kind,
            "handoff" if pending.kind == "handoff" else "page",
            pending.rung,
            pending.reason,
        )

    def fire_breach(self) -> None:
        """Rule 4."""
        self.s.breached = True
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
            self.s.handoff_to = None
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
            self.s.repeats = s.repeats + 1
            self.record("note", f"repeating the last rung ({self.s.repeats})")
            self.page_rung(last, "repeat")
        else:
            self._stop_paging()

    def fire_remind(self) -> None:
        """Rule 6: ``status_report_lead`` before the due time, SMS and email the owner."""
        self.s.reminded = True
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
            self.s.status_due = None
            self.s.remind_at = None
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
        self._send_rung(tp, number, targets, "overdue", email_only=tp.severity.urgency == "low")

    def _status_recipients(self) -> list[str]:
        if self.s.owner is not None:
            return [self.s.owner]
        return [p.person for p in self.s.pages if p.rung == self.s.rung]

    def fire_shift_check(self) -> None:
        """Rule 10: the owner went off shift -> hand the ticket to the incoming person."""
        s = self.s
        rotation = s.owner_rotation
        self.s.shift_check_at = None
        if rotation is None or s.owner is None:
            return
        incoming = self.policy.oncall(rotation, self.now, s.region)
        if incoming is None or incoming == s.owner:
            self._arm_shift_check()
            return
        tp = self.policy_now()
        rung = max(s.owner_rung, 1)
        high = tp.severity.urgency == "high"
        self.s.handoff_to = incoming
        if not s.escalation_rung:
            self._arm(self.now + tp.ladder.rungs[0].ack_within if high else None)
        self._open_page(incoming, rung, "handoff", rotation)
        if high:
            self.notify(incoming, "sms", "handoff", "handoff", rung)
        self.notify(incoming, "email", "handoff", "handoff", rung)
        self.notify(s.owner, "email", "handoff_out", "handoff", rung)
