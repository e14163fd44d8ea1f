"""systemd notifications from a running ``pager run``, on a real NOTIFY_SOCKET.

The test binds a datagram unix socket, as systemd does, and starts the real daemon with
``NOTIFY_SOCKET`` pointing at it (and ``WATCHDOG_USEC``). READY=1 must come only once the
broker, the store and HTTP are up: when it arrives ``/healthz`` already answers 200 (it
checks the broker connection and the store) and the store has its schema; with the
broker down at start-up READY=1 waits for it. WATCHDOG=1 keeps coming at half the
watchdog interval.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import sqlite3
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from testkit.daemon import DaemonProcess, write_settings
from testkit.fake_twilio import FakeTwilio
from testkit.mosquitto import Mosquitto, free_port
from testkit.smtp_server import SmtpServer
from tests.e2e.conftest import write_tiny_config

WATCHDOG_USEC = 1_000_000  # pings every 0.5 s


class NotifySocket:
    """A bound AF_UNIX datagram socket; :meth:`receive` stamps each message (monotonic)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.setblocking(False)
        self.messages: list[tuple[float, str]] = []

    def receive(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def first(self, line: str) -> float | None:
        self.receive()
        return next((at for at, m in self.messages if line in m.splitlines()), None)

    def count(self, line: str) -> int:
        self.receive()
        return sum(1 for _, m in self.messages if line in m.splitlines())

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
async def notify_socket(tmp_path: Path) -> AsyncIterator[NotifySocket]:
    """Read as datagrams arrive (on the test's loop), so that each stamp is its arrival."""
    # A short path: AF_UNIX addresses are limited to 108 bytes.
    listener = NotifySocket(Path(f"/tmp/pager-notify-{time.monotonic_ns()}.sock"))
    loop = asyncio.get_running_loop()
    loop.add_reader(listener.sock.fileno(), listener.receive)
    try:
        yield listener
    finally:
        loop.remove_reader(listener.sock.fileno())
        listener.close()
        listener.path.unlink(missing_ok=True)


def daemon_for(
    config_dir: Path, broker_url: str, fake_twilio: FakeTwilio, smtp: SmtpServer, sock: Path
) -> tuple[DaemonProcess, int]:
    config_dir.mkdir()
    http_port = free_port()
    write_settings(
        config_dir,
        mqtt_url=broker_url,
        http_port=http_port,
        twilio_api_base=fake_twilio.api_base,
        smtp_port=smtp.port,
        account_sid=fake_twilio.account_sid,
        auth_token=fake_twilio.auth_token,
    )
    write_tiny_config(config_dir)
    env = {"NOTIFY_SOCKET": str(sock), "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    return DaemonProcess(config_dir, env=env), http_port


def healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


async def wait_for(sock: NotifySocket, line: str, timeout: float) -> float:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while (at := sock.first(line)) is None:
        assert time.monotonic() < deadline, f"no {line} within {timeout}s: {sock.messages}"
        await asyncio.sleep(0.01)
    return at


def tables(db: Path) -> set[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


async def test_ready_after_broker_store_and_http_then_watchdog_pings(
    tmp_path: Path,
    mosquitto: Mosquitto,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    notify_socket: NotifySocket,
) -> None:
    daemon, port = daemon_for(
        tmp_path / "pager", mosquitto.url, fake_twilio, smtp_server, notify_socket.path
    )
    started = time.monotonic()
    await daemon.astart(wait_ready=False)
    try:
        ready_at = await wait_for(notify_socket, "READY=1", timeout=20)
        # At READY: HTTP answers, and healthy means broker connected and store working.
        assert await asyncio.to_thread(healthz, port) == 200
        assert {"tickets", "events", "outbox"} <= tables(tmp_path / "pager/state/pager.db")
        assert "connected to the broker" in daemon.output()
        print(f"READY=1 {ready_at - started:.2f}s after spawn")

        # WATCHDOG=1 every WATCHDOG_USEC/2: at least 3 within 2 s of READY.
        await asyncio.sleep(2.0)
        notify_socket.receive()
        pings = [at for at, m in notify_socket.messages if "WATCHDOG=1" in m.splitlines()]
        assert len([at for at in pings if at >= ready_at]) >= 3, notify_socket.messages
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert all(0.3 < g < 1.0 for g in gaps), gaps
    finally:
        assert await daemon.astop() == 0
    assert notify_socket.count("STOPPING=1") == 1


async def test_ready_waits_for_a_broker_that_is_down_at_start_up(
    tmp_path: Path,
    fake_twilio: FakeTwilio,
    smtp_server: SmtpServer,
    notify_socket: NotifySocket,
) -> None:
    broker = Mosquitto(tmp_path / "broker")  # not started yet: its port refuses
    daemon, port = daemon_for(
        tmp_path / "pager", broker.url, fake_twilio, smtp_server, notify_socket.path
    )
    await daemon.astart(wait_ready=False)
    try:
        await asyncio.sleep(3.0)
        assert daemon.running
        assert notify_socket.first("READY=1") is None, notify_socket.messages
        # HTTP is up meanwhile and says why it is not healthy.
        assert await asyncio.to_thread(healthz, port) == 503
        await asyncio.to_thread(broker.start)
        up = time.monotonic()
        ready_at = await wait_for(notify_socket, "READY=1", timeout=15)
        assert ready_at >= up
        assert await asyncio.to_thread(healthz, port) == 200
    finally:
        await daemon.astop()
        broker.stop()
