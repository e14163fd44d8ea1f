"""What the PostgreSQL store adds to the shared contract: several nodes on one database.

Each test gets a fresh database of the session's own cluster (``postgres_url``); two
store objects stand for two nodes (each its own connection and session).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from pager.core.ladder import TicketState
from pager.store.postgres.connection import build_conninfo, redact
from pager.store.postgres.listen import Listener
from pager.store.postgres.migrations import MIGRATIONS
from pager.store.postgres.store import PostgresStore
from pager.store.types import NewMessage, OutboxState, StoreError

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ticket(ticket_id: str) -> TicketState:
    return TicketState(ticket_id, "eng", "gold", 1, NOW, NOW)


def message(key: str, person: str = "ana", channel: str = "sms") -> NewMessage:
    return NewMessage(
        key=key,
        ticket_id="T-1",
        person=person,
        channel=channel,
        address="+15550001001",
        kind="page",
        subject="",
        body=f"page {key}",
        bundle_line=f"SEV1 T-1 ({key})",
        token="",
        not_before=NOW,
        code="1",
    )


@pytest.fixture
def nodes(postgres_url: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    a = PostgresStore(postgres_url, node="a")
    b = PostgresStore(postgres_url, node="b")
    try:
        yield a, b
    finally:
        a.close()
        b.close()


# --- schema --------------------------------------------------------------------------------


def test_two_nodes_starting_at_once_migrate_once(postgres_url: str) -> None:
    opened: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start(name: str) -> None:
        try:
            opened.append(PostgresStore(postgres_url, node=name))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(f"n{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
    assert rows == [(len(MIGRATIONS),)]
    for store in opened:
        store.close()


def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = %s", (len(MIGRATIONS) + 1,))
    with pytest.raises(StoreError, match="newer than this pager knows"):
        PostgresStore(postgres_url)


def test_the_url_gets_the_defaults_a_node_needs_and_keeps_its_own() -> None:
    info = psycopg.conninfo.conninfo_to_dict(
        build_conninfo("postgresql://u:secret@db1,db2/pager?connect_timeout=2", "n1")
    )
    assert info["host"] == "db1,db2"
    assert info["target_session_attrs"] == "read-write"
    assert info["keepalives"] == "1"
    assert info["connect_timeout"] == "2"  # the URL's own value wins
    assert info["application_name"] == "pager n1"
    assert "secret" not in redact("postgresql://u:secret@db1,db2/pager")


# --- events and tickets on two nodes -------------------------------------------------------


def test_an_event_is_recorded_once_whichever_node_inserts_first(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    ids = [f"e{i}" for i in range(200)]
    won: dict[str, list[str]] = {"a": [], "b": []}

    def apply(store: PostgresStore) -> None:
        for start in range(0, len(ids), 20):
            with store.transaction():
                for event_id in ids[start : start + 20]:
                    if store.record_event(event_id, "T-1", NOW, "{}"):
                        won[store.node].append(event_id)

    threads = [threading.Thread(target=apply, args=(store,)) for store in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won["a"] + won["b"]) == sorted(ids)


def test_a_transaction_of_one_node_waits_for_the_other_and_reads_its_writes(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    with a.transaction():
        a.record_event("e1", "T-1", NOW, "{}")
        seen: list[bool] = []
        other = threading.Thread(target=lambda: seen.append(_seen(b, "e1")))
        other.start()
        other.join(timeout=0.3)
        assert other.is_alive(), "b's transaction should wait for a's"
    other.join(timeout=5)
    assert seen == [True]


def _elected_within(store: PostgresStore, seconds: float) -> bool:
    """The dead node's server process releases its session lock a moment after the
    connection closes; the election loop of a daemon polls the same way."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.transaction():
            if store.elect():
                return True
        time.sleep(0.02)
    return False


def _seen(store: PostgresStore, event_id: str) -> bool:
    with store.transaction():
        return store.event_seen(event_id)


def test_due_deadlines_use_the_given_database_time_and_fire_on_one_node(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    with a.transaction():
        a.put_ticket(ticket("T-1"), NOW)
        a.put_ticket(ticket("T-2"), NOW + timedelta(seconds=10))
    with a.transaction():
        assert a.due_tickets(NOW) == ["T-1"]
        a.put_ticket(ticket("T-1"), None)  # fired: no next deadline
    with b.transaction():
        assert b.due_tickets(NOW + timedelta(seconds=5)) == []
        assert b.next_due() == NOW + timedelta(seconds=10)


# --- the outbox ------------------------------------------------------------------------------


def test_only_the_sending_node_sees_due_rows_and_the_role_moves_when_it_dies(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    with a.transaction():
        a.add_message(message("k1"), NOW)
        assert a.elect() is True
    with b.transaction():
        assert b.elect() is False
        assert b.pending_messages(NOW) == []
        assert b.next_message_due() is None
    with a.transaction():
        rows = a.pending_messages(NOW)
        assert [r.key for r in rows] == ["k1"]
        a.mark_sending([((rows[0].id,), "digest")], NOW)
    a.close()  # the sending node dies with a send in flight
    assert _elected_within(b, 5.0)
    with b.transaction():
        interrupted = b.interrupted_sms()
        assert [s.ids for s in interrupted] == [(rows[0].id,)]
        assert b.requeue_interrupted() == 1
        assert [r.key for r in b.pending_messages(NOW)] == ["k1"]


def test_a_superseded_sender_cannot_put_back_a_row_the_new_sender_claimed(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    with a.transaction():
        row_id = a.add_message(message("k1"), NOW)
        assert row_id is not None
        a.elect()
        a.mark_sending([((row_id,), "d")], NOW)
    with b.transaction():  # a lost its role meanwhile; b re-queued and claimed the row
        b.is_sender = True
        b.requeue_interrupted()
        b.mark_sending([((row_id,), "d")], NOW)
    with a.transaction():
        a.mark_retry([row_id], NOW + timedelta(seconds=5), "timeout")
        a.mark_failed([row_id], "refused")
    with b.transaction():
        row = b.message(row_id)
        assert row is not None
        assert row.state is OutboxState.SENDING
        assert row.attempts == 2
        b.mark_sent([row_id], "SM1", NOW)
        row = b.message(row_id)
        assert row is not None and row.state is OutboxState.SENT


def test_an_inbound_message_sid_is_applied_once_across_nodes(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    with a.transaction():
        assert a.message_seen("SM-reply-1") is False
    with b.transaction():
        assert b.message_seen("SM-reply-1") is True


def test_data_version_changes_when_another_node_commits_a_write(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    with b.transaction():
        before = b.data_version()
    with b.transaction():
        assert b.data_version() == before  # a read-only transaction changes nothing
    with a.transaction():
        a.record_event("e1", "T-1", NOW, "{}")
    with b.transaction():
        assert b.data_version() != before


def test_the_clock_is_the_databases(nodes: tuple[PostgresStore, PostgresStore]) -> None:
    a, _ = nodes
    with a.transaction():
        a.heartbeat(NOW)
    assert abs(a.clock_offset) < 0.05  # same machine: the clocks agree
    assert abs((a.clock() - datetime.now(UTC)).total_seconds()) < 0.05


# --- connection loss -------------------------------------------------------------------------


def test_a_lost_connection_is_replaced_at_the_next_transaction(
    nodes: tuple[PostgresStore, PostgresStore], postgres_url: str
) -> None:
    a, _ = nodes
    with a.transaction():
        a.elect()
    assert a.is_sender
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (a.backend_pid,))
    with a.transaction():  # BEGIN finds the connection dead and opens a new one
        assert a.event_seen("nothing") is False
    assert a.is_sender is False  # the role went with the old session


# --- hints -------------------------------------------------------------------------------------


async def test_a_commit_that_queues_a_message_wakes_the_other_nodes(
    nodes: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = nodes
    woken = asyncio.Event()
    deadlines: list[datetime] = []
    got_deadline = asyncio.Event()

    def on_deadline(at: datetime) -> None:
        deadlines.append(at)
        got_deadline.set()

    listener = Listener(
        b.conninfo,
        on_outbox=woken.set,
        on_deadline=on_deadline,
        own_pid=lambda: b.backend_pid,
    )
    task = asyncio.create_task(listener.run())
    try:
        async with asyncio.timeout(5):
            await listener.listening.wait()
        woken.clear()  # the listener looks once on connecting

        def commit() -> None:
            with a.transaction():
                a.add_message(message("k1"), NOW)
                a.put_ticket(ticket("T-1"), NOW + timedelta(seconds=30))

        await asyncio.to_thread(commit)
        async with asyncio.timeout(5):
            await woken.wait()
            await got_deadline.wait()
        assert deadlines == [NOW + timedelta(seconds=30)]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_a_node_that_takes_the_role_again_keeps_its_own_sends_in_flight(
    nodes: tuple[PostgresStore, PostgresStore], postgres_url: str
) -> None:
    a, b = nodes
    with a.transaction():
        first = a.add_message(message("k1"), NOW)
        second = a.add_message(message("k2", person="bob"), NOW)
        assert first is not None and second is not None
        assert a.elect()
        a.mark_sending([((first,), "d1")], NOW)
    with psycopg.connect(postgres_url, autocommit=True) as admin:  # the database restarts
        admin.execute("SELECT pg_terminate_backend(%s)", (a.backend_pid,))
    with b.transaction():  # meanwhile b is sending and claims the other row
        b.is_sender = True
        b.mark_sending([((second,), "d2")], NOW)
    b.close()  # ... and dies
    assert _elected_within(a, 5.0)
    with a.transaction():
        # a's own send of k1 is still in flight in this process: its relay records it.
        assert [s.ids for s in a.interrupted_sms()] == [(second,)]
        assert a.requeue_interrupted() == 1
        row = a.message(first)
        assert row is not None and row.state is OutboxState.SENDING
