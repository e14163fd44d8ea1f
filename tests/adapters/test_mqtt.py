"""MqttBridge against a real Mosquitto: delivery, reconnects, persistent session, acks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiomqtt
import pytest

from pager.adapters.mqtt import MqttBridge, parse_broker_url
from pager.core.model import MqttSettings
from testkit.mosquitto import Mosquitto

EVENTS = "support/tickets/+/events"
DEAD = "pager/dead-letter"
WITHIN = 5.0


class Inbox:
    """An ``on_message`` handler that records what it got, in order."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes]] = []
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    async def __call__(self, topic: str, payload: bytes) -> None:
        self.got.append((topic, payload))
        self._queue.put_nowait((topic, payload))

    async def next(self, within: float = WITHIN) -> tuple[str, bytes]:
        async with asyncio.timeout(within):
            return await self._queue.get()

    async def until(self, payload: bytes, within: float = WITHIN) -> list[bytes]:
        """Payloads received up to and including ``payload``."""
        seen: list[bytes] = []
        async with asyncio.timeout(within):
            while not seen or seen[-1] != payload:
                seen.append((await self._queue.get())[1])
        return seen


def settings_for(broker: Mosquitto, client_id: str = "pager-test") -> MqttSettings:
    return MqttSettings(
        url=broker.url, client_id=client_id, events_topic=EVENTS, dead_letter_topic=DEAD
    )


@contextlib.asynccontextmanager
async def running(bridge: MqttBridge, *, connect: bool = True) -> AsyncIterator[MqttBridge]:
    task = asyncio.create_task(bridge.run())
    try:
        if connect:
            assert await bridge.wait_connected(WITHIN), "bridge did not connect"
        yield bridge
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert not bridge.connected


async def desk_publish(broker: Mosquitto, *messages: tuple[str, bytes]) -> None:
    """Publish as the support desk would: another client, QoS 1."""
    async with aiomqtt.Client(broker.host, broker.port, identifier="desk") as desk:
        for topic, payload in messages:
            await desk.publish(topic, payload, qos=1)


async def wait_for(condition: Callable[[], bool], within: float = WITHIN) -> None:
    """Poll a condition that depends on a real socket noticing a real broker."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - no event to wait on for "disconnected"
            await asyncio.sleep(0.01)


def fast(settings: MqttSettings, handler: Callable[[str, bytes], Awaitable[None]]) -> MqttBridge:
    return MqttBridge(settings, on_message=handler, reconnect_min=0.05, reconnect_max=0.2)


def test_broker_url_forms() -> None:
    assert str(parse_broker_url("mqtt://127.0.0.1:1884")) == "mqtt://127.0.0.1:1884"
    tls = parse_broker_url("mqtts://user:secret@broker.example.com")
    assert (tls.host, tls.port, tls.tls, tls.username) == ("broker.example.com", 8883, True, "user")
    assert "secret" not in str(tls) and "secret" not in repr(tls)
    assert parse_broker_url("mqtt://[::1]").port == 1883
    for bad in ("http://x", "mqtt://", "mqtt://host/path", "mqtt://host:99999"):
        with pytest.raises(ValueError):
            parse_broker_url(bad)


async def test_receives_a_qos1_event(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()
    caplog.set_level(logging.INFO)
    async with running(fast(settings_for(mosquitto), inbox)) as bridge:
        assert bridge.connected
        await desk_publish(mosquitto, ("support/tickets/T-1/events", b'{"event_id": "e1"}'))
        assert await inbox.next() == ("support/tickets/T-1/events", b'{"event_id": "e1"}')
        # Not subscribed to anything but the events topic.
        await desk_publish(
            mosquitto, ("support/other", b"x"), ("support/tickets/T-2/events", b"e2")
        )
        assert await inbox.next() == ("support/tickets/T-2/events", b"e2")
    assert inbox.got == [
        ("support/tickets/T-1/events", b'{"event_id": "e1"}'),
        ("support/tickets/T-2/events", b"e2"),
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_reconnects_after_the_broker_restarts(mosquitto: Mosquitto) -> None:
    inbox = Inbox()
    async with running(fast(settings_for(mosquitto), inbox)) as bridge:
        await mosquitto.astop()
        await wait_for(lambda: not bridge.connected)
        assert not await bridge.wait_connected(0.1)
        await mosquitto.astart()
        assert await bridge.wait_connected(WITHIN)
        # The broker kept no session: the bridge subscribed again by itself.
        await desk_publish(mosquitto, ("support/tickets/T-3/events", b"after-restart"))
        assert await inbox.next() == ("support/tickets/T-3/events", b"after-restart")


async def test_keeps_retrying_until_a_broker_appears(mosquitto: Mosquitto) -> None:
    await mosquitto.astop()
    inbox = Inbox()
    async with running(fast(settings_for(mosquitto), inbox), connect=False) as bridge:
        assert not await bridge.wait_connected(0.3)
        await mosquitto.astart()
        assert await bridge.wait_connected(WITHIN)


async def test_events_published_while_pager_is_down_arrive_on_its_return(
    mosquitto: Mosquitto,
) -> None:
    settings = settings_for(mosquitto)
    async with running(fast(settings, Inbox())):
        pass  # the first run creates the persistent session and its subscription
    await desk_publish(
        mosquitto, *[(f"support/tickets/T-{i}/events", f"e{i}".encode()) for i in range(3)]
    )
    inbox = Inbox()
    async with running(fast(settings, inbox)):
        assert await inbox.until(b"e2") == [b"e0", b"e1", b"e2"]


async def test_session_survives_a_broker_restart_with_persistence(
    mosquitto_factory: Callable[..., Mosquitto],
) -> None:
    broker = mosquitto_factory(persistence=True)
    settings = settings_for(broker)
    async with running(fast(settings, Inbox())):
        pass
    await desk_publish(broker, ("support/tickets/T-7/events", b"while-down"))
    await broker.arestart()
    inbox = Inbox()
    async with running(fast(settings, inbox)):
        assert await inbox.next() == ("support/tickets/T-7/events", b"while-down")


async def test_an_event_whose_handler_did_not_finish_is_delivered_again(
    mosquitto: Mosquitto,
) -> None:
    """Acknowledged only after the handler returns: a crash mid-handler loses nothing."""
    settings = settings_for(mosquitto)
    first = Inbox()
    stuck = asyncio.Event()

    async def handler(topic: str, payload: bytes) -> None:
        if payload == b"b":
            stuck.set()
            await asyncio.Event().wait()  # "crashes" here: cancelled below
        await first(topic, payload)

    async with running(fast(settings, handler)):
        await desk_publish(
            mosquitto, ("support/tickets/T-1/events", b"a"), ("support/tickets/T-1/events", b"b")
        )
        assert await first.next() == ("support/tickets/T-1/events", b"a")
        async with asyncio.timeout(WITHIN):
            await stuck.wait()
    again = Inbox()
    async with running(fast(settings, again)):
        await desk_publish(mosquitto, ("support/tickets/T-1/events", b"c"))
        # "a" was handled and acknowledged; "b" was not, so the broker sends it again.
        assert await again.until(b"c") == [b"b", b"c"]


async def test_stop_consuming_leaves_later_events_to_the_next_run(mosquitto: Mosquitto) -> None:
    settings = settings_for(mosquitto)
    inbox = Inbox()
    async with running(fast(settings, inbox)) as bridge:
        await desk_publish(mosquitto, ("support/tickets/T-1/events", b"before"))
        assert (await inbox.next())[1] == b"before"
        bridge.stop_consuming()
        await desk_publish(mosquitto, ("support/tickets/T-1/events", b"during-drain"))
        # The connection stays up for publishing while draining.
        async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="watch") as watch:
            await watch.subscribe("pager/#", qos=1)
            assert await bridge.publish("pager/tickets/T-1/state", b"{}", retain=True)
            async with asyncio.timeout(WITHIN):
                message = await anext(aiter(watch.messages))
            assert (message.topic.value, message.payload) == ("pager/tickets/T-1/state", b"{}")
    assert inbox.got == [("support/tickets/T-1/events", b"before")]
    later = Inbox()
    async with running(fast(settings, later)):
        assert await later.next() == ("support/tickets/T-1/events", b"during-drain")


async def test_dead_letters_kept_while_disconnected_are_sent_after_reconnect(
    mosquitto_factory: Callable[..., Mosquitto],
) -> None:
    broker = mosquitto_factory(persistence=True)

    def reader_client() -> aiomqtt.Client:
        return aiomqtt.Client(broker.host, broker.port, identifier="dl-reader", clean_session=False)

    async with reader_client() as reader:
        await reader.subscribe("pager/#", qos=1)
    async with running(fast(settings_for(broker), Inbox())) as bridge:
        await broker.astop()
        await wait_for(lambda: not bridge.connected)
        assert not await bridge.publish(DEAD, b"dl-1")
        assert not await bridge.publish("pager/tickets/T-1/state", b"state", retain=True)
        assert not await bridge.publish(DEAD, b"dl-2")
        assert bridge.queued_dead_letters == 2  # the state publish was dropped, not kept
        await broker.astart()
        assert await bridge.wait_connected(WITHIN)
        assert bridge.queued_dead_letters == 0
        assert await bridge.publish(DEAD, b"dl-3")
    got: list[bytes] = []
    async with reader_client() as reader:
        async with asyncio.timeout(WITHIN):
            async for message in reader.messages:
                assert isinstance(message.payload, bytes)
                got.append(message.payload)
                if message.payload == b"dl-3":
                    break
    assert got == [b"dl-1", b"dl-2", b"dl-3"]


async def test_many_concurrent_publishes_log_no_warnings(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mqtt")
    async with running(fast(settings_for(mosquitto), Inbox())) as bridge:
        results = await asyncio.gather(
            *(bridge.publish(f"pager/tickets/T-{i}/state", b"{}", retain=True) for i in range(200))
        )
    assert all(results)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_failing_handler_does_not_stop_the_stream(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()

    async def handler(topic: str, payload: bytes) -> None:
        if payload == b"boom":
            raise RuntimeError("handler bug")
        await inbox(topic, payload)

    settings = settings_for(mosquitto)
    async with running(fast(settings, handler)):
        await desk_publish(
            mosquitto,
            ("support/tickets/T-1/events", b"boom"),
            ("support/tickets/T-1/events", b"ok"),
        )
        assert (await inbox.next())[1] == b"ok"
    assert any("handler failed" in r.getMessage() for r in caplog.records)
    # It was acknowledged anyway: a new run does not see it again.
    again = Inbox()
    async with running(fast(settings, again)):
        await desk_publish(mosquitto, ("support/tickets/T-1/events", b"next"))
        assert await again.until(b"next") == [b"next"]
