"""The escalation state machine: SPEC section 5, as one pure function.

``step(state, input, now, policy) -> Outcome(state, commands)``

* ``state`` is the ticket's :class:`TicketState` (None before ``opened``). It is never
  mutated: ``step`` works on a copy and returns it.
* ``input`` is a ticket event, an acknowledgement or escalation by a person, or
  :class:`Tick` (the daemon's deadline loop woke up for this ticket).
* ``now`` is the daemon's time. Pages happen at ``now``; the SLA instants the rules
  compute come from event ``at`` values and config, so a replay gives the same timeline.
* ``commands`` are data for the shell: :class:`Notify` (write to the outbox),
  :class:`Record` (audit / timeline line), :class:`OpenPage`/:class:`ClosePages`
  (allocate and free reply codes). Deadlines are not commands: the shell stores
  :func:`next_deadline` of the new state, and calls ``step(state, Tick(), now)`` then.

An input that cannot apply raises :class:`Rejected` and leaves everything unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pager.core import sla
from pager.core.events import TicketEvent
from pager.core.messages.render import MessageKind
from pager.core.model import BusinessHours, Channel, Duration, WallDuration
from pager.core.policy import Policy, PolicyError, TicketPolicy

AckVia = Literal["sms", "voice", "cli", "event"]
PageKind = Literal["page", "handoff"]
Action = Literal[
    "page",
    "inform",
    "remind",
    "overdue",
    "handoff",
    "breach",
    "unacknowledged",
    "closed",
    "ack",
    "escalate",
    "skip",
    "note",
]
#: Guard against a handler that fails to move its own deadline (a bug, not an input).
MAX_FIRINGS_PER_TICK = 1000


class Rejected(ValueError):
    """The input cannot apply to this ticket; ``str()`` says why. Nothing changed."""


# --- inputs --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventInput:
    event: TicketEvent


@dataclass(frozen=True, slots=True)
class Acknowledge:
    person: str
    via: AckVia


@dataclass(frozen=True, slots=True)
class EscalateNow:
    person: str
    via: AckVia


@dataclass(frozen=True, slots=True)
class Tick:
    """Fire every deadline of the ticket that is due at ``now``."""


Input = EventInput | Acknowledge | EscalateNow | Tick


# --- commands ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notify:
    """Send one message. ``key`` is stable across replays (the outbox's idempotency key)."""

    key: str
    ticket_id: str
    at: datetime
    person: str
    via: Channel
    kind: MessageKind
    action: Action
    rung: int


@dataclass(frozen=True, slots=True)
class Record:
    """A timeline entry that is not a notification (ack, breach, escalation, notes)."""

    ticket_id: str
    at: datetime
    action: Action
    detail: str = ""
    by: str | None = None
    rung: int | None = None


@dataclass(frozen=True, slots=True)
class OpenPage:
    """``person`` has an open page for the ticket: give it a reply code."""

    ticket_id: str
    person: str


@dataclass(frozen=True, slots=True)
class ClosePages:
    """Free the reply codes of ``persons`` (every open page when None) for the ticket."""

    ticket_id: str
    persons: tuple[str, ...] | None = None


Command = Notify | Record | OpenPage | ClosePages


# --- state ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """An open page: ``person`` was asked to acknowledge."""

    person: str
    rung: int
    kind: PageKind
    at: datetime
    rotation: str | None = None


@dataclass(frozen=True, slots=True)
class PendingStep:
    """A later notification step of a page (e.g. voice at +5 min), cancelled by an ack."""

    due: datetime
    person: str
    via: Channel
    kind: PageKind
    rung: int


@dataclass
class TicketState:
    ticket_id: str
    queue: str | None
    tier: str
    severity: int
    opened_at: datetime
    last_event_at: datetime
    customer: str | None = None
    summary: str | None = None
    region: str | None = None
    closed: bool = False
    rung: int = 0
    repeats: int = 0
    owner: str | None = None
    owner_rotation: str | None = None
    responded: bool = False
    breached: bool = False
    respond_by: datetime | None = None
    respond_left: timedelta | None = None
    ack_deadline: datetime | None = None
    first_page_at: datetime | None = None
    status_due: datetime | None = None
    status_left: timedelta | None = None
    remind_at: datetime | None = None
    reminded: bool = False
    paused: bool = False
    shift_check_at: datetime | None = None
    handoff_to: str | None = None
    exhausted: bool = False
    seq: int = 0
    pages: tuple[Page, ...] = ()
    steps: tuple[PendingStep, ...] = ()
    paged: tuple[str, ...] = ()


def _clone(state: TicketState) -> TicketState:
    """A shallow copy (every field is immutable, so this is the whole state).

    TicketState has no __slots__ so that this is one dict copy: the daemon keeps states
    in the store, not in memory, and a simulation copies one per step.
    """
    twin: TicketState = object.__new__(TicketState)
    twin.__dict__.update(state.__dict__)
    return twin


@dataclass(slots=True)
class Outcome:
    state: TicketState
    commands: list[Command] = field(default_factory=list)


def next_deadline(state: TicketState) -> datetime | None:
    """The earliest instant at which ``step(state, Tick(), t)`` would do something."""
    return min(_deadlines(state), default=None)


def _deadlines(s: TicketState) -> list[datetime]:
    if s.closed:
        return []
    out: list[datetime] = []
    if s.respond_by is not None and not s.responded and not s.breached and not s.paused:
        out.append(s.respond_by)
    if s.ack_deadline is not None:
        out.append(s.ack_deadline)
    if s.first_page_at is not None:
        out.append(s.first_page_at)
    if s.status_due is not None and not s.paused:
        out.append(s.status_due)
        if s.remind_at is not None and not s.reminded:
            out.append(s.remind_at)
    if s.shift_check_at is not None:
        out.append(s.shift_check_at)
    out.extend(step.due for step in s.steps)
    return out


# --- the machine ---------------------------------------------------------------------


def step(state: TicketState | None, inp: Input, now: datetime, policy: Policy) -> Outcome:
    """Apply ``inp`` at ``now``; see the module docstring for the contract."""
    opening = isinstance(inp, EventInput) and inp.event.type == "opened"
    if opening and (state is None or state.closed):
        assert isinstance(inp, EventInput)
        return _Machine.opened(inp.event, now, policy)
    if state is None:
        raise Rejected("unknown ticket (no opened event seen)")
    machine = _Machine(_clone(state), now, policy)
    if state.closed:
        if isinstance(inp, Tick):
            return machine.outcome()
        raise Rejected(f"ticket {state.ticket_id} is closed")
    machine.apply(inp)
    return machine.outcome()


class _Machine:
    """One step's working copy of the state and the commands it produced."""

    def __init__(self, state: TicketState, now: datetime, policy: Policy) -> None:
        self.s = state
        self.now = now
        self.policy = policy
        self.out: list[Command] = []

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
        )
        m = cls(state, now, policy)
        m.s.respond_by = sla.add(
            event.at, tp.severity.respond_within, tp.severity.clock, tp.calendar
        )
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
        self.s.seq += 1
        key = f"{self.s.ticket_id}#{self.s.seq}"
        self.out.append(Notify(key, self.s.ticket_id, self.now, person, via, kind, action, rung))

    def _mark_paged(self, person: str) -> None:
        if person not in self.s.paged:
            self.s.paged = (*self.s.paged, person)

    def _first_page(self, tp: TicketPolicy) -> None:
        if tp.severity.urgency == "high" or tp.calendar.is_open(self.now):
            self.s.first_page_at = None
            self.page_rung(1)
        else:
            self.s.first_page_at = tp.calendar.next_open(self.now)
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
        self.s.rung = number
        self.s.ack_deadline = self.now + rung.ack_within
        self.s.first_page_at = None
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
        self.s.pages = (*kept, Page(person, rung, kind, self.now, rotation))
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
        self.s.steps = tuple(st for st in self.s.steps if st.person != person)
        later: list[PendingStep] = []
        for st in steps:
            if st.after <= timedelta(0):
                self.notify(person, st.via, kind, "handoff" if kind == "handoff" else "page", rung)
            else:
                later.append(PendingStep(self.now + st.after, person, st.via, kind, rung))
        self.s.steps = tuple(sorted((*self.s.steps, *later), key=lambda p: p.due))

    def _exhausted(self, tp: TicketPolicy) -> None:
        """Rule 3's end: email every rung's targets that the ticket is unacknowledged."""
        self.s.ack_deadline = None
        self.s.exhausted = True
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

    def acknowledge(self, person: str, via: AckVia) -> None:
        """Rule 5: ``person`` owns the ticket; escalation and pending steps stop."""
        if via in ("sms", "voice"):
            self._require_paged(person)
        if (
            self.s.owner == person
            and self.s.ack_deadline is None
            and self.s.handoff_to is None
            and not self.s.steps
        ):
            return  # already theirs and nothing pending: nothing changes
        page = next((p for p in self.s.pages if p.person == person), None)
        rotation = page.rotation if page is not None else None
        if rotation is None and self.s.owner == person:
            rotation = self.s.owner_rotation
        self.s.owner = person
        self.s.owner_rotation = rotation
        self.s.ack_deadline = None
        self.s.first_page_at = None
        self.s.steps = ()
        self.s.handoff_to = None
        self.s.exhausted = False
        self.s.responded = True
        if self.s.pages:
            self.s.pages = ()
            self.out.append(ClosePages(self.s.ticket_id))
        self._mark_paged(person)
        self.record("ack", f"acknowledged via {via}", by=person, rung=self.s.rung or None)
        tp = self.policy_now()
        every = tp.severity.status_every
        if every is not None and self.s.status_due is None and self.s.status_left is None:
            if self.s.paused:
                self.s.status_left = clock_length(every, tp)
            else:
                self.set_status_due(sla.add(self.now, every, tp.severity.clock, tp.calendar), tp)
        self._arm_shift_check()

    def _arm_shift_check(self) -> None:
        rotation = self.s.owner_rotation
        self.s.shift_check_at = (
            self.policy.next_change(rotation, self.now) if rotation is not None else None
        )

    def escalate_to(self, number: int) -> None:
        rungs = self.policy_now().ladder.rungs
        target = max(1, min(number, len(rungs)))
        rung = rungs[target - 1]
        if self.s.rung == target and self.s.ack_deadline == self.now + rung.ack_within:
            return  # this rung was paged at this very instant already
        if target == len(rungs) and self.s.rung == len(rungs):
            self.s.repeats = 0
        self.s.exhausted = False
        self.page_rung(target)

    def event(self, e: TicketEvent) -> None:
        self.s.last_event_at = max(self.s.last_event_at, e.at)
        handler = getattr(self, f"on_{e.type}")
        handler(e)

    def on_opened(self, e: TicketEvent) -> None:
        # A second `opened` for an open ticket carries the desk's current facts.
        self.on_updated(e)

    def on_updated(self, e: TicketEvent) -> None:
        before = self.policy_now()
        new_tier = e.tier if e.tier is not None else self.s.tier
        new_sev = e.severity if e.severity is not None else self.s.severity
        new_queue = e.queue if e.queue is not None else self.s.queue
        try:
            after = self.policy.ticket_policy(new_queue, new_tier, new_sev)
        except PolicyError as exc:
            raise Rejected(str(exc)) from None
        self.s.customer = e.customer if e.customer is not None else self.s.customer
        self.s.summary = e.summary if e.summary is not None else self.s.summary
        if e.region is not None:
            self.s.region = e.region
        changed = (new_tier, new_sev, new_queue) != (self.s.tier, self.s.severity, self.s.queue)
        self.s.tier, self.s.severity, self.s.queue = new_tier, new_sev, new_queue
        if not changed:
            self.record("note", "updated")
            return
        self.record("note", f"policy changed: severity {new_sev}, tier {new_tier}")
        sev = after.severity
        if not self.s.responded:
            due = sla.add(self.s.opened_at, sev.respond_within, sev.clock, after.calendar)
            if self.s.paused:
                self.s.respond_left = sla.remaining(e.at, due, sev.clock, after.calendar)
            else:
                self.s.respond_by = due
        if sev.status_every is None:
            self.s.status_due = None
            self.s.status_left = None
            self.s.remind_at = None
        elif self.s.owner is not None and self.s.status_due is None and not self.s.paused:
            self.set_status_due(
                sla.add(self.now, sev.status_every, sev.clock, after.calendar), after
            )
        rose = before.severity.urgency == "low" and sev.urgency == "high"
        if rose and self.s.owner is None:
            self.page_rung(max(1, self.s.rung))

    def on_acknowledged(self, e: TicketEvent) -> None:
        person = e.by if e.by is not None and self.policy.person(e.by) is not None else None
        if person is not None:
            self.acknowledge(person, "event")
            return
        # Acknowledged in the desk by someone pager does not know: first response happened
        # and the escalation stops, but nobody here owns the ticket.
        self.s.responded = True
        self.s.ack_deadline = None
        self.s.first_page_at = None
        self.s.steps = ()
        if self.s.pages:
            self.s.pages = ()
            self.out.append(ClosePages(self.s.ticket_id))
        self.record("ack", "acknowledged in the desk", by=e.by)
        tp = self.policy_now()
        every = tp.severity.status_every
        if every is not None and self.s.status_due is None and not self.s.paused:
            self.set_status_due(sla.add(e.at, every, tp.severity.clock, tp.calendar), tp)

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
            self.s.status_left = clock_length(every, tp)
        else:
            self.set_status_due(sla.add(e.at, every, tp.severity.clock, tp.calendar), tp)

    def on_waiting_on_customer(self, e: TicketEvent) -> None:
        if self.s.paused:
            return
        tp = self.policy_now()
        clock, cal = tp.severity.clock, tp.calendar
        self.s.paused = True
        if self.s.respond_by is not None and not self.s.responded and not self.s.breached:
            self.s.respond_left = sla.remaining(e.at, self.s.respond_by, clock, cal)
            self.s.respond_by = None
        if self.s.status_due is not None:
            self.s.status_left = sla.remaining(e.at, self.s.status_due, clock, cal)
            self.s.status_due = None
            self.s.remind_at = None
        self.record("note", "waiting on customer: SLA clocks paused")

    def on_customer_replied(self, e: TicketEvent) -> None:
        if not self.s.paused:
            return
        tp = self.policy_now()
        clock, cal = tp.severity.clock, tp.calendar
        start = max(e.at, self.s.last_event_at) if e.at < self.s.last_event_at else e.at
        self.s.paused = False
        if self.s.respond_left is not None:
            self.s.respond_by = sla.resume(start, self.s.respond_left, clock, cal)
            self.s.respond_left = None
        if self.s.status_left is not None:
            self.set_status_due(sla.resume(start, self.s.status_left, clock, cal), tp)
            self.s.status_left = None
        self.record("note", "customer replied: SLA clocks resumed")

    def on_closed(self, e: TicketEvent) -> None:
        """Rule 11: cancel everything; everyone paged gets one email."""
        self.s.closed = True
        self.s.ack_deadline = None
        self.s.first_page_at = None
        self.s.status_due = None
        self.s.status_left = None
        self.s.remind_at = None
        self.s.shift_check_at = None
        self.s.steps = ()
        self.s.handoff_to = None
        if self.s.pages:
            self.s.pages = ()
            self.out.append(ClosePages(self.s.ticket_id))
        for person in self.s.paged:
            self.notify(person, "email", "closed", "closed", 0)

    # -- deadlines --------------------------------------------------------------------

    def fire_due(self) -> None:
        """Fire every deadline at or before ``now``, earliest first."""
        for _ in range(MAX_FIRINGS_PER_TICK):
            due = next_deadline(self.s)
            if due is None or due > self.now:
                return
            self._fire_one(due)
        raise RuntimeError(f"ticket {self.s.ticket_id}: deadlines do not advance")  # a bug

    def _fire_one(self, due: datetime) -> None:
        s = self.s
        if s.steps and s.steps[0].due == due:
            pending = s.steps[0]
            s.steps = s.steps[1:]
            self.notify(
                pending.person,
                pending.via,
                pending.kind,
                "handoff" if pending.kind == "handoff" else "page",
                pending.rung,
            )
        elif s.first_page_at == due:
            s.first_page_at = None
            self.page_rung(1)
        elif s.respond_by == due and not s.responded and not s.breached and not s.paused:
            self._breach()
        elif s.ack_deadline == due:
            self._ack_deadline_passed()
        elif s.remind_at == due and not s.reminded and not s.paused:
            self._remind()
        elif s.status_due == due and not s.paused:
            self._status_due()
        elif s.shift_check_at == due:
            self._shift_check()
        else:  # pragma: no cover - next_deadline and this dispatch disagree
            raise RuntimeError(f"no handler for deadline {due.isoformat()}")

    def _breach(self) -> None:
        """Rule 4."""
        self.s.breached = True
        self.record("breach", "respond-by passed with no acknowledgement", rung=self.s.rung)
        if self.s.rung < 2 and len(self.policy_now().ladder.rungs) >= 2:
            self.page_rung(2)

    def _ack_deadline_passed(self) -> None:
        """Rule 3."""
        tp = self.policy_now()
        last = len(tp.ladder.rungs)
        self.s.ack_deadline = None
        if self.s.handoff_to is not None:
            self.record("note", f"handoff to {self.s.handoff_to} not acknowledged")
            self.s.handoff_to = None
        if self.s.rung < last:
            self.page_rung(self.s.rung + 1)
        elif self.s.repeats < tp.ladder.rungs[-1].repeat:
            self.s.repeats += 1
            self.record("note", f"repeating the last rung ({self.s.repeats})")
            self.page_rung(last)
        else:
            self._exhausted(tp)

    def set_status_due(self, due: datetime, tp: TicketPolicy) -> None:
        """Start a new status period ending at ``due`` (rule 6), with its reminder."""
        self.s.status_due = due
        self.s.remind_at = due - tp.ladder.status_report_lead
        self.s.reminded = False

    def _remind(self) -> None:
        """Rule 6: ``status_report_lead`` before the due time, SMS and email the owner."""
        self.s.reminded = True
        for person in self._status_recipients():
            self.notify(person, "sms", "remind", "remind", self.s.rung)
            self.notify(person, "email", "remind", "remind", self.s.rung)

    def _status_due(self) -> None:
        """Rule 6: no status report by the due time -> SMS the owner, page the rung above."""
        tp = self.policy_now()
        s = self.s
        assert s.status_due is not None
        due = s.status_due
        for person in self._status_recipients():
            self.notify(person, "sms", "overdue", "overdue", s.rung)
        every = tp.severity.status_every
        if every is None:
            s.status_due = s.remind_at = None
        else:
            following = sla.add(due, every, tp.severity.clock, tp.calendar)
            if following <= self.now:  # the daemon was down for a whole period
                following = sla.add(self.now, every, tp.severity.clock, tp.calendar)
            self.set_status_due(following, tp)
        self.record("note", "status report overdue", rung=s.rung)
        self.escalate_to(s.rung + 1)

    def _status_recipients(self) -> list[str]:
        if self.s.owner is not None:
            return [self.s.owner]
        return [p.person for p in self.s.pages if p.rung == self.s.rung]

    def _shift_check(self) -> None:
        """Rule 10: the owner went off shift -> hand the ticket to the incoming person."""
        s = self.s
        rotation = s.owner_rotation
        s.shift_check_at = None
        if rotation is None or s.owner is None:
            return
        incoming = self.policy.oncall(rotation, self.now, s.region)
        if incoming is None or incoming == s.owner:
            self._arm_shift_check()
            return
        tp = self.policy_now()
        s.handoff_to = incoming
        s.ack_deadline = self.now + tp.ladder.rungs[0].ack_within
        s.rung = max(s.rung, 1)
        self._open_page(incoming, s.rung, "handoff", rotation)
        self.notify(incoming, "sms", "handoff", "handoff", s.rung)
        self.notify(incoming, "email", "handoff", "handoff", s.rung)
        self.notify(s.owner, "email", "handoff_out", "handoff", s.rung)


def clock_length(duration: Duration, tp: TicketPolicy) -> timedelta:
    """``duration`` as clock time (open time for business durations), for a paused clock."""
    if isinstance(duration, WallDuration):
        return duration.delta
    if isinstance(duration, BusinessHours):
        return timedelta(hours=duration.hours)
    opening = tp.calendar.hours.end - tp.calendar.hours.start
    return timedelta(minutes=opening * duration.days)
