"""The fault-injection rig: the real daemon, a broker, fake providers, and a stubborn publisher.

Used by tests/chaos. Every part is real and talks over 127.0.0.1: ``pager run`` as a child
(:class:`~testkit.daemon.DaemonProcess`), Mosquitto, :class:`FakeTwilio` and
:class:`StampedSmtpServer` (an SMTP server that also notes when each mail arrived, so
mail can be reconciled against kill and acknowledgement times like SMS are).

:func:`write_policy` writes a small config of its own whose clocks run in seconds: four
people (ana, bob, carol, dave), a rotation ``eng`` of ana covering every instant, and a
four-rung ladder ana -> bob -> carol -> dave with ``ack_within`` of a few seconds, no repeat.

:class:`EventPublisher` is the support desk: it publishes QoS 1 through a connection of
its own and keeps retrying while the broker is away, so "published" means "the broker
acknowledged it", which is what "0 events lost" is counted against.

Nothing here blocks the event loop: FakeTwilio and the SMTP server serve on the test's loop.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import aiomqtt
import yaml
from aiosmtpd.smtp import SMTP, Envelope, Session

from pager.core.ladder import state_fields
from pager.store.sqlite.codec import decode_state
from testkit.daemon import DaemonProcess, write_harness_settings
from testkit.events import now_rfc3339 as now_rfc3339  # re-exported for the chaos tests
from testkit.events import ticket_event as ticket_event
from testkit.fake_twilio import FakeTwilio
from testkit.metrics import parse_metrics, sample_value
from testkit.mosquitto import Mosquitto, free_port
from testkit.smtp_server import ReceivedMail, SmtpServer

T = TypeVar("T")

PEOPLE = ("ana", "bob", "carol", "dave")
PHONES: dict[str, str] = {
    "ana": "+15550101001",
    "bob": "+15550101002",
    "carol": "+15550101003",
    "dave": "+15550101004",
}
EVENTS_TOPIC = "support/tickets/{ticket}/events"
DEAD_LETTER_TOPIC = "pager/dead-letter"
#: Limits far above what a test sends: the rig tests faults, not the per-person limits.
GENEROUS_LIMITS = {"sms_per_person": "100000/15m", "calls_per_person": "100000/15m"}


# --- config ---------------------------------------------------------------------------------


def people_doc(*, ana_phone: str = PHONES["ana"], voice_after: str | None = "1s") -> dict[str, Any]:
    """people.yaml: everyone gets SMS and email at once; ana also a call after ``voice_after``."""
    people: dict[str, Any] = {}
    for person in PEOPLE:
        notify: list[dict[str, str]] = [
            {"via": "sms", "after": "0m"},
            {"via": "email", "after": "0m"},
        ]
        if person == "ana" and voice_after is not None:
            notify.append({"via": "voice", "after": voice_after})
        people[person] = {
            "name": f"{person.capitalize()} Example",
            "phone": ana_phone if person == "ana" else PHONES[person],
            "email": f"{person}@example.com",
            "notify": notify,
        }
    return {"people": people}


def rotation_doc(members: Sequence[str] = ("ana",)) -> dict[str, Any]:
    return {"name": "eng", "regions": {"global": {"timezone": "UTC", "members": list(members)}}}


def ladder_doc(*, ack_within: str = "2s") -> dict[str, Any]:
    return {
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
                    },
                    2: {"respond_within": "1h", "urgency": "high", "clock": "24x7"},
                    3: {"respond_within": "3h", "urgency": "low", "clock": "business"},
                    4: {"respond_within": "1 business day", "urgency": "low", "clock": "business"},
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


def write_yaml(path: Path, doc: Mapping[str, Any]) -> None:
    """Write ``doc`` atomically (temp file + rename), so a reload never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    staging.write_text(yaml.safe_dump(dict(doc), sort_keys=False))
    staging.replace(path)


def write_policy(
    config_dir: Path,
    *,
    ack_within: str = "2s",
    voice_after: str | None = "1s",
    ana_phone: str = PHONES["ana"],
) -> None:
    """people.yaml, rotations/eng.yaml and ladders/support.yaml (see the module docstring)."""
    write_yaml(config_dir / "people.yaml", people_doc(ana_phone=ana_phone, voice_after=voice_after))
    write_yaml(config_dir / "rotations" / "eng.yaml", rotation_doc())
    write_yaml(config_dir / "ladders" / "support.yaml", ladder_doc(ack_within=ack_within))


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """One message the broker acknowledged (PUBACK), and when."""

    topic: str
    payload: bytes
    event_id: str | None
    at: float


class EventPublisher:
    """The desk: QoS 1 publishes through its own connection, retried until the broker has them.

    :meth:`put` queues a message; the background task publishes the queue in order and
    keeps reconnecting (every ``retry`` seconds) while the broker is down. A publish whose
    PUBACK was lost is sent again, so the broker may hold a message twice; pager must
    dedupe by ``event_id``. ``published`` lists each message once, when first acknowledged.
    """

    def __init__(self, broker: Mosquitto, *, retry: float = 0.2) -> None:
        self.broker = broker
        self.retry = retry
        self.published: list[Published] = []
        self.failures = 0
        self._queue: collections.deque[tuple[str, bytes, str | None]] = collections.deque()
        self._more = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def put(self, payload: Mapping[str, Any] | bytes, *, topic: str | None = None) -> None:
        if isinstance(payload, bytes):
            assert topic is not None, "raw payloads need a topic"
            data, event_id = payload, None
        else:
            data = json.dumps(payload).encode()
            event_id = str(payload.get("event_id")) if "event_id" in payload else None
            topic = topic or EVENTS_TOPIC.format(ticket=payload["ticket_id"])
        self._queue.append((topic, data, event_id))
        self._more.set()

    @property
    def backlog(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="chaos-publisher")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until every queued message was acknowledged by the broker.

        Raises what killed the publisher, if something did (e.g. a topic the broker
        cannot take), and AssertionError on timeout.
        """

        def empty() -> bool:
            if self._task is not None and self._task.done():
                self._task.result()  # raises the publisher's own error
                raise AssertionError("the publisher stopped")
            return not self._queue

        await until(empty, timeout=timeout, what="the publisher's backlog")

    async def _run(self) -> None:
        identifier = f"chaos-desk-{uuid.uuid4().hex[:8]}"
        while True:
            try:
                async with aiomqtt.Client(
                    self.broker.host, self.broker.port, identifier=identifier, timeout=3.0
                ) as client:
                    while True:
                        if not self._queue:
                            self._more.clear()
                            await self._more.wait()
                            continue
                        topic, data, event_id = self._queue[0]
                        async with asyncio.timeout(3.0):
                            await client.publish(topic, data, qos=1)
                        self._queue.popleft()
                        self.published.append(Published(topic, data, event_id, time.monotonic()))
            except (aiomqtt.MqttError, OSError, TimeoutError):
                self.failures += 1
                await asyncio.sleep(self.retry)


# --- waiting ----------------------------------------------------------------------------------


async def until(
    check: Callable[[], T | bool | None],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109  (polled; the loop keeps serving the fakes)
    what: str = "condition",
    interval: float = 0.05,
) -> T:
    """Poll ``check`` until it returns something truthy; return that.

    Raises AssertionError naming ``what`` when ``timeout`` passes first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def until_async(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109
    what: str = "condition",
    interval: float = 0.05,
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


# --- an SMTP server that notes arrival times -----------------------------------------------


class StampedSmtpServer(SmtpServer):
    """:class:`SmtpServer` plus ``arrivals[i]``: when ``messages[i]`` was accepted (monotonic)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.arrivals: list[float] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        now = time.monotonic()
        self.arrivals.extend([now] * (len(self.messages) - len(self.arrivals)))
        return reply


# --- reading the daemon's log ---------------------------------------------------------------

_RECORD = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: ")


def log_blocks(lines: Sequence[str]) -> list[str]:
    """The daemon's output as records: each log line with the lines that continue it
    (a traceback), plus any stray text (e.g. "--- Logging error ---") as its own block."""
    blocks: list[list[str]] = []
    for line in lines:
        if _RECORD.match(line) or not blocks:
            blocks.append([line])
        else:
            blocks[-1].append(line)
    return ["\n".join(block) for block in blocks]


def unexpected_tracebacks(lines: Sequence[str]) -> list[str]:
    """Every logged traceback. (aiomqtt's closed-socket race used to log one on broker
    restarts; the daemon's loop exception handler turns it into a debug line.)"""
    return [block for block in log_blocks(lines) if "Traceback" in block]


# --- the rig ----------------------------------------------------------------------------------


@dataclass
class Rig:
    """The daemon under test, what it talks to, and a log of what the test did to it."""

    config_dir: Path
    broker: Mosquitto
    twilio: FakeTwilio
    smtp: StampedSmtpServer
    http_port: int
    daemon: DaemonProcess
    #: each kill -9 as (monotonic before the signal, monotonic once the process was reaped).
    kills: list[tuple[float, float]] = field(default_factory=list)
    starts: int = 0
    #: where the store lives when the config names one (default: config_dir/state/pager.db).
    store_file: Path | None = None
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def db_path(self) -> Path:
        return self.store_file or self.config_dir / "state" / "pager.db"

    # -- lifecycle --

    async def start(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        self.starts += 1
        await self.daemon.astart(timeout=timeout)

    async def kill9(self) -> None:
        before = time.monotonic()
        await self.daemon.akill9()
        self.kills.append((before, time.monotonic()))

    async def stop(self) -> int:
        return await self.daemon.astop(timeout=30)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self.daemon.running:
            await self.daemon.astop(timeout=10)

    # -- HTTP --

    async def get(self, path: str) -> tuple[int, str]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        async with self._session.get(self.base_url + path) as resp:
            return resp.status, await resp.text()

    async def healthz(self) -> int:
        status, _ = await self.get("/healthz")
        return status

    async def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every /metrics sample as ``{(name, labels): value}``."""
        status, text = await self.get("/metrics")
        assert status == 200, text
        return parse_metrics(text)

    async def metric(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels`` (0 when absent)."""
        return sample_value(await self.metrics(), name, **labels)

    def mails(self) -> list[tuple[ReceivedMail, float]]:
        """Every mail the SMTP server accepted, with its arrival (monotonic)."""
        return list(zip(self.smtp.messages, self.smtp.arrivals, strict=True))

    # -- the store --

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows from the daemon's store, read-only (works while the daemon runs or is dead)."""
        with contextlib.closing(
            sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10.0)
        ) as db:
            return db.execute(sql, params).fetchall()

    def tickets(self) -> dict[str, dict[str, Any]]:
        return {
            tid: state_fields(decode_state(state))
            for tid, state in self.query("SELECT ticket_id, state FROM tickets")
        }

    def committed_event_ids(self) -> set[str]:
        return {row[0] for row in self.query("SELECT event_id FROM events")}

    def outbox_states(self) -> collections.Counter[str]:
        return collections.Counter(
            {s: n for s, n in self.query("SELECT state, COUNT(*) FROM outbox GROUP BY state")}
        )

    def tracebacks(self) -> list[str]:
        """The tracebacks the daemon logged, known library noise aside."""
        return unexpected_tracebacks(self.daemon.lines_since(0))

    def log_lines(self, text: str, since: int = 0) -> list[str]:
        return [line for line in self.daemon.lines_since(since) if text in line]

    def settled(self, *, ladders_done: bool = True) -> bool:
        """Nothing left to do: the outbox is empty and no deadline is overdue; with
        ``ladders_done``, also every ticket closed, owned or past its last rung."""
        now = time.time()
        if ladders_done:
            for state in self.tickets().values():
                if not (state["closed"] or state["owner"] or state["exhausted"]):
                    return False
        busy = self.query("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
        overdue = self.query("SELECT COUNT(*) FROM timers WHERE due <= ?", now - 1.0)
        return int(busy[0][0]) == 0 and int(overdue[0][0]) == 0


async def build_rig(
    workdir: Path,
    *,
    broker: Mosquitto,
    twilio: FakeTwilio,
    smtp: StampedSmtpServer,
    smtp_port: int | None = None,
    store: str | None = None,
    ack_within: str = "2s",
    voice_after: str | None = "1s",
    extra: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    start: bool = True,
) -> Rig:
    """Write a config dir under ``workdir`` for these parts and (optionally) start the daemon.

    ``smtp_port`` overrides the SMTP server's port (e.g. a proxy in front of it);
    ``store`` is ``sqlite:/absolute/path.db`` or None for the default.
    """
    config_dir = workdir
    config_dir.mkdir(parents=True, exist_ok=True)
    http_port = free_port()
    settings_extra: dict[str, Any] = {"limits": dict(GENEROUS_LIMITS)}
    settings_extra.update(extra or {})
    write_harness_settings(
        config_dir,
        mqtt_url=broker.url,
        http_port=http_port,
        twilio=twilio,
        smtp_port=smtp_port if smtp_port is not None else smtp.port,
        store=store,
        extra=settings_extra,
    )
    write_policy(config_dir, ack_within=ack_within, voice_after=voice_after)
    rig = Rig(
        config_dir=config_dir,
        broker=broker,
        twilio=twilio,
        smtp=smtp,
        http_port=http_port,
        daemon=DaemonProcess(config_dir, env=env),
        store_file=Path(store.removeprefix("sqlite:")) if store else None,
    )
    if start:
        await rig.start()
    return rig
