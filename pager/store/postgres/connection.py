"""The PostgreSQL connection: opening, reconnecting, transactions, the node's clock and
the sending role.

One synchronous psycopg connection, used by one thread at a time (the daemon's store
thread, see :mod:`pager.daemon.service`): a whole batch of jobs is one transaction and
one commit (group commit), exactly as with SQLite. A second connection, asynchronous,
only listens for wake-up hints (:mod:`pager.store.postgres.listen`).

**Several nodes.** Every write transaction of every node begins by taking one
transaction-scoped advisory lock (:data:`WRITE_LOCK`): the nodes' batches commit one
after another, as SQLite's ``BEGIN IMMEDIATE`` orders the transactions of one machine.
Inside, the row locks the operations take (``FOR UPDATE``, ``SKIP LOCKED``) and the
unique constraints still say what each operation needs on its own. The lock makes every
transaction see all earlier commits and nothing beside it, so correctness does not hinge
on every operation's own locks being complete: without it, two nodes allocating a reply
code for the same person at once collide on the key, and batches that take the same
tickets in different orders can deadlock. Measured cost: none visible (two nodes, one
stream of 600 events: 1.4 s with the lock, 1.5 s without; the nodes move in lockstep on
the event inserts anyway).

**Sending.** One node at a time sends (the one that holds the session advisory lock
:data:`SENDER_LOCK`), so the per-number rate and the per-person limits of the relay,
kept in its memory, hold across nodes. The lock goes with the session: when the sending
node dies, its connection closes and another node takes the role within
:data:`pager.store.postgres.node.ELECT_INTERVAL` (it then settles the sends the old sender
left ``sending``).

**Time.** The database's clock decides: the node measures its offset from it at connect
and with every heartbeat, and :meth:`Connection.clock` is the wall clock plus that
offset; the daemon uses it for every "now".

**Reconnecting.** A broken connection (the server restarted, a failover to a standby)
fails the transaction in progress with StoreError; the next transaction connects again
(``target_session_attrs=read-write`` finds the new primary among the listed hosts).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import conninfo

from pager.store.postgres.migrations import SchemaTooNew, migrate
from pager.store.postgres.node import node_name
from pager.store.types import StoreError

log = logging.getLogger("pager.store.postgres")

#: Taken by every write transaction first (see the module docstring): "pagerwri".
WRITE_LOCK = 0x7061676572777269
#: Held (session level) by the one node that sends: "pagersnd".
SENDER_LOCK = 0x7061676572736E64
#: The NOTIFY channel of wake-up hints (:mod:`pager.store.postgres.listen`).
CHANNEL = "pager"

#: libpq settings a pager node wants unless the URL says otherwise: find the writable
#: primary among several hosts, notice a dead server within seconds, bounded connects.
DEFAULTS: dict[str, str] = {
    "target_session_attrs": "read-write",
    "connect_timeout": "5",
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "3",
    "tcp_user_timeout": "10000",
}


def build_conninfo(url: str, node: str) -> str:
    """``url`` (a libpq URL or key=value string) with :data:`DEFAULTS` for the settings
    it does not give, and ``application_name`` naming the node (seen in pg_stat_activity)."""
    try:
        given = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ValueError(f"not a PostgreSQL connection string: {exc}") from None
    extra = {k: v for k, v in DEFAULTS.items() if k not in given}
    extra.setdefault("application_name", f"pager {node}"[:63])
    if "application_name" in given:
        extra.pop("application_name")
    return conninfo.make_conninfo(url, **extra)


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://?"
    hosts = parts.get("host", "")
    port = parts.get("port", "")
    db = parts.get("dbname", "")
    return f"postgresql://{hosts}{':' + str(port) if port else ''}/{db}"


class Connection:
    """The connection part of :class:`pager.store.postgres.store.PostgresStore`."""

    def __init__(self, url: str, *, node: str | None = None, migrate_schema: bool = True) -> None:
        self.node = node_name(node)
        self.url = url
        self.conninfo = build_conninfo(url, self.node)
        #: Names this process's claims (``owner_session`` is ``session/term``): a
        #: ``sending`` row of another process is an orphan once this node sends.
        self.session = f"{self.node}/{secrets.token_hex(6)}"
        #: Counts the times this process took the sending role.
        self.term = 0
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        self._depth = 0
        self._pipe: psycopg.Pipeline | None = None
        #: (ticket_id, stored state or None) read along with an event's insert, for the
        #: get_ticket that follows it (one round trip instead of two).
        self._prefetched: tuple[str, str | None] | None = None
        self._changed = False
        self._outbox_added = False
        self._earliest: datetime | None = None
        #: Seconds to add to the local clock to read the database's.
        self.clock_offset = 0.0
        self.is_sender = False
        self.connected_host = ""
        self.backend_pid: int | None = None
        try:
            conn = self._connect()
            if migrate_schema:
                migrate(conn)
        except (psycopg.Error, SchemaTooNew) as exc:
            self.close()
            raise StoreError(f"cannot open store {redact(url)}: {exc}") from exc

    # --- the connection -----------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
            if self.is_sender:
                log.warning("lost the database connection: no longer the sending node")
            self.is_sender = False
        conn = psycopg.connect(self.conninfo, autocommit=True)
        conn.execute(
            "SET TIME ZONE 'UTC'; SET idle_in_transaction_session_timeout = '30s';"
            " SET lock_timeout = '30s'"
        )
        self._conn = conn
        self.connected_host = f"{conn.info.host}:{conn.info.port}"
        self.backend_pid = conn.info.backend_pid
        self._measure_clock()
        return conn

    @property
    def db(self) -> psycopg.Connection[tuple[Any, ...]]:
        """The open connection (inside a transaction)."""
        if self._conn is None:
            raise StoreError("store is closed or not connected")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        self.is_sender = False

    # --- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN, take :data:`WRITE_LOCK`, ... COMMIT (with the wake-up hints); ROLLBACK
        on any exception. Re-entrant. StoreError when it cannot begin or commit."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        conn = self._begin()
        self._depth = 1
        self._changed, self._outbox_added, self._earliest = False, False, None
        self._prefetched = None
        # Pipeline mode: a write whose result nobody reads costs no round trip of its
        # own; it goes out with the next read (or the commit). Round trips, not the
        # server's work, are what a transaction of many small statements spends.
        pipeline = conn.pipeline()
        self._pipe = pipeline.__enter__()
        try:
            yield
        except BaseException as exc:
            self._depth = 0
            self._pipe = None
            with contextlib.suppress(psycopg.Error):
                pipeline.__exit__(type(exc), exc, exc.__traceback__)
            self._rollback()
            raise
        self._depth = 0
        self._pipe = None
        try:
            pipeline.__exit__(None, None, None)  # every queued write, errors raised here
            conn.execute(self._commit_sql())
        except psycopg.Error as exc:
            self._rollback()
            raise StoreError(f"commit failed: {exc}") from exc

    def _begin(self) -> psycopg.Connection[tuple[Any, ...]]:
        """BEGIN and the write lock; a connection found dead (the server restarted since
        the last transaction) is replaced once, then StoreError."""
        for attempt in (1, 2):
            try:
                conn = self._connect()
                conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})")
                return conn
            except psycopg.Error as exc:
                broken = self._conn is not None and self._conn.broken
                self._drop_if_broken()
                if attempt == 2 or not broken:
                    raise StoreError(f"store unavailable ({redact(self.url)}): {exc}") from exc
        raise AssertionError("unreachable")

    def _commit_sql(self) -> str:
        """COMMIT, preceded (same round trip) by the change counter and the hints."""
        if not self._changed:
            return "COMMIT"
        hints = []
        if self._outbox_added:
            hints.append("o")
        if self._earliest is not None:
            hints.append(f"d{self._earliest.timestamp():.6f}")
        parts = ["SELECT nextval('changes')"]
        if hints:
            parts.append(f"NOTIFY {CHANNEL}, '{' '.join(hints)}'")
        parts.append("COMMIT")
        return "; ".join(parts)

    def _rollback(self) -> None:
        with contextlib.suppress(psycopg.Error):
            if self._conn is not None and not self._conn.broken:
                self._conn.execute("ROLLBACK")
        self._drop_if_broken()

    def _drop_if_broken(self) -> None:
        if self._conn is not None and self._conn.broken:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
            self.is_sender = False

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """SAVEPOINT ... RELEASE; ROLLBACK TO it on an exception (re-raised).

        The release is synced, so that an error of a queued write of this block is raised
        here, inside the block's job, not in the next job's."""
        db = self.db
        db.execute("SAVEPOINT job")
        try:
            yield
            self._sync()
        except BaseException:
            self._prefetched = None
            with contextlib.suppress(psycopg.Error):
                self._sync()  # leaves an aborted pipeline usable again
            with contextlib.suppress(psycopg.Error):
                db.execute("ROLLBACK TO SAVEPOINT job")
                db.execute("RELEASE SAVEPOINT job")
                self._sync()
            raise
        db.execute("RELEASE SAVEPOINT job")

    def _sync(self) -> None:
        """Wait for every queued statement (raising the first error among them)."""
        if self._pipe is not None:
            self._pipe.sync()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """psycopg errors inside become StoreError (the database or the link is in trouble)."""
        try:
            yield
        except psycopg.Error as exc:
            raise StoreError(f"store error: {type(exc).__name__}: {exc}") from exc

    def _wrote(self) -> None:
        self._changed = True

    def _hint_outbox(self) -> None:
        self._changed = True
        self._outbox_added = True

    def _hint_deadline(self, due: datetime) -> None:
        self._changed = True
        if self._earliest is None or due < self._earliest:
            self._earliest = due

    # --- health, clock, change detection ---------------------------------------------------

    def heartbeat(self, now: datetime) -> None:
        """Write this node's heartbeat and measure the clock offset (the health probe)."""
        self._wrote()
        sent = time.time()
        row = self.db.execute(
            "INSERT INTO heartbeat (node, at) VALUES (%s, %s)"
            " ON CONFLICT (node) DO UPDATE SET at = excluded.at"
            " RETURNING extract(epoch FROM clock_timestamp())::float8",
            (self.node, now),
        ).fetchone()
        if row is not None:
            received = time.time()
            self.clock_offset = float(row[0]) - (sent + received) / 2

    def _measure_clock(self) -> None:
        sent = time.time()
        row = self.db.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
        received = time.time()
        if row is not None:
            self.clock_offset = float(row[0]) - (sent + received) / 2

    @property
    def claim_owner(self) -> str:
        """``owner_session`` of the claims made now."""
        return f"{self.session}/{self.term}"

    def clock(self) -> datetime:
        """Now by the database's clock (local clock + the last measured offset)."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def data_version(self) -> int:
        """The change counter every committing writer advances (any node, any process)."""
        row = self.db.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM changes"
        ).fetchone()
        return int(row[0]) if row is not None else 0

    # --- the sending role -------------------------------------------------------------------

    def elect(self) -> bool:
        """Try to take the sending role; True only when this call took it (the caller
        then settles the sends the previous sender left ``sending``)."""
        if self.is_sender:
            return False
        row = self.db.execute("SELECT pg_try_advisory_lock(%s)", (SENDER_LOCK,)).fetchone()
        self.is_sender = bool(row and row[0])
        if self.is_sender:
            self.term += 1
            log.info("node %s is now the sending node", self.node)
        return self.is_sender


__all__ = [
    "CHANNEL",
    "SENDER_LOCK",
    "WRITE_LOCK",
    "Connection",
    "build_conninfo",
    "redact",
]
