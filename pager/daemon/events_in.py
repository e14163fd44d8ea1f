"""Ticket events in, dead letters and ticket state out (SPEC section 2).

:meth:`Ingest.handle` takes one MQTT message: it validates it, applies it through the
:class:`~pager.daemon.service.Service` (one committed transaction) and returns what became of
it. A message that cannot be applied is logged with its reason and republished to
``mqtt.dead_letter_topic``; either way the caller may then acknowledge it.

Store failures are not a property of the event: an event that could not be committed
because the store is unavailable (disk full, read-only, locked) is retried with backoff
until it commits or the daemon stops, so that no acknowledged event is ever lost. Events
behind it wait meanwhile (they stay with the broker, unacknowledged), which keeps their
order. Any other exception while applying an event is a bug; the event is dead-lettered
with reason ``internal error`` so that the events around it still flow.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Final, Literal

from pager.core.events import (
    MAX_PAYLOAD_BYTES,
    InvalidEvent,
    TicketEvent,
    format_instant,
    parse_event,
)
from pager.core.ladder.machine import TicketState
from pager.core.model import MqttSettings
from pager.daemon.burstlog import BurstLog
from pager.daemon.engine import Result
from pager.daemon.metrics import Metrics
from pager.daemon.service import Service
from pager.store.types import StoreError

log = logging.getLogger("pager.daemon.events_in")
#: Compact JSON (one encoder; ``json.dumps`` with options builds one per call).
_COMPACT = json.JSONEncoder(separators=(",", ":")).encode

Outcome = Literal["applied", "duplicate", "dead-letter", "unchanged"]
Publish = Callable[[str, bytes, bool], Awaitable[bool]]
#: ``events_rejected{reason}`` labels: a small fixed set, never free text.
REJECT_CATEGORIES: Final = (
    "invalid",
    "oversized",
    "topic_mismatch",
    "unknown_ticket",
    "unknown_tier",
    "closed",
    "rejected",
    "internal_error",
)


class Ingest:
    """The event pipeline between the MQTT bridge and the service.

    ``bridge_publish(topic, payload, retain)`` publishes at QoS 1 and returns whether the
    broker took it (the bridge keeps unsent dead letters itself). ``state_publish(topic,
    payload)`` hands a retained ticket state to the connection at QoS 0 without waiting
    (a lost one is superseded by the ticket's next change); without it states are not
    published. ``tier_known``, when
    given, dead-letters ``opened``/``updated`` events naming a tier no ladder defines
    before they reach the store; without it the engine rejects them (``opened`` only).
    """

    def __init__(
        self,
        *,
        service: Service,
        bridge_publish: Publish,
        settings: MqttSettings,
        metrics: Metrics,
        clock: Callable[[], datetime],
        tier_known: Callable[[str], bool] | None = None,
        state_publish: Callable[[str, bytes], object] | None = None,
        retry_min: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        self._service = service
        self._publish = bridge_publish
        self._settings = settings
        self._metrics = metrics
        self._clock = clock
        self._tier_known = tier_known
        self._state_publish = state_publish
        #: One line per event, except in a storm (see :mod:`pager.daemon.burstlog`).
        self.events_log = BurstLog(log, "events")
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._ticket_level = _ticket_level(settings.events_topic)

    # --- events ------------------------------------------------------------------------

    async def handle(self, topic: str, payload: bytes) -> Outcome:
        """Apply one message; return ``applied``/``duplicate``/``unchanged``/``dead-letter``.

        Returns only once the outcome is durable (committed, or dead-lettered: published or
        kept by the bridge). Raises only CancelledError.
        """
        received = self._clock()
        try:
            event = parse_event(payload)
        except InvalidEvent as exc:
            self._metrics.events_in.labels("invalid").inc()
            category = "oversized" if len(payload) > MAX_PAYLOAD_BYTES else "invalid"
            label = f"event {exc.event_id or '-'} {exc.ticket_id or '-'} ?"
            await self._dead_letter(label, topic, payload, received, str(exc), category)
            return "dead-letter"
        self._metrics.events_in.labels(event.type).inc()
        label = f"event {event.event_id} {event.ticket_id} {event.type}"
        problem = self._precheck(topic, event)
        if problem is not None:
            reason, category = problem
            await self._dead_letter(label, topic, payload, received, reason, category)
            return "dead-letter"
        try:
            result = await self._apply(label, event, payload.decode("utf-8"))
        except Exception as exc:
            log.exception("%s: failed", label)
            reason = f"internal error: {type(exc).__name__}: {exc}"
            await self._dead_letter(label, topic, payload, received, reason, "internal_error")
            return "dead-letter"
        if result.status == "rejected":
            reason = result.reason or "rejected"
            category = result.rejection or "rejected"
            await self._dead_letter(label, topic, payload, received, reason, category)
            return "dead-letter"
        if result.status == "duplicate":
            self._metrics.events_duplicate.inc()
        self.events_log.info("%s: %s", label, result.status)
        return result.status

    def _precheck(self, topic: str, event: TicketEvent) -> tuple[str, str] | None:
        """What the service cannot see: the topic, and (optionally) tiers on ``updated``."""
        if self._ticket_level is not None:
            levels = topic.split("/")
            if len(levels) > self._ticket_level:
                named = levels[self._ticket_level]
                if named != event.ticket_id:
                    return (
                        f"topic {topic!r} names ticket {named!r}"
                        f" but the payload's ticket_id is {event.ticket_id!r}",
                        "topic_mismatch",
                    )
        if (
            self._tier_known is not None
            and event.tier is not None
            and not self._tier_known(event.tier)
        ):
            return f"unknown tier {event.tier!r}", "unknown_tier"
        return None

    async def _apply(self, label: str, event: TicketEvent, text: str) -> Result:
        """Commit the event, retrying while the store is unavailable (module docstring)."""
        delay = self._retry_min
        while True:
            try:
                # ``now`` is taken per attempt: the ticket's clocks must not run backwards
                # relative to deadlines the timer loop fired while the store was away.
                return await self._service.ingest(event, self._clock(), text)
            except StoreError as exc:
                log.error("%s: store unavailable (%s); retrying in %.1fs", label, exc, delay)
            await asyncio.sleep(delay)
            delay = min(self._retry_max, delay * 2)

    async def _dead_letter(
        self,
        label: str,
        topic: str,
        payload: bytes,
        received: datetime,
        reason: str,
        category: str,
    ) -> None:
        log.warning("%s: rejected: %s", label, reason)
        self._metrics.events_rejected.labels(category).inc()
        body = dead_letter_payload(reason=reason, topic=topic, payload=payload, received=received)
        await self._publish(self._settings.dead_letter_topic, body, False)

    # --- ticket state ------------------------------------------------------------------

    def state_topic(self, ticket_id: str) -> str:
        # replace, not str.format: a stray brace in the configured topic must not raise.
        return self._settings.state_topic.replace("{ticket_id}", ticket_id)

    def state_payload(self, state: TicketState) -> bytes:
        """The retained JSON state of a ticket; instants RFC 3339 UTC (``Z``) or null."""
        body: dict[str, Any] = {
            "ticket": state.ticket_id,
            "rung": state.rung,
            "owner": state.owner,
            "closed": state.closed,
            "breached": state.breached,
            "respond_by": _instant(state.respond_by),
            "ack_deadline": _instant(state.ack_deadline),
            "status_due": _instant(state.status_due),
            "paused": state.paused,
            "severity": state.severity,
            "tier": state.tier,
        }
        return _COMPACT(body).encode()

    def publish_state(self, state: TicketState) -> None:
        """Publish ``state`` retained, now; a failed publish is dropped (the bridge logs it)."""
        if self._state_publish is not None:
            self._state_publish(self.state_topic(state.ticket_id), self.state_payload(state))


def dead_letter_payload(*, reason: str, topic: str, payload: bytes, received: datetime) -> bytes:
    """``{"reason", "topic", "received_at", "payload" | "payload_b64"}`` as UTF-8 JSON.

    The original payload is copied as text when it is UTF-8, else base64. An oversized
    payload is cut to its first 64 KiB, with ``"truncated": true`` and its ``"size"``.
    """
    body: dict[str, Any] = {
        "reason": reason,
        "topic": topic,
        "received_at": format_instant(received),
    }
    kept = payload[:MAX_PAYLOAD_BYTES]
    text = _utf8_prefix(kept, whole=len(kept) == len(payload))
    if text is not None:
        body["payload"] = text
    else:
        body["payload_b64"] = base64.b64encode(kept).decode("ascii")
    if len(kept) < len(payload):
        body["truncated"] = True
        body["size"] = len(payload)
    # ASCII-escaped: whatever a hostile payload holds, the dead letter is valid UTF-8.
    return json.dumps(body, separators=(",", ":")).encode()


def _utf8_prefix(data: bytes, *, whole: bool) -> str | None:
    """``data`` as text, or None if it is not UTF-8.

    A cut payload may end inside a multi-byte character; up to three trailing bytes are
    given up for it before calling the payload binary.
    """
    for cut in range(1 if whole else 4):
        try:
            return data[: len(data) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def _ticket_level(events_topic: str) -> int | None:
    """The topic level holding the ticket id: the single ``+`` of the pattern.

    None (no check) when the pattern has no ``+`` or several, since then it is not
    clear which level is the ticket.
    """
    levels = events_topic.split("/")
    wildcards = [i for i, level in enumerate(levels) if level == "+"]
    return wildcards[0] if len(wildcards) == 1 else None


def _instant(t: datetime | None) -> str | None:
    return format_instant(t) if t is not None else None
