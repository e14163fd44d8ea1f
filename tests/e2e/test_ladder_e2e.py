"""The amended ladder (issue 11) through the real daemon: real Mosquitto, the fake
Twilio-compatible server, aiosmtpd. Each test writes its own ladder over the tiny config
(``make_rig(start=False)``), then starts ``pager run`` on it.

Covered: the cap (escalate_to), a customer escalation with the rung's respond_within and
its breach, an unacknowledged follow-the-sun handoff, and region names (issue 12 item 4).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from tests.e2e.conftest import DEAD_LETTER_TOPIC, MakeRig, PagerRig, event, still, until

pytestmark = pytest.mark.e2e


def _ladder(config_dir: Path, rungs: list[dict[str, Any]], **severity: Any) -> None:
    policy = {"respond_within": "30m", "urgency": "high", "clock": "24x7", **severity}
    ladder = {
        "name": "support",
        "calendars": {
            "desk": {"timezone": "UTC", "days": "mon-sun", "from": "00:00", "to": "24:00"}
        },
        "tiers": {"premier": {"calendar": "desk", "severities": {1: policy}}},
        "rungs": rungs,
    }
    (config_dir / "ladders" / "support.yaml").write_text(yaml.safe_dump(ladder, sort_keys=False))


def _rungs(ack_within: str, **respond_within: str) -> list[dict[str, Any]]:
    rungs: list[dict[str, Any]] = [
        {"name": "case-owner", "page": "rotation:eng", "ack_within": ack_within},
        {"name": "duty-manager", "page": "person:bob", "ack_within": ack_within},
        {"name": "leadership", "page": "person:carol", "ack_within": ack_within},
        {"name": "executive", "page": "person:dave", "ack_within": ack_within},
    ]
    for rung in rungs:
        if rung["name"] in respond_within:
            rung["respond_within"] = respond_within[rung["name"]]
    return rungs


def _audit(rig: PagerRig, ticket: str) -> list[tuple[str, dict[str, Any]]]:
    rows = rig.query("SELECT action, detail FROM audit WHERE ticket_id = ? ORDER BY id", ticket)
    return [(action, json.loads(detail)) for action, detail in rows]


async def test_the_cap_stops_the_climb_and_emails_only_those_paged(make_rig: MakeRig) -> None:
    rig = await make_rig(start=False, voice_after=None)
    _ladder(rig.config_dir, _rungs("2s"), escalate_to=2)
    await rig.daemon.astart()
    await rig.publish(event("T-cap"))
    [to_ana] = await rig.wait_sms("ana")
    [to_bob] = await rig.wait_sms("bob", timeout=6)
    assert 1.5 < to_bob.at - to_ana.at < 4.0
    # rung 3 is above the cap: nobody there is paged, ana and bob get the email
    await until(lambda: len(rig.mails_to("bob")) >= 2, timeout=6, what="bob's second mail")
    await still(lambda: not rig.sms_to("carol") and not rig.sms_to("dave"), duration=3.0)
    assert not rig.mails_to("carol") and not rig.mails_to("dave")
    unacked = [d for a, d in _audit(rig, "T-cap") if a == "unacknowledged"]
    assert {d["to"] for d in unacked} == {"ana", "bob"}
    pages = [d for a, d in _audit(rig, "T-cap") if a == "page" and d["via"] == "sms"]
    assert [(d["to"], d["reason"]) for d in pages] == [("ana", "opened"), ("bob", "ack_timeout")]


async def test_customer_escalation_uses_respond_within_then_records_a_breach(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(start=False, voice_after=None)
    # ack_within is long: only carol's respond_within (3 s) can move the ticket on
    _ladder(rig.config_dir, _rungs("10m", leadership="3s"), escalate_to=1)
    await rig.daemon.astart()
    await rig.publish(event("T-esc"))
    await rig.wait_sms("ana")
    await rig.publish(event("T-esc", "acknowledged", by="ana"))
    await until(lambda: rig.ticket_state("T-esc")["owner"] == "ana", what="ana owns T-esc")
    await rig.publish(event("T-esc", "escalated", rung=3))
    [to_carol] = await rig.wait_sms("carol")
    # the customer's ask pages above the cap (1) and raises it to 3, not beyond:
    # the missed escalation is a breach, rung 4 is above the raised cap, paging stops
    await until(
        lambda: any(a == "breach" for a, _d in _audit(rig, "T-esc")), timeout=8, what="breach"
    )
    [breach] = [d for a, d in _audit(rig, "T-esc") if a == "breach"]
    assert breach["kind"] == "escalation" and breach["rung"] == 3
    await still(lambda: not rig.sms_to("dave") and not rig.sms_to("bob"), duration=2.0)
    state = rig.ticket_state("T-esc")
    assert state["owner"] == "ana" and state["customer_rung"] == 3
    reasons = [d.get("reason") for a, d in _audit(rig, "T-esc") if a == "page"]
    assert "customer" in reasons
    assert to_carol.body is not None and "T-esc" in to_carol.body


async def test_unacknowledged_handoff_pages_rung_2(make_rig: MakeRig) -> None:
    rig = await make_rig(start=False, voice_after=None, extra_people=("erin",))
    _ladder(rig.config_dir, _rungs("3s"))
    # erin covers ana's shift until a few seconds from now: then ana comes on shift
    now = datetime.now(UTC)
    started = time.monotonic()  # the fake Twilio stamps requests on the monotonic clock
    until_at = (now + timedelta(seconds=7)).replace(microsecond=0)
    shift_ends = started + (until_at - now).total_seconds()
    rotation = {
        "name": "eng",
        "regions": {"global": {"timezone": "UTC", "members": ["ana"]}},
        "overrides": [
            {
                "person": "erin",
                "replaces": "ana",
                "from": (until_at - timedelta(hours=1)).isoformat(timespec="seconds"),
                "to": until_at.isoformat(timespec="seconds"),
            }
        ],
    }
    (rig.config_dir / "rotations" / "eng.yaml").write_text(yaml.safe_dump(rotation))
    await rig.daemon.astart()
    await rig.publish(event("T-ho"))
    await rig.wait_sms("erin")
    await rig.publish(event("T-ho", "acknowledged", by="erin"))
    await until(lambda: rig.ticket_state("T-ho")["owner"] == "erin", what="erin owns T-ho")
    [handoff] = await rig.wait_sms("ana", timeout=12)
    assert handoff.body is not None and "T-ho" in handoff.body
    assert handoff.at >= shift_ends - 0.2  # not before erin's shift ends
    await until(lambda: rig.mails_to("erin"), what="erin's handoff email")
    [to_bob] = await rig.wait_sms("bob", timeout=8)
    assert 2.5 < to_bob.at - handoff.at < 5.0
    pages = [d for a, d in _audit(rig, "T-ho") if a == "page" and d["to"] == "bob"]
    assert pages and pages[0]["reason"] == "handoff_unacked" and pages[0]["rung"] == 2
    assert not rig.sms_to("carol")


async def test_region_names_match_case_insensitively_and_unknown_ones_dead_letter(
    rig: PagerRig,
) -> None:
    async with aiomqtt.Client(rig.broker.host, rig.broker.port, identifier="e2e-region") as c:
        await c.subscribe(DEAD_LETTER_TOPIC, qos=1)
        await rig.publish(event("T-eu", region="europe"))
        async with asyncio.timeout(10):
            async for message in c.messages:
                assert isinstance(message.payload, bytes)
                letter = json.loads(message.payload)
                break
    assert letter["topic"] == "support/tickets/T-eu/events"
    assert "unknown region 'europe'" in letter["reason"]
    await rig.publish(event("T-gl", region="GLOBAL"))
    await rig.wait_sms("ana", ticket="T-gl")
    assert rig.ticket_state("T-gl")["region"] == "global"
    assert not rig.query("SELECT 1 FROM tickets WHERE ticket_id = 'T-eu'")
