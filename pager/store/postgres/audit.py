"""The audit log: append-only, read back in the order written."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pager.store.postgres.connection import Connection
from pager.store.types import AuditEntry

_JSON = json.JSONEncoder(separators=(",", ":"))


class Audit(Connection):
    """The audit operations of :class:`pager.store.postgres.store.PostgresStore`."""

    def add_audit(self, ticket_id: str, at: datetime, action: str, detail: dict[str, Any]) -> None:
        self.add_audits([AuditEntry(ticket_id, at, action, detail)])

    def add_audits(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        self._wrote()
        # One statement for the whole step (unnest of arrays: one round trip).
        self.db.execute(
            "INSERT INTO audit (ticket_id, at, action, detail)"
            " SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::text[], %s::text[])",
            (
                [e.ticket_id for e in entries],
                [e.at for e in entries],
                [e.action for e in entries],
                [_JSON.encode(e.detail) for e in entries],
            ),
        )

    def audit(self, ticket_id: str) -> list[AuditEntry]:
        rows = self.db.execute(
            "SELECT ticket_id, at, action, detail FROM audit WHERE ticket_id = %s ORDER BY id",
            (ticket_id,),
        ).fetchall()
        return [AuditEntry(r[0], r[1], r[2], json.loads(r[3])) for r in rows]
