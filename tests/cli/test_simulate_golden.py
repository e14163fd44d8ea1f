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
        set(obj) <= {"at", "ticket", "action", "rung", "to", "via", "by", "reason", "kind"}
        for obj in lines
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
        "reason": "opened",
    }


REASONS = {
    "opened",
    "calendar_opened",
    "ack_timeout",
    "breach",
    "overdue",
    "customer",
    "escalation_timeout",
    "engineer",
    "handoff_unacked",
    "repeat",
    "urgency_raised",
}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.stem for s in SCENARIOS])
def test_every_page_says_why_and_every_breach_its_kind(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule 10 of issue 11 / SPEC section 8: `reason` on every page line (and only
    there), `kind` on every breach line."""
    assert main(["simulate", "-c", str(REPO), str(scenario), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for obj in lines:
        if obj["action"] == "page":
            assert obj["reason"] in REASONS, obj
        else:
            assert "reason" not in obj, obj
        if obj["action"] == "breach":
            assert obj["kind"] in {"respond_by", "escalation"}, obj
        else:
            assert "kind" not in obj, obj


def test_no_executive_is_paged_for_severity_3_or_4_unless_the_customer_asks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 11's done-criterion, over every shipped example: a rung-3 or rung-4 page of
    a Severity 3 or 4 ticket exists only because the customer escalated."""
    low_tickets = set()
    for scenario in SCENARIOS:
        for raw in scenario.read_text().splitlines():
            event = json.loads(raw)
            if event.get("severity") in (3, 4):
                low_tickets.add(event["ticket_id"])
        assert main(["simulate", "-c", str(REPO), str(scenario), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    executive = [
        obj
        for obj in lines
        if obj["action"] == "page" and obj["ticket"] in low_tickets and obj["rung"] >= 3
    ]
    assert executive, "the examples must show a customer asking for the executives"
    assert {obj["reason"] for obj in executive} == {"customer"}


def test_text_form_names_rungs_and_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = REPO / "examples" / "sev3-customer-escalation.jsonl"
    assert main(["simulate", "-c", str(REPO), str(scenario)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2026-11-25T20:30:00Z T-6006 note (opened: severity 3")
    assert "respond by 2026-11-26T09:30:00Z" in out[0]
    assert "status reports: none" in out[0]
    assert any(
        "page rung=2 (duty-manager) to=carlos via=email - the customer escalated" in line
        for line in out
    )
    assert any("[escalation response time breached]" in line for line in out)


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
    reason=st.none() | st.sampled_from(["opened", "customer"]),
    kind=st.none() | st.sampled_from(["respond_by", "escalation"]),
)
def test_json_line_is_exactly_json_dumps_of_the_mapping(
    at: datetime,
    ticket: str,
    action: str,
    rung: int | None,
    to: str | None,
    via: str | None,
    by: str | None,
    reason: str | None,
    kind: str | None,
) -> None:
    line = Line(at, ticket, action, rung, to, via, by, reason=reason, kind=kind)
    assert line.to_json_text() == json.dumps(line.to_json(), separators=(", ", ": "))
