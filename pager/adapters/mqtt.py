"""The MQTT edge: one durable connection to the broker, for ticket events and publishes.

Why one module over 400 lines: :class:`MqttBridge` is one class whose methods share the
reconnect loop's state (the client of the current connection, the connected event, the
dead-letter queue, manual acknowledgement order).

:class:`MqttBridge` keeps a persistent session (fixed client id, ``clean_session=False``)
subscribed to ``mqtt.events_topic`` at QoS 1, hands each message to ``on_message`` one at
a time, and reconnects by itself (aiomqtt does not) with exponential backoff and jitter.

Delivery guarantee (at least once): a QoS 1 message is acknowledged to the broker only
after ``on_message`` has returned, i.e. after the event is committed to the store. aiomqtt
would acknowledge it as soon as it is queued in the client, so a crash would lose every
message read from the socket but not yet handled; the bridge switches paho's manual-ack
mode on instead. A message that was not acknowledged (crash, ``kill -9``, shutdown in the
middle of a handler, or any message that arrived after :meth:`MqttBridge.stop_consuming`)
is redelivered by the broker on the next connection of the same session; ingestion is
idempotent by ``event_id``, so a redelivered event changes nothing twice.

Publishing uses the same connection. While disconnected, publishes are dropped with a log
line (a ticket's retained state is republished on its next change), except dead letters
(``mqtt.dead_letter_topic``): those are kept in a bounded in-memory queue and sent after
the next connection, before any further event is taken. The queue is memory only: dead
letters kept while the process dies are lost, but each was logged with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

import aiomqtt

from pager.core.model import MqttSettings

log = logging.getLogger("pager.mqtt")

#: Dead letters kept while disconnected; beyond this the oldest are dropped (and logged).
DEAD_LETTER_QUEUE_MAX: Final = 10_000
#: Events handled at once before the bridge stops reading more (bounds memory).
MAX_IN_FLIGHT: Final = 256
#: Seconds between keepalive pings; a dead broker is noticed within ~1.5x this.
KEEPALIVE: Final = 30
#: Seconds a connect, subscribe or publish may take before the connection counts as broken.
OPERATION_TIMEOUT: Final = 10.0
#: aiomqtt logs a WARNING per publish beyond this many unconfirmed calls; state publishes
#: after a burst of events legitimately run in the hundreds.
PENDING_CALLS_THRESHOLD: Final = 10_000
DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where and how to connect, from ``mqtt.url`` (``mqtt://`` or ``mqtts://``)."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        # Never the credentials: this goes into log lines.
        scheme = "mqtts" if self.tls else "mqtt"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://host[:port]`` / ``mqtts://host[:port]`` -> address; ValueError otherwise.

    Credentials in the URL (``mqtt://user:pass@host``) are accepted; ``mqtt.username`` and
    ``mqtt.password`` from the config take precedence over them.
    """
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"mqtt url must start with mqtt:// or mqtts://, not {url!r}")
    if not parts.hostname:
        raise ValueError(f"mqtt url has no host: {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"mqtt url must be scheme://host[:port] only: {url!r}")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise ValueError(f"mqtt url has a bad port: {url!r}") from exc
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=parts.username,
        password=parts.password,
    )


@dataclass(frozen=True, slots=True)
class _Pending:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class MqttBridge:
    """The daemon's MQTT connection; see the module docstring for the guarantees.

    ``on_message(topic, payload)`` is awaited for one event at a time. Returning means
    "committed, acknowledge it"; raising an exception is a bug in the handler: it is logged
    with its traceback and the message is acknowledged anyway, so that one poisonous
    message cannot come back on every reconnect. Cancellation leaves it unacknowledged.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        on_message: Callable[[str, bytes], Awaitable[None]],
        tls_context: ssl.SSLContext | None = None,
        reconnect_min: float = 0.5,
        reconnect_max: float = 30.0,
        dry_run: bool = False,
    ) -> None:
        if not 0 < reconnect_min <= reconnect_max:
            raise ValueError("need 0 < reconnect_min <= reconnect_max")
        self.settings = settings
        # A dry run must not take over the live daemon's session (same client id: the
        # broker would disconnect the live daemon and hand its queued events over), nor
        # leave a session behind, nor overwrite the live retained state or dead letters.
        self.dry_run = dry_run
        self.client_id = (
            f"{settings.client_id}-dry-run-{secrets.token_hex(4)}"
            if dry_run
            else settings.client_id
        )
        self.address = parse_broker_url(settings.url)
        self._on_message = on_message
        self._tls_context = tls_context
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._consuming = True
        self._dead_letters: deque[_Pending] = deque()
        self._dropped = 0
        self._random = random.Random()
        self._session_was_up = False
        if self.address.tls and tls_context is None:
            self._tls_context = ssl.create_default_context()

    # --- state -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a session is up, subscribed, and past its dead-letter flush."""
        return self._connected.is_set()

    async def wait_connected(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait up to ``timeout`` seconds for :attr:`connected`; False if it did not come."""
        try:
            async with asyncio.timeout(timeout):
                await self._connected.wait()
        except TimeoutError:
            return False
        return True

    @property
    def queued_dead_letters(self) -> int:
        """Dead letters waiting for the next connection."""
        return len(self._dead_letters)

    def stop_consuming(self) -> None:
        """Take no further events (SIGTERM drain); keep the connection for publishing.

        The handler in progress, if any, finishes and is acknowledged. Later messages are
        left unacknowledged and the subscription stays in the session (unsubscribing would
        drop what the desk publishes while pager restarts), so the broker delivers them
        again to the next run.
        """
        if self._consuming:
            log.info("mqtt: no longer taking events; the broker keeps the rest for the next run")
        self._consuming = False

    # --- the connection loop -----------------------------------------------------------

    async def run(self) -> None:
        """Connect, consume and reconnect until cancelled; never raises MqttError."""
        failures = 0
        while True:
            try:
                await self._session()
            except (aiomqtt.MqttError, OSError) as exc:
                # OSError: aiomqtt converts those of connect(), this is for any it misses.
                was_up = self._session_was_up
                self._mark_disconnected()
                failures = 0 if was_up else failures + 1
                delay = self._backoff(failures)
                if was_up:
                    log.warning(
                        "mqtt: connection to %s lost (%s); reconnecting in %.1fs",
                        self.address,
                        exc,
                        delay,
                    )
                else:
                    log.warning(
                        "mqtt: cannot connect to %s (%s); retrying in %.1fs",
                        self.address,
                        exc,
                        delay,
                    )
                await asyncio.sleep(delay)
            finally:
                self._mark_disconnected()

    def _backoff(self, failures: int) -> float:
        """Delay before the next attempt: exponential in ``failures``, jittered, clamped.

        The jitter (50-100 % of the step) keeps several daemons, or a daemon and its
        broker's other clients, from reconnecting in lockstep after a broker restart.
        """
        step = min(self._reconnect_max, self._reconnect_min * 2.0 ** min(failures, 30))
        return max(self._reconnect_min, step * self._random.uniform(0.5, 1.0))

    async def _session(self) -> None:
        """One connection, from connect to its loss (raised as MqttError)."""
        self._session_was_up = False
        a = self.address
        client = aiomqtt.Client(
            a.host,
            a.port,
            identifier=self.client_id,
            clean_session=self.dry_run,
            username=self.settings.username or a.username,
            password=self.settings.password or a.password,
            tls_context=self._tls_context if a.tls else None,
            keepalive=KEEPALIVE,
            timeout=OPERATION_TIMEOUT,
        )
        client.pending_calls_threshold = PENDING_CALLS_THRESHOLD
        # aiomqtt 2.5 exposes no manual-ack switch; its paho client has one. Acking only
        # after the handler committed is the whole at-least-once guarantee (module doc).
        client._client.manual_ack_set(True)
        async with client:
            self._session_was_up = True
            if self._consuming:
                granted = await client.subscribe(self.settings.events_topic, qos=1)
                if any(_refused(code) for code in granted):
                    raise aiomqtt.MqttError(
                        f"broker refused the subscription to {self.settings.events_topic!r}"
                    )
            await self._flush_dead_letters(client)
            self._client = client
            self._connected.set()
            log.info(
                "mqtt: connected to %s as %r%s",
                a,
                self.client_id,
                " (dry-run: clean session, publishes nothing)" if self.dry_run else "",
            )
            # Messages are handled concurrently (so a burst shares store commits) but
            # acknowledged strictly in arrival order, each after its own commit. The
            # handlers enqueue their store jobs in arrival order, so one ticket's events
            # are still applied in the order the broker delivered them.
            in_flight: asyncio.Queue[tuple[asyncio.Task[None], aiomqtt.Message]] = asyncio.Queue(
                maxsize=MAX_IN_FLIGHT
            )
            acker = asyncio.create_task(self._ack_in_order(client, in_flight))
            try:
                async for message in client.messages:
                    if not self._consuming:
                        continue  # unacknowledged: the broker redelivers it to the next run
                    handler = asyncio.create_task(self._handle(message))
                    await in_flight.put((handler, message))
                raise aiomqtt.MqttError("message stream ended")
            finally:
                acker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await acker

    def _mark_disconnected(self) -> None:
        self._client = None
        self._connected.clear()

    async def _handle(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        try:
            await self._on_message(topic, _as_bytes(message.payload))
        except Exception:
            log.exception(
                "mqtt: handler failed on a message from %s; acknowledging it anyway", topic
            )

    async def _ack_in_order(
        self,
        client: aiomqtt.Client,
        in_flight: asyncio.Queue[tuple[asyncio.Task[None], aiomqtt.Message]],
    ) -> None:
        while True:
            handler, message = await in_flight.get()
            await asyncio.shield(handler)
            self._ack(client, message)

    def _ack(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        if message.qos > 0:
            try:
                client._client.ack(message.mid, message.qos)
            except (OSError, ValueError) as exc:
                # The connection is already gone; the broker redelivers the message.
                log.debug("mqtt: could not acknowledge message %d: %s", message.mid, exc)

    # --- publishing ----------------------------------------------------------------------

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> bool:
        """Publish on the current connection; True once the broker accepted it.

        False (with a log line) when not connected or the publish failed; never raises. A
        dead letter that could not be sent is kept and sent after the next connection.
        A dry run publishes nothing (a debug line) and returns True.
        """
        if self.dry_run:
            return self._dry_publish(topic)
        client = self._client
        if client is None:
            self._not_sent(_Pending(topic, payload, qos, retain), "not connected to the broker")
            return False
        try:
            await client.publish(topic, payload, qos=qos, retain=retain)
        except aiomqtt.MqttError as exc:
            self._not_sent(_Pending(topic, payload, qos, retain), str(exc))
            return False
        return True

    def publish_nowait(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        """Queue a QoS 0 message on the current connection without waiting for the write.

        True when the client took it. aiomqtt's ``publish`` waits for the socket write
        even at QoS 0 (a future and a timeout task per message); the paho client it
        wraps queues the message and aiomqtt's writer flushes it, which is all QoS 0
        promises. False (with a log line) when not connected; never raises. A dry run
        publishes nothing.
        """
        if self.dry_run:
            return self._dry_publish(topic)
        client = self._client
        if client is None:
            self._not_sent(_Pending(topic, payload, 0, retain), "not connected to the broker")
            return False
        try:
            info = client._client.publish(topic, payload, 0, retain)
        except (OSError, ValueError) as exc:
            self._not_sent(_Pending(topic, payload, 0, retain), str(exc))
            return False
        if info.rc != 0:
            self._not_sent(_Pending(topic, payload, 0, retain), f"paho error code {info.rc}")
            return False
        return True

    def _dry_publish(self, topic: str) -> bool:
        log.debug("mqtt: dry-run, not published to %s", topic)
        return True

    def _not_sent(self, item: _Pending, why: str) -> None:
        if item.topic != self.settings.dead_letter_topic:
            log.warning(
                "mqtt: publish to %s dropped (%s); ticket state is republished on its next change",
                item.topic,
                why,
            )
            return
        if len(self._dead_letters) >= DEAD_LETTER_QUEUE_MAX:
            self._dead_letters.popleft()
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.error(
                    "mqtt: dead-letter queue full (%d); %d oldest dropped so far (each was logged)",
                    DEAD_LETTER_QUEUE_MAX,
                    self._dropped,
                )
        self._dead_letters.append(item)
        log.warning(
            "mqtt: dead letter kept for later (%s); %d waiting", why, len(self._dead_letters)
        )

    async def _flush_dead_letters(self, client: aiomqtt.Client) -> None:
        """Send the kept dead letters in order; an MqttError leaves the rest queued."""
        sent = 0
        while self._dead_letters:
            item = self._dead_letters[0]
            await client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
            self._dead_letters.popleft()
            sent += 1
        if sent:
            log.info("mqtt: sent %d dead letter(s) kept while disconnected", sent)
        if self._dropped:
            log.error("mqtt: %d dead letter(s) were dropped while disconnected", self._dropped)
            self._dropped = 0


def _refused(code: object) -> bool:
    """A SUBACK entry meaning failure: MQTT 3.1.1 0x80 (paho ReasonCode or int)."""
    failure = getattr(code, "is_failure", None)
    if isinstance(failure, bool):
        return failure
    return isinstance(code, int) and code >= 0x80


def _as_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode()
