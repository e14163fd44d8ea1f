"""Two nodes on PostgreSQL under a steady load, with failures, then reconcile.

The desk opens tickets at a steady rate; nobody acknowledges, so every ticket climbs the
whole four-rung ladder (``ack_within`` 2 s: the deadlines fire during the run, on
whichever node takes them). Meanwhile a node is killed with SIGKILL (the sending one
first: that is the interesting one) and started again; the long variant kills each node
in turn several times and restarts PostgreSQL itself under the load. Afterwards:

* no event lost: every event the broker acknowledged to the desk is in ``events``, once;
* every deadline fired once: each ticket's audit has exactly one page decision per rung
  person (ana, bob, carol, dave) and one "paging stopped" note;
* every page went out: each (ticket, person) is in some accepted SMS;
* duplicates only for sends in flight at a failure: a (ticket, person) sent twice had
  its first copy accepted in the few seconds before a kill, or while the database was
  restarting (the provider accepted it, the store could not record it).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import aiomqtt
import pytest

from testkit.postgres import PostgresCluster
from tests.e2e.conftest import now_rfc3339, until
from tests.pg_nodes import Cluster, MakeCluster, Node, make_cluster

__all__ = ["make_cluster"]  # the fixture, re-exported for this module's tests

PEOPLE = ("ana", "bob", "carol", "dave")
#: How long before a failure a send may have been in flight (provider call + record).
IN_FLIGHT = 5.0


@dataclass
class Storm:
    seconds: float
    per_second: float
    prefix: str = field(default_factory=lambda: f"C{uuid.uuid4().hex[:4]}")
    published: list[str] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)
    #: (start, end) monotonic instants of each kill or database restart.
    faults: list[tuple[float, float]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


async def stream(cluster: Cluster, storm: Storm) -> None:
    """Publish ``opened`` events at a steady rate; record those the broker acknowledged."""
    count = int(storm.seconds * storm.per_second)
    started = time.monotonic()
    async with aiomqtt.Client(
        cluster.broker.host, cluster.broker.port, identifier=f"desk-{uuid.uuid4().hex[:6]}"
    ) as client:
        for n in range(count):
            await asyncio.sleep(max(0.0, started + n / storm.per_second - time.monotonic()))
            ticket = f"{storm.prefix}-{n}"
            body = {
                "event_id": uuid.uuid4().hex,
                "ticket_id": ticket,
                "type": "opened",
                "at": now_rfc3339(),
                "severity": 1,
                "tier": "premier",
                "customer": "Acme",
                "summary": "gateway down",
            }
            await client.publish(
                f"support/tickets/{ticket}/events", json.dumps(body).encode(), qos=1
            )
            storm.published.append(body["event_id"])
            storm.tickets.append(ticket)


async def sending_node(cluster: Cluster) -> Node:
    async def role(node: Node) -> str:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(node.base_url + "/healthz") as resp,
        ):
            return (await resp.text()).strip()

    async def find() -> Node | None:
        for node in cluster.nodes:
            if node.daemon.running and (await role(node)).endswith(", sending"):
                return node
        return None

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = await find()
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("no node holds the sending role")


async def kill_and_restart(node: Node, storm: Storm, *, down: float) -> None:
    killed = time.monotonic()
    await node.daemon.akill9()
    # The fake Twilio runs on this loop: a request the node sent just before it died may
    # be stamped a moment after the kill returned.
    storm.faults.append((killed, time.monotonic() + 1.0))
    await asyncio.sleep(down)
    await node.daemon.astart()


def reconcile(cluster: Cluster, storm: Storm) -> list[str]:
    """Every problem found (empty: the run kept every promise)."""
    problems: list[str] = []
    rows = cluster.query("SELECT event_id FROM events WHERE event_id = ANY(%s)", storm.published)
    lost = set(storm.published) - {r[0] for r in rows}
    if lost:
        problems.append(f"{len(lost)} acknowledged event(s) lost: {sorted(lost)[:5]}")
    decisions: Counter[tuple[str, str]] = Counter()
    exhausted: Counter[str] = Counter()
    for ticket, action, detail in cluster.query(
        "SELECT ticket_id, action, detail FROM audit WHERE ticket_id = ANY(%s)", storm.tickets
    ):
        info = json.loads(detail)
        if action == "page" and info.get("via") == "sms":
            decisions[(ticket, info["to"])] += 1
        if action == "note" and "paging stopped" in info.get("detail", ""):
            exhausted[ticket] += 1
    for ticket in storm.tickets:
        for person in PEOPLE:
            if decisions[(ticket, person)] != 1:
                problems.append(
                    f"{ticket}: {decisions[(ticket, person)]} page decisions for {person}"
                )
        if exhausted[ticket] != 1:
            problems.append(f"{ticket}: paging stopped {exhausted[ticket]} times")
    sent: dict[tuple[str, str], list[float]] = {}
    for person in PEOPLE:
        for sms in cluster.sms_to(person):
            for ticket in re.findall(rf"\b{storm.prefix}-\d+\b", sms.body or ""):
                sent.setdefault((ticket, person), []).append(sms.at)
    for ticket in storm.tickets:
        for person in PEOPLE:
            times = sorted(sent.get((ticket, person), []))
            if not times:
                problems.append(f"{ticket}: never paged {person}")
            elif len(times) > 1 and not any(
                start - IN_FLIGHT <= times[0] <= end for start, end in storm.faults
            ):
                copies = ", ".join(f"{t - storm.started:.1f}" for t in times)
                faults = ", ".join(
                    f"{a - storm.started:.1f}-{b - storm.started:.1f}" for a, b in storm.faults
                )
                problems.append(
                    f"{ticket}: {person} paged {len(times)} times (at {copies} s),"
                    f" not at a failure (faults at {faults} s)"
                )
    return problems


async def wait_settled(cluster: Cluster, storm: Storm, *, within: float) -> None:
    def done() -> bool:
        rows = cluster.query(
            "SELECT count(*) FROM audit WHERE action = 'note'"
            " AND detail LIKE '%%paging stopped%%' AND ticket_id = ANY(%s)",
            storm.tickets,
        )
        pending = cluster.query(
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')"
            " AND ticket_id = ANY(%s)",
            storm.tickets,
        )
        return rows[0][0] >= len(storm.tickets) and pending[0][0] == 0

    await until(done, timeout=within, what="every ticket's ladder run and sent")


async def test_sigkill_of_the_sending_node_under_load_loses_nothing(
    make_cluster: MakeCluster,
) -> None:
    cluster = await make_cluster(nodes=2, ack_within="2s", voice_after=None)
    storm = Storm(seconds=6, per_second=8)
    load = asyncio.create_task(stream(cluster, storm))
    await asyncio.sleep(2.0)
    victim = await sending_node(cluster)
    await kill_and_restart(victim, storm, down=1.5)
    await load
    await wait_settled(cluster, storm, within=40)
    problems = reconcile(cluster, storm)
    assert problems == [], "\n".join(problems[:20])
    # Every ticket of the load is in the database (len(storm.published) is the load's own count).
    [(stored,)] = cluster.query(
        "SELECT count(*) FROM tickets WHERE ticket_id = ANY(%s)", storm.tickets
    )
    assert stored == storm.seconds * storm.per_second == 48


@pytest.mark.chaos
async def test_each_node_killed_in_turn_and_the_database_restarted_under_load(
    make_cluster: MakeCluster, postgres_cluster: PostgresCluster
) -> None:
    cluster = await make_cluster(nodes=2, ack_within="2s", voice_after=None)
    storm = Storm(seconds=40, per_second=10)
    load = asyncio.create_task(stream(cluster, storm))
    for round_ in range(3):
        await asyncio.sleep(3.0)
        for node in cluster.nodes:
            await kill_and_restart(node, storm, down=1.0 + round_ * 0.5)
            await asyncio.sleep(2.0)
        await asyncio.sleep(1.0)
        began = time.monotonic()
        await asyncio.to_thread(postgres_cluster.restart)
        # Sends accepted while the database was away are recorded once it is back.
        storm.faults.append((began, time.monotonic() + IN_FLIGHT))
    await load
    await wait_settled(cluster, storm, within=120)
    problems = reconcile(cluster, storm)
    assert problems == [], "\n".join(problems[:20])
