"""End-to-end fixtures: the real `pager run` child against a real broker and fake providers.

Every test gets a tiny config of its own (:func:`write_tiny_config`) so that timings are
seconds, not minutes: four people (ana, bob, carol, dave), a one-region rotation ``eng``
of [ana] that covers every instant, and a four-rung ladder (``eng`` -> bob -> carol ->
dave, ``ack_within`` a few seconds, no repeat).

:class:`PagerRig` bundles the running parts and the helpers tests read them with. All
waits poll with ``asyncio.sleep``: FakeTwilio and SmtpServer serve on the test's own loop,
so nothing here may block it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import aiomqtt
import pytest
import yaml

from pager.core.ladder import state_fields
from pager.store.sqlite.codec import decode_state
from testkit.daemon import DaemonProcess, write_harness_settings
from testkit.events import now_rfc3339 as now_rfc3339  # re-exported for the e2e tests
from testkit.events import ticket_event
from testkit.fake_twilio import FakeTwilio, TwilioRequest
from testkit.metrics import parse_metrics, sample_value
from testkit.mosquitto import Mosquitto, free_port
from testkit.smtp_server import ReceivedMail, SmtpServer

T = TypeVar("T")

PHONES: dict[str, str] = {
    "ana": "+15550001001",
    "bob": "+15550001002",
    "carol": "+15550001003",
    "dave": "+15550001004",
    "erin": "+15550001005",
}
EVENTS_TOPIC = "support/tickets/{ticket}/events"
DEAD_LETTER_TOPIC = "pager/dead-letter"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: end-to-end test running the real daemon, broker and fake providers"
    )


# --- config -------------------------------------------------------------------------------


def person_entry(person: str, *, voice_after: str | None = None) -> dict[str, Any]:
    """people.yaml entry: sms and email at once, a voice call after ``voice_after``."""
    notify: list[dict[str, str]] = [{"via": "sms", "after": "0m"}, {"via": "email", "after": "0m"}]
    if voice_after is not None:
        notify.append({"via": "voice", "after": voice_after})
    return {
        "name": f"{person.capitalize()} Example",
        "phone": PHONES[person],
        "email": f"{person}@example.com",
        "notify": notify,
    }


def write_tiny_config(
    config_dir: Path,
    *,
    ack_within: str = "3s",
    voice_after: str | None = "1s",
    members: Sequence[str] = ("ana",),
    extra_people: Sequence[str] = (),
) -> None:
    """people.yaml, rotations/eng.yaml and ladders/support.yaml (pager.yaml: write_settings).

    Only ana (the rung-1 person) gets a voice step; the others are paged by SMS and email.
    """
    (config_dir / "rotations").mkdir(parents=True, exist_ok=True)
    (config_dir / "ladders").mkdir(parents=True, exist_ok=True)
    people = {"ana": person_entry("ana", voice_after=voice_after)}
    for person in ("bob", "carol", "dave", *extra_people):
        people[person] = person_entry(person)
    (config_dir / "people.yaml").write_text(yaml.safe_dump({"people": people}, sort_keys=False))
    rotation = {
        "name": "eng",
        "regions": {"global": {"timezone": "UTC", "members": list(members)}},
    }
    (config_dir / "rotations" / "eng.yaml").write_text(yaml.safe_dump(rotation, sort_keys=False))
    ladder = {
        "name": "support",
        "calendars": {
            "desk": {"timezone": "UTC", "days": "mon-fri", "from": "09:00", "to": "17:00"}
        },
        "tiers": {
            "premier": {
                "calendar": "desk",
                "severities": {
                    1: {
                        "respond_within": "30m",
                        "status_every": "2h",
                        "urgency": "high",
                        "clock": "24x7",
                    }
                },
            }
        },
        "rungs": [
            {"name": "case-owner", "page": "rotation:eng", "ack_within": ack_within},
            {"name": "duty-manager", "page": "person:bob", "ack_within": ack_within},
            {"name": "leadership", "page": "person:carol", "ack_within": ack_within},
            {"name": "executive", "page": "person:dave", "ack_within": ack_within, "repeat": 0},
        ],
    }
    (config_dir / "ladders" / "support.yaml").write_text(yaml.safe_dump(ladder, sort_keys=False))


# --- events -------------------------------------------------------------------------------

#: A valid event stamped now (:func:`testkit.events.ticket_event`, the chaos rig's too).
event = ticket_event


async def publish(
    broker: Mosquitto, payload: Mapping[str, Any] | bytes, *, topic: str | None = None
) -> None:
    """Publish one event at QoS 1 (the broker has it when this returns)."""
    if isinstance(payload, bytes):
        data = payload
        assert topic is not None, "raw payloads need a topic"
    else:
        data = json.dumps(payload).encode()
        topic = topic or EVENTS_TOPIC.format(ticket=payload["ticket_id"])
    async with aiomqtt.Client(
        broker.host, broker.port, identifier=f"e2e-{uuid.uuid4().hex[:8]}"
    ) as c:
        await c.publish(topic, data, qos=1)


async def until(
    check: Callable[[], T | bool | None],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109  (polled, the loop keeps serving the fakes)
    what: str = "condition",
) -> T:
    """Poll ``check`` every 20 ms until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


async def still(check: Callable[[], bool], *, duration: float, what: str = "condition") -> None:
    """Assert ``check`` holds for the whole of ``duration`` seconds (polled)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert check(), f"{what} stopped holding"
        await asyncio.sleep(0.02)
    assert check(), f"{what} stopped holding"


# --- the running system ---------------------------------------------------------------------


@dataclass
class PagerRig:
    """The daemon under test and the real/fake parts it talks to."""

    config_dir: Path
    broker: Mosquitto
    twilio: FakeTwilio
    smtp: SmtpServer
    http_port: int
    daemon: DaemonProcess
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def db_path(self) -> Path:
        return self.config_dir / "state" / "pager.db"

    # -- what the providers received --

    def sms_to(self, person: str, *, accepted: bool | None = True) -> list[TwilioRequest]:
        return [
            r
            for r in self.twilio.requests
            if r.kind == "sms"
            and r.to == PHONES[person]
            and (accepted is None or r.accepted == accepted)
        ]

    def calls_to(self, person: str, *, accepted: bool | None = True) -> list[TwilioRequest]:
        return [
            r
            for r in self.twilio.requests
            if r.kind == "call"
            and r.to == PHONES[person]
            and (accepted is None or r.accepted == accepted)
        ]

    def mails_to(self, person: str) -> list[ReceivedMail]:
        address = f"{person}@example.com"
        return [m for m in self.smtp.messages if address in m.rcpt_tos]

    async def wait_sms(
        self,
        person: str,
        count: int = 1,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        ticket: str | None = None,
    ) -> list[TwilioRequest]:
        def found() -> list[TwilioRequest] | None:
            got = [r for r in self.sms_to(person) if ticket is None or ticket in (r.body or "")]
            return got if len(got) >= count else None

        return await until(found, timeout=timeout, what=f"{count} SMS to {person}")

    async def wait_calls(
        self,
        person: str,
        count: int = 1,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[TwilioRequest]:
        def found() -> list[TwilioRequest] | None:
            got = self.calls_to(person)
            return got if len(got) >= count else None

        return await until(found, timeout=timeout, what=f"{count} call(s) to {person}")

    async def wait_mails(
        self,
        person: str,
        count: int = 1,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[ReceivedMail]:
        def found() -> list[ReceivedMail] | None:
            got = self.mails_to(person)
            return got if len(got) >= count else None

        return await until(found, timeout=timeout, what=f"{count} mail(s) to {person}")

    # -- the daemon's state --

    async def timeline(self, ticket: str) -> str:
        done = await self.daemon.acli("timeline", ticket)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows from the daemon's SQLite store, opened read-only."""
        with contextlib.closing(
            sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5.0)
        ) as db:
            return db.execute(sql, params).fetchall()

    def ticket_state(self, ticket: str) -> dict[str, Any]:
        rows = self.query("SELECT state FROM tickets WHERE ticket_id = ?", ticket)
        assert rows, f"no ticket {ticket} in the store"
        return state_fields(decode_state(rows[0][0]))

    # -- HTTP --

    async def http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    async def get(self, path: str) -> tuple[int, str]:
        session = await self.http()
        async with session.get(self.base_url + path) as resp:
            return resp.status, await resp.text()

    async def post_form(
        self, path: str, form: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> tuple[int, str]:
        session = await self.http()
        async with session.post(self.base_url + path, data=dict(form), headers=headers) as resp:
            return resp.status, await resp.text()

    async def metric(self, name: str, **labels: str) -> float:
        """The value of the /metrics sample ``name`` with exactly ``labels`` (0 if absent)."""
        status, text = await self.get("/metrics")
        assert status == 200
        return sample_value(parse_metrics(text), name, **labels)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- events --

    async def publish(
        self, payload: Mapping[str, Any] | bytes, *, topic: str | None = None
    ) -> None:
        await publish(self.broker, payload, topic=topic)


MakeRig = Callable[..., Awaitable[PagerRig]]


@pytest.fixture
async def make_rig(
    tmp_path: Path,
    mosquitto: Mosquitto,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
) -> AsyncIterator[MakeRig]:
    """``await make_rig(broker=None, start=True, **write_tiny_config options)``.

    Writes a tiny config dir pointing at the broker (default: the ``mosquitto`` fixture),
    the fake Twilio and the SMTP server, and starts ``pager run`` on it. Every daemon is
    stopped (SIGTERM, then SIGKILL) at teardown.
    """
    rigs: list[PagerRig] = []

    async def make(
        *, broker: Mosquitto | None = None, start: bool = True, **options: Any
    ) -> PagerRig:
        broker = broker or mosquitto
        config_dir = tmp_path / f"pager-{len(rigs)}"
        config_dir.mkdir()
        http_port = free_port()
        write_harness_settings(
            config_dir,
            mqtt_url=broker.url,
            http_port=http_port,
            twilio=fake_twilio,
            smtp_port=smtp_server.port,
        )
        write_tiny_config(config_dir, **options)
        rig = PagerRig(
            config_dir=config_dir,
            broker=broker,
            twilio=fake_twilio,
            smtp=smtp_server,
            http_port=http_port,
            daemon=DaemonProcess(config_dir),
        )
        rigs.append(rig)
        if start:
            await rig.daemon.astart()
        return rig

    try:
        yield make
    finally:
        for index, rig in enumerate(rigs):
            await rig.close()
            await rig.daemon.astop(timeout=10)
            # Captured by pytest and shown only when the test failed.
            print(f"--- pager-{index} output ---\n{rig.daemon.output()}")


@pytest.fixture
async def rig(make_rig: MakeRig) -> PagerRig:
    """A started daemon on the default tiny config (ack_within 3s, ana's voice at 1s)."""
    return await make_rig()
