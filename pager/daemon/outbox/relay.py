"""The outbox relay: claim due rows, respect limits, bundle, send, retry, fall back.

Why one module over 400 lines: :class:`Relay` is one class whose claim, send, retry and
fallback steps share its rate limits, lanes and sends in flight (limits, lanes and
backoff already live in their own modules).

Row states: ``pending`` -> ``sending`` -> ``sent`` | ``pending`` again with a later
``not_before`` (temporary failure: exponential backoff with jitter) | ``failed``
(permanent refusal or retries exhausted: the person's other channels get the message).
``cancelled`` rows were pages acknowledged before they went out. Rows left ``sending``
by a dead process are settled at start-up (:meth:`Relay.recover`): an SMS the provider
lists as accepted is recorded as sent, everything else is re-queued (the one duplicate
window of SPEC section 9).

Claims and sends in flight are per lane (:mod:`pager.daemon.outbox.lanes`): SMS and
voice never wait behind email.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pager.core.model import Settings
from pager.daemon.burstlog import BurstLog
from pager.daemon.clock import Clock
from pager.daemon.engine import Engine
from pager.daemon.metrics import Metrics
from pager.daemon.outbox.bundle import MAX_SMS_BODY, sms_bundle_text
from pager.daemon.outbox.delivery import (
    Mailer,
    PermanentFailure,
    SmsSender,
    TemporaryFailure,
    VoiceCaller,
    sms_digest,
)
from pager.daemon.outbox.lanes import BEHIND_EVENTS, HOLD_POLL, Claim, Lanes
from pager.daemon.outbox.limits import SlidingWindow, Spacing
from pager.daemon.service import Service
from pager.store.types import InterruptedSms, OutboxRow, StoreError

log = logging.getLogger("pager.daemon.outbox.relay")
T = TypeVar("T")

MAX_ATTEMPTS = 6
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
#: How long start-up may spend asking the provider about interrupted sends, in all.
RECOVER_TIMEOUT = 10.0
#: Provider lookups at once during start-up.
RECOVER_CONCURRENCY = 8
#: How far the provider's clock may run behind ours (its creation times, whole seconds,
#: are compared with our claim times). Small on purpose: a larger margin could take an
#: earlier identical text for the interrupted one, and a miss only costs a duplicate.
CLOCK_SKEW = 5.0


def backoff(
    attempt: int, retry_after: float | None, rand: Callable[[], float] = random.random
) -> float:
    """Seconds before retry ``attempt`` (1-based): exponential, capped, full jitter.

    A provider's ``Retry-After`` is a floor.
    """
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1)))
    delay = ceiling / 2 + rand() * ceiling / 2
    return float(max(delay, retry_after or 0.0))


@dataclass(frozen=True, slots=True)
class Send:
    """One provider request covering one or more outbox rows (a bundle)."""

    ids: tuple[int, ...]
    #: The first row's outbox key (names the notification, e.g. for a stable Message-ID).
    key: str
    channel: str
    person: str
    address: str
    subject: str
    body: str
    token: str
    attempts: int
    kinds: tuple[str, ...]
    created_at: datetime
    #: The tickets the send is about (several for a bundle), for log lines.
    tickets: tuple[str, ...] = ()

    @property
    def about(self) -> str:
        """``ticket=T-1`` or ``ticket=T-1,T-2`` (log lines name their tickets)."""
        return "ticket=" + ",".join(self.tickets)


@dataclass(frozen=True, slots=True)
class Senders:
    sms: SmsSender
    voice: VoiceCaller
    email: Mailer


class Relay:
    """Drains the outbox; :meth:`wake` after a commit that added rows."""

    def __init__(
        self,
        service: Service,
        senders: Senders,
        settings: Settings,
        metrics: Metrics,
        *,
        clock: Clock,
    ) -> None:
        self.service = service
        self.senders = senders
        self.metrics = metrics
        self.clock = clock
        self.public_url = settings.http.public_url.rstrip("/")
        # Twilio queues messages and calls of a number separately; each gets the rate.
        self.sms_rate = Spacing(settings.twilio.max_sms_per_second)
        self.call_rate = Spacing(settings.twilio.max_sms_per_second)
        self.sms_limit = SlidingWindow(settings.limits.sms_per_person)
        self.call_limit = SlidingWindow(settings.limits.calls_per_person)
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        #: Sends in flight per channel group (pager.daemon.outbox.lanes).
        self.lanes = Lanes(self.wake)
        self._stopping = False
        #: One line per provider request, except in a storm (see :mod:`pager.daemon.burstlog`).
        self.sent_log = BurstLog(log, "sends")

    def apply_settings(self, settings: Settings) -> None:
        """Config reload: new limits apply from now on (history is kept)."""
        self.public_url = settings.http.public_url.rstrip("/")
        self.sms_rate.per_second = settings.twilio.max_sms_per_second
        self.call_rate.per_second = settings.twilio.max_sms_per_second
        self.sms_limit.rate = settings.limits.sms_per_person
        self.call_limit.rate = settings.limits.calls_per_person

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Until cancelled or :meth:`drain`: send what is due, sleep until the next row."""
        while not self._stopping:
            self._wake.clear()
            limits = self.lanes.limits(behind=self.service.queued >= BEHIND_EVENTS)
            if not limits:  # every lane busy: a finishing send wakes the relay
                await self._sleep(None)
                continue
            try:
                # Urgent: a page already decided goes out before more events are read.
                sends, next_due, full = await self.service.db(
                    functools.partial(self._claim, limits=limits), urgent=True
                )
            except Exception as exc:
                log.error("outbox claim failed: %s", exc)
                await self._sleep(1.0)
                continue
            for send in sends:
                # Claimed within the lane's free slots: starts now, waits for nothing.
                self.lanes.start(send.channel)
                task = asyncio.create_task(self._deliver(send))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            if full:
                continue  # more rows may be due than one claim takes
            # Everything due was taken: new rows wake the relay, deferred ones are due then.
            delay = None if next_due is None else max(0.0, seconds_until(next_due, self.clock()))
            await self._sleep(delay)

    async def _sleep(self, delay: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    async def drain(self, grace: float = 30.0) -> None:
        """Stop claiming; wait for in-flight sends (SIGTERM)."""
        self._stopping = True
        self._wake.set()
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=grace)

    async def recover(self, budget: float = RECOVER_TIMEOUT) -> tuple[int, int]:
        """At start-up, before :meth:`run`: settle the sends a dead process left
        ``sending``; returns (rows found sent, rows queued again).

        An SMS the provider accepted but the store never recorded is looked up at the
        provider (by number, text digest and claim time) and recorded as sent instead of
        being sent twice. Everything else that was in flight (calls, emails, an SMS the
        provider does not know or could not be asked about within ``budget`` seconds) goes back
        to ``pending``: sent twice at worst (SPEC section 9), never lost.
        """
        interrupted = await self.service.db(lambda e: e.outbox.interrupted_sms())
        found: list[tuple[InterruptedSms, str]] = []
        if interrupted:
            slots = asyncio.Semaphore(RECOVER_CONCURRENCY)

            async def look_up(send: InterruptedSms) -> None:
                since = send.claimed_at - timedelta(seconds=CLOCK_SKEW)
                async with slots:
                    try:
                        sid = await self.senders.sms.find_sms(send.address, send.digest, since)
                    except Exception as exc:  # cannot tell: send again rather than lose it
                        log.warning("cannot ask the provider about an interrupted sms: %s", exc)
                        return
                if sid is not None:
                    found.append((send, sid))

            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(budget), asyncio.TaskGroup() as group:
                    for send in interrupted:
                        group.create_task(look_up(send))
        now = self.clock()

        def settle(engine: Engine) -> tuple[int, int]:
            for send, sid in found:
                engine.outbox.mark_sent(send.ids, sid, now)
            return sum(len(send.ids) for send, _ in found), engine.outbox.requeue_interrupted()

        recorded, requeued = await self.service.db(settle)
        if recorded:
            self.metrics.pages.labels("sms", "recovered").inc(recorded)
            log.warning(
                "%d interrupted sms row(s) had reached the provider: recorded, not sent again",
                recorded,
            )
        if requeued:
            log.warning("re-queued %d message(s) interrupted by the last shutdown", requeued)
        return recorded, requeued

    # --- claiming (store thread) ---------------------------------------------------------

    def _claim(
        self, engine: Engine, limits: list[Claim] | None = None
    ) -> tuple[list[Send], datetime | None, bool]:
        """Sends for the due rows of each lane in ``limits`` (marked ``sending``, urgent
        lane first), when the next row of a lane not held back is due, and whether a
        lane's claim was full (more rows may be due). ``limits``: :meth:`Lanes.limits`."""
        if limits is None:
            limits = self.lanes.limits()
        store = engine.outbox
        claimed_at = self.clock()
        # The rate limits keep their books in epoch seconds (pure arithmetic).
        now = claimed_at.timestamp()
        sends: list[Send] = []
        full = False
        for claim in limits:
            due = store.pending_messages(
                claimed_at - timedelta(seconds=claim.lag), claim.rows, claim.lane.spec.channels
            )
            lane_sends, more = self._lane_sends(engine, due, claim.limit, now)
            sends.extend(lane_sends)
            full = self.lanes.claimed(claim.lane, more or len(due) >= claim.rows) or full
        # Urgent lane first (pages by phone start before the emails).
        sends.sort(key=lambda s: self.lanes.lanes.index(self.lanes.of(s.channel)))
        store.mark_sending(
            [(s.ids, sms_digest(s.body) if s.channel == "sms" else None) for s in sends],
            claimed_at,
        )
        next_due: datetime | None = None
        if not full:
            dues = [store.next_message_due(c.lane.spec.channels) for c in limits if not c.lag]
            if any(c.lag for c in limits):  # held back: claim again soon, the hold may end
                dues.append(claimed_at + timedelta(seconds=HOLD_POLL))
            next_due = min((d for d in dues if d is not None), default=None)
        return sends, next_due, full

    def _lane_sends(
        self, engine: Engine, rows: list[OutboxRow], slots: int, now: float
    ) -> tuple[list[Send], bool]:
        """At most ``slots`` sends for a lane's due ``rows`` (oldest first), and whether
        rows were left for want of a slot (they stay ``pending``, for the next claim).

        The SMS rows of one person are one send: everything waiting for them goes out as
        one bundle. A person or the account over its rate limit has its rows deferred to
        when the limit allows (they take no slot).
        """
        store = engine.outbox
        # A send's rows: one person's SMS rows together, any other row alone.
        groups: dict[str, list[OutboxRow]] = {}
        items: list[list[OutboxRow]] = []
        for row in rows:
            if row.channel == "sms" and row.person in groups:
                groups[row.person].append(row)
                continue
            item = [row]
            if row.channel == "sms":
                groups[row.person] = item
            items.append(item)
        taken = 0
        more = False
        ready: list[list[OutboxRow]] = []
        sends: list[Send] = []
        calls: list[Send] = []
        for item in items:
            first = item[0]
            limits = self._limits_of(first.channel)
            if limits is not None:
                at = max(limits[0].earliest(now), limits[1].earliest(first.person, now))
                if at > now:
                    store.defer([r.id for r in item], _instant(at))
                    continue
            if taken >= slots:
                more = True
                continue
            taken += 1
            if limits is not None:
                limits[0].take(now)
                limits[1].take(first.person, now)
            if first.channel == "sms":
                ready.append(item)
            else:
                (calls if first.channel == "voice" else sends).append(_send(item, first.body))
        if ready:
            waiting = store.pending_for_many([group[0].person for group in ready], "sms")
            for group in ready:
                # Everything already waiting for this person goes out as one SMS
                # (bundling); nothing is held back to wait for company. Only rows held back
                # by a limit join the bundle; a row waiting out a retry backoff keeps its
                # own schedule.
                taken_ids = {g.id for g in group}
                extra = [
                    r for r in waiting[group[0].person] if r.id not in taken_ids and r.attempts == 0
                ]
                bundled = group + extra
                count, body = sms_bundle_text(engine, bundled)
                sends.append(_send(bundled[:count], body))
        return sends + calls, more

    def _limits_of(self, channel: str) -> tuple[Spacing, SlidingWindow] | None:
        """The account's rate and the per-person limit of ``channel`` (None for email)."""
        if channel == "sms":
            return self.sms_rate, self.sms_limit
        if channel == "voice":
            return self.call_rate, self.call_limit
        return None

    # --- delivering (event loop) ---------------------------------------------------------

    async def _deliver(self, send: Send) -> None:
        """Send, then write the outcome. The lane's slot bounds provider requests in
        flight, so it is freed when the provider has answered: writing the outcome waits
        for the store thread (behind the group commit in progress), and holding the slot
        meanwhile would leave the lane's due rows in the store, unclaimed, for that long.
        The row stays ``sending`` until the outcome is written (:meth:`_record`)."""
        started = time.perf_counter()
        try:
            try:
                provider_id = await self._call_provider(send)
            finally:
                self.lanes.finish(send.channel)
        except PermanentFailure as exc:
            await self._failed(send, f"refused: {exc}")
            return
        except TemporaryFailure as exc:
            await self._retry(send, str(exc), exc.retry_after)
            return
        except Exception as exc:  # a bug or an unexpected library error: retry
            log.exception(
                "%s sending %s to %s failed unexpectedly", send.about, send.channel, send.person
            )
            await self._retry(send, f"unexpected: {exc!r}", None)
            return
        self.metrics.provider_latency.labels(send.channel).observe(time.perf_counter() - started)
        self.metrics.pages.labels(send.channel, "sent").inc(len(send.ids))
        if len(send.ids) > 1:
            self.metrics.pages.labels(send.channel, "bundled").inc(len(send.ids))
        if send.channel == "sms" and "page" in send.kinds and send.attempts == 0:
            self.metrics.event_to_first_page.observe(
                max(0.0, seconds_until(self.clock(), send.created_at))
            )
        now = self.clock()
        await self._record(lambda e: e.outbox.mark_sent(send.ids, provider_id, now))
        self.sent_log.info(
            "%s sent %s to %s (%s) ids=%s provider_id=%s",
            send.about,
            send.channel,
            send.person,
            ",".join(send.kinds),
            ",".join(map(str, send.ids)),
            provider_id,
        )

    async def _record(self, fn: Callable[[Engine], T]) -> T:
        """Write a send's outcome, retrying while the store is unavailable.

        The row stays ``sending`` meanwhile; if the process dies first it is re-queued at
        start-up (the duplicate window SPEC section 9 allows), never lost. The write is
        urgent: behind a backlog of events it would hold that window open for as long
        as the backlog takes.
        """
        delay = 0.5
        while True:
            try:
                return await self.service.db(fn, urgent=True)
            except StoreError as exc:
                log.error("cannot record a send (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _call_provider(self, send: Send) -> str:
        if send.channel == "sms":
            return await self.senders.sms.send_sms(send.address, send.body)
        if send.channel == "voice":
            base = f"{self.public_url}/twilio/voice"
            return await self.senders.voice.call(
                send.address, f"{base}/answer/{send.token}", f"{base}/status/{send.token}"
            )
        return await self.senders.email.send_email(
            send.address, send.subject, send.body, message_key=send.key
        )

    async def _retry(self, send: Send, error: str, retry_after: float | None) -> None:
        attempt = send.attempts + 1
        if attempt >= MAX_ATTEMPTS:
            await self._failed(send, f"gave up after {attempt} attempts: {error}")
            return
        delay = backoff(attempt, retry_after)
        self.metrics.pages.labels(send.channel, "retry").inc(len(send.ids))
        log.warning(
            "%s %s to %s failed (attempt %d), retrying in %.1fs: %s",
            send.about,
            send.channel,
            send.person,
            attempt,
            delay,
            error,
        )
        not_before = self.clock() + timedelta(seconds=delay)
        await self._record(lambda e: e.outbox.mark_retry(send.ids, not_before, error))
        self._wake.set()

    async def _failed(self, send: Send, error: str) -> None:
        self.metrics.pages.labels(send.channel, "failed").inc(len(send.ids))
        log.error("%s %s to %s failed for good: %s", send.about, send.channel, send.person, error)
        now = self.clock()

        def record(engine: Engine) -> int:
            engine.outbox.mark_failed(send.ids, error)
            return sum(engine.fall_back(message_id, error, now) for message_id in send.ids)

        added = await self._record(record)
        if added:
            self.metrics.pages.labels(send.channel, "fallback").inc(added)
            self._wake.set()


def seconds_until(later: datetime, now: datetime) -> float:
    """``later - now`` in seconds (negative when ``later`` has passed)."""
    return (later - now).total_seconds()


def _instant(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _send(rows: list[OutboxRow], body: str) -> Send:
    first = rows[0]
    return Send(
        ids=tuple(r.id for r in rows),
        key=first.key,
        channel=first.channel,
        person=first.person,
        address=first.address,
        subject=first.subject,
        body=body,
        token=first.token,
        attempts=max(r.attempts for r in rows),
        kinds=tuple(sorted({r.kind for r in rows})),
        created_at=min(r.created_at for r in rows),
        tickets=tuple(dict.fromkeys(r.ticket_id for r in rows)),
    )


__all__ = ["MAX_SMS_BODY", "Relay", "Send", "Senders", "backoff"]
