"""What a node of several sharing one PostgreSQL database is called, and how often it
asks for the sending role; without psycopg, so that a SQLite daemon can name itself
without loading the PostgreSQL driver (see :mod:`pager.store.postgres.connection`)."""

from __future__ import annotations

import socket

#: How often a node that does not send asks for the sending role (seconds).
ELECT_INTERVAL = 0.2


def node_name(name: str | None = None) -> str:
    """``name``, or this machine's host name (the default node name)."""
    return name or socket.gethostname() or "pager"


__all__ = ["ELECT_INTERVAL", "node_name"]
