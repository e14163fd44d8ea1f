"""What messages and timelines say about a ticket: the facts handed to the core's
renderers (:mod:`pager.core.messages.render`) and one human line per audit entry."""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

from pager.core.events import format_instant, parse_instant
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


def bundle_line(state: TicketState) -> str:
    """What an SMS row keeps for the bundles it may join, as JSON: the ticket's facts a
    bundle line shows that the row itself lacks (severity, customer, summary, status
    due), as they were when the row was written, like the row's own body. A claim then
    renders a bundle without reading a ticket (:func:`stored_bundle_facts`)."""
    item: dict[str, object] = {"severity": state.severity}
    if state.customer:
        item["customer"] = state.customer
    if state.summary:
        item["summary"] = state.summary
    if state.status_due is not None:
        item["status_due"] = format_instant(state.status_due)
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def stored_bundle_facts(row: OutboxRow) -> render.MessageFacts | None:
    """The row as one item of a bundle, from what :func:`bundle_line` stored with it;
    None when the row holds none (a test page or shift notice, whose line is plain
    text, or a row written before lines were JSON): the caller reads the ticket."""
    if not row.bundle_line.startswith("{"):
        return None
    item = json.loads(row.bundle_line)
    due = item.get("status_due")
    return render.MessageFacts(
        kind=cast(kinds.MessageKind, row.kind),
        ticket_id=row.ticket_id,
        severity=item["severity"],
        customer=item.get("customer"),
        summary=item.get("summary"),
        rung=0,
        rung_name="",
        code=row.code,
        respond_by=None,
        status_due=parse_instant(due) if due else None,
        breached=False,
        owner=None,
        recipient=row.person,
    )


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
