"""Fixtures of the status site tests: the rig of tests/web/rig.py on aiohttp's test server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pager.daemon.service import Service
from tests.e2e.conftest import make_rig  # noqa: F401  (the e2e rig, for tests/web/test_daemon.py)
from tests.web.rig import Clock, build, load, make_config_dir

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def rig(tmp_path: Path, clock: Clock) -> AsyncIterator[tuple[Client, Service]]:
    config = load(make_config_dir(tmp_path))
    service, server = build(config, tmp_path / "pager.db", clock)
    await service.start()
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    yield client, service
    await client.close()
    await service.close()
