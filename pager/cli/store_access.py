"""Opening the daemon's store from a command (``pager ack``, ``pager timeline``)."""

from __future__ import annotations

import sys

from pager.cli.common import load_or_report
from pager.core.model import Config
from pager.store.interface import Store
from pager.store.open import open_store as open_url
from pager.store.types import StoreError


def open_store(directory: str) -> tuple[Config, Store] | None:
    """The config and its store, or None after printing why not."""
    config = load_or_report(directory)
    if config is None:
        return None
    try:
        return config, open_url(config.settings.store, must_exist=True)
    except StoreError as exc:
        message = str(exc)
        print(message if message.startswith("no store") else f"store: {message}", file=sys.stderr)
        return None
    except ValueError as exc:
        print(f"store: {exc}", file=sys.stderr)
        return None
