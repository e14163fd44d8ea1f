"""Lanes: an SMS page never waits behind email, even when the SMTP relay hangs.

Real store, real Relay, pager's TwilioSender talking to the fake Twilio server and
SmtpMailer talking to the aiosmtpd harness, which is stalled (it accepts connections and
commands but holds every DATA) with a backlog of emails queued before the page.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pager.adapters.smtp import SmtpMailer
from pager.adapters.twilio import TwilioSender
from pager.daemon.clock import SystemClock
from pager.daemon.metrics import Metrics
from pager.daemon.outbox import lanes
from pager.daemon.outbox.lanes import MAIL
from pager.daemon.outbox.relay import Relay, Senders
from pager.daemon.service import Service
from pager.store.sqlite.store import SqliteStore
from testkit.fake_twilio import FakeTwilio, Fault
from testkit.smtp_server import SmtpServer
from tests.shell.test_relay_timers import P, opened, settings

#: The policy of this module's ``service`` fixture (tests/shell/conftest.py).
POLICY = P
CLOCK = SystemClock()
#: How late the page may reach Twilio: generous for a shared CI machine, far below the
#: SMTP timeout (5 s) that an SMS stuck behind the emails would wait out.
BOUND = 1.0


async def test_an_sms_page_goes_out_while_smtp_hangs_with_an_email_backlog(
    service: Service,
    twilio_sender: TwilioSender,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
) -> None:
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, from_address="p@example.com", timeout=5.0
    )
    relay = Relay(
        service, Senders(twilio_sender, twilio_sender, mailer), settings(), Metrics(), clock=CLOCK
    )
    smtp_server.stall()
    now = datetime.now(UTC)
    # A wave of tickets: each pages the engineer by SMS and by email (and informs by email).
    for i in range(60):
        await service.ingest(opened(f"W-{i}", now), now, "")
    backlog = await service.db(
        lambda _e: service.store.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'email'"
        ).fetchone()[0]
    )
    assert backlog > 2 * MAIL.concurrency  # more emails than the lane can hold in flight
    task = asyncio.create_task(relay.run())
    try:
        await fake_twilio.wait_for(1, kind="sms", timeout=5)  # the wave's (bundled) SMS
        # Wait until the email lane is full of hung sends.
        deadline = time.monotonic() + 5
        while relay.lanes.of("email").inflight < MAIL.concurrency:
            assert time.monotonic() < deadline, relay.lanes.lanes
            await asyncio.sleep(0.01)
        assert smtp_server.messages == []

        # The page of a new ticket.
        later = datetime.now(UTC)
        started = time.monotonic()
        await service.ingest(opened("URGENT-1", later), later, "")
        relay.wake()
        while not any("URGENT-1" in (r.body or "") for r in fake_twilio.messages):
            assert time.monotonic() - started < BOUND, "the SMS waited behind the emails"
            await asyncio.sleep(0.005)
        elapsed = time.monotonic() - started
        print(f"SMS at Twilio {elapsed * 1000:.1f} ms after the event, SMTP hung")
        assert smtp_server.messages == []  # the relay is still hung: nothing overtook it
        pending = await service.db(
            lambda _e: service.store.db.execute(
                "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND state = 'pending'"
            ).fetchone()[0]
        )
        # The backlog beyond the lane's slots stays pending in the store (not claimed).
        assert pending >= backlog - MAIL.concurrency
    finally:
        smtp_server.resume()
        await relay.drain(grace=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await mailer.close()


async def test_emails_go_out_while_twilio_hangs(
    service: Service,
    twilio_sender: TwilioSender,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
) -> None:
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, from_address="p@example.com", timeout=5.0
    )
    relay = Relay(
        service, Senders(twilio_sender, twilio_sender, mailer), settings(), Metrics(), clock=CLOCK
    )
    # Every Twilio request is held longer than the test waits for the emails (the
    # sender's own timeout is 2 s: the SMS are retried later, not lost).
    fake_twilio.add_number_rule(re.compile(r"\+[0-9]+"), Fault(delay=4.0))
    now = datetime.now(UTC)
    for i in range(30):
        await service.ingest(opened(f"H-{i}", now), now, "")
    emails = await service.db(
        lambda _e: service.store.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'email'"
        ).fetchone()[0]
    )
    task = asyncio.create_task(relay.run())
    try:
        started = time.monotonic()
        # Well inside Twilio's 4 s hold: no email waited for an SMS.
        await smtp_server.wait_for(emails, timeout=BOUND * 2)
        print(f"{emails} emails in {time.monotonic() - started:.2f}s while Twilio hangs")
    finally:
        fake_twilio.clear_faults()
        await relay.drain(grace=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await mailer.close()


class BehindService(Service):
    """A service that reports a backlog of events (a burst) whatever its queue holds."""

    @property
    def queued(self) -> int:
        return 10_000


async def test_behind_emails_wait_at_most_the_hold_and_pages_not_at_all(
    tmp_path: Path,
    twilio_sender: TwilioSender,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lanes, "MAX_HOLD", 1.0)
    service = BehindService(SqliteStore(tmp_path / "pager.db"), P)
    await service.start()
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, from_address="p@example.com", timeout=5.0
    )
    relay = Relay(
        service, Senders(twilio_sender, twilio_sender, mailer), settings(), Metrics(), clock=CLOCK
    )
    task = asyncio.create_task(relay.run())
    try:
        now = datetime.now(UTC)
        started = time.monotonic()
        await service.ingest(opened("B-1", now), now, "")
        relay.wake()
        await fake_twilio.wait_for(1, kind="sms", timeout=5)
        sms_after = time.monotonic() - started
        mails = await smtp_server.wait_for(1, timeout=5)
        mail_after = time.monotonic() - started
        print(f"behind: SMS after {sms_after:.3f}s, email after {mail_after:.3f}s")
        assert sms_after < 0.5  # the page does not wait
        assert 1.0 <= mail_after < 2.0  # the email waits out the hold, and no longer
        assert "B-1" in mails[0].subject
    finally:
        await relay.drain(grace=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await mailer.close()
        await service.close()


async def test_a_lane_slot_is_free_once_the_provider_answered(
    service: Service,
    twilio_sender: TwilioSender,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
) -> None:
    """Writing a send's outcome waits for the store thread; the slot does not wait with it
    (a slot held through a slow group commit kept due pages unclaimed in the store)."""
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, from_address="p@example.com", timeout=5.0
    )
    relay = Relay(
        service, Senders(twilio_sender, twilio_sender, mailer), settings(), Metrics(), clock=CLOCK
    )
    now = datetime.now(UTC)
    await service.ingest(opened("S-1", now), now, "")
    sends, _due, _full = await service.db(relay._claim)
    sms = next(s for s in sends if s.channel == "sms")
    relay.lanes.start(sms.channel)
    # The store thread is busy (a long group commit) from before the provider answers.
    busy = threading.Event()
    release = threading.Event()

    def hold(_engine: object) -> None:
        busy.set()
        release.wait(10)

    holding = asyncio.create_task(service.db(hold))
    await asyncio.to_thread(busy.wait, 5)
    delivering = asyncio.create_task(relay._deliver(sms))
    try:
        await fake_twilio.wait_for(1, kind="sms", timeout=5)
        for _ in range(200):  # the response reaches the relay
            if relay.lanes.inflight == 0:
                break
            await asyncio.sleep(0.01)
        assert relay.lanes.inflight == 0
        assert not delivering.done()  # its outcome is still waiting for the store
    finally:
        release.set()
        await holding
        await asyncio.wait_for(delivering, 5)
        await mailer.close()
    state = await service.db(
        lambda _e: service.store.db.execute(
            "SELECT state FROM outbox WHERE id = ?", (sms.ids[0],)
        ).fetchone()[0]
    )
    assert state == "sent"
