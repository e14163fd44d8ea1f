"""The SQLite store: :class:`SqliteStore`, one class assembled from one module per job.

* :mod:`.db` the connection, transactions, savepoints, the WAL checkpointer;
* :mod:`.tickets` tickets with their deadline, processed events;
* :mod:`.codes` reply codes; :mod:`.outbox` the outbox; :mod:`.audit` the audit log.

Synchronous by design: the daemon runs every transaction on one dedicated worker thread
(see :mod:`pager.daemon.service`), so a whole batch of events costs one thread hop and one
commit (group commit). The CLI uses it directly (through :func:`pager.store.open.open_store`).
It implements :class:`pager.store.interface.Store`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pager.store.interface import Store
from pager.store.sqlite.audit import Audit
from pager.store.sqlite.codes import MAX_CODE, SMALL_CODES, Codes
from pager.store.sqlite.db import Checkpointer, Connection, from_ts, path_from_url, ts
from pager.store.sqlite.outbox import Outbox
from pager.store.sqlite.tickets import Tickets
from pager.store.types import AuditEntry, InterruptedSms, NewMessage, OutboxRow, StoreError


class SqliteStore(Connection, Tickets, Codes, Outbox, Audit):
    """One SQLite connection; see :class:`pager.store.interface.Store` for the contracts."""

    def reader(self) -> SqliteStore | None:
        if str(self.path) == ":memory:" or not self.path.exists():
            return None
        return SqliteStore(self.path)


__all__ = [
    "MAX_CODE",
    "SMALL_CODES",
    "AuditEntry",
    "Checkpointer",
    "InterruptedSms",
    "NewMessage",
    "OutboxRow",
    "SqliteStore",
    "StoreError",
    "from_ts",
    "path_from_url",
    "ts",
]

if TYPE_CHECKING:  # mypy checks here that SqliteStore keeps the Store contract's signatures

    def _is_a_store(store: SqliteStore) -> Store:
        return store
