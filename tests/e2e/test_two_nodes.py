"""Several nodes: `pager run` processes sharing one PostgreSQL database (SPEC section 9).

One real Mosquitto, one fake Twilio, one SMTP server, one PostgreSQL database (a fresh one
of the session's own cluster), and one or two `pager run --node NAME` children, each with
its own MQTT client id (its own persistent session) and its own HTTP port.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONES, event, still, until
from tests.pg_nodes import MakeCluster, Node, make_cluster

__all__ = ["make_cluster"]  # the fixture, used by this module's tests

pytestmark = pytest.mark.e2e


def reply_code(body: str | None, ticket: str) -> str:
    """The reply code of ``ticket`` in a page or a bundle of pages."""
    single = re.search(r"Reply (\w+) to ack", body or "")
    if single and ticket in (body or ""):
        return single.group(1)
    bundled = re.search(rf"{re.escape(ticket)}\b[^\n]*\((\w+)\)", body or "")
    assert bundled, f"no reply code for {ticket} in {body!r}"
    return bundled.group(1)


async def test_one_node_on_postgresql_pages_and_a_reply_acknowledges(
    make_cluster: MakeCluster,
) -> None:
    cluster = await make_cluster(nodes=1, ack_within="2s", voice_after=None)
    [node] = cluster.nodes
    await cluster.publish(event("T-1"))
    [sms] = await until(lambda: cluster.sms_to("ana") or None, what="the page to ana")
    status, answer = await cluster.twilio.send_inbound_sms(
        f"{node.base_url}/twilio/sms", from_=PHONES["ana"], body=reply_code(sms.body, "T-1")
    )
    assert status == 200 and "Acked T-1" in answer, answer
    assert cluster.ticket_state("T-1")["owner"] == "ana"
    # Past rung 1's ack_within: nobody else is paged.
    await still(lambda: not cluster.sms_to("bob"), duration=2.5, what="no page to bob")
    # The command line works on the shared database too.
    timeline = await node.daemon.acli("timeline", "T-1")
    assert timeline.returncode == 0, timeline.stderr
    assert "owner ana" in timeline.stdout, timeline.stdout
    health = await _get(node, "/healthz")
    assert health.startswith("ok: node node-a, database 127.0.0.1:"), health
    assert 'pager_node_info{node="node-a"} 1.0' in await _get(node, "/metrics")


async def test_two_nodes_page_each_event_once(make_cluster: MakeCluster) -> None:
    cluster = await make_cluster(nodes=2, ack_within="10m", voice_after=None)
    tickets = [f"T-{i}" for i in range(30)]
    for ticket in tickets:
        await cluster.publish(event(ticket))

    def paged() -> dict[str, int] | None:
        seen = {t: 0 for t in tickets}
        for sms in cluster.sms_to("ana"):
            for t in tickets:
                if re.search(rf"\b{re.escape(t)}\b", sms.body or ""):
                    seen[t] += 1
        return seen if all(seen.values()) else None

    await until(paged, timeout=15, what="a page of every ticket")
    await still(lambda: all(n == 1 for n in (paged() or {}).values()), duration=1.5, what="once")
    # Each event was applied by one node: one row per event, one ticket per ticket.
    [(events,)] = cluster.query("SELECT count(*) FROM events")
    assert events == len(tickets)
    appliers = {node for (node,) in cluster.query("SELECT DISTINCT node FROM events")}
    assert appliers and appliers <= {"node-a", "node-b"}, appliers  # each row names its node
    rows = cluster.query(
        "SELECT ticket_id, count(*) FROM outbox WHERE channel = 'sms' GROUP BY ticket_id"
    )
    assert sorted(rows) == sorted((t, 1) for t in tickets)
    # One node sends; the other stands by.
    roles = [await _get(node, "/healthz") for node in cluster.nodes]
    assert sorted(r.strip().rsplit(", ", 1)[1] for r in roles) == ["sending", "standby for sending"]


async def test_a_reply_to_either_node_acknowledges(make_cluster: MakeCluster) -> None:
    cluster = await make_cluster(nodes=2, ack_within="3s", voice_after=None)
    first, second = cluster.nodes
    await cluster.publish(event("T-A"))
    [sms_a] = await until(lambda: cluster.sms_to("ana") or None, what="the page of T-A")
    await cluster.publish(event("T-B"))
    sms_b = await until(
        lambda: [s for s in cluster.sms_to("ana") if "T-B" in (s.body or "")] or None,
        what="the page of T-B",
    )
    for node, ticket, sms in ((first, "T-A", sms_a), (second, "T-B", sms_b[0])):
        status, answer = await cluster.twilio.send_inbound_sms(
            f"{node.base_url}/twilio/sms", from_=PHONES["ana"], body=reply_code(sms.body, ticket)
        )
        assert status == 200 and f"Acked {ticket}" in answer, answer
        assert cluster.ticket_state(ticket)["owner"] == "ana"
    # The same reply (same MessageSid) delivered to the other node is applied once.
    status, answer = await cluster.twilio.send_inbound_sms(
        f"{first.base_url}/twilio/sms", from_=PHONES["ana"], body="ACK ALL", message_sid="SMdup"
    )
    assert status == 200
    status, again = await cluster.twilio.send_inbound_sms(
        f"{second.base_url}/twilio/sms", from_=PHONES["ana"], body="ACK ALL", message_sid="SMdup"
    )
    assert status == 200 and "Already handled" in again, again
    # Past rung 1's ack_within on both tickets: bob is never paged.
    await still(lambda: not cluster.sms_to("bob"), duration=3.5, what="no page to bob")


async def _get(node: Node, path: str) -> str:
    import aiohttp

    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.get(node.base_url + path) as resp,
    ):
        return await resp.text()
