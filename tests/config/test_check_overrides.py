"""`pager check` warns (exit 0) about overrides that are over or never change who is on call."""

from __future__ import annotations

from pathlib import Path

import pytest

from pager.cli.main import main
from pager.config.load import load_config
from pager.core.rotation import RotationResolver
from tests.config.conftest import ConfigDir

REPO = Path(__file__).resolve().parents[2]

# fts: emea, members [ana, bob], weekly handoff Monday 08:00 Bucharest from 2026-11-02,
# no hours (covers every instant): ana the weeks of Nov 2, 16, 30; bob those of 9, 23.
ROTATION = """\
    name: fts
    regions:
      emea:
        timezone: Europe/Bucharest
        members: [ana, bob]
        handoff: {{every: week, day: mon, at: "08:00", start: 2026-11-02}}
    overrides:
      {overrides}
    """


def _check(cfg: ConfigDir, overrides: str, capsys: pytest.CaptureFixture[str]) -> str:
    cfg.write("rotations/fts.yaml", ROTATION.format(overrides=overrides))
    assert main(["check", "-c", str(cfg.path), "--now", "2026-11-20T00:00:00Z"]) == 0
    return capsys.readouterr().err


def test_an_override_of_someone_not_on_call_warns(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str]
) -> None:
    # bob replaces ana in the week of Nov 23, which is bob's own week.
    err = _check(
        cfg,
        '- {person: bob, replaces: ana, from: "2026-11-24T00:00:00Z", to: "2026-11-26T00:00:00Z"}',
        capsys,
    )
    assert err == (
        "warning: rotation 'fts' overrides[0] (bob replaces ana, 2026-11-24 00:00Z - "
        "2026-11-26 00:00Z): never changes who takes new pages (ana is not on call in fts "
        "then, or bob already is); check its dates and 'replaces'\n"
    )


def test_an_override_by_the_person_already_on_call_warns(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _check(
        cfg, '- {person: bob, from: "2026-11-24T00:00:00Z", to: "2026-11-26T00:00:00Z"}', capsys
    )
    assert "overrides[0] (bob, 2026-11-24 00:00Z" in err
    assert "never changes who takes new pages" in err


def test_a_past_override_warns(cfg: ConfigDir, capsys: pytest.CaptureFixture[str]) -> None:
    err = _check(
        cfg,
        '- {person: bob, replaces: ana, from: "2026-11-03T00:00:00Z", to: "2026-11-05T00:00:00Z"}',
        capsys,
    )
    assert err == (
        "warning: rotation 'fts' overrides[0] (bob replaces ana, 2026-11-03 00:00Z - "
        "2026-11-05 00:00Z): ended before now; it no longer does anything\n"
    )


def test_an_effective_override_is_silent(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str]
) -> None:
    # bob replaces ana in ana's week of Nov 30: an effective override, even if it only
    # overlaps that week by a day (it starts in bob's week).
    err = _check(
        cfg,
        '- {person: bob, replaces: ana, from: "2026-11-29T00:00:00Z", to: "2026-12-01T12:00:00Z"}',
        capsys,
    )
    assert err == ""


def test_a_shadowed_override_warns(cfg: ConfigDir, capsys: pytest.CaptureFixture[str]) -> None:
    # The first override already hands ana's week to bob; the second (first match wins)
    # would give it to ana... never reached.
    err = _check(
        cfg,
        '- {person: bob, replaces: ana, from: "2026-11-30T12:00:00Z", to: "2026-12-02T00:00:00Z"}'
        '\n      - {person: bob, replaces: ana, from: "2026-12-01T00:00:00Z", '
        'to: "2026-12-01T06:00:00Z"}',
        capsys,
    )
    assert "overrides[0]" not in err
    assert "overrides[1]" in err and "never changes" in err


def test_the_shipped_example_override_takes_effect(capsys: pytest.CaptureFixture[str]) -> None:
    config = load_config(REPO)
    override = config.rotations["support-engineers"].overrides[0]
    assert override.replaces is not None
    without = RotationResolver(
        {
            **config.rotations,
            "support-engineers": config.rotations["support-engineers"].__class__(
                name="support-engineers",
                regions=config.rotations["support-engineers"].regions,
                after_hours=config.rotations["support-engineers"].after_hours,
            ),
        }
    )
    with_it = RotationResolver(config.rotations)
    # Monday 14 December, 12:00 in Bucharest: the replaced person would take new pages.
    at = override.start.replace(hour=10) + (override.end - override.start) / 5
    assert without.oncall("support-engineers", at).person == override.replaces
    assert with_it.oncall("support-engineers", at).person == override.person
    before = override.start.replace(year=2026, month=12, day=1)
    assert main(["check", "-c", str(REPO), "--now", before.isoformat()]) == 0
    assert "warning" not in capsys.readouterr().err
