"""BurstLog: every line on a quiet night, a count instead of lines in a storm."""

from __future__ import annotations

import logging

import pytest

from pager.daemon.burstlog import BurstLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def test_quiet_lines_all_go_out(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    burst = BurstLog(logging.getLogger("t.quiet"), "events", per_second=3, clock=clock)
    with caplog.at_level(logging.INFO):
        for n in range(6):
            burst.info("event %d", n)
            clock.now += 0.5  # two a second: under the allowance
        burst.flush()
    assert messages(caplog) == [f"event {n}" for n in range(6)]


def test_a_storm_is_counted_and_the_count_written_when_the_second_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    burst = BurstLog(logging.getLogger("t.storm"), "events", per_second=3, clock=clock)
    with caplog.at_level(logging.INFO):
        for n in range(100):
            burst.info("event %d", n)
        burst.flush()  # same second: nothing to say yet
        assert messages(caplog) == ["event 0", "event 1", "event 2"]
        clock.now += 1.0
        burst.flush()  # the periodic flush after the storm
        burst.flush()  # and only once
    assert messages(caplog)[3:] == ["... 97 more events not logged one by one (over 3 a second)"]


def test_the_next_second_starts_a_new_allowance(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    burst = BurstLog(logging.getLogger("t.next"), "sends", per_second=2, clock=clock)
    with caplog.at_level(logging.INFO):
        for n in range(5):
            burst.info("a%d", n)
        clock.now += 1.0
        burst.info("b0")
    assert messages(caplog) == [
        "a0",
        "a1",
        "... 3 more sends not logged one by one (over 2 a second)",
        "b0",
    ]


def test_nothing_is_counted_when_info_is_off(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    burst = BurstLog(logging.getLogger("t.off"), "events", per_second=1, clock=clock)
    with caplog.at_level(logging.WARNING):
        for n in range(10):
            burst.info("event %d", n)
        clock.now += 1
        burst.flush()
    assert messages(caplog) == []
