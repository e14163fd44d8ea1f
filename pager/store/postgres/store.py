"""The PostgreSQL store: :class:`PostgresStore`, one class assembled from one module per job.

* :mod:`.connection` the connection, transactions (and the write lock that orders the
  nodes' transactions), savepoints, the node's clock, the sending role;
* :mod:`.tickets` tickets with their deadline, processed events, inbound messages;
* :mod:`.codes` reply codes; :mod:`.outbox` the outbox; :mod:`.audit` the audit log;
* :mod:`.migrations` the schema; :mod:`.listen` the wake-up hints between nodes.

It implements :class:`pager.store.interface.Store`. Differences a caller may see, all on
purpose for several nodes: due outbox rows and interrupted sends are visible only on the
sending node (:meth:`PostgresStore.elect`), and ``get_ticket``/``due_tickets`` lock the
rows they return until the transaction ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pager.store.postgres.audit import Audit
from pager.store.postgres.codes import Codes
from pager.store.postgres.outbox import Outbox
from pager.store.postgres.tickets import Tickets

if TYPE_CHECKING:
    from pager.store.interface import Store


class PostgresStore(Tickets, Codes, Outbox, Audit):
    """One connection to the shared database; see the module docstring."""

    def reader(self) -> PostgresStore | None:
        """A second connection for reading on another thread. Its reads outside a
        transaction run in autocommit and take no lock: they never hold up a writer."""
        return PostgresStore(self.url, node=self.node, migrate_schema=False)


__all__ = ["PostgresStore"]

if TYPE_CHECKING:  # mypy checks here that PostgresStore keeps the Store contract's signatures

    def _is_a_store(store: PostgresStore) -> Store:
        return store
