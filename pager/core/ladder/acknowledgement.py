"""Acknowledgement (rule 5): ownership, what stops, and the status clock's start."""

from __future__ import annotations

from pager.core import sla
from pager.core.ladder.base import clock_length
from pager.core.ladder.io import (
    AckVia,
    Rejected,
)
from pager.core.ladder.paging import Paging


class Acknowledging(Paging):
    """Someone answered: they own the ticket (or the desk responded); escalation stops."""

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
            self.s.owner = person
            self.s.owner_rotation = rotation
            self.s.owner_rung = their_rung
            self.s.handoff_to = None
            self.s.exhausted = False
            if not held:
                self.s.rung = their_rung
        self.s.first_page_at = None
        self.s.responded = True
        if held:
            self.s.steps = tuple(st for st in self.s.steps if st.rung >= held)
            self._close_pages(below=held)
        else:
            self._arm(None)
            self.s.steps = ()
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
                    self.s.status_left = clock_length(every, tp)
                    self.s.status_from = self.now
            else:
                self.set_status_due(sla.add(self.now, every, tp.severity.clock, tp.calendar), tp)
        if person is not None and self.s.owner == person:
            self._arm_shift_check()

    def _arm_shift_check(self) -> None:
        rotation = self.s.owner_rotation
        self.s.shift_check_at = (
            self.policy.next_change(rotation, self.now) if rotation is not None else None
        )
