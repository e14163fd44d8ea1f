"""The worked example at the repository root loads, and `pager check` likes it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pager.cli.main import main
from pager.config.load import ConfigError, load_config
from pager.core.model import Target, WallDuration

REPO = Path(__file__).resolve().parents[2]


def test_example_config_loads() -> None:
    config = load_config(REPO, environ={})
    assert len(config.people) >= 15
    assert set(config.roles) == {"support-managers", "duty-managers"}
    assert set(config.rotations) == {"support-engineers", "weekend-oncall", "duty-managers"}
    assert config.settings.store == f"sqlite:{REPO}/var/pager.db"
    assert config.settings.twilio.from_number == "+15550000001"
    assert config.settings.twilio.auth_token == ""  # twilio.secret is not shipped
    assert (config.settings.http.listen_host, config.settings.http.listen_port) == (
        "127.0.0.1",
        8025,
    )

    fts = config.rotations["support-engineers"]
    assert [(r.name, r.timezone) for r in fts.regions] == [
        ("apj", "Asia/Ho_Chi_Minh"),
        ("emea", "Europe/Bucharest"),
        ("amer", "America/New_York"),
    ]
    assert fts.after_hours == "weekend-oncall"
    assert len(fts.overrides) == 1
    assert all(region.holidays for region in fts.regions)
    assert config.rotations["weekend-oncall"].regions[0].hours is None

    support = config.ladder_for(None)
    assert support.name == "support"
    assert set(support.tiers) == {"standard", "premier", "platinum", "gold", "silver"}
    for tier in support.tiers.values():
        assert set(tier.severities) == {1, 2, 3, 4}
    assert support.tiers["premier"].severities[1].respond_within == WallDuration(
        timedelta(minutes=30)
    )
    assert support.tiers["standard"].severities[1].status_every == WallDuration(timedelta(hours=2))
    assert [rung.name for rung in support.rungs] == [
        "case-owner",
        "duty-manager",
        "support-leadership",
        "executive",
    ]
    assert support.rungs[0].page == (Target("rotation", "support-engineers"),)
    assert support.rungs[-1].repeat == 2
    assert config.ladder_for("platform").name == "platform"


def test_example_needs_its_twilio_secret_to_run() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(REPO, require_secrets=True, environ={})
    assert [str(issue) for issue in caught.value.issues] == [
        f"pager.yaml:22: twilio.auth_token_file: cannot read secret file "
        f"'{REPO}/twilio.secret': No such file or directory"
    ]
    config = load_config(REPO, require_secrets=True, environ={"PAGER_TWILIO_AUTH_TOKEN": "t"})
    assert config.settings.twilio.auth_token == "t"


def test_pager_check_passes_on_the_example_with_no_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    # A year from before the example's start, across both DST changes of every zone.
    code = main(["check", "-c", str(REPO), "--now", "2026-03-01T00:00:00Z", "--horizon", "400d"])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    assert "config OK: 17 people, 2 roles, 3 rotations, 2 ladders" in out
    for rotation in ("support-engineers", "weekend-oncall", "duty-managers"):
        assert f"  {rotation}: none\n" in out
