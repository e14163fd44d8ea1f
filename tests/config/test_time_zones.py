"""Time zones are places (SPEC 3): legacy fixed-offset names are refused with a hint."""

from __future__ import annotations

import pytest

from pager.config.fields import zone_problem
from tests.config.conftest import ConfigDir


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("EST", "America/New_York"),
        ("MST", "America/Denver"),
        ("HST", "Pacific/Honolulu"),
        ("EST5EDT", "America/New_York"),
        ("PST8PDT", "America/Los_Angeles"),
        ("CET", "Europe/Paris"),
        ("Etc/GMT+5", "UTC-5"),
        ("Etc/GMT-7", "UTC+7"),
        ("GMT", "write UTC"),
        ("Etc/GMT", "write UTC"),
        ("Zulu", "write UTC"),
        ("Europe/Bucarest", "did you mean 'Europe/Bucharest'"),
    ],
)
def test_refused_zones_name_a_place(name: str, hint: str) -> None:
    problem = zone_problem(name)
    assert problem is not None and hint in problem


@pytest.mark.parametrize(
    "name", ["UTC", "Etc/UTC", "America/New_York", "Europe/Bucharest", "Asia/Ho_Chi_Minh"]
)
def test_places_and_utc_are_accepted(name: str) -> None:
    assert zone_problem(name) is None


def test_est_in_a_rotation_is_a_file_line_error(cfg: ConfigDir) -> None:
    cfg.write(
        "rotations/fts.yaml",
        """\
        name: fts
        regions:
          amer:
            timezone: EST
            members: [ana, bob]
            handoff: {every: week, day: mon, at: "08:00", start: 2026-11-02}
        """,
    )
    issues = cfg.issues()
    assert len(issues) == 1
    assert issues[0].startswith("rotations/fts.yaml:4: regions.amer.timezone: time zone 'EST'")
    assert "America/New_York" in issues[0]


def test_etc_offset_in_a_ladder_calendar_is_refused(cfg: ConfigDir) -> None:
    text = (
        (cfg.path / "ladders/main.yaml").read_text().replace("timezone: UTC", "timezone: Etc/GMT+5")
    )
    cfg.write("ladders/main.yaml", text)
    issues = cfg.issues()
    assert len(issues) == 1 and "ladders/main.yaml:3: calendars.desk" in issues[0]
    assert "Etc/GMT+5" in issues[0]
