"""``open_store(url)``: the store implementation a URL names.

``sqlite:/abs/path.db`` (the normalised config form; ``sqlite:///abs/path.db`` too) opens
the embedded SQLite store. A new backend adds one branch here keyed by its scheme
(``postgresql://`` is the next one) and nothing else in the shell changes: everything
outside ``pager/store/`` speaks :class:`pager.store.interface.Store`.
"""

from __future__ import annotations

from pager.store.interface import Store
from pager.store.types import StoreError


def scheme(url: str) -> str:
    """The part of ``url`` before the first ``:`` (``sqlite``, ``postgresql``...)."""
    return url.split(":", 1)[0].lower()


def open_store(url: str, *, must_exist: bool = False, background: bool = False) -> Store:
    """Open the store at ``url``.

    ``must_exist``: refuse (StoreError) instead of creating an empty store (commands that
    read what the daemon wrote). ``background``: the long-running daemon opens it; the
    store may run its own upkeep meanwhile (SQLite: WAL checkpoints on their own thread
    and connection, so they never stall a transaction), stopped by ``close()``.
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
    # postgresql:// and postgres:// : the PostgreSQL store goes here.
    raise ValueError(f"no store implementation for {url!r} (known: sqlite:)")


__all__ = ["open_store", "scheme"]
