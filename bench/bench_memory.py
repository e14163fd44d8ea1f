"""``memory_per_ticket``: resident memory of a real daemon per open ticket.

1. A daemon on an empty store: RSS once ready and settled (cold), and again after a
   warm-up of 1,000 tickets (warm: connection pool, twilio client, lazy imports).
2. 10,000 more tickets opened through the broker (each paged by SMS to FakeTwilio), left
   open: RSS again once every page went out and the daemon settled; per ticket from warm.
3. The daemon stopped; a fresh store pre-filled with 100,000 open tickets by the
   daemon's own engine in a subprocess (:mod:`bench.bench_prefill`); a daemon started
   on it: RSS once ready and settled.

Bytes per open ticket = (RSS with the tickets - RSS before them) / tickets. Open tickets
live in SQLite, not in Python objects, so this mostly measures what the process keeps
from having handled them (allocator high-water marks, SQLite's page cache).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from typing import Any

from bench.bench_common import (
    PYTHON,
    REPO,
    Options,
    Outcome,
    Publisher,
    Stack,
    at_most,
    await_until,
    committed_events,
    fanout_event,
    first_arrivals,
    fresh_dir,
    info,
    now_utc,
    rss_bytes,
    stack,
)

PEOPLE = 1000
SETTLE = 3.0


def _settled_rss(pid: int, seconds: float = SETTLE) -> int:
    """RSS after ``seconds`` of quiet, as the highest of a few samples."""
    time.sleep(seconds)
    samples = []
    for _ in range(5):
        samples.append(rss_bytes(pid))
        time.sleep(0.2)
    return max(samples)


async def _open_through_broker(parts: Stack, tickets: int, *, first: int) -> dict[str, Any]:
    """Open ``tickets`` tickets (numbers from ``first``) and wait until all are paged."""
    at = now_utc()
    committed = committed_events(parts.db)
    base = committed()
    async with Publisher(parts.broker.port) as pub:
        started = time.monotonic()
        published = await pub.closed_loop(
            lambda i: fanout_event(i, PEOPLE, at, "mem"),
            committed=committed,
            window=2000,
            duration=600,
            first=first,
            limit=tickets,
        )
        done, _ = await await_until(lambda: committed() - base >= published, timeout=300)
        paged, _ = await await_until(
            lambda: len(first_arrivals(parts.sink.requests())) >= first + published,
            timeout=300,
        )
        elapsed = time.monotonic() - started
    return {"published": published, "committed": done, "paged": paged, "seconds": elapsed}


def prefill(
    config: str,
    count: int,
    people: int,
    *,
    first_now: float,
    last_now: float,
    first_number: int = 0,
    mark_sent: bool = True,
    timeout: float = 900,
) -> dict[str, Any]:
    """Run :mod:`bench.bench_prefill` in a subprocess; its JSON summary."""
    args = [
        PYTHON,
        "-m",
        "bench.bench_prefill",
        "-c",
        config,
        "--count",
        str(count),
        "--people",
        str(people),
        "--first-now",
        repr(first_now),
        "--last-now",
        repr(last_now),
        "--first-number",
        str(first_number),
    ]
    if mark_sent:
        args.append("--mark-sent")
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"prefill failed ({done.returncode}): {done.stderr[-3000:]}")
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary


def memory_per_ticket(opts: Options) -> Outcome:
    work = fresh_dir(opts, "memory_per_ticket")
    warmup = 1_000
    through_broker = opts.scale(10_000, 3_000)
    prefilled = opts.scale(100_000, 20_000)
    details: dict[str, Any] = {"people": PEOPLE, "warmup_tickets": warmup}
    with stack(work, people=PEOPLE) as parts:
        d = parts.start_daemon()
        assert d.proc is not None
        cold = _settled_rss(d.proc.pid)
        # One-time costs of the first sends (HTTP connection pool, the twilio client,
        # lazily imported modules) are not per ticket: measure from after a warm-up.
        asyncio.run(_open_through_broker(parts, warmup, first=0))
        warm = _settled_rss(d.proc.pid)
        run = asyncio.run(_open_through_broker(parts, through_broker, first=warmup))
        after_broker = _settled_rss(d.proc.pid)
        parts.stop_daemon()
        details.update(cold_rss=cold, warm_rss=warm, through_broker={**run, "rss": after_broker})

        shutil.rmtree(parts.db.parent)
        now = time.time()
        # Opened over the last ten minutes: every ack deadline is still ahead.
        fill = prefill(str(parts.config), prefilled, PEOPLE, first_now=now - 600, last_now=now)
        d = parts.start_daemon()
        assert d.proc is not None
        started_rss = rss_bytes(d.proc.pid)
        # The gauges (open tickets, timers) run every 5 s: let them run once or twice.
        big = _settled_rss(d.proc.pid, seconds=6.0)
        details["prefilled"] = {**fill, "rss_at_ready": started_rss, "rss": big}
        details["store_bytes"] = sum(
            p.stat().st_size for p in parts.db.parent.iterdir() if p.is_file()
        )

    per_broker = (after_broker - warm) / through_broker
    per_big = (big - cold) / prefilled
    details.update(
        bytes_per_ticket_through_broker=per_broker,
        bytes_per_ticket_through_broker_from_cold=(after_broker - cold) / (warmup + through_broker),
        bytes_per_ticket_prefilled=per_big,
    )
    return Outcome(
        figures=[
            at_most(
                f"{through_broker:,} open tickets via the broker", per_broker, "B/ticket", 2048
            ),
            at_most(f"{prefilled:,} open tickets pre-filled", per_big, "B/ticket", 2048),
            info("daemon RSS, empty store", cold / 2**20, "MiB"),
            info(f"daemon RSS, {prefilled:,} open tickets", big / 2**20, "MiB"),
        ],
        details=details,
        notes=[
            "RSS = VmRSS of the `pager run` process, the highest of 5 samples after 3-6 s of quiet",
            f"via the broker: (RSS after - RSS after a {warmup:,}-ticket warm-up) / tickets;"
            " pre-filled: (RSS on the big store - RSS of the same daemon on an empty store)"
            " / tickets",
        ],
    )


SCENARIOS = {"memory_per_ticket": memory_per_ticket}
