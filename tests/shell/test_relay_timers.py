"""The outbox relay and the deadline loop over a real store, with recording senders.

The providers here are in-process fakes on purpose: these tests pin down the relay's own
rules (limits, bundling, retries, fallback) at controlled instants. The e2e suite sends
through the real twilio and aiosmtplib clients.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pager.core.events import TicketEvent
from pager.core.messages import render
from pager.core.messages.gsm7 import is_gsm7, sms_segments
from pager.core.messages.render import MessageFacts
from pager.core.model import Limits, Rate, Settings, TwilioSettings
from pager.daemon.clock import SystemClock
from pager.daemon.deadlines import DeadlineLoop
from pager.daemon.metrics import Metrics
from pager.daemon.outbox.bundle import MAX_SMS_BODY
from pager.daemon.outbox.delivery import PermanentFailure, TemporaryFailure
from pager.daemon.outbox.relay import BACKOFF_CAP, Relay, Senders, backoff
from pager.daemon.service import Service
from tests.core.factory import build

P = build()
#: The policy of this module's ``service`` fixture (tests/shell/conftest.py).
POLICY = P


@dataclass
class Clock:
    """A clock the test moves (``now`` in epoch seconds)."""

    now: float

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)


@dataclass
class Recorder:
    """Records sends; ``faults`` (per channel) are raised in order before succeeding."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    faults: dict[str, list[Exception]] = field(default_factory=dict)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def _maybe_fail(self, channel: str) -> None:
        queue = self.faults.get(channel)
        if queue:
            raise queue.pop(0)

    async def send_sms(self, to: str, body: str) -> str:
        self._maybe_fail("sms")
        self.sent.append(("sms", to, body))
        self.event.set()
        return f"SM{len(self.sent)}"

    async def find_sms(self, to: str, digest: str, since: datetime) -> str | None:
        return None  # knows nothing: an interrupted send is queued again

    async def call(self, to: str, answer_url: str, status_url: str | None = None) -> str:
        self._maybe_fail("voice")
        self.sent.append(("voice", to, answer_url))
        self.event.set()
        return f"CA{len(self.sent)}"

    async def send_email(self, to: str, subject: str, body: str, message_key: str = "") -> str:
        self._maybe_fail("email")
        self.sent.append(("email", to, subject))
        self.event.set()
        return f"<{len(self.sent)}@example.com>"

    def of(self, channel: str) -> list[tuple[str, str, str]]:
        return [s for s in self.sent if s[0] == channel]


def opened(ticket: str, at: datetime, severity: int = 1) -> TicketEvent:
    return TicketEvent(
        f"e-{ticket}-{at.isoformat()}", ticket, "opened", at, severity=severity, tier="premier"
    )


def settings(per_second: float = 100.0, sms: Rate | None = None) -> Settings:
    return Settings(
        twilio=TwilioSettings(max_sms_per_second=per_second),
        limits=Limits(sms_per_person=sms or Rate(100, timedelta(minutes=15))),
    )


async def run_relay(relay: Relay, until: asyncio.Event | None = None, seconds: float = 0.3) -> None:
    task = asyncio.create_task(relay.run())
    try:
        if until is not None:
            await asyncio.wait_for(until.wait(), 5)
        await asyncio.sleep(seconds)
    finally:
        await relay.drain(grace=1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


async def test_relay_sends_and_marks_sent(service: Service) -> None:
    await service.ingest(opened("T-1", NOW), NOW, "")
    rec = Recorder()
    relay = Relay(
        service, Senders(rec, rec, rec), settings(), Metrics(), clock=Clock(NOW.timestamp())
    )
    await run_relay(relay)
    assert [c for c, *_ in rec.sent].count("sms") == 1
    assert [c for c, *_ in rec.sent].count("email") == 2  # page + inform
    counts = await service.db(lambda e: e.outbox.counts())
    assert counts == {"sent": 3}


async def test_temporary_failures_retry_with_backoff_then_deliver_once(service: Service) -> None:
    await service.ingest(opened("T-1", NOW), NOW, "")
    rec = Recorder(
        faults={"sms": [TemporaryFailure("500"), TemporaryFailure("429", retry_after=1)]}
    )
    clock = Clock(NOW.timestamp())
    relay = Relay(service, Senders(rec, rec, rec), settings(), Metrics(), clock=clock)
    task = asyncio.create_task(relay.run())
    for _ in range(3):  # jump the clock past each backoff
        await asyncio.sleep(0.2)
        clock.now += BACKOFF_CAP
        relay.wake()
    await asyncio.sleep(0.2)
    await relay.drain(grace=1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(rec.of("sms")) == 1
    rows = await service.db(
        lambda e: e.outbox.pending_messages(datetime.fromtimestamp(clock.now + 1, UTC))
    )
    assert rows == []


async def test_permanent_refusal_falls_back_to_email_at_once(service: Service) -> None:
    await service.ingest(opened("T-1", NOW), NOW, "")
    rec = Recorder(faults={"sms": [PermanentFailure("21610 unsubscribed")]})
    relay = Relay(
        service, Senders(rec, rec, rec), settings(), Metrics(), clock=Clock(NOW.timestamp())
    )
    await run_relay(relay)
    assert rec.of("sms") == []
    emails = rec.of("email")
    assert len(emails) == 3  # page, inform, and the fallback of the refused SMS
    counts = await service.db(lambda e: e.outbox.counts())
    assert counts == {"sent": 3, "failed": 1}


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    assert backoff(1, None, rand=lambda: 0.0) == 1.0
    assert backoff(3, None, rand=lambda: 1.0) == 8.0
    assert backoff(30, None, rand=lambda: 1.0) == BACKOFF_CAP
    assert backoff(1, 20.0, rand=lambda: 0.5) == 20.0


async def test_waiting_sms_for_one_person_are_bundled(service: Service) -> None:
    for n in range(4):
        await service.ingest(opened(f"T-{n}", NOW), NOW, "")
    rec = Recorder()
    relay = Relay(
        service, Senders(rec, rec, rec), settings(), Metrics(), clock=Clock(NOW.timestamp())
    )
    await run_relay(relay)
    sms = rec.of("sms")
    assert len(sms) == 1
    body = sms[0][2]
    assert "4 pages" in body and "ACK ALL" in body
    for n in range(4):
        assert f"T-{n}" in body


async def test_person_limit_holds_back_and_bundles_later(service: Service) -> None:
    rec = Recorder()
    clock = Clock(NOW.timestamp())
    relay = Relay(
        service,
        Senders(rec, rec, rec),
        settings(sms=Rate(1, timedelta(minutes=15))),
        Metrics(),
        clock=clock,
    )
    task = asyncio.create_task(relay.run())
    await service.ingest(opened("T-1", NOW), NOW, "")
    relay.wake()
    await asyncio.sleep(0.2)
    assert len(rec.of("sms")) == 1  # the first page of a quiet period is never delayed
    for n in (2, 3):
        await service.ingest(opened(f"T-{n}", NOW), NOW, "")
    relay.wake()
    await asyncio.sleep(0.2)
    assert len(rec.of("sms")) == 1  # held back by the limit
    clock.now += 15 * 60 + 1
    relay.wake()
    await asyncio.sleep(0.3)
    await relay.drain(grace=1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    sms = rec.of("sms")
    assert len(sms) == 2 and "T-2" in sms[1][2] and "T-3" in sms[1][2]


async def test_rate_per_number_spaces_sends(service: Service) -> None:
    rec = Recorder()
    clock = Clock(NOW.timestamp())
    relay = Relay(service, Senders(rec, rec, rec), settings(per_second=1), Metrics(), clock=clock)
    # pages for three different people (rotation members change weekly: use three weeks)
    for n, day in enumerate(("2026-11-02", "2026-11-09", "2026-11-16")):
        at = datetime.fromisoformat(f"{day}T02:00:00+00:00")
        await service.ingest(opened(f"T-{n}", at), at, "")
    await run_relay(relay, seconds=0.3)
    assert len(rec.of("sms")) == 1
    rows = await service.db(
        lambda e: e.outbox.pending_messages(datetime.fromtimestamp(clock.now + 5, UTC))
    )
    assert sorted({r.channel for r in rows}) == ["sms"]


def page_facts(i: int, customer: str | None = None) -> MessageFacts:
    """The facts of a SEV1 page of ticket ``T-i`` with reply code ``i`` (for bundles)."""
    return MessageFacts(
        kind="page",
        ticket_id=f"T-{i}",
        severity=1,
        customer=customer,
        summary=None,
        rung=1,
        rung_name="",
        code=str(i),
        respond_by=None,
        status_due=None,
        breached=False,
        owner=None,
        recipient="Ana",
    )


def test_bundle_body_lists_codes() -> None:
    # The relay's bundles are the core's (render.sms_bundle): a line per page, its
    # reply code first, then how to ack them all.
    lines = render.sms_bundle([page_facts(1), page_facts(2)]).splitlines()
    assert lines[0] == "2 pages:"
    assert lines[1].startswith("1) ") and "SEV1 T-1" in lines[1]
    assert lines[2].startswith("2) ") and "SEV1 T-2" in lines[2]
    assert lines[3].endswith("ACK ALL for all")


async def test_a_bundle_for_a_non_gsm7_customer_is_one_gsm7_segment(service: Service) -> None:
    # The customer "Łódź" is not GSM-7: a bundle built from raw names would be UCS-2
    # (70 characters a segment); the core's renderer transliterates it.
    for n in (1, 2):
        event = opened(f"T-{n}", NOW)
        event = TicketEvent(
            event.event_id,
            event.ticket_id,
            "opened",
            NOW,
            severity=1,
            tier="premier",
            customer="Łódź",
        )
        await service.ingest(event, NOW, "")
    rec = Recorder()
    relay = Relay(
        service, Senders(rec, rec, rec), settings(), Metrics(), clock=Clock(NOW.timestamp())
    )
    await run_relay(relay)
    [(_, _, body)] = rec.of("sms")
    assert body.startswith("2 pages:")
    assert "Lodz" in body and "Łódź" not in body
    assert is_gsm7(body)
    assert sms_segments(body) == 1


async def test_deadline_loop_fires_due_deadlines(service: Service) -> None:
    start = datetime.now(UTC) - timedelta(minutes=20)  # rung 1's 15 minutes are over
    await service.ingest(opened("T-1", start), start, "")
    loop = DeadlineLoop(service, Metrics(), clock=SystemClock())
    task = asyncio.create_task(loop.run())
    for _ in range(50):
        await asyncio.sleep(0.05)
        state = await service.db(lambda e: e.ticket("T-1"))
        if state is not None and state.rung == 2:
            break
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert state is not None and state.rung == 2
    assert loop.fired >= 1


async def test_deadline_loop_is_woken_by_a_new_earlier_deadline(service: Service) -> None:
    clock = Clock(NOW.timestamp())
    loop = DeadlineLoop(service, Metrics(), clock=clock)
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.1)  # sleeping: no deadline at all
    await service.ingest(opened("T-1", NOW), NOW, "")
    clock.now += 16 * 60
    loop.wake()
    for _ in range(40):
        await asyncio.sleep(0.05)
        state = await service.db(lambda e: e.ticket("T-1"))
        if state is not None and state.rung >= 2:
            break
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert state is not None and state.rung >= 2


async def test_a_later_deadline_does_not_wake_the_sleeping_loop(service: Service) -> None:
    clock = Clock(NOW.timestamp())
    loop = DeadlineLoop(service, Metrics(), clock=clock)
    await service.ingest(opened("T-1", NOW), NOW, "")  # its deadline: NOW + 15 min
    reads = 0
    next_due = service.next_due

    async def counted() -> datetime | None:
        nonlocal reads
        reads += 1
        return await next_due()

    service.next_due = counted  # type: ignore[method-assign]
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.2)
    assert reads == 1  # asleep for MAX_SLEEP (30 s; the deadline is 15 min away)
    loop.wake(NOW + timedelta(minutes=5))  # later than that: nothing to do
    await asyncio.sleep(0.2)
    assert reads == 1
    loop.wake(NOW + timedelta(seconds=10))  # earlier: look again
    await asyncio.sleep(0.2)
    assert reads == 2
    loop.wake()  # no hint: always look again
    await asyncio.sleep(0.2)
    assert reads == 3
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def fit_bundle(items: list[MessageFacts]) -> int:
    """How many of ``items`` the relay's bundle takes (what fits one Twilio message)."""
    return render.sms_bundle_fit(items, MAX_SMS_BODY)[0]


def test_fit_bundle_keeps_every_bundle_within_twilio_limit() -> None:
    items = [page_facts(i, "Acme") for i in range(1, 400)]
    first = fit_bundle(items)
    assert 10 < first < len(items)
    assert len(render.sms_bundle(items[:first])) <= MAX_SMS_BODY
    assert len(render.sms_bundle(items[: first + 1])) > MAX_SMS_BODY
    assert fit_bundle(items[:1]) == 1


def test_spacing_allows_a_burst_at_high_rates_and_spaces_at_one_per_second() -> None:
    from pager.daemon.outbox.limits import Spacing

    fast = Spacing(100.0)
    for _ in range(100):
        assert fast.earliest(1000.0) == 1000.0
        fast.take(1000.0)
    assert fast.earliest(1000.0) > 1000.0  # the bucket is empty
    slow = Spacing(1.0)
    assert slow.earliest(50.0) == 50.0
    slow.take(50.0)
    assert slow.earliest(50.0) == 51.0
    assert slow.earliest(51.0) == 51.0


def test_fit_bundle_finds_the_longest_prefix_that_fits_for_every_count() -> None:
    # The search gallops then halves: for any number of waiting items the prefix it
    # finds fits, and one more item would not (or there is none).
    for total in (1, 2, 3, 5, 17, 33, 64, 65, 200, 1000):
        items = [page_facts(i, "Acme Widgets") for i in range(1, total + 1)]
        first = fit_bundle(items)
        assert 1 <= first <= total
        if first > 1:
            assert len(render.sms_bundle(items[:first])) <= MAX_SMS_BODY
        if first < total:
            assert len(render.sms_bundle(items[: first + 1])) > MAX_SMS_BODY


def test_a_bundle_turns_only_the_rows_it_looks_at_into_facts() -> None:
    # A storm may leave thousands of SMS waiting for one person; building a bundle must
    # not read (or decode) all of them, only those that fit in one body and a chunk more.
    from pager.daemon.outbox.bundle import FACTS_CHUNK, sms_bundle_text
    from pager.daemon.wording import stored_bundle_facts
    from pager.store.types import OutboxRow

    rows = [
        OutboxRow(
            id=i,
            key=f"k{i}",
            ticket_id=f"T-{i}",
            person="ana",
            channel="sms",
            address="+15550001",
            kind="page",
            subject="",
            body=f"SEV1 T-{i}",
            bundle_line='{"severity":1,"customer":"Acme"}',
            token="",
            state="pending",
            attempts=0,
            not_before=NOW,
            created_at=NOW,
            code=str(i),
        )
        for i in range(5000)
    ]
    looked_at: list[int] = []

    class CountingEngine:
        def bundle_facts(self, some: list[OutboxRow]) -> list[MessageFacts]:
            looked_at.extend(r.id for r in some)
            return [f for f in map(stored_bundle_facts, some) if f is not None]

    count, body = sms_bundle_text(CountingEngine(), rows)  # type: ignore[arg-type]
    assert 10 < count < 200
    assert body.startswith(f"{count} pages:") and f"T-{count - 1} Acme" in body
    assert len(looked_at) == len(set(looked_at)) <= count + FACTS_CHUNK


async def test_a_bundle_line_is_what_reading_the_ticket_would_say(service: Service) -> None:
    # An SMS row keeps the facts its bundle line shows (bundle_line, JSON), so a claim
    # reads no ticket; rendered, they say what the ticket's own facts say.
    from pager.core.messages import render
    from pager.daemon.wording import message_facts, stored_bundle_facts

    event = TicketEvent(
        "e-bl",
        "T-BL",
        "opened",
        NOW,
        severity=1,
        tier="premier",
        customer="Łódź Ltd",
        summary="gateway down in eu-west: 502 on every checkout",
    )
    await service.ingest(event, NOW, "")
    rows = await service.db(lambda e: e.outbox.pending_messages(NOW + timedelta(hours=1)))
    [row] = [r for r in rows if r.channel == "sms"]
    state = await service.db(lambda e: e.ticket("T-BL"))
    assert state is not None
    stored = stored_bundle_facts(row)
    assert stored is not None
    read = message_facts(service.policy, state, "page", row.person, row.code)
    for room in (40, 12, 0):
        assert render._bundle_line(stored, room) == render._bundle_line(read, room)
    assert render.sms_bundle([stored, stored]) == render.sms_bundle([read, read])


async def test_a_row_without_stored_facts_is_bundled_from_its_ticket(service: Service) -> None:
    # Test pages and shift notices keep a plain line, as did rows written before the
    # facts were stored: the claim reads the ticket for those.
    from dataclasses import replace

    from pager.daemon.wording import message_facts, stored_bundle_facts

    await service.ingest(opened("T-PL", NOW), NOW, "")
    rows = await service.db(lambda e: e.outbox.pending_messages(NOW + timedelta(hours=1)))
    [row] = [r for r in rows if r.channel == "sms"]
    plain = replace(row, bundle_line="SEV1 T-PL (7)")
    assert stored_bundle_facts(plain) is None
    facts = await service.db(lambda e: e.bundle_facts([plain]))
    state = await service.db(lambda e: e.ticket("T-PL"))
    assert state is not None
    assert facts == [message_facts(service.policy, state, "page", row.person, row.code)]


async def test_a_claim_fills_every_free_slot_even_when_the_oldest_rows_are_one_persons(
    service: Service,
) -> None:
    # A storm leaves many rows per person: the claim counts sends (one bundle per
    # person), not rows, so three free slots start three people's bundles, not one.
    from pager.daemon.outbox.lanes import Claim
    from pager.store.types import NewMessage

    people = ["ana"] * 5 + ["bo", "cai", "dee", "eve"]
    for n, person in enumerate(people):
        msg = NewMessage(
            key=f"k{n}",
            ticket_id=f"T-{n}",
            person=person,
            channel="sms",
            address=f"+1555000{person}",
            kind="page",
            subject="",
            body=f"SEV1 T-{n}",
            bundle_line='{"severity":1}',
            token="",
            not_before=NOW + timedelta(seconds=n),
            code=str(n),
        )
        await service.db(lambda e, msg=msg: e.queue_message(msg, NOW))
    relay = Relay(
        service,
        Senders(Recorder(), Recorder(), Recorder()),
        settings(),
        Metrics(),
        clock=Clock(NOW.timestamp() + 60),
    )
    urgent = relay.lanes.lanes[0]
    sends, _due, full = await service.db(
        lambda e: relay._claim(e, limits=[Claim(urgent, 3)]), urgent=True
    )
    assert [(s.person, len(s.ids)) for s in sends] == [("ana", 5), ("bo", 1), ("cai", 1)]
    assert full and urgent.backlog  # dee and eve wait for the next claim
    left = await service.db(lambda e: e.outbox.pending_messages(NOW + timedelta(minutes=5)))
    assert sorted(r.person for r in left) == ["dee", "eve"]
