"""Reply codes: per person, unique among their open pages (the primary key says so)."""

from __future__ import annotations

from collections.abc import Sequence

from pager.core.replies import MAX_CODE_DIGITS, next_code
from pager.store.postgres.connection import Connection

#: Below this many codes a person's new page gets the smallest free code.
SMALL_CODES = 100
MAX_CODE = 10**MAX_CODE_DIGITS - 1


class Codes(Connection):
    """The reply-code operations of :class:`pager.store.postgres.store.PostgresStore`."""

    def codes_of(self, person: str) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT code, ticket_id FROM codes WHERE person = %s ORDER BY code", (person,)
        ).fetchall()
        return {str(code): ticket for code, ticket in rows}

    def allocate_code(self, person: str, ticket_id: str) -> str:
        """As :meth:`pager.store.sqlite.codes.Codes.allocate_code` (same policy)."""
        self._wrote()
        rows = self.db.execute(
            "SELECT code FROM codes WHERE person = %s ORDER BY code DESC LIMIT %s",
            (person, SMALL_CODES),
        ).fetchall()
        highest = int(rows[0][0]) if rows else 0
        if SMALL_CODES <= highest < MAX_CODE:
            code = highest + 1
        elif highest < SMALL_CODES:
            code = int(next_code([str(r[0]) for r in rows]))
        else:
            code = int(next_code(self.codes_of(person)))
        self.db.execute(
            "INSERT INTO codes (person, code, ticket_id) VALUES (%s, %s, %s)",
            (person, code, ticket_id),
        )
        return str(code)

    def code_for(self, person: str, ticket_id: str) -> str | None:
        row = self.db.execute(
            "SELECT code FROM codes WHERE person = %s AND ticket_id = %s", (person, ticket_id)
        ).fetchone()
        return None if row is None else str(row[0])

    def remove_codes(self, ticket_id: str, persons: Sequence[str] | None) -> None:
        self._wrote()
        if persons is None:
            self.db.execute("DELETE FROM codes WHERE ticket_id = %s", (ticket_id,))
        else:
            self.db.execute(
                "DELETE FROM codes WHERE ticket_id = %s AND person = ANY(%s)",
                (ticket_id, list(persons)),
            )
