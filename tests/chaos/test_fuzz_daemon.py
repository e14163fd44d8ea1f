"""Fuzzing the real daemon: hostile events through the broker, hostile webhook requests.

Every message published is accounted for (``pager_events_total`` counts it once) and
either committed or dead-lettered with a reason on ``mqtt.dead_letter_topic``; nothing is
dead-lettered as an "internal error" (that is a bug caught, not bad input); every
webhook request gets a deliberate answer. Afterwards the daemon is still healthy and a
valid event still pages. The same mutators as tests/fuzz, through the real processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
import uuid
from typing import Any

import aiomqtt
import pytest

from pager.adapters.signature import TwilioSignature
from testkit.chaos_fuzz import Mutator, fuzz_webhooks, server_errors
from testkit.chaos_rig import (
    DEAD_LETTER_TOPIC,
    PHONES,
    EventPublisher,
    Rig,
    ticket_event,
    until,
)
from tests.chaos.conftest import MakeRig

TICKET = re.compile(r"[A-Za-z0-9._:-]{1,64}")


async def collect_dead_letters(rig: Rig, into: list[dict[str, Any]], ready: asyncio.Event) -> None:
    async with aiomqtt.Client(
        rig.broker.host, rig.broker.port, identifier=f"chaos-dl-{uuid.uuid4().hex[:6]}"
    ) as client:
        await client.subscribe(DEAD_LETTER_TOPIC, qos=1)
        ready.set()
        async for message in client.messages:
            payload = message.payload
            assert isinstance(payload, bytes | bytearray)
            try:
                into.append(json.loads(payload))
            except ValueError:
                into.append({"unreadable": bytes(payload[:200]).decode("latin-1")})


async def handled(rig: Rig) -> float:
    samples = await rig.metrics()
    return sum(v for (name, _), v in samples.items() if name == "pager_events_total")


async def rejected(rig: Rig) -> dict[str, float]:
    samples = await rig.metrics()
    return {
        dict(labels).get("reason", "?"): v
        for (name, labels), v in samples.items()
        if name == "pager_events_rejected_total"
    }


async def run_fuzz(make_rig: MakeRig, seed: int, *, events: int, webhooks: int) -> None:
    rig: Rig = await make_rig(ack_within="1h", voice_after=None)
    letters: list[dict[str, Any]] = []
    ready = asyncio.Event()
    collector = asyncio.create_task(collect_dead_letters(rig, letters, ready))
    await asyncio.wait_for(ready.wait(), 10)
    publisher = EventPublisher(rig.broker)
    publisher.start()
    problems: list[str] = []
    try:
        mutator = Mutator(random.Random(seed))
        for _ in range(events):
            payload = mutator.event()
            ticket = _ticket_of(payload) or "FUZZ"
            publisher.put(payload, topic=f"support/tickets/{ticket}/events")
        await publisher.drain(timeout=events / 50 + 30)

        # Wait until the daemon has accounted for every message (or stops making progress).
        last, still_since = -1.0, time.monotonic()
        while (count := await handled(rig)) < events:
            if count != last:
                last, still_since = count, time.monotonic()
            elif time.monotonic() - still_since > 10:
                problems.append(f"only {count:.0f} of {events} messages accounted for")
                break
            await asyncio.sleep(0.5)
        reasons = await rejected(rig)
        expected_letters = sum(reasons.values())
        with contextlib.suppress(AssertionError):
            await until(lambda: len(letters) >= expected_letters, timeout=20, what="dead letters")
        if len(letters) != expected_letters:
            problems.append(f"{expected_letters:.0f} events rejected, {len(letters)} dead letters")
        if not all(letter.get("reason") for letter in letters):
            problems.append("a dead letter without a reason")
        if reasons.get("internal_error"):
            problems.append(
                f"{reasons['internal_error']:.0f} events dead-lettered as internal error"
            )

        token = rig.twilio.auth_token
        signature = TwilioSignature([token], rig.base_url)
        sent, web_problems = await fuzz_webhooks(rig.base_url, signature, token, webhooks, seed)
        problems += web_problems

        assert rig.daemon.running, "the daemon died"
        if await rig.healthz() != 200:
            problems.append("/healthz is not 200 after the fuzzing")
        final = ticket_event("FUZZ-final")
        publisher.put(final)
        await until(
            lambda: any(
                r.to == PHONES["ana"] and "FUZZ-final" in (r.body or "")
                for r in rig.twilio.messages
            ),
            timeout=20,
            what="the page of a valid event after the fuzzing",
        )
    finally:
        await publisher.close()
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await collector
    output = rig.daemon.lines
    for marker in ("handler failed", "Logging error", "never retrieved"):
        hits = [line for line in output if marker in line]
        if hits:
            problems.append(f"{len(hits)} x {marker!r} in the daemon's log, e.g. {hits[0][:200]}")
    problems += [f"server error: {e}" for e in server_errors(rig.tracebacks())]
    print(f"fuzzed {events} events, {sent} webhook requests; mutations {mutator.counts}")
    assert not problems, "\n".join(problems[:30])


def _ticket_of(payload: bytes) -> str | None:
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    ticket = data.get("ticket_id") if isinstance(data, dict) else None
    # Only a well-formed ticket id makes a topic the broker takes; others go to FUZZ
    # (and are dead-lettered for not matching it, or for their own faults).
    return ticket if isinstance(ticket, str) and TICKET.fullmatch(ticket) else None


async def test_fuzz_daemon_quick(make_rig: MakeRig, chaos_seed: int) -> None:
    await run_fuzz(make_rig, chaos_seed, events=600, webhooks=200)


@pytest.mark.chaos
@pytest.mark.timeout(900)
async def test_fuzz_daemon_long(make_rig: MakeRig, chaos_seed: int) -> None:
    await run_fuzz(make_rig, chaos_seed, events=10_000, webhooks=3000)
