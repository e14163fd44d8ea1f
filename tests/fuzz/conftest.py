"""Fixtures for the in-process fuzzers: a real store/service/ingest/webhook stack, a log probe."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from testkit.chaos_fuzz import InProcessPager, LogProbe


@pytest.fixture
async def pager(tmp_path: Path) -> AsyncIterator[InProcessPager]:
    instance = InProcessPager(tmp_path)
    await instance.start()
    try:
        yield instance
    finally:
        await instance.close()


@pytest.fixture
def log_probe(pager: InProcessPager) -> Iterator[LogProbe]:
    """Every line pager's loggers (and aiohttp's server logger) emit during the test.

    The probe is a filter on each of those loggers, so the records stop there: thousands
    of rejections would otherwise flood pytest's report of a failure.
    """
    probe = LogProbe()
    names = [
        name
        for name in logging.root.manager.loggerDict
        if name == "pager" or name.startswith("pager.")
    ]
    loggers = [logging.getLogger(name) for name in (*names, "aiohttp.server")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.addFilter(probe)
        logger.setLevel(logging.INFO)
    try:
        yield probe
    finally:
        for logger, level in saved:
            logger.removeFilter(probe)
            logger.setLevel(level)
