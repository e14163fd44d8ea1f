"""Start-up recovery of sends a dead process left ``sending`` (SPEC section 9's window).

The store is real and so is the SMS path: the twilio library talks to the fake Twilio
server, as in the e2e suite. The "crash" is a claim whose outcome was never recorded:
the relay marked the rows ``sending`` and then nothing more happened to them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pager.adapters.twilio import TwilioSender
from pager.daemon.clock import SystemClock
from pager.daemon.metrics import Metrics
from pager.daemon.outbox.relay import Relay, Send, Senders
from pager.daemon.service import Service
from testkit.fake_twilio import FakeTwilio, Fault
from tests.shell.test_relay_timers import P, Recorder, opened, run_relay, settings

NOW = datetime.now(UTC).replace(microsecond=0)
#: The policy of this module's ``service`` fixture (tests/shell/conftest.py).
POLICY = P


def relay_with(service: Service, twilio_sender: TwilioSender, rec: Recorder) -> Relay:
    return Relay(
        service, Senders(twilio_sender, rec, rec), settings(), Metrics(), clock=SystemClock()
    )


async def claim_everything(service: Service, relay: Relay) -> list[Send]:
    """The first claim of a process that is about to die: rows marked ``sending``."""
    sends, _, _ = await service.db(relay._claim, urgent=True)
    return sends


async def crash_after_claiming_t1(
    service: Service, twilio_sender: TwilioSender
) -> tuple[list[Send], Send]:
    """Ticket T-1 opened and its page claimed by a process that then dies: every send
    of that claim, and its one SMS."""
    await service.ingest(opened("T-1", NOW), NOW, "")
    sends = await claim_everything(service, relay_with(service, twilio_sender, Recorder()))
    [sms] = [s for s in sends if s.channel == "sms"]
    return sends, sms


async def rows_by_state(service: Service) -> dict[str, list[tuple[str, str | None]]]:
    rows = await service.db(
        lambda _e: service.store.db.execute(
            "SELECT channel, state, provider_id FROM outbox"
        ).fetchall()
    )
    out: dict[str, list[tuple[str, str | None]]] = {}
    for channel, state, provider_id in rows:
        out.setdefault(state, []).append((channel, provider_id))
    return out


async def test_an_sms_twilio_accepted_before_the_crash_is_recorded_not_resent(
    service: Service, twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    await service.ingest(opened("T-1", NOW), NOW, "")
    await service.ingest(opened("T-2", NOW), NOW, "")
    dying = relay_with(service, twilio_sender, Recorder())
    sends = await claim_everything(service, dying)
    sms = [s for s in sends if s.channel == "sms"]
    assert len(sms) == 1  # both pages went to the same engineer: one bundled SMS
    # The provider accepted it; the process died before recording that.
    accepted = await twilio_sender.send_sms(sms[0].address, sms[0].body)

    rec = Recorder()
    restarted = relay_with(service, twilio_sender, rec)
    found, requeued = await restarted.recover()

    assert found == len(sms[0].ids) == 2
    states = await rows_by_state(service)
    assert states["sent"] == [("sms", accepted)] * 2
    assert requeued == len(states["pending"]) == len(sends) - 1  # the four emails
    assert all(channel == "email" for channel, _ in states["pending"])
    await run_relay(restarted)
    assert len(fake_twilio.messages) == 1  # the SMS went out once
    assert len(rec.of("email")) == requeued  # the emails, unconfirmable, went again


async def test_an_sms_twilio_never_got_is_sent_after_the_restart(
    service: Service, twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    sends, sms = await crash_after_claiming_t1(service, twilio_sender)

    restarted = relay_with(service, twilio_sender, Recorder())
    found, requeued = await restarted.recover()

    assert (found, requeued) == (0, len(sends))
    assert fake_twilio.lookups, "the provider was asked"
    await run_relay(restarted)
    assert [m.body for m in fake_twilio.messages] == [sms.body]


async def test_when_twilio_cannot_answer_everything_is_queued_again(
    service: Service, twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    sends, sms = await crash_after_claiming_t1(service, twilio_sender)
    await twilio_sender.send_sms(sms.address, sms.body)
    fake_twilio.add_number_rule(sms.address, Fault(status=503, code=20500))

    found, requeued = await relay_with(service, twilio_sender, Recorder()).recover()

    # Not knowing is not a reason to drop a page: it may go out twice, never zero times.
    assert (found, requeued) == (0, len(sends))


async def test_a_stalled_lookup_gives_up_within_the_budget(
    service: Service, twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    sends, sms = await crash_after_claiming_t1(service, twilio_sender)
    await twilio_sender.send_sms(sms.address, sms.body)  # a prompt answer would find it
    fake_twilio.add_number_rule(sms.address, Fault(delay=5.0))

    started = time.monotonic()
    found, requeued = await relay_with(service, twilio_sender, Recorder()).recover(budget=0.3)

    assert time.monotonic() - started < 2.0
    assert (found, requeued) == (0, len(sends))


async def test_nothing_interrupted_asks_nobody(
    service: Service, twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    await service.ingest(opened("T-1", NOW), NOW, "")
    assert await relay_with(service, twilio_sender, Recorder()).recover() == (0, 0)
    assert fake_twilio.lookups == []
