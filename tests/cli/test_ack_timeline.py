"""`pager ack` and `pager timeline` against a store the engine wrote."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pager.cli.main import main
from pager.config.load import load_config
from pager.core.events import TicketEvent
from pager.core.policy import Policy
from pager.daemon.engine import Engine
from pager.store.sqlite.store import SqliteStore, path_from_url

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    for name in ("pager.yaml", "people.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    for sub in ("holidays", "rotations", "ladders"):
        shutil.copytree(REPO / sub, tmp_path / sub)
    return tmp_path


def _open_ticket(config_dir: Path) -> str:
    config = load_config(config_dir)
    store = SqliteStore(path_from_url(config.settings.store))
    now = datetime.now(UTC) - timedelta(minutes=1)
    event = TicketEvent("e1", "T-77", "opened", now, severity=1, tier="premier", customer="Acme")
    with store.transaction():
        Engine(store, Policy(config)).ingest(event, now)
    state = store.get_ticket("T-77")
    store.close()
    assert state is not None and state.pages
    return state.pages[0].person


def test_ack_then_timeline(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    person = _open_ticket(config_dir)
    assert main(["ack", "T-77", "--by", person, "-c", str(config_dir)]) == 0
    assert f"T-77 acknowledged by {person}" in capsys.readouterr().out
    assert main(["ack", "T-77", "--by", person, "-c", str(config_dir)]) == 0
    assert "already acknowledged" in capsys.readouterr().out
    assert main(["timeline", "T-77", "-c", str(config_dir)]) == 0
    out = capsys.readouterr().out
    assert f"page to {person} by sms (rung 1) - ticket opened" in out
    assert f"ack (rung 1) by {person} - acknowledged via cli" in out
    assert f"owner {person}" in out.splitlines()[-1]


def test_ack_errors(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ack", "T-77", "--by", "dung", "-c", str(config_dir)]) == 1
    assert "no store" in capsys.readouterr().err
    _open_ticket(config_dir)
    assert main(["ack", "T-77", "--by", "nobody-at-all", "-c", str(config_dir)]) == 1
    assert "unknown person" in capsys.readouterr().err
    assert main(["ack", "T-404", "--by", "dung", "-c", str(config_dir)]) == 1
    assert "not acknowledged" in capsys.readouterr().err
    assert main(["timeline", "T-404", "-c", str(config_dir)]) == 1
