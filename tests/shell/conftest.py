"""Shared fixtures of the shell tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pager.core.policy import Policy
from pager.service import Service
from pager.store.sqlite import SqliteStore
from tests.shell.test_ingest import config


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    """A started Service on a fresh store with the ingest tests' config (modules that
    need another config define their own)."""
    svc = Service(SqliteStore(tmp_path / "pager.db"), Policy(config()))
    await svc.start()
    yield svc
    await svc.close()
