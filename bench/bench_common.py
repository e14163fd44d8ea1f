"""What every scenario shares: results, percentiles, the machine, configs, processes.

A scenario is a function ``(Options) -> Outcome``. It bounds its own time and load, runs
on 127.0.0.1 only, cleans up every process it started (also when it fails), and returns
its numbers even when a target is missed: a missed target is a result, not an error.

The daemon scenarios use the *fan-out* config written by :func:`write_fanout_config`:
one rotation whose regions have no hours and one member each, and events that carry
``region``, so each event pages one chosen person; with per-person limits out of the
way and the sending rate set high, neither a limit nor bundling hides the daemon's own
speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import math
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import aiomqtt
import yaml

from testkit.daemon import DaemonProcess, write_settings
from testkit.mosquitto import Mosquitto, free_port

REPO = Path(__file__).resolve().parents[1]
#: Scratch space (git-ignored); each scenario empties its own sub-directory.
WORK = REPO / "var" / "bench"
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token"
#: Ticket ids are fixed-width so that a bundled SMS body can be searched for them.
TICKET_RE = re.compile(r"B\d{7}")
EVENTS_TOPIC = "support/tickets/{ticket}/events"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def ticket_id(number: int) -> str:
    return f"B{number:07d}"


def region_name(number: int) -> str:
    return f"r{number:05d}"


def person_name(number: int) -> str:
    return f"p{number:05d}"


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One measured number. ``ok`` None: informational (no target)."""

    name: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit == "%":
            return f"{self.value:.1f} %"
        magnitude = abs(self.value)
        text = f"{self.value:,.0f}" if magnitude >= 100 else f"{self.value:,.3g}"
        return f"{text} {self.unit}".rstrip()


def at_least(name: str, value: float | None, unit: str, floor: float) -> Figure:
    """A figure whose target is ``value >= floor``."""
    ok = None if value is None else value >= floor
    return Figure(name, value, unit, f">= {floor:,g} {unit}".rstrip(), ok)


def at_most(name: str, value: float | None, unit: str, ceiling: float) -> Figure:
    """A figure whose target is ``value <= ceiling``."""
    ok = None if value is None else value <= ceiling
    return Figure(name, value, unit, f"<= {ceiling:,g} {unit}".rstrip(), ok)


def info(name: str, value: float | None, unit: str) -> Figure:
    return Figure(name, value, unit)


@dataclass
class Outcome:
    """What a scenario measured: figures for the table, details for the JSON."""

    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "figures": [asdict(f) for f in self.figures],
            "details": self.details,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Options:
    quick: bool
    work: Path = WORK

    def scale(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def seconds(self, full: float, quick: float) -> float:
        return quick if self.quick else full


Scenario = Callable[[Options], Outcome]


def latency_figures(
    runs: Mapping[str, Mapping[str, Any]],
    rates: Sequence[int],
    targets_ms: Mapping[int, float],
    *,
    label: str = "{rate}/s: event -> Twilio request",
    with_max: bool = False,
) -> list[Figure]:
    """The p99 (against ``targets_ms`` where the rate has one), p50 and optionally max of
    each rate's ``runs[str(rate)]["latency_ms"]``, labelled ``label.format(rate=rate)``."""
    figures = []
    for rate in rates:
        lat = runs[str(rate)]["latency_ms"]
        name = label.format(rate=rate)
        if rate in targets_ms:
            figures.append(at_most(f"{name} p99", lat["p99"], "ms", targets_ms[rate]))
        else:
            figures.append(info(f"{name} p99", lat["p99"], "ms"))
        figures.append(info(f"{name} p50", lat["p50"], "ms"))
        if with_max:
            figures.append(info(f"{name} max", lat["max"], "ms"))
    return figures


def percentiles(values: Sequence[float], scale: float = 1000.0) -> dict[str, float | int | None]:
    """count, p50, p90, p99, max and mean of ``values`` times ``scale`` (s -> ms).

    Nearest-rank percentiles; every value None when ``values`` is empty.
    """
    ordered = sorted(values)
    n = len(ordered)

    def rank(p: float) -> float | None:
        if not n:
            return None
        return ordered[min(n - 1, max(0, math.ceil(p / 100 * n) - 1))] * scale

    return {
        "count": n,
        "p50": rank(50),
        "p90": rank(90),
        "p99": rank(99),
        "max": ordered[-1] * scale if n else None,
        "mean": (sum(ordered) / n * scale) if n else None,
    }


# --- the machine ---------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _mosquitto_version() -> str | None:
    try:
        out = subprocess.run(
            ["/usr/sbin/mosquitto", "-h"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"mosquitto version (\S+)", out)
    return found.group(1) if found else None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    """Where the numbers were taken: hardware, OS, Python and the library versions."""
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "mosquitto": _mosquitto_version(),
        "aiomqtt": _version("aiomqtt"),
        "paho-mqtt": _version("paho-mqtt"),
        "twilio": _version("twilio"),
        "aiohttp": _version("aiohttp"),
        "pager_commit": _git_commit(),
    }


# --- scratch directories and the store -------------------------------------------------


def fresh_dir(opts: Options, name: str) -> Path:
    path = opts.work / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def store_path(config_dir: Path) -> Path:
    """Where :func:`write_settings` puts the store (``sqlite:state/pager.db``)."""
    return config_dir / "state" / "pager.db"


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run a read-only query on a store another process may be writing (WAL)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10.0)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def count(db: Path, sql: str, params: Sequence[Any] = ()) -> int:
    try:
        return int(query(db, sql, params)[0][0])
    except sqlite3.Error:
        return 0


def rss_bytes(pid: int) -> int:
    """Resident set size of process ``pid`` (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# --- the fan-out config ----------------------------------------------------------------

#: Notification rules of the fan-out people. ``sms``: SMS only (what the benchmark measured
#: first: nothing else competes with the page); ``default``: what a manager writes and the
#: worked example has (SMS and email at once, a voice call after 5 minutes); ``email``:
#: email only (the SMTP path alone).
RULES: dict[str, list[dict[str, str]]] = {
    "sms": [{"via": "sms", "after": "0m"}],
    "default": [
        {"via": "sms", "after": "0m"},
        {"via": "email", "after": "0m"},
        {"via": "voice", "after": "5m"},
    ],
    "email": [{"via": "email", "after": "0m"}],
}


def uses_email(rules: str) -> bool:
    return any(step["via"] == "email" for step in RULES[rules])


def write_fanout_config(
    dest: Path,
    *,
    people: int,
    mqtt_url: str,
    http_port: int,
    twilio_api_base: str,
    ack_within: str = "15m",
    settings: Mapping[str, Any] | None = None,
    rules: str = "sms",
    smtp_port: int = 25,
) -> Path:
    """A config in which an event with ``region: r000NN`` pages exactly ``p000NN``.

    ``people`` people with a phone and an email address, notified by :data:`RULES`
    ``[rules]`` (by default one step, SMS at once; mail goes to 127.0.0.1:``smtp_port``); one
    rotation ``fanout`` with a region per person (no hours, so always covering); one
    ladder, tier ``bench`` severity 1: high urgency, 24x7, respond within a day, two
    rungs both paging the fan-out rotation. Tier ``quiet`` is low urgency on a calendar
    that opens in three days: its tickets page nobody meanwhile. Sending rate and
    per-person limits are set out of the way unless ``settings`` says otherwise.
    """
    dest.mkdir(parents=True, exist_ok=True)
    roster = {
        person_name(i): {
            "name": f"Bench Person {i}",
            "phone": f"+1555{i:07d}",
            "email": f"{person_name(i)}@bench.example",
            "notify": RULES[rules],
        }
        for i in range(people)
    }
    (dest / "people.yaml").write_text(yaml.safe_dump({"people": roster}, sort_keys=False))
    rotations = dest / "rotations"
    rotations.mkdir(exist_ok=True)
    regions = {
        region_name(i): {"timezone": "UTC", "members": [person_name(i)]} for i in range(people)
    }
    (rotations / "fanout.yaml").write_text(
        yaml.safe_dump({"name": "fanout", "regions": regions}, sort_keys=False)
    )
    ladders = dest / "ladders"
    ladders.mkdir(exist_ok=True)
    later = WEEKDAYS[(datetime.now(UTC).weekday() + 3) % 7]
    ladder = {
        "name": "bench",
        "calendars": {
            "always": {"timezone": "UTC", "days": "mon-sun", "from": "00:00", "to": "24:00"},
            # Open one hour a week, three days from now: a `quiet` ticket pages nobody
            # during a run (its first page waits for the calendar).
            "later": {"timezone": "UTC", "days": [later], "from": "00:00", "to": "01:00"},
        },
        "tiers": {
            "bench": {
                "calendar": "always",
                "severities": {
                    1: {"respond_within": "1d", "urgency": "high", "clock": "24x7"},
                },
            },
            "quiet": {
                "calendar": "later",
                "severities": {
                    1: {"respond_within": "1d", "urgency": "low", "clock": "business"},
                },
            },
        },
        "rungs": [
            {"name": "first", "page": "rotation:fanout", "ack_within": ack_within},
            {"name": "second", "page": "rotation:fanout", "ack_within": "30m"},
        ],
    }
    (ladders / "bench.yaml").write_text(yaml.safe_dump(ladder, sort_keys=False))
    extra: dict[str, Any] = {
        "twilio": {"max_sms_per_second": 100_000},
        "limits": {"sms_per_person": "100000/15m", "calls_per_person": "100000/15m"},
    }
    for key, value in (settings or {}).items():
        extra[key] = value
    write_settings(
        dest,
        mqtt_url=mqtt_url,
        http_port=http_port,
        twilio_api_base=twilio_api_base,
        smtp_port=smtp_port,
        extra=extra,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
    )
    return dest


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fanout_event(
    number: int, people: int, at: datetime, run: str, *, tier: str = "bench"
) -> dict[str, Any]:
    """The ``opened`` event of ticket ``number``, paging person ``number % people``."""
    return {
        "event_id": f"{run}-{number}",
        "ticket_id": ticket_id(number),
        "type": "opened",
        "at": iso(at),
        "severity": 1,
        "tier": tier,
        "region": region_name(number % people),
        "customer": "Bench",
        "summary": "benchmark ticket",
    }


# --- processes -------------------------------------------------------------------------


# --- sink processes -------------------------------------------------------------------------

#: How often a sink process appends what it received to its JSON-lines file (seconds).
SINK_FLUSH_EVERY = 0.02


def stop_on_signals() -> asyncio.Event:
    """An event set on SIGTERM or SIGINT (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def append_until_stopped(
    out: Path, stop: asyncio.Event, take: Callable[[], Sequence[Mapping[str, Any]]]
) -> None:
    """Append ``take()``'s lines to ``out`` as JSON every :data:`SINK_FLUSH_EVERY` seconds.

    Returns once ``stop`` is set, after one last round (so nothing received before the
    signal is lost).
    """
    with out.open("a") as handle:
        while True:
            stopping = stop.is_set()
            fresh = take()
            for line in fresh:
                handle.write(json.dumps(line) + "\n")
            if fresh:
                handle.flush()
            if stopping:
                return
            try:
                async with asyncio.timeout(SINK_FLUSH_EVERY):
                    await stop.wait()
            except TimeoutError:
                pass


@dataclass(frozen=True, slots=True)
class SinkRequest:
    """One request the Twilio sink received (``at`` on ``time.monotonic()``)."""

    at: float
    kind: str
    to: str
    body: str
    status: int


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class SinkMail:
    """One message the SMTP sink accepted (``at`` on ``time.monotonic()``); ``connections``:
    SMTP connections the sink had accepted by then."""

    at: float
    to: str
    subject: str
    connections: int


class _SinkProcess(Generic[R]):
    """A sink server in a process of its own that appends what it receives to a JSON
    lines file; :meth:`requests` reads what was flushed so far."""

    module = ""
    name = ""

    def __init__(self, workdir: Path) -> None:
        self.out = workdir / f"{self.name}-requests.jsonl"
        self.log = workdir / f"{self.name}-sink.log"
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self._offset = 0
        self._seen: list[R] = []

    def _args(self) -> list[str]:
        return []

    def _parse(self, raw: dict[str, Any]) -> R:
        raise NotImplementedError

    def start(self) -> None:
        self.out.unlink(missing_ok=True)
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [PYTHON, "-m", self.module, "--out", str(self.out), *self._args()],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"{self.name} sink did not start: {line!r} {self.log.read_text()}")
        self.port = int(line.split()[1])

    def requests(self) -> list[R]:
        """Every request flushed to the file so far (the sink flushes every 20 ms)."""
        if not self.out.exists():
            return list(self._seen)
        with self.out.open() as handle:
            handle.seek(self._offset)
            data = handle.read()
        complete, _, _ = data.rpartition("\n")
        if complete:
            self._offset += len(complete.encode()) + 1
            for line in complete.split("\n"):
                self._seen.append(self._parse(json.loads(line)))
        return list(self._seen)

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


class TwilioSink(_SinkProcess[SinkRequest]):
    """:class:`testkit.FakeTwilio` in a process of its own (``bench.bench_sink``).

    Out of process so that its request handling neither steals the publisher's event
    loop nor delays its own arrival stamps behind the publisher's work. The stamps are
    ``time.monotonic()``, one clock for every process on the machine.
    """

    module = "bench.bench_sink"
    name = "twilio"

    def _args(self) -> list[str]:
        return ["--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN]

    def _parse(self, raw: dict[str, Any]) -> SinkRequest:
        return SinkRequest(raw["at"], raw["kind"], raw["to"], raw["body"], raw["status"])

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class SmtpSink(_SinkProcess[SinkMail]):
    """The aiosmtpd harness in a process of its own (``bench.bench_smtp_sink``)."""

    module = "bench.bench_smtp_sink"
    name = "smtp"

    def _parse(self, raw: dict[str, Any]) -> SinkMail:
        return SinkMail(raw["at"], raw["to"], raw["subject"], raw["connections"])


def first_mails(mails: Sequence[SinkMail]) -> dict[str, float]:
    """Ticket id -> arrival of the first email naming it in its subject."""
    first: dict[str, float] = {}
    for m in mails:
        for ticket in TICKET_RE.findall(m.subject):
            first.setdefault(ticket, m.at)
    return first


def first_arrivals(requests: Sequence[SinkRequest]) -> dict[str, float]:
    """Ticket id -> arrival of the first accepted SMS naming it (bundles name several)."""
    first: dict[str, float] = {}
    for r in requests:
        if r.kind != "sms" or not 200 <= r.status < 300:
            continue
        for ticket in TICKET_RE.findall(r.body):
            if ticket not in first:
                first[ticket] = r.at
    return first


# --- publishing ------------------------------------------------------------------------


class Publisher:
    """An MQTT client that publishes ticket events at QoS 1, open loop.

    Open loop: event i is due at ``start + i / rate`` whatever happened to event i-1, so
    a slow daemon or broker shows up as latency, not as a lower offered rate. ``sent``
    maps ticket id -> ``time.monotonic()`` just before its publish call.
    """

    def __init__(self, port: int, *, max_inflight: int = 2000) -> None:
        self.port = port
        self.max_inflight = max_inflight
        self.sent: dict[str, float] = {}
        self.acked = 0
        self.failed = 0
        self._client: aiomqtt.Client | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_inflight)

    async def __aenter__(self) -> Publisher:
        self._client = aiomqtt.Client(
            "127.0.0.1",
            self.port,
            identifier=f"bench-pub-{os.getpid()}-{time.monotonic_ns()}",
            max_inflight_messages=self.max_inflight,
            max_queued_outgoing_messages=0,
            timeout=30,
        )
        self._client.pending_calls_threshold = 1_000_000
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drain(30.0)
        if self._client is not None:
            await self._client.__aexit__(None, None, None)
            self._client = None

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _publish(self, event: Mapping[str, Any]) -> None:
        assert self._client is not None
        try:
            await self._client.publish(
                EVENTS_TOPIC.format(ticket=event["ticket_id"]),
                json.dumps(event).encode(),
                qos=1,
            )
            self.acked += 1
        except aiomqtt.MqttError:
            self.failed += 1
        finally:
            self._slots.release()

    async def publish_one(self, event: Mapping[str, Any]) -> None:
        """Start publishing ``event`` (waits only when ``max_inflight`` are unconfirmed)."""
        await self._slots.acquire()
        self.sent[str(event["ticket_id"])] = time.monotonic()
        task = asyncio.create_task(self._publish(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def open_loop(
        self,
        make_event: Callable[[int], Mapping[str, Any]],
        *,
        rate: float,
        duration: float,
        first: int = 0,
        stop: Callable[[], bool] | None = None,
    ) -> int:
        """Publish ``make_event(first + i)`` at ``rate``/s for ``duration`` s; return count."""
        total = int(rate * duration)
        start = time.monotonic()
        i = 0
        while i < total:
            if stop is not None and stop():
                break
            due = start + i / rate
            wait = due - time.monotonic()
            if wait > 0.0005:
                await asyncio.sleep(wait)
            # Behind schedule: publish everything already due before sleeping again.
            now = time.monotonic()
            while i < total and start + i / rate <= now + 0.0005:
                await self.publish_one(make_event(first + i))
                i += 1
        return i

    async def closed_loop(
        self,
        make_event: Callable[[int], Mapping[str, Any]],
        *,
        committed: Callable[[], int],
        window: int,
        duration: float,
        first: int = 0,
        limit: int | None = None,
        sample: Callable[[float, int, int], None] | None = None,
    ) -> int:
        """Keep at most ``window`` events published but not yet committed.

        Publishes as fast as the daemon commits (``committed()`` counts what it has),
        for ``duration`` seconds or until ``limit`` events; ``sample(t, published,
        committed)`` is called about every 0.2 s. Returns how many were published.
        """
        start = time.monotonic()
        base = committed()
        published = 0
        next_sample = 0.0
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= duration or (limit is not None and published >= limit):
                break
            done = committed() - base
            if sample is not None and elapsed >= next_sample:
                sample(elapsed, published, done)
                next_sample += 0.2
            room = done + window - published
            if limit is not None:
                room = min(room, limit - published)
            for _ in range(max(0, min(room, 500))):
                await self.publish_one(make_event(first + published))
                published += 1
            await asyncio.sleep(0.01)
        return published


def committed_events(db: Path) -> Callable[[], int]:
    """A cheap count of committed events: the events table's largest rowid.

    Rows are only ever inserted (``INSERT OR IGNORE`` takes no rowid when it ignores),
    so it equals ``COUNT(*)`` without scanning. 0 before the store exists.
    """

    def current() -> int:
        if not db.exists():
            return 0
        try:
            rows = query(db, "SELECT MAX(rowid) FROM events")
        except sqlite3.Error:
            return 0
        return int(rows[0][0] or 0)

    return current


@dataclass
class Stack:
    """A broker, the Twilio sink, a fan-out config and (once started) the daemon."""

    work: Path
    broker: Mosquitto
    sink: TwilioSink
    config: Path
    daemon: DaemonProcess | None = None
    #: The SMTP sink, when the people's rules send email.
    smtp: SmtpSink | None = None

    @property
    def db(self) -> Path:
        return store_path(self.config)

    @property
    def http_port(self) -> int:
        settings = yaml.safe_load((self.config / "pager.yaml").read_text())
        return int(str(settings["http"]["listen"]).rsplit(":", 1)[1])

    def start_daemon(
        self, *, env: Mapping[str, str] | None = None, wait: bool = True
    ) -> DaemonProcess:
        self.daemon = DaemonProcess(self.config, env=env)
        self.daemon.start(wait_ready=wait, timeout=120)
        return self.daemon

    def stop_daemon(self) -> int | None:
        if self.daemon is None:
            return None
        code = self.daemon.stop(timeout=30)
        return code


@contextlib.contextmanager
def stack(
    work: Path,
    *,
    people: int,
    settings: Mapping[str, Any] | None = None,
    ack_within: str = "15m",
    rules: str = "sms",
) -> Iterator[Stack]:
    """Broker + sink(s) + fan-out config with :data:`RULES` ``[rules]``; stops the
    daemon, sinks and broker afterwards."""
    mosquitto = Mosquitto(work / "broker")
    mosquitto.start()
    sink = TwilioSink(work)
    smtp = SmtpSink(work) if uses_email(rules) else None
    try:
        sink.start()
        if smtp is not None:
            smtp.start()
        config = write_fanout_config(
            work / "config",
            people=people,
            mqtt_url=mosquitto.url,
            http_port=free_port(),
            twilio_api_base=sink.api_base,
            ack_within=ack_within,
            settings=settings,
            rules=rules,
            smtp_port=smtp.port if smtp is not None else 25,
        )
        parts = Stack(work, mosquitto, sink, config, smtp=smtp)
        try:
            yield parts
        finally:
            with contextlib.suppress(Exception):
                parts.stop_daemon()
    finally:
        sink.stop()
        if smtp is not None:
            smtp.stop()
        mosquitto.stop()


def now_utc() -> datetime:
    return datetime.now(UTC)


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, interval: float = 0.05
) -> tuple[bool, float]:
    """Poll ``predicate`` until true or ``timeout``; return (became true, seconds waited)."""
    started = time.monotonic()
    while True:
        if predicate():
            return True, time.monotonic() - started
        if time.monotonic() - started > timeout:
            return False, time.monotonic() - started
        time.sleep(interval)


async def await_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,  # noqa: ASYNC109  (a poll bound, reported back, not a cancellation)
    interval: float = 0.05,
) -> tuple[bool, float]:
    """:func:`wait_until` for a coroutine: sleeps on the loop between polls."""
    started = time.monotonic()
    while True:
        if predicate():
            return True, time.monotonic() - started
        if time.monotonic() - started > timeout:
            return False, time.monotonic() - started
        await asyncio.sleep(interval)
