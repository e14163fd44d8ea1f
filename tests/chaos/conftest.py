"""Fault-injection fixtures, and the ``chaos`` marker for the long variants.

Quick variants of every fault test run in the default ``pytest`` run. The long ones are
marked ``@pytest.mark.chaos`` and are *deselected* (not skipped) unless the run selects
them with ``-m chaos`` (what ``make chaos`` does) or ``PAGER_CHAOS=1`` is set.

Randomised tests draw from ``chaos_seed``: ``PAGER_CHAOS_SEED=N`` replays a run; the
seed in use is printed (pytest shows it with a failure).
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from testkit.chaos_rig import Rig, StampedSmtpServer, build_rig
from testkit.fake_twilio import FakeTwilio
from testkit.mosquitto import Mosquitto

CHAOS_MARKER = "chaos: long fault-injection run; deselected unless `-m chaos` (make chaos)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", CHAOS_MARKER)


def _chaos_selected(config: pytest.Config) -> bool:
    markexpr = str(config.getoption("markexpr", default="") or "")
    return "chaos" in markexpr or os.environ.get("PAGER_CHAOS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _chaos_selected(config):
        return
    keep = [item for item in items if item.get_closest_marker("chaos") is None]
    dropped = [item for item in items if item.get_closest_marker("chaos") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
def chaos_seed() -> int:
    seed = int(os.environ.get("PAGER_CHAOS_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"chaos seed: {seed} (PAGER_CHAOS_SEED={seed} replays it)")
    return seed


@pytest.fixture
async def stamped_smtp() -> AsyncIterator[StampedSmtpServer]:
    server = StampedSmtpServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


#: ``await make_rig(**options) -> Rig`` (see the fixture).
MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    mosquitto: Mosquitto,
    fake_twilio: FakeTwilio,
    stamped_smtp: StampedSmtpServer,
) -> AsyncIterator[MakeRig]:
    """``await make_rig(broker=None, **build_rig options)``; every daemon is stopped after.

    With ``PAGER_CHAOS_LOGDIR=DIR`` each daemon's whole output is saved there.
    """
    rigs: list[Rig] = []

    async def make(*, broker: Mosquitto | None = None, **options: Any) -> Rig:
        rig = await build_rig(
            tmp_path / f"pager-{len(rigs)}",
            broker=broker or mosquitto,
            twilio=fake_twilio,
            smtp=stamped_smtp,
            **options,
        )
        rigs.append(rig)
        return rig

    logdir = os.environ.get("PAGER_CHAOS_LOGDIR")
    try:
        yield make
    finally:
        for index, rig in enumerate(rigs):
            await rig.close()
            if logdir:  # the whole output, for digging into a failure
                name = f"{request.node.name}-pager-{index}.log"
                (Path(logdir) / name).write_text(rig.daemon.output() + "\n")
            # Captured by pytest; shown only when the test failed.
            print(f"--- pager-{index} output (last 300 lines) ---")
            print("\n".join(rig.daemon.lines[-300:]))
