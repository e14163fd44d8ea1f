"""Provider failures: retried until accepted exactly once; a permanent refusal falls back."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONES, MakeRig, event, still

pytestmark = pytest.mark.e2e


async def test_500_then_429_then_success_delivers_the_sms_once(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="1m", voice_after=None)
    rig.twilio.fail_next(500, kind="sms")
    rig.twilio.fail_next(429, retry_after="1", kind="sms")
    await rig.publish(event("T-9"))

    [delivered] = await rig.wait_sms("ana", timeout=15)
    attempts = rig.sms_to("ana", accepted=None)
    assert [r.status for r in attempts] == [500, 429, 201]
    # The 429's Retry-After (1 s) is a floor for the next attempt.
    assert attempts[2].at - attempts[1].at >= 0.95
    assert attempts[0].body == attempts[1].body == delivered.body
    assert delivered.body is not None and "T-9" in delivered.body

    await still(lambda: len(rig.sms_to("ana", accepted=None)) == 3, duration=1.0, what="no resend")
    assert rig.query("SELECT state FROM outbox WHERE person = 'ana' AND channel = 'sms'") == [
        ("sent",)
    ]
    # No fallback: the email is the page's own, not a second one.
    assert len(rig.mails_to("ana")) == 1


async def test_permanent_refusal_falls_back_to_email_without_retrying(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="1m", voice_after=None)
    rig.twilio.refuse(PHONES["ana"], code=21610)
    await rig.publish(event("T-10"))

    mails = await rig.wait_mails("ana", 2, timeout=10)
    [refused] = rig.sms_to("ana", accepted=None)
    assert refused.status == 400
    subjects = [m.subject for m in mails]
    assert all("T-10" in s for s in subjects), subjects
    texts = "\n".join(m.text for m in mails)
    assert "Reply" in texts or "T-10" in texts

    await still(
        lambda: len(rig.sms_to("ana", accepted=None)) == 1 and len(rig.mails_to("ana")) == 2,
        duration=2.5,
        what="one SMS attempt and two mails",
    )
    [(state, error)] = rig.query(
        "SELECT state, error FROM outbox WHERE person = 'ana' AND channel = 'sms'"
    )
    assert state == "failed"
    assert "21610" in (error or "") or "unsubscribed" in (error or "").lower(), error
    timeline = await rig.timeline("T-10")
    assert "failed" in timeline
