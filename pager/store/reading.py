"""Read-only access to a store for reports: a DB-API connection and the stored layout.

Reports compute their figures in the store's own query language over the tables as
stored (no second copy of the data), so they need a plain connection rather than the
:class:`~pager.store.interface.Store` operations. This module is the one place outside
the implementations that knows how each kind of store is reached.
"""

from __future__ import annotations

import importlib
import sqlite3
from typing import Any

from pager.store.sqlite.codec import field_path
from pager.store.sqlite.store import path_from_url

Connection = Any


def state_field_path(name: str) -> str:
    """The JSON path (``$[i]``) of ticket-state field ``name`` in a stored state row.

    Both stores keep the state in the same encoded layout. Raises KeyError for an
    unknown field.
    """
    return field_path(name)


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
