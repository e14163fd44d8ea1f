"""How problems print: ``file:line: path: message``, one per line."""

from __future__ import annotations

import dataclasses

import pytest

from pager.config.load import ConfigError, ConfigIssue


def test_issue_formats() -> None:
    issue = ConfigIssue(
        "rotations/fts.yaml", 14, "regions.emea.members[1]", "unknown person 'anna'"
    )
    assert str(issue) == "rotations/fts.yaml:14: regions.emea.members[1]: unknown person 'anna'"
    assert str(ConfigIssue("pager.yaml", 3, "", "YAML syntax error")) == (
        "pager.yaml:3: YAML syntax error"
    )
    assert str(ConfigIssue("people.yaml", 0, "", "file not found")) == "people.yaml: file not found"
    assert str(ConfigIssue("pager.yaml", 0, "twilio.from", "is required")) == (
        "pager.yaml: twilio.from: is required"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        issue.line = 2  # type: ignore[misc]


def test_error_lists_one_issue_per_line() -> None:
    issues = [ConfigIssue("a.yaml", 1, "x", "bad"), ConfigIssue("b.yaml", 2, "", "worse")]
    error = ConfigError(issues)
    assert error.issues == tuple(issues)
    assert str(error) == "a.yaml:1: x: bad\nb.yaml:2: worse"
