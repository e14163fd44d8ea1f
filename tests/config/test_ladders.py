"""ladders/*.yaml: calendars, tiers, severities, rungs, queue routing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pager.core.model import (
    BusinessDays,
    BusinessHours,
    Calendar,
    SeverityPolicy,
    Target,
    WallDuration,
    WeeklyHours,
)
from tests.config.conftest import ConfigDir

FILE = "ladders/main.yaml"


def test_ladder_is_read(cfg: ConfigDir) -> None:
    cfg.write(
        FILE,
        """\
        name: main
        calendars:
          desk: {timezone: UTC, days: mon-fri, from: "09:00", to: "23:00", holidays: [2026-12-25]}
        tiers:
          premier:
            calendar: desk
            severities:
              1: {respond_within: 30m, status_every: 2h, urgency: high, clock: 24x7}
              2: {respond_within: 1 business hour, urgency: High, clock: business}
              "4":
                respond_within: 1 business day
                status_every: 1 business day
                urgency: low
                clock: business
        status_report_lead: 10m
        rungs:
          - {name: case-owner, page: rotation:fts, inform: role:leads, ack_within: 15m}
          - {name: managers, page: [role:leads, person:bob], inform: [person:ana], ack_within: 30m}
          - name: last
            page: person:ana
            ack_within: 1h
            repeat: 2
        """,
    )
    ladder = cfg.load().ladders["main"]
    assert ladder.queues == ()
    assert ladder.status_report_lead == timedelta(minutes=10)
    assert ladder.calendars["desk"] == Calendar(
        "desk", "UTC", WeeklyHours(frozenset(range(5)), 540, 1380), frozenset({date(2026, 12, 25)})
    )
    tier = ladder.tiers["premier"]
    assert tier.calendar == "desk"
    assert dict(tier.severities) == {
        1: SeverityPolicy(
            WallDuration(timedelta(minutes=30)), "high", "24x7", WallDuration(timedelta(hours=2))
        ),
        2: SeverityPolicy(BusinessHours(1.0), "high", "business"),
        4: SeverityPolicy(BusinessDays(1), "low", "business", BusinessDays(1)),
    }
    first, second, last = ladder.rungs
    assert (first.name, first.page, first.inform) == (
        "case-owner",
        (Target("rotation", "fts"),),
        (Target("role", "leads"),),
    )
    assert first.ack_within == timedelta(minutes=15) and first.repeat == 0
    assert second.page == (Target("role", "leads"), Target("person", "bob"))
    assert (last.repeat, last.inform) == (2, ())


def test_default_status_report_lead(cfg: ConfigDir) -> None:
    assert cfg.load().ladders["main"].status_report_lead == timedelta(minutes=15)


HEAD = """\
name: main
calendars:
  desk: {timezone: UTC, days: mon-fri, from: "09:00", to: "17:00"}
"""
TIERS = """\
tiers:
  std:
    calendar: desk
    severities:
      1: {respond_within: 1h, urgency: high, clock: 24x7}
"""
RUNGS = """\
rungs:
  - {name: first, page: rotation:fts, ack_within: 15m}
"""


def sev(line: str) -> str:
    """HEAD + a tier whose severity 1 is ``line`` + RUNGS (the severity is on line 8)."""
    return (
        HEAD
        + "tiers:\n  std:\n    calendar: desk\n    severities:\n      1: "
        + line
        + "\n"
        + RUNGS
    )


def rung(*lines: str) -> str:
    """HEAD + TIERS + rungs (the first rung is on line 10)."""
    return HEAD + TIERS + "rungs:\n" + "".join(f"  - {line}\n" for line in lines)


@pytest.mark.parametrize(
    ("text", "issues"),
    [
        ("", ["ladders/main.yaml: the file is empty; it must define a ladder"]),
        (
            "name: main\n",
            [
                "ladders/main.yaml:1: missing required key 'tiers'",
                "ladders/main.yaml:1: missing required key 'rungs'",
            ],
        ),
        (
            HEAD + TIERS + RUNGS + "escalation: fast\n",
            [
                "ladders/main.yaml:11: escalation: unknown key 'escalation' (expected one of: "
                "name, queues, calendars, tiers, status_report_lead, rungs)"
            ],
        ),
        (
            HEAD.replace('"17:00"', '"08:00"') + TIERS + RUNGS,
            [
                "ladders/main.yaml:3: calendars.desk: 'from' must be before 'to' "
                "(got from 09:00, to 08:00); hours cannot cross midnight"
            ],
        ),
        (
            HEAD.replace("timezone: UTC", "timezone: Europe/Pariss") + TIERS + RUNGS,
            [
                "ladders/main.yaml:3: calendars.desk.timezone: unknown time zone "
                "'Europe/Pariss'; did you mean 'Europe/Paris'?"
            ],
        ),
        (
            HEAD.replace("days: mon-fri, ", "") + TIERS + RUNGS,
            ["ladders/main.yaml:3: calendars.desk: missing required key 'days'"],
        ),
        (
            # a word is a holiday calendar's name (holidays/NAME.yaml), a number a date
            HEAD.replace("}", ", holidays: [christmas, 2026-13-01]}") + TIERS + RUNGS,
            [
                "ladders/main.yaml:3: calendars.desk.holidays[0]: unknown holiday calendar "
                "'christmas' (none defined: a holidays/christmas.yaml listing its dates "
                "defines it)",
                "ladders/main.yaml:3: calendars.desk.holidays[1]: invalid date '2026-13-01': "
                "month must be in 1..12",
            ],
        ),
        (
            HEAD + TIERS.replace("calendar: desk", "calendar: dsk") + RUNGS,
            [
                "ladders/main.yaml:6: tiers.std.calendar: unknown calendar 'dsk' (this ladder's "
                "calendars: desk)"
            ],
        ),
        (
            "name: main\n" + TIERS + RUNGS,
            [
                "ladders/main.yaml:4: tiers.std.calendar: unknown calendar 'desk' "
                "(this ladder's calendars: none)"
            ],
        ),
        (
            HEAD + "tiers: {}\n" + RUNGS,
            ["ladders/main.yaml:4: tiers: must define at least one tier"],
        ),
        (
            HEAD + "tiers:\n  std:\n    calendar: desk\n    severities:\n"
            "      2: {respond_within: 1h, urgency: high, clock: 24x7}\n" + RUNGS,
            ["ladders/main.yaml:7: tiers.std.severities: severity 1 is required"],
        ),
        (
            HEAD + TIERS + "      5: {respond_within: 1h, urgency: high, clock: 24x7}\n" + RUNGS,
            ["ladders/main.yaml:9: tiers.std.severities.5: severity must be 1, 2, 3 or 4, got '5'"],
        ),
        (
            HEAD + TIERS + "      sev2: {respond_within: 1h, urgency: high, clock: 24x7}\n" + RUNGS,
            [
                "ladders/main.yaml:9: tiers.std.severities.sev2: severity must be 1, 2, 3 or 4, "
                "got 'sev2'"
            ],
        ),
        (
            sev("{respond_within: 1h, urgency: urgent, clock: 24x7}"),
            [
                "ladders/main.yaml:8: tiers.std.severities.1.urgency: urgency must be high or "
                "low, got 'urgent'"
            ],
        ),
        (
            sev("{respond_within: 1h, urgency: high, clock: always}"),
            [
                "ladders/main.yaml:8: tiers.std.severities.1.clock: clock must be 24x7 or "
                "business, got 'always'"
            ],
        ),
        (
            sev("{urgency: high, clock: 24x7}"),
            ["ladders/main.yaml:8: tiers.std.severities.1: missing required key 'respond_within'"],
        ),
        (
            sev("{respond_within: 0m, urgency: high, clock: 24x7}"),
            ["ladders/main.yaml:8: tiers.std.severities.1.respond_within: must be longer than 0"],
        ),
        (
            sev("{respond_within: 4 business hours, urgency: high, clock: 24x7}"),
            [
                "ladders/main.yaml:8: tiers.std.severities.1.respond_within: a business duration "
                "needs clock: business (this severity has clock: 24x7)"
            ],
        ),
        (
            sev("{respond_within: 1h, status_every: 1 business day, urgency: high, clock: 24x7}"),
            [
                "ladders/main.yaml:8: tiers.std.severities.1.status_every: a business duration "
                "needs clock: business (this severity has clock: 24x7)"
            ],
        ),
        (
            sev("{respond_within: 1h, status_every: often, urgency: high, clock: 24x7}"),
            [
                "ladders/main.yaml:8: tiers.std.severities.1.status_every: invalid duration "
                "'often': e.g. 30s, 15m, 2h, 1d, 1h30m, 4 business hours or 1 business day"
            ],
        ),
        (
            HEAD + TIERS + RUNGS + "status_report_lead: 1 business hour\n",
            [
                "ladders/main.yaml:11: status_report_lead: a business duration is not allowed "
                "here; use e.g. 15m"
            ],
        ),
        (HEAD + TIERS + "rungs: []\n", ["ladders/main.yaml:9: rungs: must list at least one rung"]),
        (
            rung("{name: first, ack_within: 15m}"),
            ["ladders/main.yaml:10: rungs[0]: missing required key 'page'"],
        ),
        (
            rung("{name: first, page: [], ack_within: 15m}"),
            ["ladders/main.yaml:10: rungs[0].page: must name at least one target"],
        ),
        (
            rung("{name: first, page: rotations:fts, ack_within: 15m}"),
            [
                "ladders/main.yaml:10: rungs[0].page: target must be rotation:NAME, role:NAME "
                "or person:ID, got 'rotations:fts'"
            ],
        ),
        (
            rung("{name: first, page: [rotation:fts, ana], ack_within: 15m}"),
            [
                "ladders/main.yaml:10: rungs[0].page[1]: target must be rotation:NAME, "
                "role:NAME or person:ID, got 'ana'"
            ],
        ),
        (
            rung("{name: first, page: rotation:fts, ack_within: 1 business hour}"),
            [
                "ladders/main.yaml:10: rungs[0].ack_within: a business duration is not allowed "
                "here; use e.g. 15m"
            ],
        ),
        (
            rung("{name: first, page: rotation:fts, ack_within: 15m, repeat: -1}"),
            ["ladders/main.yaml:10: rungs[0].repeat: must be at least 0, got -1"],
        ),
        (
            rung(
                "{name: first, page: rotation:fts, ack_within: 15m, repeat: 2}",
                "{name: second, page: person:ana, ack_within: 15m}",
            ),
            ["ladders/main.yaml:10: rungs[0].repeat: repeat applies only to the last rung"],
        ),
        (
            rung(
                "{name: first, page: rotation:fts, ack_within: 15m}",
                "{name: first, page: person:ana, ack_within: 15m}",
            ),
            ["ladders/main.yaml:11: rungs[1].name: duplicate rung name 'first' (also rung 1)"],
        ),
        (
            rung("{name: first, page: rotation:nope, inform: role:nobody, ack_within: 15m}"),
            [
                "ladders/main.yaml:10: rungs[0].page: unknown rotation 'nope'",
                "ladders/main.yaml:10: rungs[0].inform: unknown role 'nobody'",
            ],
        ),
        (
            rung("{name: first, page: [rotation:fts, person:zed], ack_within: 15m}"),
            ["ladders/main.yaml:10: rungs[0].page[1]: unknown person 'zed'"],
        ),
        (
            "name: main\nqueues: []\n" + HEAD.replace("name: main\n", "") + TIERS + RUNGS,
            [
                "ladders/main.yaml:2: queues: must list at least one queue (leave it out for "
                "the default ladder)",
                "ladders/: no default ladder: exactly one ladder must have no 'queues'",
            ],
        ),
        (
            "name: main\nqueues: [a, b, a]\n" + HEAD.replace("name: main\n", "") + TIERS + RUNGS,
            [
                "ladders/main.yaml:2: queues[2]: queue 'a' is listed twice",
                "ladders/: no default ladder: exactly one ladder must have no 'queues'",
            ],
        ),
    ],
)
def test_ladder_issues(cfg: ConfigDir, text: str, issues: list[str]) -> None:
    cfg.write(FILE, text)
    assert cfg.issues() == issues


def queue_ladder(name: str, queues: str) -> str:
    return f"name: {name}\nqueues: {queues}\n" + HEAD.replace("name: main\n", "") + TIERS + RUNGS


def test_queue_routing(cfg: ConfigDir) -> None:
    cfg.write("ladders/vip.yaml", queue_ladder("vip", "[vip, gold]"))
    config = cfg.load()
    assert config.ladders["vip"].queues == ("vip", "gold")
    assert config.ladder_for("gold").name == "vip"
    assert config.ladder_for("other").name == "main"
    assert config.ladder_for(None).name == "main"


def test_queue_listed_by_two_ladders(cfg: ConfigDir) -> None:
    cfg.write("ladders/a.yaml", queue_ladder("a", "[vip, gold]"))
    cfg.write("ladders/b.yaml", queue_ladder("b", "gold"))
    assert cfg.issues() == [
        "ladders/b.yaml:2: queues[0]: queue 'gold' is also listed by ladder 'a' (ladders/a.yaml)"
    ]


def test_two_default_ladders(cfg: ConfigDir) -> None:
    cfg.write("ladders/other.yaml", queue_ladder("other", "x").replace("queues: x\n", ""))
    assert cfg.issues() == [
        "ladders/other.yaml:1: name: ladder 'other' has no queues, and neither has ladder 'main' "
        "(ladders/main.yaml); exactly one ladder may be the default"
    ]


def test_duplicate_ladder_names_name_both_files(cfg: ConfigDir) -> None:
    cfg.write("ladders/z.yaml", queue_ladder("main", "[vip]"))
    assert cfg.issues() == [
        "ladders/z.yaml:1: name: ladder 'main' is also defined in ladders/main.yaml"
    ]


def test_ladders_are_required(cfg: ConfigDir) -> None:
    cfg.remove(FILE)
    assert cfg.issues() == ["ladders/: no ladder files: at least the default ladder is required"]
    (cfg.path / "ladders").rmdir()
    assert cfg.issues() == ["ladders/: directory not found"]
