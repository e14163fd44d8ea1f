"""Provider outages: Twilio answers 500s, then 429s with Retry-After, then stalls; SMTP
answers 451s, then is gone altogether. Pages keep being decided meanwhile; once the
providers are back every notification is delivered (or, after the retries, fell back to
the person's other channel), and nothing is delivered twice.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import re
import time
from dataclasses import dataclass

import pytest

from testkit.chaos_net import TcpRelay
from testkit.chaos_reconcile import (
    Reconciliation,
    Row,
    attempts_by_row,
    load_rows,
    oversized_sms,
    received_items,
    reconcile,
)
from testkit.chaos_rig import EventPublisher, Rig, StampedSmtpServer, ticket_event, until
from testkit.fake_twilio import Fault
from tests.chaos.conftest import MakeRig

EVERY_NUMBER = re.compile(r"\+[0-9]+")
#: The Twilio client gives up on a request after 10 s (pager.adapters.twilio).
CLIENT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Phase:
    seconds: float
    fault: Fault | None  # None: the provider is healthy


async def open_tickets(
    publisher: EventPublisher, prefix: str, *, seconds: float, rate: float
) -> list[str]:
    started, n, ids = time.monotonic(), 0, []
    while time.monotonic() - started < seconds:
        event = ticket_event(f"{prefix}-{n:04d}")
        publisher.put(event)
        ids.append(event["event_id"])
        n += 1
        await asyncio.sleep(1.0 / rate)
    return ids


async def settle(rig: Rig, publisher: EventPublisher, ids: list[str], timeout: float) -> None:  # noqa: ASYNC109
    await publisher.drain()
    await until(lambda: set(ids) <= rig.committed_event_ids(), timeout=30, what="events committed")
    try:
        await until(
            lambda: rig.settled(ladders_done=False),
            timeout=timeout,
            what="the outbox drained after the outage",
        )
    except AssertionError as exc:
        now = time.time()
        busy = rig.query(
            "SELECT id, key, channel, person, state, attempts, not_before, error FROM outbox"
            " WHERE state IN ('pending', 'sending')"
        )
        lines = [
            f"  #{i} {k} {c}->{p} {s} attempts={a} due in {nb - now:.1f}s: {e}"
            for i, k, c, p, s, a, nb, e in busy
        ]
        raise AssertionError(f"{exc}; unfinished rows:\n" + "\n".join(lines)) from None


def reconciled(rig: Rig) -> Reconciliation:
    rows = load_rows(rig.db_path)
    items = received_items(rig.twilio.requests, rig.mails())
    result = reconcile(rows, items)
    print(result.summary())
    assert not result.lost, result.summary()
    assert not result.duplicates, result.summary()
    assert not result.delivered_though_unsent, result.summary()
    assert not result.unexplained, result.summary()
    too_long = oversized_sms(rig.twilio.requests)
    assert not too_long, f"SMS bodies Twilio would refuse (over 1600 characters): {too_long}"
    return result


# --- Twilio -------------------------------------------------------------------------------


async def run_twilio_outage(
    make_rig: MakeRig, phases: list[Phase], *, settle_timeout: float, no_give_up: bool
) -> None:
    rig: Rig = await make_rig(ack_within="1h", voice_after="1s")
    twilio = rig.twilio
    publisher = EventPublisher(rig.broker)
    publisher.start()
    try:
        outage = sum(p.seconds for p in phases)
        opening = asyncio.create_task(open_tickets(publisher, "P", seconds=outage + 1.5, rate=2.0))
        await asyncio.sleep(0.5)
        for phase in phases:
            twilio.clear_faults()
            if phase.fault is not None:
                twilio.add_number_rule(EVERY_NUMBER, phase.fault)
            await asyncio.sleep(phase.seconds)
        twilio.clear_faults()
        ids = await opening
        await settle(rig, publisher, ids, settle_timeout)
        retries = await rig.metric("pager_notifications_total", channel="sms", outcome="retry")
    finally:
        await publisher.close()
    assert await rig.stop() == 0

    statuses = collections.Counter(r.status for r in twilio.requests)
    for phase in phases:
        if phase.fault is not None:
            assert statuses[phase.fault.status or 201] > 0, (
                f"no request met {phase.fault}: {statuses}"
            )
    assert retries > 0
    result = reconciled(rig)
    assert any(r.attempts > 1 and r.state == "sent" for r in result.rows), "nothing was retried"
    assert_backoff_respected(rig, result.rows)
    if no_give_up:
        # Six attempts with backoff take over 30 s; this outage is shorter than that.
        failed = [str(r) for r in result.rows if r.state == "failed"]
        assert not failed, "gave up within a short outage:\n" + "\n".join(failed)
    assert not rig.tracebacks(), rig.tracebacks()[0]


def assert_backoff_respected(rig: Rig, rows: list[Row]) -> None:
    """Each SMS or call waited its backoff between attempts: at least the smallest backoff
    (1 s) after any failure, and at least Retry-After after a 429."""
    problems = []
    checked_429 = 0
    for row_id, attempts in attempts_by_row(rows, rig.twilio.requests).items():
        for (at, status), (again, _) in itertools.pairwise(attempts):
            if 200 <= status < 300:
                continue
            floor = RETRY_AFTER if status == 429 else MIN_BACKOFF
            checked_429 += status == 429
            if again - at < floor - 0.05:
                problems.append(f"row #{row_id}: tried again {again - at:.2f}s after HTTP {status}")
    assert checked_429, "no row was retried after a 429"
    assert not problems, "retried too soon:\n" + "\n".join(problems[:20])


RETRY_AFTER = 2.0
#: pager.daemon.outbox.relay.backoff(1) is at least BACKOFF_BASE / 2.
MIN_BACKOFF = 1.0


async def test_twilio_outage_quick(make_rig: MakeRig) -> None:
    phases = [
        Phase(2.5, Fault(status=500)),
        Phase(2.5, Fault(status=429, retry_after=f"{RETRY_AFTER:g}")),
        # Each request hangs past the client's timeout (then gets a 503 nobody reads).
        Phase(2.5, Fault(status=503, delay=CLIENT_TIMEOUT + 1.0)),
    ]
    await run_twilio_outage(make_rig, phases, settle_timeout=60, no_give_up=True)


@pytest.mark.chaos
@pytest.mark.timeout(600)
async def test_twilio_outage_long(make_rig: MakeRig) -> None:
    phases = [
        Phase(20.0, Fault(status=500)),
        Phase(20.0, Fault(status=429, retry_after=f"{RETRY_AFTER:g}")),
        Phase(20.0, Fault(status=503, delay=CLIENT_TIMEOUT + 1.0)),
        Phase(5.0, Fault(status=502, problem_details=True)),
    ]
    await run_twilio_outage(make_rig, phases, settle_timeout=240, no_give_up=False)


async def test_sms_backlog_after_an_outage_fits_twilio_limits(make_rig: MakeRig) -> None:
    """Eighty pages pile up for one person while Twilio is down; when it is back they go
    out (bundled is fine) in bodies Twilio accepts, none lost, none twice."""
    rig: Rig = await make_rig(ack_within="1h", voice_after=None)
    publisher = EventPublisher(rig.broker)
    publisher.start()
    try:
        rig.twilio.add_number_rule(EVERY_NUMBER, Fault(status=503))
        ids = []
        for n in range(80):
            event = ticket_event(f"BL-{n:03d}")
            publisher.put(event)
            ids.append(event["event_id"])
        await publisher.drain()
        await until(lambda: set(ids) <= rig.committed_event_ids(), timeout=30, what="events")
        rig.twilio.clear_faults()
        await settle(rig, publisher, ids, timeout=60)
    finally:
        await publisher.close()
    assert await rig.stop() == 0
    reconciled(rig)


# --- SMTP ---------------------------------------------------------------------------------


async def run_smtp_outage(
    make_rig: MakeRig, stamped_smtp: StampedSmtpServer, *, refusals: int, closed_for: float
) -> None:
    relay = TcpRelay(stamped_smtp.host, stamped_smtp.port)
    await relay.up()
    rig: Rig = await make_rig(ack_within="1h", voice_after=None, smtp_port=relay.port)
    publisher = EventPublisher(rig.broker)
    publisher.start()
    try:
        opening = asyncio.create_task(
            open_tickets(publisher, "M", seconds=3.0 + closed_for + 1.0, rate=2.0)
        )
        stamped_smtp.fail_next(refusals, code=451, stage="DATA")
        await asyncio.sleep(3.0)
        await relay.down(cut=True)  # the server gone: the daemon's open sessions too
        closed_at = time.monotonic()
        await asyncio.sleep(closed_for)
        await relay.up()
        reopened = time.monotonic()
        ids = await opening
        await settle(rig, publisher, ids, timeout=90 + closed_for)
        retries = await rig.metric("pager_notifications_total", channel="email", outcome="retry")
    finally:
        await publisher.close()
        await relay.close()
    assert await rig.stop() == 0

    assert retries > 0
    assert not [at for at in stamped_smtp.arrivals if closed_at + 0.5 < at < reopened], (
        "mail arrived while the server was closed"
    )
    result = reconciled(rig)
    mails = [r for r in result.rows if r.channel == "email"]
    assert any(r.attempts > 1 and r.state == "sent" for r in mails), "no mail was retried"
    assert not rig.tracebacks(), rig.tracebacks()[0]


async def test_smtp_outage_quick(make_rig: MakeRig, stamped_smtp: StampedSmtpServer) -> None:
    await run_smtp_outage(make_rig, stamped_smtp, refusals=8, closed_for=3.0)


@pytest.mark.chaos
@pytest.mark.timeout(600)
async def test_smtp_outage_long(make_rig: MakeRig, stamped_smtp: StampedSmtpServer) -> None:
    await run_smtp_outage(make_rig, stamped_smtp, refusals=60, closed_for=40.0)
