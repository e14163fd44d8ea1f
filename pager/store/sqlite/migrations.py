"""Ordered, versioned schema migrations (``PRAGMA user_version``).

A store written by a newer pager (a higher version than :data:`MIGRATIONS` knows) is
refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema
    """
    CREATE TABLE tickets (
        ticket_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE timers (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets(ticket_id),
        due REAL NOT NULL
    );
    CREATE INDEX timers_due ON timers(due);
    CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        received_at REAL NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE TABLE inbound (
        message_sid TEXT PRIMARY KEY,
        received_at REAL NOT NULL
    );
    CREATE TABLE codes (
        person TEXT NOT NULL,
        code INTEGER NOT NULL,
        ticket_id TEXT NOT NULL,
        PRIMARY KEY (person, code),
        UNIQUE (person, ticket_id)
    );
    CREATE INDEX codes_ticket ON codes(ticket_id);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        ticket_id TEXT NOT NULL,
        person TEXT NOT NULL,
        channel TEXT NOT NULL,
        address TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        bundle_line TEXT NOT NULL,
        token TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL,
        created_at REAL NOT NULL,
        sent_at REAL,
        provider_id TEXT,
        code TEXT,
        error TEXT
    );
    CREATE INDEX outbox_pending ON outbox(not_before) WHERE state = 'pending';
    CREATE INDEX outbox_ticket ON outbox(ticket_id) WHERE state = 'pending';
    CREATE INDEX outbox_person ON outbox(person, channel) WHERE state = 'pending';
    CREATE INDEX outbox_token ON outbox(token) WHERE token != '';
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id TEXT NOT NULL,
        at REAL NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX audit_ticket ON audit(ticket_id, id);
    CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at REAL NOT NULL
    );
    """,
    # 2: a ticket's next deadline is a column of its row (one write per step instead of
    # two); ``timers`` stays as a view for readers of version 1.
    """
    ALTER TABLE tickets ADD COLUMN due REAL;
    UPDATE tickets SET due = (SELECT due FROM timers WHERE timers.ticket_id = tickets.ticket_id);
    CREATE INDEX tickets_due ON tickets(due) WHERE due IS NOT NULL;
    DROP TABLE timers;
    CREATE VIEW timers AS SELECT ticket_id, due FROM tickets WHERE due IS NOT NULL;
    """,
    # 3: a claimed send remembers when it was claimed and a digest of the SMS text it
    # sends, so that after a crash the provider can be asked whether it went out.
    """
    ALTER TABLE outbox ADD COLUMN claimed_at REAL;
    ALTER TABLE outbox ADD COLUMN claim_digest TEXT;
    """,
    # 4: a fallback row says so in a column (it used to be recognised by "/fb-" in its
    # key, which every fallback key still contains: that is how old rows are marked).
    """
    ALTER TABLE outbox ADD COLUMN fallback INTEGER NOT NULL DEFAULT 0;
    UPDATE outbox SET fallback = 1 WHERE key LIKE '%/fb-%';
    """,
    # 5: the open tickets have an index of their own: the health probe counts them every
    # second, and without it the count read every stored state (the whole table).
    """
    CREATE INDEX tickets_open ON tickets(closed) WHERE closed = 0;
    """,
)


class SchemaTooNew(RuntimeError):
    """The store was written by a newer pager; refuse to touch it."""


def migrate(db: sqlite3.Connection) -> int:
    """Bring ``db`` to the newest schema; return the version. Each step is one transaction."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"store schema version {version} is newer than this pager knows ({len(MIGRATIONS)})"
        )
    for number in range(version + 1, len(MIGRATIONS) + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)
