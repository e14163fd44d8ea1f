"""Acknowledging a page: SMS reply, keypress on the call; forged webhooks change nothing."""

from __future__ import annotations

import re

import pytest
from twilio.request_validator import RequestValidator

from tests.e2e.conftest import PHONES, MakeRig, event, still

pytestmark = pytest.mark.e2e


def reply_code(body: str | None) -> str:
    found = re.search(r"Reply (\w+) to ack", body or "")
    assert found, f"no reply code in {body!r}"
    return found.group(1)


async def test_sms_reply_acknowledges_and_stops_escalation(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="2s", voice_after="2s")
    await rig.publish(event("T-3"))
    [sms] = await rig.wait_sms("ana")
    code = reply_code(sms.body)

    status, answer = await rig.twilio.send_inbound_sms(
        f"{rig.base_url}/twilio/sms", from_=PHONES["ana"], body=code
    )
    assert status == 200
    assert "<Message>" in answer and "Acked T-3" in answer, answer
    assert rig.ticket_state("T-3")["owner"] == "ana"

    # Past rung 1's ack_within and ana's voice step (both 2 s): nothing more goes out.
    await still(
        lambda: not rig.sms_to("bob") and not rig.calls_to("ana"),
        duration=3.0,
        what="no page to bob and no call to ana",
    )
    assert len(rig.sms_to("ana")) == 1
    timeline = await rig.timeline("T-3")
    assert "owner ana" in timeline and "rung 1" in timeline


async def test_sms_reply_code_e_escalates_at_once(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="30s", voice_after=None)
    await rig.publish(event("T-3e"))
    [sms] = await rig.wait_sms("ana")
    status, answer = await rig.twilio.send_inbound_sms(
        f"{rig.base_url}/twilio/sms", from_=PHONES["ana"], body=f"{reply_code(sms.body)}E"
    )
    assert status == 200 and "<Message>" in answer, answer
    assert "T-3e" in answer, answer
    assert rig.ticket_state("T-3e")["rung"] == 2
    [to_bob] = await rig.wait_sms("bob", timeout=5)
    assert to_bob.at - sms.at < 3.0
    assert to_bob.body is not None and "T-3e" in to_bob.body


async def test_keypress_4_on_the_call_acknowledges(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="3s", voice_after="1s")
    rig.twilio.answer_calls(["4"], to=PHONES["ana"])
    await rig.publish(event("T-4"))
    await rig.wait_calls("ana", timeout=5)
    [flow] = await rig.twilio.wait_for_flows(1, timeout=5)
    assert flow.error is None, flow.error
    assert flow.digits_sent == ["4"]
    assert any("Acknowledged" in said for said in flow.said), flow.said
    assert rig.ticket_state("T-4")["owner"] == "ana"

    await still(lambda: not rig.sms_to("bob"), duration=3.5, what="no page to bob")
    assert "owner ana" in await rig.timeline("T-4")


async def test_keypress_5_on_the_call_escalates_at_once(make_rig: MakeRig) -> None:
    # ack_within is long: bob can only be paged this soon because of the keypress.
    rig = await make_rig(ack_within="30s", voice_after="1s")
    rig.twilio.answer_calls(["5"], to=PHONES["ana"])
    await rig.publish(event("T-5"))
    [first] = await rig.wait_sms("ana")
    [flow] = await rig.twilio.wait_for_flows(1, timeout=5)
    assert flow.error is None, flow.error
    assert any("Escalated" in said for said in flow.said), flow.said
    [to_bob] = await rig.wait_sms("bob", timeout=5)
    assert to_bob.at - first.at < 3.0
    assert to_bob.body is not None and "T-5" in to_bob.body
    state = rig.ticket_state("T-5")
    assert state["rung"] == 2
    assert state["owner"] is None


async def test_forged_or_unsigned_or_unknown_sms_changes_nothing(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="30s", voice_after=None)
    await rig.publish(event("T-6"))
    [sms] = await rig.wait_sms("ana")
    code = reply_code(sms.body)
    url = f"{rig.base_url}/twilio/sms"
    form = {
        "MessageSid": "SM" + "f" * 32,
        "AccountSid": rig.twilio.account_sid,
        "From": PHONES["ana"],
        "To": "+15550000001",
        "Body": code,
    }

    forged = RequestValidator("not-the-auth-token").compute_signature(url, form)
    status, _ = await rig.post_form("/twilio/sms", form, headers={"X-Twilio-Signature": forged})
    assert status == 403
    status, _ = await rig.post_form("/twilio/sms", form)
    assert status == 403
    # A valid signature over other content (a replayed header) is forged too.
    other = rig.twilio.sign(url, dict(form, Body="ack all"))
    status, _ = await rig.post_form("/twilio/sms", form, headers={"X-Twilio-Signature": other})
    assert status == 403

    status, answer = await rig.twilio.send_inbound_sms(url, from_="+15559999999", body=code)
    assert status == 200
    assert "<Message" not in answer and "Response" in answer, answer

    state = rig.ticket_state("T-6")
    assert state["owner"] is None and state["rung"] == 1
    assert await rig.metric("pager_webhooks_total", route="sms", outcome="forbidden") == 3
    assert await rig.metric("pager_webhooks_total", route="sms", outcome="unknown_sender") == 1
    assert "owner nobody" in await rig.timeline("T-6")

    # The code is still ana's open page: the genuine reply is applied.
    status, answer = await rig.twilio.send_inbound_sms(url, from_=PHONES["ana"], body=code)
    assert status == 200 and "Acked T-6" in answer, answer
    assert rig.ticket_state("T-6")["owner"] == "ana"
