"""Delivery paths through the running daemon: a refused call falls back to SMS and email,
a refused email falls back to SMS, and ``pager ack`` from the command line against a
running daemon stops the escalation.

Real ``pager run``, real Mosquitto, the twilio library against the fake Twilio server,
aiosmtplib against aiosmtpd (tests/e2e/conftest.py).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MakeRig, event, still, until

pytestmark = pytest.mark.e2e


async def test_a_refused_call_falls_back_to_sms_and_email(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="1m", voice_after="1s")
    # The call is refused for good (Twilio 21216: the number cannot be called).
    rig.twilio.fail_next(400, code=21216, message="Call blocked", kind="call")
    await rig.publish(event("T-21"))

    [page] = await rig.wait_sms("ana", ticket="T-21")
    [refused] = await until(
        lambda: rig.calls_to("ana", accepted=None) or None, timeout=10, what="the call"
    )
    assert refused.status == 400
    # The fallback: a second SMS and a second email with the call's message.
    sms = await rig.wait_sms("ana", 2, timeout=10)
    mails = await rig.wait_mails("ana", 2, timeout=10)
    assert sms[0].body == page.body
    assert "T-21" in (sms[1].body or "")
    assert all("T-21" in m.subject for m in mails)
    rows = rig.query("SELECT channel, state, key FROM outbox WHERE person = 'ana' ORDER BY id")
    assert ("voice", "failed") in [(c, s) for c, s, _ in rows]
    fallbacks = sorted((c, s) for c, s, k in rows if "/fb-" in k)
    assert fallbacks == [("email", "sent"), ("sms", "sent")]
    await still(
        lambda: len(rig.calls_to("ana", accepted=None)) == 1,
        duration=1.5,
        what="one call attempt (a refusal is not retried)",
    )
    assert "failed" in await rig.timeline("T-21")


async def test_a_refused_email_falls_back_to_sms(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="1m", voice_after=None)
    rig.smtp.fail_next(1, code=550, stage="RCPT")  # mailbox unavailable: permanent
    await rig.publish(event("T-22"))

    # The page's own SMS, then the fallback: the page as an SMS again (its SMS text).
    sms = await rig.wait_sms("ana", 2, ticket="T-22", timeout=10)
    assert sms[0].body == sms[1].body
    rows = rig.query(
        "SELECT channel, state, error, key FROM outbox WHERE person = 'ana' ORDER BY id"
    )
    [email] = [(s, e) for c, s, e, k in rows if c == "email" and "/fb-" not in k]
    assert email[0] == "failed" and "550" in (email[1] or ""), email
    assert [(c, s) for c, s, _, k in rows if "/fb-" in k] == [("sms", "sent")]
    await still(lambda: rig.mails_to("ana") == [], duration=1.0, what="no email delivered")


async def test_pager_ack_from_the_cli_against_a_running_daemon(make_rig: MakeRig) -> None:
    # ana's voice step comes 4 s after the page: the ack lands before it.
    rig = await make_rig(ack_within="6s", voice_after="4s")
    await rig.publish(event("T-23"))
    await rig.wait_sms("ana", ticket="T-23")
    before = rig.ticket_state("T-23")
    # ana's later steps wait in the ticket's state (the voice call at 4 s), the ack
    # deadline is armed.
    assert [(s.person, s.via) for s in before["steps"]] == [("ana", "voice")], before["steps"]
    assert before["ack_deadline"] is not None

    done = await rig.daemon.acli("ack", "T-23", "--by", "ana")
    assert done.returncode == 0, done.stderr
    assert "acknowledged by ana" in done.stdout

    # Visible to the daemon: its timeline and its state say so, the pending voice step
    # and the ack deadline are gone ...
    after = rig.ticket_state("T-23")
    assert after["owner"] == "ana"
    assert after["steps"] == () and after["ack_deadline"] is None
    timeline = await rig.timeline("T-23")
    assert "acknowledged" in timeline and "ana" in timeline
    # ... and nothing more goes out: no call at 4 s, no escalation to bob after the 6 s
    # ack deadline.
    await still(
        lambda: not rig.calls_to("ana", accepted=None) and not rig.sms_to("bob", accepted=None),
        duration=7.0,
        what="no call to ana and no page to bob after the ack",
    )
    assert rig.query(
        "SELECT COUNT(*) FROM outbox WHERE ticket_id = 'T-23' AND state IN ('pending', 'sending')"
    ) == [(0,)]
    assert rig.daemon.running
