"""``open_store(url)``: the store implementation a URL names.

``sqlite:/abs/path.db`` (the normalised config form; ``sqlite:///abs/path.db`` too) opens
the embedded SQLite store; ``postgresql://...`` (or ``postgres://``, any libpq URL) the
PostgreSQL store that several nodes share. A new backend adds one branch here keyed by
its scheme and nothing else in the shell changes: everything outside ``pager/store/``
speaks :class:`pager.store.interface.Store`.
"""

from __future__ import annotations

from pager.store.interface import Store
from pager.store.types import StoreError


def scheme(url: str) -> str:
    """The part of ``url`` before the first ``:`` (``sqlite``, ``postgresql``...)."""
    return url.split(":", 1)[0].lower()


def is_postgres_url(url: str) -> bool:
    """``postgresql://...`` or ``postgres://...`` (libpq's two URL schemes)."""
    return scheme(url) in ("postgresql", "postgres")


def open_store(
    url: str, *, must_exist: bool = False, background: bool = False, node: str | None = None
) -> Store:
    """Open the store at ``url``.

    ``must_exist``: refuse (StoreError) instead of creating an empty store (commands that
    read what the daemon wrote). ``background``: the long-running daemon opens it; the
    store may run its own upkeep meanwhile (SQLite: WAL checkpoints on their own thread
    and connection, so they never stall a transaction), stopped by ``close()``.
    ``node`` names this process among several sharing a PostgreSQL database (default:
    the host name); SQLite ignores it.
    Raises StoreError when the store cannot be opened and ValueError for a URL no
    implementation understands.
    """
    kind = scheme(url)
    if kind == "sqlite":
        from pager.store.sqlite.store import SqliteStore, path_from_url

        path = path_from_url(url)
        if must_exist and not path.exists():
            raise StoreError(f"no store at {path}: has `pager run` ever run with this config?")
        return SqliteStore(path, checkpoint_in_background=background)
    if is_postgres_url(url):
        from pager.store.postgres.store import PostgresStore

        # A database has no "missing file": must_exist is met by connecting (the schema
        # is created if absent, as `pager run` would).
        return PostgresStore(url, node=node)
    raise ValueError(
        f"no store implementation for {url.split(':', 1)[0]!r}: (known: sqlite:, postgresql:)"
    )


__all__ = ["is_postgres_url", "open_store", "scheme"]
