"""Restarts of the broker and of the daemon (SIGTERM, kill -9): nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import pytest

from testkit.fake_twilio import Fault
from testkit.mosquitto import Mosquitto
from tests.e2e.conftest import MakeRig, PagerRig, event, still, until

pytestmark = pytest.mark.e2e


async def healthz_becomes(rig: PagerRig, status: int, *, timeout: float = 15.0) -> str:  # noqa: ASYNC109
    """Poll /healthz until it answers ``status``; return the body."""
    deadline = time.monotonic() + timeout
    while True:
        got, body = await rig.get("/healthz")
        if got == status:
            return body
        assert time.monotonic() < deadline, f"/healthz stayed {got} {body!r}, wanted {status}"
        await asyncio.sleep(0.05)


def ana_sms_states(rig: PagerRig) -> list[str]:
    """The states of ana's SMS rows in the outbox."""
    sql = "SELECT state FROM outbox WHERE person = 'ana' AND channel = 'sms'"
    return [state for (state,) in rig.query(sql)]


async def test_broker_restart_timers_keep_firing_and_events_flow_after(
    make_rig: MakeRig, mosquitto_factory: Callable[..., Mosquitto]
) -> None:
    broker = mosquitto_factory(persistence=True)
    rig = await make_rig(broker=broker, ack_within="3s", voice_after=None)
    assert (await rig.get("/healthz"))[0] == 200
    await rig.publish(event("T-8"))
    [first] = await rig.wait_sms("ana")

    await broker.astop()
    reason = await healthz_becomes(rig, 503)
    assert "broker" in reason
    # Rung 2 falls due while the broker is away: the deadline loop does not need it.
    [to_bob] = await rig.wait_sms("bob", timeout=8)
    assert not broker.running
    assert 2.5 < to_bob.at - first.at < 5.0
    assert to_bob.body is not None and "T-8" in to_bob.body

    await broker.astart()
    await healthz_becomes(rig, 200)
    await rig.publish(event("T-8b"))
    [after] = await rig.wait_sms("ana", ticket="T-8b", timeout=10)
    assert after.body is not None and "T-8b" in after.body
    assert rig.daemon.running


async def test_kill9_between_page_and_escalation_escalates_after_restart(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(ack_within="3s", voice_after=None)
    mark = rig.daemon.mark()
    await rig.publish(event("T-11"))
    await rig.wait_sms("ana")
    await rig.wait_mails("ana")
    await rig.daemon.await_line("sent sms to ana", since=mark)
    await rig.daemon.await_line("sent email to ana", since=mark)
    assert not rig.sms_to("bob")

    await rig.daemon.akill9()
    assert rig.daemon.returncode == -signal.SIGKILL
    restarted = time.monotonic()
    await rig.daemon.astart()

    [to_bob] = await rig.wait_sms("bob", timeout=8)
    assert to_bob.at > restarted
    assert to_bob.body is not None and "T-11" in to_bob.body
    await still(
        lambda: len(rig.sms_to("ana", accepted=None)) == 1 and len(rig.mails_to("ana")) == 1,
        duration=1.0,
        what="ana's page not sent again",
    )
    assert rig.ticket_state("T-11")["rung"] >= 2


async def test_events_published_while_the_daemon_is_down_are_paged_after_restart(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(ack_within="1m", voice_after=None)
    assert await rig.daemon.astop() == 0
    await rig.publish(event("T-12a"))
    await rig.publish(event("T-12b", customer="Globex"))
    await rig.publish(event("T-12a", "acknowledged", by="ana"))
    assert not rig.twilio.requests

    await rig.daemon.astart()
    await rig.wait_sms("ana", ticket="T-12b")
    await until(lambda: rig.ticket_state("T-12a")["owner"] == "ana", what="T-12a acknowledged")
    assert rig.ticket_state("T-12b")["owner"] is None
    assert rig.query("SELECT count(*) FROM events") == [(3,)]
    # The backlog may be applied in one transaction: T-12a's page is then acknowledged
    # before it could be sent and is cancelled rather than waking ana. Either way it is
    # decided (sent or cancelled) and never sent twice.
    # (The SMS may have reached Twilio a moment before the daemon records it: wait for that.)
    sql = "SELECT state FROM outbox WHERE ticket_id = 'T-12a' AND channel = 'sms' AND kind = 'page'"
    await until(
        lambda: [s for (s,) in rig.query(sql)] in (["sent"], ["cancelled"]),
        what="T-12a's page decided",
    )
    states = rig.query(sql)
    assert len(states) == 1 and states[0][0] in ("sent", "cancelled")
    sent = len([r for r in rig.sms_to("ana") if "T-12a" in (r.body or "")])
    assert sent == (1 if states[0][0] == "sent" else 0)


async def test_sigterm_waits_for_the_inflight_send_and_records_it(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_within="1m", voice_after=None)
    rig.twilio.stall_next(1.0, kind="sms")
    mark = rig.daemon.mark()
    await rig.publish(event("T-14"))
    [stalled] = await rig.twilio.wait_for(1, kind="sms")
    rig.daemon.signal(signal.SIGTERM)
    assert await rig.daemon.astop(timeout=15) == 0
    stopped = time.monotonic()
    assert stopped - stalled.at >= 0.9, "exited before the provider answered"
    lines = rig.daemon.lines_since(mark)
    draining = next(i for i, line in enumerate(lines) if "stopping: draining" in line)
    sent = next(i for i, line in enumerate(lines) if "sent sms to ana" in line)
    assert draining < sent, "the send was not in flight when SIGTERM arrived"
    assert rig.query("SELECT state FROM outbox WHERE person = 'ana' AND channel = 'sms'") == [
        ("sent",)
    ]

    await rig.daemon.astart()
    await still(lambda: len(rig.sms_to("ana", accepted=None)) == 1, duration=1.5, what="no resend")
    assert rig.daemon.running


async def test_kill9_after_twilio_accepted_an_sms_does_not_send_it_again(
    make_rig: MakeRig,
) -> None:
    """The duplicate window of SPEC section 9, closed for SMS: Twilio has accepted the
    message (the fake holds its answer), the process dies before recording it, and the
    restarted daemon finds it at Twilio instead of paging ana a second time."""
    rig = await make_rig(ack_within="1m", voice_after=None)
    rig.twilio.stall_next(30.0, kind="sms")
    await rig.publish(event("T-15"))
    [accepted] = await rig.twilio.wait_for(1, kind="sms")
    await until(
        lambda: ana_sms_states(rig) == ["sending"],
        what="the SMS row claimed",
    )
    await rig.daemon.akill9()
    mark = rig.daemon.mark()

    await rig.daemon.astart()
    await rig.daemon.await_line("had reached the provider", since=mark)
    assert rig.query(
        "SELECT state, provider_id FROM outbox WHERE person = 'ana' AND channel = 'sms'"
    ) == [("sent", accepted.sid)]
    await still(lambda: len(rig.sms_to("ana", accepted=None)) == 1, duration=1.5, what="no resend")
    assert rig.twilio.lookups and rig.twilio.lookups[0]["To"] == accepted.to
    assert await rig.metric("pager_notifications_total", channel="sms", outcome="recovered") == 1


async def test_kill9_before_twilio_accepted_the_sms_sends_it_after_restart(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(ack_within="1m", voice_after=None)
    # Twilio holds the request and will refuse it: the daemon dies with the SMS claimed
    # and nothing accepted, so the restarted daemon must send it.
    rig.twilio.push_fault(Fault(status=503, delay=30.0, kind="sms"))
    await rig.publish(event("T-16"))
    await rig.twilio.wait_for(1, kind="sms", accepted=False)
    await until(
        lambda: ana_sms_states(rig) == ["sending"],
        what="the SMS row claimed",
    )
    await rig.daemon.akill9()

    await rig.daemon.astart()
    [sent] = await rig.wait_sms("ana", ticket="T-16", timeout=15)
    assert sent.body is not None and "T-16" in sent.body
    await until(
        lambda: ana_sms_states(rig) == ["sent"],
        what="the SMS recorded sent",
    )
    assert len(rig.sms_to("ana")) == 1
