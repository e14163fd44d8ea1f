"""Reload storms: SIGHUP after SIGHUP, valid and invalid configs alternating, while paging.

Each valid version gives ana another phone number, so where a page goes shows which
config is in force. Invalid versions break a different file each time (unknown person,
bad duration, broken YAML, unknown time zone). The daemon must never die, keep paging,
count every reload in /metrics exactly as it logged it, and end on the last valid config.
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import pytest

from testkit.chaos_reconcile import load_rows, received_items, reconcile
from testkit.chaos_rig import (
    EventPublisher,
    Rig,
    ladder_doc,
    people_doc,
    rotation_doc,
    ticket_event,
    until,
    write_yaml,
)
from tests.chaos.conftest import MakeRig

RELOADED = "config reloaded"
REJECTED = "the previous config stays in force"
#: What each kind of broken config must be rejected for (the `pager check` message).
BREAKAGES = ("unknown person", "duration", "yaml", "time zone")


def phone_of(version: int) -> str:
    return f"+1555020{version:04d}"


def write_valid(config_dir: Path, version: int) -> None:
    write_yaml(
        config_dir / "people.yaml", people_doc(ana_phone=phone_of(version), voice_after=None)
    )
    write_yaml(config_dir / "rotations" / "eng.yaml", rotation_doc())
    write_yaml(config_dir / "ladders" / "support.yaml", ladder_doc(ack_within="1h"))


def write_invalid(config_dir: Path, kind: int) -> None:
    """Break one file of an otherwise valid config (``kind`` picks which)."""
    breakage = BREAKAGES[kind % len(BREAKAGES)]
    if breakage == "unknown person":
        write_yaml(config_dir / "rotations" / "eng.yaml", rotation_doc(["ana", "nobody-here"]))
    elif breakage == "duration":
        write_yaml(config_dir / "ladders" / "support.yaml", ladder_doc(ack_within="soonish"))
    elif breakage == "yaml":
        staging = config_dir / ".people.broken"
        staging.write_text("people:\n  ana: {name: [unclosed\n")
        staging.replace(config_dir / "people.yaml")
    else:
        doc = rotation_doc()
        doc["regions"]["global"]["timezone"] = "Mars/Olympus_Mons"
        write_yaml(config_dir / "rotations" / "eng.yaml", doc)


async def run_storm(make_rig: MakeRig, sighups: int) -> None:
    assert sighups % 2 == 0, "end on an invalid config"
    rig: Rig = await make_rig(ack_within="1h", voice_after=None)
    write_valid(rig.config_dir, 0)
    publisher = EventPublisher(rig.broker)
    publisher.start()
    opened: list[str] = []
    stop_paging = asyncio.Event()

    async def keep_paging() -> None:
        n = 0
        while not stop_paging.is_set():
            event = ticket_event(f"R-{n:04d}")
            publisher.put(event)
            opened.append(event["ticket_id"])
            n += 1
            await asyncio.sleep(0.25)

    start_mark = rig.daemon.mark()
    paging = asyncio.create_task(keep_paging())
    last_valid = 0
    try:
        for i in range(sighups):
            mark = rig.daemon.mark()
            if i % 2 == 0:
                last_valid = i // 2 + 1
                write_valid(rig.config_dir, last_valid)
                expected = RELOADED
            else:
                write_invalid(rig.config_dir, i // 2)
                expected = REJECTED
            rig.daemon.signal(signal.SIGHUP)
            # A reload that starts after the files were written sees them; an earlier one
            # (the directory watcher's) reads the previous version, of the other kind.
            await rig.daemon.await_line(expected, since=mark, timeout=15)
            assert rig.daemon.running, f"the daemon died at SIGHUP {i + 1}"
        stop_paging.set()
        await paging
        # Let trailing reloads (from the directory watcher) finish.
        quiet_since = rig.daemon.mark()
        while True:
            await asyncio.sleep(1.0)
            if rig.daemon.mark() == quiet_since or not _reload_lines(rig, quiet_since):
                break
            quiet_since = rig.daemon.mark()

        ok_logged = len(_lines(rig, RELOADED, start_mark))
        rejected_logged = len(_lines(rig, REJECTED, start_mark))
        assert ok_logged >= sighups // 2 and rejected_logged >= sighups // 2
        assert await rig.metric("pager_config_reloads_total", outcome="ok") == ok_logged
        assert await rig.metric("pager_config_reloads_total", outcome="rejected") == rejected_logged
        assert await rig.metric("pager_config_last_reload_ok") == 0
        reasons = " ".join(_lines(rig, "reload rejected:", start_mark)).lower()
        for breakage in ("unknown person", "eng.yaml:"):
            assert breakage in reasons, f"no rejection mentions {breakage!r}"

        # The config in force is the last valid one: a new page goes to its phone.
        final = ticket_event("R-final")
        publisher.put(final)
        await until(
            lambda: [r for r in rig.twilio.messages if "R-final" in (r.body or "")],
            timeout=10,
            what="the page for R-final",
        )
        [page] = [r for r in rig.twilio.messages if "R-final" in (r.body or "")]
        assert page.to == phone_of(last_valid), f"paged {page.to}, not version {last_valid}"
        await publisher.drain()
        await until(lambda: rig.settled(ladders_done=False), timeout=20, what="outbox drained")
        paged_tickets = {row[0] for row in rig.query("SELECT DISTINCT ticket_id FROM outbox")}
    finally:
        stop_paging.set()
        await publisher.close()
    assert rig.daemon.running and rig.starts == 1
    assert await rig.stop() == 0

    # Pages kept flowing: every ticket opened during the storm was paged, none lost.
    missing = set(opened) - paged_tickets
    assert not missing, f"{len(missing)} tickets opened during the storm were never paged"
    result = reconcile(
        load_rows(rig.db_path),
        received_items(rig.twilio.requests, rig.mails()),
    )
    assert not result.lost and not result.duplicates and not result.unexplained, result.summary()
    assert not rig.tracebacks(), rig.tracebacks()[0]


def _lines(rig: Rig, text: str, since: int) -> list[str]:
    return [line for line in rig.daemon.lines_since(since) if text in line]


def _reload_lines(rig: Rig, since: int) -> list[str]:
    return [
        line
        for line in rig.daemon.lines_since(since)
        if re.search(f"{RELOADED}|{REJECTED}|config directory changed", line)
    ]


async def test_reload_storm_quick(make_rig: MakeRig) -> None:
    await run_storm(make_rig, sighups=20)


@pytest.mark.chaos
@pytest.mark.timeout(600)
async def test_reload_storm_long(make_rig: MakeRig) -> None:
    await run_storm(make_rig, sighups=100)
