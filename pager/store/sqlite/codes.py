"""Reply codes: per person, unique among their open pages."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from pager.core.replies import MAX_CODE_DIGITS, next_code

#: Below this many codes a person's new page gets the smallest free code.
SMALL_CODES = 100
MAX_CODE = 10**MAX_CODE_DIGITS - 1


class Codes:
    """The reply-code operations of :class:`pager.store.sqlite.store.SqliteStore`."""

    db: sqlite3.Connection

    def codes_of(self, person: str) -> dict[str, str]:
        """``{code: ticket_id}`` of ``person``'s open pages."""
        rows = self.db.execute(
            "SELECT code, ticket_id FROM codes WHERE person = ? ORDER BY code", (person,)
        ).fetchall()
        return {str(code): ticket for code, ticket in rows}

    def allocate_code(self, person: str, ticket_id: str) -> str:
        """A reply code for ``person``'s new page of ``ticket_id``, unique among their pages.

        The smallest free code while a person has few pages; during an alert storm (the
        highest code is past :data:`SMALL_CODES`) the next one up, which costs one index
        lookup instead of a scan of thousands of codes.
        """
        # One index walk from the top: at most SMALL_CODES rows, and all of them while
        # the person has few pages.
        rows = self.db.execute(
            "SELECT code FROM codes WHERE person = ? ORDER BY code DESC LIMIT ?",
            (person, SMALL_CODES),
        ).fetchall()
        highest = rows[0][0] if rows else 0
        if SMALL_CODES <= highest < MAX_CODE:
            code = highest + 1
        elif highest < SMALL_CODES:
            code = int(next_code([str(r[0]) for r in rows]))
        else:  # the top code is taken: look for a gap among all of them
            code = int(next_code(self.codes_of(person)))
        self.db.execute(
            "INSERT INTO codes(person, code, ticket_id) VALUES (?, ?, ?)", (person, code, ticket_id)
        )
        return str(code)

    def code_for(self, person: str, ticket_id: str) -> str | None:
        row = self.db.execute(
            "SELECT code FROM codes WHERE person = ? AND ticket_id = ?", (person, ticket_id)
        ).fetchone()
        return None if row is None else str(row[0])

    def remove_codes(self, ticket_id: str, persons: Sequence[str] | None) -> None:
        if persons is None:
            self.db.execute("DELETE FROM codes WHERE ticket_id = ?", (ticket_id,))
        else:
            self.db.executemany(
                "DELETE FROM codes WHERE ticket_id = ? AND person = ?",
                [(ticket_id, p) for p in persons],
            )
