"""SMS replies and voice keypresses (pager.daemon.replies_in) against a real SQLite store."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.core.events import parse_event
from pager.core.messages.gsm7 import SINGLE_SEGMENT_SEPTETS, is_gsm7, septets
from pager.core.model import (
    Calendar,
    Config,
    Ladder,
    NotifyStep,
    Person,
    Rung,
    Settings,
    SeverityPolicy,
    Target,
    Tier,
    WallDuration,
    WeeklyHours,
)
from pager.core.policy import Policy
from pager.core.replies import help_text
from pager.daemon import replies_in as inbound
from pager.daemon.engine import Engine, Result
from pager.store.sqlite.store import SqliteStore

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # a Monday, outside desk hours
PUBLIC_URL = "https://pager.example.com"
ALICE_PHONE = "+15550000101"
BOB_PHONE = "+15550000102"
CAROL_PHONE = "+15550000103"


def make_config() -> Config:
    """Alice is rung 1 (SMS, email and an immediate call), Bob rung 2; Carol is never paged."""
    sms_and_call = (
        NotifyStep("sms", timedelta(0)),
        NotifyStep("email", timedelta(0)),
        NotifyStep("voice", timedelta(0)),
    )
    people = {
        "alice": Person("alice", "Alice Example", ALICE_PHONE, "alice@example.com", sms_and_call),
        "bob": Person("bob", "Bob Example", BOB_PHONE, "bob@example.com"),
        "carol": Person("carol", "Carol Example", CAROL_PHONE, "carol@example.com"),
    }
    desk = Calendar("desk", "UTC", WeeklyHours(frozenset(range(5)), 9 * 60, 17 * 60))
    premier = Tier(
        "premier",
        "desk",
        {
            1: SeverityPolicy(
                WallDuration(timedelta(minutes=30)),
                "high",
                "24x7",
                status_every=WallDuration(timedelta(hours=2)),
            ),
            2: SeverityPolicy(WallDuration(timedelta(hours=1)), "high", "24x7"),
        },
    )
    ladder = Ladder(
        name="support",
        calendars={"desk": desk},
        tiers={"premier": premier},
        rungs=(
            Rung("case-owner", (Target("person", "alice"),), timedelta(minutes=15)),
            Rung("duty-manager", (Target("person", "bob"),), timedelta(minutes=30)),
        ),
    )
    return Config(Settings(), people, {}, {}, {"support": ladder})


def event_payload(ticket_id: str, kind: str = "opened", **fields: Any) -> str:
    data: dict[str, Any] = {
        "event_id": f"{ticket_id}-{kind}-{fields.pop('n', 0)}",
        "ticket_id": ticket_id,
        "type": kind,
        "at": "2026-11-23T03:00:00Z",
    }
    if kind == "opened":
        data.update(severity=1, tier="premier", customer="Acme", summary="gateway down")
    data.update(fields)
    return json.dumps(data)


class Desk:
    """A store, an engine over it, and one transaction per call (like Service.db)."""

    def __init__(self, path: Path) -> None:
        self.store = SqliteStore(path)
        counter = iter(range(1, 10_000))
        self.engine = Engine(self.store, Policy(make_config()), token=lambda: f"tok{next(counter)}")

    def open(self, ticket_id: str, **fields: Any) -> Result:
        payload = event_payload(ticket_id, **fields)
        with self.store.transaction():
            return self.engine.ingest(parse_event(payload), NOW, payload)

    def event(self, ticket_id: str, kind: str, **fields: Any) -> Result:
        payload = event_payload(ticket_id, kind, **fields)
        with self.store.transaction():
            return self.engine.ingest(parse_event(payload), NOW, payload)

    def sms(self, person: str, body: str, now: datetime = NOW) -> str:
        with self.store.transaction():
            return inbound.handle_sms(self.engine, person, body, now)

    def owner(self, ticket_id: str) -> str | None:
        with self.store.transaction():
            state = self.store.get_ticket(ticket_id)
        assert state is not None
        return state.owner

    def rung(self, ticket_id: str) -> int:
        with self.store.transaction():
            state = self.store.get_ticket(ticket_id)
        assert state is not None
        return state.rung

    def codes(self, person: str) -> dict[str, str]:
        with self.store.transaction():
            return self.store.codes_of(person)

    def voice_token(self, ticket_id: str, person: str = "alice") -> str:
        with self.store.transaction():
            rows = [r for r in self.store.pending_for(person, "voice") if r.ticket_id == ticket_id]
        assert rows, f"no call to {person} for {ticket_id}"
        return rows[0].token

    def answer(self, token: str) -> str:
        with self.store.transaction():
            return inbound.voice_twiml(self.engine, token, PUBLIC_URL)

    def press(self, token: str, digits: str) -> str:
        with self.store.transaction():
            return inbound.voice_gather(self.engine, token, digits, NOW, PUBLIC_URL)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    d = Desk(tmp_path / "pager.db")
    try:
        yield d
    finally:
        d.store.close()


def one_segment(text: str) -> bool:
    return is_gsm7(text) and septets(text) <= SINGLE_SEGMENT_SEPTETS


# --- who is texting ---------------------------------------------------------------------


def test_person_by_phone_matches_e164_ignoring_separators() -> None:
    config = make_config()
    assert inbound.person_by_phone(config, ALICE_PHONE) == "alice"
    assert inbound.person_by_phone(config, "+1 555 000 0102") == "bob"
    assert inbound.person_by_phone(config, "+1 (555) 000-0103") == "carol"
    assert inbound.person_by_phone(config, "+15550000199") is None
    assert inbound.person_by_phone(config, "") is None


# --- acknowledging --------------------------------------------------------------------


@pytest.mark.parametrize("body", ["1", "ack 1", "ACK 1", "ok 1, on it", "#1"])
def test_code_acknowledges_that_ticket(desk: Desk, body: str) -> None:
    desk.open("T-1")
    assert desk.codes("alice") == {"1": "T-1"}

    answer = desk.sms("alice", body)

    assert answer == "Acked T-1 (SEV1 Acme). You own it. Status report due 05:00Z"
    assert desk.owner("T-1") == "alice"
    assert desk.codes("alice") == {}


def test_code_picks_the_right_ticket_among_several(desk: Desk) -> None:
    desk.open("T-1")
    desk.open("T-2", customer="Globex", severity=2)
    assert desk.codes("alice") == {"1": "T-1", "2": "T-2"}

    answer = desk.sms("alice", "2")

    assert answer == "Acked T-2 (SEV2 Globex). You own it."  # severity 2 has no status clock
    assert desk.owner("T-2") == "alice"
    assert desk.owner("T-1") is None
    assert desk.codes("alice") == {"1": "T-1"}


def test_bare_ack_with_one_open_page_acknowledges_it(desk: Desk) -> None:
    desk.open("T-1")
    assert desk.sms("alice", "ack").startswith("Acked T-1 ")
    assert desk.owner("T-1") == "alice"


def test_bare_ack_with_several_pages_lists_codes_and_changes_nothing(desk: Desk) -> None:
    desk.open("T-9")
    desk.open("T-12")

    answer = desk.sms("alice", "Ack")

    assert answer == "Which page? Your open pages: 1 (T-9), 2 (T-12). Reply ACK <code> or ACK ALL."
    assert desk.owner("T-9") is None and desk.owner("T-12") is None
    assert len(desk.codes("alice")) == 2


def test_bare_ack_without_pages(desk: Desk) -> None:
    assert desk.sms("alice", "ack") == "You have no open pages."


def test_long_list_of_open_pages_stays_one_segment(desk: Desk) -> None:
    for n in range(30):
        desk.open(f"TICKET-{n:04d}")

    answer = desk.sms("alice", "ack")

    assert one_segment(answer)
    assert answer.startswith("Which page? Your open pages: 1 (TICKET-0000), 2 (TICKET-0001)")
    assert "..." in answer and answer.endswith("Reply ACK <code> or ACK ALL.")


def test_unknown_code_lists_open_pages(desk: Desk) -> None:
    desk.open("T-9")
    desk.open("T-12")

    answer = desk.sms("alice", "7")

    assert answer == "No open page 7. Your open pages: 1 (T-9), 2 (T-12)"
    assert desk.owner("T-9") is None and desk.owner("T-12") is None


def test_unknown_code_without_pages(desk: Desk) -> None:
    assert desk.sms("bob", "ack 3") == "No open page 3. You have no open pages."


def test_ack_all_acknowledges_every_open_page(desk: Desk) -> None:
    for ticket in ("T-1", "T-2", "T-3"):
        desk.open(ticket)

    answer = desk.sms("alice", "ack all")

    assert answer == "Acked 3 tickets: T-1, T-2, T-3. You own them."
    assert [desk.owner(t) for t in ("T-1", "T-2", "T-3")] == ["alice"] * 3
    assert desk.codes("alice") == {}


def test_ack_all_with_one_page_answers_like_a_single_ack(desk: Desk) -> None:
    desk.open("T-1")
    assert desk.sms("alice", "ACK ALL").startswith("Acked T-1 (SEV1 Acme). You own it.")


def test_ack_all_without_pages(desk: Desk) -> None:
    assert desk.sms("carol", "ack all") == "You have no open pages."


def test_reply_after_close_applies_nothing(desk: Desk) -> None:
    desk.open("T-1")
    desk.event("T-1", "closed")

    answer = desk.sms("alice", "1")

    assert answer == "No open page 1. You have no open pages."
    assert desk.owner("T-1") is None


def test_rejected_acknowledgement_is_reported(desk: Desk) -> None:
    desk.open("T-1")
    # A code for someone the ticket never paged: the engine refuses the acknowledgement.
    with desk.store.transaction():
        assert desk.store.allocate_code("carol", "T-1") == "1"

    answer = desk.sms("carol", "1")

    assert answer == "Could not ack T-1: carol was not paged for ticket T-1."
    assert desk.owner("T-1") is None


def test_second_reply_after_ack_is_not_applied_again(desk: Desk) -> None:
    desk.open("T-1")
    desk.sms("alice", "1")
    assert desk.sms("alice", "1") == "No open page 1. You have no open pages."


# --- escalating -----------------------------------------------------------------------


@pytest.mark.parametrize("body", ["1e", "1E", "esc 1", "escalate 1", "1esc"])
def test_escalate_pages_the_next_rung(desk: Desk, body: str) -> None:
    desk.open("T-1")
    assert desk.rung("T-1") == 1

    answer = desk.sms("alice", body)

    assert answer == "Escalated T-1 to rung 2 (duty-manager)"
    assert desk.rung("T-1") == 2
    assert desk.codes("bob") == {"1": "T-1"}
    assert desk.owner("T-1") is None


def test_escalate_unknown_code_changes_nothing(desk: Desk) -> None:
    desk.open("T-1")
    assert desk.sms("alice", "7e") == "No open page 7. Your open pages: 1 (T-1)"
    assert desk.rung("T-1") == 1


def test_bare_escalate_with_several_pages_asks_which(desk: Desk) -> None:
    desk.open("T-1")
    desk.open("T-2")
    answer = desk.sms("alice", "esc")
    assert answer == "Which page? Your open pages: 1 (T-1), 2 (T-2). Reply <code>E to escalate."
    assert desk.rung("T-1") == 1 and desk.rung("T-2") == 1


# --- help and nonsense ----------------------------------------------------------------


def test_help(desk: Desk) -> None:
    assert desk.sms("alice", "help") == help_text()
    assert desk.sms("alice", "?") == help_text()


@pytest.mark.parametrize("body", ["hello there", "", "stop 1", "ack 1e"])
def test_unknown_text_gets_usage_and_changes_nothing(desk: Desk, body: str) -> None:
    desk.open("T-1")

    answer = desk.sms("alice", body)

    assert answer.startswith("Sorry, not understood. ")
    assert answer.endswith(help_text())
    assert one_segment(answer)
    assert desk.owner("T-1") is None and desk.rung("T-1") == 1


def test_answers_are_gsm7_even_for_unicode_customers(desk: Desk) -> None:
    desk.open("T-1", customer="Șoseaua Kiseleff “Ltd” — a very long name indeed")
    answer = desk.sms("alice", "1")
    assert one_segment(answer)
    assert answer.startswith("Acked T-1 (SEV1 Soseaua Kiseleff...). You own it.")


# --- voice ----------------------------------------------------------------------------


def says(twiml: str) -> list[str]:
    return [el.text or "" for el in ET.fromstring(twiml).iter("Say")]


def test_answer_reads_the_page_and_gathers_one_key(desk: Desk) -> None:
    desk.open("T-1", customer="A&B <Corp>")
    token = desk.voice_token("T-1")

    twiml = desk.answer(token)

    root = ET.fromstring(twiml)  # well-formed although the customer has & and <
    gather = root.find("Gather")
    assert gather is not None
    assert gather.attrib == {
        "numDigits": "1",
        "action": f"{PUBLIC_URL}/twilio/voice/gather/{token}",
        "method": "POST",
        "timeout": "10",
    }
    script = gather.findtext("Say") or ""
    assert "ticket T 1 for A&B <Corp>: gateway down" in script
    assert "Press 4 to acknowledge, 5 to escalate, star to repeat." in script
    assert says(twiml)[-1] == "No key pressed. Goodbye."


def test_answer_with_unknown_token(desk: Desk) -> None:
    assert says(desk.answer("nope")) == ["This page is no longer active."]


def test_key_4_acknowledges(desk: Desk) -> None:
    desk.open("T-1")
    token = desk.voice_token("T-1")

    twiml = desk.press(token, "4")

    assert says(twiml) == [
        "Acknowledged. You own ticket T 1. The status report is due at 05:00 UTC. Goodbye."
    ]
    assert desk.owner("T-1") == "alice"
    with desk.store.transaction():
        acks = [a for a in desk.store.audit("T-1") if a.action == "ack"]
    assert acks and "voice" in str(acks[-1].detail)
    # Calling back later: the page is no longer open.
    assert says(desk.answer(token)) == [
        "Ticket T 1 was already acknowledged by Alice Example. Goodbye."
    ]
    assert "already acknowledged" in says(desk.press(token, "4"))[0]


def test_key_5_escalates(desk: Desk) -> None:
    desk.open("T-1")
    token = desk.voice_token("T-1")

    twiml = desk.press(token, "5")

    assert says(twiml) == ["Escalated ticket T 1 to rung 2, duty-manager. Goodbye."]
    assert desk.rung("T-1") == 2
    assert desk.owner("T-1") is None


def test_star_repeats(desk: Desk) -> None:
    desk.open("T-1")
    token = desk.voice_token("T-1")
    assert desk.press(token, "*") == desk.answer(token)
    assert desk.owner("T-1") is None and desk.rung("T-1") == 1


def test_other_key_says_so_and_gathers_again(desk: Desk) -> None:
    desk.open("T-1")
    token = desk.voice_token("T-1")

    twiml = desk.press(token, "9")

    gather = ET.fromstring(twiml).find("Gather")
    assert gather is not None
    assert (gather.findtext("Say") or "").startswith("Unknown key. Severity 1 ticket T 1")
    assert desk.owner("T-1") is None and desk.rung("T-1") == 1


def test_no_key_is_not_an_acknowledgement(desk: Desk) -> None:
    desk.open("T-1")
    token = desk.voice_token("T-1")
    assert says(desk.press(token, "")) == ["No key pressed. Goodbye."]
    assert desk.owner("T-1") is None


def test_call_after_close(desk: Desk) -> None:
    desk.open("T-1")
    token = desk.voice_token("T-1")
    desk.event("T-1", "closed")
    assert says(desk.answer(token)) == ["Ticket T 1 is closed. Goodbye."]
    assert says(desk.press(token, "4")) == ["Ticket T 1 is closed. Goodbye."]


def test_call_status_is_audited(desk: Desk) -> None:
    desk.open("T-1")
    token = desk.voice_token("T-1")
    with desk.store.transaction():
        found = inbound.voice_status(desk.engine, token, "no-answer", NOW)
        missing = inbound.voice_status(desk.engine, "nope", "no-answer", NOW)
        notes = [a.detail for a in desk.store.audit("T-1") if a.action == "note"]
    assert found == "T-1 alice"
    assert missing is None
    assert {"detail": "call to alice: no-answer", "to": "alice", "via": "voice"} in notes
    assert desk.owner("T-1") is None


def _shorten_reference(text: str) -> str:
    """The answer cut the slow way: one character at a time from the end."""
    from pager.core.messages.gsm7 import to_gsm7

    text = to_gsm7(text)
    if septets(text) <= SINGLE_SEGMENT_SEPTETS:
        return text
    while text and septets(text) > SINGLE_SEGMENT_SEPTETS - 3:
        text = text[:-1]
    return text.rstrip() + "..."


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab {}[]~|^€\\ ,.T-0123456789ș", max_size=600))
def test_answers_are_cut_like_the_character_by_character_reference(text: str) -> None:
    assert inbound._shorten(text) == _shorten_reference(text)
    assert septets(inbound._shorten(text)) <= SINGLE_SEGMENT_SEPTETS
