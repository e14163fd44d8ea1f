"""SystemdNotifier against a real AF_UNIX datagram socket, path and abstract names."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pager.adapters.systemd import SystemdNotifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(2.0)
    yield sock, path
    sock.close()


@pytest.fixture
def abstract_listener() -> Iterator[tuple[socket.socket, str]]:
    name = f"pager-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2.0)
    yield sock, "@" + name
    sock.close()


def receive(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_messages_reach_the_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": path})
    try:
        assert notifier.enabled
        assert notifier.ready()
        assert receive(sock) == ["READY=1"]
        assert notifier.stopping()
        assert receive(sock) == ["STOPPING=1"]
        assert notifier.watchdog()
        assert receive(sock) == ["WATCHDOG=1"]
        assert notifier.status("3 open tickets\nbroker up")
        assert receive(sock) == ["STATUS=3 open tickets broker up"]
    finally:
        notifier.close()


def test_reloading_carries_monotonic_usec(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = SystemdNotifier(path)
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    notifier.close()
    first, second = receive(sock)
    assert first == "RELOADING=1"
    key, _, value = second.partition("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(value) <= after


def test_abstract_namespace(abstract_listener: tuple[socket.socket, str]) -> None:
    sock, name = abstract_listener
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": name})
    assert notifier.ready()
    assert receive(sock) == ["READY=1"]
    notifier.close()


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = SystemdNotifier.from_environ({})
    assert not notifier.enabled
    assert not notifier.ready()
    assert not notifier.reloading()
    assert not notifier.stopping()
    assert not notifier.status("x")
    assert not notifier.watchdog()
    assert notifier.watchdog_interval() is None
    notifier.close()


@pytest.mark.parametrize("address", ["vsock:2:1234", "relative/path"])
def test_unsupported_address_disables(address: str) -> None:
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": address})
    assert not notifier.enabled
    assert not notifier.ready()


def test_send_failure_never_raises(tmp_path: Path) -> None:
    notifier = SystemdNotifier(str(tmp_path / "nobody-listens.sock"))
    assert notifier.enabled
    assert notifier.ready() is False
    assert notifier.watchdog() is False
    notifier.close()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval(environ: dict[str, str], expected: float | None) -> None:
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": "/run/x", **environ})
    assert notifier.watchdog_interval() == expected
