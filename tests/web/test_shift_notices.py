"""Shift notices: which are due when, their outbox rows, idempotency, overrides.

The rig's config with ana opting in (``notify_shift: {via: sms, lead: 30m}``). By hand
from rotations/support-engineers.yaml: on Wednesday 2026-12-02 EMEA opens at 08:30
Bucharest = 06:30 UTC with ana on (see tests/web/rig.py) and takes new pages from APJ
(its window began later), until AMER opens at 13:00 UTC. So ana's shift starts at 06:30:
a reminder at 06:00 and the notice at 06:30.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pager.config.load import ConfigError
from pager.core.model import Config, ShiftNotice
from pager.core.policy import Policy
from pager.core.rotation import RotationResolver
from pager.daemon.service import Service
from pager.daemon.shift_notices import ShiftNotices, due_notices
from pager.store.sqlite.store import SqliteStore
from tests.web.rig import Clock, load, make_config_dir
from tests.web.test_coverage import t

OPT_IN = "  ana:\n    name: Ana Dobre\n"


def config_with(tmp: Path, *, notify: str = "{via: sms, lead: 30m}", override: str = "") -> Config:
    cfg = make_config_dir(tmp)
    people = cfg / "people.yaml"
    text = people.read_text()
    assert OPT_IN in text
    people.write_text(text.replace(OPT_IN, OPT_IN + f"    notify_shift: {notify}\n"))
    if override:
        rotation = cfg / "rotations" / "support-engineers.yaml"
        rotation.write_text(rotation.read_text() + override)
    return load(cfg)


def test_opt_in_is_parsed_and_checked(tmp_path: Path) -> None:
    config = config_with(tmp_path / "a")
    assert config.people["ana"].notify_shift == ShiftNotice("sms", timedelta(minutes=30))
    assert config.people["linh"].notify_shift is None
    try:
        config_with(tmp_path / "b", notify="{via: voice}")
    except ConfigError as exc:
        assert any("notify_shift.via" in str(issue) for issue in exc.issues)
    else:
        raise AssertionError("voice is not a shift notice channel")


def test_reminder_and_start_are_due_at_the_shift(tmp_path: Path) -> None:
    config = config_with(tmp_path)
    resolver = RotationResolver(config.rotations)
    found = due_notices(config, resolver, t("2026-12-02T05:00"), t("2026-12-02T07:00"))
    assert [(n.due, n.kind, n.rotation, n.person, n.region) for n in found] == [
        (t("2026-12-02T06:00"), "reminder", "support-engineers", "ana", "emea"),
        (t("2026-12-02T06:30"), "start", "support-engineers", "ana", "emea"),
    ]
    assert found[1].end == t("2026-12-02T13:00")
    assert found[0].key != found[1].key


def test_no_notice_during_an_override_that_removes_them(tmp_path: Path) -> None:
    override = (
        '  - {person: andrei, replaces: ana, from: "2026-12-02T00:00:00Z",'
        ' to: "2026-12-03T00:00:00Z"}\n'
    )
    config = config_with(tmp_path, override=override)
    resolver = RotationResolver(config.rotations)
    assert due_notices(config, resolver, t("2026-12-02T00:00"), t("2026-12-03T00:00")) == []
    # The next day she is back: Thursday's notices are there.
    thursday = due_notices(config, resolver, t("2026-12-03T05:00"), t("2026-12-03T07:00"))
    assert [n.kind for n in thursday] == ["reminder", "start"]


async def test_outbox_rows_are_written_once(tmp_path: Path) -> None:
    config = config_with(tmp_path)
    service = Service(SqliteStore(tmp_path / "pager.db"), Policy(config))
    await service.start()
    clock = Clock(t("2026-12-02T06:30:20"))
    notices = ShiftNotices(service, clock)
    delay = await notices.tick()
    assert 0 < delay <= 60
    rows = await service.db(lambda e: e.outbox.pending_messages(clock.now))
    # 06:00's reminder is 30 minutes late (more than GRACE): only the start notice.
    assert [(r.person, r.channel, r.kind) for r in rows] == [("ana", "sms", "shift")]
    assert "you are on call now for support-engineers (emea)" in rows[0].body
    assert "Wed 02 Dec 13:00 UTC" in rows[0].body
    # A second look (or a restarted daemon) writes nothing more.
    await notices.tick()
    await ShiftNotices(service, clock).tick()
    again = await service.db(lambda e: e.outbox.pending_messages(clock.now))
    assert [r.id for r in again] == [rows[0].id]
    await service.close()
