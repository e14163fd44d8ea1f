"""ladders/*.yaml: `escalate_to` on a severity and `respond_within` on a rung (issue 11)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pager.core.model import BusinessHours, WallDuration
from tests.config.conftest import ConfigDir
from tests.config.test_ladders import HEAD, RUNGS, TIERS, sev

FILE = "ladders/main.yaml"
TWO_RUNGS = """\
rungs:
  - {name: first, page: rotation:fts, ack_within: 15m}
  - {name: second, page: person:ana, ack_within: 30m, respond_within: 2 business hours}
"""


def test_escalate_to_and_respond_within_are_read(cfg: ConfigDir) -> None:
    text = sev("{respond_within: 1h, urgency: high, clock: 24x7, escalate_to: 1}")
    cfg.write(FILE, text.replace(RUNGS, TWO_RUNGS))
    ladder = cfg.load().ladders["main"]
    policy = ladder.tiers["std"].severities[1]
    assert policy.escalate_to == 1 and policy.cap(2) == 1
    assert ladder.rungs[1].respond_within == BusinessHours(2.0)
    assert ladder.rungs[0].respond_within is None


def test_defaults_cap_high_at_the_last_rung_and_low_at_rung_2(cfg: ConfigDir) -> None:
    cfg.write(FILE, HEAD + TIERS + TWO_RUNGS)
    policy = cfg.load().ladders["main"].tiers["std"].severities[1]
    assert policy.escalate_to is None and policy.cap(4) == 4
    low = type(policy)(WallDuration(timedelta(hours=1)), "low", "24x7")
    assert low.cap(4) == 2 and low.cap(1) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "3",
            "ladders/main.yaml:8: tiers.std.severities.1.escalate_to: escalate_to 3 is above "
            "the last rung (2)",
        ),
        ("0", "ladders/main.yaml:8: tiers.std.severities.1.escalate_to: must be at least 1, got 0"),
    ],
)
def test_escalate_to_outside_the_rungs_is_an_issue(
    cfg: ConfigDir, value: str, message: str
) -> None:
    text = sev(f"{{respond_within: 1h, urgency: high, clock: 24x7, escalate_to: {value}}}")
    cfg.write(FILE, text.replace(RUNGS, TWO_RUNGS))
    assert cfg.issues() == [message]


def test_respond_within_must_be_a_duration(cfg: ConfigDir) -> None:
    cfg.write(
        FILE,
        HEAD
        + TIERS
        + "rungs:\n  - {name: first, page: rotation:fts, ack_within: 15m, respond_within: soon}\n",
    )
    [issue] = cfg.issues()
    assert issue.startswith("ladders/main.yaml:10: rungs[0].respond_within:")
