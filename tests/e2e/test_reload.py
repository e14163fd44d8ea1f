"""SIGHUP (and a changed file) reloads a valid config; an invalid one is rejected and logged."""

from __future__ import annotations

import asyncio
import re
import signal
import time

import pytest
import yaml

from tests.e2e.conftest import MakeRig, PagerRig, event, write_tiny_config

pytestmark = pytest.mark.e2e

RELOADS = "pager_config_reloads_total"


async def reloads(rig: PagerRig, outcome: str) -> float:
    return await rig.metric(RELOADS, outcome=outcome)


async def settle(rig: PagerRig, outcome: str, at_least: float) -> float:
    """Wait until ``outcome`` reloads reach ``at_least`` and then stay put for 0.8 s.

    Writing files also triggers the directory watcher; this waits those reloads out so
    that the SIGHUP after it is counted on its own.
    """
    count = await reloads(rig, outcome)
    quiet_since = time.monotonic()
    deadline = quiet_since + 15
    while count < at_least or time.monotonic() - quiet_since < 0.8:
        assert time.monotonic() < deadline, f"{outcome} reloads stuck at {count}"
        await asyncio.sleep(0.05)
        latest = await reloads(rig, outcome)
        if latest != count:
            count, quiet_since = latest, time.monotonic()
    return count


async def test_sighup_applies_a_valid_config_and_rejects_an_invalid_one(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(ack_within="1m", voice_after=None)
    assert await reloads(rig, "ok") == 0

    # A valid change: erin joins and takes the rotation.
    write_tiny_config(
        rig.config_dir, ack_within="1m", voice_after=None, members=["erin"], extra_people=["erin"]
    )
    ok = await settle(rig, "ok", at_least=1)  # the directory watcher saw the files change
    mark = rig.daemon.mark()
    rig.daemon.signal(signal.SIGHUP)
    await rig.daemon.await_line("config reloaded", since=mark)
    assert await reloads(rig, "ok") == ok + 1
    assert await rig.metric("pager_config_last_reload_ok") == 1
    await rig.publish(event("T-13a"))
    [to_erin] = await rig.wait_sms("erin")
    assert to_erin.body is not None and "T-13a" in to_erin.body
    assert not rig.sms_to("ana")

    # An invalid change: the rotation names somebody who does not exist.
    rotation_file = rig.config_dir / "rotations" / "eng.yaml"
    rotation = yaml.safe_load(rotation_file.read_text())
    rotation["regions"]["global"]["members"] = ["zed"]
    rotation_file.write_text(yaml.safe_dump(rotation, sort_keys=False))
    rejected = await settle(rig, "rejected", at_least=1)
    mark = rig.daemon.mark()
    rig.daemon.signal(signal.SIGHUP)
    line = await rig.daemon.await_line("reload rejected: rotations/eng.yaml:", since=mark)
    assert re.search(
        r"rotations/eng\.yaml:\d+: regions\.global\.members\[0\]: unknown person 'zed'", line
    ), line
    await rig.daemon.await_line("previous config stays in force", since=mark)
    assert await reloads(rig, "rejected") == rejected + 1
    assert await reloads(rig, "ok") == ok + 1
    assert await rig.metric("pager_config_last_reload_ok") == 0

    # The old (erin) config keeps paging.
    await rig.publish(event("T-13b"))
    await rig.wait_sms("erin", ticket="T-13b")
    assert not rig.sms_to("ana")
    assert rig.daemon.running
