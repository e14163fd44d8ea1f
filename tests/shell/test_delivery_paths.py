"""Retries exhausted then fallback, and the retry jitter, through the real relay.

Real store, real Relay, pager's TwilioSender against the fake Twilio server and
SmtpMailer against aiosmtpd. Only the backoff base is shortened (2 s -> 50 ms) so that
six attempts fit in a test; the jitter comes from the real random source.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
from datetime import UTC, datetime

import pytest

from pager.adapters.smtp import SmtpMailer
from pager.adapters.twilio import TwilioSender
from pager.daemon.clock import SystemClock
from pager.daemon.metrics import Metrics
from pager.daemon.outbox import relay as relay_module
from pager.daemon.outbox.relay import BACKOFF_CAP, MAX_ATTEMPTS, Relay, Senders, backoff
from pager.daemon.service import Service
from testkit.fake_twilio import FakeTwilio
from testkit.smtp_server import SmtpServer
from tests.shell.test_relay_timers import P, opened, settings

#: The policy of this module's ``service`` fixture (tests/shell/conftest.py).
POLICY = P
CLOCK = SystemClock()
BASE = 0.05


async def test_sms_retries_exhausted_then_the_page_falls_back_to_email(
    service: Service,
    twilio_sender: TwilioSender,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay_module, "BACKOFF_BASE", BASE)
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, from_address="p@example.com", timeout=5.0
    )
    relay = Relay(
        service, Senders(twilio_sender, twilio_sender, mailer), settings(), Metrics(), clock=CLOCK
    )
    fake_twilio.fail_next(503, times=MAX_ATTEMPTS, kind="sms")  # more than the relay tries
    now = datetime.now(UTC)
    await service.ingest(opened("R-1", now), now, "")
    [(page_email_count,)] = await service.db(
        lambda _e: service.store.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'email'"
        ).fetchall()
    )
    task = asyncio.create_task(relay.run())
    try:
        # The page's own emails, then the SMS's fallback email.
        mails = await smtp_server.wait_for(page_email_count + 1, timeout=15)
    finally:
        await relay.drain(grace=5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await mailer.close()

    attempts = [r for r in fake_twilio.requests if r.kind == "sms"]
    assert [r.status for r in attempts] == [503] * MAX_ATTEMPTS
    assert len({r.body for r in attempts}) == 1
    # Each wait between attempts lies within backoff()'s bounds for that attempt.
    for n, (a, b) in enumerate(itertools.pairwise(attempts), start=1):
        ceiling = min(BACKOFF_CAP, BASE * 2 ** (n - 1))
        assert ceiling / 2 - 0.01 <= b.at - a.at <= ceiling + 0.5, (n, b.at - a.at)
    rows = await service.db(
        lambda _e: service.store.db.execute(
            "SELECT channel, state, attempts, error, key FROM outbox ORDER BY id"
        ).fetchall()
    )
    [sms] = [r for r in rows if r[0] == "sms"]
    assert sms[1:3] == ("failed", MAX_ATTEMPTS)
    assert f"gave up after {MAX_ATTEMPTS} attempts" in sms[3]
    fallback = [r for r in rows if "/fb-" in r[4]]
    assert [(r[0], r[1]) for r in fallback] == [("email", "sent")]
    assert "R-1" in mails[-1].subject


def test_backoff_jitter_from_the_real_random_source_stays_within_bounds() -> None:
    """Full jitter over the upper half: [ceiling/2, ceiling], ceiling = base * 2^(n-1)
    capped; spread over the range (not a constant), and Retry-After is a floor."""
    for attempt in range(1, 12):
        ceiling = min(BACKOFF_CAP, relay_module.BACKOFF_BASE * 2 ** (attempt - 1))
        delays = [backoff(attempt, None) for _ in range(2000)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempt
        # 2,000 uniform draws: the extremes come within 2 % of the bounds, the mean
        # within 3 % of the middle (failing either by chance is below 1e-15).
        span = ceiling / 2
        assert min(delays) < ceiling / 2 + 0.02 * span
        assert max(delays) > ceiling - 0.02 * span
        assert abs(statistics.fmean(delays) - 0.75 * ceiling) < 0.03 * span
    assert backoff(1, 30.0) == 30.0
    assert backoff(1, 0.1) >= relay_module.BACKOFF_BASE / 2


def test_two_relays_do_not_retry_in_lockstep() -> None:
    """The default source is the process's random generator, not a fixed seed: two
    sequences of delays differ (two daemons retrying against one provider spread out)."""
    first = [backoff(3, None) for _ in range(20)]
    random.seed(time.time_ns())
    second = [backoff(3, None) for _ in range(20)]
    assert first != second
