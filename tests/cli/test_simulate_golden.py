"""Golden tests: `pager simulate --json` on the scenario files in examples/, against the
worked example config. Regenerate a golden file only after reading the new timeline:
`PAGER_REGOLD=1 .venv/bin/pytest tests/cli/test_simulate_golden.py`.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.cli.main import main
from pager.core.simulation import TIMELINE_ACTIONS, Line

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((REPO / "examples").glob("*.jsonl"))
GOLDEN = REPO / "tests" / "golden"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.stem for s in SCENARIOS])
def test_simulate_matches_golden(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "-c", str(REPO), str(scenario), "--json"]) == 0
    out = capsys.readouterr().out
    golden = GOLDEN / f"{scenario.stem}.jsonl"
    if os.environ.get("PAGER_REGOLD"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_simulate_json_lines_have_the_spec_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["simulate", "-c", str(REPO), str(REPO / "examples" / "sev1-owned.jsonl"), "--json"])
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    actions = {
        "page",
        "inform",
        "remind",
        "overdue",
        "handoff",
        "breach",
        "unacknowledged",
        "closed",
        "ack",
    }
    assert lines and all(
        set(obj) <= {"at", "ticket", "action", "rung", "to", "via", "by"} for obj in lines
    )
    assert all(obj["action"] in actions for obj in lines)
    assert [obj["at"] for obj in lines] == sorted(obj["at"] for obj in lines)
    ack = next(obj for obj in lines if obj["action"] == "ack")
    assert ack == {
        "at": "2026-11-25T02:07:00Z",
        "ticket": "T-2001",
        "action": "ack",
        "rung": 1,
        "by": "dung",
    }
    first = lines[0]
    assert first == {
        "at": "2026-11-25T02:00:00Z",
        "ticket": "T-2001",
        "action": "page",
        "rung": 1,
        "to": "dung",
        "via": "sms",
    }


def test_simulate_until_stops_the_clock(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = REPO / "examples" / "sev1-unacked.jsonl"
    assert (
        main(
            [
                "simulate",
                "-c",
                str(REPO),
                str(scenario),
                "--json",
                "--until",
                "2026-11-25T02:15:00Z",
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert max(obj["at"] for obj in lines) == "2026-11-25T02:15:00Z"
    assert {obj["rung"] for obj in lines if obj["action"] == "page"} == {1, 2}


def test_simulate_reports_bad_lines_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_id": "x"}\nnot json\n')
    assert main(["simulate", "-c", str(REPO), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.jsonl:1:" in err and "bad.jsonl:2:" in err


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    ticket=st.text(min_size=1, max_size=12),
    action=st.sampled_from(sorted(TIMELINE_ACTIONS)),
    rung=st.none() | st.integers(0, 4),
    to=st.none() | st.text(max_size=8),
    via=st.none() | st.sampled_from(["sms", "email", "voice"]),
    by=st.none() | st.text(max_size=8),
)
def test_json_line_is_exactly_json_dumps_of_the_mapping(
    at: datetime,
    ticket: str,
    action: str,
    rung: int | None,
    to: str | None,
    via: str | None,
    by: str | None,
) -> None:
    line = Line(at, ticket, action, rung, to, via, by)
    assert line.to_json_text() == json.dumps(line.to_json(), separators=(", ", ": "))
