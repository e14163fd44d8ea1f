"""A Severity 1 ticket pages rung 1 on every channel and climbs the ladder unacknowledged."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any

import aiomqtt
import pytest

from tests.e2e.conftest import MakeRig, PagerRig, event, still, until

pytestmark = pytest.mark.e2e


async def test_sev1_opened_pages_ana_by_sms_email_and_voice(rig: PagerRig) -> None:
    published = time.monotonic()
    await rig.publish(event("T-1", customer="Acme", summary="gateway down"))

    [sms] = await rig.wait_sms("ana")
    assert sms.at - published < 1.0, f"event to SMS took {sms.at - published:.3f}s"
    assert sms.from_ == "+15550000001"
    assert sms.body is not None and "SEV1 T-1" in sms.body
    assert re.search(r"Reply \w+ to ack", sms.body), sms.body

    [mail] = await rig.wait_mails("ana")
    assert mail.subject.startswith("[SEV1] T-1 "), mail.subject
    assert "Acme" in mail.subject
    assert mail.mail_from == "pager@example.com"
    assert "T-1" in mail.text

    [call] = await rig.wait_calls("ana", timeout=5)
    assert call.from_ == "+15550000001"
    assert call.url is not None and call.url.startswith(f"{rig.base_url}/twilio/voice/answer/")

    # Nobody but the rung-1 person was paged yet.
    assert not rig.sms_to("bob")
    timeline = await rig.timeline("T-1")
    assert "ana" in timeline
    assert "open, rung 1" in timeline


async def test_unacknowledged_ticket_climbs_to_bob_then_carol_then_dave(rig: PagerRig) -> None:
    await rig.publish(event("T-2"))
    [first] = await rig.wait_sms("ana")

    [to_bob] = await rig.wait_sms("bob", timeout=8)
    [to_carol] = await rig.wait_sms("carol", timeout=8)
    [to_dave] = await rig.wait_sms("dave", timeout=8)
    # Each rung waits its ack_within (3 s) for the one below, and not much more.
    for lower, higher in ((first, to_bob), (to_bob, to_carol), (to_carol, to_dave)):
        gap = higher.at - lower.at
        assert 2.5 < gap < 5.0, f"rung gap {gap:.2f}s"
    for message in (to_bob, to_carol, to_dave):
        assert message.body is not None and "T-2" in message.body

    # repeat 0: past the last rung everyone paged is told by email, and paging stops.
    for person in ("ana", "bob", "carol", "dave"):
        await rig.wait_mails(person, 2, timeout=8)
    assert any("unack" in m.subject.lower() for m in rig.mails_to("bob")), [
        m.subject for m in rig.mails_to("bob")
    ]
    sms_count = len(rig.twilio.messages)
    await still(lambda: len(rig.twilio.messages) == sms_count, duration=1.5, what="no more SMS")
    assert len(rig.sms_to("ana")) == 1
    timeline = await rig.timeline("T-2")
    assert "owner nobody" in timeline


async def test_duplicate_event_id_pages_once(make_rig: MakeRig) -> None:
    rig = await make_rig(voice_after=None)
    opened = event("T-7")
    mark = rig.daemon.mark()
    await rig.publish(opened)
    await rig.wait_sms("ana")
    await rig.publish(opened)
    await rig.publish(dict(opened, summary="the same id, other words"))
    duplicate = f"event {opened['event_id']} T-7 opened: duplicate"
    await until(
        lambda: sum(duplicate in line for line in rig.daemon.lines_since(mark)) == 2,
        what="both repeats logged as duplicates",
    )
    await still(lambda: len(rig.sms_to("ana")) == 1, duration=0.5, what="one SMS to ana")
    assert len(rig.mails_to("ana")) == 1
    assert not rig.twilio.calls
    assert rig.query("SELECT count(*) FROM events WHERE ticket_id = 'T-7'") == [(1,)]


async def retained_state(rig: PagerRig, ticket: str) -> dict[str, Any]:
    """The retained state message of ``ticket``, as a new subscriber receives it."""
    async with aiomqtt.Client(
        rig.broker.host, rig.broker.port, identifier=f"state-{uuid.uuid4().hex[:8]}"
    ) as client:
        await client.subscribe(f"pager/tickets/{ticket}/state", qos=0)
        async with asyncio.timeout(5):
            async for message in client.messages:
                assert message.retain
                body: dict[str, Any] = json.loads(_bytes(message.payload))
                return body
    raise AssertionError("no retained state")


def _bytes(payload: object) -> bytes:
    assert isinstance(payload, bytes | bytearray)
    return bytes(payload)


async def test_ticket_state_is_retained_on_the_broker_and_follows_changes(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(ack_within="30s", voice_after=None)
    await rig.publish(event("T-st"))
    await rig.wait_sms("ana")
    state = await retained_state(rig, "T-st")
    assert state["ticket"] == "T-st" and state["rung"] == 1 and state["owner"] is None
    assert state["severity"] == 1 and state["tier"] == "premier" and not state["closed"]
    assert state["ack_deadline"] is not None and state["ack_deadline"].endswith("Z")

    await rig.publish(event("T-st", "acknowledged", by="ana"))
    await until(lambda: rig.ticket_state("T-st")["owner"] == "ana", what="T-st owned")

    async def owned() -> bool:
        return (await retained_state(rig, "T-st"))["owner"] == "ana"

    deadline = time.monotonic() + 5
    while not await owned():
        assert time.monotonic() < deadline, "the retained state never showed the owner"
        await asyncio.sleep(0.05)
