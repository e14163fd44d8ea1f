"""The Mosquitto harness: a real broker that aiomqtt can use, restartable, failing loudly."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import pytest

from testkit.mosquitto import Mosquitto, MosquittoNotInstalled


async def _next_message(client: aiomqtt.Client, within: float = 3.0) -> aiomqtt.Message:
    async with asyncio.timeout(within):
        async for message in client.messages:
            return message
    raise AssertionError("message iterator ended")


def durable(broker: Mosquitto) -> aiomqtt.Client:
    """The daemon's kind of client: fixed identifier, persistent session."""
    return aiomqtt.Client(broker.host, broker.port, identifier="pager-daemon", clean_session=False)


async def test_qos1_round_trip(mosquitto: Mosquitto) -> None:
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    async with (
        aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="sub") as sub,
        aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="pub") as pub,
    ):
        await sub.subscribe("support/tickets/+/events", qos=1)
        await pub.publish("support/tickets/T-1/events", b'{"event_id": "e1"}', qos=1)
        message = await _next_message(sub)
    assert message.topic.value == "support/tickets/T-1/events"
    assert message.payload == b'{"event_id": "e1"}'
    assert message.qos == 1


async def test_persistent_session_survives_broker_restart(
    mosquitto_factory: Callable[..., Mosquitto],
) -> None:
    broker = mosquitto_factory(persistence=True)
    port = broker.port
    async with durable(broker) as sub:
        await sub.subscribe("support/tickets/+/events", qos=1)
    # Published while the subscriber is away: queued in its session.
    async with aiomqtt.Client(broker.host, broker.port, identifier="desk") as pub:
        await pub.publish("support/tickets/T-9/events", b"while-down", qos=1)

    await broker.arestart()

    assert broker.port == port
    async with durable(broker) as sub:
        message = await _next_message(sub)
    assert message.payload == b"while-down"


async def test_without_persistence_restart_forgets_the_session(
    mosquitto: Mosquitto,
) -> None:
    async with durable(mosquitto) as sub:
        await sub.subscribe("t/#", qos=1)
    async with aiomqtt.Client(mosquitto.host, mosquitto.port, identifier="desk") as pub:
        await pub.publish("t/x", b"lost", qos=1)
    await mosquitto.arestart()
    async with durable(mosquitto) as sub:
        with pytest.raises(TimeoutError):
            await _next_message(sub, within=0.3)


def test_stop_kill_and_start_again(mosquitto: Mosquitto) -> None:
    assert mosquitto.running
    assert mosquitto.stop() == 0
    assert not mosquitto.running
    with pytest.raises(OSError):
        socket.create_connection((mosquitto.host, mosquitto.port), timeout=0.5).close()
    mosquitto.start()
    assert mosquitto.running
    assert mosquitto.kill() == -9
    mosquitto.start()
    socket.create_connection((mosquitto.host, mosquitto.port), timeout=0.5).close()
    assert "mosquitto version" in mosquitto.log()


async def test_password_protected_broker(mosquitto_factory: Callable[..., Mosquitto]) -> None:
    broker = mosquitto_factory(username="pager", password="s3cret-for-tests")
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client(broker.host, broker.port, identifier="anon"):
            pass
    async with aiomqtt.Client(
        broker.host, broker.port, identifier="ok", username="pager", password="s3cret-for-tests"
    ) as client:
        await client.publish("t/1", b"x", qos=1)


def test_missing_binary_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("testkit.mosquitto.DEFAULT_BINARY", str(tmp_path / "nope"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MosquittoNotInstalled, match="make mosquitto"):
        Mosquitto(tmp_path)


def test_bad_config_reports_the_broker_log(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, extra_config=["no_such_option 1"])
    with pytest.raises(RuntimeError, match="no_such_option"):
        broker.start()
    assert not broker.running


def test_taken_fixed_port_fails(tmp_path: Path, mosquitto: Mosquitto) -> None:
    clash = Mosquitto(tmp_path / "second", port=mosquitto.port)
    with pytest.raises(RuntimeError, match="exited"):
        clash.start()
