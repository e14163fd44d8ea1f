"""The core and the store, without broker or providers (issue 3).

* ``core_steps``: pure :func:`pager.core.ladder.step` calls per second on one core.
* ``store_ingest``: a burst of 10,000 ``opened`` events through :class:`Service` (real
  SQLite store, group commit), until every one is committed.
* ``simulate_10k``: ``pager simulate`` of 10,000 tickets over a week, wall time.

All three run on the repository's worked example config, with a week of generated
desk traffic (:func:`week_of_tickets`): ack delays, status reports, customer waits,
escalations and closes, seeded so that every run replays the same week.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_common import (
    PYTHON,
    REPO,
    Options,
    Outcome,
    at_least,
    at_most,
    fanout_event,
    fresh_dir,
    info,
    iso,
    write_fanout_config,
)
from pager.config.load import load_config
from pager.core.events import TicketEvent, parse_event
from pager.core.ladder import EventInput, Tick, TicketState, next_deadline, step
from pager.core.model import Config
from pager.core.policy import Policy
from pager.daemon.engine import Engine
from pager.daemon.service import Service
from pager.store.sqlite.store import SqliteStore

#: Monday 00:00 UTC of the generated week.
WEEK_START = datetime(2026, 11, 23, tzinfo=UTC)
ENGINEERS = ("dung", "linh", "minh", "razvan", "ana", "andrei", "john", "maria", "kevin")
CUSTOMERS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Tyrell")
SUMMARIES = (
    "gateway down",
    "login failures",
    "report export slow",
    "data sync stalled",
    "API latency doubled",
    "license key rejected",
    "dashboard shows stale data",
)
#: Severity mix of a support desk: few critical tickets, many requests.
SEVERITY_WEIGHTS = {1: 5, 2: 20, 3: 45, 4: 30}
TIER_WEIGHTS = {"standard": 35, "premier": 25, "platinum": 15, "gold": 15, "silver": 10}
#: Hours a ticket stays open, by severity (uniform range).
OPEN_HOURS = {1: (2, 8), 2: (4, 24), 3: (24, 72), 4: (24, 120)}


def example_config() -> Config:
    return load_config(REPO)


def week_of_tickets(count: int, seed: int = 42) -> list[dict[str, Any]]:
    """Events of ``count`` tickets opened over one week, sorted by ``at``.

    85 % are acknowledged in the desk (exponential delay, mean 10 minutes, so some
    escalate first); acknowledged Sev1/Sev2 tickets post status reports every 100-130
    minutes; 10 % wait on the customer for a while; 3 % are escalated by the customer;
    every ticket is closed (Sev1 after 2-8 h ... Sev4 after 1-5 days).
    """
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    severities = list(SEVERITY_WEIGHTS)
    tiers = list(TIER_WEIGHTS)

    def add(ticket: str, number: int, kind: str, at: datetime, **extra: Any) -> None:
        events.append(
            {
                "event_id": f"{ticket}-{number}",
                "ticket_id": ticket,
                "type": kind,
                "at": iso(at),
                **extra,
            }
        )

    for i in range(count):
        ticket = f"T-{i + 1:05d}"
        opened = WEEK_START + timedelta(seconds=rng.uniform(0, 7 * 86400))
        if rng.random() < 0.1:
            queue: str | None = "platform"
            tier = "subscription"
            severity = rng.choice((1, 2, 3))
        else:
            queue = None
            tier = rng.choices(tiers, weights=list(TIER_WEIGHTS.values()))[0]
            severity = rng.choices(severities, weights=list(SEVERITY_WEIGHTS.values()))[0]
        extra: dict[str, Any] = {
            "severity": severity,
            "tier": tier,
            "customer": rng.choice(CUSTOMERS),
            "summary": rng.choice(SUMMARIES),
        }
        if queue is not None:
            extra["queue"] = queue
        n = 0
        add(ticket, n, "opened", opened, **extra)
        low, high = OPEN_HOURS[severity]
        closed = opened + timedelta(hours=rng.uniform(low, high))
        acked: datetime | None = None
        if rng.random() < 0.85:
            acked = opened + timedelta(minutes=min(rng.expovariate(1 / 10), 240))
            if acked < closed:
                n += 1
                add(ticket, n, "acknowledged", acked, by=rng.choice(ENGINEERS))
        if rng.random() < 0.03:
            n += 1
            add(ticket, n, "escalated", opened + timedelta(minutes=rng.uniform(20, 90)))
        if rng.random() < 0.1:
            wait = opened + timedelta(minutes=rng.uniform(30, 120))
            if wait < closed:
                n += 1
                add(ticket, n, "waiting_on_customer", wait)
                back = wait + timedelta(minutes=rng.uniform(30, 600))
                if back < closed:
                    n += 1
                    add(ticket, n, "customer_replied", back)
        if acked is not None and severity <= 2:
            report = acked + timedelta(minutes=rng.uniform(100, 130))
            while report < closed:
                n += 1
                add(ticket, n, "status_report", report)
                report += timedelta(minutes=rng.uniform(100, 130))
        n += 1
        add(ticket, n, "closed", closed)
    events.sort(key=lambda e: e["at"])
    return events


# --- core_steps ------------------------------------------------------------------------


def core_steps(opts: Options) -> Outcome:
    """``step()`` for ``opened`` events, then up to four deadline ticks per ticket."""
    policy = Policy(example_config())
    tickets = opts.scale(20_000, 5_000)
    opened = [parse_event(json.dumps(e)) for e in week_of_tickets(tickets) if e["type"] == "opened"]
    # Warm the rotation and calendar caches the way a running daemon has them warm.
    for event in opened[:500]:
        step(None, EventInput(event), event.at, policy)

    states: list[TicketState] = []
    cpu, wall = time.process_time(), time.perf_counter()
    for event in opened:
        states.append(step(None, EventInput(event), event.at, policy).state)
    open_wall, open_cpu = time.perf_counter() - wall, time.process_time() - cpu

    ticks = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for state in states:
        current = state
        for _ in range(4):
            due = next_deadline(current)
            if due is None:
                break
            current = step(current, Tick(), due, policy).state
            ticks += 1
    tick_wall, tick_cpu = time.perf_counter() - wall, time.process_time() - cpu

    opened_rate = len(opened) / open_wall
    tick_rate = ticks / tick_wall if tick_wall else None
    overall = (len(opened) + ticks) / (open_wall + tick_wall)
    return Outcome(
        figures=[
            info("step(opened) per second", opened_rate, "/s"),
            info("step(Tick) per second", tick_rate, "/s"),
            info("step() per second, all", overall, "/s"),
        ],
        details={
            "config": "repository example (rotations/, ladders/, people.yaml)",
            "opened_steps": len(opened),
            "tick_steps": ticks,
            "opened_seconds": open_wall,
            "opened_cpu_seconds": open_cpu,
            "tick_seconds": tick_wall,
            "tick_cpu_seconds": tick_cpu,
            "us_per_opened": 1e6 * open_wall / len(opened),
            "us_per_tick": 1e6 * tick_wall / ticks if ticks else None,
        },
        notes=["one thread, no I/O: the pure state machine with the example policy"],
    )


# --- store_ingest ----------------------------------------------------------------------


def _example_burst(count: int) -> list[tuple[TicketEvent, str]]:
    """``count`` premier Sev1/Sev2 ``opened`` events 1 ms apart in desk hours."""
    out: list[tuple[TicketEvent, str]] = []
    base = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    for i in range(count):
        payload = json.dumps(
            {
                "event_id": f"burst-{i}",
                "ticket_id": f"S-{i:06d}",
                "type": "opened",
                "at": iso(base + timedelta(milliseconds=i)),
                "severity": 1 + i % 2,
                "tier": "premier",
                "customer": CUSTOMERS[i % len(CUSTOMERS)],
                "summary": SUMMARIES[i % len(SUMMARIES)],
            }
        )
        out.append((parse_event(payload), payload))
    return out


def _fanout_burst(count: int, people: int) -> list[tuple[TicketEvent, str]]:
    base = datetime.now(UTC)
    out: list[tuple[TicketEvent, str]] = []
    for i in range(count):
        payload = json.dumps(fanout_event(i, people, base, "burst"))
        out.append((parse_event(payload), payload))
    return out


async def _burst(
    db: Path, config: Config, events: list[tuple[TicketEvent, str]], *, concurrent: bool
) -> float:
    """Seconds until every event is committed: all submitted at once, or one by one."""
    service = Service(SqliteStore(db), Policy(config))
    await service.start()
    try:
        started = time.perf_counter()
        if concurrent:
            await asyncio.gather(*(service.ingest(e, e.at, text) for e, text in events))
        else:
            for e, text in events:
                await service.ingest(e, e.at, text)
        return time.perf_counter() - started
    finally:
        await service.close()


def _engine_alone(db: Path, config: Config, events: list[tuple[TicketEvent, str]]) -> float:
    """Seconds for ``events`` through :class:`Engine` on this thread, 500 per transaction:
    the store thread's own share of a burst, without the event loop beside it."""
    store = SqliteStore(db)
    engine = Engine(store, Policy(config))
    try:
        started = time.perf_counter()
        for first in range(0, len(events), 500):
            with store.transaction():
                for event, text in events[first : first + 500]:
                    engine.ingest(event, event.at, text)
        return time.perf_counter() - started
    finally:
        store.close()


def _rows(db: Path) -> dict[str, int]:
    """Row counts read by a fresh connection, after the service closed its own."""
    conn = sqlite3.connect(db)
    try:
        return {
            table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("events", "tickets", "outbox", "audit", "codes")
        }
    finally:
        conn.close()


def store_ingest(opts: Options) -> Outcome:
    """10,000 ``opened`` events through Service: at once (group commit) and one by one.

    The target figure uses the fan-out config (2,000 people, 5 pages each), so that it
    measures the store path. The example config, where one on-call engineer gets every
    page, is measured too: its cost grows with that person's open pages.
    """
    work = fresh_dir(opts, "store_ingest")
    people = 2000
    config_dir = write_fanout_config(
        work / "fanout",
        people=people,
        mqtt_url="mqtt://127.0.0.1:1883",
        http_port=8025,
        twilio_api_base="http://127.0.0.1:9",
    )
    loading = time.perf_counter()
    fanout = load_config(config_dir)
    load_s = time.perf_counter() - loading
    count = 10_000
    events = _fanout_burst(count, people)
    # Three bursts, each into a fresh store; the median is the figure (a shared VM's
    # neighbours move single runs by +-30 %).
    runs = []
    for attempt in range(opts.scale(3, 1)):
        db = work / f"burst-{attempt}.db"
        runs.append(asyncio.run(_burst(db, fanout, events, concurrent=True)))
    burst_s = statistics.median(runs)
    alone_s = _engine_alone(work / "alone.db", fanout, events)
    burst_rows = _rows(work / "burst-0.db")
    serial_count = opts.scale(10_000, 3_000)
    serial_s = asyncio.run(
        _burst(work / "serial.db", fanout, events[:serial_count], concurrent=False)
    )
    same_count = opts.scale(3_000, 1_000)
    same_s = asyncio.run(
        _burst(work / "same.db", example_config(), _example_burst(same_count), concurrent=True)
    )
    same_rows = _rows(work / "same.db")
    return Outcome(
        figures=[
            at_least(
                f"burst of 10,000 opened, group commit (median of {len(runs)})",
                count / burst_s,
                "events/s",
                5000,
            ),
            info("same events one at a time (awaited)", serial_count / serial_s, "events/s"),
            info(
                "same burst through the engine alone (no event loop), 500 per commit",
                count / alone_s,
                "events/s",
            ),
            info(f"load_config of the {people:,}-person fan-out config", load_s, "s"),
            info(
                f"example config, {same_count:,} pages to one person, group commit",
                same_count / same_s,
                "events/s",
            ),
        ],
        details={
            "fanout_config": f"{people} people, one region each; event i pages person i % {people}",
            "events": count,
            "burst_seconds": burst_s,
            "burst_seconds_each_run": runs,
            "burst_rows": burst_rows,
            "durable": burst_rows["events"] == count,
            "serial_events": serial_count,
            "serial_seconds": serial_s,
            "example_events": same_count,
            "example_seconds": same_s,
            "example_rows": same_rows,
            "sqlite": "WAL, synchronous=NORMAL (the daemon's default)",
        },
        notes=[
            f"{burst_rows['events']} of {count} events found by a fresh connection after close",
            "example config: premier Sev1/Sev2 in desk hours, every one paging the same"
            " on-call engineer (SMS, email, voice step) and informing three managers",
        ],
    )


# --- simulate_10k ----------------------------------------------------------------------


def simulate_10k(opts: Options) -> Outcome:
    """``pager simulate -c REPO week.jsonl --json``, wall time of the whole process."""
    work = fresh_dir(opts, "simulate_10k")
    events = week_of_tickets(10_000)
    path = work / "week.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    empty = work / "empty.jsonl"
    empty.write_text("")
    pager = [str(Path(PYTHON).parent / "pager")]

    started = time.perf_counter()
    baseline = subprocess.run(
        [*pager, "simulate", "-c", str(REPO), str(empty), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    startup = time.perf_counter() - started

    out = work / "timeline.jsonl"
    with out.open("w") as sink:
        started = time.perf_counter()
        done = subprocess.run(
            [*pager, "simulate", "-c", str(REPO), str(path), "--json"],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
        )
        wall = time.perf_counter() - started
    lines = out.read_text().splitlines()
    actions: dict[str, int] = {}
    for line in lines:
        action = json.loads(line)["action"]
        actions[action] = actions.get(action, 0) + 1
    by_type: dict[str, int] = {}
    for e in events:
        by_type[e["type"]] = by_type.get(e["type"], 0) + 1
    return Outcome(
        figures=[
            at_most("pager simulate, 10,000 tickets / 1 week", wall, "s", 10),
            info("of which start-up (empty file)", startup, "s"),
        ],
        details={
            "command": "pager simulate -c . week.jsonl --json",
            "tickets": 10_000,
            "events": len(events),
            "events_by_type": by_type,
            "timeline_lines": len(lines),
            "timeline_actions": actions,
            "exit_code": done.returncode,
            "baseline_exit_code": baseline.returncode,
            "stderr_tail": done.stderr[-2000:],
            "seconds": wall,
            "startup_seconds": startup,
        },
        notes=["events from week_of_tickets(10000, seed=42): see bench/bench_core.py"],
    )


SCENARIOS = {
    "core_steps": core_steps,
    "store_ingest": store_ingest,
    "simulate_10k": simulate_10k,
}
