"""Inbound acknowledgement: SMS replies and voice keypresses (SPEC sections 6 and 7).

Synchronous and free of I/O beyond the :class:`~pager.daemon.engine.Engine` (and its store)
passed in: every function here runs inside one store transaction, on the daemon's store
thread (:meth:`pager.daemon.service.Service.db`) or directly in tests. ``now`` is an argument.

A reply code names one of the person's *open* pages (``Engine.codes_of``); once a page
is acknowledged, escalated away or closed its code is gone, so a late reply is answered
with the person's remaining open pages instead of being applied to some other ticket.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, cast

from twilio.twiml.voice_response import VoiceResponse

from pager.core.ladder import TicketState
from pager.core.messages import kinds, render
from pager.core.messages.gsm7 import SINGLE_SEGMENT_SEPTETS, septets, to_gsm7
from pager.core.model import Config
from pager.core.replies import Ack, AckAll, Escalate, Help, Unknown, help_text, parse_reply
from pager.daemon import decisions, test_pages
from pager.daemon.engine import Engine, Result
from pager.store.types import OutboxRow

#: Answer to a repeated MessageSid (Twilio retried a webhook whose answer it lost).
ALREADY_HANDLED = "Already handled."
#: Prefix of the answer to a reply that is not understood; short enough that it and
#: the usage text still fit one SMS segment.
NOT_UNDERSTOOD = "Sorry, not understood. "
NO_OPEN_PAGES = "You have no open pages."
VOICE_INACTIVE = "This page is no longer active."
VOICE_NO_KEY = "No key pressed. Goodbye."
#: Seconds the call waits for a key.
GATHER_TIMEOUT = 10
#: Longest customer name quoted in an SMS answer.
_CUSTOMER_IN_ANSWER = 20
_PHONE_NOISE = str.maketrans("", "", " \t-().")

Verb = Literal["ack", "escalate"]


# --- who is texting -------------------------------------------------------------------


def normalise_phone(phone: str) -> str:
    """``phone`` without spaces and the usual separators (``-``, ``(``, ``)``, ``.``)."""
    return phone.translate(_PHONE_NOISE)


def person_by_phone(config: Config, phone: str) -> str | None:
    """The id of the person whose ``phone`` is ``phone`` (E.164, separators ignored).

    None when nobody has that number (or ``phone`` is empty). When several people share
    a number, the first in people.yaml order is returned.
    """
    wanted = normalise_phone(phone)
    if not wanted:
        return None
    for person in config.people.values():
        if person.phone and normalise_phone(person.phone) == wanted:
            return person.id
    return None


# --- SMS ------------------------------------------------------------------------------


def handle_sms(engine: Engine, person: str, body: str, now: datetime) -> str:
    """Apply an SMS reply of ``person`` and return the answer to text back.

    Every reply gets an answer (one GSM-7 segment where possible). Nothing is applied
    for help, unknown text, or a code that is not one of the person's open pages.
    """
    # Free text (customers, rung names) reaches answers: keep them GSM-7.
    return to_gsm7(_sms_answer(engine, person, body, now))


def _sms_answer(engine: Engine, person: str, body: str, now: datetime) -> str:
    reply = parse_reply(body)
    if isinstance(reply, Help):
        return help_text()
    if isinstance(reply, Unknown):
        return NOT_UNDERSTOOD + help_text()
    codes = engine.codes_of(person)
    if isinstance(reply, AckAll):
        return _ack_all(engine, person, codes, now)
    verb: Verb = "ack" if isinstance(reply, Ack) else "escalate"
    assert isinstance(reply, Ack | Escalate)
    if reply.code is None:
        if len(codes) != 1:
            return _which_page(codes, verb)
        ticket_id = next(iter(codes.values()))
    else:
        found = codes.get(reply.code)
        if found is None:
            return _fit(f"No open page {reply.code}.", _open_pages_list(codes))
        ticket_id = found
    if verb == "ack" and test_pages.is_test(ticket_id):
        return test_pages.acknowledge(engine, ticket_id, person, "sms", now)
    if verb == "ack":
        result = engine.acknowledge(ticket_id, person, "sms", now)
        return _ack_answer(ticket_id, person, result)
    result = engine.escalate(ticket_id, person, "sms", now)
    return _escalate_answer(engine, ticket_id, person, result)


def _ack_all(engine: Engine, person: str, codes: dict[str, str], now: datetime) -> str:
    if not codes:
        return NO_OPEN_PAGES
    tickets = [codes[code] for code in sorted(codes, key=_code_order)]
    tests = [t for t in tickets if test_pages.is_test(t)]  # a test page: confirmed too
    for ticket_id in tests:
        test_pages.acknowledge(engine, ticket_id, person, "sms", now)
    tickets = [t for t in tickets if not test_pages.is_test(t)]
    if not tickets:
        return test_pages.ACK_TEXT
    if len(tickets) == 1:
        result = engine.acknowledge(tickets[0], person, "sms", now)
        return _ack_answer(tickets[0], person, result)
    acked: list[str] = []
    failed: list[str] = []
    for ticket_id in tickets:
        result = engine.acknowledge(ticket_id, person, "sms", now)
        (failed if result.status == "rejected" else acked).append(ticket_id)
    decisions.log_ack_all(person, len(acked), len(failed))
    text = f"Acked {len(acked)} ticket{'s' if len(acked) != 1 else ''}"
    text += f": {', '.join(acked)}." if acked else "."
    if failed:
        text += f" Could not ack: {', '.join(failed)}."
    if acked:
        text += " You own them."
    return _shorten(text)


def _ack_answer(ticket_id: str, person: str, result: Result) -> str:
    state = result.ticket
    if result.status == "rejected" or state is None:
        return _shorten(f"Could not ack {ticket_id}: {result.reason or 'no such ticket'}.")
    text = f"Acked {ticket_id} ({_label(state)})."
    text += " You own it." if state.owner == person else ""
    if state.status_due is not None:
        text += f" Status report due {_hhmm(state.status_due)}"
    return _shorten(text)


def _escalate_answer(engine: Engine, ticket_id: str, person: str, result: Result) -> str:
    state = result.ticket
    if result.status == "rejected" or state is None:
        return _shorten(f"Could not escalate {ticket_id}: {result.reason or 'no such ticket'}.")
    name = _rung_name(engine, state, person)
    text = f"Escalated {ticket_id} to rung {state.rung}"
    return _shorten(f"{text} ({name})" if name else text)


def _which_page(codes: dict[str, str], verb: Verb) -> str:
    if not codes:
        return NO_OPEN_PAGES
    hint = "Reply ACK <code> or ACK ALL." if verb == "ack" else "Reply <code>E to escalate."
    return _fit("Which page?", _open_pages_list(codes), hint)


def _open_pages_list(codes: dict[str, str]) -> list[str]:
    """``["Your open pages:", "3 (T-9),", "4 (T-12)"]``, or the no-pages sentence."""
    if not codes:
        return [NO_OPEN_PAGES]
    ordered = sorted(codes, key=_code_order)
    items = [f"{code} ({codes[code]})" for code in ordered]
    return ["Your open pages:", *(item + "," for item in items[:-1]), items[-1]]


def _fit(head: str, words: list[str], tail: str = "") -> str:
    """``head`` + as many of ``words`` as fit one segment (then ``...``) + ``tail``."""
    room = SINGLE_SEGMENT_SEPTETS - septets(tail) - (2 if tail else 0)
    text = head
    for i, word in enumerate(words):
        more = i < len(words) - 1
        candidate = f"{text} {word}"
        # Keep room for the " ..." that marks a cut list.
        if septets(candidate) + (4 if more else 0) > room:
            text = text.rstrip(",") + " ..."
            break
        text = candidate
    if not tail:
        return text
    return f"{text} {tail}" if text.endswith(".") else f"{text}. {tail}"


def _label(state: TicketState) -> str:
    """``SEV1 Acme`` (the customer shortened to fit an answer)."""
    customer = to_gsm7(state.customer or "")
    if len(customer) > _CUSTOMER_IN_ANSWER:
        customer = customer[: _CUSTOMER_IN_ANSWER - 3].rstrip() + "..."
    return f"SEV{state.severity} {customer}".rstrip()


def _shorten(text: str) -> str:
    """``text`` cut to one segment when it is longer (ending in ``...``)."""
    text = to_gsm7(text)
    if septets(text) <= SINGLE_SEGMENT_SEPTETS:
        return text
    # Every character is at least one septet: no longer prefix can fit. (Without this
    # cut, "ack all" of 10,000 pages spent a minute trimming its answer.)
    text = text[: SINGLE_SEGMENT_SEPTETS - 3]
    while text and septets(text) > SINGLE_SEGMENT_SEPTETS - 3:
        text = text[:-1]
    return text.rstrip() + "..."


def _code_order(code: str) -> tuple[int, str]:
    return (int(code), code) if code.isdigit() else (10**6, code)


def _hhmm(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%H:%MZ")


def _rung_name(engine: Engine, state: TicketState, person: str) -> str:
    return engine.facts(state, "page", person, None).rung_name


# --- voice ----------------------------------------------------------------------------


def voice_twiml(engine: Engine, token: str, public_url: str) -> str:
    """The TwiML a page call plays when answered (``/twilio/voice/answer/{token}``).

    The script is rendered from the ticket's current state and gathers one key, which
    Twilio posts to ``/twilio/voice/gather/{token}``. An unknown token, a closed ticket,
    or a page acknowledged meanwhile only says so.
    """
    return _answer(engine, token, public_url, prefix="")


def voice_gather(engine: Engine, token: str, digits: str, now: datetime, public_url: str) -> str:
    """Apply the key pressed on a page call and return the TwiML that answers it.

    ``4`` acknowledges (via ``voice``), ``5`` escalates, ``*`` repeats the page, another
    key says so and gathers again. No key at all is not an acknowledgement: the call
    says goodbye and the ladder goes on.
    """
    digits = digits.strip()
    if digits == "*":
        return voice_twiml(engine, token, public_url)
    row = _voice_row(engine, token)
    if row is None:
        return _say(VOICE_INACTIVE)
    if test_pages.is_test(row.ticket_id):
        return test_pages.voice_gather(engine, row, digits, now)
    if not digits:
        return _say(VOICE_NO_KEY)
    ackable = row.kind in kinds.ACKABLE
    if not ackable or digits not in (render.VOICE_ACK_DIGIT, render.VOICE_ESCALATE_DIGIT):
        return _answer(engine, token, public_url, prefix="Unknown key.")
    state = engine.ticket(row.ticket_id)
    inactive = _inactive_text(engine, row, state)
    if inactive is not None:
        return _say(inactive)
    assert state is not None
    spoken = spell(row.ticket_id)
    if digits == render.VOICE_ACK_DIGIT:
        result = engine.acknowledge(row.ticket_id, row.person, "voice", now)
        if result.status == "rejected" or result.ticket is None:
            return _say(f"Could not acknowledge ticket {spoken}: {result.reason}. Goodbye.")
        text = f"Acknowledged. You own ticket {spoken}."
        if result.ticket.status_due is not None:
            due = result.ticket.status_due.astimezone(UTC).strftime("%H:%M")
            text += f" The status report is due at {due} UTC."
        return _say(text + " Goodbye.")
    result = engine.escalate(row.ticket_id, row.person, "voice", now)
    if result.status == "rejected" or result.ticket is None:
        return _say(f"Could not escalate ticket {spoken}: {result.reason}. Goodbye.")
    name = _rung_name(engine, result.ticket, row.person)
    where = f"rung {result.ticket.rung}" + (f", {name}" if name else "")
    return _say(f"Escalated ticket {spoken} to {where}. Goodbye.")


def voice_status(engine: Engine, token: str, status: str, now: datetime) -> str | None:
    """Record a finished call's status (``no-answer``, ``busy``...) in the ticket's audit.

    Returns ``"TICKET PERSON"`` for the log line, or None for an unknown token. Only
    final statuses are recorded; the call's outcome never acknowledges anything.
    """
    row = _voice_row(engine, token)
    if row is None:
        return None
    if status in ("completed", "busy", "no-answer", "failed", "canceled"):
        engine.note_now(
            row.ticket_id,
            now,
            "note",
            {"detail": f"call to {row.person}: {status}", "to": row.person, "via": "voice"},
        )
    return f"{row.ticket_id} {row.person}"


def spell(ticket_id: str) -> str:
    """A ticket id as a voice reads it: ``T-1042`` -> ``T 1 0 4 2``."""
    return " ".join(ch.upper() for ch in ticket_id if ch.isalnum())


def _voice_row(engine: Engine, token: str) -> OutboxRow | None:
    if not token:
        return None
    row = engine.voice_message(token)
    return row if row is not None and row.channel == "voice" else None


def _inactive_text(engine: Engine, row: OutboxRow, state: TicketState | None) -> str | None:
    """Why the page of ``row`` can no longer be acted on, or None while it is open."""
    if state is None:
        return VOICE_INACTIVE
    spoken = spell(row.ticket_id)
    if state.closed:
        return f"Ticket {spoken} is closed. Goodbye."
    if row.kind in kinds.ACKABLE and engine.code_for(row.person, row.ticket_id) is None:
        owner = engine.policy.person(state.owner) if state.owner else None
        by = f" by {owner.name}" if owner else ""
        return f"Ticket {spoken} was already acknowledged{by}. Goodbye."
    return None


def _answer(engine: Engine, token: str, public_url: str, *, prefix: str) -> str:
    row = _voice_row(engine, token)
    if row is None:
        return _say(VOICE_INACTIVE)
    if test_pages.is_test(row.ticket_id):
        return test_pages.voice_twiml(row, token, public_url)
    state = engine.ticket(row.ticket_id)
    inactive = _inactive_text(engine, row, state)
    if inactive is not None:
        return _say(inactive)
    assert state is not None
    kind = cast(kinds.MessageKind, row.kind if kinds.is_kind(row.kind) else "page")
    script = render.voice_script(engine.facts(state, kind, row.person, row.code))
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1,
        action=f"{public_url.rstrip('/')}/twilio/voice/gather/{token}",
        method="POST",
        timeout=GATHER_TIMEOUT,
    )
    gather.say(f"{prefix} {script}".strip())
    response.say(VOICE_NO_KEY)
    return str(response)


def _say(text: str) -> str:
    """TwiML that says ``text``; the call ends after it."""
    response = VoiceResponse()
    response.say(text)
    return str(response)
