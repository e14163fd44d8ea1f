"""Service group commit: batches, a failing job rolling back alone, store errors."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from pager.daemon.engine import Engine
from pager.daemon.service import Service
from pager.store.sqlite.store import StoreError


def heartbeat_job(n: int, *, fail: bool = False) -> Callable[[Engine], int]:
    """A job that writes one row (an inbound SID) and then, with ``fail``, raises."""

    def job(engine: Engine) -> int:
        engine.inbound_seen(f"SM{n}")
        if fail:
            raise RuntimeError(f"job {n} failed")
        return n

    return job


def seen(service: Service) -> set[str]:
    rows = service.store.db.execute("SELECT message_sid FROM inbound").fetchall()
    return {r[0] for r in rows}


async def test_a_batch_commits_together_and_a_failing_job_rolls_back_alone(
    service: Service,
) -> None:
    runs: list[int] = []

    def counted(n: int, *, fail: bool = False) -> Callable[[Engine], int]:
        inner = heartbeat_job(n, fail=fail)

        def job(engine: Engine) -> int:
            runs.append(n)
            return inner(engine)

        return job

    # Submitted together, the five jobs land in one batch.
    results = await asyncio.gather(
        *(service.db(counted(n, fail=n == 3)) for n in range(1, 6)), return_exceptions=True
    )
    assert results[:2] == [1, 2] and results[3:] == [4, 5]
    assert isinstance(results[2], RuntimeError) and "job 3 failed" in str(results[2])
    # Jobs 1, 2, 4 and 5 committed; job 3's own write did not.
    assert await service.db(lambda _e: seen(service)) == {"SM1", "SM2", "SM4", "SM5"}
    # One batch: the run without savepoints stopped at job 3; the rerun ran all five.
    assert runs == [1, 2, 3, 1, 2, 3, 4, 5]


async def test_a_batch_without_failures_runs_each_job_once(service: Service) -> None:
    runs: list[int] = []

    def job(n: int) -> Callable[[Engine], int]:
        def run(engine: Engine) -> int:
            runs.append(n)
            engine.inbound_seen(f"SM{n}")
            return n

        return run

    assert await asyncio.gather(*(service.db(job(n)) for n in range(50))) == list(range(50))
    assert sorted(runs) == list(range(50))
    assert len(await service.db(lambda _e: seen(service))) == 50


async def test_a_store_error_fails_the_whole_batch(service: Service) -> None:
    def broken(engine: Engine) -> None:
        engine.inbound_seen("SM-x")
        raise sqlite3.OperationalError("database or disk is full")

    results = await asyncio.gather(
        service.db(heartbeat_job(1)), service.db(broken), return_exceptions=True
    )
    assert all(isinstance(r, StoreError) for r in results), results
    assert not service.store_ok and "disk is full" in service.store_error
    assert await service.db(lambda _e: seen(service)) == set()


async def test_an_urgent_job_overtakes_a_backlog(service: Service) -> None:
    order: list[str] = []

    def slow(n: int) -> Callable[[Engine], None]:
        def job(_engine: Engine) -> None:
            order.append(f"event-{n}")

        return job

    def reply(_engine: Engine) -> str:
        order.append("reply")
        return "acked"

    # A backlog of 2,000 queued jobs (eight batches), then a person's reply.
    backlog = [asyncio.ensure_future(service.db(slow(n))) for n in range(2000)]
    await asyncio.sleep(0)  # every backlog job is queued before the reply
    assert await service.db(reply, urgent=True) == "acked"
    await asyncio.gather(*backlog)
    # The reply ran in the first batch after it arrived, not after the backlog.
    assert order.index("reply") < 2 * 256, order.index("reply")
    assert [o for o in order if o != "reply"] == [f"event-{n}" for n in range(2000)]


async def test_a_commit_reports_the_earliest_deadline_it_set(service: Service) -> None:
    from pager.core.events import parse_event
    from pager.core.ladder.machine import next_deadline
    from pager.daemon.service import CommitInfo
    from tests.shell.test_ingest import NOW, event

    seen: list[CommitInfo] = []
    service.on_commit.append(seen.append)
    first, second = (
        parse_event(event(ticket="T-1")),
        parse_event(event(ticket="T-2", event_id="e2")),
    )
    await asyncio.gather(service.ingest(first, NOW, ""), service.ingest(second, NOW, ""))
    states = [s for info in seen for s in info.tickets.values()]
    deadlines = [d for s in states if (d := next_deadline(s)) is not None]
    assert len(states) == 2 and deadlines
    assert [info.earliest for info in seen if info.tickets] == [min(deadlines)]
