"""Names (ids, roles, rotations, regions, ladders, tiers, calendars, rungs) are restricted."""

from __future__ import annotations

import textwrap

import pytest

from tests.config.conftest import BASE, ConfigDir

BAD = "a b"
RULE = "may only use letters, digits, '.', '_' and '-'"


@pytest.mark.parametrize(
    ("file", "old", "new", "issue"),
    [
        (
            "people.yaml",
            "  bob:",
            "  a b: {email: x@example.com}\n  bob:",
            f"people.yaml:3: people.a b: person id 'a b' {RULE}",
        ),
        ("people.yaml", "  leads:", "  a b:", f"people.yaml:5: roles.a b: role name 'a b' {RULE}"),
        (
            "rotations/fts.yaml",
            "  emea:",
            "  a b:",
            f"rotations/fts.yaml:3: regions.a b: region name 'a b' {RULE}",
        ),
        (
            "ladders/main.yaml",
            "name: main",
            "name: a b",
            f"ladders/main.yaml:1: name: ladder name 'a b' {RULE}",
        ),
        (
            "ladders/main.yaml",
            "  std:",
            "  a b:",
            f"ladders/main.yaml:5: tiers.a b: tier name 'a b' {RULE}",
        ),
        (
            "ladders/main.yaml",
            "{name: first,",
            "{name: a b,",
            f"ladders/main.yaml:10: rungs[0].name: rung name 'a b' {RULE}",
        ),
    ],
)
def test_bad_names(cfg: ConfigDir, file: str, old: str, new: str, issue: str) -> None:
    text = textwrap.dedent(BASE[file])
    assert old in text
    cfg.write(file, text.replace(old, new, 1))
    assert cfg.issues() == [issue]


def test_bad_calendar_name(cfg: ConfigDir) -> None:
    cfg.write("ladders/main.yaml", textwrap.dedent(BASE["ladders/main.yaml"]).replace("desk", BAD))
    assert cfg.issues() == [f"ladders/main.yaml:3: calendars.a b: calendar name 'a b' {RULE}"]
