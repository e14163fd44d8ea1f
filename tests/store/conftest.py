"""The store contract suite's fixtures: every test runs once per store implementation.

**Adding an implementation**: write a factory ``(location: Path) -> Store`` and add it to
:data:`FACTORIES` under its name. ``location`` is a fresh directory per test; calling the
factory twice with the same location must give two clients of the same database (the
suite checks that one client sees another's commits). A factory that needs a server it
cannot find should fail, not skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pager.store.interface import Store
from pager.store.open import open_store

StoreFactory = Callable[[Path], Store]


def sqlite_factory(location: Path) -> Store:
    return open_store(f"sqlite:{location / 'pager.db'}")


#: name -> factory. The next one (e.g. "postgresql") goes here.
FACTORIES: dict[str, StoreFactory] = {
    "sqlite": sqlite_factory,
}


@pytest.fixture(params=sorted(FACTORIES))
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A function that opens a (further) client of one fresh database; every client it
    opened is closed after the test."""
    factory = FACTORIES[request.param]
    opened: list[Store] = []

    def open_client() -> Store:
        store = factory(tmp_path)
        opened.append(store)
        return store

    yield open_client
    for store in reversed(opened):
        store.close()


@pytest.fixture
def store(store_factory: Callable[[], Store]) -> Store:
    """One client of a fresh database."""
    return store_factory()
