"""Log lines about a ticket name it (``ticket=ID``), and acknowledgements and escalations
are logged as decisions: who (or which timer), which ticket, why."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pager.daemon.engine import Engine
from pager.daemon.metrics import Metrics
from pager.daemon.outbox.delivery import PermanentFailure, TemporaryFailure
from pager.daemon.outbox.relay import Relay, Senders
from pager.daemon.service import Service
from pager.store.interface import Store
from pager.store.open import open_store
from tests.core.factory import t
from tests.shell.test_relay_timers import NOW, Clock, Recorder, opened, run_relay, settings
from tests.shell.test_store_engine import P, ev

#: The policy of this module's ``service`` fixture (tests/shell/conftest.py).
POLICY = P
DECISIONS = "pager.daemon.decisions"


def allowance(
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    per_second: int = 20,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """A fresh per-second allowance for the decision lines of ``kind`` ("timer_log" or
    "people_log"), with the given size and clock."""
    from pager.daemon import decisions
    from pager.daemon.burstlog import BurstLog

    what = getattr(decisions, kind)._what
    burst = BurstLog(decisions.log, what, per_second=per_second, clock=clock)
    monkeypatch.setattr(decisions, kind, burst)


@pytest.fixture(autouse=True)
def fresh_allowances(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with the whole per-second allowance of decision lines (the
    module's burst logs outlive a test, and another test may have used this second's)."""
    allowance(monkeypatch, "timer_log")
    allowance(monkeypatch, "people_log")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:{tmp_path / 'pager.db'}")
    yield s
    s.close()


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


def test_an_sms_acknowledgement_is_logged_with_who_which_ticket_and_why(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(store, P)
    caplog.set_level(logging.INFO, logger=DECISIONS)
    with store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
        engine.acknowledge("T-1", "cai", "sms", t("2026-11-20T02:01"))
    assert lines(caplog, DECISIONS) == [
        "ticket=T-1 acknowledged by cai via sms at rung 1: acknowledged via sms"
    ]


def test_a_cli_acknowledgement_and_a_refused_one_are_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(store, P)
    caplog.set_level(logging.INFO, logger=DECISIONS)
    with store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
        engine.escalate("T-1", "nobody", "sms", t("2026-11-20T02:01"))
        engine.acknowledge("T-1", "dee", "cli", t("2026-11-20T02:02"))
        engine.acknowledge("T-1", "dee", "cli", t("2026-11-20T02:03"))
    found = lines(caplog, DECISIONS)
    assert found[0].startswith("ticket=T-1 escalation by nobody via sms refused: ")
    assert found[1:] == [
        "ticket=T-1 acknowledged by dee via cli at rung 1: acknowledged via cli",
        "ticket=T-1 acknowledgement by dee via cli changed nothing: already theirs",
    ]


def test_escalations_by_a_person_and_by_the_timer_are_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    engine = Engine(store, P)
    caplog.set_level(logging.INFO, logger=DECISIONS)
    with store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
        engine.ingest(ev("opened", "2026-11-20T02:00", ticket="T-2"), t("2026-11-20T02:00"))
        engine.escalate("T-2", "cai", "voice", t("2026-11-20T02:01"))
        engine.fire("T-1", t("2026-11-20T02:15"))
    assert lines(caplog, DECISIONS) == [
        "ticket=T-2 escalated to rung 2 by cai via voice: escalation requested by cai via voice",
        "ticket=T-1 escalated to rung 2 by the timer: rung 1 did not acknowledge in time",
    ]


async def test_send_retry_and_failure_lines_name_their_ticket(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    await service.ingest(opened("T-7", NOW), NOW, "")
    rec = Recorder(
        faults={
            "email": [TemporaryFailure("busy"), PermanentFailure("no such mailbox")],
        }
    )
    relay = Relay(
        service, Senders(rec, rec, rec), settings(), Metrics(), clock=Clock(NOW.timestamp())
    )
    caplog.set_level(logging.INFO, logger="pager.daemon.outbox.relay")
    await run_relay(relay)
    found = lines(caplog, "pager.daemon.outbox.relay")
    sent = [line for line in found if " sent " in line]
    assert sent and all(line.startswith("ticket=T-7 sent ") for line in sent)
    assert any(line.startswith("ticket=T-7 sent sms to ") for line in sent)
    assert any(line.startswith("ticket=T-7 email to ") and "retrying" in line for line in found)
    assert any(line.startswith("ticket=T-7 email to ") and "for good" in line for line in found)


def twelve_open_tickets(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, kind: str
) -> tuple[Engine, list[float]]:
    """Tickets T-0..T-11 opened, decision lines captured, and an allowance of 5 lines of
    ``kind`` a second on a clock the test moves (the returned one-item list)."""
    second = [100.0]
    allowance(monkeypatch, kind, per_second=5, clock=lambda: second[0])
    engine = Engine(store, P)
    caplog.set_level(logging.INFO, logger=DECISIONS)
    with store.transaction():
        for n in range(12):
            engine.ingest(ev("opened", "2026-11-20T02:00", ticket=f"T-{n}"), t("2026-11-20T02:00"))
    return engine, second


def test_a_storm_of_timer_decisions_is_capped_per_second_and_counted(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart past thousands of deadlines must not write thousands of lines a second
    (the audit log keeps each one); a person's decision in the storm is still logged."""
    engine, second = twelve_open_tickets(store, caplog, monkeypatch, "timer_log")
    with store.transaction():
        for n in range(12):
            engine.fire(f"T-{n}", t("2026-11-20T02:15"))
        engine.acknowledge("T-11", "cai", "sms", t("2026-11-20T02:16"))
    found = lines(caplog, DECISIONS)
    timer = [line for line in found if "by the timer" in line]
    assert timer == [
        f"ticket=T-{n} escalated to rung 2 by the timer: rung 1 did not acknowledge in time"
        for n in range(5)
    ]
    assert found[-1].startswith("ticket=T-11 acknowledged by cai via sms")
    with store.transaction():
        # T-9's escalation was not logged one by one; its audit has it.
        assert any(e.action == "page" and e.detail.get("rung") == 2 for e in store.audit("T-9"))
    second[0] += 1
    with store.transaction():
        engine.heartbeat(t("2026-11-20T02:17"))
    assert lines(caplog, DECISIONS)[-1] == (
        "... 7 more timer decisions not logged one by one (over 5 a second)"
    )


def test_ack_all_writes_one_summary_line_and_caps_the_per_ticket_ones(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ACK ALL in an alert storm decides thousands of tickets at once: one line for
    the reply, per-ticket lines up to the allowance, then a count."""
    from pager.daemon.replies_in import handle_sms

    engine, second = twelve_open_tickets(store, caplog, monkeypatch, "people_log")
    with store.transaction():
        answer = handle_sms(engine, "cai", "ACK ALL", t("2026-11-20T02:05"))
    assert answer.startswith("Acked 12 tickets")
    found = lines(caplog, DECISIONS)
    assert len([line for line in found if " acknowledged by cai via sms " in line]) == 5
    assert found[-1] == "ack all by cai via sms: 12 acknowledged, 0 could not be"
    assert all(
        any(e.action == "ack" for e in store.audit(f"T-{n}")) for n in range(12)
    )  # every acknowledgement is in the audit
    second[0] += 1
    with store.transaction():
        engine.heartbeat(t("2026-11-20T02:06"))
    assert lines(caplog, DECISIONS)[-1] == (
        "... 7 more decisions by people not logged one by one (over 5 a second)"
    )
