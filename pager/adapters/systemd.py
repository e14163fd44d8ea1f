"""sd_notify(3) without libsystemd: readiness, reload, stop and watchdog messages.

systemd passes ``$NOTIFY_SOCKET`` (a datagram socket path, or ``@name`` in the abstract
namespace) to ``Type=notify`` services; each notification is one datagram of
``KEY=VALUE`` lines. Outside systemd the variable is unset and every call does nothing,
so the daemon calls these unconditionally.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends notifications to ``address``; with ``address`` None every call is a no-op.

    No method raises: a failed send is logged at debug level and reported as False.
    """

    def __init__(
        self,
        address: str | None,
        *,
        watchdog_usec: int | None = None,
        watchdog_pid: int | None = None,
    ) -> None:
        self._address = _socket_address(address) if address else None
        self._watchdog_usec = watchdog_usec
        self._watchdog_pid = watchdog_pid
        self._socket: socket.socket | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> SystemdNotifier:
        """From NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID; malformed values are ignored."""
        return cls(
            environ.get("NOTIFY_SOCKET") or None,
            watchdog_usec=_positive_int(environ.get("WATCHDOG_USEC")),
            watchdog_pid=_positive_int(environ.get("WATCHDOG_PID")),
        )

    @property
    def enabled(self) -> bool:
        """True when there is a socket to notify."""
        return self._address is not None

    def ready(self) -> bool:
        """Startup (or a reload) finished: READY=1."""
        return self.notify("READY=1")

    def reloading(self) -> bool:
        """A reload began; follow with :meth:`ready` when it is done."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        """Shutdown began: STOPPING=1."""
        return self.notify("STOPPING=1")

    def status(self, text: str) -> bool:
        """A one-line status for ``systemctl status`` (newlines become spaces)."""
        return self.notify("STATUS=" + " ".join(text.splitlines()))

    def watchdog(self) -> bool:
        """Keep-alive ping: WATCHDOG=1."""
        return self.notify("WATCHDOG=1")

    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings (half of WATCHDOG_USEC), or None for no watchdog.

        None too when WATCHDOG_PID names another process: the watchdog is not ours.
        """
        if self._watchdog_usec is None:
            return None
        if self._watchdog_pid is not None and self._watchdog_pid != os.getpid():
            return None
        return self._watchdog_usec / 2 / 1_000_000

    def notify(self, *lines: str) -> bool:
        """Send ``lines`` as one datagram; True if sent, False if disabled or failed."""
        if self._address is None:
            return False
        payload = "\n".join(lines).encode()
        try:
            if self._socket is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                sock.setblocking(False)
                self._socket = sock
            self._socket.sendto(payload, self._address)
        except OSError as exc:
            log.debug("sd_notify %r to %r failed: %s", lines, self._address, exc)
            return False
        return True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _socket_address(value: str) -> str | None:
    """The AF_UNIX address for a NOTIFY_SOCKET value; None for unsupported forms."""
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    log.debug("NOTIFY_SOCKET %r is not a path or abstract name; notifications disabled", value)
    return None


def _positive_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None
