"""Several `pager run` nodes on one PostgreSQL database, for the e2e and chaos tests.

``make_cluster(nodes=2, **write_tiny_config options)`` starts that many nodes: one real
Mosquitto, one fake Twilio, one SMTP server, one fresh database of the session's own
cluster, and per node its own config dir, HTTP port, MQTT client id (its own persistent
session) and ``--node NAME``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pager.core.ladder.state import state_fields
from pager.store.sqlite.codec import decode_state
from testkit.daemon import DaemonProcess, write_harness_settings
from testkit.fake_twilio import FakeTwilio, TwilioRequest
from testkit.mosquitto import Mosquitto, free_port
from testkit.smtp_server import SmtpServer
from tests.e2e.conftest import PHONES, publish, write_tiny_config


@dataclass
class Node:
    name: str
    config_dir: Path
    http_port: int
    daemon: DaemonProcess

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@dataclass
class Cluster:
    """The nodes and what they share."""

    url: str
    broker: Mosquitto
    twilio: FakeTwilio
    nodes: list[Node] = field(default_factory=list)

    def sms_to(self, person: str) -> list[TwilioRequest]:
        return [
            r
            for r in self.twilio.requests
            if r.kind == "sms" and r.to == PHONES[person] and r.accepted
        ]

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()

    def ticket_state(self, ticket: str) -> dict[str, Any]:
        rows = self.query("SELECT state FROM tickets WHERE ticket_id = %s", ticket)
        assert rows, f"no ticket {ticket} in the database"
        return state_fields(decode_state(rows[0][0]))

    async def publish(self, payload: dict[str, Any]) -> None:
        await publish(self.broker, payload)


MakeCluster = Callable[..., Awaitable[Cluster]]


@pytest.fixture
async def make_cluster(
    tmp_path: Path,
    mosquitto: Mosquitto,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    postgres_url: str,
) -> AsyncIterator[MakeCluster]:
    """``await make_cluster(nodes=2, **write_tiny_config options)``: that many started
    nodes on one fresh database. Every node is stopped at teardown."""
    made: list[Cluster] = []

    async def make(*, nodes: int = 2, **options: Any) -> Cluster:
        cluster = Cluster(postgres_url, mosquitto, fake_twilio)
        for index in range(nodes):
            name = f"node-{chr(ord('a') + index)}"
            config_dir = tmp_path / name
            config_dir.mkdir()
            port = free_port()
            write_harness_settings(
                config_dir,
                mqtt_url=mosquitto.url,
                http_port=port,
                twilio=fake_twilio,
                smtp_port=smtp_server.port,
                store=postgres_url,
            )
            write_tiny_config(config_dir, **options)
            cluster.nodes.append(Node(name, config_dir, port, DaemonProcess(config_dir, node=name)))
        made.append(cluster)
        for node in cluster.nodes:
            await node.daemon.astart()
        return cluster

    try:
        yield make
    finally:
        for cluster in made:
            for node in cluster.nodes:
                await node.daemon.astop(timeout=10)
                print(f"--- {node.name} output ---\n{node.daemon.output()}")
