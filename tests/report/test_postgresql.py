"""The same report from a PostgreSQL store as from SQLite, over the same audit.

The tests' SQLite store (scenarios replayed through the engine; conftest.py) is copied
row for row into a PostgreSQL store whose schema ``pager.store.open`` created (``at`` is
``timestamptz`` there), and every figure of every period must come out equal.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import psycopg

from pager.core.model import Config
from pager.report.build import build
from pager.report.source import dialect_of
from pager.store.open import open_store
from tests.report.conftest import utc

PERIODS = [
    (utc("2026-11-02T00:00:00"), utc("2026-11-09T00:00:00")),  # the week
    (utc("2026-11-01T00:00:00"), utc("2026-11-02T00:00:00")),  # cut through T4
    (utc("2026-10-23T00:00:00"), utc("2026-10-27T00:00:00")),  # across Bucharest's DST change
    (utc("2026-12-01T00:00:00"), utc("2026-12-08T00:00:00")),  # empty
]


def test_postgresql_gives_the_same_report(
    config: Config, conn: sqlite3.Connection, postgres_url: str
) -> None:
    open_store(postgres_url).close()  # the schema, as the daemon creates it
    tickets = conn.execute("SELECT ticket_id, state, closed FROM tickets").fetchall()
    audit = conn.execute("SELECT ticket_id, at, action, detail FROM audit ORDER BY id").fetchall()
    with psycopg.connect(postgres_url) as pg:
        with pg.cursor() as cur:
            cur.executemany(
                "INSERT INTO tickets (ticket_id, state, closed) VALUES (%s, %s, %s)",
                [(t, s, bool(c)) for t, s, c in tickets],
            )
            cur.executemany(
                "INSERT INTO audit (ticket_id, at, action, detail)"
                " VALUES (%s, to_timestamp(%s), %s, %s)",
                audit,
            )
        pg.commit()
        assert dialect_of(pg).name == "postgresql"
        for start, end in PERIODS:
            expected = build(config, conn, start, end)
            got = build(config, pg, start, end)
            assert got == expected, (start, end)
        week = build(config, pg, *PERIODS[0])
        assert week.tickets == 5 and sum(p.pages for p in week.people) == 12
        assert isinstance(week.start, datetime)
