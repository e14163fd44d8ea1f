"""Every figure of the report over tests/report/scenarios, against hand counts.

The scenarios (replayed through the engine into SQLite; conftest.py) and the config
(tests/report/config): rung 1 pages rotation ``eng`` (Bucharest, Mon-Fri 09:00-18:00:
ana in the weeks of Oct 19 and Nov 2, radu in the week of Oct 26), outside it the
``owls`` (owl, New York, no hours, so the default 09:00-17:00 working day applies to
them; holiday Nov 5); rung 2 is mgr, rung 3 boss (both in no region: UTC, 09:00-17:00).
Every ``# ...`` comment below is the hand count from the timeline.
"""

from __future__ import annotations

import sqlite3

import pytest

from pager.core.model import Config
from pager.report.build import build
from pager.report.model import Report
from tests.report.conftest import utc

MIN = 60.0
WEEK = (utc("2026-11-02T00:00:00"), utc("2026-11-09T00:00:00"))


@pytest.fixture
def week(config: Config, conn: sqlite3.Connection) -> Report:
    return build(config, conn, *WEEK)


def test_sla_attainment_per_tier_and_severity(week: Report) -> None:
    # T4 opened Sun Nov 1 23:50, before the period: in no SLA row.
    assert week.tickets == 5
    premier, standard = week.sla
    assert (premier.tier, premier.severity, premier.respond_within) == ("premier", 1, "30m")
    # T1 acked after 10m, T2 after 50m (boss), T5 after 5m.
    assert premier.tickets == 3 and premier.responded == 3 and premier.pending == 0
    assert premier.first_response_p50 == 10 * MIN  # nearest rank: 2nd of [5, 10, 50]
    assert premier.first_response_p90 == 50 * MIN  # 3rd of 3
    assert premier.first_response_max == 50 * MIN
    # T2: nobody acked by its respond-by (20:30) -> breach.
    assert (premier.met, premier.breaches) == (2, 1)
    assert (premier.breach_pct, premier.attainment_pct) == (33.3, 66.7)
    # T1: report at 09:50 (due 10:10) on time, none by 11:50 -> overdue; T5: 17:00 (due 17:05).
    assert (premier.status_on_time, premier.status_late, premier.status_on_time_pct) == (2, 1, 66.7)
    assert premier.customer_escalations == []
    # T3 acked after 20m (owl), T6 after 5m; standard severity 1 has no status duty.
    assert (standard.tier, standard.severity, standard.respond_within) == ("standard", 1, "1h")
    assert standard.tickets == 2 and standard.met == 2 and standard.breaches == 0
    assert standard.attainment_pct == 100.0
    assert (standard.first_response_p50, standard.first_response_p90) == (5 * MIN, 20 * MIN)
    assert (standard.status_on_time, standard.status_late, standard.status_on_time_pct) == (
        0,
        0,
        None,
    )
    # T3: the customer escalated to rung 2 at 10:30; mgr acked at 10:40, no escalation breach.
    [rung2] = standard.customer_escalations
    assert (rung2.rung, rung2.name, rung2.count, rung2.met, rung2.breached) == (
        2,
        "manager",
        1,
        1,
        0,
    )


def test_sla_over_time_by_opening_day(week: Report) -> None:
    cells = {(c.tier, c.day.isoformat()): (c.decided, c.met) for c in week.sla_over_time}
    assert cells == {
        ("premier", "2026-11-03"): (1, 1),  # T1
        ("premier", "2026-11-04"): (1, 0),  # T2 breached
        ("premier", "2026-11-06"): (1, 1),  # T5
        ("standard", "2026-11-05"): (1, 1),  # T6
        ("standard", "2026-11-07"): (1, 1),  # T3
    }


def test_escalations_by_reason(week: Report) -> None:
    # T4 00:05 rung 2 (ack timeout), T1 11:50 rung 2 (overdue report), T2 20:15 rung 2 and
    # 20:45 rung 3 (ack timeouts), T3 10:15 rung 2 (ack timeout) and 10:30 (customer).
    # (Pages stored without a reason count as "unspecified": tests/report/test_reasons.py.)
    assert week.escalations_by_reason == {"ack_timeout": 4, "overdue": 1, "customer": 1}


def test_load_per_person(week: Report) -> None:
    people = {p.person: p for p in week.people}
    assert sorted(people) == ["ana", "boss", "mgr", "owl"]  # radu was not paged that week
    ana = people["ana"]
    # T1 Tue 08:00Z = 10:00 Bucharest, T5 Fri 15:00Z = 17:00: both in her hours.
    assert (ana.region, ana.timezone) == ("eng/emea", "Europe/Bucharest")
    assert (ana.pages, ana.tickets, ana.off_hours) == (2, 2, 0)
    assert _hours(ana.by_hour) == {10: 1, 17: 1}
    assert (ana.acks, ana.ack_p50, ana.ack_p90, ana.handoffs_taken) == (2, 5 * MIN, 10 * MIN, 0)
    owl = people["owl"]
    # T2 Wed 20:00Z = 15:00 New York; T6 Thu 20:00Z = 15:00 on the owls' holiday Nov 5;
    # T5 handoff Fri 16:00Z = 11:00; T3 Sat 10:00Z = 05:00 Saturday. (T4 Sun 23:50Z: before.)
    assert (owl.pages, owl.tickets) == (4, 4)
    assert (owl.nights, owl.weekends, owl.holidays, owl.off_hours) == (0, 1, 1, 2)
    assert _hours(owl.by_hour) == {15: 2, 11: 1, 5: 1}
    # Acks: T6 after 5m, T5's handoff after 10m, T3 after 20m.
    assert (owl.acks, owl.ack_p50, owl.ack_p90, owl.handoffs_taken) == (3, 10 * MIN, 20 * MIN, 1)
    mgr = people["mgr"]
    # T4 Mon 00:05 (night), T1 Tue 11:50 (day), T2 Wed 20:15 (night), T3 Sat 10:15 and
    # 10:30 (weekend; the ack at 10:20 ended the first page, the customer's is a new one).
    assert (mgr.region, mgr.timezone) == ("-", "UTC")
    assert (mgr.pages, mgr.tickets, mgr.nights, mgr.weekends, mgr.off_hours) == (5, 4, 2, 2, 4)
    assert _hours(mgr.by_hour) == {0: 1, 11: 1, 20: 1, 10: 2}
    # Acks: T4 5m after its page, T3 10m after the customer's page.
    assert (mgr.acks, mgr.ack_p50, mgr.ack_p90) == (2, 5 * MIN, 10 * MIN)
    boss = people["boss"]
    assert (boss.pages, boss.nights, boss.acks, boss.ack_p50) == (1, 1, 1, 5 * MIN)  # T2 20:45


def test_load_per_region_and_spread(week: Report) -> None:
    regions = {r.region: r for r in week.regions}
    assert sorted(regions) == ["-", "eng/emea", "owls/amer"]
    nowhere = regions["-"]  # mgr and boss
    assert (nowhere.people, nowhere.pages, nowhere.tickets, nowhere.off_hours) == (2, 6, 4, 5)
    assert (nowhere.acks, nowhere.ack_p50) == (3, 5 * MIN)  # 5m, 5m, 10m
    owls = regions["owls/amer"]
    assert (owls.people, owls.pages, owls.tickets, owls.handoffs_taken) == (1, 4, 4, 1)
    spreads = {s.rotation: s for s in week.spreads}
    eng = spreads["eng"]
    assert eng.members == {"ana": 2, "radu": 0}  # radu's week had no pages
    assert (eng.min, eng.max, eng.mean, eng.cv) == (0, 2, 1.0, 1.0)
    assert spreads["owls"].off_hours == {"owl": 2}


def test_noisy_tickets_and_customers(week: Report) -> None:
    tickets = [(n.key, n.pages, n.escalations) for n in week.noisy_tickets]
    assert tickets == [
        ("T2", 3, 2),  # owl, mgr, boss
        ("T3", 3, 2),  # owl, mgr twice
        ("T1", 2, 1),  # ana, mgr (overdue)
        ("T5", 2, 0),  # ana, owl (handoff)
        ("T4", 1, 1),  # mgr only: owl's page was before the period
        ("T6", 1, 0),
    ]
    customers = [(n.key, n.pages, n.escalations) for n in week.noisy_customers]
    assert customers == [("Acme", 5, 3), ("Globex", 4, 2), ("Hooli", 2, 0), ("Initech", 1, 1)]


def test_tier_filter(config: Config, conn: sqlite3.Connection) -> None:
    report = build(config, conn, *WEEK, tier="standard")
    assert [r.tier for r in report.sla] == ["standard"]
    assert {p.person: p.pages for p in report.people} == {"owl": 2, "mgr": 2}  # T3, T6


def test_empty_period(config: Config, conn: sqlite3.Connection) -> None:
    report = build(config, conn, utc("2026-12-01T00:00:00"), utc("2026-12-08T00:00:00"))
    assert report.tickets == 0
    assert report.sla == [] and report.people == [] and report.regions == []
    assert report.escalations_by_reason == {} and report.noisy_tickets == []
    assert [(s.rotation, s.max, s.cv) for s in report.spreads] == [
        ("eng", 0, None),
        ("owls", 0, None),
    ]


def test_period_cut_through_a_ticket(config: Config, conn: sqlite3.Connection) -> None:
    """T4: opened Sun 23:50, mgr paged Mon 00:05 and acked 00:10, closed 01:00."""
    sunday = build(config, conn, utc("2026-11-01T00:00:00"), utc("2026-11-02T00:00:00"))
    [row] = sunday.sla
    # Opened in the period; its ack came after --to, respond-by (00:50) too: pending.
    assert (row.tier, row.severity, row.tickets, row.pending, row.met, row.breaches) == (
        "premier",
        2,
        1,
        1,
        0,
        0,
    )
    assert row.first_response_p50 is None
    assert {p.person: p.pages for p in sunday.people} == {"owl": 1}
    both = build(config, conn, utc("2026-11-01T00:00:00"), WEEK[1])
    week = build(config, conn, *WEEK)
    # Counted once: in the period holding its opening, with its whole history to --to.
    assert both.tickets == sunday.tickets + week.tickets == 6
    t4 = next(r for r in both.sla if r.severity == 2)
    assert (t4.tickets, t4.met, t4.first_response_p50) == (1, 1, 20 * MIN)
    # Load adds up across adjacent periods.
    pages = {p.person: p.pages for p in both.people}
    split = {p.person: p.pages for p in week.people}
    split["owl"] += 1
    assert pages == split
    assert sum(both.escalations_by_reason.values()) == sum(week.escalations_by_reason.values())


def test_local_hours_across_the_dst_change(config: Config, conn: sqlite3.Connection) -> None:
    """Bucharest leaves summer time on Sun 2026-10-25 (UTC+3 -> UTC+2); New York on Nov 1."""
    report = build(config, conn, utc("2026-10-23T00:00:00"), utc("2026-10-27T00:00:00"))
    people = {p.person: p for p in report.people}
    # D1 Fri 06:30Z = 09:30 EEST: in eng's hours, ana's week -> ana, local hour 9.
    assert _hours(people["ana"].by_hour) == {9: 1} and people["ana"].off_hours == 0
    # D2 Mon 06:30Z = 08:30 EET: before eng opens -> owl, 02:30 EDT in New York, a night.
    assert _hours(people["owl"].by_hour) == {2: 1} and people["owl"].nights == 1
    # D3 Mon 07:30Z = 09:30 EET: radu's week (handoff Mon 09:00 local) -> radu, hour 9.
    assert _hours(people["radu"].by_hour) == {9: 1} and people["radu"].off_hours == 0
    assert {s.rotation: s.cv for s in report.spreads}["eng"] == 0.0  # one page each


def _hours(by_hour: list[int]) -> dict[int, int]:
    return {hour: n for hour, n in enumerate(by_hour) if n}
