"""Opening the daemon's store from a command (``pager ack``, ``pager timeline``)."""

from __future__ import annotations

import sys

from pager.cli.common import load_or_report
from pager.core.model import Config
from pager.store.sqlite.store import SqliteStore, StoreError, path_from_url


def open_store(directory: str) -> tuple[Config, SqliteStore] | None:
    """The config and its store, or None after printing why not."""
    config = load_or_report(directory)
    if config is None:
        return None
    path = path_from_url(config.settings.store)
    if not path.exists():
        print(f"no store at {path}: has `pager run` ever run with this config?", file=sys.stderr)
        return None
    try:
        return config, SqliteStore(path)
    except StoreError as exc:
        print(f"store: {exc}", file=sys.stderr)
        return None
