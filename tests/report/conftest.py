"""A store built by replaying tests/report/scenarios through the real engine."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pager.config.load import load_config
from pager.core.model import Config
from pager.store.sqlite.store import SqliteStore, path_from_url
from testkit.replay import read_events, replay

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test config, with a store holding both scenarios replayed to 2026-11-30."""
    target = tmp_path_factory.mktemp("report") / "config"
    shutil.copytree(HERE / "config", target)
    config = load_config(target)
    store = SqliteStore(path_from_url(config.settings.store))
    events = read_events(SCENARIOS / "dst.jsonl") + read_events(SCENARIOS / "week.jsonl")
    try:
        assert replay(config, store, events, utc("2026-11-30T00:00:00")) == []
    finally:
        store.close()
    return target


@pytest.fixture(scope="module")
def config(config_dir: Path) -> Config:
    return load_config(config_dir)


@pytest.fixture
def conn(config: Config) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path_from_url(config.settings.store))
    yield db
    db.close()
