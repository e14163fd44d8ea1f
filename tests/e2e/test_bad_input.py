"""Bad payloads go to the dead-letter topic with a reason; the good events around them page."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiomqtt
import pytest

from tests.e2e.conftest import DEAD_LETTER_TOPIC, MakeRig, event

pytestmark = pytest.mark.e2e


async def test_bad_payloads_are_dead_lettered_and_good_ones_still_page(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="30s", voice_after=None)
    oversized = event("T-big", customer="x" * (65 * 1024))
    bad: list[tuple[str, str, bytes]] = [
        # (what, topic ticket, payload)
        ("not json", "T-60", b"{this is not json"),
        ("wrong types", "T-61", json.dumps(event("T-61", severity="high")).encode()),
        ("unknown type", "T-62", json.dumps(event("T-62", "reopened")).encode()),
        ("unknown tier", "T-63", json.dumps(event("T-63", tier="diamond")).encode()),
        ("oversized", "T-big", json.dumps(oversized).encode()),
        ("unknown ticket", "T-64", json.dumps(event("T-64", "acknowledged", by="ana")).encode()),
    ]
    assert len(bad[4][2]) > 64 * 1024

    received: list[dict[str, Any]] = []
    async with aiomqtt.Client(rig.broker.host, rig.broker.port, identifier="e2e-dead") as client:
        await client.subscribe(DEAD_LETTER_TOPIC, qos=1)
        for _what, ticket, payload in bad:
            await client.publish(f"support/tickets/{ticket}/events", payload, qos=1)
        async with asyncio.timeout(10):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                received.append(json.loads(message.payload))
                if len(received) == len(bad):
                    break

    by_topic = {letter["topic"]: letter for letter in received}
    assert sorted(by_topic) == sorted(f"support/tickets/{t}/events" for _w, t, _p in bad)
    for what, ticket, payload in bad:
        letter = by_topic[f"support/tickets/{ticket}/events"]
        assert letter["reason"], f"{what}: empty reason"
        if what == "oversized":
            assert letter.get("truncated") is True and letter["size"] == len(payload)
        else:
            assert letter["payload"] == payload.decode(), what
    reasons = {what: by_topic[f"support/tickets/{t}/events"]["reason"] for what, t, _p in bad}
    assert "diamond" in reasons["unknown tier"]
    assert "reopened" in reasons["unknown type"]
    assert "severity" in reasons["wrong types"]
    assert "unknown ticket" in reasons["unknown ticket"]
    assert "bytes" in reasons["oversized"]

    assert rig.daemon.running
    await rig.publish(event("T-65"))
    [sms] = await rig.wait_sms("ana")
    assert sms.body is not None and "T-65" in sms.body
    # None of the bad events became a ticket or a page.
    assert [r[0] for r in rig.query("SELECT ticket_id FROM tickets")] == ["T-65"]
    assert len(rig.twilio.messages) == 1
    assert rig.daemon.running
