"""Store trouble while the daemon runs: the SQLite file stops taking writes, then recovers.

The trouble is real (testkit/chaos_storefault.py): a full tmpfs under the store, or
``chattr +i`` on the database and its WAL. While it lasts the daemon must say so (log
line, /healthz 503), keep the events it was handed (they are retried, not dropped or
dead-lettered), and not lose track of notifications that were being sent when the store
went away: one answered by the provider (must not be sent again), one refused by the
provider (must be retried later). When the trouble ends: /healthz 200, the queued events
committed, their pages sent, and the providers received exactly what the outbox says.
"""

from __future__ import annotations

import asyncio
import functools
import time
from pathlib import Path

import pytest

from testkit.chaos_reconcile import load_rows, received_items, reconcile
from testkit.chaos_rig import EventPublisher, Rig, ticket_event, until, until_async
from testkit.chaos_storefault import StoreFault, make_fault, mechanisms
from testkit.fake_twilio import Fault
from tests.chaos.conftest import MakeRig


def working_mechanisms(tmp_path: Path) -> list[str]:
    works, why_not = mechanisms(tmp_path / "probe")
    assert works, f"no way to break the store on this machine: {why_not}"
    return works


async def trouble_cycle(
    rig: Rig,
    fault: StoreFault,
    publisher: EventPublisher,
    prefix: str,
    seconds: float,
    problems: list[str],
) -> list[str]:
    """One episode of store trouble; returns the event ids published around it.

    Hard failures raise; the rest are appended to ``problems`` so one run reports them all.
    """
    ids: list[str] = []

    def publish(ticket: str) -> None:
        event = ticket_event(ticket)
        publisher.put(event)
        ids.append(event["event_id"])

    # Two sends in flight when the store goes: one the provider will accept, one it will
    # refuse (500), both answered only after the trouble began. One ticket at a time, so
    # that the two SMS are two requests, not one bundle.
    rig.twilio.push_fault(Fault(delay=1.5), times=1)
    rig.twilio.push_fault(Fault(status=500, delay=1.5), times=1)
    for name in ("inflight-a", "inflight-b"):
        before = len(rig.twilio.requests)
        publish(f"{prefix}-{name}")
        await until(
            functools.partial(_sms_since, rig, before),
            timeout=10,
            what=f"the SMS of {prefix}-{name} at the provider",
        )
    mark = rig.daemon.mark()
    began = time.monotonic()
    fault.begin()
    # Events keep arriving during the trouble.
    for n in range(4):
        publish(f"{prefix}-during-{n}")
    await until_async(
        lambda: _health_is(rig, 503), timeout=10, what="/healthz 503 during store trouble"
    )
    assert rig.log_lines("store unavailable", since=mark), "no log line about the store"
    assert await rig.metric("pager_events_rejected_total", reason="internal_error") == 0
    # It stays 503 for as long as the store refuses writes.
    seen: list[int] = []
    while time.monotonic() - began < seconds:
        seen.append(await rig.healthz())
        await asyncio.sleep(0.1)
    if set(seen) != {503}:
        problems.append(
            f"{fault.name}: /healthz answered 200 {seen.count(200)} of {len(seen)} times"
            " while the store refused writes"
        )
    # Nothing accepted during the trouble was dead-lettered for it.
    assert not rig.log_lines("rejected:", since=mark), rig.log_lines("rejected:", since=mark)
    fault.end()
    await until_async(
        lambda: _health_is(rig, 200), timeout=40, what="/healthz 200 after the trouble"
    )
    assert rig.log_lines("store available again", since=mark)
    await until(
        lambda: set(ids) <= rig.committed_event_ids(),
        timeout=40,
        what="events from the trouble committed",
    )
    return ids


def _sms_since(rig: Rig, index: int) -> bool:
    return any(r.kind == "sms" for r in rig.twilio.requests[index:])


async def _health_is(rig: Rig, status: int) -> bool:
    try:
        return await rig.healthz() == status
    except OSError:
        return False


async def run_store_trouble(
    make_rig: MakeRig,
    tmp_path: Path,
    mechanism: str,
    *,
    cycles: int,
    seconds: float,
    run: int = 0,
) -> None:
    """A daemon on a fresh store, ``cycles`` episodes of ``mechanism`` trouble, reconciled.

    ``run`` tells apart several runs of one test (their fault directories and tickets).
    """
    fault = make_fault(mechanism, tmp_path / f"fault-{mechanism}-{run}")
    fault.prepare()
    # The fakes outlive one daemon (the long test runs each mechanism in turn): only what
    # arrives from now on belongs to this run.
    started = time.monotonic()
    rig: Rig | None = None
    publisher: EventPublisher | None = None
    problems: list[str] = []
    try:
        rig = await make_rig(store=f"sqlite:{fault.store_path}", ack_within="1h", voice_after=None)
        publisher = EventPublisher(rig.broker)
        publisher.start()
        ids: list[str] = []
        for n in range(3):
            event = ticket_event(f"S-{mechanism}{run}-before-{n}")
            publisher.put(event)
            ids.append(event["event_id"])
        await until(lambda: set(ids) <= rig.committed_event_ids(), what="first events")
        for cycle in range(cycles):
            prefix = f"S-{mechanism}{run}-{cycle}"
            ids += await trouble_cycle(rig, fault, publisher, prefix, seconds, problems)
        try:
            await until(
                lambda: rig.settled(ladders_done=False), timeout=25, what="the outbox drained"
            )
        except AssertionError as exc:
            problems.append(f"{fault.name}: {exc}")
        assert set(ids) <= rig.committed_event_ids()
        assert await rig.stop() == 0
        rows = load_rows(fault.store_path)
    finally:
        if publisher is not None:
            await publisher.close()
        if rig is not None:
            await rig.close()
        fault.cleanup()

    items = [i for i in received_items(rig.twilio.requests, rig.mails()) if i.at >= started]
    result = reconcile(rows, items)
    print(result.summary())
    if result.lost or result.duplicates or result.unexplained:
        problems.append(f"{fault.name}: reconciliation:\n{result.summary()}")
    if "never retrieved" in rig.daemon.output():
        problems.append(f"{fault.name}: a relay task died with an unhandled StoreError")
    assert not problems, "\n".join(problems)


async def test_store_trouble_quick(make_rig: MakeRig, tmp_path: Path) -> None:
    mechanism = working_mechanisms(tmp_path)[0]
    await run_store_trouble(make_rig, tmp_path, mechanism, cycles=1, seconds=4.0)


@pytest.mark.chaos
@pytest.mark.timeout(900)
async def test_store_trouble_long(make_rig: MakeRig, tmp_path: Path) -> None:
    for mechanism in working_mechanisms(tmp_path):
        if mechanism == "disk_full":
            # A full disk stops SQLite only while its WAL must grow (see DiskFull): one
            # episode per fresh store.
            for run in range(3):
                await run_store_trouble(
                    make_rig, tmp_path, mechanism, cycles=1, seconds=20.0, run=run
                )
        else:
            await run_store_trouble(make_rig, tmp_path, mechanism, cycles=3, seconds=20.0)
