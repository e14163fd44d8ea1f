"""A tiny valid config directory per test, and helpers to break one file of it."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from pager.config.load import ConfigError, load_config
from pager.core.model import Config

BASE: dict[str, str] = {
    "pager.yaml": "",
    "people.yaml": """\
        people:
          ana: {phone: "+40700000002", email: ana@example.com}
          bob: {phone: "+40700000003"}
        roles:
          leads: [ana]
        """,
    "rotations/fts.yaml": """\
        name: fts
        regions:
          emea:
            timezone: Europe/Bucharest
            members: [ana, bob]
            handoff: {every: week, day: mon, at: "08:00", start: 2026-11-02}
        """,
    "ladders/main.yaml": """\
        name: main
        calendars:
          desk: {timezone: UTC, days: mon-fri, from: "09:00", to: "17:00"}
        tiers:
          std:
            calendar: desk
            severities:
              1: {respond_within: 1h, urgency: high, clock: 24x7}
        rungs:
          - {name: first, page: rotation:fts, ack_within: 15m}
        """,
}


class ConfigDir:
    """A config directory under ``tmp_path`` holding :data:`BASE` until overwritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for name, text in BASE.items():
            self.write(name, text)

    def write(self, name: str, text: str) -> Path:
        """Write ``name`` (dedented, so tests can indent YAML with the code)."""
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
        return target

    def remove(self, name: str) -> None:
        (self.path / name).unlink()

    def load(
        self, *, require_secrets: bool = False, environ: Mapping[str, str] | None = None
    ) -> Config:
        return load_config(self.path, require_secrets=require_secrets, environ=environ or {})

    def issues(
        self, *, require_secrets: bool = False, environ: Mapping[str, str] | None = None
    ) -> list[str]:
        """Every issue as ``str``; fails the test when the config loads."""
        with pytest.raises(ConfigError) as caught:
            self.load(require_secrets=require_secrets, environ=environ)
        return [str(issue) for issue in caught.value.issues]


@pytest.fixture
def cfg(tmp_path: Path) -> ConfigDir:
    return ConfigDir(tmp_path / "conf")
