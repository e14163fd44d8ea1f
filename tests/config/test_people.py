"""people.yaml: people, contact methods, notification rules, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pager.core.model import NotifyStep
from tests.config.conftest import ConfigDir

HEAD = """\
people:
  ana: {phone: "+40700000002", email: ana@example.com}
  bob: {phone: "+40700000003"}
"""


def test_people_and_roles_are_read(cfg: ConfigDir) -> None:
    cfg.write(
        "people.yaml",
        HEAD
        + """\
  carl:
    name: Carl Example
    phone: +40700000004
    email: carl@example.com
    notify:
      - {via: sms, after: 0m}
      - {via: voice, after: 3m}
      - {via: email, after: 1h30m}
  dora: {email: dora@example.com}
roles:
  leads: [ana, carl]
  solo: bob
""",
    )
    config = cfg.load()
    carl = config.people["carl"]
    assert (carl.name, carl.phone, carl.email) == (
        "Carl Example",
        "+40700000004",
        "carl@example.com",
    )
    assert carl.notify == (
        NotifyStep("sms", timedelta(0)),
        NotifyStep("voice", timedelta(minutes=3)),
        NotifyStep("email", timedelta(minutes=90)),
    )
    # Without notify: the default, minus channels the person cannot be reached on.
    assert config.people["dora"].notify == (NotifyStep("email", timedelta(0)),)
    assert config.people["dora"].name == "dora"
    assert [step.via for step in config.people["bob"].notify] == ["sms", "voice"]
    assert dict(config.roles) == {"leads": ("ana", "carl"), "solo": ("bob",)}
    with pytest.raises(TypeError):
        config.people["eve"] = carl  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "issues"),
    [
        ("", ["people.yaml: the file is empty; it must define people"]),
        ("roles: {}\n", ["people.yaml:1: missing required key 'people'"]),
        (
            "people: [ana]\n",
            ["people.yaml:1: people: expected a mapping of person ids, got a list"],
        ),
        (
            HEAD + "  carl x: {email: c@example.com}\n",
            [
                "people.yaml:4: people.carl x: person id 'carl x' may only use letters, digits, "
                "'.', '_' and '-'"
            ],
        ),
        (
            HEAD + "  carl: {emial: c@example.com, phone: '+40700000004'}\n",
            ["people.yaml:4: people.carl.emial: unknown key 'emial'; did you mean 'email'?"],
        ),
        (
            HEAD + "  carl: {phone: '0700000004'}\n",
            [
                "people.yaml:4: people.carl.phone: phone '0700000004' is not in E.164 form, "
                "e.g. +40700000001"
            ],
        ),
        (
            HEAD + "  carl: {email: carl.example.com}\n",
            [
                "people.yaml:4: people.carl.email: email 'carl.example.com' is not an address "
                "like ana@example.com"
            ],
        ),
        (
            HEAD + "  carl: {name: Carl}\n",
            ["people.yaml:4: people.carl: needs a phone or an email to be reachable"],
        ),
        (
            HEAD + "  carl: {email: c@example.com, notify: []}\n",
            ["people.yaml:4: people.carl.notify: must list at least one step"],
        ),
        (
            HEAD + "  carl: {email: c@example.com, notify: email}\n",
            ["people.yaml:4: people.carl.notify: expected a list, got 'email'"],
        ),
        (
            HEAD + "  carl:\n    email: c@example.com\n    notify:\n      - {via: email}\n",
            ["people.yaml:7: people.carl.notify[0]: missing required key 'after'"],
        ),
        (
            HEAD
            + "  carl:\n    email: c@example.com\n    notify:\n      - {via: fax, after: 0m}\n",
            [
                "people.yaml:7: people.carl.notify[0].via: via must be sms, voice or email, got "
                "'fax'"
            ],
        ),
        (
            HEAD
            + "  carl:\n    email: c@example.com\n    notify:\n      - {via: sms, after: 0m}\n",
            ["people.yaml:7: people.carl.notify[0].via: notify via sms needs this person's phone"],
        ),
        (
            HEAD
            + "  carl:\n    phone: '+40700000004'\n    notify:\n      - {via: email, after: 0m}\n",
            [
                "people.yaml:7: people.carl.notify[0].via: notify via email needs this person's "
                "email"
            ],
        ),
        (
            HEAD
            + "  carl:\n    email: c@example.com\n    notify:\n"
            + "      - {via: email, after: 1 business hour}\n",
            [
                "people.yaml:7: people.carl.notify[0].after: a business duration is not allowed "
                "here; use e.g. 15m"
            ],
        ),
        (
            HEAD
            + "  carl:\n    email: c@example.com\n    notify:\n      - {via: email, after: soon}\n",
            [
                "people.yaml:7: people.carl.notify[0].after: invalid duration 'soon': "
                "e.g. 30s, 15m, 2h, 1d, 1h30m, 4 business hours or 1 business day"
            ],
        ),
        (
            HEAD + "roles:\n  leads: []\n",
            ["people.yaml:5: roles.leads: role 'leads' must list at least one person"],
        ),
        (
            HEAD + "roles:\n  leads: [ana, anna]\n",
            ["people.yaml:5: roles.leads[1]: unknown person 'anna'"],
        ),
        (
            HEAD + "roles:\n  leads:\n    - ana\n    - {name: bob}\n",
            ["people.yaml:7: roles.leads[1]: expected a person id, got a mapping"],
        ),
        (
            HEAD + "roles: [ana]\n",
            ["people.yaml:4: roles: expected a mapping of role names, got a list"],
        ),
    ],
)
def test_people_issues(cfg: ConfigDir, text: str, issues: list[str]) -> None:
    cfg.write("people.yaml", text)
    assert cfg.issues() == issues


def test_missing_people_file(cfg: ConfigDir) -> None:
    cfg.remove("people.yaml")
    assert cfg.issues() == ["people.yaml: file not found"]


def test_unreadable_people_file(cfg: ConfigDir) -> None:
    cfg.remove("people.yaml")
    (cfg.path / "people.yaml").mkdir()
    assert cfg.issues() == ["people.yaml: cannot read file: Is a directory"]
