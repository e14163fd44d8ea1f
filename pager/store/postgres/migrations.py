"""Ordered, versioned schema migrations for PostgreSQL (one ``schema_version`` row).

Numbered like the SQLite store's (:mod:`pager.store.sqlite.migrations`): version N is
``MIGRATIONS[N - 1]``, each applied in one transaction. A database written by a newer
pager (a higher version than :data:`MIGRATIONS` knows) is refused rather than guessed at.

Several nodes may start at once against an empty database: :func:`migrate` runs under a
session advisory lock, so the first node migrates and the others wait, then find the
schema current and do nothing.
"""

from __future__ import annotations

from typing import Any

import psycopg

#: The advisory lock key that serialises migrations (any fixed 64-bit number; this one
#: spells "pagermig" in ASCII so it is recognisable in pg_locks).
MIGRATE_LOCK = 0x70616765726D6967

MIGRATIONS: tuple[str, ...] = (
    # 1: the schema of SQLite version 4, with PostgreSQL types (instants are timestamptz),
    # and what several nodes need: who claimed a send (node and process) and each node's
    # heartbeat.
    """
    CREATE TABLE tickets (
        ticket_id text PRIMARY KEY,
        state text NOT NULL,
        closed boolean NOT NULL DEFAULT false,
        due timestamptz
    );
    CREATE INDEX tickets_due ON tickets (due) WHERE due IS NOT NULL;
    CREATE TABLE events (
        event_id text PRIMARY KEY,
        ticket_id text NOT NULL,
        received_at timestamptz NOT NULL,
        payload text NOT NULL,
        node text NOT NULL DEFAULT ''
    );
    CREATE TABLE inbound (
        message_sid text PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now(),
        node text NOT NULL DEFAULT ''
    );
    CREATE TABLE codes (
        person text NOT NULL,
        code integer NOT NULL,
        ticket_id text NOT NULL,
        PRIMARY KEY (person, code),
        UNIQUE (person, ticket_id)
    );
    CREATE INDEX codes_ticket ON codes (ticket_id);
    CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key text NOT NULL UNIQUE,
        ticket_id text NOT NULL,
        person text NOT NULL,
        channel text NOT NULL,
        address text NOT NULL,
        kind text NOT NULL,
        subject text NOT NULL,
        body text NOT NULL,
        bundle_line text NOT NULL,
        token text NOT NULL,
        state text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        not_before timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        sent_at timestamptz,
        provider_id text,
        code text,
        error text,
        fallback boolean NOT NULL DEFAULT false,
        claimed_at timestamptz,
        claim_digest text,
        owner text,
        owner_session text
    );
    CREATE INDEX outbox_pending ON outbox (not_before, id) WHERE state = 'pending';
    CREATE INDEX outbox_ticket ON outbox (ticket_id) WHERE state = 'pending';
    CREATE INDEX outbox_person ON outbox (person, channel) WHERE state = 'pending';
    CREATE INDEX outbox_sending ON outbox (id) WHERE state = 'sending';
    CREATE INDEX outbox_token ON outbox (token) WHERE token <> '';
    CREATE TABLE audit (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ticket_id text NOT NULL,
        at timestamptz NOT NULL,
        action text NOT NULL,
        detail text NOT NULL
    );
    CREATE INDEX audit_ticket ON audit (ticket_id, id);
    CREATE TABLE heartbeat (
        node text PRIMARY KEY,
        at timestamptz NOT NULL
    );
    CREATE SEQUENCE changes;
    """,
    # 2: as SQLite version 5: an index of the open tickets (counted every second).
    """
    CREATE INDEX tickets_open ON tickets (ticket_id) WHERE NOT closed;
    """,
)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer pager; refuse to touch it."""


def schema_version(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """The version recorded in ``schema_version`` (0: an empty database)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def migrate(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """Bring the database to the newest schema; return the version.

    ``conn`` must be in autocommit mode. Holds :data:`MIGRATE_LOCK` throughout, so that
    nodes starting together migrate once; each step is one transaction.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATE_LOCK,))
    try:
        version = schema_version(conn)
        if version > len(MIGRATIONS):
            raise SchemaTooNew(
                f"database schema version {version} is newer than this pager knows"
                f" ({len(MIGRATIONS)})"
            )
        for number in range(version + 1, len(MIGRATIONS) + 1):
            with conn.transaction():
                if number == 1:
                    conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
                conn.execute(MIGRATIONS[number - 1].encode())
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        return len(MIGRATIONS)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATE_LOCK,))
