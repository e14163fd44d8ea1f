"""A real Mosquitto broker as a child process, for tests and benchmarks.

The broker listens on 127.0.0.1 and a free port of its own (never 1883, which a host's
packaged broker may hold). Its configuration follows docs/PLATFORM-NOTES: no queue limit
(Mosquitto otherwise drops QoS 1 messages silently beyond 1000 per client) and TCP_NODELAY
(otherwise about one round trip in 2,000 waits ~40 ms for Nagle).

With ``persistence=True`` the broker saves its state (persistent sessions, their
subscriptions and queued QoS 1 messages) to the work directory when it is stopped with
SIGTERM and reloads it on the next :meth:`Mosquitto.start`, so restart tests see what a
production broker restart looks like. :meth:`Mosquitto.kill` (SIGKILL) saves nothing
unless ``autosave_interval`` made the broker save earlier.

Every method blocks for at most a few milliseconds (the broker starts in ~7 ms); the
``a``-prefixed twins run the same steps in a worker thread for use inside an event loop.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

DEFAULT_BINARY = "/usr/sbin/mosquitto"
HOST = "127.0.0.1"
RUNNING = re.compile(r"mosquitto version \S+ running")
#: How long stop() waits for SIGTERM before SIGKILL (see Mosquitto.stop).
STOP_TIMEOUT = 20.0


class MosquittoNotInstalled(RuntimeError):
    """The mosquitto binary is missing: the test cannot run (it is not skipped)."""


def find_mosquitto() -> str:
    """Return the broker binary: /usr/sbin/mosquitto, else ``mosquitto`` on PATH.

    Raises :class:`MosquittoNotInstalled` naming the fix when neither exists.
    """
    if os.access(DEFAULT_BINARY, os.X_OK):
        return DEFAULT_BINARY
    found = shutil.which("mosquitto")
    if found:
        return found
    raise MosquittoNotInstalled(
        f"mosquitto is not installed (no {DEFAULT_BINARY}, none on PATH): run `make mosquitto`"
        " (apt-get install -y mosquitto)"
    )


def free_port(host: str = HOST) -> int:
    """A TCP port that was free on ``host`` a moment ago (bind to port 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


_running: weakref.WeakSet[Mosquitto] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    """A test run that dies without teardown must not leave brokers behind."""
    for broker in list(_running):
        broker.kill()


class Mosquitto:
    """One broker process on 127.0.0.1; the port stays the same across restarts.

    ``workdir`` holds the generated config, the broker's log (stderr, appended across
    restarts) and, with ``persistence``, its database. ``username``/``password`` turn off
    anonymous access (needs ``mosquitto_passwd``, shipped with the broker).
    """

    host = HOST

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        persistence: bool = False,
        autosave_interval: int = 0,
        max_queued_messages: int = 0,
        username: str | None = None,
        password: str | None = None,
        extra_config: Sequence[str] = (),
        binary: str | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        self.binary = binary or find_mosquitto()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._port_fixed = port is not None
        self.port = port if port is not None else free_port()
        self.persistence = persistence
        self.autosave_interval = autosave_interval
        self.max_queued_messages = max_queued_messages
        self.username = username
        self.password = password
        self.extra_config = tuple(extra_config)
        self.config_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"
        self.data_dir = self.workdir / "data"
        self._proc: subprocess.Popen[bytes] | None = None

    # -- addresses ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT``, the form pager.yaml's ``mqtt.url`` takes."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def log(self) -> str:
        """Everything the broker wrote to stderr so far (for failure messages)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> None:
        """Start the broker and return once its port accepts connections.

        Raises RuntimeError (with the broker's log) if it exits or is not listening
        within ``timeout`` seconds. A port picked automatically that another process took
        in the meantime is replaced by a fresh one, once or twice, before giving up.
        """
        if self.running:
            raise RuntimeError("mosquitto is already running")
        attempts = 1 if self._port_fixed else 3
        for attempt in range(attempts):
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._spawn()
            try:
                self._wait_listening(timeout, log_offset)
                return
            except RuntimeError:
                taken = "Address already in use" in self._log_since(log_offset)
                if self.running:
                    self.kill()
                if not (taken and attempt + 1 < attempts):
                    raise
                self.port = free_port()

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM (the broker saves persistent state) and wait; SIGKILL if it hangs.

        Returns the exit status, or None if it was not running. The broker exits within
        milliseconds; the generous default only rides out a stalled VM (once, a fresh
        clone's first minute, right after pip had written the venv, took over 5 s).
        """
        return self._terminate(signal.SIGTERM, timeout)

    def kill(self) -> int | None:
        """SIGKILL: a crash. Nothing is saved beyond the last autosave."""
        return self._terminate(signal.SIGKILL, 5.0)

    def restart(self, timeout: float = 5.0) -> None:
        """stop() then start() on the same port and work directory (``timeout``: the start)."""
        self.stop()
        self.start(timeout)

    # The timeouts below bound blocking waits inside a worker thread, hence ASYNC109.
    async def astart(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await asyncio.to_thread(self.start, timeout)

    async def astop(self, timeout: float = STOP_TIMEOUT) -> int | None:  # noqa: ASYNC109
        return await asyncio.to_thread(self.stop, timeout)

    async def akill(self) -> int | None:
        return await asyncio.to_thread(self.kill)

    async def arestart(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await asyncio.to_thread(self.restart, timeout)

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ---------------------------------------------------------------------

    def _config_text(self) -> str:
        lines = [
            f"listener {self.port} {self.host}",
            f"max_queued_messages {self.max_queued_messages}",
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            # Started as root, mosquitto would switch to the `mosquitto` user and could no
            # longer write its database here; naming the current user keeps it as is.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
        ]
        if self.persistence:
            self.data_dir.mkdir(exist_ok=True)
            lines += [
                "persistence true",
                f"persistence_location {self.data_dir}/",
                "persistence_file mosquitto.db",
                f"autosave_interval {self.autosave_interval}",
            ]
        else:
            lines.append("persistence false")
        if self.username is not None and self.password is not None:
            lines += ["allow_anonymous false", f"password_file {self._write_password_file()}"]
        else:
            lines.append("allow_anonymous true")
        lines += self.extra_config
        return "\n".join(lines) + "\n"

    def _write_password_file(self) -> Path:
        assert self.username is not None and self.password is not None
        tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        path = self.workdir / "passwd"
        path.unlink(missing_ok=True)
        subprocess.run(
            [tool, "-b", "-c", str(path), self.username, self.password],
            check=True,
            capture_output=True,
        )
        path.chmod(0o600)
        return path

    def _spawn(self) -> None:
        self.config_path.write_text(self._config_text())
        # An unread pipe blocks the broker at 64 KiB; a file never does.
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _running.add(self)

    def _wait_listening(self, timeout: float, log_offset: int) -> None:
        """Wait for this process's "running" log line, then for the port to accept.

        A connect alone is not proof: another broker may hold a fixed port while ours
        is about to exit with "Address already in use".
        """
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise RuntimeError(f"mosquitto exited with status {code}:\n{self.log()}")
            if RUNNING.search(self._log_since(log_offset)):
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.5):
                        return
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"mosquitto not listening on {self.url} after {timeout}s:\n{self.log()}"
                )
            time.sleep(0.003)

    def _terminate(self, sig: signal.Signals, timeout: float) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        self._proc = None
        _running.discard(self)
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
        return proc.wait()
