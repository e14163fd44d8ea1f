"""kill -9 at random moments while events stream in and pages go out, then reconcile.

The desk opens tickets steadily; some are acknowledged, some closed, the rest climb the
whole ladder (``ack_within`` 2 s, so escalations happen during the run). Meanwhile the
daemon is killed with SIGKILL at random moments, some of them while it is still starting,
and started again. After a last clean run the store and the providers must agree:

* every event the broker acknowledged to the desk was committed (none lost);
* every notification pager decided was delivered; duplicates only in the window SPEC
  section 9 allows (the process died between the provider accepting and the store
  recording): each repeat is matched to a kill at which its row was in flight (``sending``
  in the store the process left), at most once per (kill, row), so no kill produces more
  duplicates than it had sends in flight; the long run writes its report to
  ``bench/results/kill9.json``;
* nothing was paged for a ticket after it was acknowledged or closed, beyond what was
  already in flight; nothing the store cancelled went out;
* every armed deadline fired: each untouched ticket walked the whole ladder, and decided
  exactly what ``pager simulate`` decides for the same events and config.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from testkit.chaos_reconcile import (
    Reconciliation,
    audit_decisions,
    load_rows,
    oversized_sms,
    pages_after_ack,
    received_items,
    reconcile,
    simulate_decisions,
    touched_after,
)
from testkit.chaos_rig import EventPublisher, Rig, ticket_event, until
from testkit.fake_twilio import Fault
from tests.chaos.conftest import MakeRig

#: Where the long run writes its report.
REPORT = Path(__file__).resolve().parents[2] / "bench" / "results" / "kill9.json"


@dataclass
class Storm:
    kills: int
    stream_seconds: float
    tickets_per_second: float
    #: share of tickets acknowledged by ana, and closed, a little after they open.
    ack_share: float = 0.3
    close_share: float = 0.2
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    untouched: set[str] = field(default_factory=set)
    #: For each kill (in order): the outbox rows the dead process left ``sending``
    #: (id -> channel), read from its store before anything restarted.
    in_flight: list[dict[int, str]] = field(default_factory=list)


def plan(storm: Storm, rng: random.Random, prefix: str) -> None:
    """Fill ``storm.events`` with (offset seconds, event) in time order."""
    count = int(storm.stream_seconds * storm.tickets_per_second)
    for n in range(count):
        ticket = f"{prefix}-{n:04d}"
        opened_at = n / storm.tickets_per_second
        storm.events.append((opened_at, ticket_event(ticket)))
        touched = False
        last = opened_at
        if rng.random() < storm.ack_share:
            last = opened_at + rng.uniform(0.2, 3.0)
            storm.events.append((last, {"ticket_id": ticket, "type": "acknowledged", "by": "ana"}))
            touched = True
        if rng.random() < storm.close_share:
            last = last + rng.uniform(0.2, 4.0)
            storm.events.append((last, {"ticket_id": ticket, "type": "closed"}))
            touched = True
        if not touched:
            storm.untouched.add(ticket)
    storm.events.sort(key=lambda pair: pair[0])


async def feed(storm: Storm, publisher: EventPublisher) -> list[dict[str, Any]]:
    """Hand each planned event to the publisher at its offset (stamped when it is due)."""
    started = time.monotonic()
    sent: list[dict[str, Any]] = []
    for offset, template in storm.events:
        delay = started + offset - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        body = dict(template)
        if "event_id" not in body:  # acks and closes are stamped when they happen
            body = ticket_event(body.pop("ticket_id"), body.pop("type"), **body)
        publisher.put(body)
        sent.append(body)
    return sent


async def kill9(rig: Rig, storm: Storm) -> None:
    """kill -9, then note what the dead process left in flight (its store is final now)."""
    await rig.kill9()
    rows = rig.query("SELECT id, channel FROM outbox WHERE state = 'sending'")
    storm.in_flight.append(dict(rows))


async def killer(rig: Rig, storm: Storm, rng: random.Random) -> None:
    """``storm.kills`` kill -9s at random moments; some hit a process still starting up."""
    span = storm.stream_seconds + 4.0
    gap = span / storm.kills
    while len(rig.kills) < storm.kills:
        await asyncio.sleep(rng.uniform(0.2, max(0.4, gap - 2.0)))
        await kill9(rig, storm)
        if len(rig.kills) < storm.kills and rng.random() < 0.25:
            # Killed again before it is ready: mid start-up, requeue or first claims.
            await rig.daemon.astart(wait_ready=False)
            await asyncio.sleep(rng.uniform(0.05, 1.5))
            await kill9(rig, storm)
        await rig.start()


def duplicates_within_in_flight(
    result: Reconciliation, kills: list[tuple[float, float]], in_flight: list[dict[int, str]]
) -> tuple[list[int], list[str]]:
    """Match every repeat delivery to a kill at which its row was in flight.

    A repeat (a row received again after a first delivery) is explained by kill *i* when
    the row was ``sending`` in the store kill *i* left, the first delivery came no later
    than just after that process was reaped, and the repeat came after the kill. Each
    (kill, row) pair explains at most one repeat, so the duplicates charged to a kill
    never exceed its rows in flight. Returns (duplicates per kill, repeats unexplained).
    """
    slack = 0.5  # requests written just before dying reach the fake a little later
    used: set[tuple[int, int]] = set()
    per_kill = [0] * len(kills)
    problems: list[str] = []
    for row, arrivals in result.duplicates:
        for first, again in itertools.pairwise(arrivals):
            candidates = [
                i
                for i, (sent, reaped) in enumerate(kills)
                if row.id in in_flight[i]
                and first <= reaped + slack
                and again > sent
                and (i, row.id) not in used
            ]
            if not candidates:
                problems.append(
                    f"{row} delivered at {first:.3f} and again at {again:.3f}; in flight at"
                    f" kills {[i for i, f in enumerate(in_flight) if row.id in f]},"
                    f" kills {[(round(a, 3), round(b, 3)) for a, b in kills]}"
                )
                continue
            i = candidates[-1]  # the latest kill before the repeat that had it in flight
            used.add((i, row.id))
            per_kill[i] += 1
    return per_kill, problems


async def run_storm(
    make_rig: MakeRig, tmp_path: Path, seed: int, storm: Storm, *, report: Path | None = None
) -> None:
    rng = random.Random(seed)
    rig: Rig = await make_rig(ack_within="2s", voice_after="1s")
    plan(storm, rng, prefix=f"K{seed % 10000}")
    publisher = EventPublisher(rig.broker)
    publisher.start()
    try:
        feeding = asyncio.create_task(feed(storm, publisher))
        await killer(rig, storm, rng)
        sent = await feeding
        assert rig.daemon.running
        await publisher.drain()
        event_ids = {e["event_id"] for e in sent}
        await until(
            lambda: event_ids <= rig.committed_event_ids(),
            timeout=30,
            what="every published event committed",
        )
        await until(rig.settled, timeout=40, what="every ticket settled and the outbox empty")
        assert await rig.stop() == 0, "SIGTERM must drain and exit 0"
    finally:
        await publisher.close()

    assert len(rig.kills) == storm.kills
    lost_events = event_ids - rig.committed_event_ids()
    assert not lost_events, f"{len(lost_events)} acknowledged events never committed"

    rows = load_rows(rig.db_path)
    items = received_items(rig.twilio.requests, rig.mails())
    result = reconcile(rows, items)
    report_text = result.summary() + f"\nkills at {rig.kills}"
    print(report_text)
    if report is not None and (result.lost or result.delivered_though_unsent or result.unexplained):
        write_report(report, seed, storm, rig, result, [], ["lost or unexplained deliveries"])
    assert not result.lost, report_text
    assert not result.delivered_though_unsent, report_text
    assert not result.unexplained, report_text
    # SPEC section 9 allows a repeat of every send in flight at the kill, no more.
    per_kill, problems = duplicates_within_in_flight(result, rig.kills, storm.in_flight)
    in_flight = [len(rows) for rows in storm.in_flight]
    print(f"duplicates per kill: {per_kill}; rows in flight at each kill: {in_flight}")
    if report is not None:
        write_report(report, seed, storm, rig, result, per_kill, problems)
    assert not problems, "\n".join(problems) + "\n" + report_text
    assert all(d <= f for d, f in zip(per_kill, in_flight, strict=True)), (per_kill, in_flight)
    # What the restarts did with the sends each kill left in flight
    # (pager.daemon.outbox.relay.recover).
    settled = [line for line in rig.daemon.lines if "had reached the provider" in line]
    requeued = [line for line in rig.daemon.lines if "re-queued" in line]
    print(f"restarts that found interrupted SMS at Twilio: {len(settled)}: {settled[:5]}")
    print(f"restarts that re-queued sends: {len(requeued)}: {requeued[:5]}")

    too_long = oversized_sms(rig.twilio.requests)
    assert not too_long, f"SMS bodies over Twilio's 1600-character limit: {too_long}"

    late = pages_after_ack(rows, touched_after(rig.db_path))
    assert not late, "paged after ack/close:\n" + "\n".join(map(str, late))

    # Every deadline fired: untouched tickets decided what the simulation decides.
    decided = audit_decisions(rig.db_path)
    opened = [e for e in sent if e["type"] == "opened" and e["ticket_id"] in storm.untouched]
    expected = simulate_decisions(rig.config_dir, opened, tmp_path)
    assert storm.untouched, "the plan left no ticket untouched"
    for ticket in sorted(storm.untouched):
        assert decided.get(ticket) == expected.get(ticket), (
            f"{ticket}: live {sorted(decided.get(ticket, {}).items())}"
            f" != simulated {sorted(expected.get(ticket, {}).items())}"
        )
        assert any(action == "unacknowledged" for action, *_ in decided[ticket]), ticket

    assert not rig.tracebacks(), rig.tracebacks()[0]
    assert "never retrieved" not in rig.daemon.output()


def write_report(
    path: Path,
    seed: int,
    storm: Storm,
    rig: Rig,
    result: Reconciliation,
    per_kill: list[int],
    problems: list[str],
) -> None:
    """The run as JSON: the storm, each kill with its rows in flight and the duplicates
    charged to it, the reconciliation counts and any problem."""
    settled = sum(1 for line in rig.daemon.lines if "had reached the provider" in line)
    kills = [
        {
            "signal_at": round(sent, 3),
            "reaped_at": round(reaped, 3),
            "rows_in_flight": len(storm.in_flight[i]),
            "rows_in_flight_by_channel": dict(
                sorted(
                    (ch, sum(1 for c in storm.in_flight[i].values() if c == ch))
                    for ch in set(storm.in_flight[i].values())
                )
            ),
            "duplicates": per_kill[i] if i < len(per_kill) else None,
        }
        for i, (sent, reaped) in enumerate(rig.kills)
    ]
    repo = Path(__file__).resolve().parents[2]
    git = ["git", "-C", str(repo)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "pager"], capture_output=True, text=True)
    record = {
        "test": "tests/chaos/test_kill9.py::test_kill9_storm_long",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pager_commit": commit.stdout.strip() or None,
        "pager_modified_since_commit": bool(dirty.stdout.strip()),
        "seed": seed,
        "storm": {
            "kills": storm.kills,
            "stream_seconds": storm.stream_seconds,
            "tickets_per_second": storm.tickets_per_second,
            "events": len(storm.events),
        },
        "outbox_rows": len(result.rows),
        "received_items": len(result.items),
        "lost": len(result.lost),
        "duplicates": len(result.duplicates),
        "duplicates_by_channel": dict(
            sorted(
                (ch, sum(1 for row, _ in result.duplicates if row.channel == ch))
                for ch in {row.channel for row, _ in result.duplicates}
            )
        ),
        "restarts_that_found_interrupted_sms_at_twilio": settled,
        "kills": kills,
        "bound_held": not problems
        and all(d <= k["rows_in_flight"] for d, k in zip(per_kill, kills, strict=False)),
        "problems": problems[:50],
        "summary": result.summary(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


async def test_restart_backlog_goes_out_in_bodies_twilio_accepts(make_rig: MakeRig) -> None:
    """Twilio hangs while 80 pages for one person are sent; kill -9; on restart all of them
    are due at once. However they are bundled, each SMS must fit Twilio's 1600-character
    limit (error 21617 otherwise), and none may be lost."""
    rig: Rig = await make_rig(ack_within="1h", voice_after=None)
    publisher = EventPublisher(rig.broker)
    publisher.start()
    try:
        # Every SMS hangs, then fails: nothing is delivered before the kill.
        rig.twilio.add_number_rule(re.compile(r"\+[0-9]+"), Fault(status=503, delay=60.0))
        ids = []
        for n in range(80):
            event = ticket_event(f"RB-{n:03d}")
            publisher.put(event)
            ids.append(event["event_id"])
        await publisher.drain()
        await until(lambda: set(ids) <= rig.committed_event_ids(), timeout=30, what="events")
        await until(
            lambda: rig.query("SELECT COUNT(*) FROM outbox WHERE state = 'sending'")[0][0] >= 80,
            timeout=20,
            what="the SMS in flight",
        )
        await rig.kill9()
        rig.twilio.clear_faults()
        await rig.start()
        await until(lambda: rig.settled(ladders_done=False), timeout=30, what="the backlog sent")
        assert await rig.stop() == 0
    finally:
        await publisher.close()
    too_long = oversized_sms(rig.twilio.requests)
    assert not too_long, f"SMS bodies over Twilio's 1600-character limit: {too_long}"
    result = reconcile(load_rows(rig.db_path), received_items(rig.twilio.requests, rig.mails()))
    assert not result.lost, result.summary()
    # Mail in flight at the kill may go out twice (SPEC section 9); nothing else may.
    _, problems = result.duplicates_per_kill(rig.kills)
    assert not problems, "\n".join(problems)


async def test_kill9_storm_quick(make_rig: MakeRig, tmp_path: Path, chaos_seed: int) -> None:
    await run_storm(
        make_rig, tmp_path, chaos_seed, Storm(kills=3, stream_seconds=8.0, tickets_per_second=4.0)
    )


@pytest.mark.chaos
@pytest.mark.timeout(600)
async def test_kill9_storm_long(make_rig: MakeRig, tmp_path: Path, chaos_seed: int) -> None:
    await run_storm(
        make_rig,
        tmp_path,
        chaos_seed,
        Storm(kills=20, stream_seconds=60.0, tickets_per_second=5.0),
        report=REPORT,
    )
