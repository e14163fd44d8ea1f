"""The engine: inputs -> pure core -> one store transaction.

Why one module over 400 lines: :class:`Engine` is one class whose public methods and
write steps share one transaction's buffers (audit entries, reply codes opened by the
step, the changes the service takes after the commit).

Each public method takes ``now`` and runs one input through
:func:`pager.core.ladder.step`, then writes, in the caller's transaction, everything the
step decided: the new state and its next deadline, outbox rows for the notifications
(rendered, with reply codes), freed codes, cancelled unsent pages, and the audit log.

Synchronous on purpose: the daemon calls it on its store thread (group commit), the CLI
directly. Nothing here talks to a network.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from pager.core.events import TicketEvent
from pager.core.ladder import (
    Acknowledge,
    AckVia,
    ClosePages,
    EscalateNow,
    EventInput,
    Input,
    Notify,
    OpenPage,
    Outcome,
    Rejected,
    Tick,
    TicketState,
    next_deadline,
    step,
)
from pager.core.messages import kinds, render
from pager.core.model import Channel, Person
from pager.core.policy import Policy
from pager.daemon.decisions import flush_decision_logs, log_decisions, log_refused
from pager.daemon.outbox.book import OutboxBook
from pager.daemon.results import Changes, Rejection, Result, Status, rejection_of
from pager.daemon.wording import (
    bundle_line,
    describe,
    message_facts,
    row_facts,
    stored_bundle_facts,
)
from pager.store.interface import Store
from pager.store.types import AuditEntry, NewMessage, OutboxRow

log = logging.getLogger("pager.daemon.engine")

#: Where a message goes when its own channel failed for good.
FALLBACKS: dict[str, tuple[Channel, ...]] = {
    "sms": ("email",),
    "voice": ("sms", "email"),
    "email": ("sms",),
}


class Engine:
    """Applies inputs to tickets in the store. Call every method inside a transaction."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        *,
        token: Callable[[], str] = lambda: secrets.token_urlsafe(12),
    ) -> None:
        self._store = store
        #: What the outbox relay may do with the outbox (nothing else of the store).
        self.outbox = OutboxBook(store)
        self.policy = policy
        self._token = token
        self._timeline: tuple[tuple[datetime, str], ...] | None = None
        self._audit: list[AuditEntry] = []
        #: Reply codes opened by the current step, so its notifications need not read
        #: them back: ``{(person, ticket_id): code}``.
        self._opened: dict[tuple[str, str], str] = {}
        #: Tickets changed and messages queued since the service last took them
        #: (whatever job did it: an event, a reply, a fired deadline, a fallback).
        self._changes = Changes()

    # --- what changed (the service's commit hooks) ---------------------------------------

    def take_changes(self) -> Changes:
        """The changes since the last call, and start counting afresh."""
        changes, self._changes = self._changes, Changes()
        return changes

    def changes_so_far(self) -> Changes:
        """A copy of the changes since :meth:`take_changes` (to undo a failed job)."""
        return self._changes.copy()

    def restore_changes(self, changes: Changes) -> None:
        """Forget the changes after ``changes`` was taken (the job that made them rolled back)."""
        self._changes = changes

    # --- inputs ------------------------------------------------------------------------

    def ingest(self, event: TicketEvent, now: datetime, payload: str = "") -> Result:
        """Apply a desk event once (idempotent by ``event_id``).

        The event is recorded first (one statement answers "seen before?" too); a
        rejected event is forgotten again, so that a corrected resend is not a duplicate.
        """
        if not self._store.record_event(event.event_id, event.ticket_id, now, payload):
            return Result("duplicate", f"event {event.event_id} already processed")
        result = self._ingest(event, now)
        if result.status == "rejected":
            self._store.forget_event(event.event_id)
        return result

    def _ingest(self, event: TicketEvent, now: datetime) -> Result:
        state = self._store.get_ticket(event.ticket_id)
        if event.type != "opened" and state is None:
            return Result(
                "rejected", f"event for unknown ticket {event.ticket_id!r}", "unknown_ticket"
            )
        if event.type == "opened" and self.policy.config.tier(event.tier or "") is None:
            return Result("rejected", f"unknown tier {event.tier!r}", "unknown_tier")
        return self._run(state, EventInput(event), now)

    def acknowledge(self, ticket_id: str, person: str, via: AckVia, now: datetime) -> Result:
        return self._decide(ticket_id, Acknowledge(person, via), now)

    def escalate(self, ticket_id: str, person: str, via: AckVia, now: datetime) -> Result:
        return self._decide(ticket_id, EscalateNow(person, via), now)

    def _decide(self, ticket_id: str, inp: Acknowledge | EscalateNow, now: datetime) -> Result:
        """A person's acknowledgement or escalation (SMS, call, CLI); a refusal is logged."""
        result = self._run(self._store.get_ticket(ticket_id), inp, now)
        if result.status == "rejected":
            log_refused(inp, ticket_id, result.reason)
        return result

    def fire(self, ticket_id: str, now: datetime) -> Result:
        """Fire the ticket's due deadlines (the deadline loop found it due)."""
        state = self._store.get_ticket(ticket_id)
        if state is None:
            return Result("rejected", f"no ticket {ticket_id!r}", "unknown_ticket")
        return self._run(state, Tick(), now)

    def fire_due(self, now: datetime, limit: int) -> int:
        """Fire the deadlines of up to ``limit`` due tickets; return how many were due."""
        due = self._store.due_tickets(now, limit)
        for ticket_id in due:
            self.fire(ticket_id, now)
        return len(due)

    # --- what the shell may read and note -------------------------------------------------

    def ticket(self, ticket_id: str) -> TicketState | None:
        """The stored state of a ticket, or None."""
        return self._store.get_ticket(ticket_id)

    def next_due(self) -> datetime | None:
        """The earliest deadline of any ticket."""
        return self._store.next_due()

    def codes_of(self, person: str) -> dict[str, str]:
        """``{code: ticket_id}`` of ``person``'s open pages."""
        return self._store.codes_of(person)

    def code_for(self, person: str, ticket_id: str) -> str | None:
        """``person``'s reply code for ``ticket_id`` while their page is open."""
        return self._store.code_for(person, ticket_id)

    def message(self, message_id: int) -> OutboxRow | None:
        """The outbox row ``message_id``, or None."""
        return self._store.message(message_id)

    def voice_message(self, token: str) -> OutboxRow | None:
        """The outbox row of the call with ``token``."""
        return self._store.message_by_token(token)

    def inbound_seen(self, sid: str) -> bool:
        """True when the inbound message ``sid`` was handled before; remembers it."""
        return self._store.message_seen(sid)

    def note_now(self, ticket_id: str, at: datetime, action: str, detail: dict[str, Any]) -> None:
        """Write one audit entry at once (outside a step, e.g. a call's final status)."""
        self._store.add_audit(ticket_id, at, action, detail)

    def audit(self, ticket_id: str) -> list[AuditEntry]:
        """A ticket's audit entries, oldest first."""
        return self._store.audit(ticket_id)

    def heartbeat(self, now: datetime) -> tuple[int, int]:
        """Write the health probe's heartbeat; return (open tickets, armed timers). Also
        says how many decisions a storm's last second left out of the log."""
        flush_decision_logs()
        self._store.heartbeat(now)
        return self._store.open_ticket_count(), self._store.timer_count()

    def data_version(self) -> int:
        """Changes when another process (``pager ack``) committed to the store."""
        return self._store.data_version()

    def open_tickets(self) -> list[TicketState]:
        """Every ticket that is not closed (the status page's first read)."""
        return list(self._store.open_tickets())

    def reader(self) -> Store | None:
        """A second store object on the same data for reading off the store thread (the
        caller closes it), or None when there is none (an in-memory store)."""
        return self._store.reader()

    # --- messages that are not a ladder decision (shift notices, test pages) --------------

    def queue_message(self, msg: NewMessage, now: datetime) -> int | None:
        """Write one outbox row outside a step; its id, or None when ``msg.key`` was
        written before (the key makes it idempotent). The relay is woken after the commit."""
        row = self._store.add_message(msg, now)
        if row is not None:
            self._changes.messages += 1
        return row

    def open_code(self, person: str, ticket_id: str) -> str:
        """``person``'s reply code for ``ticket_id``, allocated when there is none yet."""
        return self._store.code_for(person, ticket_id) or self._store.allocate_code(
            person, ticket_id
        )

    def release_codes(self, ticket_id: str, persons: Sequence[str]) -> None:
        """Free ``persons``' reply codes for ``ticket_id``."""
        self._store.remove_codes(ticket_id, persons)

    # --- applying an outcome -------------------------------------------------------------

    def _run(self, state: TicketState | None, inp: Input, now: datetime) -> Result:
        try:
            outcome = step(state, inp, now, self.policy)
        except Rejected as exc:
            return Result("rejected", str(exc), rejection_of(state), ticket=state)
        with self._buffered_audit():
            result = self._apply(state, outcome, now)
        log_decisions(state, inp, outcome.state, result.records)
        return result

    @contextmanager
    def _buffered_audit(self) -> Iterator[None]:
        """Collect the audit entries of one step and write them in one statement."""
        self._timeline = None
        self._audit = []
        self._opened = {}
        try:
            yield
        finally:
            self._store.add_audits(self._audit)
            self._audit = []

    def _apply(self, state: TicketState | None, outcome: Outcome, now: datetime) -> Result:
        new = outcome.state
        deadline = next_deadline(new)
        self._store.put_ticket(new, deadline)
        result = Result("applied" if outcome.commands or new != state else "unchanged", ticket=new)
        if result.status == "applied":
            changes = self._changes
            changes.tickets[new.ticket_id] = new
            if deadline is not None and (changes.earliest is None or deadline < changes.earliest):
                changes.earliest = deadline
        for command in outcome.commands:
            if isinstance(command, OpenPage):
                self._open_code(command.ticket_id, command.person, is_new=state is None)
            elif isinstance(command, ClosePages):
                self._store.cancel_pages(command.ticket_id, command.persons)
                self._store.remove_codes(command.ticket_id, command.persons)
                self._opened.clear()  # the store is the authority again (rare: an ack)
            elif isinstance(command, Notify):
                result.notifications.append(command)
                if self._enqueue(new, command, now):
                    result.messages += 1
                    self._changes.messages += 1
                self._audit_notify(command)
            else:
                result.records.append(command)
                detail: dict[str, Any] = {
                    "detail": command.detail,
                    "by": command.by,
                    "rung": command.rung,
                    "kind": command.kind,  # a breach's kind: respond_by | escalation
                }
                self._note(command.ticket_id, command.at, command.action, _compact(detail))
        return result

    def _note(self, ticket_id: str, at: datetime, action: str, detail: dict[str, Any]) -> None:
        """Add an audit entry; written with the others when the step's changes are."""
        self._audit.append(AuditEntry(ticket_id, at, action, detail))

    def _open_code(self, ticket_id: str, person: str, *, is_new: bool) -> str:
        """The person's code for the ticket, allocated unless they hold one already
        (a new ticket cannot: codes are freed only with their ticket's pages)."""
        existing = None if is_new else self._store.code_for(person, ticket_id)
        if existing is None:
            existing = self._store.allocate_code(person, ticket_id)
        self._opened[(person, ticket_id)] = existing
        return existing

    def _code(self, person: str, ticket_id: str) -> str | None:
        found = self._opened.get((person, ticket_id))
        return found if found is not None else self._store.code_for(person, ticket_id)

    def _audit_notify(self, n: Notify) -> None:
        detail = {"to": n.person, "via": n.via, "rung": n.rung, "kind": n.kind}
        if n.reason is not None:
            detail["reason"] = n.reason  # why this rung was paged (SPEC section 8)
        self._note(n.ticket_id, n.at, n.action, detail)

    def _enqueue(
        self, state: TicketState, n: Notify, now: datetime, *, fallback: bool = False
    ) -> bool:
        """Render ``n`` and write its outbox row; False when the person cannot be reached.
        ``fallback``: the row stands in for a message that failed for good."""
        person = self.policy.person(n.person)
        if person is None:
            log.warning("ticket=%s no such person %s", n.ticket_id, n.person)
            return False
        address = address_for(person, n.via)
        if not address:
            self._note(n.ticket_id, n.at, "note", {"detail": f"{n.person} has no {n.via} address"})
            return False
        code = self._code(n.person, n.ticket_id) if n.kind in kinds.ACKABLE else None
        if n.via == "email":
            facts = self.facts(state, n.kind, n.person, code, self._timeline_so_far(state))
            subject, body = render.email_subject(facts), render.email_body(facts)
        elif n.via == "sms":
            subject, body = "", render.sms_text(self.facts(state, n.kind, n.person, code))
        else:
            subject, body = "", render.voice_script(self.facts(state, n.kind, n.person, code))
        self._store.add_message(
            NewMessage(
                key=n.key,
                ticket_id=n.ticket_id,
                person=n.person,
                channel=n.via,
                address=address,
                kind=n.kind,
                subject=subject,
                body=body,
                # Only an SMS joins a bundle: other rows keep no bundle facts.
                bundle_line=bundle_line(state) if n.via == "sms" else "",
                token=self._token() if n.via == "voice" else "",
                not_before=now,
                code=code,
                fallback=fallback,
            ),
            now,
        )
        return True

    def fall_back(self, message_id: int, error: str, now: datetime) -> int:
        """A message failed for good: send it on the person's other channels.

        Returns how many fallback messages were queued. A fallback does not fall back
        again, and a page that was acknowledged meanwhile is not chased.
        """
        with self._buffered_audit():
            return self._fall_back(message_id, error, now)

    def _fall_back(self, message_id: int, error: str, now: datetime) -> int:
        row = self._store.message(message_id)
        if row is None or row.fallback:
            return 0
        state = self._store.get_ticket(row.ticket_id)
        person = self.policy.person(row.person)
        if state is None or person is None or (state.closed and row.kind != "closed"):
            return 0
        if row.kind in kinds.ACKABLE and self._store.code_for(row.person, row.ticket_id) is None:
            return 0
        channels = FALLBACKS.get(row.channel, ())
        if row.channel == "email" and row.kind not in kinds.EMAIL_FALLS_BACK:
            channels = ()
        self._note(
            row.ticket_id,
            now,
            "note",
            {"detail": f"{row.channel} to {row.person} failed: {error}", "to": row.person},
        )
        added = 0
        for channel in channels:
            if not address_for(person, channel):
                continue
            notify = Notify(
                f"{row.key}/fb-{channel}",
                row.ticket_id,
                now,
                row.person,
                channel,
                cast(kinds.MessageKind, row.kind),
                "page",
                state.rung,
            )
            if self._enqueue(state, notify, now, fallback=True):
                added += 1
                self._changes.messages += 1
        return added

    def facts(
        self,
        state: TicketState,
        kind: kinds.MessageKind,
        recipient: str,
        code: str | None,
        timeline: tuple[tuple[datetime, str], ...] = (),
    ) -> render.MessageFacts:
        """What a message about ``state`` to ``recipient`` says."""
        return message_facts(self.policy, state, kind, recipient, code, timeline)

    def bundle_facts(self, rows: Sequence[OutboxRow]) -> list[render.MessageFacts]:
        """What each of several waiting SMS rows of one person says, for
        :func:`pager.core.messages.render.sms_bundle`: from the facts stored with the
        row, else from its ticket (each ticket read once)."""
        states: dict[str, TicketState | None] = {}
        items: list[render.MessageFacts] = []
        for row in rows:
            stored = stored_bundle_facts(row)
            if stored is not None:
                items.append(stored)
                continue
            if row.ticket_id not in states:
                states[row.ticket_id] = self._store.get_ticket(row.ticket_id)
            items.append(row_facts(self.policy, row, states[row.ticket_id]))
        return items

    def _timeline_so_far(self, state: TicketState) -> tuple[tuple[datetime, str], ...]:
        """The ticket's audit so far, this step's entries included (for email bodies)."""
        if self._timeline is None:  # read once per step: a page sends several emails
            self._timeline = tuple(
                (entry.at, describe(entry.action, entry.detail))
                for entry in self._store.audit(state.ticket_id)
            )
        current = tuple((e.at, describe(e.action, e.detail)) for e in self._audit)
        return self._timeline + current


def address_for(person: Person, via: str) -> str | None:
    """Where a message to ``person`` by ``via`` goes: the email address for email, the
    phone number for SMS and voice; None (or empty) when the person has none."""
    return person.email if via == "email" else person.phone


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "")}


__all__ = [
    "Changes",
    "Engine",
    "Rejection",
    "Result",
    "Status",
    "bundle_line",
    "describe",
]
