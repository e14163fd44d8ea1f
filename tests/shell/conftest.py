"""Shared fixtures of the shell tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pager.core.policy import Policy
from pager.daemon.service import Service
from pager.store.sqlite.store import SqliteStore
from tests.shell.test_ingest import config


@pytest.fixture
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    """A started Service on a fresh store, with the test module's ``POLICY`` if it has one,
    else the ingest tests' config."""
    policy = getattr(request.module, "POLICY", None) or Policy(config())
    svc = Service(SqliteStore(tmp_path / "pager.db"), policy)
    await svc.start()
    yield svc
    await svc.close()
