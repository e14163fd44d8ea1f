"""rotations/*.yaml: regions, hours, holidays, handoffs, overrides, after_hours."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pager.config.rotations import SOLO_HANDOFF
from pager.core.model import Handoff, Override, WeeklyHours
from tests.config.conftest import ConfigDir

FILE = "rotations/fts.yaml"


def test_follow_the_sun_rotation_is_read(cfg: ConfigDir) -> None:
    cfg.write(
        "people.yaml",
        """\
        people:
          ana: {email: ana@example.com}
          bob: {email: bob@example.com}
          carl: {email: carl@example.com}
        """,
    )
    cfg.write(
        FILE,
        """\
        name: fts
        regions:
          emea:
            timezone: Europe/Bucharest
            hours: {days: mon-fri, from: 8:30, to: "24:00"}
            holidays: [2026-12-25, "2026-12-30..2027-01-01"]
            members: [ana, bob]
            handoff: {every: week, day: Monday, at: "08:30", start: 2026-11-02}
          weekend:
            timezone: UTC
            hours: {days: [fri-sun, wed], from: "00:00", to: "12:00"}
            members: carl
          daily:
            timezone: America/New_York
            members: [bob, carl]
            handoff: {every: day, at: "07:00", start: "2026-11-01"}
        after_hours: nights
        overrides:
          - person: carl
            replaces: ana
            from: "2026-12-24T00:00:00+02:00"
            to: 2026-12-28T00:00:00Z
          - {person: bob, from: "2026-12-31T00:00:00Z", to: "2027-01-01T00:00:00Z"}
        """,
    )
    cfg.write(
        "rotations/nights.yaml",
        "name: nights\nregions:\n  all: {timezone: UTC, members: [carl]}\n",
    )
    rotation = cfg.load().rotations["fts"]
    emea, weekend, daily = rotation.regions
    assert [r.name for r in rotation.regions] == ["emea", "weekend", "daily"]
    assert emea.timezone == "Europe/Bucharest"
    # "8:30" unquoted is a YAML 1.1 base-60 integer; its source text still means 08:30.
    assert emea.hours == WeeklyHours(frozenset({0, 1, 2, 3, 4}), 510, 1440)
    assert emea.holidays == frozenset(
        {date(2026, 12, 25), date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1)}
    )
    assert emea.members == ("ana", "bob")
    assert emea.handoff == Handoff("week", 510, date(2026, 11, 2), 0)
    assert weekend.hours == WeeklyHours(frozenset({2, 4, 5, 6}), 0, 720)
    assert weekend.members == ("carl",)
    assert weekend.handoff == SOLO_HANDOFF
    assert daily.hours is None
    assert daily.handoff == Handoff("day", 420, date(2026, 11, 1), None)
    assert rotation.after_hours == "nights"
    assert rotation.overrides == (
        Override(
            "carl",
            datetime(2026, 12, 23, 22, tzinfo=UTC),
            datetime(2026, 12, 28, tzinfo=UTC),
            "ana",
        ),
        Override("bob", datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    )


REGION = """\
name: fts
regions:
  emea:
    timezone: Europe/Bucharest
    members: [ana, bob]
"""


@pytest.mark.parametrize(
    ("text", "issues"),
    [
        ("", ["rotations/fts.yaml: the file is empty; it must define a rotation"]),
        ("[fts]\n", ["rotations/fts.yaml:1: expected a mapping, got a list"]),
        (
            "regions: {}\n",
            [
                "rotations/fts.yaml:1: missing required key 'name'",
                "rotations/fts.yaml:1: regions: must define at least one region",
            ],
        ),
        ("name: fts\n", ["rotations/fts.yaml:1: missing required key 'regions'"]),
        (
            "name: f t s\nregions: {x: {timezone: UTC, members: [ana]}}\n",
            [
                "rotations/fts.yaml:1: name: rotation name 'f t s' may only use letters, "
                "digits, '.', '_' and '-'"
            ],
        ),
        (
            REGION + "    handoff: {every: week, day: mon, at: '08:00', start: 2026-11-02}\n"
            "    member: [ana]\n",
            [
                "rotations/fts.yaml:7: regions.emea.member: unknown key 'member'; did you mean "
                "'members'?"
            ],
        ),
        (
            "name: fts\nregions:\n  emea:\n    members: [ana]\n",
            ["rotations/fts.yaml:3: regions.emea: missing required key 'timezone'"],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: Europe/Bucharst, members: [ana]}\n",
            [
                "rotations/fts.yaml:3: regions.emea.timezone: unknown time zone "
                "'Europe/Bucharst'; did you mean 'Europe/Bucharest'?"
            ],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: Mars/Olympus, members: [ana]}\n",
            ["rotations/fts.yaml:3: regions.emea.timezone: unknown time zone 'Mars/Olympus'"],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: []}\n",
            ["rotations/fts.yaml:3: regions.emea.members: must list at least one person"],
        ),
        (
            "name: fts\nregions:\n  emea:\n    timezone: UTC\n    members: [ana, anna]\n",
            [
                "rotations/fts.yaml:3: regions.emea: handoff is required when a region has "
                "more than one member",
                "rotations/fts.yaml:5: regions.emea.members[1]: unknown person 'anna'",
            ],
        ),
        (
            REGION,
            [
                "rotations/fts.yaml:3: regions.emea: handoff is required when a region has "
                "more than one member"
            ],
        ),
        (
            REGION + "    handoff: {every: month, day: mon, at: '08:00', start: 2026-11-02}\n",
            [
                "rotations/fts.yaml:6: regions.emea.handoff.every: every must be week or day, got "
                "'month'"
            ],
        ),
        (
            REGION + "    handoff: {every: week, at: '08:00', start: 2026-11-02}\n",
            [
                "rotations/fts.yaml:6: regions.emea.handoff: missing required key 'day' "
                "(every: week hands off on one weekday)"
            ],
        ),
        (
            REGION + "    handoff: {every: day, day: mon, at: '08:00', start: 2026-11-02}\n",
            [
                "rotations/fts.yaml:6: regions.emea.handoff.day: day is only allowed with every: "
                "week"
            ],
        ),
        (
            REGION + "    handoff: {every: week, day: mon, at: '24:00', start: 2026-11-02}\n",
            [
                "rotations/fts.yaml:6: regions.emea.handoff.at: invalid time '24:00': 24:00 is "
                "only allowed as 'to'"
            ],
        ),
        (
            REGION + "    handoff: {every: week, day: funday, at: '08:00', start: 2026-11-02}\n",
            [
                "rotations/fts.yaml:6: regions.emea.handoff.day: unknown weekday 'funday': "
                "use mon..sun or full names"
            ],
        ),
        (
            REGION + "    handoff: {every: week, day: mon, at: '08:00', start: next monday}\n",
            [
                "rotations/fts.yaml:6: regions.emea.handoff.start: invalid date 'next monday': "
                "expected YYYY-MM-DD"
            ],
        ),
        (
            REGION + "    handoff: {every: week, day: mon, at: '08:00'}\n",
            ["rotations/fts.yaml:6: regions.emea.handoff: missing required key 'start'"],
        ),
        (
            "name: fts\nregions:\n  emea:\n    timezone: UTC\n    members: [ana]\n"
            "    hours: {from: '08:00', to: '17:00'}\n",
            ["rotations/fts.yaml:6: regions.emea.hours: missing required key 'days'"],
        ),
        (
            "name: fts\nregions:\n  emea:\n    timezone: UTC\n    members: [ana]\n"
            "    hours: {days: [], from: '08:00', to: '17:00'}\n",
            ["rotations/fts.yaml:6: regions.emea.hours.days: must list at least one day"],
        ),
        (
            "name: fts\nregions:\n  emea:\n    timezone: UTC\n    members: [ana]\n"
            "    hours: {days: [mon, fry], from: '08:00', to: '17:00'}\n",
            [
                "rotations/fts.yaml:6: regions.emea.hours.days[1]: unknown weekday 'fry': "
                "use mon..sun or full names"
            ],
        ),
        (
            "name: fts\nregions:\n  emea:\n    timezone: UTC\n    members: [ana]\n"
            "    hours: {days: mon-fri, from: '17:00', to: '08:00'}\n",
            [
                "rotations/fts.yaml:6: regions.emea.hours: 'from' must be before 'to' "
                "(got from 17:00, to 08:00); hours cannot cross midnight"
            ],
        ),
        (
            "name: fts\nregions:\n  emea:\n    timezone: UTC\n    members: [ana]\n"
            "    hours: {days: mon-fri, from: '08:00', to: '08:00'}\n",
            [
                "rotations/fts.yaml:6: regions.emea.hours: 'from' must be before 'to' "
                "(got from 08:00, to 08:00); hours cannot cross midnight"
            ],
        ),
        (
            "name: fts\nregions:\n  emea:\n    timezone: UTC\n    members: [ana]\n"
            "    hours: {days: mon-fri, from: '8', to: '17:00'}\n",
            [
                "rotations/fts.yaml:6: regions.emea.hours.from: invalid time '8': expected "
                "HH:MM from 00:00 to 23:59"
            ],
        ),
        (
            "name: fts\nregions:\n  emea:\n    timezone: UTC\n    members: [ana]\n"
            "    holidays: [2026-12-25, 2026-13-01]\n",
            [
                "rotations/fts.yaml:6: regions.emea.holidays[1]: invalid date '2026-13-01': "
                "month must be in 1..12"
            ],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana]}\n"
            "overrides:\n  - {person: bob, from: '2026-12-24T00:00:00', to: "
            "'2026-12-25T00:00:00Z'}\n",
            [
                "rotations/fts.yaml:5: overrides[0].from: timestamp '2026-12-24T00:00:00' needs "
                "an offset (Z or +HH:MM), e.g. 2026-12-24T00:00:00+02:00"
            ],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana]}\n"
            "overrides:\n  - {person: bob, from: '2026-12-25T00:00:00Z', to: "
            "'2026-12-25T02:00:00+02:00'}\n",
            ["rotations/fts.yaml:5: overrides[0]: 'from' must be before 'to'"],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana]}\n"
            "overrides:\n  - {person: bob, to: '2026-12-25T00:00:00Z'}\n",
            ["rotations/fts.yaml:5: overrides[0]: missing required key 'from'"],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana]}\n"
            "overrides:\n  - {person: zed, from: '2026-12-24T00:00:00Z', to: "
            "'2026-12-25T00:00:00Z'}\n",
            ["rotations/fts.yaml:5: overrides[0].person: unknown person 'zed'"],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana]}\n"
            "overrides:\n  - {person: ana, replaces: bob, from: '2026-12-24T00:00:00Z', "
            "to: '2026-12-25T00:00:00Z'}\n",
            [
                "rotations/fts.yaml:5: overrides[0].replaces: 'bob' is not a member of rotation "
                "'fts'"
            ],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana]}\noverrides: {person: "
            "bob}\n",
            ["rotations/fts.yaml:4: overrides: expected a list, got a mapping"],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana]}\nafter_hours: nights\n",
            ["rotations/fts.yaml:4: after_hours: unknown rotation 'nights'"],
        ),
        (
            "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana]}\nafter_hours: fts\n",
            ["rotations/fts.yaml:4: after_hours: after_hours cycle: fts -> fts"],
        ),
    ],
)
def test_rotation_issues(cfg: ConfigDir, text: str, issues: list[str]) -> None:
    cfg.write(FILE, text)
    # A rotation whose name cannot be read may be the one the ladder's rung names: that
    # reference is not reported, so the list is exactly the file's own issues.
    assert cfg.issues() == issues


def test_after_hours_cycle_is_reported_on_every_rotation_in_it(cfg: ConfigDir) -> None:
    cfg.write(
        "rotations/a.yaml",
        "name: a\nregions:\n  x: {timezone: UTC, members: [ana]}\nafter_hours: b\n",
    )
    cfg.write(
        "rotations/b.yaml",
        "name: b\nregions:\n  x: {timezone: UTC, members: [ana]}\nafter_hours: c\n",
    )
    cfg.write(
        "rotations/c.yaml",
        "name: c\nregions:\n  x: {timezone: UTC, members: [bob]}\nafter_hours: a\n",
    )
    cfg.write(
        "rotations/d.yaml",
        "name: d\nregions:\n  x: {timezone: UTC, members: [bob]}\nafter_hours: a\n",
    )
    assert cfg.issues() == [
        "rotations/a.yaml:4: after_hours: after_hours cycle: a -> b -> c -> a",
        "rotations/b.yaml:4: after_hours: after_hours cycle: b -> c -> a -> b",
        "rotations/c.yaml:4: after_hours: after_hours cycle: c -> a -> b -> c",
    ]


def test_override_may_replace_an_after_hours_member(cfg: ConfigDir) -> None:
    cfg.write(
        "rotations/nights.yaml", "name: nights\nregions:\n  x: {timezone: UTC, members: [bob]}\n"
    )
    cfg.write(
        FILE,
        """\
        name: fts
        regions:
          emea: {timezone: UTC, hours: {days: mon-fri, from: "09:00", to: "17:00"}, members: [ana]}
        after_hours: nights
        overrides:
          - {person: ana, replaces: bob, from: "2026-12-24T00:00:00Z", to: "2026-12-25T00:00:00Z"}
        """,
    )
    assert cfg.load().rotations["fts"].overrides[0].replaces == "bob"
    cfg.write(
        "people.yaml",
        """\
        people:
          ana: {email: ana@example.com}
          bob: {email: bob@example.com}
          carl: {email: carl@example.com}
        """,
    )
    cfg.write(
        FILE,
        """\
        name: fts
        regions:
          emea: {timezone: UTC, hours: {days: mon-fri, from: "09:00", to: "17:00"}, members: [ana]}
        after_hours: nights
        overrides:
          - {person: ana, replaces: carl, from: "2026-12-24T00:00:00Z", to: "2026-12-25T00:00:00Z"}
        """,
    )
    assert cfg.issues() == [
        "rotations/fts.yaml:6: overrides[0].replaces: 'carl' is not a member of rotation 'fts' "
        "or its after_hours rotations"
    ]


def test_duplicate_rotation_names_name_both_files(cfg: ConfigDir) -> None:
    cfg.write("rotations/other.yaml", "name: fts\nregions:\n  x: {timezone: UTC, members: [ana]}\n")
    assert cfg.issues() == [
        "rotations/other.yaml:1: name: rotation 'fts' is also defined in rotations/fts.yaml"
    ]


def test_rotations_directory_is_optional_and_yml_counts(cfg: ConfigDir) -> None:
    cfg.remove(FILE)
    cfg.write(
        "ladders/main.yaml",
        (cfg.path / "ladders/main.yaml").read_text().replace("rotation:fts", "role:leads"),
    )
    assert cfg.load().rotations == {}
    cfg.write("rotations/x.yml", "name: x\nregions:\n  r: {timezone: UTC, members: [ana]}\n")
    cfg.write("rotations/.#x.yaml", "not: [valid")  # an editor's lock file is ignored
    cfg.write("rotations/notes.txt", "ignored")
    assert list(cfg.load().rotations) == ["x"]
