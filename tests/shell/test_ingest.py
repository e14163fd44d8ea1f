"""Ingest over a real Service and SQLite store: applied, duplicate, dead letters, state."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pager.core.events import MAX_PAYLOAD_BYTES
from pager.core.model import (
    Calendar,
    Config,
    Handoff,
    Ladder,
    MqttSettings,
    Person,
    Region,
    Rotation,
    Rung,
    Settings,
    SeverityPolicy,
    Target,
    Tier,
    WallDuration,
    WeeklyHours,
)
from pager.daemon.events_in import Ingest, dead_letter_payload
from pager.daemon.metrics import Metrics
from pager.daemon.service import Service

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
TOPIC = "support/tickets/{}/events"
MQTT = MqttSettings()  # the defaults: support/tickets/+/events, pager/dead-letter, ...


def config() -> Config:
    """One ladder (tier ``premier``), one always-covered rotation of two people."""
    wall = WallDuration
    premier = Tier(
        "premier",
        "desk",
        {
            1: SeverityPolicy(
                wall(timedelta(minutes=30)), "high", "24x7", wall(timedelta(hours=2))
            ),
            3: SeverityPolicy(wall(timedelta(hours=3)), "low", "business"),
        },
    )
    ladder = Ladder(
        "support",
        {"desk": Calendar("desk", "UTC", WeeklyHours(frozenset(range(5)), 9 * 60, 23 * 60))},
        {"premier": premier},
        (
            Rung("case-owner", (Target("rotation", "eng"),), timedelta(minutes=15)),
            Rung("duty-manager", (Target("person", "mia"),), timedelta(minutes=30)),
        ),
    )
    region = Region(
        "emea", "Europe/Bucharest", ("ana", "ion"), Handoff("week", 8 * 60, date(2026, 11, 2), 0)
    )
    people = {
        pid: Person(pid, pid.title(), f"+4070000000{i}", f"{pid}@example.com")
        for i, pid in enumerate(("ana", "ion", "mia"), start=1)
    }
    return Config(Settings(), people, {}, {"eng": Rotation("eng", (region,))}, {"support": ladder})


class Published:
    """The ``bridge_publish`` fake: records (topic, payload, retain), reports success."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, bool]] = []

    async def __call__(self, topic: str, payload: bytes, retain: bool) -> bool:
        self.calls.append((topic, payload, retain))
        return True

    def state(self, topic: str, payload: bytes) -> bool:
        """The ``state_publish`` fake (QoS 0, retained, not awaited)."""
        self.calls.append((topic, payload, True))
        return True

    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in self.calls if t == MQTT.dead_letter_topic]


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def ingest(service: Service, published: Published, metrics: Metrics) -> Ingest:
    return Ingest(
        service=service,
        bridge_publish=published,
        state_publish=published.state,
        settings=MQTT,
        metrics=metrics,
        clock=lambda: NOW,
        retry_min=0.01,
        retry_max=0.05,
    )


def event(kind: str = "opened", ticket: str = "T-1", event_id: str = "e1", **fields: Any) -> bytes:
    body: dict[str, Any] = {
        "event_id": event_id,
        "ticket_id": ticket,
        "type": kind,
        "at": "2026-11-23T06:59:00Z",
    }
    if kind == "opened":
        body |= {"severity": 1, "tier": "premier", "customer": "Acme", "summary": "gateway down"}
    body |= fields
    return json.dumps(body).encode()


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def test_opened_is_applied_once_then_duplicate(
    ingest: Ingest,
    service: Service,
    published: Published,
    metrics: Metrics,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pager.daemon.events_in")
    assert await ingest.handle(TOPIC.format("T-1"), event()) == "applied"
    state = await service.db(lambda e: e.ticket("T-1"))
    assert state is not None and state.rung == 1 and state.severity == 1
    assert await ingest.handle(TOPIC.format("T-1"), event()) == "duplicate"
    assert published.calls == []  # state is published by the commit hook, not here
    assert sample(metrics, "pager_events_total", type="opened") == 2
    assert sample(metrics, "pager_events_duplicate_total") == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "pager.daemon.events_in"]
    assert lines == ["event e1 T-1 opened: applied", "event e1 T-1 opened: duplicate"]


async def test_later_events_for_a_known_ticket_apply(ingest: Ingest, published: Published) -> None:
    assert await ingest.handle(TOPIC.format("T-1"), event()) == "applied"
    ack = event("acknowledged", event_id="e2", by="ana")
    assert await ingest.handle(TOPIC.format("T-1"), ack) == "applied"
    assert published.dead_letters() == []


OVERSIZED = event(summary="x") + b" " * MAX_PAYLOAD_BYTES


@pytest.mark.parametrize(
    ("payload", "reason", "category"),
    [
        (b"{not json", "not JSON", "invalid"),
        (b"[1, 2]", "JSON object", "invalid"),
        (event(severity="1"), "severity must be an integer", "invalid"),
        (event(kind="reopened"), "unknown type 'reopened'", "invalid"),
        (event(at="yesterday"), "not an RFC 3339 timestamp", "invalid"),
        (event(tier="gold"), "unknown tier 'gold'", "unknown_tier"),
        (OVERSIZED, "more than 65536", "oversized"),
        (event("acknowledged", ticket="T-404"), "unknown ticket", "unknown_ticket"),
        (event("closed", ticket="T-404"), "unknown ticket", "unknown_ticket"),
    ],
    ids=[
        "not-json",
        "not-object",
        "wrong-type",
        "unknown-type",
        "bad-at",
        "unknown-tier",
        "oversized",
        "unknown-ticket-ack",
        "unknown-ticket-closed",
    ],
)
async def test_bad_events_are_dead_lettered_with_a_reason(
    ingest: Ingest,
    service: Service,
    published: Published,
    metrics: Metrics,
    caplog: pytest.LogCaptureFixture,
    payload: bytes,
    reason: str,
    category: str,
) -> None:
    ticket = "T-404" if category == "unknown_ticket" else "T-1"
    topic = TOPIC.format(ticket)
    assert await ingest.handle(topic, payload) == "dead-letter"
    assert [(t, r) for t, _, r in published.calls] == [("pager/dead-letter", False)]
    [letter] = published.dead_letters()
    assert reason in letter["reason"]
    assert letter["topic"] == topic
    assert letter["received_at"] == "2026-11-23T07:00:00Z"
    if category == "oversized":
        assert letter["truncated"] is True and letter["size"] == len(payload)
        assert len(letter["payload"].encode()) == MAX_PAYLOAD_BYTES
    else:
        assert letter["payload"] == payload.decode()
        assert "truncated" not in letter
    assert sample(metrics, "pager_events_rejected_total", reason=category) == 1
    assert await service.db(lambda e: e.ticket(ticket)) is None
    assert any(
        "rejected: " in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )


async def test_a_rejected_event_can_be_sent_again_once_fixed(ingest: Ingest) -> None:
    """Rejections are not recorded as processed: the desk may resend the same event_id."""
    assert await ingest.handle(TOPIC.format("T-1"), event(tier="gold")) == "dead-letter"
    assert await ingest.handle(TOPIC.format("T-1"), event()) == "applied"


async def test_topic_must_name_the_payloads_ticket(
    ingest: Ingest, published: Published, metrics: Metrics
) -> None:
    assert await ingest.handle(TOPIC.format("T-2"), event(ticket="T-1")) == "dead-letter"
    [letter] = published.dead_letters()
    assert "'T-2'" in letter["reason"] and "'T-1'" in letter["reason"]
    assert sample(metrics, "pager_events_rejected_total", reason="topic_mismatch") == 1


async def test_non_utf8_payload_is_kept_as_base64(ingest: Ingest, published: Published) -> None:
    raw = b'{"event_id": "\xff\xfe"}'
    assert await ingest.handle(TOPIC.format("T-1"), raw) == "dead-letter"
    [letter] = published.dead_letters()
    assert "not UTF-8" in letter["reason"]
    assert "payload" not in letter
    assert base64.b64decode(letter["payload_b64"]) == raw


def test_dead_letter_of_a_cut_multibyte_payload_stays_text() -> None:
    # "x" then 2-byte characters: the 64 KiB cut falls inside one, which is given up.
    raw = b"x" + "é".encode() * MAX_PAYLOAD_BYTES
    body = json.loads(dead_letter_payload(reason="r", topic="t", payload=raw, received=NOW))
    assert body["payload"].startswith("xé") and body["truncated"] is True
    assert len(body["payload"].encode()) == MAX_PAYLOAD_BYTES - 1


async def test_tier_known_rejects_an_update_to_an_undefined_tier(
    service: Service, published: Published, metrics: Metrics
) -> None:
    ingest = Ingest(
        service=service,
        bridge_publish=published,
        settings=MQTT,
        metrics=metrics,
        clock=lambda: NOW,
        tier_known=lambda name: name == "premier",
    )
    assert await ingest.handle(TOPIC.format("T-1"), event()) == "applied"
    update = event("updated", event_id="e2", tier="gold")
    assert await ingest.handle(TOPIC.format("T-1"), update) == "dead-letter"
    assert "unknown tier 'gold'" in published.dead_letters()[0]["reason"]
    state = await service.db(lambda e: e.ticket("T-1"))
    assert state is not None and state.tier == "premier"


async def test_an_internal_error_dead_letters_the_event_and_keeps_going(
    ingest: Ingest, service: Service, published: Published, metrics: Metrics
) -> None:
    def broken(*_: object) -> object:
        raise KeyError("bug")

    service.engine.ingest = broken  # type: ignore[assignment,method-assign]
    assert await ingest.handle(TOPIC.format("T-1"), event()) == "dead-letter"
    assert "internal error: KeyError" in published.dead_letters()[0]["reason"]
    assert sample(metrics, "pager_events_rejected_total", reason="internal_error") == 1


class _OnLog(logging.Handler):
    """Sets ``event`` when a record containing ``text`` is logged (on the loop thread)."""

    def __init__(self, text: str, event: asyncio.Event) -> None:
        super().__init__()
        self.text, self.event = text, event

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


async def test_a_locked_store_is_retried_until_the_event_commits(
    tmp_path: Path,
    ingest: Ingest,
    service: Service,
    published: Published,
) -> None:
    service.store.db.execute("PRAGMA busy_timeout = 20")
    blocker = sqlite3.connect(tmp_path / "pager.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    failed = asyncio.Event()
    watcher = _OnLog("store unavailable", failed)
    logging.getLogger("pager.daemon.events_in").addHandler(watcher)
    try:
        task = asyncio.create_task(ingest.handle(TOPIC.format("T-1"), event()))
        await asyncio.wait_for(failed.wait(), 5)
    finally:
        logging.getLogger("pager.daemon.events_in").removeHandler(watcher)
    assert not task.done()
    blocker.execute("ROLLBACK")
    blocker.close()
    assert await asyncio.wait_for(task, 5) == "applied"
    assert published.calls == []
    assert await service.db(lambda e: e.ticket("T-1")) is not None


async def test_state_payload_shape_and_retained_publish(
    ingest: Ingest, service: Service, published: Published
) -> None:
    await ingest.handle(TOPIC.format("T-1"), event())
    state = await service.db(lambda e: e.ticket("T-1"))
    assert state is not None
    body = json.loads(ingest.state_payload(state))
    assert body == {
        "ticket": "T-1",
        "rung": 1,
        "owner": None,
        "closed": False,
        "breached": False,
        "respond_by": "2026-11-23T07:29:00Z",
        "ack_deadline": "2026-11-23T07:15:00Z",
        "status_due": None,
        "paused": False,
        "severity": 1,
        "tier": "premier",
    }
    ingest.publish_state(state)
    assert published.calls == [("pager/tickets/T-1/state", ingest.state_payload(state), True)]
