"""The audit log: append-only, read back in the order written."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pager.store.sqlite.db import from_ts, ts
from pager.store.types import AuditEntry

#: Compact JSON for audit details (one encoder: ``json.dumps`` with options builds one
#: per call).
_JSON = json.JSONEncoder(separators=(",", ":"))


class Audit:
    """The audit operations of :class:`pager.store.sqlite.store.SqliteStore`."""

    db: sqlite3.Connection

    def add_audit(self, ticket_id: str, at: datetime, action: str, detail: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO audit(ticket_id, at, action, detail) VALUES (?, ?, ?, ?)",
            (ticket_id, ts(at), action, _JSON.encode(detail)),
        )

    def add_audits(self, entries: Sequence[AuditEntry]) -> None:
        if entries:
            self.db.executemany(
                "INSERT INTO audit(ticket_id, at, action, detail) VALUES (?, ?, ?, ?)",
                [(e.ticket_id, ts(e.at), e.action, _JSON.encode(e.detail)) for e in entries],
            )

    def audit(self, ticket_id: str) -> list[AuditEntry]:
        rows = self.db.execute(
            "SELECT ticket_id, at, action, detail FROM audit WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        ).fetchall()
        return [AuditEntry(r[0], from_ts(r[1]), r[2], json.loads(r[3])) for r in rows]
