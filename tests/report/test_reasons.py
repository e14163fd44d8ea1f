"""The audit form the ladder writes (SPEC section 8): a ``reason`` on every page step and
a ``kind`` on breaches. Synthetic entries, so that each rule is seen on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pager.config.load import load_config
from pager.core.model import Config
from pager.report.figures import compute
from pager.report.source import FIELDS, AuditRow, TicketRow
from tests.report.conftest import utc

HERE = Path(__file__).parent
START, END = utc("2026-11-02T00:00:00"), utc("2026-11-09T00:00:00")
T0 = utc("2026-11-03T10:00:00").timestamp()  # Tue 12:00 in Bucharest


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(HERE / "config")


def _rows(*entries: tuple[float, str, dict[str, Any]]) -> list[AuditRow]:
    """Entries as Source.audit returns them: only the fields FIELDS reads per action."""
    out: list[AuditRow] = []
    for number, (minute, action, d) in enumerate(entries, start=1):
        used = {k: d.get(k) if action in FIELDS[k] else None for k in FIELDS}
        out.append(
            (
                "X1",
                number,
                T0 + minute * 60,
                action,
                used["to"],
                used["by"],
                used["rung"],
                used["reason"],
                used["kind"],
                used["detail"],
            )
        )
    return out


TICKET = [TicketRow("X1", "premier", 1, "Acme", T0)]


def test_steps_of_one_page_count_once_and_repeats_count_again(config: Config) -> None:
    rows = _rows(
        (0, "page", {"to": "ana", "rung": 1, "reason": "opened", "kind": "page"}),
        (5, "page", {"to": "ana", "rung": 1, "reason": "opened", "kind": "page"}),  # voice step
        (15, "page", {"to": "mgr", "rung": 2, "reason": "ack_timeout", "kind": "page"}),
        (30, "breach", {"rung": 2, "kind": "respond_by"}),
        (45, "page", {"to": "boss", "rung": 3, "reason": "ack_timeout", "kind": "page"}),
        (75, "note", {"detail": "repeating the last rung (1)"}),
        (75, "page", {"to": "boss", "rung": 3, "reason": "repeat", "kind": "page"}),
        (105, "note", {"detail": "repeating the last rung (2)"}),
        (105, "page", {"to": "boss", "rung": 3, "reason": "repeat", "kind": "page"}),
        (110, "ack", {"by": "boss", "rung": 3}),
    )
    report = compute(config, TICKET, rows, START, END)
    assert {p.person: p.pages for p in report.people} == {"ana": 1, "mgr": 1, "boss": 3}
    assert report.escalations_by_reason == {"ack_timeout": 2, "repeat": 2}
    boss = next(p for p in report.people if p.person == "boss")
    assert boss.ack_p50 == 5 * 60  # from the page that was open: the second repeat
    [row] = report.sla
    assert (row.breaches, row.met, row.first_response_max) == (1, 0, 110 * 60)


def test_customer_escalation_breach_is_per_rung(config: Config) -> None:
    rows = _rows(
        (0, "page", {"to": "ana", "rung": 1, "reason": "opened", "kind": "page"}),
        (5, "ack", {"by": "ana", "rung": 1}),
        (30, "escalate", {"detail": "customer escalation", "rung": 2}),
        (30, "page", {"to": "mgr", "rung": 2, "reason": "customer", "kind": "page"}),
        (60, "breach", {"rung": 2, "kind": "escalation"}),  # mgr did not answer in time
        (60, "page", {"to": "boss", "rung": 3, "reason": "escalation_timeout", "kind": "page"}),
        (70, "escalate", {"detail": "customer escalation", "rung": 3}),
        (70, "page", {"to": "boss", "rung": 3, "reason": "customer", "kind": "page"}),
        (75, "ack", {"by": "boss", "rung": 3}),
    )
    report = compute(config, TICKET, rows, START, END)
    [row] = report.sla
    # The escalation breach is no respond-by breach: ana answered within 5 minutes.
    assert (row.breaches, row.met) == (0, 1)
    rungs = [(e.rung, e.name, e.count, e.met, e.breached) for e in row.customer_escalations]
    assert rungs == [(2, "manager", 1, 0, 1), (3, "executive", 1, 1, 0)]
    assert report.escalations_by_reason == {"customer": 2, "escalation_timeout": 1}


def test_entries_without_reason_are_unspecified_above_rung_1(config: Config) -> None:
    rows = _rows(
        (0, "page", {"to": "ana", "rung": 1, "kind": "page"}),
        (15, "page", {"to": "mgr", "rung": 2, "kind": "page"}),
        (20, "handoff", {"to": "ana", "rung": 1, "kind": "handoff_out"}),  # an e-mail, no page
        (25, "breach", {"rung": 2}),  # no kind: the respond-by breach
    )
    report = compute(config, TICKET, rows, START, END)
    assert report.escalations_by_reason == {"unspecified": 1}
    assert {p.person: p.pages for p in report.people} == {"ana": 1, "mgr": 1}
    assert report.sla[0].breaches == 1


def test_a_report_after_an_overdue_is_the_late_one(config: Config) -> None:
    rows = _rows(
        (0, "page", {"to": "ana", "rung": 1, "reason": "opened", "kind": "page"}),
        (5, "ack", {"by": "ana", "rung": 1}),
        (120, "note", {"detail": "status report posted", "by": "ana"}),  # on time
        (245, "note", {"detail": "status report overdue", "rung": 1}),  # late...
        (250, "note", {"detail": "status report posted", "by": "ana"}),  # ...this one
        (360, "note", {"detail": "status report posted", "by": "ana"}),  # on time again
    )
    [row] = compute(config, TICKET, rows, START, END).sla
    assert (row.status_on_time, row.status_late, row.status_on_time_pct) == (2, 1, 66.7)


def test_a_person_no_longer_in_the_config_is_counted_in_utc(config: Config) -> None:
    rows = _rows((0, "page", {"to": "gone", "rung": 1, "reason": "opened", "kind": "page"}))
    [person] = compute(config, TICKET, rows, START, END).people
    # Tue 10:00Z: in UTC's default working day (09:00-17:00).
    assert (person.person, person.region, person.timezone) == ("gone", "-", "UTC")
    assert person.by_hour[10] == 1 and person.off_hours == 0
