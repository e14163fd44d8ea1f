"""Named holiday calendars: ``holidays/NAME.yaml`` defined once, referred to by name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pager.config.load import load_config
from tests.config.conftest import ConfigDir

REPO = Path(__file__).resolve().parents[2]

ROTATION = """\
    name: fts
    regions:
      emea:
        timezone: Europe/Bucharest
        holidays: {holidays}
        members: [ana, bob]
        handoff: {{every: week, day: mon, at: "08:00", start: 2026-11-02}}
    """


def test_a_calendar_is_used_by_a_region_and_a_ladder_calendar(cfg: ConfigDir) -> None:
    cfg.write("holidays/ro.yaml", "dates: [2026-12-01, 2026-12-25..2026-12-26]\n")
    cfg.write("rotations/fts.yaml", ROTATION.format(holidays="[ro, 2026-12-24]"))
    ladder = (cfg.path / "ladders/main.yaml").read_text()
    cfg.write("ladders/main.yaml", ladder.replace('to: "17:00"}', 'to: "17:00", holidays: ro}'))
    config = cfg.load()
    ro = {date(2026, 12, 1), date(2026, 12, 25), date(2026, 12, 26)}
    assert config.rotations["fts"].regions[0].holidays == frozenset(ro | {date(2026, 12, 24)})
    assert config.ladders["main"].calendars["desk"].holidays == frozenset(ro)


def test_unknown_calendar_names_the_known_ones_at_file_and_line(cfg: ConfigDir) -> None:
    cfg.write("holidays/romania.yaml", "dates: [2026-12-01]\n")
    cfg.write("holidays/vietnam.yaml", "description: Vietnam\ndates: [2027-01-01]\n")
    cfg.write("rotations/fts.yaml", ROTATION.format(holidays="[romnia, 2026-12-24]"))
    assert cfg.issues() == [
        "rotations/fts.yaml:5: regions.emea.holidays[0]: unknown holiday calendar 'romnia' "
        "(known: romania, vietnam); did you mean 'romania'?"
    ]


def test_a_plain_date_list_still_works_and_a_single_name_too(cfg: ConfigDir) -> None:
    cfg.write("holidays/ro.yaml", "dates: [2026-12-01]\n")
    cfg.write("rotations/fts.yaml", ROTATION.format(holidays="ro"))
    assert cfg.load().rotations["fts"].regions[0].holidays == frozenset({date(2026, 12, 1)})
    cfg.write("rotations/fts.yaml", ROTATION.format(holidays="[2026-12-02]"))
    assert cfg.load().rotations["fts"].regions[0].holidays == frozenset({date(2026, 12, 2)})


def test_a_broken_holiday_file_is_reported_once(cfg: ConfigDir) -> None:
    cfg.write("holidays/ro.yaml", "dates: [2026-12-01, someday]\nextra: 1\n")
    cfg.write("rotations/fts.yaml", ROTATION.format(holidays="ro"))
    assert cfg.issues() == [
        "holidays/ro.yaml:1: dates[1]: unknown holiday calendar 'someday' "
        "(none defined: a holidays/someday.yaml listing its dates defines it)",
        "holidays/ro.yaml:2: extra: unknown key 'extra' (expected one of: dates, description)",
    ]


def test_holiday_file_needs_dates(cfg: ConfigDir) -> None:
    cfg.write("holidays/ro.yaml", "description: nothing\n")
    assert cfg.issues() == ["holidays/ro.yaml:1: missing required key 'dates'"]


def test_the_shipped_example_defines_holidays_once() -> None:
    config = load_config(REPO)
    regions = {r.name: r for r in config.rotations["support-engineers"].regions}
    assert date(2027, 2, 7) in regions["apj"].holidays  # Tet, from holidays/vn.yaml
    assert date(2026, 12, 1) in regions["emea"].holidays  # holidays/ro.yaml
    assert date(2026, 11, 26) in regions["amer"].holidays  # holidays/us.yaml
    assert config.ladders["support"].calendars["desk"].holidays == frozenset(
        {date(2026, 12, 25), date(2027, 1, 1)}
    )
    text = (REPO / "rotations" / "support-engineers.yaml").read_text()
    assert "2026-11-26" not in text  # the dates live in holidays/, not repeated here
