"""Every query the report runs: SQL over the store's ``tickets`` and ``audit`` tables.

This is the report's only data access, so that a store kind is one :class:`Dialect`
away. It takes any DB-API connection (``sqlite3``, or ``psycopg`` for PostgreSQL) and
reads the audit as stored, without a second copy of the data: filtering by instant and
action and extracting JSON fields happen in the database, the walk over each ticket's
entries in :mod:`pager.report.figures`.

Both dialects read the same tables: ``audit(id, ticket_id, at, action, detail JSON
text)`` (``at`` REAL epoch seconds in SQLite, ``timestamptz`` in PostgreSQL) and
``tickets(ticket_id, state JSON text)``, where ``state`` is the positional array of
:mod:`pager.store.sqlite.codec` (format 2; instants in integer microseconds). Rows of
the older object format are not reported on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol, cast

from pager.store.reading import connect, state_field_path

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

    @property
    def instant(self) -> str:
        """A parameter holding an instant (epoch seconds), comparable with ``audit.at``:
        REAL seconds in SQLite, ``timestamptz`` in PostgreSQL."""
        return "?" if self.name == "sqlite" else "to_timestamp(%s)"

    @property
    def at(self) -> str:
        """``audit.at`` as epoch seconds (a float)."""
        if self.name == "sqlite":
            return "a.at"
        return "CAST(EXTRACT(EPOCH FROM a.at) AS DOUBLE PRECISION)"

    def detail(self, key: str) -> str:
        """The text or number at ``detail.key`` (NULL when absent)."""
        if self.name == "sqlite":
            return f"json_extract(a.detail, '$.{key}')"
        return f"(a.detail::jsonb ->> '{key}')"

    def contains(self, text: str) -> str:
        """A LIKE pattern literal matching ``text`` anywhere (``%`` is ``%%`` where the
        driver formats parameters with ``%s``)."""
        percent = "%" if self.name == "sqlite" else "%%"
        return f"'{percent}{text}{percent}'"

    @property
    def raw_detail(self) -> str:
        """The detail as text (for a cheap LIKE before any JSON parse)."""
        return "a.detail" if self.name == "sqlite" else "a.detail::text"

    def state(self, name: str) -> str:
        """Field ``name`` of the stored ticket state (see the codec's ``field_path``)."""
        index = int(state_field_path(name)[2:-1])
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


class TicketRow(NamedTuple):
    """A ticket's facts (its last known tier, severity and customer)."""

    ticket_id: str
    tier: str
    severity: int
    customer: str | None
    opened_at: float  # epoch seconds, the desk's ``opened`` instant


#: One audit entry the report reads, its detail fields extracted (a plain tuple: a
#: report unpacks hundreds of thousands): ticket_id, id, at (epoch seconds), action,
#: to, by, rung, reason, kind, text (the ``detail`` field). A field the action does not
#: use is None (only the fields :data:`FIELDS` lists for it are extracted).
AuditRow = tuple[
    str, int, float, str, str | None, str | None, int | None, str | None, str | None, str | None
]
#: Which detail fields are read for which actions (the others stay NULL: cheaper).
FIELDS: dict[str, tuple[str, ...]] = {
    "to": ("page", "handoff"),
    "by": ("ack",),
    "rung": ("page", "handoff", "escalate"),
    "reason": ("page",),
    "kind": ("handoff", "breach"),
    "detail": ("escalate", "note"),
}


class Source:
    """Queries over one connection; instants in and out are epoch seconds."""

    def __init__(self, conn: Connection, dialect: Dialect | None = None) -> None:
        self.conn = conn
        self.dialect = dialect or dialect_of(conn)

    def _touched(self) -> str:
        """Tickets with an audit entry in [from, to) (2 params).

        Every ticket opened in the period is one of them unless its first entry (the
        ``opened`` note, written when the daemon applied the event) falls after the
        period, and then nothing about it is audited before the period's end."""
        p = self.dialect.instant
        return f"SELECT a.ticket_id FROM audit a WHERE a.at >= {p} AND a.at < {p}"

    def tickets(self, start: datetime, end: datetime) -> list[TicketRow]:
        """Every ticket with an audit entry in [start, end), or opened in it."""
        d = self.dialect
        p = d.param
        opened = f"CAST({d.state('opened_at')} AS DOUBLE PRECISION) / 1000000.0"
        sql = (
            "SELECT ticket_id, tier, severity, customer, opened FROM ("
            f" SELECT t.ticket_id, {d.state('tier')} AS tier,"
            f" CAST({d.state('severity')} AS INTEGER) AS severity,"
            f" {d.state('customer')} AS customer, {opened} AS opened"
            f" FROM tickets t WHERE t.ticket_id IN ({self._touched()})"
            f" OR ({opened} >= {p} AND {opened} < {p})) AS facts"
        )
        s, e = start.timestamp(), end.timestamp()
        return [TicketRow(*row) for row in self._fetch(sql, (s, e, s, e))]

    def audit(self, start: datetime, end: datetime) -> list[AuditRow]:
        """The entries the report reads of the tickets :meth:`tickets` returns, before
        ``end`` (earlier ones too: a page before ``start`` can be acknowledged in it),
        ordered by ticket then id."""
        d = self.dialect
        actions = ", ".join(f"'{a}'" for a in ACTIONS)
        columns = ", ".join(self._field(name) for name in FIELDS)
        sql = (
            f"SELECT a.ticket_id, a.id, {d.at}, a.action, {columns} FROM audit a"
            f" WHERE a.ticket_id IN ({self._touched()}) AND a.at < {d.instant}"
            # Notes are filtered on their raw text (no JSON parse for the many others);
            # the walk compares the extracted text exactly.
            f" AND (a.action IN ({actions}) OR (a.action = 'note' AND"
            f" ({d.raw_detail} LIKE {d.contains('status report')}"
            f" OR {d.raw_detail} LIKE {d.contains(REPEAT_PREFIX)})))"
            " ORDER BY a.ticket_id, a.id"
        )
        s, e = start.timestamp(), end.timestamp()
        return cast(list[AuditRow], self._fetch(sql, (s, e, e)))

    def _field(self, name: str) -> str:
        """Detail field ``name`` for the actions that use it, else NULL."""
        value = self.dialect.detail(name)
        if name == "rung":
            value = f"CAST({value} AS INTEGER)"
        actions = ", ".join(f"'{a}'" for a in FIELDS[name])
        return f"CASE WHEN a.action IN ({actions}) THEN {value} END"

    def _fetch(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()


__all__ = ["AuditRow", "Connection", "Dialect", "Source", "TicketRow", "connect", "dialect_of"]
