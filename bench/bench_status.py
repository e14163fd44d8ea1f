"""The status page under load: ``python -m bench.run --only status_page``.

The real ``pager run`` child, Mosquitto and the Twilio sink of the other daemon
benchmarks; the fan-out config (:func:`~bench.bench_common.write_fanout_config`) plus 49
follow-the-sun rotations (three regions each, in three zones, with hours and weekly
handoffs: 50 rotations in all), ``http.status_auth_file`` set, and 10,000 open tickets
pre-filled in the store (:mod:`bench.bench_prefill`).

Two phases of ``SECONDS`` each, events published open loop at 100/s:

1. events only: event -> first Twilio request latency (the paging path's baseline);
2. the same while one client loads ``/status``, ``/api/tickets``, ``/api/oncall`` and
   ``/api/coverage`` in turn, ``READS_PER_S`` requests a second (one at a time, with
   ``Authorization: Bearer``): each route's latency, and the paging latency again.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.bench_common import (
    Options,
    Outcome,
    Publisher,
    Stack,
    at_most,
    await_until,
    fanout_event,
    first_arrivals,
    fresh_dir,
    info,
    now_utc,
    percentiles,
    person_name,
    stack,
    ticket_id,
)
from bench.bench_memory import prefill

PEOPLE = 300
TICKETS = 10_000
ROTATIONS = 50
RATE = 100
#: Page and JSON requests per second during the loaded phase (routes in turn): as if
#: 600 people kept the page open (it refreshes every 30 s), 20 times the realistic load.
READS_PER_S = 20
TARGET_MS = 50.0
SECRET = "bench-status-secret"
ROUTES = ("/status", "/api/tickets", "/api/oncall", "/api/coverage")
ZONES = (
    ("apj", "Asia/Ho_Chi_Minh", "08:00", "17:00"),
    ("emea", "Europe/Bucharest", "08:30", "17:30"),
    ("amer", "America/New_York", "08:00", "18:00"),
)


def _add_rotations(config: Path) -> None:
    """49 more rotations: three regions each, four members a region, weekly handoffs."""
    (config / "status.secret").write_text(SECRET + "\n")
    person = 0
    for number in range(1, ROTATIONS):
        regions: dict[str, Any] = {}
        for name, tz, opens, closes in ZONES:
            members = [person_name((person + k) % PEOPLE) for k in range(4)]
            person += 4
            regions[name] = {
                "timezone": tz,
                "hours": {"days": "mon-fri", "from": opens, "to": closes},
                "members": members,
                "handoff": {"every": "week", "day": "mon", "at": opens, "start": "2026-11-02"},
            }
        body = {"name": f"team-{number:02d}", "regions": regions, "after_hours": "fanout"}
        path = config / "rotations" / f"team-{number:02d}.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False))


async def _phase(parts: Stack, *, first: int, seconds: float, load: bool) -> dict[str, Any]:
    at = now_utc()
    timings: dict[str, list[float]] = {route: [] for route in ROUTES}
    statuses: dict[int, int] = {}
    done = asyncio.Event()
    base = f"http://127.0.0.1:{parts.http_port}"

    async def reader() -> None:
        headers = {"Authorization": f"Bearer {SECRET}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            i = 0
            begin = time.monotonic()
            while not done.is_set():
                route = ROUTES[i % len(ROUTES)]
                i += 1
                # Open loop: request i is due at begin + i / READS_PER_S.
                await asyncio.sleep(max(begin + i / READS_PER_S - time.monotonic(), 0.0))
                started = time.monotonic()
                async with session.get(base + route) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                timings[route].append(time.monotonic() - started)

    task = asyncio.create_task(reader()) if load else None
    async with Publisher(parts.broker.port) as pub:
        sent = await pub.open_loop(
            lambda n: fanout_event(n, PEOPLE, at, f"st{first}"),
            rate=RATE,
            duration=seconds,
            first=first,
        )
        wanted = {ticket_id(first + i) for i in range(sent)}
        sink = parts.sink

        def arrived() -> bool:
            got = first_arrivals(sink.requests())
            return all(t in got for t in wanted)

        complete, _ = await await_until(arrived, timeout=60, interval=0.1)
        arrivals = first_arrivals(sink.requests())
        latencies = [arrivals[t] - pub.sent[t] for t in wanted if t in arrivals]
    done.set()
    if task is not None:
        await task
    return {
        "published": sent,
        "delivered": len(latencies),
        "complete": complete,
        "paging_latency_ms": percentiles(latencies),
        "routes_ms": {route: percentiles(values) for route, values in timings.items()},
        "requests": {route: len(values) for route, values in timings.items()},
        "statuses": statuses,
    }


async def _run(parts: Stack, seconds: float) -> dict[str, Any]:
    # Warm-up: connections, caches, the first snapshot of the open tickets.
    warm = await _phase(parts, first=TICKETS + 1000, seconds=2.0, load=True)
    quiet = await _phase(parts, first=TICKETS + 10_000, seconds=seconds, load=False)
    loaded = await _phase(parts, first=TICKETS + 50_000, seconds=seconds, load=True)
    return {"warmup": warm, "events_only": quiet, "events_and_page_load": loaded}


def status_page(opts: Options) -> Outcome:
    work = fresh_dir(opts, "status_page")
    seconds = opts.seconds(20.0, 5.0)
    settings = {"http": {"status_auth_file": "status.secret"}}
    with stack(work, people=PEOPLE, settings=settings) as parts:
        _add_rotations(parts.config)
        now = time.time()
        fill = prefill(str(parts.config), TICKETS, PEOPLE, first_now=now - 600, last_now=now)
        parts.start_daemon()
        runs = asyncio.run(_run(parts, seconds))
    loaded = runs["events_and_page_load"]
    quiet = runs["events_only"]
    figures = [
        at_most(f"{route} p99", loaded["routes_ms"][route]["p99"], "ms", TARGET_MS)
        for route in ROUTES
    ]
    figures += [
        info(
            "event -> Twilio p99, events only",
            quiet["paging_latency_ms"]["p99"],
            "ms",
        ),
        info(
            "event -> Twilio p99, with page load",
            loaded["paging_latency_ms"]["p99"],
            "ms",
        ),
    ]
    return Outcome(
        figures=figures,
        details={
            "people": PEOPLE,
            "rotations": ROTATIONS,
            "open_tickets_prefilled": TICKETS,
            "events_per_s": RATE,
            "seconds_per_phase": seconds,
            "prefill": fill,
            "runs": runs,
        },
        notes=[
            "route latency: request sent -> body read by an aiohttp client in the bench"
            f" process, {READS_PER_S} requests/s, one at a time, routes in turn, while"
            f" {RATE} events/s are published",
            "/status lists the 100 most urgent tickets (the page paginates); /api/tickets"
            " returns 100 by default",
        ],
    )


SCENARIOS = {"status_page": status_page}
