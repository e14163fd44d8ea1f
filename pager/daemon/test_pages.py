"""Test pages: a clearly marked page to one person, to prove their phone really rings.

``pager test-page PERSON`` writes one outbox row (kind ``test``) for the pseudo-ticket
``test:PERSON`` with a reply code, exactly like a page; the running daemon sends it. The
person answers like a page: the code by SMS (or ``ack``, when it is their only open
code), or key 4 on the call. That answer is recorded in the audit of ``test:PERSON``
(``test-ack``), frees the code and applies nothing else: no ticket exists. The status
page shows each person's last ``test-ack``; the command waits for one.

Synchronous, store-only: every function runs inside a store transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from twilio.twiml.voice_response import VoiceResponse

from pager.core.messages import render
from pager.core.model import Channel, Config
from pager.daemon.engine import Engine, address_for
from pager.store.types import NewMessage, OutboxRow

PREFIX = "test:"
SENT = "test-page"
ACKED = "test-ack"
ACK_TEXT = "Test page received: your phone works. Nothing else to do."


def ticket_of(person: str) -> str:
    return f"{PREFIX}{person}"


def is_test(ticket_id: str) -> bool:
    return ticket_id.startswith(PREFIX)


def queue(engine: Engine, config: Config, person: str, via: Channel, now: datetime) -> int | None:
    """Write the test page's outbox row; its id, or None when the person has no address
    for ``via`` (or is unknown)."""
    known = config.people.get(person)
    if known is None:
        return None
    address = address_for(known, via)
    if not address:
        return None
    ticket_id = ticket_of(person)
    code = engine.open_code(person, ticket_id)
    stamp = now.strftime("%Y%m%dT%H%M%S.%f")
    text = f"pager TEST PAGE (not an incident) for {known.name}. Reply {code} to confirm."
    subject = "[pager TEST PAGE] not an incident: please confirm"
    if via == "email":
        text = (
            "This is a TEST PAGE from pager, not an incident.\n\n"
            f"To confirm that pages reach you, reply {code} by SMS to the pager number."
        )
    row = engine.queue_message(
        NewMessage(
            key=f"test/{person}/{via}/{stamp}",
            ticket_id=ticket_id,
            person=person,
            channel=via,
            address=address,
            kind="test",
            subject=subject,
            body=text,
            bundle_line=f"TEST PAGE ({code})",
            token=_token() if via == "voice" else "",
            not_before=now,
            code=code,
        ),
        now,
    )
    engine.note_now(ticket_id, now, SENT, {"to": person, "via": via})
    return row


def acknowledge(engine: Engine, ticket_id: str, person: str, via: str, now: datetime) -> str:
    """Record the person's answer to their test page; the answer to give them."""
    engine.release_codes(ticket_id, [person])
    engine.note_now(ticket_id, now, ACKED, {"by": person, "via": via})
    return ACK_TEXT


def last_passed(engine: Engine, person: str) -> datetime | None:
    """When ``person`` last answered a test page, or None."""
    found = [e.at for e in engine.audit(ticket_of(person)) if e.action == ACKED]
    return max(found) if found else None


def voice_twiml(row: OutboxRow, token: str, public_url: str) -> str:
    """The call of a voice test page: what it is, and key 4 to confirm."""
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1,
        action=f"{public_url.rstrip('/')}/twilio/voice/gather/{token}",
        method="POST",
        timeout=10,
    )
    gather.say(
        "This is a test page from pager. It is not an incident. "
        f"Press {render.VOICE_ACK_DIGIT} to confirm that pages reach you."
    )
    response.say("No key pressed. Goodbye.")
    return str(response)


def voice_gather(engine: Engine, row: OutboxRow, digits: str, now: datetime) -> str:
    response = VoiceResponse()
    if digits.strip() == render.VOICE_ACK_DIGIT:
        acknowledge(engine, row.ticket_id, row.person, "voice", now)
        response.say("Test page confirmed. Your phone works. Goodbye.")
    else:
        response.say("Test page not confirmed. Goodbye.")
    return str(response)


def _token() -> str:
    return secrets.token_urlsafe(24)
