"""Paging a rung (rules 1-3): targets, notification steps, skips and exhaustion."""

from __future__ import annotations

from datetime import timedelta

from pager.core import sla
from pager.core.ladder.base import MachineBase
from pager.core.ladder.io import (
    Action,
    OpenPage,
    Reason,
)
from pager.core.ladder.state import Page, PageKind, PendingStep
from pager.core.model import WallDuration
from pager.core.policy import Resolved, TicketPolicy


class Paging(MachineBase):
    """Opening pages: who a rung pages, their notification steps, and the end of paging."""

    def _first_page(self, tp: TicketPolicy, cap: int) -> None:
        """Rule 1 for a new ticket whose policy is ``tp`` (``cap``: its rule-3a cap)."""
        if tp.severity.urgency == "high" or tp.calendar.is_open(self.now):
            self.s.first_page_at = None
            self.page_rung(1, "opened", limit=cap, tp=tp)
        else:
            self.s.first_page_at = tp.calendar.next_open(self.now)
            self.record(
                "note", "low urgency outside business hours: first page when the calendar opens"
            )

    def fire_first_page(self) -> None:
        self.s.first_page_at = None
        self.page_rung(1, "calendar_opened")

    def page_rung(
        self,
        number: int,
        reason: Reason,
        *,
        customer: bool = False,
        limit: int | None = None,
        tp: TicketPolicy | None = None,
    ) -> None:
        """Page rung ``number`` now (rule 2). A rung that yields nobody is skipped at
        once; a skip above ``limit`` (default: the cap) stops paging (rule 3).
        ``customer``: a rule-7 page, whose deadline is the rung's ``respond_within``.
        ``tp``: the ticket's current policy, when the caller has it at hand."""
        tp = tp or self.policy_now()
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
        self.s.rung = number
        self.s.first_page_at = None
        self.s.exhausted = False
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
        self._send_rung(tp, number, targets, reason, email_only=low)

    def _send_rung(
        self,
        tp: TicketPolicy,
        number: int,
        targets: list[Resolved],
        reason: Reason,
        *,
        email_only: bool,
    ) -> None:
        rung = tp.ladder.rungs[number - 1]
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
        self.s.pages = (*kept, Page(person, rung, kind, self.now, rotation))
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
        self.s.steps = tuple(st for st in self.s.steps if st.person != person)
        later: list[PendingStep] = []
        action: Action = "handoff" if kind == "handoff" else "page"
        for st in steps:
            if st.after <= timedelta(0):
                self.notify(person, st.via, kind, action, rung, reason)
            else:
                later.append(PendingStep(self.now + st.after, person, st.via, kind, rung, reason))
        self.s.steps = tuple(sorted((*self.s.steps, *later), key=lambda p: p.due))

    def _stop_paging(self) -> None:
        """Rule 3's end: no new rung is paged; everyone paged or informed for the ticket
        (and nobody else) gets one email that it is unacknowledged."""
        self._arm(None)
        self.s.exhausted = True
        for person, rung in zip(self.s.paged, self._paged_rungs(), strict=True):
            self.notify(person, "email", "unacknowledged", "unacknowledged", rung or self.s.rung)
        self.record("note", "paging stopped: nobody acknowledged up to the cap")

    def _paged_rungs(self) -> tuple[int, ...]:
        rungs = self.s.paged_rungs
        return rungs + (0,) * (len(self.s.paged) - len(rungs))
