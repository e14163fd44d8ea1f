"""What messages and timelines say about a ticket: the facts handed to the core's
renderers (:mod:`pager.core.messages.render`) and one human line per audit entry."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from pager.core.ladder import TicketState
from pager.core.messages import kinds, render
from pager.core.policy import Policy
from pager.core.simulation import REASON_WORDS
from pager.store.types import OutboxRow


def message_facts(
    policy: Policy,
    state: TicketState,
    kind: kinds.MessageKind,
    recipient: str,
    code: str | None,
    timeline: tuple[tuple[datetime, str], ...] = (),
) -> render.MessageFacts:
    """What a message about ``state`` to ``recipient`` says."""
    rung_name = ""
    if state.rung:
        try:
            ladder = policy.config.ladder_for(state.queue)
            rung_name = ladder.rungs[min(state.rung, len(ladder.rungs)) - 1].name
        except LookupError:
            rung_name = ""
    who = policy.person(recipient)
    owner = policy.person(state.owner) if state.owner else None
    return render.MessageFacts(
        kind=kind,
        ticket_id=state.ticket_id,
        severity=state.severity,
        customer=state.customer,
        summary=state.summary,
        rung=state.rung,
        rung_name=rung_name,
        code=code,
        respond_by=state.respond_by,
        status_due=state.status_due,
        breached=state.breached,
        owner=owner.name if owner else state.owner,
        recipient=who.name if who else recipient,
        timeline=timeline,
    )


def row_facts(policy: Policy, row: OutboxRow, state: TicketState | None) -> render.MessageFacts:
    """What the outbox ``row`` says as one item of a bundle, from its ticket's ``state``
    (tickets are never deleted; without one, the row's own facts stand in)."""
    kind = cast(kinds.MessageKind, row.kind)
    if state is not None:
        return message_facts(policy, state, kind, row.person, row.code)
    return render.MessageFacts(
        kind=kind,
        ticket_id=row.ticket_id,
        severity=0,
        customer=None,
        summary=None,
        rung=0,
        rung_name="",
        code=row.code,
        respond_by=None,
        status_due=None,
        breached=False,
        owner=None,
        recipient=row.person,
    )


def bundle_line(state: TicketState, code: str | None) -> str:
    """The short line stored with an SMS row (kept for readers of the outbox; bundles
    are rendered by :func:`pager.core.messages.render.sms_bundle`)."""
    customer = f" {state.customer}" if state.customer else ""
    reply = f" ({code})" if code else ""
    return f"SEV{state.severity} {state.ticket_id}{customer}{reply}"


def describe(action: str, detail: dict[str, object]) -> str:
    """One human line for an audit entry (timeline output, email bodies)."""
    parts = [action]
    if "to" in detail:
        parts.append(f"to {detail['to']} by {detail.get('via')}")
    if detail.get("rung"):
        parts.append(f"(rung {detail['rung']})")
    if detail.get("by"):
        parts.append(f"by {detail['by']}")
    if detail.get("reason"):
        # Why the rung was paged (SPEC section 8), in simulate's words.
        reason = str(detail["reason"])
        parts.append(f"- {REASON_WORDS.get(reason, reason)}")
    if detail.get("detail"):
        parts.append(f"- {detail['detail']}")
    return " ".join(parts)
