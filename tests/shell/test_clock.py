"""Time in one form: the daemon reads the wall clock in one place (its injected Clock),
and the store speaks UTC-aware datetimes, never epoch floats."""

from __future__ import annotations

import ast
import dataclasses
import typing
from datetime import UTC, datetime
from pathlib import Path

from pager.daemon.clock import SystemClock
from pager.store import types
from pager.store.interface import Store

DAEMON = Path(__file__).resolve().parents[2] / "pager" / "daemon"
WALL_CLOCK_READS = {("time", "time"), ("datetime", "now"), ("datetime", "utcnow")}


def wall_clock_reads(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) in WALL_CLOCK_READS
        ):
            found.append(f"{node.func.value.id}.{node.func.attr} line {node.lineno}")
    return found


def test_the_daemon_reads_the_wall_clock_only_through_its_clock() -> None:
    offenders = {
        path.name: wall_clock_reads(path.read_text())
        for path in DAEMON.rglob("*.py")
        if path.name != "clock.py"
    }
    assert {name: reads for name, reads in offenders.items() if reads} == {}
    assert wall_clock_reads("import time\ntime.time()\n") == ["time.time line 2"]


def test_the_system_clock_is_utc_aware() -> None:
    now = SystemClock()()
    assert now.tzinfo is UTC
    assert abs((datetime.now(UTC) - now).total_seconds()) < 5


def test_the_store_protocol_and_its_values_speak_no_epoch_floats() -> None:
    hints: dict[str, object] = {}
    for name, member in vars(Store).items():
        if callable(member) and not name.startswith("_"):
            for arg, hint in typing.get_type_hints(member).items():
                hints[f"Store.{name}.{arg}"] = hint
    for cls in (types.OutboxRow, types.NewMessage, types.InterruptedSms, types.AuditEntry):
        resolved = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hints[f"{cls.__name__}.{f.name}"] = resolved[f.name]
    assert hints  # the check looked at something
    assert [where for where, hint in hints.items() if "float" in str(hint)] == []
    assert "datetime" in str(hints["Store.mark_retry.not_before"])
