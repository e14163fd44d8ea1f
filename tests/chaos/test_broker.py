"""The broker goes away under load and comes back: no event lost, timers never stop.

The desk keeps publishing at QoS 1 through a publisher that retries while the broker is
down (so every event it counts as published was acknowledged by a broker). The broker
keeps its state across a clean restart (persistence), like a production broker. While it
is down, /healthz answers 503, and deadlines keep firing: escalations still go out.
Afterwards every published event is committed exactly once, and the providers received
exactly what the outbox says.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable

import pytest

from testkit.chaos_reconcile import load_rows, received_items, reconcile
from testkit.chaos_rig import PHONES, EventPublisher, Rig, ticket_event, until
from testkit.mosquitto import Mosquitto
from tests.chaos.conftest import MakeRig


async def health_log(rig: Rig, samples: list[tuple[float, int]], stop: asyncio.Event) -> None:
    """Poll /healthz every 100 ms into ``samples`` until ``stop`` (connection errors = 0)."""
    while not stop.is_set():
        try:
            status = await rig.healthz()
        except OSError:
            status = 0
        samples.append((time.monotonic(), status))
        await asyncio.sleep(0.1)


def seen_since(samples: list[tuple[float, int]], since: float, status: int) -> bool:
    return any(t > since and s == status for t, s in samples)


async def run_outages(
    make_rig: MakeRig,
    mosquitto_factory: Callable[..., Mosquitto],
    seed: int,
    *,
    outages: int,
    stream_seconds: float,
    rate: float,
) -> None:
    rng = random.Random(seed)
    broker = mosquitto_factory(persistence=True)
    rig: Rig = await make_rig(broker=broker, ack_within="2s", voice_after=None)
    publisher = EventPublisher(broker)
    publisher.start()
    samples: list[tuple[float, int]] = []
    stop_polling = asyncio.Event()
    poller = asyncio.create_task(health_log(rig, samples, stop_polling))
    windows: list[tuple[float, float]] = []
    sent: list[str] = []
    prefix = f"B{seed % 10000}"

    async def feed() -> None:
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < stream_seconds:
            event = ticket_event(f"{prefix}-{n:04d}")
            publisher.put(event)
            sent.append(event["event_id"])
            if n % 4 == 3:  # some tickets get acknowledged a little later
                ack = ticket_event(f"{prefix}-{n - 2:04d}", "acknowledged", by="ana")
                publisher.put(ack)
                sent.append(ack["event_id"])
            n += 1
            await asyncio.sleep(1.0 / rate)

    try:
        feeding = asyncio.create_task(feed())
        gap = stream_seconds / outages
        for _ in range(outages):
            await asyncio.sleep(rng.uniform(1.5, max(1.6, gap - 4.0)))
            down = time.monotonic()
            await broker.astop()
            # 503 while disconnected (the daemon notices the closed connection at once).
            await until(
                functools.partial(seen_since, samples, down, 503),
                timeout=5,
                what="/healthz 503 after the broker stopped",
            )
            await asyncio.sleep(rng.uniform(2.5, 4.0))
            up = time.monotonic()
            windows.append((down, up))
            await broker.astart()
            await until(
                functools.partial(seen_since, samples, up, 200),
                timeout=30,
                what="/healthz 200 after the broker came back",
            )
        await feeding
        await publisher.drain()
        await until(
            lambda: set(sent) <= rig.committed_event_ids(),
            timeout=30,
            what="every published event committed",
        )
        await until(rig.settled, timeout=30, what="every ticket settled, the outbox empty")
    finally:
        stop_polling.set()
        await poller
        await publisher.close()
    assert await rig.stop() == 0

    assert len(publisher.published) >= len(sent), "the publisher lost track of a message"
    committed = rig.query("SELECT COUNT(*) FROM events WHERE ticket_id LIKE ?", f"{prefix}-%")[0][0]
    assert committed == len(set(sent)), f"{committed} events committed, {len(sent)} published"
    for down, up in windows:
        during = [s for t, s in samples if down + 0.5 < t < up]
        assert during and all(s == 503 for s in during), f"/healthz while down: {during}"
        # Deadlines kept firing: escalations (rung 2+ people) went out while the broker was away.
        escalations = [
            r
            for r in rig.twilio.messages
            if down < r.at < up and r.to in (PHONES["bob"], PHONES["carol"], PHONES["dave"])
        ]
        assert escalations, f"no escalation SMS while the broker was down ({down:.1f}-{up:.1f})"

    rows = load_rows(rig.db_path)
    items = received_items(rig.twilio.requests, rig.mails())
    result = reconcile(rows, items)
    assert not result.lost, result.summary()
    assert not result.duplicates, result.summary()
    assert not result.delivered_though_unsent, result.summary()
    assert not result.unexplained, result.summary()
    assert not rig.tracebacks(), rig.tracebacks()[0]


async def test_broker_restart_under_load_quick(
    make_rig: MakeRig, mosquitto_factory: Callable[..., Mosquitto], chaos_seed: int
) -> None:
    await run_outages(
        make_rig, mosquitto_factory, chaos_seed, outages=1, stream_seconds=9.0, rate=5.0
    )


@pytest.mark.chaos
@pytest.mark.timeout(600)
async def test_broker_restarts_under_load_long(
    make_rig: MakeRig, mosquitto_factory: Callable[..., Mosquitto], chaos_seed: int
) -> None:
    await run_outages(
        make_rig, mosquitto_factory, chaos_seed, outages=6, stream_seconds=80.0, rate=5.0
    )
