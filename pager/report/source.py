"""Every query the report runs: SQL over the store's ``tickets`` and ``audit`` tables.

This is the report's only data access, so that a store kind is one :class:`Dialect`
away. It takes any DB-API connection (``sqlite3``, or ``psycopg`` for PostgreSQL) and
reads the audit as stored, without a second copy of the data: filtering by instant and
action and extracting JSON fields happen in the database, the walk over each ticket's
entries in :mod:`pager.report.figures`.

Both dialects read the same schema: ``audit(id, ticket_id, at REAL seconds, action,
detail JSON text)`` and ``tickets(ticket_id, state JSON)``, where ``state`` is the
positional array of :mod:`pager.store.sqlite.codec` (format 2; instants in integer
microseconds). Rows of the older object format are not reported on.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from pager.store.sqlite.codec import field_path
from pager.store.sqlite.store import path_from_url

DialectName = Literal["sqlite", "postgresql"]

#: Audit actions the report reads (pages, handoff pages, acks, breaches, escalations).
ACTIONS = ("page", "handoff", "ack", "breach", "escalate")
#: ``note`` entries it reads, by their text (status duty and repeats of the last rung).
STATUS_POSTED = "status report posted"
STATUS_OVERDUE = "status report overdue"
REPEAT_PREFIX = "repeating the last rung"


class Connection(Protocol):
    """The part of a DB-API 2 connection the report uses."""

    def cursor(self) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one database spells JSON access and query parameters."""

    name: DialectName

    @property
    def param(self) -> str:
        return "?" if self.name == "sqlite" else "%s"

    def detail(self, key: str) -> str:
        """The text or number at ``detail.key`` (NULL when absent)."""
        if self.name == "sqlite":
            return f"json_extract(a.detail, '$.{key}')"
        return f"(a.detail::jsonb ->> '{key}')"

    def state(self, name: str) -> str:
        """Field ``name`` of the stored ticket state (see the codec's ``field_path``)."""
        index = int(field_path(name)[2:-1])
        if self.name == "sqlite":
            return f"json_extract(t.state, '$[{index}]')"
        return f"(t.state::jsonb ->> {index})"


def dialect_of(conn: object) -> Dialect:
    """The dialect of a connection, by the module of its class."""
    module = type(conn).__module__
    if module.startswith("sqlite3"):
        return Dialect("sqlite")
    if module.startswith(("psycopg", "pg8000", "asyncpg")):
        return Dialect("postgresql")
    raise ValueError(f"unsupported connection type {module}.{type(conn).__name__}")


def connect(url: str) -> Connection:
    """A read-only connection to the store at ``url`` (the config's ``store``).

    ``sqlite:PATH`` opens the file read-only (the daemon may be running: WAL lets it
    write meanwhile); ``postgresql://...`` needs the ``psycopg`` package. Raises
    ``LookupError`` for a store that does not exist or cannot be reached.
    """
    if url.startswith(("postgres://", "postgresql://")):
        try:
            psycopg = importlib.import_module("psycopg")
        except ImportError:
            raise LookupError("a PostgreSQL store needs the psycopg package") from None
        try:
            conn: Connection = psycopg.connect(url)
        except Exception as exc:  # psycopg.Error: the module is imported dynamically
            raise LookupError(f"cannot connect to {url}: {exc}") from exc
        return conn
    path = path_from_url(url)
    if not path.exists():
        raise LookupError(f"no store at {path}: has `pager run` ever run with this config?")
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise LookupError(f"cannot open store {path}: {exc}") from exc


class TicketRow(NamedTuple):
    """A ticket's facts (its last known tier, severity and customer)."""

    ticket_id: str
    tier: str
    severity: int
    customer: str | None
    opened_at: float  # epoch seconds, the desk's ``opened`` instant


class AuditRow(NamedTuple):
    """One audit entry the report reads, with its detail fields extracted."""

    ticket_id: str
    id: int
    at: float  # epoch seconds
    action: str
    to: str | None
    by: str | None
    rung: int | None
    reason: str | None
    kind: str | None
    text: str | None


class Source:
    """Queries over one connection; instants in and out are epoch seconds."""

    def __init__(self, conn: Connection, dialect: Dialect | None = None) -> None:
        self.conn = conn
        self.dialect = dialect or dialect_of(conn)

    def _touched(self) -> str:
        """A CTE: tickets opened in [from, to) or paged or acknowledged in it (6 params)."""
        d = self.dialect
        p = d.param
        opened = f"CAST({d.state('opened_at')} AS DOUBLE PRECISION) / 1000000.0"
        actions = ", ".join(f"'{a}'" for a in ("page", "handoff", "ack"))
        return (
            "WITH touched AS ("
            f" SELECT t.ticket_id FROM tickets t WHERE {opened} >= {p} AND {opened} < {p}"
            " UNION"
            f" SELECT a.ticket_id FROM audit a WHERE a.at >= {p} AND a.at < {p}"
            f" AND a.action IN ({actions}))"
        )

    def tickets(self, start: datetime, end: datetime) -> list[TicketRow]:
        """Every ticket opened in [start, end) or paged or acknowledged in it."""
        d = self.dialect
        sql = (
            self._touched() + " SELECT t.ticket_id,"
            f" {d.state('tier')}, CAST({d.state('severity')} AS INTEGER), {d.state('customer')},"
            f" CAST({d.state('opened_at')} AS DOUBLE PRECISION) / 1000000.0"
            " FROM tickets t JOIN touched USING (ticket_id)"
        )
        rows = self._fetch(sql, _window(start, end))
        return [TicketRow(*row) for row in rows]

    def audit(self, start: datetime, end: datetime) -> list[AuditRow]:
        """The entries the report reads of the tickets :meth:`tickets` returns, before
        ``end`` (earlier ones too: a page before ``start`` can be acknowledged in it),
        ordered by ticket then id."""
        d = self.dialect
        p = d.param
        text = d.detail("detail")
        actions = ", ".join(f"'{a}'" for a in ACTIONS)
        sql = (
            self._touched() + " SELECT a.ticket_id, a.id, a.at, a.action,"
            f" {d.detail('to')}, {d.detail('by')}, CAST({d.detail('rung')} AS INTEGER),"
            f" {d.detail('reason')}, {d.detail('kind')}, {text}"
            " FROM audit a JOIN touched USING (ticket_id)"
            f" WHERE a.at < {p} AND (a.action IN ({actions}) OR (a.action = 'note' AND"
            f" ({text} IN ('{STATUS_POSTED}', '{STATUS_OVERDUE}')"
            f" OR {text} LIKE '{REPEAT_PREFIX}%')))"
            " ORDER BY a.ticket_id, a.id"
        )
        rows = self._fetch(sql, (*_window(start, end), end.timestamp()))
        return [AuditRow(*row) for row in rows]

    def _fetch(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()


def _window(start: datetime, end: datetime) -> tuple[float, float, float, float]:
    """The CTE's parameters: the period twice (opened in it; paged in it)."""
    s, e = start.timestamp(), end.timestamp()
    return (s, e, s, e)


__all__ = ["AuditRow", "Connection", "Dialect", "Source", "TicketRow", "connect", "dialect_of"]
