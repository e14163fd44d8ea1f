"""`pager check`: exit codes, the problem list, the summary, coverage gaps, warnings."""

from __future__ import annotations

import pytest

from pager.cli.main import main
from tests.config.conftest import ConfigDir


def check(cfg: ConfigDir, *extra: str) -> int:
    return main(["check", "-c", str(cfg.path), *extra])


def test_valid_config_exits_0_with_a_summary(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(cfg, "--now", "2026-11-23T00:00:00Z") == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == (
        "config OK: 2 people, 1 role, 1 rotation, 1 ladder\n"
        "  ladder main (default): tiers std; rungs first\n"
        "coverage gaps from 2026-11-23 00:00Z to 2026-12-23 00:00Z (30d):\n"
        "  fts: none\n"
    )


def test_invalid_config_exits_1_listing_every_problem(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg.write("pager.yaml", "store: mysql://db/pager\nmqtt: {password: hunter2}\n")
    cfg.write(
        "rotations/fts.yaml",
        "name: fts\nregions:\n  emea: {timezone: UTC, members: [ana, anna]}\n",
    )
    assert check(cfg) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "pager.yaml:1: store: store scheme not supported by this build: 'mysql' "
        "(use sqlite:///ABS/PATH, sqlite:REL/PATH or postgresql://HOST/DB)",
        "pager.yaml:2: mqtt.password: secrets are never accepted inline; "
        "use password_file or PAGER_MQTT_PASSWORD",
        "rotations/fts.yaml:3: regions.emea: handoff is required when a region has more "
        "than one member",
        "rotations/fts.yaml:3: regions.emea.members[1]: unknown person 'anna'",
        "4 problems",
    ]
    assert "hunter2" not in err


def test_one_problem_is_singular(cfg: ConfigDir, capsys: pytest.CaptureFixture[str]) -> None:
    cfg.remove("pager.yaml")
    assert check(cfg) == 1
    assert capsys.readouterr().err == "pager.yaml: file not found\n1 problem\n"


def test_missing_config_directory(cfg: ConfigDir, capsys: pytest.CaptureFixture[str]) -> None:
    missing = cfg.path / "nope"
    assert main(["check", "-c", str(missing)]) == 1
    assert capsys.readouterr().err == f"{missing}: config directory not found\n1 problem\n"


def test_gaps_are_listed_in_utc_and_local_time_with_a_rung_1_warning(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg.write(
        "rotations/fts.yaml",
        """\
        name: fts
        regions:
          emea:
            timezone: Europe/Bucharest
            hours: {days: mon-fri, from: "09:00", to: "17:00"}
            members: [ana]
        """,
    )
    # Friday 2026-11-27 12:00 UTC = 14:00 in Bucharest, for two days.
    assert check(cfg, "--now", "2026-11-27T12:00:00Z", "--horizon", "2d") == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-3:] == [
        "coverage gaps from 2026-11-27 12:00Z to 2026-11-29 12:00Z (2d):",
        "  fts: 1 gap",
        "    2026-11-27 15:00Z - 2026-11-29 12:00Z (1d21h); Europe/Bucharest: "
        "Fri 2026-11-27 17:00 - Sun 2026-11-29 14:00",
    ]
    assert err == (
        "warning: ladder 'main' rung 1 (first) pages rotation 'fts', which has 1 gap in the "
        "next 2d: a severity-1 ticket opened then pages nobody at rung 1\n"
    )


def test_long_gap_lists_are_cut(cfg: ConfigDir, capsys: pytest.CaptureFixture[str]) -> None:
    cfg.write(
        "rotations/fts.yaml",
        """\
        name: fts
        regions:
          emea:
            timezone: UTC
            hours: {days: mon-sun, from: "09:00", to: "17:00"}
            members: [ana]
        """,
    )
    assert check(cfg, "--now", "2026-11-01T00:00:00Z", "--horizon", "30d") == 0
    out = capsys.readouterr().out
    assert "  fts: 31 gaps\n" in out
    assert out.endswith("    ... and 11 more\n")


@pytest.mark.parametrize("horizon", ["soon", "1 business day", "0d"])
def test_bad_horizon_is_a_usage_error(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str], horizon: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        check(cfg, "--horizon", horizon)
    assert caught.value.code == 2
    assert "--horizon" in capsys.readouterr().err


def test_require_secrets(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PAGER_TWILIO_AUTH_TOKEN", "PAGER_STORE"):
        monkeypatch.delenv(name, raising=False)
    assert check(cfg, "--require-secrets") == 1
    assert capsys.readouterr().err.splitlines()[-1] == "3 problems"
    cfg.write("pager.yaml", 'twilio: {account_sid: AC0, from: "+15550000001"}\n')
    monkeypatch.setenv("PAGER_TWILIO_AUTH_TOKEN", "from-env")
    assert check(cfg, "--require-secrets", "--now", "2026-11-23T00:00:00Z") == 0
    assert "from-env" not in capsys.readouterr().out


def test_yaml_syntax_error_is_a_problem_not_a_traceback(
    cfg: ConfigDir, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg.write("ladders/main.yaml", "name: main\ntiers: {std: [}\n")
    assert check(cfg) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines() == [
        "ladders/main.yaml:2: YAML syntax error at line 2, column 15: "
        "expected the node content, but found '}'",
        "1 problem",
    ]
